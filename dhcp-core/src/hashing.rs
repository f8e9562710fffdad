//! The hash maps of the request path.
//!
//! Every request looks up a handful of maps keyed by address or by client
//! (tens of thousands of entries on a provisioning rack), so the hasher shows
//! in the per-request cost. The standard library's SipHash is replaced by
//! foldhash, several times faster on these short keys. Client keys come from
//! the network (hardware addresses, client identifiers), so the hasher stays
//! seeded at random per map: a hostile client cannot precompute colliding
//! keys.

/// A hash map with the request path's hasher.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A hash set with the request path's hasher.
pub type FastSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
