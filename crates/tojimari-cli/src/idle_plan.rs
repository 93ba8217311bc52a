//! `-sI zombie[:probeport]`: the zombie named on the command line, resolved to its IPv4 address, and the
//! options an idle scan cannot be combined with.

use std::net::{IpAddr, Ipv4Addr, ToSocketAddrs};

use tojimari_engine::idle::DEFAULT_PROBE_PORT;

use crate::args::ScanArgs;
use crate::plan::UsageError;

/// The zombie of an idle scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdlePlan {
    /// Its IPv4 address.
    pub zombie: Ipv4Addr,
    /// The port our probes go to (nmap's default 80).
    pub probe_port: u16,
}

const HINT: &str =
    "name the zombie as -sI HOST or -sI HOST:PORT (an IPv4 host; PORT is where its probes go, 80 by default)";

/// Reads `-sI`'s value: `host`, `host:port`, `[v4]:port`. A name is resolved to its first IPv4 address.
pub fn parse(spec: &str) -> Result<IdlePlan, UsageError> {
    let spec = spec.trim();
    let (host, port) = match spec.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') || h.starts_with('[') => {
            let port = p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| UsageError::new(format!("-sI {spec}: \"{p}\" is not a port number"), HINT))?;
            (h.trim_start_matches('[').trim_end_matches(']'), port)
        }
        _ => (spec, DEFAULT_PROBE_PORT),
    };
    if host.is_empty() {
        return Err(UsageError::new("-sI needs a zombie host", HINT));
    }
    let zombie = match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4,
        Ok(IpAddr::V6(_)) => {
            return Err(UsageError::new(
                format!("-sI {spec}: the idle scan reads IPv4 IP IDs; {host} is an IPv6 address"),
                HINT,
            ));
        }
        Err(_) => (host, port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| {
                addrs.find_map(|a| match a.ip() {
                    IpAddr::V4(v4) => Some(v4),
                    IpAddr::V6(_) => None,
                })
            })
            .ok_or_else(|| {
                UsageError::new(format!("-sI: cannot resolve the zombie {host} to an IPv4 address"), HINT)
            })?,
    };
    Ok(IdlePlan { zombie, probe_port: port })
}

/// Options an idle scan refuses: the others read answers sent to our own address, which the idle scan
/// never gets from the target.
pub fn conflicts(args: &ScanArgs) -> Result<(), UsageError> {
    let clash = [
        (args.udp, "-sU"),
        (args.os_detect, "-O"),
        (args.shard.is_some(), "--shard"),
        (args.checkpoint.is_some(), "--checkpoint"),
        (args.workers, "--workers"),
    ]
    .into_iter()
    .find_map(|(on, name)| on.then_some(name));
    match clash {
        Some(name) => Err(UsageError::new(
            format!("-sI cannot be combined with {name} yet"),
            "run the idle scan alone, and the other as a scan of its own",
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zombie_specs() {
        let v4 = Ipv4Addr::new(198, 18, 0, 200);
        assert_eq!(parse("198.18.0.200").unwrap(), IdlePlan { zombie: v4, probe_port: 80 });
        assert_eq!(parse("198.18.0.200:443").unwrap(), IdlePlan { zombie: v4, probe_port: 443 });
        assert_eq!(parse("[198.18.0.200]:22").unwrap(), IdlePlan { zombie: v4, probe_port: 22 });
        assert!(parse("198.18.0.200:x").is_err());
        assert!(parse("198.18.0.200:0").is_err());
        assert!(parse("2001:db8::1").is_err(), "IPv6");
        assert!(parse("").is_err());
    }
}
