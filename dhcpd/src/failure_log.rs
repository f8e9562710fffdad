//! Logging of a failure that may repeat many times a second (a full disk
//! failing every commit, an unreachable MAAS socket failing every event):
//! the first failure after a success is logged at `warn`, the rest at
//! `debug`, and the first success after them at `info`. The counters carry
//! the totals.

use std::sync::atomic::{AtomicBool, Ordering};

/// One kind of failure's logging state.
#[derive(Debug, Default)]
pub struct FailureLog {
    failing: AtomicBool,
}

impl FailureLog {
    /// Logs a failure: at `warn` if the last outcome was a success.
    pub fn failed(&self, what: &str, error: &dyn std::fmt::Display) {
        if self.failing.swap(true, Ordering::Relaxed) {
            tracing::debug!(error = %error, "{what}");
        } else {
            tracing::warn!(error = %error, "{what} (further failures logged at debug level)");
        }
    }

    /// Notes a success, logging `recovered` if failures came before it.
    /// Costs one atomic load when nothing failed.
    pub fn ok(&self, recovered: &str) {
        if self.failing.load(Ordering::Relaxed) && self.failing.swap(false, Ordering::Relaxed) {
            tracing::info!("{recovered}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_state_follows_the_outcomes() {
        let log = FailureLog::default();
        log.ok("nothing to say");
        assert!(!log.failing.load(Ordering::Relaxed));
        log.failed("it failed", &"cause");
        log.failed("it failed", &"cause");
        assert!(log.failing.load(Ordering::Relaxed));
        log.ok("works again");
        assert!(!log.failing.load(Ordering::Relaxed));
    }
}
