//! The inventory: every listening socket with its owners, reach, service name and findings, and the pure
//! join that builds it from socket records and the sockets each process holds.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use tojimari_core::report::Finding;
use tojimari_core::{Protocol, services};

use crate::exposure::findings_for;
use crate::proc_net::SocketRecord;
use crate::process::ProcessInfo;
use crate::reach::Reach;

/// One listening TCP socket or bound UDP socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListeningSocket {
    pub proto: Protocol,
    pub addr: IpAddr,
    pub port: u16,
    pub reach: Reach,
    /// The services table's name for the port (IANA's, or tojimari's override), if any.
    pub service: Option<&'static str>,
    pub inode: u64,
    /// The uid that created the socket (from the socket table, so known even when no owner is visible).
    pub socket_uid: u32,
    /// Every process with the socket open, by pid; empty when none is visible to us.
    pub processes: Vec<ProcessInfo>,
    pub findings: Vec<Finding>,
}

impl ListeningSocket {
    /// `0.0.0.0:80`, `[::]:80`.
    pub fn endpoint(&self) -> SocketAddr {
        SocketAddr::new(self.addr, self.port)
    }
}

/// Whether the inventory was taken with root's view of every process.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Privilege {
    Root,
    /// Not root: other users' processes hide their file descriptors, so their sockets show no owner.
    Unprivileged,
}

/// A process and the socket inodes among its file descriptors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessSockets {
    pub process: ProcessInfo,
    pub inodes: Vec<u64>,
}

/// Everything `tojimari local` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inventory {
    /// Sorted by protocol, port, then address.
    pub sockets: Vec<ListeningSocket>,
    pub privilege: Privilege,
    /// Processes whose file descriptors we could not read (permission denied).
    pub unreadable_processes: usize,
}

impl Inventory {
    /// Joins socket records (already filtered to listening ones) with the processes that hold them.
    /// Several processes may hold one inode (forked workers): each is listed, sorted by pid.
    pub fn assemble(
        records: Vec<SocketRecord>,
        holders: &[ProcessSockets],
        privilege: Privilege,
        unreadable_processes: usize,
    ) -> Inventory {
        let mut by_inode: HashMap<u64, Vec<&ProcessInfo>> = HashMap::new();
        for holder in holders {
            for &inode in &holder.inodes {
                let owners = by_inode.entry(inode).or_default();
                // A process that has the socket on several descriptors is one owner.
                if !owners.iter().any(|owner| owner.pid == holder.process.pid) {
                    owners.push(&holder.process);
                }
            }
        }
        let mut sockets: Vec<ListeningSocket> = records
            .into_iter()
            .map(|record| {
                let mut processes: Vec<ProcessInfo> = by_inode
                    .get(&record.inode)
                    .map(|owners| owners.iter().map(|p| (*p).clone()).collect())
                    .unwrap_or_default();
                processes.sort_by_key(|process| process.pid);
                ListeningSocket {
                    proto: record.proto,
                    addr: record.addr,
                    port: record.port,
                    reach: Reach::of(record.addr),
                    service: services::lookup(record.proto, record.port).map(|entry| entry.name),
                    inode: record.inode,
                    socket_uid: record.uid,
                    findings: findings_for(record.proto, record.addr, record.port, &processes),
                    processes,
                }
            })
            .collect();
        sockets.sort_by(|a, b| {
            (proto_rank(a.proto), a.port, a.addr, a.inode).cmp(&(proto_rank(b.proto), b.port, b.addr, b.inode))
        });
        Inventory { sockets, privilege, unreadable_processes }
    }

    /// How many sockets have no visible owner.
    pub fn unowned(&self) -> usize {
        self.sockets.iter().filter(|socket| socket.processes.is_empty()).count()
    }

    /// The "could not see" note, when there is something we could not see: `None` when every socket has an
    /// owner and every process could be read.
    pub fn visibility_note(&self) -> Option<String> {
        let unowned = self.unowned();
        if unowned == 0 && self.unreadable_processes == 0 {
            return None;
        }
        let mut note = format!("{unowned} socket{} had no visible owner", plural(unowned));
        if self.unreadable_processes > 0 {
            note.push_str(&format!(
                "; {} process{} could not be inspected",
                self.unreadable_processes,
                if self.unreadable_processes == 1 { "" } else { "es" }
            ));
        }
        match self.privilege {
            Privilege::Unprivileged => note.push_str(" (not running as root: run as root to see every owner)"),
            Privilege::Root => {
                if unowned > 0 {
                    note.push_str(" (held by the kernel, or by processes in another PID namespace)");
                }
            }
        }
        Some(note)
    }

    /// All findings, in socket order, with the socket each belongs to.
    pub fn findings(&self) -> impl Iterator<Item = (&ListeningSocket, &Finding)> {
        self.sockets.iter().flat_map(|socket| socket.findings.iter().map(move |finding| (socket, finding)))
    }
}

fn proto_rank(proto: Protocol) -> u8 {
    match proto {
        Protocol::Tcp => 0,
        Protocol::Udp => 1,
        Protocol::Sctp => 2,
        Protocol::Ip => 3,
    }
}

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::proc_net::{STATE_LISTEN, STATE_UNCONNECTED};

    pub(crate) fn record(proto: Protocol, addr: &str, port: u16, inode: u64) -> SocketRecord {
        let state = if proto == Protocol::Tcp { STATE_LISTEN } else { STATE_UNCONNECTED };
        SocketRecord { proto, addr: addr.parse().unwrap(), port, state, uid: 0, inode }
    }

    pub(crate) fn process(pid: u32, ppid: u32, name: &str) -> ProcessInfo {
        ProcessInfo {
            pid,
            ppid,
            name: name.into(),
            cmdline: format!("/usr/sbin/{name}"),
            uid: 0,
            user: "root".into(),
            unit: None,
            start_time: u64::from(pid) * 10,
        }
    }

    /// nginx master 100 with workers 101 and 102 sharing two sockets, redis on loopback, one socket nobody
    /// visible holds, a UDP memcached.
    pub(crate) fn sample(privilege: Privilege) -> Inventory {
        let records = vec![
            record(Protocol::Udp, "0.0.0.0", 11211, 50),
            record(Protocol::Tcp, "::", 80, 11),
            record(Protocol::Tcp, "0.0.0.0", 80, 10),
            record(Protocol::Tcp, "127.0.0.1", 6379, 20),
            record(Protocol::Tcp, "0.0.0.0", 5432, 30),
        ];
        let holders = vec![
            ProcessSockets { process: process(102, 100, "nginx"), inodes: vec![10, 11] },
            ProcessSockets { process: process(100, 1, "nginx"), inodes: vec![10, 11, 10] },
            ProcessSockets { process: process(101, 100, "nginx"), inodes: vec![11, 10, 999] },
            ProcessSockets { process: process(200, 1, "redis-server"), inodes: vec![20] },
            ProcessSockets { process: process(300, 1, "memcached"), inodes: vec![50, 51] },
        ];
        Inventory::assemble(records, &holders, privilege, 0)
    }

    #[test]
    fn join_lists_every_owner_once_sorted() {
        let inventory = sample(Privilege::Root);
        let order: Vec<(Protocol, u16, String)> =
            inventory.sockets.iter().map(|s| (s.proto, s.port, s.addr.to_string())).collect();
        assert_eq!(
            order,
            [
                (Protocol::Tcp, 80, "0.0.0.0".to_owned()),
                (Protocol::Tcp, 80, "::".to_owned()),
                (Protocol::Tcp, 5432, "0.0.0.0".to_owned()),
                (Protocol::Tcp, 6379, "127.0.0.1".to_owned()),
                (Protocol::Udp, 11211, "0.0.0.0".to_owned()),
            ]
        );
        for http in &inventory.sockets[..2] {
            let pids: Vec<u32> = http.processes.iter().map(|p| p.pid).collect();
            assert_eq!(pids, [100, 101, 102]);
            assert_eq!(http.service, Some("http"));
            assert!(http.findings.is_empty());
        }
        assert_eq!(inventory.sockets[3].processes[0].name, "redis-server");
        assert_eq!(inventory.sockets[3].reach, Reach::Local);
        assert!(inventory.sockets[3].findings.is_empty(), "redis on loopback is not exposed");
        assert_eq!(inventory.sockets[4].processes[0].pid, 300);
        assert_eq!(inventory.sockets[4].findings[0].id, "database-exposed");
    }

    #[test]
    fn sockets_without_visible_owner_are_kept_and_counted() {
        let root = sample(Privilege::Root);
        let postgres = &root.sockets[2];
        assert_eq!(postgres.port, 5432);
        assert!(postgres.processes.is_empty());
        assert_eq!(postgres.findings[0].id, "database-exposed");
        assert!(postgres.findings[0].evidence.ends_with("by a process that is not visible"));
        assert_eq!(root.unowned(), 1);
        let note = root.visibility_note().unwrap();
        assert!(note.starts_with("1 socket had no visible owner"), "{note}");
        assert!(!note.contains("run as root"), "{note}");

        let mut user = sample(Privilege::Unprivileged);
        user.unreadable_processes = 7;
        let note = user.visibility_note().unwrap();
        assert_eq!(
            note,
            "1 socket had no visible owner; 7 processes could not be inspected \
             (not running as root: run as root to see every owner)"
        );
    }

    #[test]
    fn no_note_when_everything_is_visible() {
        let inventory = Inventory::assemble(
            vec![record(Protocol::Tcp, "127.0.0.1", 8080, 1)],
            &[ProcessSockets { process: process(5, 1, "python3"), inodes: vec![1] }],
            Privilege::Unprivileged,
            0,
        );
        assert_eq!(inventory.unowned(), 0);
        assert_eq!(inventory.visibility_note(), None);
        assert_eq!(inventory.sockets[0].endpoint().to_string(), "127.0.0.1:8080");
    }
}
