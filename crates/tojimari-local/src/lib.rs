//! This machine's listening sockets and the processes that own them: `tojimari local`.
//!
//! Every listening TCP socket and bound UDP socket, IPv4 and IPv6, with every process holding it (pid, name,
//! command line, user, systemd unit), whether its address is reachable from the network, the services table's
//! name for its port, and the exposure findings that apply (a database or cleartext login bound to a network
//! address). Without root the sockets of other users' processes are kept with no owner, and the
//! [`Inventory`] says how many.
//!
//! Layers, pure to impure:
//! - [`proc_net`]: parsing `/proc/net/{tcp,tcp6,udp,udp6}` lines; [`process`]: `cmdline` and `cgroup`;
//!   [`users`]: `/etc/passwd`; [`reach`] and [`exposure`]: what an address and port mean.
//! - [`inventory`]: the join of sockets and processes ([`Inventory::assemble`]).
//! - [`system`]: the I/O edge, [`listening_sockets`] reading `/proc`.
//! - [`table`], [`jsonl`], [`holder`]: the outputs; [`command`]: [`run`] ties them together for the CLI.
//! - `--stop`: [`stop`] decides what to do about a port's holders and [`termination`] times the signals (both
//!   pure); [`stopping`] is their I/O edge (signals, `systemctl`; the question is the caller's [`Prompt`]).
//! - [`notice`]: what a run tells the user besides its data ([`Notice`]). This crate prints nothing and
//!   chooses no exit status: [`run`] returns an [`Outcome`] or a [`LocalError`], and the CLI does the rest.
//!
//! ```no_run
//! use tojimari_local::{LocalOptions, listening_sockets, write_table};
//!
//! let inventory = listening_sockets(&LocalOptions::default()).unwrap();
//! write_table(&inventory, &mut std::io::stdout()).unwrap();
//! ```

pub mod command;
pub mod error;
pub mod exposure;
pub mod holder;
pub mod inventory;
pub mod jsonl;
pub mod notice;
pub mod proc_net;
pub mod process;
pub mod reach;
pub mod stop;
pub mod stopping;
pub mod system;
pub mod table;
pub mod termination;
pub mod users;

pub use command::{JsonOutput, LocalArgs, Outcome, run, run_with};
pub use error::LocalError;
pub use holder::{Holding, StopStep, who_holds, write_holders, write_holding};
pub use inventory::{Inventory, ListeningSocket, Privilege, ProcessSockets};
pub use jsonl::write_jsonl;
pub use notice::Notice;
pub use process::{Manager, ProcessInfo, Unit};
pub use reach::Reach;
pub use stop::{Pinned, Refusal, StopAction, StopPlan, plan_stop};
pub use stopping::{Answer, Confirmation, FixedAnswer, Prompt, StopOptions, read_answer};
pub use system::{LocalOptions, Protocols, listening_sockets};
pub use table::write_table;
