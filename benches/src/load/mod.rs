//! The end-to-end load benchmark: `perfdhcp` against our daemon, ISC dhcpd,
//! Kea (1 and 2 threads) and a stateless responder (the ceiling), one after
//! another in one network-namespace lab (see the `loadbench` binary and
//! `docs/benchmarks.md`).
//!
//! * [`lab`]: the lab (hosts, addresses) and where the programs are.
//! * [`servers`]: the servers under test and how each is started.
//! * [`perfdhcp`]: running perfdhcp and reading its report.
//! * [`cpu`]: a process's CPU time from `/proc`.
//! * [`ladder`]: rising paced rates until drops exceed 1 %, and the tables.
//! * [`plot`]: the ladder's curves as an SVG picture.
//! * [`responder`]: the stateless responder's logic.
//! * [`latency`]: our own load client's latency percentiles (binary
//!   `dora-latency`).
//! * [`error`]: the error type.

pub mod cpu;
pub mod error;
pub mod lab;
pub mod ladder;
pub mod latency;
pub mod perfdhcp;
pub mod plot;
pub mod responder;
pub mod servers;
