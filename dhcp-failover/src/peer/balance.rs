//! Free-pool balancing between the peers (reference §4.7: ISC
//! `dhcp_failover_pool_dobalance` and `dhcp_failover_pool_check`).
//!
//! The primary owns FREE addresses and gives about half to the secondary as
//! BACKUP; the secondary gives surplus BACKUP addresses back as FREE.

use std::net::Ipv4Addr;

use dhcp_core::config::Role;
use dhcp_core::lease::{BindingState, UnixTime};
use dhcp_core::table::{LeaseTable, PoolIndex};

use crate::hash;

/// The balancing parameters (ISC `max-lease-misbalance`, `max-lease-ownership`).
#[derive(Debug, Clone, Copy)]
pub struct BalanceParams {
    /// Tolerated misbalance, percent.
    pub misbalance: u32,
    /// Share a server may keep beyond its half, percent.
    pub ownership: u32,
}

/// The outcome of planning one pool.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Addresses to hand to the partner's free state, in order.
    pub give: Vec<Ipv4Addr>,
    /// Leases to surrender before giving (`(mine − theirs) / 2`).
    pub lts: i64,
    /// The misbalance threshold in leases.
    pub thresh: i64,
    /// Whether we are short enough of free leases to send POOLREQ.
    pub short: bool,
}

/// The free state owned by `role`.
pub fn own_free(role: Role) -> BindingState {
    match role {
        Role::Primary => BindingState::Free,
        Role::Secondary => BindingState::Backup,
    }
}

/// The free state owned by the partner of `role`.
pub fn peer_free(role: Role) -> BindingState {
    match role {
        Role::Primary => BindingState::Backup,
        Role::Secondary => BindingState::Free,
    }
}

fn percent(total: i64, pct: u32) -> i64 {
    (total * i64::from(pct) + 50) / 100
}

/// How the free addresses of one pool stand between the peers.
#[derive(Debug, Clone, Copy)]
struct Standing {
    /// Leases to surrender to even out (`(mine − theirs) / 2`; negative:
    /// we are owed).
    lts: i64,
    /// The tolerated misbalance, in leases.
    thresh: i64,
    /// What we may keep beyond our half, in leases.
    hold: i64,
    /// Whether we are short enough of free leases to send POOLREQ.
    short: bool,
}

fn standing(table: &LeaseTable, pool: PoolIndex, role: Role, p: BalanceParams) -> Standing {
    let counts = table.counts(pool);
    let mine = counts.get(own_free(role)) as i64;
    let theirs = counts.get(peer_free(role)) as i64;
    let total = mine + theirs;
    let lts = (mine - theirs) / 2;
    let thresh = percent(total, p.misbalance);
    let short = if thresh == 0 {
        lts < -1
    } else {
        lts < -2 * thresh
    };
    Standing {
        lts,
        thresh,
        hold: percent(total, p.ownership),
        short,
    }
}

/// Whether we hold more of `pool`'s free addresses than our share beyond
/// the tolerated misbalance, so that a balance run would give some to the
/// partner. O(1): for checking after every update.
pub fn has_surplus(table: &LeaseTable, pool: PoolIndex, role: Role, p: BalanceParams) -> bool {
    let s = standing(table, pool, role, p);
    s.lts > s.thresh
}

/// Plans the balancing of `pool` for a server with `role`, giving at most
/// `limit` addresses (the rest waits for a later run).
pub fn plan(
    table: &LeaseTable,
    pool: PoolIndex,
    role: Role,
    hba: Option<&[u8; 32]>,
    p: BalanceParams,
    limit: usize,
) -> Plan {
    let Standing {
        mut lts,
        thresh,
        hold,
        short,
    } = standing(table, pool, role, p);
    let start_lts = lts;
    let mut give = Vec::new();
    let peer_role = match role {
        Role::Primary => Role::Secondary,
        Role::Secondary => Role::Primary,
    };
    // Pass 1: leases whose last client the partner would serve.
    if let Some(hba) = hba {
        for l in table.in_state(pool, own_free(role)) {
            if lts <= -hold || give.len() >= limit {
                break;
            }
            let wanted = hash::lease_key(l)
                .map(|k| hash::role_serves_bucket(hba, peer_role, hash::bucket(k)))
                .unwrap_or(false);
            if wanted {
                give.push(l.addr);
                lts -= 1;
            }
        }
    }
    // Pass 2: the oldest, regardless of client (never-used leases, which sort
    // first, down to an even split; used ones only beyond our allowance).
    let given: std::collections::BTreeSet<Ipv4Addr> = give.iter().copied().collect();
    for l in table.in_state(pool, own_free(role)) {
        if given.contains(&l.addr) {
            continue;
        }
        let keep = if l.ends == 0 { 0 } else { hold };
        if lts <= keep || give.len() >= limit {
            break;
        }
        give.push(l.addr);
        lts -= 1;
    }
    Plan {
        give,
        lts: start_lts,
        thresh,
        short,
    }
}

/// When to run the balance check next (ISC `dhcp_failover_pool_check`,
/// without the random 0–4 s): the age of the oldest free lease times the
/// misbalance percentage, kept between `min_balance` and `max_balance`.
pub fn next_run(
    table: &LeaseTable,
    pools: &[PoolIndex],
    role: Role,
    now: UnixTime,
    misbalance: u32,
    min_balance: u32,
    max_balance: u32,
) -> UnixTime {
    let oldest = pools
        .iter()
        .flat_map(|&p| {
            [own_free(role), peer_free(role)]
                .into_iter()
                .filter_map(move |s| table.in_state(p, s).next().map(|l| l.ends))
        })
        .min()
        .unwrap_or(now);
    let age = u64::from(now.saturating_sub(oldest));
    let delay = (age * u64::from(misbalance) / 100).min(u64::from(max_balance)) as u32;
    now.saturating_add(delay.max(min_balance).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dhcp_core::table::PoolSpec;

    fn table(n: u8) -> LeaseTable {
        LeaseTable::new(vec![PoolSpec {
            start: Ipv4Addr::new(10, 99, 0, 1),
            end: Ipv4Addr::new(10, 99, 0, n),
            network: 0,
            failover_peer: Some("fo".into()),
        }])
    }

    const P: BalanceParams = BalanceParams {
        misbalance: 15,
        ownership: 10,
    };

    #[test]
    fn primary_gives_half_of_never_used_leases() {
        let t = table(100);
        let plan = plan(&t, 0, Role::Primary, None, P, usize::MAX);
        assert_eq!(plan.give.len(), 50);
        assert_eq!(plan.lts, 50);
        assert!(!plan.short);
    }

    #[test]
    fn a_plan_gives_at_most_its_limit() {
        let t = table(100);
        let plan = plan(&t, 0, Role::Primary, None, P, 7);
        assert_eq!(plan.give.len(), 7);
        assert_eq!(plan.lts, 50, "the imbalance is reported whole");
    }

    #[test]
    fn secondary_with_nothing_is_short_and_gives_nothing() {
        let t = table(100);
        let plan = plan(&t, 0, Role::Secondary, None, P, usize::MAX);
        assert!(plan.give.is_empty());
        assert!(plan.short);
    }
}
