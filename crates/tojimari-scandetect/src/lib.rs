//! Port-scan detection for `tojimari watch`: which sources are scanning this host, how, and
//! with which tool.
//!
//! Layers, pure first:
//! - [`summary`]: raw frames -> [`PacketSummary`] (never panics on hostile bytes).
//! - [`detector`]: the sans-I/O [`Detector`] state machine; time comes from the packets.
//! - [`alert`]: what it reports: each scan is an incident with a start, updates and a closing
//!   record of its true totals ([`Alert`], JSON Lines object, readable line).
//! - [`fingerprint`]: nmap / masscan / zmap recognised from the wire.
//! - [`os_guess`]: the likely OS of a scanning source, passively from its first SYN (tojimari-osdetect).
//! - [`pcap`]: replay of pcap/pcapng files into a detector.
//! - [`firewall_log`]: iptables/nftables LOG lines (kernel log, journal, dmesg) into a detector.
//!
//! ```
//! use tojimari_scandetect::{Detector, DetectorConfig, LinkType, Timestamp, summarize};
//!
//! let mut detector = Detector::new(DetectorConfig::default());
//! let frame: &[u8] = &[]; // one captured Ethernet frame
//! if let Some(pkt) = summarize(frame, LinkType::Ethernet, Timestamp::from_secs(1)) {
//!     for alert in detector.observe(&pkt) {
//!         eprintln!("{}", alert.line());
//!     }
//! }
//! let _late = detector.tick(Timestamp::from_secs(10));
//! // At the end of a replay, of `--for`, or on Ctrl-C: every open incident's closing record.
//! for end in detector.finish(detector.now()) {
//!     eprintln!("{}", end.line());
//! }
//! ```

pub mod alert;
pub mod capture_file;
pub mod config;
pub mod detector;
pub mod fingerprint;
pub mod firewall_log;
pub mod os_guess;
pub mod pcap;
mod ports;
mod source;
pub mod summary;
pub mod time;

pub use alert::{Alert, AlertKind, EndReason, ObservedScan, Pace, Tool, Trigger};
pub use config::{DetectorConfig, LocalAddrs, LocalNet, LocalNetError, RandomWalk};
pub use detector::{Detector, DetectorStats};
pub use os_guess::{OsGuess, SynFacts};
pub use summary::{LinkType, PacketSummary, TcpFlags, TcpOptions, TcpSummary, Transport, summarize, summarize_ip};
pub use time::Timestamp;
