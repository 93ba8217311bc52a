//! A process that holds a socket: who it is, and the pure parsers for what `/proc/PID` says about it
//! (`cmdline`, `cgroup`).

use std::fmt;

/// A process that has a socket open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessInfo {
    pub pid: u32,
    /// The parent's pid (0 when unknown), so a forked worker can be told from its master.
    pub ppid: u32,
    /// The short name (`/proc/PID/comm`, at most 15 bytes), as `ss -p` shows it.
    pub name: String,
    /// The command line, arguments joined by single spaces; empty for kernel threads and zombies.
    pub cmdline: String,
    /// Effective user id.
    pub uid: u32,
    /// The user's name from `/etc/passwd`, or the uid in decimal when it has none.
    pub user: String,
    /// The systemd unit whose cgroup holds the process, when it is a service.
    pub unit: Option<Unit>,
    /// When the process started, in clock ticks after boot (`/proc/PID/stat` field 22). With the pid it names
    /// one process for good: a pid the kernel reuses after the process exited has another start time, so
    /// `--stop` never signals the newcomer.
    pub start_time: u64,
}

/// A systemd service unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    /// `nginx.service`
    pub name: String,
    pub manager: Manager,
}

/// Which systemd instance manages a unit.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Manager {
    /// PID 1: `systemctl`.
    System,
    /// A user's manager (`user@UID.service`): `systemctl --user`, run as that user.
    User,
}

impl Unit {
    /// The `systemctl` command prefix that manages this unit.
    pub fn systemctl(&self) -> &'static str {
        match self.manager {
            Manager::System => "systemctl",
            Manager::User => "systemctl --user",
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.manager {
            Manager::System => f.write_str(&self.name),
            Manager::User => write!(f, "{} (user unit)", self.name),
        }
    }
}

/// `/proc/PID/cmdline` (NUL-separated, usually NUL-terminated) as one line: arguments joined by spaces,
/// invalid UTF-8 replaced, control characters shown as `?` so a hostile argument cannot forge table rows.
pub fn parse_cmdline(raw: &[u8]) -> String {
    let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
    raw.split(|&byte| byte == 0)
        .map(|arg| String::from_utf8_lossy(arg).chars().map(printable).collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A name for display: control characters (newline, escape...) replaced by `?`.
pub fn sanitize(text: &str) -> String {
    text.chars().map(printable).collect()
}

fn printable(c: char) -> char {
    if c.is_control() { '?' } else { c }
}

/// The service unit in `/proc/PID/cgroup`, if any.
///
/// Uses the unified (cgroup v2, `0::/...`) line, or on a v1 system the `name=systemd` line. The unit is the
/// last path component ending in `.service`; under a user manager (`.../user@1000.service/app.slice/x.service`)
/// it is a user unit, and a process sitting in `user@1000.service` itself (the manager) has none. Scopes
/// (`session-2.scope`, `docker-ID.scope`) are not services: `None`.
pub fn parse_cgroup_unit(text: &str) -> Option<Unit> {
    let path = text
        .lines()
        .find_map(|line| line.strip_prefix("0::"))
        .or_else(|| text.lines().find_map(|line| line.split_once(":name=systemd:").map(|(_, path)| path)))?;
    let components: Vec<&str> = path.split('/').filter(|part| !part.is_empty()).collect();
    // The deepest service wins: a delegated service may put processes in sub-cgroups of its own
    // (`nginx.service/workers`), and those still stop with the unit.
    let (index, name) = components.iter().enumerate().rev().find(|(_, part)| part.ends_with(".service"))?;
    if name.starts_with("user@") {
        return None;
    }
    let under_user_manager = components[..index].iter().any(|part| part.starts_with("user@"));
    let manager = if under_user_manager { Manager::User } else { Manager::System };
    Some(Unit { name: (*name).to_owned(), manager })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmdline_joins_and_cleans() {
        assert_eq!(parse_cmdline(b"nginx: worker process\0\0"), "nginx: worker process ");
        assert_eq!(parse_cmdline(b"/usr/bin/redis-server\0--port\x006379\0"), "/usr/bin/redis-server --port 6379");
        assert_eq!(parse_cmdline(b""), "");
        assert_eq!(parse_cmdline(b"evil\nline\0\xff"), "evil?line \u{fffd}");
    }

    #[test]
    fn system_service() {
        let unit = parse_cgroup_unit("0::/system.slice/nginx.service\n").unwrap();
        assert_eq!(unit, Unit { name: "nginx.service".into(), manager: Manager::System });
        assert_eq!(unit.systemctl(), "systemctl");
        let templated = parse_cgroup_unit("0::/system.slice/system-getty.slice/getty@tty1.service\n").unwrap();
        assert_eq!(templated.name, "getty@tty1.service");
    }

    #[test]
    fn user_units_and_non_services() {
        let unit = parse_cgroup_unit("0::/user.slice/user-1000.slice/user@1000.service/app.slice/syncthing.service\n")
            .unwrap();
        assert_eq!(unit.manager, Manager::User);
        assert_eq!(unit.name, "syncthing.service");
        assert_eq!(unit.systemctl(), "systemctl --user");
        assert_eq!(parse_cgroup_unit("0::/user.slice/user-1000.slice/user@1000.service/init.scope\n"), None);
        assert_eq!(parse_cgroup_unit("0::/user.slice/user-1000.slice/user@1000.service\n"), None);
        assert_eq!(parse_cgroup_unit("0::/user.slice/user-1000.slice/session-2.scope\n"), None);
        assert_eq!(parse_cgroup_unit("0::/system.slice/docker-0123abcd.scope\n"), None);
        assert_eq!(parse_cgroup_unit("0::/\n"), None);
        assert_eq!(parse_cgroup_unit(""), None);
        assert_eq!(parse_cgroup_unit("garbage without colons"), None);
    }

    #[test]
    fn cgroup_v1() {
        let text = "12:cpu,cpuacct:/system.slice/sshd.service\n1:name=systemd:/system.slice/ssh.service\n";
        assert_eq!(parse_cgroup_unit(text).unwrap().name, "ssh.service");
    }
}
