//! The session cookie and the same-origin check.
//!
//! The cookie is `HttpOnly` (page scripts, and so injected ones, cannot read it),
//! `SameSite=Strict` (the browser never sends it with a request another site starts, which
//! stops cross-site request forgery before the CSRF token is even looked at) and `Path=/`.
//! `Secure` is added when the server is reached over HTTPS (a terminating proxy in front);
//! over plain HTTP a browser would refuse to store a `Secure` cookie.
//! It has no `Max-Age`: it lasts until the browser closes, and the server ends the session
//! earlier by its own clock ([`SessionPolicy`](super::SessionPolicy)).

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "tojimari_session";

/// Whether the browser reaches the server over HTTPS, which decides the `Secure` attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Transport {
    /// Plain HTTP (loopback, or a LAN without TLS): no `Secure`.
    #[default]
    Http,
    /// HTTPS (e.g. behind a TLS proxy): `Secure`.
    Https,
}

/// The `Set-Cookie` value that stores session `id`.
pub fn session_cookie(id: &str, transport: Transport) -> String {
    format!("{SESSION_COOKIE}={id}; {}", attributes(transport))
}

/// The `Set-Cookie` value that deletes the session cookie (logout).
pub fn clear_session_cookie(transport: Transport) -> String {
    format!("{SESSION_COOKIE}=; {}; Max-Age=0", attributes(transport))
}

fn attributes(transport: Transport) -> &'static str {
    match transport {
        Transport::Http => "HttpOnly; SameSite=Strict; Path=/",
        Transport::Https => "HttpOnly; SameSite=Strict; Path=/; Secure",
    }
}

/// The value of cookie `name` in a `Cookie` request header (`a=1; b=2`), if present and not
/// empty. Of several cookies with the name, the first (the most specific path) wins.
pub fn cookie_value<'h>(header: &'h str, name: &str) -> Option<&'h str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| key.trim() == name)
        .map(|(_, value)| value.trim().trim_matches('"'))
        .filter(|value| !value.is_empty())
}

/// The session id in a `Cookie` header, if it has the form of one (64 hex digits): anything
/// else is ignored before the session table is consulted.
pub fn session_id(header: &str) -> Option<&str> {
    cookie_value(header, SESSION_COOKIE).filter(|id| id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether a state-changing request (POST) comes from the server's own pages, judged by its
/// `Origin` header against its `Host` header.
///
/// - No `Origin` (a script such as curl, or an old browser): allowed here; the CSRF token
///   still has to match.
/// - `Origin: null` (a sandboxed frame, a `file:` page, some redirects) or an origin whose
///   host and port differ from `Host`: refused.
///
/// The scheme's default port is filled in on either side (`http://h` is `h:80`), so a
/// `Host: 127.0.0.1:80` matches `Origin: http://127.0.0.1`.
pub fn same_origin(origin: Option<&str>, host: Option<&str>) -> bool {
    let Some(origin) = origin.map(str::trim) else {
        return true;
    };
    let Some(host) = host.map(str::trim).filter(|h| !h.is_empty()) else {
        return false;
    };
    let (scheme, rest) = match origin.split_once("://") {
        Some((scheme, rest)) if !rest.is_empty() && !rest.contains('/') => (scheme.to_ascii_lowercase(), rest),
        _ => return false,
    };
    let default_port = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => return false,
    };
    let (origin_host, origin_port) = split_port(rest, default_port);
    let (host_host, host_port) = split_port(host, default_port);
    origin_host.eq_ignore_ascii_case(host_host) && origin_port == host_port
}

/// `host[:port]` or `[v6][:port]` into the host and the port (`default` when absent).
fn split_port<'a>(authority: &'a str, default: &'a str) -> (&'a str, &'a str) {
    if authority.starts_with('[') {
        return match authority.split_once(']') {
            Some((host, rest)) => (&authority[..=host.len()], rest.strip_prefix(':').unwrap_or(default)),
            None => (authority, default),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => (host, port),
        None => (authority, default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_has_the_safe_attributes() {
        assert_eq!(session_cookie("abc", Transport::Http), "tojimari_session=abc; HttpOnly; SameSite=Strict; Path=/");
        assert_eq!(
            session_cookie("abc", Transport::Https),
            "tojimari_session=abc; HttpOnly; SameSite=Strict; Path=/; Secure"
        );
        assert_eq!(
            clear_session_cookie(Transport::Http),
            "tojimari_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
        );
        assert!(clear_session_cookie(Transport::Https).contains("; Secure;"));
    }

    #[test]
    fn cookie_values_are_found_among_others() {
        let header = "lang=ja; tojimari_session=0123; other=x=y";
        assert_eq!(cookie_value(header, "tojimari_session"), Some("0123"));
        assert_eq!(cookie_value(header, "lang"), Some("ja"));
        assert_eq!(cookie_value(header, "other"), Some("x=y"));
        assert_eq!(cookie_value(header, "missing"), None);
        assert_eq!(cookie_value("tojimari_session=", "tojimari_session"), None);
        assert_eq!(cookie_value("a=1;;  b = 2 ;garbage", "b"), Some("2"));
        assert_eq!(cookie_value("a=\"q\"", "a"), Some("q"));
        assert_eq!(cookie_value("x_tojimari_session=1", "tojimari_session"), None);
    }

    #[test]
    fn session_ids_must_look_like_one() {
        let id = "ab".repeat(32);
        assert_eq!(session_id(&format!("tojimari_session={id}")), Some(id.as_str()));
        assert_eq!(session_id("tojimari_session=abc"), None);
        assert_eq!(session_id(&format!("tojimari_session={}", "zz".repeat(32))), None);
        assert_eq!(session_id(&format!("tojimari_session={id}0")), None);
        assert_eq!(session_id(""), None);
    }

    #[test]
    fn same_origin_compares_host_and_port() {
        let ok = [
            (None, Some("127.0.0.1:8080")),
            (Some("http://127.0.0.1:8080"), Some("127.0.0.1:8080")),
            (Some("http://127.0.0.1"), Some("127.0.0.1:80")),
            (Some("https://Scanner.Example"), Some("scanner.example")),
            (Some("http://[::1]:8080"), Some("[::1]:8080")),
            (Some("http://[::1]"), Some("[::1]")),
        ];
        for (origin, host) in ok {
            assert!(same_origin(origin, host), "{origin:?} vs {host:?} refused");
        }
        let refused = [
            (Some("null"), Some("127.0.0.1:8080")),
            (Some("http://evil.example"), Some("127.0.0.1:8080")),
            (Some("http://127.0.0.1:8081"), Some("127.0.0.1:8080")),
            (Some("https://127.0.0.1"), Some("127.0.0.1:80")),
            (Some("http://127.0.0.1:8080"), None),
            (Some("http://127.0.0.1:8080"), Some("")),
            (Some("ftp://127.0.0.1"), Some("127.0.0.1")),
            (Some("http://127.0.0.1:8080/path"), Some("127.0.0.1:8080")),
            (Some("http://"), Some("127.0.0.1")),
            (Some("http://[::1]:8080"), Some("[::2]:8080")),
            (Some("http://127.0.0.1.evil.example:8080"), Some("127.0.0.1:8080")),
        ];
        for (origin, host) in refused {
            assert!(!same_origin(origin, host), "{origin:?} vs {host:?} allowed");
        }
    }
}
