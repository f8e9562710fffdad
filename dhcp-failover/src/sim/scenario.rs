//! The seeded schedule of one run: the pair's parameters, the faults and
//! when they happen, the clients.

use std::net::Ipv4Addr;

use dhcp_core::config::{FailoverConfig, Role};
use dhcp_core::lease::UnixTime;

use super::rng::Rng;

/// The Unix time at which every simulation starts (true time 0).
pub const EPOCH: UnixTime = 1_700_000_000;

/// Parameters of one run, derived from the seed by [`Scenario::from_seed`].
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The seed.
    pub seed: u64,
    /// Length of the faulty phase, seconds.
    pub duration: u64,
    /// MCLT, seconds.
    pub mclt: u32,
    /// max-response-delay, seconds.
    pub mrd: u32,
    /// max-unacked-updates of each side.
    pub window: u32,
    /// Lease time clients get (some above MCLT to exercise the clamp).
    pub lease_time: u32,
    /// Number of clients.
    pub clients: usize,
    /// Addresses in the pool.
    pub pool_size: u8,
    /// Clock skew of each server, seconds.
    pub skew: [i64; 2],
    /// Network faults (partitions, resets) and crashes without partner-down,
    /// or else crashes with partner-down (operator or automatic) on a sound network.
    pub network_faults: bool,
    /// auto-partner-down seconds (family without network faults only).
    pub auto_partner_down: u32,
    /// Scheduled faults: (true time in ms, fault).
    pub faults: Vec<(u64, Fault)>,
}

/// A scheduled fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Messages are held (TCP retransmits) for this many ms.
    Partition(u64),
    /// The TCP connection is reset.
    Reset,
    /// Server `0` or `1` crashes and restarts after this many ms.
    Crash(usize, u64),
    /// The operator declares server `.0`'s partner down.
    PartnerDown(usize),
}

/// Largest clock skew between a server and true time, seconds.
pub const MAX_SKEW: i64 = 2;

impl Scenario {
    /// The scenario for `seed`.
    pub fn from_seed(seed: u64) -> Self {
        let mut r = Rng::new(seed);
        let duration = r.range(300, 900);
        let mclt = r.range(30, 120) as u32;
        let mrd = r.range(10, 30) as u32;
        let network_faults = r.chance(50);
        let mut faults = Vec::new();
        let n = r.range(1, 4);
        // Faults start after the pair had time to settle.
        let mut t = r.range(60, 200) * 1000;
        for _ in 0..n {
            if t >= duration * 1000 {
                break;
            }
            let who = r.below(2) as usize;
            let f = if network_faults {
                match r.below(3) {
                    0 => Fault::Partition(r.range(1, u64::from(mrd) * 4) * 1000),
                    1 => Fault::Reset,
                    _ => Fault::Crash(who, r.range(1, 120) * 1000),
                }
            } else {
                // The partner really is down while it is declared down.
                Fault::Crash(
                    who,
                    r.range(u64::from(mclt) * 2, u64::from(mclt) * 5) * 1000,
                )
            };
            faults.push((t, f));
            if let Fault::Crash(w, d) = f {
                if !network_faults && r.chance(50) {
                    faults.push((t + r.range(1, 20) * 1000, Fault::PartnerDown(1 - w)));
                }
                t += d;
            }
            t += r.range(30, 200) * 1000;
        }
        Self {
            seed,
            duration,
            mclt,
            mrd,
            window: r.range(2, 10) as u32,
            lease_time: r.range(20, 240) as u32,
            clients: r.range(3, 8) as usize,
            pool_size: r.range(8, 16) as u8,
            skew: [
                r.range(0, 2 * MAX_SKEW as u64) as i64 - MAX_SKEW,
                r.range(0, 2 * MAX_SKEW as u64) as i64 - MAX_SKEW,
            ],
            network_faults,
            auto_partner_down: if network_faults || r.chance(50) {
                0
            } else {
                r.range(5, 30) as u32
            },
            faults,
        }
    }

    pub(super) fn config(&self, role: Role) -> FailoverConfig {
        let primary = role == Role::Primary;
        FailoverConfig {
            name: "sim".into(),
            role,
            address: Ipv4Addr::new(10, 99, 0, if primary { 1 } else { 2 }),
            port: 647,
            peer_address: Ipv4Addr::new(10, 99, 0, if primary { 2 } else { 1 }),
            peer_port: 647,
            max_response_delay: self.mrd,
            max_unacked_updates: self.window,
            mclt: primary.then_some(self.mclt),
            split: primary.then_some(128),
            hba: None,
            load_balance_max_seconds: 3,
            auto_partner_down: self.auto_partner_down,
            max_lease_misbalance: 15,
            max_lease_ownership: 10,
            min_balance: 10,
            max_balance: 120,
            fencing: None,
        }
    }
}
