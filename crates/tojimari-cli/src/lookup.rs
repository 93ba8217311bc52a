//! `tojimari ports`: what the services table says about ports and service names.

use std::io::Write;

use tojimari_core::Protocol;
use tojimari_core::portspec::parse_port_list;
use tojimari_core::services::{self, PortClass};

use crate::plan::UsageError;

/// Prints one line per (port, protocol): port/proto, class, service name and description.
pub fn run(items: &[String], out: &mut dyn Write) -> Result<std::io::Result<()>, UsageError> {
    let mut rows = Vec::new();
    for item in items {
        let spec = parse_port_list(item).map_err(|e| UsageError::new(e.to_string(), e.hint()))?;
        for (proto, set) in [(Protocol::Tcp, &spec.tcp), (Protocol::Udp, &spec.udp)] {
            if set.len() > 4096 {
                return Err(UsageError::new(
                    format!("\"{item}\" names {} ports; that is too many to list", set.len()),
                    "ask about fewer ports, e.g. tojimari ports 8080 or 1-1024",
                ));
            }
            for &port in set.as_slice() {
                rows.push((port, proto));
            }
        }
    }
    rows.sort();
    rows.dedup();
    Ok(print(&rows, out))
}

fn print(rows: &[(u16, Protocol)], out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{:<12} {:<11} {:<18} DESCRIPTION", "PORT", "CLASS", "SERVICE")?;
    for &(port, proto) in rows {
        let class = PortClass::of(port);
        let (name, desc) = match services::lookup(proto, port) {
            Some(e) => (e.name, e.description),
            None => ("unknown", "not assigned in the IANA registry"),
        };
        let (lo, hi) = class.range();
        writeln!(
            out,
            "{:<12} {:<11} {:<18} {desc} [{} range {lo}-{hi}]",
            format!("{port}/{proto}"),
            class.as_str(),
            name,
            class.as_str()
        )?;
    }
    Ok(())
}
