//! The readable table of `tojimari local`.
//!
//! ```text
//! PROTO  ADDRESS:PORT    REACH    SERVICE     PID/PROGRAM       USER
//! tcp    0.0.0.0:80      network  http        812/nginx         root
//!                                             813/nginx         www-data
//! tcp    127.0.0.1:6379  local    redis       640/redis-server  redis
//! udp    [::]:5353       network  mdns        -                 (uid 108)
//!
//! Findings (1):
//!   [medium] database-exposed on 0.0.0.0:5432/tcp
//!     PostgreSQL port 5432/tcp bound to 0.0.0.0 (every IPv4 address) by postgres (pid 700)
//!     advice: Set listen_addresses = 'localhost' (or a private address) and firewall port 5432.
//! ```
//!
//! One row per socket; every further process sharing it (forked workers) gets a continuation row. A socket
//! with no visible owner shows `-` and the uid that created it. Columns are padded to their widest cell.
//! Why some owners are not visible ([`Inventory::visibility_note`]) is a message, not data: the command
//! writes it to stderr as a `note:`.

use std::io::{self, Write};

use crate::inventory::{Inventory, ListeningSocket, plural};

const HEADERS: [&str; 6] = ["PROTO", "ADDRESS:PORT", "REACH", "SERVICE", "PID/PROGRAM", "USER"];

/// Writes the table, then the findings.
pub fn write_table(inventory: &Inventory, w: &mut (impl Write + ?Sized)) -> io::Result<()> {
    if inventory.sockets.is_empty() {
        writeln!(w, "No listening sockets.")?;
    } else {
        let rows: Vec<[String; 6]> = inventory.sockets.iter().flat_map(rows_of).collect();
        let mut widths = HEADERS.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        write_row(w, &HEADERS.map(str::to_owned), &widths)?;
        for row in &rows {
            write_row(w, row, &widths)?;
        }
    }
    write_findings(inventory, w)
}

/// The findings block (nothing when there are none).
pub fn write_findings(inventory: &Inventory, w: &mut (impl Write + ?Sized)) -> io::Result<()> {
    let count = inventory.findings().count();
    if count == 0 {
        return Ok(());
    }
    writeln!(w)?;
    writeln!(w, "Finding{} ({count}):", plural(count))?;
    for (socket, finding) in inventory.findings() {
        writeln!(w, "  [{}] {} on {}/{}", finding.severity.as_str(), finding.id, socket.endpoint(), socket.proto)?;
        writeln!(w, "    {}", finding.evidence)?;
        writeln!(w, "    advice: {}", finding.advice)?;
    }
    Ok(())
}

fn rows_of(socket: &ListeningSocket) -> Vec<[String; 6]> {
    let first = [
        socket.proto.to_string(),
        socket.endpoint().to_string(),
        socket.reach.to_string(),
        socket.service.unwrap_or("-").to_owned(),
    ];
    if socket.processes.is_empty() {
        let [proto, endpoint, reach, service] = first;
        return vec![[proto, endpoint, reach, service, "-".to_owned(), format!("(uid {})", socket.socket_uid)]];
    }
    socket
        .processes
        .iter()
        .enumerate()
        .map(|(index, process)| {
            let [proto, endpoint, reach, service] = if index == 0 { first.clone() } else { Default::default() };
            [proto, endpoint, reach, service, format!("{}/{}", process.pid, process.name), process.user.clone()]
        })
        .collect()
}

fn write_row(w: &mut (impl Write + ?Sized), row: &[String; 6], widths: &[usize; 6]) -> io::Result<()> {
    let mut line = String::new();
    for (index, (cell, width)) in row.iter().zip(widths).enumerate() {
        if index + 1 == row.len() {
            line.push_str(cell);
        } else {
            line.push_str(&format!("{cell:<width$}  "));
        }
    }
    writeln!(w, "{}", line.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Privilege;
    use crate::inventory::tests::sample;

    #[test]
    fn table_snapshot() {
        let mut out = Vec::new();
        write_table(&sample(Privilege::Unprivileged), &mut out).unwrap();
        let expected = "\
PROTO  ADDRESS:PORT    REACH    SERVICE     PID/PROGRAM       USER
tcp    0.0.0.0:80      network  http        100/nginx         root
                                            101/nginx         root
                                            102/nginx         root
tcp    [::]:80         network  http        100/nginx         root
                                            101/nginx         root
                                            102/nginx         root
tcp    0.0.0.0:5432    network  postgresql  -                 (uid 0)
tcp    127.0.0.1:6379  local    redis       200/redis-server  root
udp    0.0.0.0:11211   network  memcache    300/memcached     root

Findings (2):
  [medium] database-exposed on 0.0.0.0:5432/tcp
    PostgreSQL port 5432/tcp bound to 0.0.0.0 (every IPv4 address) by a process that is not visible
    advice: Set listen_addresses = 'localhost' (or a private address) and firewall port 5432.
  [medium] database-exposed on 0.0.0.0:11211/udp
    memcached (UDP) port 11211/udp bound to 0.0.0.0 (every IPv4 address) by memcached (pid 300)
    advice: Start memcached with -U 0 -l 127.0.0.1: open UDP memcached is abused for DDoS amplification.
";
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn empty_inventory() {
        let inventory = Inventory { sockets: Vec::new(), privilege: Privilege::Root, unreadable_processes: 0 };
        let mut out = Vec::new();
        write_table(&inventory, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "No listening sockets.\n");
    }
}
