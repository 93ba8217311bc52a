//! tojimari-wire's integration tests: the corpus of real frames checked against tcpdump's reading of them
//! ([`corpus`]), property tests over random and mutated frames ([`proptests`]), and the ignored test that
//! captures the corpus on a test bed ([`capture_corpus`]).

// A test binary: it may say on stderr what it skipped or measured.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "wire/capture_corpus.rs"]
mod capture_corpus;
#[path = "wire/corpus.rs"]
mod corpus;
#[path = "wire/proptests.rs"]
mod proptests;
#[path = "wire/support.rs"]
mod support;
