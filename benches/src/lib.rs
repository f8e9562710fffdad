//! Benchmark support crate: see `benches/` for criterion benchmarks.
