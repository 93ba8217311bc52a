//! One line of advice for an open port, in plain words (the texts: the catalogues' `advice-*` messages).

use tojimari_core::Protocol;
use tojimari_core::report::PortResult;

use tojimari_i18n::{Lang, text, text_with};

use super::trojans;

/// What to do about an open port, in `lang`: service-specific where we know the service, a well-known
/// backdoor port called out as such, otherwise the general rule.
pub fn for_port(lang: Lang, port: &PortResult) -> String {
    let name = port
        .service
        .as_deref()
        .map(|s| s.name.as_str())
        .or_else(|| tojimari_core::services::lookup(port.proto, port.port).map(|e| e.name));
    let specific = match (port.proto, port.port, name) {
        (_, _, Some("ftp")) | (Protocol::Tcp, 21, _) => Some("advice-ftp"),
        (_, _, Some("ssh")) | (Protocol::Tcp, 22, _) => Some("advice-ssh"),
        (_, _, Some("telnet")) | (Protocol::Tcp, 23, _) => Some("advice-telnet"),
        (_, _, Some("smtp")) | (Protocol::Tcp, 25, _) => Some("advice-smtp"),
        (_, _, Some("domain")) | (_, 53, _) => Some("advice-dns"),
        (_, _, Some("finger")) | (Protocol::Tcp, 79, _) => Some("advice-finger"),
        (_, _, Some("http" | "https")) | (Protocol::Tcp, 80 | 443, _) => Some("advice-http"),
        (_, _, Some("pop3" | "imap")) | (Protocol::Tcp, 110 | 143, _) => Some("advice-mail-retrieval"),
        (_, _, Some("auth" | "ident")) | (Protocol::Tcp, 113, _) => Some("advice-ident"),
        (Protocol::Tcp, 135 | 139 | 445, _) | (Protocol::Udp, 137 | 138, _) => Some("advice-windows-sharing"),
        (_, 1080, _) | (_, _, Some("socks5" | "socks4" | "socks")) => Some("advice-socks"),
        (_, 3128 | 8080, _) | (_, _, Some("http-proxy")) => Some("advice-http-proxy"),
        (_, 1900 | 2869 | 5000, _) => Some("advice-upnp"),
        _ => None,
    };
    if let Some(id) = specific {
        return text(lang, id);
    }
    if port.proto == Protocol::Tcp
        && let Some(trojan) = trojans::name(port.port)
    {
        return text_with(lang, "advice-trojan", &[("name", trojan.into()), ("port", port.port.into())]);
    }
    text_with(lang, "advice-default", &[("port", port.port.into())])
}

/// Text from the network, safe for a terminal: control characters spelled `\xNN`.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.push_str(&format!("\\x{:02x}", u32::from(c) & 0xff));
        } else {
            out.push(c);
        }
    }
    out
}
