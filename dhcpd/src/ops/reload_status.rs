//! The outcome of reloads, kept for the control socket's status and the
//! metrics.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// The outcome of one reload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadRecord {
    /// Unix time.
    pub time: u64,
    /// Whether the new configuration was applied.
    pub ok: bool,
    /// What was done, or why it was refused.
    pub message: String,
}

/// Reload outcomes, for status and metrics.
#[derive(Debug, Default)]
pub struct ReloadStatus {
    last: Mutex<Option<ReloadRecord>>,
    failed: AtomicBool,
    last_success: AtomicU64,
}

impl ReloadStatus {
    /// Records an outcome.
    pub fn record(&self, r: &ReloadRecord) {
        self.failed.store(!r.ok, Ordering::Relaxed);
        if r.ok {
            self.last_success.store(r.time, Ordering::Relaxed);
        }
        if let Ok(mut l) = self.last.lock() {
            *l = Some(r.clone());
        }
    }

    /// Whether the last reload succeeded (true before any).
    pub fn last_ok(&self) -> bool {
        !self.failed.load(Ordering::Relaxed)
    }

    /// Unix time of the last successful reload (0: none).
    pub fn last_success(&self) -> u64 {
        self.last_success.load(Ordering::Relaxed)
    }

    /// The last outcome.
    pub fn last(&self) -> Option<ReloadRecord> {
        self.last.lock().ok().and_then(|l| l.clone())
    }
}
