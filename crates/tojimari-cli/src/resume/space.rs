//! The digest of what decides a scan's probe space: its targets in order after the excludes (host names as
//! they resolved), its ports per protocol, its techniques, its seed and its shard. A checkpoint carries it,
//! and a resumed scan must digest to the same value, so that "group 7" means the same probes in both runs:
//! an `-iL` or `--excludefile` file that changed, or a name that now resolves elsewhere, is caught.

use ring::digest::{Context, SHA256};

use crate::plan::ScanPlan;
use crate::resolve::Targets;
use crate::resume::checkpoint::hex;

/// The probe-space digest of `plan` over `targets`, with the scan's `seed` (`None` for `-r`), in hex.
/// Reads every target address once (a /16 in a few milliseconds).
pub fn digest(plan: &ScanPlan, targets: &Targets, seed: Option<u64>) -> String {
    let mut ctx = Context::new(&SHA256);
    let mut put = |field: &str, value: &str| {
        ctx.update(field.as_bytes());
        ctx.update(b"=");
        ctx.update(value.as_bytes());
        ctx.update(b"\n");
    };
    put("tcp", &plan.ports.tcp.to_ranges());
    put("udp", &plan.ports.udp.to_ranges());
    put("tcp-technique", plan.techniques.tcp.map(|t| t.xml_name()).unwrap_or("none"));
    put("udp-technique", if plan.techniques.udp { "udp" } else { "none" });
    put("ping-only", if plan.ping_only { "yes" } else { "no" });
    put("seed", &seed.map_or_else(|| "in-order".to_string(), |s| s.to_string()));
    put("shard", &plan.shard.unwrap_or_default().to_string());
    for target in targets.iter() {
        put("host", &target.addr.to_string());
    }
    hex(ctx.finish().as_ref())
}
