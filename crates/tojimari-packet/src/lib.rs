//! Probe building and reply parsing/classification for tojimari's raw engine, as pure functions over bytes.
//!
//! Nothing here does I/O or reads a clock: the engine hands in addresses, ports, cookies and buffers, and gets
//! back frame lengths, parsed [`Reply`] values and `(PortState, Reason)` verdicts. The bytes themselves are read
//! and written through `tojimari-wire`'s checked views and representations.
//!
//! - [`cookie`]: the keyed hash that lets the receiver validate replies without per-probe state.
//! - [`Probing`]: what each scan type (`-sS -sF -sN -sX -sA -sW -sM --scanflags -sU`, the core's
//!   [`ScanType`](tojimari_core::ScanType)) sends, where it puts the cookie and how a reply echoes it.
//! - `build_*`: Ethernet II frames carrying our probes ([`build_tcp`], [`build_udp`], [`build_echo`], ...).
//! - [`parse_frame`] / [`parse_ip`]: received frames into [`Reply`] values; never panics on any input.
//! - [`classify`]: nmap's port-state semantics for TCP replies, ICMP errors and silence.
//! - [`shape`]: nmap's evasion options (TTL, data, bad checksums, IP options, fragments, decoys) on a built probe.
//! - [`ipproto`]: `-sO`'s reading of answers (quotes of empty probes) and nmap's protocol states.
//! - [`payloads`]: UDP probe payloads for well-known services, written from the protocol specifications.

mod build;
pub mod classify;
pub mod cookie;
pub mod ipproto;
mod parse;
pub mod payloads;
mod reply;
pub mod shape;
pub mod tcp;
mod technique;

pub use build::{IpProtoProbe, SctpChunk, SctpProbe, build_ip_proto, build_sctp};
pub use build::{
    L2, MAX_FRAME, TcpFields, TcpProbe, TcpTemplate, UdpProbe, build_address_mask, build_arp_request, build_echo,
    build_neighbor_solicit, build_tcp, build_timestamp, build_udp,
};
pub use parse::{frame_ip, parse_frame, parse_ip};
pub use reply::{Quoted, Reply};
pub use shape::Shaping;
pub use technique::Probing;
