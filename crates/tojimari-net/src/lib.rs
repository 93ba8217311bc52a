//! tojimari-net: the I/O edge of the raw-packet engine, and the only crate with `unsafe`.
//!
//! - [`route_to`], [`routes`], [`interfaces`], [`interface_by_name`]: the routing table and interfaces,
//!   read over rtnetlink (a small client of our own in `netlink.rs`).
//! - [`next_hop_mac`]: the neighbour table, resolving a missing entry by making the kernel
//!   send ARP/NDP.
//! - [`Filter`]: classic BPF programs that keep only possible replies.
//! - [`PacketSocket`]: an AF_PACKET socket with a TPACKET_V3 receive ring; [`PacketSender`]
//!   sends batches of complete Ethernet frames with `sendmmsg`.
//! - [`FrameSender`]: one sending thread's sender, a TPACKET_V2 transmit ring (frames built in place,
//!   one `send` per batch) where the kernel grants it, [`PacketSender`]'s `sendmmsg` where it does not;
//!   [`SendMethod`] says which and why.
//! - [`TapDevice`]: a TAP interface whose Ethernet frames a userspace responder reads and writes (the test
//!   bed's stack personas).
//!
//! Everything that opens a packet socket needs CAP_NET_RAW ([`raw_allowed`] says whether we
//! have it); route, interface and neighbour lookups need no privilege.
//!
//! ## Send rate
//! On veth the sending thread also pays for the target's and our own receive processing (the peer's
//! softirq runs on the sender's CPU), so the rates are whole-bed rates, and the bed's limit is what a
//! sender can reach. `tojimari-bench limit` measures it in every run: netsniff-ng's trafgen (its own
//! TX ring on both CPUs, sending only) beside tojimari's SYN scan (two [`FrameSender`]s, and the receive
//! ring validating every answer). On 2026-12-06 (2 cores, bed with a bridge, medians of 5 runs,
//! `docs/benchmarks/2026-12-06-issue11.txt`):
//!
//! | sender                                   | SYNs/s sent | share of trafgen | answered | ring drops |
//! |------------------------------------------|-------------|------------------|----------|------------|
//! | trafgen, TX ring, 2 CPUs                 | ~284,000    | -                | 100%     | -          |
//! | tojimari, 2 x [`FrameSender`] (tx-ring)  | ~262,000    | 92%              | 100%     | 0          |
//! | tojimari before issue 11 (`sendmmsg`)    | ~229,000    | 81%              | 100%     | -          |
//!
//! On the same day a direct veth pair without a bridge took about 390,000 SYNs/s answered by resets, and
//! about 930,000/s to addresses the target drops. A ring setup and a packet socket's close each wait for
//! an RCU grace period in the kernel (synchronize_net, 10-20 ms here): callers open their sockets side by
//! side so the waits overlap, and hand them to a [`Handoff`] child to close.
//!
//! ## Loopback
//! Frames on a loopback interface carry zero MACs. IPv4 frames injected there would be dropped
//! as martians, so loopback sockets send IPv4 through a raw IPv4 socket (see [`PacketSocket`]).
//! The loopback device hands every sent frame back as an incoming one: a receiver on `lo`
//! sees its own probes.

// The one crate allowed `unsafe` (the workspace denies it elsewhere); every block has a `// SAFETY:` line.
#![allow(unsafe_code)]

mod error;
mod fd_limit;
mod filter;
mod handoff;
mod interface;
mod neighbor;
mod netlink;
pub mod process;
mod reverse_dns;
mod ring;
mod ring_map;
mod route;
mod socket;
mod socket_errors;
mod sys;
mod tap;
mod tx;
mod tx_ring;

pub use error::NetError;
pub use fd_limit::{nofile_limit, set_nofile_soft};
pub use filter::Filter;
pub use handoff::Handoff;
pub use interface::{Interface, interface_by_name, interfaces};
pub use neighbor::next_hop_mac;
pub use reverse_dns::reverse_lookup;
pub use ring::RingConfig;
pub use route::{Route, RouteEntry, route_to, routes};
pub use socket::{PacketSender, PacketSocket, RxStats, raw_allowed};
pub use socket_errors::{ErrOrigin, enable_recverr, icmp_error};
pub use tap::{TAP_FRAME_MAX, TapDevice};
pub use tx::{FrameSender, SendMethod, SendPreference};
pub use tx_ring::TxRingConfig;
