//! `-sL --shard I/N`: the probes one shard of a scan would send, listed, nothing sent. One line per host
//! that has a probe in the shard, in target order: the address, then its ports as `-p` would take them
//! (`T:22,80,U:53`), so that the shards' lists together are exactly the whole scan's probes.

use std::io::{self, Write};
use std::process::ExitCode;

use tojimari_core::ScanType;
use tojimari_core::portspec::PortSet;
use tojimari_core::sweep::{Selection, Shard};
use tojimari_engine::{Control, ScanTarget};

use crate::exit::Exit;
use crate::outputs::Opened;
use crate::plan::ScanPlan;
use crate::resolve::Targets;

/// Lists shard `shard`'s probes of `plan` to the normal outputs among `outputs` (standard output unless
/// `-oN` names a file). Ctrl-C stops the listing.
pub fn run(plan: &ScanPlan, shard: Shard, targets: &Targets, outputs: Vec<Opened>, control: &Control) -> ExitCode {
    let scans = crate::scan::raw_scans(plan);
    let space = crate::scan::space_of(&scans, plan);
    let selection = Selection { shard, range: 0..u64::MAX };
    let mut writers: Vec<Box<dyn Write + Send>> =
        outputs.into_iter().filter(|o| o.format == tojimari_output::Format::Normal).map(|o| o.writer).collect();
    let seed = space.seed().map(|s| format!(" --seed {s}")).unwrap_or_else(|| " -r".to_string());
    let mut write = |line: &str| -> io::Result<()> {
        for w in writers.iter_mut() {
            w.write_all(line.as_bytes())?;
        }
        Ok(())
    };
    let mut result = write(&format!("# the probes of shard {shard}{seed}: address, then its ports as -p takes them\n"));
    let mut stream = targets.iter();
    let group = space.group_hosts() as usize;
    for g in 0u64.. {
        if result.is_err() || control.is_cancelled() {
            break;
        }
        let batch: Vec<ScanTarget> = stream.by_ref().take(group).collect();
        if batch.is_empty() {
            break;
        }
        let mut per_host: Vec<Vec<Vec<u16>>> = vec![vec![Vec::new(); scans.len()]; batch.len()];
        for (t, picks) in space.picks(&selection, g, batch.len() as u64).iter().enumerate() {
            let ports = scans[t].1.as_slice();
            for &r in picks {
                let (h, p) = (r as usize / ports.len(), r as usize % ports.len());
                per_host[h][t].push(ports[p]);
            }
        }
        for (target, mut lists) in batch.iter().zip(per_host) {
            if lists.iter().all(Vec::is_empty) {
                continue;
            }
            let spec = port_spec(&scans, &mut lists);
            if let Err(e) = write(&format!("{} {spec}\n", target.addr)) {
                result = Err(e);
                break;
            }
        }
    }
    for w in writers.iter_mut() {
        result = result.and_then(|()| w.flush());
    }
    match result {
        Ok(()) if control.is_cancelled() => ExitCode::from(Exit::Failure),
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            crate::messages::error(format_args!("writing results failed: {}", crate::outputs::describe(&e)));
            ExitCode::from(Exit::Failure)
        }
    }
}

/// `T:22,80,U:53`: each technique's ports, sorted, with its protocol letter.
fn port_spec(scans: &[(ScanType, PortSet)], lists: &mut [Vec<u16>]) -> String {
    let mut parts = Vec::new();
    for ((technique, _), list) in scans.iter().zip(lists.iter_mut()) {
        if list.is_empty() {
            continue;
        }
        list.sort_unstable();
        let letter = if technique.is_udp() { "U" } else { "T" };
        let ports: Vec<String> = list.iter().map(u16::to_string).collect();
        parts.push(format!("{letter}:{}", ports.join(",")));
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_listed_per_protocol_in_order() {
        let scans = vec![(ScanType::Syn, PortSet::default()), (ScanType::Udp, PortSet::default())];
        assert_eq!(port_spec(&scans, &mut [vec![80, 22], vec![53]]), "T:22,80,U:53");
        assert_eq!(port_spec(&scans, &mut [vec![], vec![161, 53]]), "U:53,161");
    }
}
