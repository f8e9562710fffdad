//! Benchmark support crate: criterion micro-benchmarks live in `benches/`
//! (engine, store); the end-to-end load benchmark ([`load`], binaries
//! `loadbench` and `stateless-responder`) drives real servers with perfdhcp
//! in the testbed lab.

pub mod load;
