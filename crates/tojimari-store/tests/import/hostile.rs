//! Hostile and broken input: each ends the stream with a clear error that says where, never a panic,
//! never unbounded memory.

use proptest::prelude::*;
use tojimari_store::import::nmap_xml::{Reader, Record};
use tojimari_store::import::{ImportError, Limits};

const REAL: &[u8] = include_bytes!("../data/nmap-7.93-sS-sV-O.xml");

fn small() -> Limits {
    Limits {
        max_bytes: 1 << 20,
        max_depth: 16,
        max_token: 4096,
        max_host_bytes: 64 << 10,
        max_ports_per_host: 1000,
        max_pending_ports: 1000,
    }
}

/// The records before the error, and the error (which must come last).
fn read(doc: &[u8], limits: Limits) -> (Vec<Record>, ImportError) {
    let mut records = Vec::new();
    for item in Reader::new(doc, limits) {
        match item {
            Ok(record) => records.push(record),
            Err(e) => return (records, e),
        }
    }
    panic!("no error for {:?}", String::from_utf8_lossy(&doc[..doc.len().min(200)]));
}

const HEAD: &str = "<?xml version=\"1.0\"?>\n<nmaprun scanner=\"nmap\" args=\"x\" start=\"1\" version=\"7.94\">\n";

#[test]
fn entity_declarations_are_refused() {
    let doc = "<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun [\n<!ENTITY lol \"lol\">\n<!ENTITY lol2 \"&lol;&lol;&lol;\">\n]>\n\
               <nmaprun scanner=\"&lol2;\"></nmaprun>";
    let (records, e) = read(doc.as_bytes(), small());
    assert!(records.is_empty());
    assert!(matches!(e, ImportError::Entity { .. }), "{e:?}");
    assert!(e.to_string().contains("line 5"), "{e}");
}

#[test]
fn undeclared_entity_references_are_refused() {
    let doc = format!("{HEAD}<host><address addr=\"&ext;\"/></host></nmaprun>");
    assert!(matches!(read(doc.as_bytes(), small()).1, ImportError::Entity { .. }));
    let doc = format!(
        "{HEAD}<host><status state=\"up\"/><address addr=\"198.18.0.2\"/><ports><port protocol=\"tcp\" \
                       portid=\"1\"><state state=\"open\"/><service name=\"x\"><cpe>&ext;</cpe></service></port></ports></host>"
    );
    assert!(matches!(read(doc.as_bytes(), small()).1, ImportError::Entity { .. }));
}

#[test]
fn deep_nesting_stops_at_the_limit() {
    let mut doc = HEAD.to_string();
    doc.push_str(&"<a>".repeat(100_000));
    let (records, e) = read(doc.as_bytes(), small());
    assert_eq!(records.len(), 1, "the header came first");
    assert!(matches!(e, ImportError::TooDeep { limit: 16, .. }), "{e:?}");
}

#[test]
fn a_huge_attribute_stops_at_the_token_limit() {
    let doc = format!("{HEAD}<host comment=\"{}\"></host></nmaprun>", "x".repeat(1 << 19));
    let (_, e) = read(doc.as_bytes(), small());
    let ImportError::TokenTooLong { at, limit: 4096 } = e else { panic!("{e:?}") };
    assert!(at.offset < (HEAD.len() + 4096 + 10) as u64 && at.line == 3, "{at:?}");
}

#[test]
fn a_huge_text_stops_at_the_token_limit() {
    let doc = format!("{HEAD}{}</nmaprun>", "&amp;".repeat(1 << 17));
    assert!(matches!(read(doc.as_bytes(), small()).1, ImportError::TokenTooLong { .. }));
}

#[test]
fn a_file_over_the_size_limit_is_refused() {
    let limits = Limits { max_bytes: 2000, ..small() };
    let (_, e) = read(REAL, limits);
    assert!(matches!(e, ImportError::TooLarge { limit: 2000, .. }), "{e:?}");
    assert!(Reader::new(REAL, Limits { max_bytes: REAL.len() as u64, ..small() }).all(|r| r.is_ok()));
}

#[test]
fn a_host_over_its_limits_is_refused() {
    let (_, e) = read(REAL, Limits { max_host_bytes: 1000, ..small() });
    assert!(matches!(e, ImportError::HostTooLarge { .. }), "{e:?}");
    let doc = format!(
        "{HEAD}<host><address addr=\"198.18.0.2\"/><ports><extraports state=\"closed\" count=\"1\">\
         <extrareasons reason=\"reset\" count=\"1\" proto=\"tcp\" ports=\"1-65535,1-65535\"/></extraports></ports></host></nmaprun>"
    );
    assert!(matches!(read(doc.as_bytes(), small()).1, ImportError::TooManyPorts { limit: 1000, .. }));
}

#[test]
fn truncated_documents_say_where() {
    let cut = REAL.len() - 400;
    let (records, e) = read(&REAL[..cut], small());
    assert_eq!(records.len(), 1, "the run header only: the host is cut");
    assert!(matches!(e, ImportError::Truncated { .. }), "{e:?}");
    let (records, e) = read(&REAL[..REAL.len() - 12], small());
    assert_eq!(records.len(), 3);
    assert!(matches!(e, ImportError::Truncated { ref inside, .. } if inside == "nmaprun"), "{e:?}");
}

#[test]
fn non_xml_and_other_xml_are_refused() {
    assert!(matches!(read(b"", small()).1, ImportError::NotNmap { .. }));
    assert!(matches!(read(b"Nmap scan report for 198.18.0.2\n", small()).1, ImportError::NotNmap { .. }));
    assert!(matches!(read(b"<html><body/></html>", small()).1, ImportError::NotNmap { .. }));
    assert!(matches!(read(b"\x00\xff\xfe<<<>>>", small()).1, ImportError::Syntax { .. } | ImportError::NotNmap { .. }));
    let doc = format!("{HEAD}<host></hostx></nmaprun>");
    assert!(matches!(read(doc.as_bytes(), small()).1, ImportError::Syntax { .. }));
}

#[test]
fn bad_values_name_the_attribute() {
    let doc = format!(
        "{HEAD}<host><address addr=\"198.18.0.2\"/><ports><port protocol=\"tcp\" portid=\"70000\">\
                       <state state=\"open\"/></port></ports></host></nmaprun>"
    );
    let e = read(doc.as_bytes(), small()).1;
    assert!(matches!(&e, ImportError::BadValue { attribute, .. } if attribute == "portid"), "{e:?}");
    let doc = format!(
        "{HEAD}<host><address addr=\"198.18.0.2\"/><ports><port protocol=\"tcp\" portid=\"7\">\
                       <state state=\"ajar\"/></port></ports></host></nmaprun>"
    );
    let e = read(doc.as_bytes(), small()).1;
    assert!(matches!(&e, ImportError::BadValue { value, .. } if value == "ajar"), "{e:?}");
    let doc = format!("{HEAD}<host><status state=\"up\"/></host></nmaprun>");
    assert!(matches!(read(doc.as_bytes(), small()).1, ImportError::Missing { .. }));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let items: Vec<_> = Reader::new(&bytes[..], small()).take(1000).collect();
        prop_assert!(items.len() < 1000);
    }

    #[test]
    fn mutated_real_files_never_panic(
        edits in proptest::collection::vec((0..REAL.len(), any::<u8>(), 0u8..3), 1..20)
    ) {
        let mut doc = REAL.to_vec();
        for (at, byte, kind) in edits {
            let at = at.min(doc.len().saturating_sub(1));
            match kind {
                0 => doc[at] = byte,
                1 => doc.insert(at, byte),
                _ => { doc.remove(at); }
            }
        }
        let items: Vec<_> = Reader::new(&doc[..], small()).collect();
        // After an error nothing more comes.
        if let Some(i) = items.iter().position(Result::is_err) {
            prop_assert_eq!(i, items.len() - 1);
        }
    }
}
