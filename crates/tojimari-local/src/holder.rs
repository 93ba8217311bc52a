//! `tojimari local --port N`: who holds a port, and how to make them let go.
//!
//! A systemd service is stopped through systemd (`systemctl stop UNIT`, and `systemctl disable UNIT` so it
//! stays off after a reboot), since killing its process would only get it restarted. Any other process is
//! killed by pid; forked workers that share the socket with their parent (nginx, sshd, apache) are covered by
//! killing the parent, so only the topmost holder is named.

use std::io::{self, Write};

use tojimari_core::Protocol;

use crate::inventory::{Inventory, ListeningSocket, Privilege};
use crate::process::{ProcessInfo, Unit};

/// The sockets bound to one port.
#[derive(Clone, Debug)]
pub struct Holding<'a> {
    pub port: u16,
    /// `None`: both TCP and UDP.
    pub proto: Option<Protocol>,
    /// Every matching socket, in inventory order.
    pub sockets: Vec<&'a ListeningSocket>,
    /// Whether the inventory was taken as root: an owner root cannot see is not a matter of privilege.
    pub privilege: Privilege,
}

/// One step to free a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopStep {
    /// Stop (and disable) a systemd service.
    Unit(Unit),
    /// Kill a process that no service owns; `followers` are its children sharing the socket.
    Kill { pid: u32, name: String, followers: Vec<u32> },
}

/// The sockets on `port` (of `proto`, or of either protocol).
pub fn who_holds(inventory: &Inventory, port: u16, proto: Option<Protocol>) -> Holding<'_> {
    let sockets = inventory
        .sockets
        .iter()
        .filter(|socket| socket.port == port && proto.is_none_or(|proto| socket.proto == proto))
        .collect();
    Holding { port, proto, sockets, privilege: inventory.privilege }
}

impl Holding<'_> {
    /// Whether nothing is bound to the port.
    pub fn is_empty(&self) -> bool {
        self.sockets.is_empty()
    }

    /// Whether some matching socket has no visible owner.
    pub fn has_hidden_owner(&self) -> bool {
        self.sockets.iter().any(|socket| socket.processes.is_empty())
    }

    /// `port 80/tcp`, or `port 80 (tcp or udp)` when both protocols were asked for.
    pub fn what(&self) -> String {
        match self.proto {
            Some(proto) => format!("port {}/{proto}", self.port),
            None => format!("port {} (tcp or udp)", self.port),
        }
    }

    /// Why some owners are missing, when some are: as root no amount of privilege shows them (a kernel socket,
    /// or an owner in another PID namespace); otherwise root would see them.
    pub fn visibility_note(&self) -> Option<String> {
        let hidden = self.sockets.iter().filter(|socket| socket.processes.is_empty()).count();
        if hidden == 0 {
            return None;
        }
        let sockets = if hidden == 1 { "a socket".to_owned() } else { format!("{hidden} sockets") };
        Some(match self.privilege {
            Privilege::Root => {
                format!("no process visible from here holds {sockets} on {}: {}", self.what(), HIDDEN_OWNER_AS_ROOT)
            }
            Privilege::Unprivileged => format!(
                "the owner of {sockets} on {} is not visible to this user: run as root to see every process \
                 holding the port",
                self.what()
            ),
        })
    }

    /// Every visible holder once, by pid.
    pub fn processes(&self) -> Vec<&ProcessInfo> {
        let mut processes: Vec<&ProcessInfo> = self.sockets.iter().flat_map(|socket| &socket.processes).collect();
        processes.sort_by_key(|process| process.pid);
        processes.dedup_by_key(|process| process.pid);
        processes
    }

    /// What to run to free the port: one step per service unit (in name order), then one `kill` per process
    /// tree outside any unit (by pid).
    pub fn stop_steps(&self) -> Vec<StopStep> {
        let processes = self.processes();
        let mut units: Vec<Unit> = processes.iter().filter_map(|process| process.unit.clone()).collect();
        units.sort_by(|a, b| a.name.cmp(&b.name));
        units.dedup();
        let mut steps: Vec<StopStep> = units.into_iter().map(StopStep::Unit).collect();
        let loose: Vec<&ProcessInfo> = processes.iter().copied().filter(|process| process.unit.is_none()).collect();
        let is_loose = |pid: u32| loose.iter().any(|process| process.pid == pid);
        for process in &loose {
            if is_loose(process.ppid) {
                continue;
            }
            let followers = descendants(process.pid, &loose);
            steps.push(StopStep::Kill { pid: process.pid, name: process.name.clone(), followers });
        }
        steps
    }
}

/// Pids of `loose` processes below `root` (children, grandchildren...), sorted.
fn descendants(root: u32, loose: &[&ProcessInfo]) -> Vec<u32> {
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for child in loose.iter().filter(|process| process.ppid == parent && process.pid != parent) {
            if !found.contains(&child.pid) && child.pid != root {
                found.push(child.pid);
                frontier.push(child.pid);
            }
        }
    }
    found.sort_unstable();
    found
}

/// Writes the answer: the holders, then how to stop them. For an empty holding, one line saying nobody holds
/// the port. Sockets without a visible owner are listed; why they have none is
/// [`Holding::visibility_note`], for the caller to show as a note.
pub fn write_holding(holding: &Holding<'_>, w: &mut (impl Write + ?Sized)) -> io::Result<()> {
    write_holders(holding, w)?;
    write_stop_steps(holding, w)
}

/// The first part of [`write_holding`]: who holds the port (or that nobody does), without how to stop them.
pub fn write_holders(holding: &Holding<'_>, w: &mut (impl Write + ?Sized)) -> io::Result<()> {
    let what = holding.what();
    if holding.is_empty() {
        return writeln!(w, "Nobody holds {what}.");
    }
    writeln!(w, "{} held by:", capitalize(&what))?;
    for socket in &holding.sockets {
        let service = socket.service.map(|name| format!(", {name}")).unwrap_or_default();
        writeln!(w, "  {} {} ({}{service})", socket.proto, socket.endpoint(), socket.reach)?;
        if socket.processes.is_empty() {
            writeln!(w, "    owner not visible (socket created by uid {})", socket.socket_uid)?;
        }
        for process in &socket.processes {
            let unit = process.unit.as_ref().map(|unit| format!(" [{unit}]")).unwrap_or_default();
            writeln!(w, "    pid {} {} user {}{unit}: {}", process.pid, process.name, process.user, process.cmdline)?;
        }
    }
    Ok(())
}

fn write_stop_steps(holding: &Holding<'_>, w: &mut (impl Write + ?Sized)) -> io::Result<()> {
    let steps = holding.stop_steps();
    if !steps.is_empty() {
        writeln!(w, "To stop it:")?;
    }
    for step in &steps {
        match step {
            StopStep::Unit(unit) => {
                let systemctl = unit.systemctl();
                writeln!(w, "  {systemctl} stop {}", unit.name)?;
                writeln!(w, "  {systemctl} disable {}    # to keep it off after a reboot", unit.name)?;
            }
            StopStep::Kill { pid, name, followers } if followers.is_empty() => {
                writeln!(w, "  kill {pid}    # {name}")?;
            }
            StopStep::Kill { pid, name, followers } => {
                let pids: Vec<String> = followers.iter().map(u32::to_string).collect();
                writeln!(w, "  kill {pid}    # {name}; its children {} share the socket", pids.join(", "))?;
            }
        }
    }
    Ok(())
}

/// Why root sees no owner: the words shared by `--port` and `--stop`.
pub(crate) const HIDDEN_OWNER_AS_ROOT: &str = "the kernel holds it (an NFS or other kernel service), or its owner \
     runs in another PID namespace (a container, or the host when tojimari runs inside one)";

pub(crate) fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::tests::{process, record, sample};
    use crate::inventory::{Privilege, ProcessSockets};
    use crate::process::Manager;

    fn text(holding: &Holding<'_>) -> String {
        let mut out = Vec::new();
        write_holding(holding, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn forked_workers_are_one_kill() {
        let inventory = sample(Privilege::Root);
        let holding = who_holds(&inventory, 80, None);
        assert_eq!(holding.sockets.len(), 2);
        assert_eq!(holding.processes().len(), 3);
        assert_eq!(
            holding.stop_steps(),
            [StopStep::Kill { pid: 100, name: "nginx".into(), followers: vec![101, 102] }]
        );
        let answer = text(&holding);
        assert!(answer.starts_with("Port 80 (tcp or udp) held by:\n  tcp 0.0.0.0:80 (network, http)\n"), "{answer}");
        assert!(answer.contains("    pid 101 nginx user root: /usr/sbin/nginx\n"), "{answer}");
        assert!(answer.contains("  kill 100    # nginx; its children 101, 102 share the socket\n"), "{answer}");
        assert!(!answer.contains("not visible"), "{answer}");
    }

    #[test]
    fn protocol_filter_and_nobody() {
        let inventory = sample(Privilege::Root);
        assert!(who_holds(&inventory, 80, Some(Protocol::Udp)).is_empty());
        assert_eq!(who_holds(&inventory, 11211, Some(Protocol::Udp)).sockets.len(), 1);
        let nobody = who_holds(&inventory, 81, Some(Protocol::Tcp));
        assert!(nobody.is_empty());
        assert_eq!(text(&nobody), "Nobody holds port 81/tcp.\n");
    }

    #[test]
    fn systemd_units_are_stopped_through_systemd() {
        let mut master = process(700, 1, "nginx");
        master.unit = Some(Unit { name: "nginx.service".into(), manager: Manager::System });
        let mut worker = process(701, 700, "nginx");
        worker.unit = master.unit.clone();
        let mut user_app = process(900, 1, "syncthing");
        user_app.unit = Some(Unit { name: "syncthing.service".into(), manager: Manager::User });
        let stray = process(950, 1, "socat");
        let inventory = Inventory::assemble(
            vec![record(Protocol::Tcp, "0.0.0.0", 8080, 1), record(Protocol::Tcp, "::", 8080, 2)],
            &[
                ProcessSockets { process: master, inodes: vec![1] },
                ProcessSockets { process: worker, inodes: vec![1] },
                ProcessSockets { process: user_app, inodes: vec![2] },
                ProcessSockets { process: stray, inodes: vec![2] },
            ],
            Privilege::Root,
            0,
        );
        let holding = who_holds(&inventory, 8080, Some(Protocol::Tcp));
        let answer = text(&holding);
        assert!(answer.contains("  systemctl stop nginx.service\n"), "{answer}");
        assert!(answer.contains("  systemctl disable nginx.service    # to keep it off after a reboot\n"), "{answer}");
        assert!(answer.contains("  systemctl --user stop syncthing.service\n"), "{answer}");
        assert!(answer.contains("  kill 950    # socat\n"), "{answer}");
        assert!(!answer.contains("kill 700"), "a unit's process is stopped through systemd: {answer}");
        assert!(answer.contains("pid 700 nginx user root [nginx.service]: /usr/sbin/nginx"), "{answer}");
    }

    #[test]
    fn hidden_owner_says_so() {
        let inventory = sample(Privilege::Unprivileged);
        let holding = who_holds(&inventory, 5432, Some(Protocol::Tcp));
        assert!(holding.has_hidden_owner());
        assert!(holding.stop_steps().is_empty());
        assert_eq!(
            text(&holding),
            "Port 5432/tcp held by:\n  tcp 0.0.0.0:5432 (network, postgresql)\n    owner not visible (socket created by uid 0)\n"
        );
        assert_eq!(
            holding.visibility_note().unwrap(),
            "the owner of a socket on port 5432/tcp is not visible to this user: run as root to see every process \
             holding the port"
        );
    }

    #[test]
    fn root_is_not_told_to_run_as_root() {
        let inventory = sample(Privilege::Root);
        let holding = who_holds(&inventory, 5432, None);
        let note = holding.visibility_note().unwrap();
        assert!(!note.contains("run as root"), "{note}");
        assert!(note.starts_with("no process visible from here holds a socket on port 5432 (tcp or udp): "), "{note}");
        assert!(note.contains("another PID namespace"), "{note}");
        assert!(note.contains("kernel"), "{note}");
        assert_eq!(who_holds(&inventory, 80, None).visibility_note(), None);
    }
}
