//! `tojimari local -oJ`: JSON Lines, one object per socket and a final summary object.
//!
//! # Format
//!
//! Every line is one JSON object with a `type`. Key order is not significant.
//!
//! A socket (`"type": "socket"`), one per listening TCP socket or bound UDP socket:
//!
//! | key | value |
//! |---|---|
//! | `proto` | `"tcp"` or `"udp"` |
//! | `addr` | the bound address, `"0.0.0.0"`, `"::"`, `"127.0.0.1"`, `"fe80::1"` (no brackets, no scope) |
//! | `port` | number |
//! | `reach` | `"network"` (a wildcard or routable address), `"link-local"`, or `"local"` (loopback only) |
//! | `service` | the services table's name for the port, or `null` |
//! | `processes` | `[{"pid": n, "name": s, "user": s, "cmdline": s}]`, every process holding the socket, by pid; `[]` when none is visible. `name` is the short name (`comm`), `user` the effective user's name (or the uid in decimal), `cmdline` the arguments joined by spaces |
//! | `findings` | `[{"id": s, "severity": s, "evidence": s, "advice": s}]`; severity is `info`, `low`, `medium`, `high` or `critical` |
//!
//! ```json
//! {"type":"socket","proto":"tcp","addr":"0.0.0.0","port":5432,"reach":"network","service":"postgresql","processes":[{"pid":700,"name":"postgres","user":"postgres","cmdline":"/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main"}],"findings":[{"id":"database-exposed","severity":"medium","evidence":"PostgreSQL port 5432/tcp bound to 0.0.0.0 (every IPv4 address) by postgres (pid 700)","advice":"Set listen_addresses = 'localhost' (or a private address) and firewall port 5432."}]}
//! ```
//!
//! The summary (`"type": "summary"`), always last: `sockets`, `tcp`, `udp` (counts), `network`, `link_local`,
//! `local` (counts by reach), `findings` (count), `unowned` (sockets with no visible owner),
//! `unreadable_processes`, `root` (boolean: whether we ran as root), and `note`: the "could not see" sentence,
//! or `null` when everything was visible.

use std::io::{self, Write};

use serde_json::{Value, json};
use tojimari_core::Protocol;

use crate::inventory::{Inventory, ListeningSocket, Privilege};
use crate::reach::Reach;

/// Writes one line per socket, then the summary line.
pub fn write_jsonl(inventory: &Inventory, w: &mut (impl Write + ?Sized)) -> io::Result<()> {
    for socket in &inventory.sockets {
        writeln!(w, "{}", socket_object(socket))?;
    }
    writeln!(w, "{}", summary_object(inventory))
}

/// The JSON object of one socket.
pub fn socket_object(socket: &ListeningSocket) -> Value {
    let processes: Vec<Value> = socket
        .processes
        .iter()
        .map(|process| json!({"pid": process.pid, "name": process.name, "user": process.user, "cmdline": process.cmdline}))
        .collect();
    let findings: Vec<Value> = socket
        .findings
        .iter()
        .map(|finding| {
            json!({
                "id": finding.id,
                "severity": finding.severity.as_str(),
                "evidence": finding.evidence,
                "advice": finding.advice,
            })
        })
        .collect();
    json!({
        "type": "socket",
        "proto": socket.proto.as_str(),
        "addr": socket.addr.to_string(),
        "port": socket.port,
        "reach": socket.reach.as_str(),
        "service": socket.service,
        "processes": processes,
        "findings": findings,
    })
}

/// The final summary object.
pub fn summary_object(inventory: &Inventory) -> Value {
    let count = |keep: &dyn Fn(&ListeningSocket) -> bool| inventory.sockets.iter().filter(|s| keep(s)).count();
    json!({
        "type": "summary",
        "sockets": inventory.sockets.len(),
        "tcp": count(&|s| s.proto == Protocol::Tcp),
        "udp": count(&|s| s.proto == Protocol::Udp),
        "network": count(&|s| s.reach == Reach::Network),
        "link_local": count(&|s| s.reach == Reach::LinkLocal),
        "local": count(&|s| s.reach == Reach::Local),
        "findings": inventory.findings().count(),
        "unowned": inventory.unowned(),
        "unreadable_processes": inventory.unreadable_processes,
        "root": inventory.privilege == Privilege::Root,
        "note": inventory.visibility_note(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::tests::sample;

    fn lines(inventory: &Inventory) -> Vec<Value> {
        let mut out = Vec::new();
        write_jsonl(inventory, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
    }

    #[test]
    fn socket_lines_have_the_documented_keys() {
        let objects = lines(&sample(Privilege::Root));
        assert_eq!(objects.len(), 6);
        let http = &objects[0];
        let mut keys: Vec<&str> = http.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["addr", "findings", "port", "processes", "proto", "reach", "service", "type"]);
        assert_eq!(http["type"], "socket");
        assert_eq!(http["proto"], "tcp");
        assert_eq!(http["addr"], "0.0.0.0");
        assert_eq!(http["port"], 80);
        assert_eq!(http["reach"], "network");
        assert_eq!(http["service"], "http");
        assert_eq!(
            http["processes"][0],
            json!({"pid": 100, "name": "nginx", "user": "root", "cmdline": "/usr/sbin/nginx"})
        );
        assert_eq!(http["processes"].as_array().unwrap().len(), 3);
        assert_eq!(objects[1]["addr"], "::");

        let postgres = &objects[2];
        assert_eq!(postgres["processes"], json!([]));
        assert_eq!(postgres["findings"][0]["id"], "database-exposed");
        assert_eq!(postgres["findings"][0]["severity"], "medium"); // the catalogue's (was "high" before it)
        assert!(postgres["findings"][0]["advice"].as_str().unwrap().contains("listen_addresses"));
        assert_eq!(objects[3]["reach"], "local");
        assert_eq!(objects[4]["proto"], "udp");
    }

    #[test]
    fn summary_is_last_and_counts() {
        let objects = lines(&sample(Privilege::Unprivileged));
        let summary = objects.last().unwrap();
        assert_eq!(summary["type"], "summary");
        assert_eq!(summary["sockets"], 5);
        assert_eq!(summary["tcp"], 4);
        assert_eq!(summary["udp"], 1);
        assert_eq!(summary["network"], 4);
        assert_eq!(summary["local"], 1);
        assert_eq!(summary["link_local"], 0);
        assert_eq!(summary["findings"], 2);
        assert_eq!(summary["unowned"], 1);
        assert_eq!(summary["root"], false);
        assert!(summary["note"].as_str().unwrap().contains("run as root to see every owner"));
    }

    #[test]
    fn hostile_names_stay_on_one_line() {
        let mut inventory = sample(Privilege::Root);
        inventory.sockets[0].processes[0].cmdline = "a\"b\\c\u{7}".into();
        let mut out = Vec::new();
        write_jsonl(&inventory, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 6);
        let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["processes"][0]["cmdline"], "a\"b\\c\u{7}");
    }
}
