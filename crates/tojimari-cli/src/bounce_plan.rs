//! `-b [user[:password]@]server[:port]`: the FTP bounce scan's part of the plan, checked before anything is
//! sent (docs/bounce.md).
//!
//! The argument is parsed as nmap reads it ([`RelaySpec`]); a bad one is a one-line usage error. The server
//! name is resolved here, to an IPv4 address where it has one: the scan stops before it starts if the relay
//! cannot be found.

use std::net::{SocketAddr, ToSocketAddrs};

use tojimari_engine::bounce::RelaySpec;

use crate::args::ScanArgs;
use crate::plan::UsageError;

/// The relay of a bounce scan.
#[derive(Clone, Debug)]
pub struct BouncePlan {
    pub spec: RelaySpec,
    pub relay: SocketAddr,
}

const HINT: &str =
    "write -b [USER[:PASSWORD]@]SERVER[:PORT], for example -b 198.18.0.2 or -b bob:secret@ftp.example:2121";

/// The bounce plan of `args`, if `-b` was given.
pub fn bounce_plan(args: &ScanArgs) -> Result<Option<BouncePlan>, UsageError> {
    let Some(arg) = &args.bounce else {
        return Ok(None);
    };
    let spec = RelaySpec::parse(arg).map_err(|e| UsageError::new(e.0, HINT))?;
    for (on, option) in [
        (args.shard.is_some(), "--shard"),
        (args.workers, "--workers"),
        (args.checkpoint.is_some(), "--checkpoint"),
        (args.ipv6, "-6"),
    ] {
        if on {
            return Err(UsageError::new(
                format!("-b (FTP bounce) cannot be combined with {option}"),
                "the bounce scan runs whole, on IPv4 targets, through one FTP server",
            ));
        }
    }
    let relay = resolve(&spec).ok_or_else(|| {
        UsageError::new(
            format!("cannot resolve the FTP server \"{}\" of -b", spec.host),
            "give its address, or check the name",
        )
    })?;
    Ok(Some(BouncePlan { spec, relay }))
}

/// The server's address: the first IPv4 one, else the first.
fn resolve(spec: &RelaySpec) -> Option<SocketAddr> {
    let addrs: Vec<SocketAddr> = (spec.host.as_str(), spec.port).to_socket_addrs().ok()?.collect();
    addrs.iter().find(|a| a.is_ipv4()).or(addrs.first()).copied()
}
