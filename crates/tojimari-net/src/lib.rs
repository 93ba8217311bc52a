//! tojimari-net: the I/O edge of the raw-packet engine, and the only crate with `unsafe`.
//!
//! - [`route_to`], [`routes`], [`interfaces`], [`interface_by_name`]: the routing table and interfaces,
//!   read over rtnetlink (a small client of our own in `netlink.rs`).
//! - [`next_hop_mac`]: the neighbour table, resolving a missing entry by making the kernel
//!   send ARP/NDP.
//! - [`Filter`]: classic BPF programs that keep only possible replies.
//! - [`PacketSocket`]: an AF_PACKET socket with a TPACKET_V3 receive ring; [`PacketSender`]
//!   sends batches of complete Ethernet frames with `sendmmsg`.
//!
//! Everything that opens a packet socket needs CAP_NET_RAW ([`raw_allowed`] says whether we
//! have it); route, interface and neighbour lookups need no privilege.
//!
//! ## Send rate
//! Measured with `cargo test -p tojimari-net --release --test net -- --ignored --nocapture`
//! (54-byte SYNs from the scanner namespace to closed ports of one target namespace over
//! veth + bridge, 2 cores, 3 s, one [`PacketSender`] per thread, batches of 1024):
//!
//! | sender                       | SYNs/s sent | answered (RST) | back-offs | ring drops |
//! |------------------------------|-------------|----------------|-----------|------------|
//! | `sendmmsg`, 1 thread         | ~149,000    | 100%           | 0         | 0          |
//! | `sendmmsg`, 2 threads        | ~284,000    | 100%           | 0         | 0          |
//! | PACKET_TX_RING, both cores (design estimate, not built) | ~650,000 | 100% | - | - |
//!
//! On veth the sending thread also pays for the target's and our own receive processing
//! (the peer's softirq runs on the sender's CPU), so these are whole-bed rates. A TX ring
//! has not been implemented yet (issue 11); its figure is the design's estimate, not a measurement.
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
mod interface;
mod neighbor;
mod netlink;
pub mod process;
mod reverse_dns;
mod ring;
mod route;
mod socket;
mod socket_errors;
mod sys;
mod tx;
mod tx_ring;

pub use error::NetError;
pub use fd_limit::{nofile_limit, set_nofile_soft};
pub use filter::Filter;
pub use interface::{Interface, interface_by_name, interfaces};
pub use neighbor::next_hop_mac;
pub use reverse_dns::reverse_lookup;
pub use ring::RingConfig;
pub use route::{Route, RouteEntry, route_to, routes};
pub use socket::{PacketSender, PacketSocket, RxStats, raw_allowed};
pub use socket_errors::{ErrOrigin, enable_recverr, icmp_error};
pub use tx::{FrameSender, SendMethod, SendPreference};
pub use tx_ring::TxRingConfig;
