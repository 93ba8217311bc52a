//! IANA cipher suite names, from rustls's table of registered suites (which names far more suites than
//! rustls implements, legacy ones included).

/// `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256` for 0xc02f; `0x1234` for a value the table lacks.
pub(crate) fn suite_name(value: u16) -> String {
    match rustls::CipherSuite::from(value).as_str() {
        Some(name) => name.to_owned(),
        None => format!("0x{value:04x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::suite_name;

    #[test]
    fn modern_and_legacy_names() {
        assert_eq!(suite_name(0x1302), "TLS13_AES_256_GCM_SHA384");
        assert_eq!(suite_name(0xc02f), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assert_eq!(suite_name(0x002f), "TLS_RSA_WITH_AES_128_CBC_SHA");
        assert_eq!(suite_name(0x0005), "TLS_RSA_WITH_RC4_128_SHA");
        assert_eq!(suite_name(0xfafa), "0xfafa");
    }
}
