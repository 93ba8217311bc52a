//! tojimari-testbed: a dev-only, self-contained network for tests and benchmarks.
//!
//! A [`TestBed`] is a set of network namespaces: a `switch` holding a bridge, a `scanner`,
//! and N `target`s, joined by veth pairs. Addresses come from the benchmarking range
//! 198.18.0.0/24 (scanner .1, targets .2, .3, ...) and 2001:db8:18::/64 (::1, ::2, ...).
//! There is no default route anywhere, so a wrong address fails with "network unreachable"
//! instead of leaving the machine; the root namespace is never touched.
//!
//! On top of the bed:
//! - [`Netns`] runs programs, nft rulesets, sysctls and closures inside one namespace
//!   ([`Netns::run_in`] is how a test opens sockets "on the scanner host").
//! - [`Listeners`] opens TCP ports that accept and UDP ports that echo, until dropped.
//! - [`firewall`] has nft presets: drop, reject admin-prohibited, reset, drop pure SYNs, loss.
//! - [`random_ports`] picks seeded ground-truth ports.
//! - [`persona`]: stack personas, userspace responders on TAP devices that answer as other operating
//!   systems ([`TestBed::add_persona`]).
//! - [`routed`]: networks one and two routers away ([`TestBed::add_routed_hops`]), for hop distance.
//! - [`LinuxVariant`]: a target namespace with its TCP/IP sysctls changed (timestamps, SACK, ...).
//! - [`postgres`]: a real PostgreSQL server on loopback for the store tests ([`PgServer::start`],
//!   [`pg_or_skip!`]), no namespace needed.
//! - [`bounce_ftp`]: vsftpd as an FTP bounce relay (or one that refuses bounces), for `-b`.
//! - [`Scratch`]: a test's scratch directory, removed when dropped.
//! - [`http`]: a small HTTP client for `tojimari serve`'s tests and benchmark.
//! - [`browser`]: headless Chromium driven over WebDriver inside a namespace, for the web UI's tests
//!   ([`Browser::start`], [`browser_or_skip!`]).
//! - [`testbed_or_skip!`] builds a bed or skips loudly (panics under `CI=true`).
//!
//! ```no_run
//! use std::net::{SocketAddr, TcpStream};
//! use std::time::Duration;
//!
//! let bed = tojimari_testbed::testbed_or_skip!(1);
//! let target = bed.target(0);
//! let _open = target.listen_tcp(&[80]).unwrap();
//! target.firewall(&tojimari_testbed::firewall::drop_tcp(&[81])).unwrap();
//! let addr = SocketAddr::from((target.v4, 80));
//! let result = bed
//!     .scanner()
//!     .run_in(move || TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok())
//!     .unwrap();
//! assert!(result);
//! ```
//!
//! Everything needs root (CAP_NET_ADMIN). The rules every user of the bed keeps: packets go only to loopback
//! or to namespaces the test created (198.18.0.0/15, 2001:db8::/32), with no route out and the scanner
//! running inside its namespace; the root namespace's routes and firewall are never changed; namespaces and
//! processes are removed by the test that made them (on drop here).

// Dev-only: the test bed says on stderr why a test was skipped.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bed;
pub mod bounce_ftp;
pub mod browser;
mod capture;
pub mod daemons;
mod error;
pub mod firewall;
pub mod http;
mod listeners;
mod netns;
pub mod persona;
mod ports;
pub mod postgres;
pub mod routed;
mod scratch;
mod skip;
mod variants;

pub use bed::{MAX_TARGETS, PREFIX, SCANNER_V4, SCANNER_V6, Target, TestBed, cleanup_stale, target_v4, target_v6};
pub use browser::{Browser, Page, browser_or_skip};
pub use capture::Tcpdump;
pub use error::{Error, Result};
pub use listeners::{BACKLOG, Listeners, Transport};
pub use netns::Netns;
pub use ports::random_ports;
pub use postgres::PgServer;
pub use routed::RoutedHops;
pub use scratch::Scratch;
pub use skip::{bed_or_skip, in_ci, pg_or_skip};
pub use variants::LinuxVariant;
