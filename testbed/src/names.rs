//! Unique names for namespaces and scratch directories, so that labs can be
//! built in parallel (by several test threads or processes).

use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Default prefix of every namespace the harness creates.
pub const DEFAULT_PREFIX: &str = "tb";

/// A new lab identifier: `PREFIX` + pid + `-` + per-process counter, e.g. `tb4242-3`.
pub fn new_lab_id(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{}-{n}", std::process::id())
}

/// Checks a short name (host, segment or interface): 1 to 15 characters of
/// `[A-Za-z0-9_-]`, which also fits the kernel's interface-name limit.
pub fn valid_short_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
