//! The hash maps of the request path.
//!
//! Every request looks up a handful of maps keyed by client or by offered
//! address (tens of thousands of entries on a provisioning rack), so the
//! hasher shows in the per-request cost. These maps use foldhash instead of
//! the standard library's SipHash (what it saved per request is in the run
//! history of docs/benchmarks.md kept in git, "What changed since run 13").
//! Client keys come from the network (hardware addresses, client
//! identifiers), so the hasher stays seeded at random per process and per
//! map: a hostile client cannot precompute colliding keys.

/// A hash map with the request path's hasher.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
