//! The I/O edge: reading the socket tables and walking `/proc/PID/fd` to take an [`Inventory`].
//!
//! Socket tables are read from `/proc/thread-self/net`, not `/proc/net`: `/proc/net` follows the network
//! namespace of the process's main thread, while a thread that `setns(2)`-ed into another namespace (as the
//! tests do) must see its own. Processes come from the whole `/proc`, since socket inodes are unique across
//! namespaces; as `ss -p` does, a socket is joined with every process that has a `socket:[INODE]` descriptor.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use procfs::ProcError;
use procfs::process::{FDTarget, Process};
use tojimari_core::Protocol;

use crate::error::LocalError;
use crate::inventory::{Inventory, Privilege, ProcessSockets};
use crate::proc_net::{Family, SocketRecord, parse_table};
use crate::process::{ProcessInfo, parse_cgroup_unit, parse_cmdline, sanitize};
use crate::users::Users;

/// Which protocols to list (`--tcp`, `--udp`, or both).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Protocols {
    #[default]
    Both,
    Tcp,
    Udp,
}

impl Protocols {
    pub fn includes(self, proto: Protocol) -> bool {
        match self {
            Protocols::Both => true,
            Protocols::Tcp => proto == Protocol::Tcp,
            Protocols::Udp => proto == Protocol::Udp,
        }
    }
}

/// Where to read from and what to list. [`LocalOptions::default`] reads this machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalOptions {
    pub protocols: Protocols,
    /// The proc file system (`/proc`).
    pub proc_root: PathBuf,
    /// The directory holding `tcp`, `tcp6`, `udp`, `udp6` (`/proc/thread-self/net`, or `/proc/net` on kernels
    /// older than 3.17).
    pub net_dir: PathBuf,
    /// The passwd file for user names (`/etc/passwd`); a missing one only means numeric users.
    pub passwd: PathBuf,
}

impl Default for LocalOptions {
    fn default() -> Self {
        let thread_net = PathBuf::from("/proc/thread-self/net");
        let net_dir = if thread_net.exists() { thread_net } else { PathBuf::from("/proc/net") };
        LocalOptions {
            protocols: Protocols::Both,
            proc_root: PathBuf::from("/proc"),
            net_dir,
            passwd: PathBuf::from("/etc/passwd"),
        }
    }
}

/// Takes the inventory: every listening TCP socket and bound UDP socket of the calling thread's network
/// namespace, IPv4 and IPv6, with every visible process that holds it.
pub fn listening_sockets(opts: &LocalOptions) -> Result<Inventory, LocalError> {
    let records = read_socket_tables(&opts.net_dir, opts.protocols)?;
    let wanted: HashSet<u64> = records.iter().map(|record| record.inode).collect();
    let users = match fs::read_to_string(&opts.passwd) {
        Ok(text) => Users::parse(&text),
        Err(_) => Users::default(),
    };
    let (holders, unreadable) = read_holders(&opts.proc_root, &wanted, &users)?;
    let privilege = privilege(&opts.proc_root);
    Ok(Inventory::assemble(records, &holders, privilege, unreadable))
}

/// The listening sockets of the wanted protocols. A missing IPv6 table (IPv6 disabled) is an empty one.
fn read_socket_tables(net_dir: &Path, protocols: Protocols) -> Result<Vec<SocketRecord>, LocalError> {
    let tables = [
        ("tcp", Protocol::Tcp, Family::V4),
        ("tcp6", Protocol::Tcp, Family::V6),
        ("udp", Protocol::Udp, Family::V4),
        ("udp6", Protocol::Udp, Family::V6),
    ];
    let mut records = Vec::new();
    for (file, proto, family) in tables {
        if !protocols.includes(proto) {
            continue;
        }
        match read_table(&net_dir.join(file), proto, family) {
            Ok(table) => records.extend(table),
            Err(LocalError::Read { source, .. })
                if source.kind() == io::ErrorKind::NotFound && family == Family::V6 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(records)
}

/// Reads of one table made until two in a row agree.
const READ_ATTEMPTS: usize = 5;

/// One table's listening sockets, read consistently. The kernel writes a `/proc/net` table in pieces, one
/// `read` at a time, resuming by line number: a socket opened or closed between two pieces shifts the
/// lines, so another socket can be listed twice or not at all (seen in the test bed while daemons start).
/// So the table is read until two reads in a row list the same sockets (at most [`READ_ATTEMPTS`] times),
/// and a socket listed twice is kept once.
fn read_table(path: &Path, proto: Protocol, family: Family) -> Result<Vec<SocketRecord>, LocalError> {
    let mut previous: Option<Vec<SocketRecord>> = None;
    for _ in 0..READ_ATTEMPTS {
        let text = fs::read_to_string(path).map_err(|source| LocalError::Read { path: path.to_owned(), source })?;
        let mut table: Vec<SocketRecord> = parse_table(&text, proto, family)
            .map_err(|(line, source)| LocalError::Parse { path: path.to_owned(), line, source })?
            .into_iter()
            .filter(SocketRecord::is_listening)
            .collect();
        table.sort_by_key(|record| (record.inode, record.port));
        table.dedup();
        if previous.as_ref() == Some(&table) {
            return Ok(table);
        }
        previous = Some(table);
    }
    Ok(previous.unwrap_or_default())
}

/// Every process holding one of the `wanted` inodes, and how many processes hid their descriptors.
fn read_holders(
    proc_root: &Path,
    wanted: &HashSet<u64>,
    users: &Users,
) -> Result<(Vec<ProcessSockets>, usize), LocalError> {
    let processes = procfs::process::all_processes_with_root(proc_root)
        .map_err(|source| LocalError::Processes { path: proc_root.to_owned(), source })?;
    let mut holders = Vec::new();
    let mut unreadable = 0;
    for process in processes {
        // A process that exited between the directory listing and now is simply gone.
        let Ok(process) = process else { continue };
        let fds = match process.fd() {
            Ok(fds) => fds,
            Err(ProcError::PermissionDenied(_)) => {
                unreadable += 1;
                continue;
            }
            Err(_) => continue,
        };
        let inodes: Vec<u64> = fds
            .filter_map(|fd| match fd.ok()?.target {
                FDTarget::Socket(inode) if wanted.contains(&inode) => Some(inode),
                _ => None,
            })
            .collect();
        if inodes.is_empty() {
            continue;
        }
        if let Some(info) = describe(proc_root, &process, users) {
            holders.push(ProcessSockets { process: info, inodes });
        }
    }
    Ok((holders, unreadable))
}

/// Name, parent, user, command line and unit of a process; `None` if it exited meanwhile.
fn describe(proc_root: &Path, process: &Process, users: &Users) -> Option<ProcessInfo> {
    let pid = u32::try_from(process.pid()).ok()?;
    let status = process.status().ok()?;
    let start_time = process.stat().ok()?.starttime;
    let dir = proc_root.join(pid.to_string());
    let cmdline = fs::read(dir.join("cmdline")).map(|raw| parse_cmdline(&raw)).unwrap_or_default();
    let unit = fs::read_to_string(dir.join("cgroup")).ok().and_then(|text| parse_cgroup_unit(&text));
    Some(ProcessInfo {
        pid,
        ppid: u32::try_from(status.ppid).unwrap_or(0),
        name: sanitize(&status.name),
        cmdline,
        uid: status.euid,
        user: users.name(status.euid),
        unit,
        start_time,
    })
}

/// Root when our effective uid is 0; unprivileged otherwise, or when that cannot be read.
fn privilege(proc_root: &Path) -> Privilege {
    match Process::new_with_root(proc_root.join("self")).and_then(|me| me.status()) {
        Ok(status) if status.euid == 0 => Privilege::Root,
        _ => Privilege::Unprivileged,
    }
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;

    /// Regression (test bed, while daemons started): a table read in pieces listed 5432 twice and left
    /// out 198.18.0.2:8080. A socket listed twice is kept once.
    #[test]
    fn a_socket_listed_twice_is_kept_once() {
        let dir = std::env::temp_dir().join(format!("tojimari-local-table-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tcp");
        let header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";
        let postgres = "00000000:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   105        0 4242 1 0 100 0 0 10 0";
        let redis = "0100007F:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000   116        0 23456 1 0 100 0 0 10 0";
        fs::write(&path, format!("{header}\n   0: {postgres}\n   1: {redis}\n   2: {postgres}\n")).unwrap();
        let table = read_table(&path, Protocol::Tcp, Family::V4).unwrap();
        fs::remove_dir_all(&dir).unwrap();
        let ports: Vec<u16> = table.iter().map(|record| record.port).collect();
        assert_eq!(ports, [5432, 6379]);
    }
}
