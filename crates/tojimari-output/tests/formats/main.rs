//! tojimari-output's integration tests: one binary, one module per format.
//!
//! Expected texts are nmap 7.93's output for scans of 127.0.0.1 made on this machine (with listeners
//! on 22, 80, 631 and firewall rules in a private network namespace), reworded for tojimari.

// A test binary: it may say on stderr what it skipped or measured.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod external;
mod factory;
mod fixtures;
mod grepable;
mod ipproto;
mod jsonl;
mod normal;
mod os;
mod xml;
