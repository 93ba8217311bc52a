//! The sliver of BSON (bsonspec.org) the MongoDB check needs: build a flat command document, read the
//! top-level fields of a reply (numbers, strings, booleans, nested documents and arrays), skip the rest.

/// A decoded BSON value; types the check never reads are kept as [`Value::Other`].
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Double(f64),
    String(String),
    Document(Vec<(String, Value)>),
    Array(Vec<Value>),
    Bool(bool),
    Int32(i32),
    Int64(i64),
    Null,
    Other(u8),
}

impl Value {
    /// The value as a number, for `ok` fields (which servers send as double, int or bool).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Double(d) => Some(*d),
            Value::Int32(i) => Some(f64::from(*i)),
            Value::Int64(i) => Some(*i as f64),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// A field of a document value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Document(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Encodes a flat document of the values the check sends.
pub fn encode(fields: &[(&str, Value)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        let (kind, bytes) = match value {
            Value::Int32(i) => (0x10, i.to_le_bytes().to_vec()),
            Value::Bool(b) => (0x08, vec![u8::from(*b)]),
            Value::String(s) => {
                let mut v = ((s.len() + 1) as i32).to_le_bytes().to_vec();
                v.extend_from_slice(s.as_bytes());
                v.push(0);
                (0x02, v)
            }
            _ => continue,
        };
        body.push(kind);
        body.extend_from_slice(name.as_bytes());
        body.push(0);
        body.extend_from_slice(&bytes);
    }
    let mut doc = ((body.len() + 5) as i32).to_le_bytes().to_vec();
    doc.extend_from_slice(&body);
    doc.push(0);
    doc
}

/// Decodes one document at the start of `buf`; returns it and the bytes it took.
pub fn decode(buf: &[u8]) -> Option<(Value, usize)> {
    decode_depth(buf, 0)
}

fn decode_depth(buf: &[u8], depth: u8) -> Option<(Value, usize)> {
    // Nesting is bounded so a hostile reply cannot exhaust the stack.
    if depth > 16 {
        return None;
    }
    let len = usize::try_from(i32::from_le_bytes(buf.get(..4)?.try_into().ok()?)).ok()?;
    if len < 5 || len > buf.len() || buf[len - 1] != 0 {
        return None;
    }
    let mut rest = &buf[4..len - 1];
    let mut fields = Vec::new();
    while let Some((&kind, after)) = rest.split_first() {
        let nul = after.iter().position(|&b| b == 0)?;
        let name = String::from_utf8_lossy(&after[..nul]).into_owned();
        let data = &after[nul + 1..];
        let (value, used) = decode_value(kind, data, depth)?;
        fields.push((name, value));
        rest = data.get(used..)?;
    }
    Some((Value::Document(fields), len))
}

fn decode_value(kind: u8, data: &[u8], depth: u8) -> Option<(Value, usize)> {
    let fixed = |n: usize| data.get(..n);
    Some(match kind {
        0x01 => (Value::Double(f64::from_le_bytes(fixed(8)?.try_into().ok()?)), 8),
        0x02 | 0x0d | 0x0e => {
            let n = usize::try_from(i32::from_le_bytes(fixed(4)?.try_into().ok()?)).ok()?;
            let bytes = data.get(4..4usize.checked_add(n)?)?;
            let text = String::from_utf8_lossy(bytes.strip_suffix(&[0]).unwrap_or(bytes)).into_owned();
            (if kind == 0x02 { Value::String(text) } else { Value::Other(kind) }, 4 + n)
        }
        0x03 | 0x04 => {
            let (doc, used) = decode_depth(data, depth + 1)?;
            match (kind, doc) {
                (0x04, Value::Document(items)) => (Value::Array(items.into_iter().map(|(_, v)| v).collect()), used),
                (_, doc) => (doc, used),
            }
        }
        0x05 => {
            let n = usize::try_from(i32::from_le_bytes(fixed(4)?.try_into().ok()?)).ok()?;
            data.get(..5usize.checked_add(n)?)?;
            (Value::Other(kind), 5 + n)
        }
        0x06 | 0x0a | 0x7f | 0xff => (if kind == 0x0a { Value::Null } else { Value::Other(kind) }, 0),
        0x07 => (Value::Other(kind), fixed(12).map(|_| 12)?),
        0x08 => (Value::Bool(*data.first()? != 0), 1),
        0x09 | 0x11 => (Value::Other(kind), fixed(8).map(|_| 8)?),
        0x10 => (Value::Int32(i32::from_le_bytes(fixed(4)?.try_into().ok()?)), 4),
        0x12 => (Value::Int64(i64::from_le_bytes(fixed(8)?.try_into().ok()?)), 8),
        0x13 => (Value::Other(kind), fixed(16).map(|_| 16)?),
        0x0b => {
            let first = data.iter().position(|&b| b == 0)?;
            let second = data[first + 1..].iter().position(|&b| b == 0)?;
            (Value::Other(kind), first + second + 2)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_matches_spec_example() {
        // bsonspec.org: {"hello": "world"}
        let doc = encode(&[("hello", Value::String("world".into()))]);
        assert_eq!(doc, b"\x16\x00\x00\x00\x02hello\x00\x06\x00\x00\x00world\x00\x00");
        let (value, used) = decode(&doc).unwrap();
        assert_eq!(used, doc.len());
        assert_eq!(value.get("hello").and_then(Value::as_str), Some("world"));
    }

    #[test]
    fn nested_arrays_and_numbers_decode() {
        let inner = encode(&[("name", Value::String("admin".into()))]);
        let mut array = Vec::new();
        array.push(0x03);
        array.extend_from_slice(b"0\0");
        array.extend_from_slice(&inner);
        let mut array_doc = ((array.len() + 5) as i32).to_le_bytes().to_vec();
        array_doc.extend_from_slice(&array);
        array_doc.push(0);
        let mut body = vec![0x04];
        body.extend_from_slice(b"databases\0");
        body.extend_from_slice(&array_doc);
        body.push(0x01);
        body.extend_from_slice(b"ok\0");
        body.extend_from_slice(&1.0f64.to_le_bytes());
        let mut doc = ((body.len() + 5) as i32).to_le_bytes().to_vec();
        doc.extend_from_slice(&body);
        doc.push(0);

        let (value, _) = decode(&doc).unwrap();
        assert_eq!(value.get("ok").and_then(Value::as_f64), Some(1.0));
        let Some(Value::Array(dbs)) = value.get("databases") else { panic!("{value:?}") };
        assert_eq!(dbs[0].get("name").and_then(Value::as_str), Some("admin"));
        for cut in 0..doc.len() {
            assert!(decode(&doc[..cut]).is_none(), "truncated at {cut}");
        }
    }

    #[test]
    fn hostile_lengths_are_refused() {
        assert!(decode(b"\xff\xff\xff\x7f\x00").is_none());
        assert!(decode(b"\x0c\x00\x00\x00\x02a\x00\xff\xff\xff\x7f\x00").is_none());
        assert!(decode(b"\x08\x00\x00\x00\x99a\x00\x00").is_none());
    }
}
