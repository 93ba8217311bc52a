//! One line of advice for an open port, in plain words.

use tojimari_core::Protocol;
use tojimari_core::report::PortResult;

use super::trojans;

/// What to do about an open port: service-specific where we know the service, a well-known backdoor port
/// called out as such, otherwise the general rule.
pub fn for_port(port: &PortResult) -> String {
    let name = port
        .service
        .as_deref()
        .map(|s| s.name.as_str())
        .or_else(|| tojimari_core::services::lookup(port.proto, port.port).map(|e| e.name));
    let specific = match (port.proto, port.port, name) {
        (_, _, Some("ftp")) | (Protocol::Tcp, 21, _) => {
            "FTP sends passwords in clear text: use SFTP (over SSH) or FTPS, or close the port."
        }
        (_, _, Some("ssh")) | (Protocol::Tcp, 22, _) => {
            "SSH is fine for remote administration: allow only your own addresses, use keys and turn passwords off."
        }
        (_, _, Some("telnet")) | (Protocol::Tcp, 23, _) => {
            "Telnet sends everything, passwords included, in clear text: replace it with SSH and close the port."
        }
        (_, _, Some("smtp")) | (Protocol::Tcp, 25, _) => {
            "Only a mail server should accept mail: close the port elsewhere, and never relay for strangers."
        }
        (_, _, Some("domain")) | (_, 53, _) => {
            "Only a DNS server should answer here: close it elsewhere, and never offer recursion to the Internet."
        }
        (_, _, Some("finger")) | (Protocol::Tcp, 79, _) => "finger tells strangers who has accounts here: turn it off.",
        (_, _, Some("http" | "https")) | (Protocol::Tcp, 80 | 443, _) => {
            "Fine if you serve a web site on purpose: keep the server patched; otherwise stop it."
        }
        (_, _, Some("pop3" | "imap")) | (Protocol::Tcp, 110 | 143, _) => {
            "Mail retrieval: offer it only over TLS (ports 995/993) and only on a mail server."
        }
        (_, _, Some("auth" | "ident")) | (Protocol::Tcp, 113, _) => {
            "ident is obsolete and tells who runs each connection: turn it off."
        }
        (Protocol::Tcp, 135 | 139 | 445, _) | (Protocol::Udp, 137 | 138, _) => {
            "Windows file sharing and RPC must never face the Internet: block these ports at the firewall."
        }
        (_, 1080, _) | (_, _, Some("socks5" | "socks4" | "socks")) => {
            "An open SOCKS proxy lets anyone relay traffic through you: require authentication or close it."
        }
        (_, 3128 | 8080, _) | (_, _, Some("http-proxy")) => {
            "An open HTTP proxy lets anyone relay traffic through you: restrict it to your own clients."
        }
        (_, 1900 | 2869 | 5000, _) => {
            "UPnP lets programs open ports in your router: turn it off on anything that faces the Internet."
        }
        _ => "",
    };
    if !specific.is_empty() {
        return specific.to_string();
    }
    if port.proto == Protocol::Tcp
        && let Some(trojan) = trojans::name(port.port)
    {
        return format!(
            "a well-known backdoor port ({trojan}): find the program that holds it (`tojimari local --port {}` on that \
             machine) and make sure it is one you know.",
            port.port
        );
    }
    format!(
        "If nothing here should be served, stop the program (`tojimari local --port {}` on that machine names it) or \
         have the firewall drop the port.",
        port.port
    )
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
