//! The in-memory lease table: every address of every pool, with the indexes the
//! allocator, the expiry timer and the failover peer need.
//!
//! The table is the working copy; the lease store (the `dhcp-store` crate) holds the durable one. The
//! engine (and the failover peer) change the table and hand the changed records
//! to the store, which commits them before any reply that depends on them leaves.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use crate::hashing::FastMap;
use crate::lease::{BindingState, ClientKey, Lease, UnixTime};

/// Index of a pool in the table (in configuration order).
pub type PoolIndex = usize;

/// A pool as the table knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSpec {
    /// First address.
    pub start: Ipv4Addr,
    /// Last address (inclusive).
    pub end: Ipv4Addr,
    /// The shared network (link) the pool is on.
    pub network: usize,
    /// The failover relationship sharing the pool, if any.
    pub failover_peer: Option<String>,
}

impl PoolSpec {
    fn contains(&self, a: Ipv4Addr) -> bool {
        (u32::from(self.start)..=u32::from(self.end)).contains(&u32::from(a))
    }
}

/// Counts of leases by binding state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateCounts {
    /// FREE.
    pub free: u64,
    /// ACTIVE.
    pub active: u64,
    /// EXPIRED.
    pub expired: u64,
    /// RELEASED.
    pub released: u64,
    /// ABANDONED.
    pub abandoned: u64,
    /// RESET.
    pub reset: u64,
    /// BACKUP.
    pub backup: u64,
}

impl StateCounts {
    fn slot(&mut self, s: BindingState) -> &mut u64 {
        match s {
            BindingState::Free => &mut self.free,
            BindingState::Active => &mut self.active,
            BindingState::Expired => &mut self.expired,
            BindingState::Released => &mut self.released,
            BindingState::Abandoned => &mut self.abandoned,
            BindingState::Reset => &mut self.reset,
            BindingState::Backup => &mut self.backup,
        }
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &StateCounts) {
        self.free += other.free;
        self.active += other.active;
        self.expired += other.expired;
        self.released += other.released;
        self.abandoned += other.abandoned;
        self.reset += other.reset;
        self.backup += other.backup;
    }

    /// The count for one state.
    pub fn get(&self, s: BindingState) -> u64 {
        let mut c = *self;
        *c.slot(s)
    }

    /// Total number of addresses.
    pub fn total(&self) -> u64 {
        self.free
            + self.active
            + self.expired
            + self.released
            + self.abandoned
            + self.reset
            + self.backup
    }
}

#[derive(Debug, Default)]
struct PoolIndexes {
    /// Per state, `(ends, addr)` ordered: the least recently used first.
    /// Held addresses are left out (they are not candidates).
    by_state: [BTreeSet<(UnixTime, Ipv4Addr)>; 7],
    counts: StateCounts,
}

impl PoolIndexes {
    fn set(s: BindingState) -> usize {
        usize::from(s.code()) - 1
    }
    /// Counts `l` and, unless it is held, makes it a candidate.
    fn add(&mut self, l: &Lease, held: bool) {
        if !held {
            self.by_state[Self::set(l.state)].insert((l.ends, l.addr));
        }
        *self.counts.slot(l.state) += 1;
    }
    fn remove(&mut self, l: &Lease) {
        self.by_state[Self::set(l.state)].remove(&(l.ends, l.addr));
        let c = self.counts.slot(l.state);
        *c = c.saturating_sub(1);
    }
}

/// Error from [`LeaseTable::upsert`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TableError {
    /// The address belongs to no configured pool and is not a reservation.
    #[error("address {0} is in no configured pool")]
    UnknownAddress(Ipv4Addr),
}

/// One pool address: its record, and whether it is held for an offer (then
/// it is out of the candidate sets).
#[derive(Debug)]
struct Slot {
    lease: Lease,
    held: bool,
}

/// All lease records, indexed by address, by client, and per pool by state.
///
/// A pool's records sit in one array in address order, so finding the record
/// of an address is arithmetic rather than a hash lookup (the request path
/// does several per request, over tens of thousands of addresses). Pools never
/// overlap (configuration validation refuses it); an address belongs to the
/// first pool that contains it.
#[derive(Debug, Default)]
pub struct LeaseTable {
    /// Per pool, a slot for every address, at `addr - start`.
    slots: Vec<Vec<Slot>>,
    /// Records for addresses outside every pool (host reservations).
    outside: FastMap<Ipv4Addr, Lease>,
    by_client: FastMap<ClientKey, Ipv4Addr>,
    pools: Vec<PoolSpec>,
    indexes: Vec<PoolIndexes>,
}

impl LeaseTable {
    /// A table with every address of `pools` FREE and never used.
    pub fn new(pools: Vec<PoolSpec>) -> Self {
        let mut t = LeaseTable {
            indexes: pools.iter().map(|_| PoolIndexes::default()).collect(),
            slots: Vec::with_capacity(pools.len()),
            pools,
            ..LeaseTable::default()
        };
        for (spec, idx) in t.pools.iter().zip(&mut t.indexes) {
            let (start, end) = (u32::from(spec.start), u32::from(spec.end));
            let slots = (start..=end)
                .map(|a| {
                    let lease = Lease::new_free(Ipv4Addr::from(a), BindingState::Free);
                    idx.add(&lease, false);
                    Slot { lease, held: false }
                })
                .collect();
            t.slots.push(slots);
        }
        t
    }

    /// The pool and slot of a pool address.
    fn locate(&self, addr: Ipv4Addr) -> Option<(PoolIndex, usize)> {
        let p = self.pool_of(addr)?;
        Some((p, self.offset_in(p, addr)?))
    }

    /// Where `addr` sits in pool `p`'s slots.
    fn offset_in(&self, p: PoolIndex, addr: Ipv4Addr) -> Option<usize> {
        let offset = u32::from(addr).checked_sub(u32::from(self.pools.get(p)?.start))?;
        usize::try_from(offset).ok()
    }

    fn slot(&self, addr: Ipv4Addr) -> Option<&Slot> {
        let (p, i) = self.locate(addr)?;
        self.slots.get(p)?.get(i)
    }

    /// The pools, in configuration order.
    pub fn pools(&self) -> &[PoolSpec] {
        &self.pools
    }

    /// The pool holding `addr`.
    pub fn pool_of(&self, addr: Ipv4Addr) -> Option<PoolIndex> {
        self.pools.iter().position(|p| p.contains(addr))
    }

    /// The record of `addr`.
    pub fn get(&self, addr: Ipv4Addr) -> Option<&Lease> {
        match self.slot(addr) {
            Some(slot) => Some(&slot.lease),
            None => self.outside.get(&addr),
        }
    }

    /// The address most recently associated with `key` (bound now or before).
    pub fn by_client(&self, key: &ClientKey) -> Option<&Lease> {
        let addr = self.by_client.get(key)?;
        self.get(*addr).filter(|l| l.client.as_ref() == Some(key))
    }

    /// Every record (no particular order).
    pub fn iter(&self) -> impl Iterator<Item = &Lease> {
        self.slots
            .iter()
            .flatten()
            .map(|s| &s.lease)
            .chain(self.outside.values())
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.slots.iter().map(Vec::len).sum::<usize>() + self.outside.len()
    }

    /// Whether the table holds no records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Counts by state over every pool of shared network `network`.
    pub fn network_counts(&self, network: usize) -> StateCounts {
        let mut sum = StateCounts::default();
        for (spec, idx) in self.pools.iter().zip(&self.indexes) {
            if spec.network == network {
                sum.add(&idx.counts);
            }
        }
        sum
    }

    /// Counts by state for one pool.
    pub fn counts(&self, pool: PoolIndex) -> StateCounts {
        self.indexes.get(pool).map(|i| i.counts).unwrap_or_default()
    }

    /// The leases of `pool` in `state`, least recently used (smallest `ends`) first.
    pub fn in_state(&self, pool: PoolIndex, state: BindingState) -> impl Iterator<Item = &Lease> {
        let slots = self.slots.get(pool).map_or(&[][..], Vec::as_slice);
        self.indexes
            .get(pool)
            .into_iter()
            .flat_map(move |i| i.by_state[PoolIndexes::set(state)].iter())
            .filter_map(move |(_, a)| Some(&slots.get(self.offset_in(pool, *a)?)?.lease))
    }

    /// The leases in `state` across all pools whose `ends` is at or before `t`,
    /// soonest first. Used for expiry and reclaim timers.
    pub fn due(&self, state: BindingState, t: UnixTime) -> Vec<Ipv4Addr> {
        let mut out = Vec::new();
        for idx in &self.indexes {
            for (ends, a) in idx.by_state[PoolIndexes::set(state)].iter() {
                if *ends > t {
                    break;
                }
                out.push(*a);
            }
        }
        out
    }

    /// The earliest `ends` among leases in `state` (for scheduling the next timer).
    pub fn earliest(&self, state: BindingState) -> Option<UnixTime> {
        self.indexes
            .iter()
            .filter_map(|i| i.by_state[PoolIndexes::set(state)].first().map(|(e, _)| *e))
            .min()
    }

    /// Inserts or replaces the record for `lease.addr`, keeping every index
    /// true. Addresses outside the pools are accepted only when `allow_outside`
    /// (host reservations). Returns the previous record.
    pub fn upsert_ext(
        &mut self,
        lease: Lease,
        allow_outside: bool,
    ) -> Result<Option<Lease>, TableError> {
        let addr = lease.addr;
        let (old, new_client) = match self.locate(addr) {
            Some((p, i)) => {
                let Some(slot) = self.slots.get_mut(p).and_then(|s| s.get_mut(i)) else {
                    return Err(TableError::UnknownAddress(addr));
                };
                let idx = &mut self.indexes[p];
                idx.remove(&slot.lease);
                // Binding or rewriting the address ends any hold.
                slot.held = false;
                idx.add(&lease, false);
                let client = lease.client.clone();
                (Some(std::mem::replace(&mut slot.lease, lease)), client)
            }
            None if allow_outside => {
                let client = lease.client.clone();
                (self.outside.insert(addr, lease), client)
            }
            None => return Err(TableError::UnknownAddress(addr)),
        };
        if let Some(o) = &old
            && let Some(k) = &o.client
            && o.client != new_client
            && self.by_client.get(k) == Some(&o.addr)
        {
            self.by_client.remove(k);
        }
        if let Some(k) = new_client {
            self.by_client.insert(k, addr);
        }
        Ok(old)
    }

    /// Takes `addr` out of the allocation candidates (an offer is held for a
    /// client) without changing its record. Idempotent.
    pub fn hold(&mut self, addr: Ipv4Addr) {
        let Some((p, i)) = self.locate(addr) else {
            return;
        };
        let Some(slot) = self.slots.get_mut(p).and_then(|s| s.get_mut(i)) else {
            return;
        };
        let l = &slot.lease;
        if slot.held
            || !matches!(
                l.state,
                BindingState::Free
                    | BindingState::Backup
                    | BindingState::Expired
                    | BindingState::Released
                    | BindingState::Reset
            )
        {
            return;
        }
        slot.held = true;
        self.indexes[p].by_state[PoolIndexes::set(l.state)].remove(&(l.ends, addr));
    }

    /// Returns a held address to the candidates. Idempotent.
    pub fn unhold(&mut self, addr: Ipv4Addr) {
        let Some((p, i)) = self.locate(addr) else {
            return;
        };
        let Some(slot) = self.slots.get_mut(p).and_then(|s| s.get_mut(i)) else {
            return;
        };
        if slot.held {
            slot.held = false;
            let l = &slot.lease;
            self.indexes[p].by_state[PoolIndexes::set(l.state)].insert((l.ends, addr));
        }
    }

    /// Whether `addr` is held.
    pub fn is_held(&self, addr: Ipv4Addr) -> bool {
        self.slot(addr).is_some_and(|s| s.held)
    }

    /// [`Self::upsert_ext`] for pool addresses only.
    pub fn upsert(&mut self, lease: Lease) -> Result<Option<Lease>, TableError> {
        self.upsert_ext(lease, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::HwAddr;

    fn table() -> LeaseTable {
        LeaseTable::new(vec![PoolSpec {
            start: Ipv4Addr::new(10, 99, 0, 10),
            end: Ipv4Addr::new(10, 99, 0, 19),
            network: 0,
            failover_peer: None,
        }])
    }

    #[test]
    fn new_table_has_every_address_free() {
        let t = table();
        assert_eq!(t.len(), 10);
        assert_eq!(t.counts(0).free, 10);
        assert_eq!(t.in_state(0, BindingState::Free).count(), 10);
    }

    #[test]
    fn upsert_moves_indexes() {
        let mut t = table();
        let key = ClientKey::Hw(HwAddr::ethernet([1, 2, 3, 4, 5, 6]));
        let mut l = t.get(Ipv4Addr::new(10, 99, 0, 12)).cloned().unwrap();
        l.state = BindingState::Active;
        l.client = Some(key.clone());
        l.ends = 100;
        t.upsert(l.clone()).unwrap();
        assert_eq!(t.counts(0).free, 9);
        assert_eq!(t.counts(0).active, 1);
        assert_eq!(t.by_client(&key).map(|l| l.addr), Some(l.addr));
        assert!(t.due(BindingState::Active, 99).is_empty());
        assert_eq!(t.due(BindingState::Active, 100), vec![l.addr]);
        // Rebinding the address to another client drops the old client index.
        let other = ClientKey::Hw(HwAddr::ethernet([9, 9, 9, 9, 9, 9]));
        l.client = Some(other.clone());
        t.upsert(l.clone()).unwrap();
        assert!(t.by_client(&key).is_none());
        assert_eq!(t.by_client(&other).map(|l| l.addr), Some(l.addr));
    }

    #[test]
    fn held_addresses_are_not_candidates_until_released_or_bound() {
        let mut t = table();
        let a = Ipv4Addr::new(10, 99, 0, 10);
        t.hold(a);
        assert!(t.is_held(a));
        assert_eq!(t.in_state(0, BindingState::Free).count(), 9);
        assert_eq!(t.counts(0).free, 10, "holds do not change counts");
        t.unhold(a);
        assert_eq!(t.in_state(0, BindingState::Free).count(), 10);
        // Binding a held address clears the hold and indexes it as active.
        t.hold(a);
        let mut l = t.get(a).cloned().unwrap();
        l.state = BindingState::Active;
        l.ends = 50;
        t.upsert(l).unwrap();
        assert!(!t.is_held(a));
        assert_eq!(t.due(BindingState::Active, 50), vec![a]);
        // Active leases are never held (expiry must still see them).
        t.hold(a);
        assert!(!t.is_held(a));
    }

    #[test]
    fn records_outside_the_pools_are_kept_when_allowed() {
        let mut t = table();
        let a = Ipv4Addr::new(10, 99, 5, 5);
        let key = ClientKey::Hw(HwAddr::ethernet([1, 2, 3, 4, 5, 6]));
        let mut l = Lease::new_free(a, BindingState::Active);
        l.client = Some(key.clone());
        assert_eq!(t.upsert_ext(l.clone(), true), Ok(None));
        assert_eq!(t.get(a), Some(&l));
        assert_eq!(t.by_client(&key).map(|l| l.addr), Some(a));
        assert_eq!(t.len(), 11);
        assert_eq!(t.iter().filter(|l| l.addr == a).count(), 1);
        assert!(!t.is_held(a));
        // Pool figures are untouched by an outside record.
        assert_eq!(t.counts(0).total(), 10);
    }

    #[test]
    fn every_pool_address_has_its_own_record() {
        let mut t = LeaseTable::new(vec![
            PoolSpec {
                start: Ipv4Addr::new(10, 99, 0, 10),
                end: Ipv4Addr::new(10, 99, 0, 12),
                network: 0,
                failover_peer: None,
            },
            PoolSpec {
                start: Ipv4Addr::new(10, 99, 1, 250),
                end: Ipv4Addr::new(10, 99, 2, 1),
                network: 1,
                failover_peer: None,
            },
        ]);
        assert_eq!(t.len(), 11);
        for a in [
            [10, 99, 0, 10],
            [10, 99, 0, 12],
            [10, 99, 1, 250],
            [10, 99, 2, 1],
        ] {
            let a = Ipv4Addr::from(a);
            assert_eq!(t.get(a).map(|l| l.addr), Some(a));
        }
        for a in [
            [10, 99, 0, 9],
            [10, 99, 0, 13],
            [10, 99, 1, 249],
            [10, 99, 2, 2],
        ] {
            assert_eq!(t.get(Ipv4Addr::from(a)), None);
        }
        let a = Ipv4Addr::new(10, 99, 2, 0);
        let mut l = t.get(a).cloned().unwrap();
        l.state = BindingState::Active;
        t.upsert(l).unwrap();
        assert_eq!(t.counts(1).active, 1);
        assert_eq!(t.counts(0).active, 0);
        assert_eq!(
            t.in_state(1, BindingState::Free)
                .map(|l| l.addr)
                .collect::<Vec<_>>(),
            [
                [10, 99, 1, 250],
                [10, 99, 1, 251],
                [10, 99, 1, 252],
                [10, 99, 1, 253],
                [10, 99, 1, 254],
                [10, 99, 1, 255],
                [10, 99, 2, 1]
            ]
            .map(Ipv4Addr::from)
        );
    }

    #[test]
    fn unknown_address_is_refused() {
        let mut t = table();
        let l = Lease::new_free(Ipv4Addr::new(10, 99, 1, 1), BindingState::Free);
        assert_eq!(
            t.upsert(l),
            Err(TableError::UnknownAddress(Ipv4Addr::new(10, 99, 1, 1)))
        );
    }
}
