//! Per-pool figures (size, leases by state), computed from the engine and
//! published by the engine task once a second; the metrics exporter and the
//! control socket's status read them.

use std::sync::Mutex;

use dhcp_core::engine::Engine;
use dhcp_core::lease::BindingState;
use dhcp_core::table::StateCounts;
use serde::{Deserialize, Serialize};

/// One pool's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolStats {
    /// The shared network's name.
    pub network: String,
    /// The range, `first-last`.
    pub range: String,
    /// The failover relationship sharing it, if any.
    pub failover_peer: Option<String>,
    /// Number of addresses.
    pub size: u64,
    /// Leases by binding state (ISC spelling), every state present.
    pub leases: Vec<(String, u64)>,
}

impl PoolStats {
    /// Addresses not available for allocation: everything but FREE and BACKUP.
    pub fn used(&self) -> u64 {
        let free: u64 = self
            .leases
            .iter()
            .filter(|(s, _)| s == "free" || s == "backup")
            .map(|(_, n)| n)
            .sum();
        self.size.saturating_sub(free)
    }

    /// `used / size` (0 for an empty pool).
    pub fn utilization(&self) -> f64 {
        if self.size == 0 {
            0.0
        } else {
            self.used() as f64 / self.size as f64
        }
    }

    /// Leases in one state.
    pub fn count(&self, state: BindingState) -> u64 {
        self.leases
            .iter()
            .find(|(s, _)| s == state.name())
            .map_or(0, |(_, n)| *n)
    }
}

/// The per-pool figures of the engine, published by the engine task.
#[derive(Debug, Default)]
pub struct PoolGauges {
    pools: Mutex<Vec<PoolStats>>,
}

impl PoolGauges {
    /// Computes every pool's figures from the engine (O(pools)).
    pub fn compute(engine: &Engine) -> Vec<PoolStats> {
        let table = engine.table();
        let topo = engine.topology();
        table
            .pools()
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let counts: StateCounts = table.counts(i);
                PoolStats {
                    network: topo
                        .networks
                        .get(p.network)
                        .map(|n| n.name.clone())
                        .unwrap_or_default(),
                    range: format!("{}-{}", p.start, p.end),
                    failover_peer: p.failover_peer.clone(),
                    size: u64::from(u32::from(p.end)).saturating_sub(u64::from(u32::from(p.start)))
                        + 1,
                    leases: BindingState::ALL
                        .iter()
                        .map(|s| (s.name().to_owned(), counts.get(*s)))
                        .collect(),
                }
            })
            .collect()
    }

    /// Publishes the engine's current figures.
    pub fn publish(&self, engine: &Engine) {
        let stats = Self::compute(engine);
        if let Ok(mut p) = self.pools.lock() {
            *p = stats;
        }
    }

    /// The last published figures.
    pub fn get(&self) -> Vec<PoolStats> {
        self.pools.lock().map(|p| p.clone()).unwrap_or_default()
    }
}
