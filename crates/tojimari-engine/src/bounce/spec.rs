//! The `-b` argument: `[<username>[:<password>]@]<server>[:<port>]`, as nmap writes it.
//!
//! Without credentials the login is anonymous: user `anonymous`, password `-wwwuser@` (the password nmap
//! documents for this case). A user without a password gets that password too. The port defaults to 21.
//! The last `@` separates the credentials from the server (a password may contain `@`); the first `:` of
//! the credentials separates the user from the password. The server is a host name, an IPv4 address, or an
//! IPv6 address in brackets (`[2001:db8::2]:21`).

/// The anonymous login's user name.
pub const ANONYMOUS_USER: &str = "anonymous";
/// The password of an anonymous login (and of a user given without one).
pub const ANONYMOUS_PASSWORD: &str = "-wwwuser@";
/// FTP's control port.
pub const FTP_PORT: u16 = 21;

/// A parsed `-b` argument; the server is not resolved yet.
#[derive(Clone, PartialEq, Eq)]
pub struct RelaySpec {
    pub user: String,
    pub password: String,
    /// A host name or an address (without brackets).
    pub host: String,
    pub port: u16,
}

impl std::fmt::Debug for RelaySpec {
    /// Never shows the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelaySpec")
            .field("user", &self.user)
            .field("host", &self.host)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// What is wrong with a `-b` argument (the message names the part).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SpecError(pub String);

impl RelaySpec {
    /// Parses `[user[:password]@]server[:port]`.
    pub fn parse(arg: &str) -> Result<RelaySpec, SpecError> {
        let bad = |what: &str| SpecError(format!("-b \"{arg}\": {what}"));
        if arg.is_empty() {
            return Err(bad("no FTP server given"));
        }
        let (credentials, server) = match arg.rsplit_once('@') {
            Some((c, s)) => (Some(c), s),
            None => (None, arg),
        };
        let (user, password) = match credentials {
            None => (ANONYMOUS_USER.to_string(), ANONYMOUS_PASSWORD.to_string()),
            Some(c) => match c.split_once(':') {
                Some((u, p)) => (u.to_string(), p.to_string()),
                None => (c.to_string(), ANONYMOUS_PASSWORD.to_string()),
            },
        };
        if user.is_empty() {
            return Err(bad("the user name before \"@\" is empty"));
        }
        if user.chars().chain(password.chars()).any(|c| c == '\r' || c == '\n') {
            return Err(bad("the user name or password holds a line break"));
        }
        let (host, port) = split_port(server).ok_or_else(|| bad("the port after the server is not 1-65535"))?;
        if host.is_empty() {
            return Err(bad("no FTP server given"));
        }
        if host.contains(':') && host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(bad("write an IPv6 server in brackets, as [2001:db8::2]:21"));
        }
        if host.chars().any(|c| c.is_whitespace() || c == '/' || c == '@') {
            return Err(bad("the server is no host name or address"));
        }
        Ok(RelaySpec { user, password, host: host.to_string(), port })
    }

    /// Whether the login is the anonymous one.
    pub fn anonymous(&self) -> bool {
        self.user == ANONYMOUS_USER
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port` -> (host, port); `None` for a bad port.
fn split_port(server: &str) -> Option<(&str, u16)> {
    if let Some(rest) = server.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after {
            "" => Some((host, FTP_PORT)),
            _ => Some((host, port(after.strip_prefix(':')?)?)),
        };
    }
    match server.split_once(':') {
        Some((host, p)) if !p.contains(':') => Some((host, port(p)?)),
        // Several colons: an IPv6 address without brackets (refused by the caller).
        Some(_) => Some((server, FTP_PORT)),
        None => Some((server, FTP_PORT)),
    }
}

fn port(s: &str) -> Option<u16> {
    s.parse::<u16>().ok().filter(|&p| p > 0 && s.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(arg: &str) -> (String, String, String, u16) {
        let s = RelaySpec::parse(arg).unwrap();
        (s.user, s.password, s.host, s.port)
    }

    #[test]
    fn nmap_forms() {
        let own = |u: &str, p: &str, h: &str, port: u16| (u.to_string(), p.to_string(), h.to_string(), port);
        assert_eq!(parts("198.18.0.2"), own("anonymous", "-wwwuser@", "198.18.0.2", 21));
        assert_eq!(parts("ftp.example:2121"), own("anonymous", "-wwwuser@", "ftp.example", 2121));
        assert_eq!(parts("bob@198.18.0.2"), own("bob", "-wwwuser@", "198.18.0.2", 21));
        assert_eq!(parts("bob:s3:cr@t@198.18.0.2:21"), own("bob", "s3:cr@t", "198.18.0.2", 21));
        assert_eq!(parts("bob:@h"), own("bob", "", "h", 21));
        assert_eq!(parts("[2001:db8::2]:2121"), own("anonymous", "-wwwuser@", "2001:db8::2", 2121));
        assert!(RelaySpec::parse("h").unwrap().anonymous());
    }

    #[test]
    fn bad_arguments_name_their_part() {
        for (arg, says) in [
            ("", "no FTP server"),
            ("bob@", "no FTP server"),
            (":21", "no FTP server"),
            ("@h", "user name"),
            (":pw@h", "user name"),
            ("h:0", "port"),
            ("h:70000", "port"),
            ("h:x", "port"),
            ("h:+21", "port"),
            ("[2001:db8::2", "port"),
            ("a:b:c", "brackets"),
            ("a b", "no host name"),
            ("bob:p\nw@h", "line break"),
        ] {
            let e = RelaySpec::parse(arg).unwrap_err();
            assert!(e.0.contains(says), "{arg:?}: {e}");
        }
    }

    #[test]
    fn debug_hides_the_password() {
        assert!(!format!("{:?}", RelaySpec::parse("bob:secret@h").unwrap()).contains("secret"));
    }
}
