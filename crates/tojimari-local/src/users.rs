//! User names for uids, from the text of `/etc/passwd` (no libc, no NSS: users that only LDAP or
//! systemd-homed know show as their number, as `ps` does when it cannot resolve them).

use std::collections::HashMap;

/// uid -> user name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Users {
    names: HashMap<u32, String>,
}

impl Users {
    /// Parses passwd lines `name:password:uid:gid:gecos:home:shell`. Comments, blank lines and malformed lines
    /// are skipped; when two lines give one uid, the first wins (as `getpwuid` returns it).
    pub fn parse(text: &str) -> Users {
        let mut names = HashMap::new();
        for line in text.lines() {
            if line.starts_with('#') {
                continue;
            }
            let mut fields = line.split(':');
            let (Some(name), Some(_password), Some(uid)) = (fields.next(), fields.next(), fields.next()) else {
                continue;
            };
            let Ok(uid) = uid.parse::<u32>() else {
                continue;
            };
            if !name.is_empty() {
                names.entry(uid).or_insert_with(|| crate::process::sanitize(name));
            }
        }
        Users { names }
    }

    /// The user's name, or the uid in decimal.
    pub fn name(&self, uid: u32) -> String {
        self.names.get(&uid).cloned().unwrap_or_else(|| uid.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_fallback() {
        let users = Users::parse(
            "root:x:0:0:root:/root:/bin/bash\n# comment\n\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
             broken line\nredis:x:notanumber:1::/:\ntoor:x:0:0::/:/bin/sh\nredis:x:116:122::/var/lib/redis:/usr/sbin/nologin\n",
        );
        assert_eq!(users.name(0), "root");
        assert_eq!(users.name(65534), "nobody");
        assert_eq!(users.name(116), "redis");
        assert_eq!(users.name(1000), "1000");
    }
}
