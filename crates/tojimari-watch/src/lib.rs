//! `tojimari watch`: a live detector of port scans against this host.
//!
//! The detection itself is [`tojimari_scandetect::Detector`], a sans-I/O state machine; this crate
//! is the I/O around it:
//! - [`capture`]: AF_PACKET sockets (one per `-i IFACE`, or one on every interface), both
//!   directions, behind a BPF filter that keeps only IPv4/IPv6 TCP, UDP and ICMP headers;
//!   one thread per socket turns frames into [`tojimari_scandetect::PacketSummary`]s stamped with
//!   the clock at receipt.
//! - [`local`]: this network namespace's own addresses, so the detector knows which probes
//!   are inbound (and never reports the host's own outgoing traffic).
//! - [`output`]: where alerts go: JSON Lines (`-oJ FILE`, `-` for stdout), one readable line
//!   on stderr, and syslog ([`syslog`]); each scan is an incident with a start record and a
//!   closing record of its true totals.
//! - [`replay`]: `--pcap FILE` and `--log FILE`, fed through the same detector and outputs.
//! - [`watch`]: [`WatchArgs`] and [`run_until`], the loop that ties them together, stopped by a
//!   flag the caller sets; it returns an [`Outcome`] or a [`WatchError`].
//! - [`notice`]: what the run tells the user ([`Notice`]), as values the caller prints.
//!
//! This crate prints nothing, installs no signal handler and chooses no exit code: the CLI
//! does all three.

pub mod capture;
mod dedupe;
mod error;
pub mod local;
pub mod notice;
pub mod output;
pub mod replay;
pub mod syslog;
pub mod watch;

pub use error::WatchError;
pub use notice::Notice;
pub use output::AlertHook;
pub use watch::{Outcome, WatchArgs, run_recording, run_until, run_until_with};
