//! What the failover port refuses, counted by reason and logged with a rate
//! limit: the protocol has no authentication, so anyone who can reach TCP 647
//! can knock, and a log line per knock would let them fill the journal.
//!
//! Every refusal increments a counter ([`Refusals`], exported as
//! `dhcpd_failover_refused_total{reason}`); the first of a kind is logged at
//! once, later ones at most once per [`SUMMARY_EVERY`] as a summary line with
//! how many were suppressed ([`Throttle`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// At most one log line per kind of refusal in this interval.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(60);

/// Why the failover port refused something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A TCP connection from an address other than the configured partner,
    /// closed at accept, before anything is read.
    NotPeer,
    /// A connection closed on a frame that does not decode (bad length,
    /// truncated option, …).
    BadFrame,
    /// We refused the partner's CONNECT or CONNECTACK (wrong relationship
    /// name or role, clock skew, missing MCLT or HBA).
    ConnectRefused,
    /// The partner refused our CONNECT.
    RejectedByPartner,
    /// A second connection while one carries the relationship.
    Duplicate,
}

impl Refusal {
    /// Every reason, in the order of the counters.
    pub const ALL: [Refusal; 5] = [
        Refusal::NotPeer,
        Refusal::BadFrame,
        Refusal::ConnectRefused,
        Refusal::RejectedByPartner,
        Refusal::Duplicate,
    ];

    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Self::NotPeer => "not_peer",
            Self::BadFrame => "bad_frame",
            Self::ConnectRefused => "connect_refused",
            Self::RejectedByPartner => "rejected_by_partner",
            Self::Duplicate => "duplicate_connection",
        }
    }
}

/// The counters of one relationship's failover port, shared by its
/// listener, its connections and its driver.
#[derive(Debug, Default)]
pub struct Refusals {
    counts: [AtomicU64; 5],
}

impl Refusals {
    /// Counts one refusal.
    pub fn count(&self, r: Refusal) {
        if let Some(c) = self.counts.get(r as usize) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The counts, in the order of [`Refusal::ALL`].
    pub fn snapshot(&self) -> [u64; 5] {
        std::array::from_fn(|i| self.counts[i].load(Ordering::Relaxed))
    }
}

/// A rate limit for one kind of log line.
#[derive(Debug)]
pub struct Throttle {
    every: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl Default for Throttle {
    fn default() -> Self {
        Self::new(SUMMARY_EVERY)
    }
}

impl Throttle {
    /// At most one line per `every`.
    pub fn new(every: Duration) -> Self {
        Self {
            every,
            last: None,
            suppressed: 0,
        }
    }

    /// One more event at `now`: `Some(n)` when a line should be logged now,
    /// `n` being how many events were not logged since the last line.
    pub fn hit(&mut self, now: Instant) -> Option<u64> {
        match self.last {
            Some(t) if now.saturating_duration_since(t) < self.every => {
                self.suppressed += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.suppressed))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_is_logged_then_one_summary_per_interval() {
        let mut t = Throttle::new(Duration::from_secs(60));
        let t0 = Instant::now();
        assert_eq!(t.hit(t0), Some(0));
        for s in 1..60 {
            assert_eq!(t.hit(t0 + Duration::from_secs(s)), None);
        }
        assert_eq!(t.hit(t0 + Duration::from_secs(60)), Some(59));
        assert_eq!(t.hit(t0 + Duration::from_secs(61)), None);
    }

    #[test]
    fn counts_by_reason() {
        let r = Refusals::default();
        r.count(Refusal::NotPeer);
        r.count(Refusal::NotPeer);
        r.count(Refusal::Duplicate);
        assert_eq!(r.snapshot(), [2, 0, 0, 0, 1]);
        assert_eq!(Refusal::ALL[4].label(), "duplicate_connection");
    }
}
