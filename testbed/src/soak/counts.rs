//! The figures of a soak run ([`SoakCounts`]) and the environment knobs.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The figures of a soak run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SoakCounts {
    /// The RNG seed of the run.
    pub seed: u64,
    /// Kill-and-restart cycles completed.
    pub cycles: usize,
    /// ACKs the clients received.
    pub acks_captured: u64,
    /// ACKs verified in the store at the first check after they arrived.
    pub acks_checked: u64,
    /// Verifications of earlier ACKs at later checks.
    pub rechecks: u64,
    /// ACKs not checkable (superseded by a new address, or expired).
    pub not_checkable: u64,
    /// Acknowledged leases the store lost (must be 0).
    pub lost: u64,
    /// Failed reopenings of the store (must be 0).
    pub reopen_failures: u64,
    /// Failed restarts of the daemon (must be 0).
    pub restart_failures: u64,
    /// Exits of the daemon nobody asked for (must be 0).
    pub unexpected_exits: u64,
    /// Restarts that failed while the disk was full on purpose (counted
    /// apart from `restart_failures`).
    pub restarts_refused_disk_full: u64,
    /// ACKs from a server that is not one of the soak's (must be 0).
    pub stray_acks: u64,
    /// NAKs the clients received.
    pub naks: u64,
    /// Cycles in which no ACK arrived between the restart and the kill
    /// (mostly the kills right after start-up).
    pub cycles_without_acks: usize,
    /// Wall time of the run.
    pub wall: Duration,
}

impl SoakCounts {
    /// A header line and one row, aligned.
    pub fn table(&self) -> String {
        let cols: [(&str, String); 14] = [
            ("seed", self.seed.to_string()),
            ("cycles", self.cycles.to_string()),
            ("acks", self.acks_captured.to_string()),
            ("checked", self.acks_checked.to_string()),
            ("rechecked", self.rechecks.to_string()),
            ("uncheckable", self.not_checkable.to_string()),
            ("LOST", self.lost.to_string()),
            ("reopen_fail", self.reopen_failures.to_string()),
            ("restart_fail", self.restart_failures.to_string()),
            ("exits", self.unexpected_exits.to_string()),
            ("refused_full", self.restarts_refused_disk_full.to_string()),
            ("naks", self.naks.to_string()),
            ("idle_cycles", self.cycles_without_acks.to_string()),
            ("wall_s", format!("{:.1}", self.wall.as_secs_f64())),
        ];
        let (mut head, mut row) = (String::new(), String::new());
        for (name, value) in &cols {
            let w = name.len().max(value.len());
            let _ = write!(head, "{name:>w$} ");
            let _ = write!(row, "{value:>w$} ");
        }
        format!("{}\n{}", head.trim_end(), row.trim_end())
    }

    /// Whether the run met the contract: nothing lost, no failures, and
    /// something was checked.
    pub fn passed(&self) -> bool {
        self.lost == 0
            && self.reopen_failures == 0
            && self.restart_failures == 0
            && self.unexpected_exits == 0
            && self.stray_acks == 0
            && self.acks_checked > 0
    }
}

/// An unsigned number from environment variable `var`, or `default` when it
/// is unset or not a number.
pub fn env_u64(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default)
}

/// The seed from environment variable `var`, or one from the clock.
pub fn seed_from_env(var: &str) -> u64 {
    let clock = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64 ^ u64::from(std::process::id()));
    env_u64(var, clock % 1_000_000_000)
}
