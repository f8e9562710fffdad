//! Chaos schedules for a failover pair of our daemons (issue 16): seeded
//! schedules of faults applied while simulated clients bind and renew, every
//! client-side DHCPACK captured, and the pair's safety invariant checked on
//! them: **no address ACKed to two different clients with overlapping lease
//! times** ([`overlapping_grants`]).
//!
//! * this module: the faults, the seeded [`Schedule`] and the invariant;
//! * [`runner`]: the lab, the pair, the clients, and applying schedules one
//!   after the other (healing and waiting for NORMAL between them).
//!
//! Faults: the failover link partitioned both ways or one way (a blackhole
//! route on one side or both), one server's client link cut (its port on
//! the bridge down), one server SIGKILLed and restarted, one server
//! restarted with an empty store (a lost disk), one server restarted with
//! its wall clock 5–45 s off (libfaketime), one server's disk writes
//! throttled to a few a second (a blkio cgroup). A full disk is not
//! scheduled here: the SIGKILL soak (`crate::soak`) covers it.

pub mod runner;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::soak::Ack;

/// One of the pair's two servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    /// srv1, the primary.
    Primary,
    /// srv2, the secondary.
    Secondary,
}

impl Side {
    /// 0 for the primary, 1 for the secondary.
    pub fn index(self) -> usize {
        match self {
            Side::Primary => 0,
            Side::Secondary => 1,
        }
    }
}

/// A fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// The failover link cut both ways.
    PartitionBoth,
    /// The failover link cut from this side only (its packets to the
    /// partner are dropped).
    PartitionFrom(Side),
    /// This server's client link is cut (failover link too: one link).
    ClientLinkCut(Side),
    /// This server is SIGKILLed, and restarted when the fault ends.
    Kill(Side),
    /// This server is SIGKILLed, its store deleted, and restarted when the
    /// fault ends.
    KillEmptyStore(Side),
    /// This server is restarted with its wall clock this many seconds off
    /// (libfaketime; its monotonic clock untouched), and restarted with the
    /// true time when the fault ends. Within the 60 s the failover
    /// handshake accepts, beyond the MCLT.
    ClockSkew(Side, i32),
    /// This server's writes to the disk holding its store are throttled to
    /// a few operations a second (a blkio cgroup), so every commit's
    /// `fdatasync` is slow; lifted when the fault ends.
    SlowDisk(Side),
}

impl Fault {
    /// A short label for the report.
    pub fn label(&self) -> &'static str {
        match self {
            Fault::PartitionBoth => "partition both ways",
            Fault::PartitionFrom(_) => "partition one way",
            Fault::ClientLinkCut(_) => "client link cut",
            Fault::Kill(_) => "SIGKILL + restart",
            Fault::KillEmptyStore(_) => "restart with empty store",
            Fault::ClockSkew(..) => "clock skew",
            Fault::SlowDisk(_) => "slow disk",
        }
    }
}

/// One fault of a schedule: when it starts and how long it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// From the schedule's start.
    pub at: Duration,
    /// The fault.
    pub fault: Fault,
    /// How long it lasts.
    pub lasts: Duration,
}

/// A seeded schedule: one to three faults within `length`, possibly
/// overlapping (a server killed while the link is partitioned, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// The seed it was generated from.
    pub seed: u64,
    /// The faults, by start time.
    pub steps: Vec<Step>,
    /// How long the schedule runs.
    pub length: Duration,
}

impl Schedule {
    /// The schedule of `seed`, `length` long.
    pub fn generate(seed: u64, length: Duration) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let ms = length.as_millis().max(1000) as u64;
        let n = rng.random_range(1..=3);
        let mut steps: Vec<Step> = (0..n)
            .map(|_| {
                let side = if rng.random_bool(0.5) {
                    Side::Primary
                } else {
                    Side::Secondary
                };
                let fault = match rng.random_range(0..13) {
                    0..=1 => Fault::PartitionBoth,
                    2..=3 => Fault::PartitionFrom(side),
                    4..=5 => Fault::ClientLinkCut(side),
                    6..=8 => Fault::Kill(side),
                    9 => Fault::KillEmptyStore(side),
                    10 => Fault::SlowDisk(side),
                    _ => {
                        let secs = rng.random_range(5..=45);
                        Fault::ClockSkew(side, if rng.random_bool(0.5) { secs } else { -secs })
                    }
                };
                let at = rng.random_range(0..ms / 2);
                let lasts = rng.random_range(ms / 10..ms / 2);
                Step {
                    at: Duration::from_millis(at),
                    fault,
                    lasts: Duration::from_millis(lasts),
                }
            })
            .collect();
        steps.sort_by_key(|s| s.at);
        // One restart of a server at a time: a second fault on a server
        // that is down (or running skewed) would be a no-op, and a restart
        // would leave a slow disk's cgroup behind.
        let mut down: Vec<(Side, Duration)> = Vec::new();
        steps.retain(|s| match s.fault {
            Fault::Kill(side)
            | Fault::KillEmptyStore(side)
            | Fault::ClockSkew(side, _)
            | Fault::SlowDisk(side) => {
                if down.iter().any(|(d, until)| *d == side && *until > s.at) {
                    false
                } else {
                    down.push((side, s.at + s.lasts));
                    true
                }
            }
            _ => true,
        });
        Self {
            seed,
            steps,
            length: Duration::from_millis(ms),
        }
    }
}

/// Every pair of ACKs that grant one address to two different clients for
/// overlapping times (each grant from its arrival to its lease's end,
/// seconds resolution, one second of clock rounding allowed): one line each.
pub fn overlapping_grants(acks: &[Ack]) -> Vec<String> {
    let mut by_addr: BTreeMap<Ipv4Addr, Vec<&Ack>> = BTreeMap::new();
    for a in acks {
        by_addr.entry(a.address).or_default().push(a);
    }
    let mut out = Vec::new();
    for (addr, mut grants) in by_addr {
        grants.sort_by_key(|a| a.received);
        // The latest end of each client's grants seen so far.
        let mut holders: BTreeMap<(usize, usize), (u64, Ipv4Addr)> = BTreeMap::new();
        for g in grants {
            let start = g.received_secs();
            for ((swarm, client), (end, server)) in &holders {
                if (*swarm, *client) != (g.swarm, g.client) && start + 1 < *end {
                    out.push(format!(
                        "{addr}: ACKed to client {}/{} by {} at {start} while client {swarm}/{client} \
                         held it until {end} (from {server})",
                        g.swarm, g.client, g.server
                    ));
                }
            }
            let e = holders.entry((g.swarm, g.client)).or_insert((0, g.server));
            if g.promised_end() > e.0 {
                *e = (g.promised_end(), g.server);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn ack(client: usize, addr: u8, at: u64, lease: u32) -> Ack {
        Ack {
            swarm: 0,
            client,
            mac: [2, 0, 0, 0, 0, client as u8],
            client_id: None,
            address: Ipv4Addr::new(10, 99, 0, addr),
            server: Ipv4Addr::new(10, 99, 0, 1),
            lease_time: lease,
            received: UNIX_EPOCH + Duration::from_secs(at),
            renewal: false,
        }
    }

    #[test]
    fn overlapping_grants_are_found_and_successive_ones_are_not() {
        let fine = [
            ack(1, 10, 100, 20),
            ack(1, 10, 110, 20),
            ack(2, 10, 131, 20),
        ];
        assert!(overlapping_grants(&fine).is_empty());
        let bad = [
            ack(1, 10, 100, 20),
            ack(2, 10, 105, 20),
            ack(3, 11, 105, 20),
        ];
        let v = overlapping_grants(&bad);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].starts_with("10.99.0.10"));
    }

    #[test]
    fn schedules_cover_every_fault_kind() {
        let mut kinds = std::collections::BTreeSet::new();
        let mut skews = Vec::new();
        let mut slow = Vec::new();
        for seed in 0..200 {
            for st in Schedule::generate(seed, Duration::from_secs(10)).steps {
                kinds.insert(st.fault.label());
                if let Fault::ClockSkew(_, s) = st.fault {
                    assert!((5..=45).contains(&s.abs()), "{s}");
                    skews.push((seed, s));
                }
                if let Fault::SlowDisk(_) = st.fault {
                    slow.push(seed);
                }
            }
        }
        assert_eq!(kinds.len(), 7, "{kinds:?}");
        eprintln!(
            "seeds with a clock skew: {:?}; with a slow disk: {:?}",
            &skews[..skews.len().min(12)],
            &slow[..slow.len().min(12)]
        );
    }

    #[test]
    fn schedules_are_reproducible_and_in_bounds() {
        let a = Schedule::generate(7, Duration::from_secs(10));
        assert_eq!(a, Schedule::generate(7, Duration::from_secs(10)));
        for seed in 0..200 {
            let s = Schedule::generate(seed, Duration::from_secs(10));
            assert!(!s.steps.is_empty() && s.steps.len() <= 3);
            for st in &s.steps {
                assert!(st.at + st.lasts < s.length);
            }
        }
    }
}
