//! What an HTTP answer to the GET probe says beyond the service name: the page `<title>` (the `http-title`
//! detail) and the `Server` header (the product when the database named none).
//!
//! Pure functions over the bytes the probe read (at most the response cap, possibly cut short).

/// Longest title kept, in characters.
const MAX_TITLE: usize = 200;
/// Longest Server header kept, in characters.
const MAX_SERVER: usize = 120;

/// Whether `name` is a service whose answers are HTTP.
pub(crate) fn is_http_service(name: &str) -> bool {
    matches!(name, "http" | "https" | "http-proxy" | "http-alt")
}

/// Whether `bytes` start like an HTTP response.
pub(crate) fn is_response(bytes: &[u8]) -> bool {
    bytes.starts_with(b"HTTP/")
}

/// The `Server` header value of a response, trimmed and bounded.
pub(crate) fn server_header(response: &[u8]) -> Option<String> {
    let head = header_block(response);
    head.split(|&b| b == b'\n').skip(1).find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let colon = line.iter().position(|&b| b == b':')?;
        let (name, value) = line.split_at(colon);
        if !name.eq_ignore_ascii_case(b"server") {
            return None;
        }
        let value = printable(&value[1..], MAX_SERVER);
        (!value.is_empty()).then_some(value)
    })
}

/// The `<title>` of the page in a response, entities decoded, whitespace collapsed, bounded.
pub(crate) fn title(response: &[u8]) -> Option<String> {
    let lower = response.to_ascii_lowercase();
    let open = find(&lower, b"<title")?;
    let content_start = open + lower[open..].iter().position(|&b| b == b'>')? + 1;
    let content_end = find(&lower[content_start..], b"</title").map_or(lower.len(), |end| content_start + end);
    let raw = String::from_utf8_lossy(&response[content_start..content_end]);
    let decoded = decode_entities(&raw);
    let collapsed = decoded.split_whitespace().collect::<Vec<_>>().join(" ");
    let bounded: String = collapsed.chars().filter(|c| !c.is_control()).take(MAX_TITLE).collect();
    (!bounded.is_empty()).then_some(bounded)
}

/// The bytes before the blank line ending the headers (all of them when it was not read).
fn header_block(response: &[u8]) -> &[u8] {
    find(response, b"\r\n\r\n").or_else(|| find(response, b"\n\n")).map_or(response, |end| &response[..end])
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

/// Header bytes as text: lossy UTF-8, control characters dropped, trimmed, at most `max` characters.
fn printable(bytes: &[u8], max: usize) -> String {
    String::from_utf8_lossy(bytes).chars().filter(|c| !c.is_control()).take(max).collect::<String>().trim().to_owned()
}

/// Decodes the few entities titles use: `&amp; &lt; &gt; &quot; &apos; &nbsp;` and numeric ones.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|&semi| semi <= 10).and_then(|semi| Some((entity(&rest[1..semi])?, semi)));
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => {
            let code = name.strip_prefix('#')?;
            let value = match code.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => code.parse().ok()?,
            };
            char::from_u32(value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nserver:  nginx/1.22.1 \r\n\r\n\
        <html><head><TITLE>\n  Welcome &amp; hello  &#x263A; &lt;b&gt;\n</title></head></html>";

    #[test]
    fn title_is_decoded_and_collapsed() {
        assert_eq!(title(PAGE).as_deref(), Some("Welcome & hello \u{263a} <b>"));
    }

    #[test]
    fn title_absent_or_empty_is_none() {
        assert_eq!(title(b"HTTP/1.0 404 Not Found\r\n\r\nnope"), None);
        assert_eq!(title(b"HTTP/1.0 200 OK\r\n\r\n<title>  </title>"), None);
    }

    #[test]
    fn truncated_title_is_kept_and_bounded() {
        let mut page = b"HTTP/1.0 200 OK\r\n\r\n<title>".to_vec();
        page.extend(std::iter::repeat_n(b'a', 5000));
        assert_eq!(title(&page).map(|t| t.len()), Some(MAX_TITLE));
    }

    #[test]
    fn unknown_and_unterminated_entities_stay() {
        assert_eq!(decode_entities("a &bogus; b & c &#xZZ;"), "a &bogus; b & c &#xZZ;");
        assert_eq!(decode_entities("&#65;&#x42;&quot;"), "AB\"");
    }

    #[test]
    fn server_header_is_case_insensitive_and_trimmed() {
        assert_eq!(server_header(PAGE).as_deref(), Some("nginx/1.22.1"));
        assert_eq!(server_header(b"HTTP/1.0 200 OK\r\nDate: x\r\n\r\nServer: body"), None);
    }

    #[test]
    fn server_header_drops_control_bytes() {
        assert_eq!(server_header(b"HTTP/1.0 200 OK\r\nServer: a\x1b[31mb\r\n\r\n").as_deref(), Some("a[31mb"));
    }
}
