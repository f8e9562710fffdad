//! What time does to bindings: expiry and reclaim under each pool's policy,
//! the next wake-up, and offer holds.

use super::*;

impl Engine {
    /// Moves bindings on by time: expiry of ACTIVE leases, reclaim of EXPIRED,
    /// RELEASED, RESET and (after `abandon_time`) ABANDONED ones, each under
    /// the policy of its pool's relationship. Returns the changed records to
    /// commit.
    pub fn tick<P: Policies + ?Sized>(&mut self, policies: &P, now: UnixTime) -> Vec<Lease> {
        self.expire_offers(now);
        self.limits_tick(now);
        let mut writes = Vec::new();
        for addr in self.table.due(BindingState::Active, now) {
            let Some(l) = self.table.get(addr) else {
                continue;
            };
            let policy = policies.policy(self.relationship_of(addr));
            if let Some(state) = policy.expiry_state(l, now) {
                let mut l = l.clone();
                l.state = state;
                l.starts = now;
                l.tstp = l.ends;
                writes.push(l);
            }
        }
        for state in [
            BindingState::Expired,
            BindingState::Released,
            BindingState::Reset,
        ] {
            for addr in self.table.due(state, now) {
                let Some(l) = self.table.get(addr) else {
                    continue;
                };
                if l.state == BindingState::Free {
                    continue;
                }
                let policy = policies.policy(self.relationship_of(addr));
                if policy.reclaim_at(l).is_some_and(|t| t <= now) {
                    let mut l = l.clone();
                    l.state = policy.own_free_state();
                    l.starts = now;
                    writes.push(l);
                }
            }
        }
        for addr in self.table.due(BindingState::Abandoned, now) {
            let Some(l) = self.table.get(addr) else {
                continue;
            };
            let policy = policies.policy(self.relationship_of(addr));
            let mut l = l.clone();
            l.state = policy.own_free_state();
            l.starts = now;
            writes.push(l);
        }
        writes.retain(|l| self.table.upsert(l.clone()).is_ok());
        writes
    }

    /// When [`Self::tick`] next has work (expiries and offer holds).
    pub fn next_wakeup<P: Policies + ?Sized>(&self, policies: &P) -> Option<UnixTime> {
        let mut t = [BindingState::Active, BindingState::Abandoned]
            .iter()
            .filter_map(|s| self.table.earliest(*s))
            .min();
        for state in [
            BindingState::Expired,
            BindingState::Released,
            BindingState::Reset,
        ] {
            for (p, spec) in self.table.pools().iter().enumerate() {
                let policy = policies.policy(spec.failover_peer.as_deref());
                for l in self.table.in_state(p, state) {
                    if let Some(r) = policy.reclaim_at(l) {
                        t = Some(t.map_or(r, |x| x.min(r)));
                    }
                }
            }
        }
        if let Some((o, _)) = self.offer_expiry.first() {
            t = Some(t.map_or(*o, |x| x.min(*o)));
        }
        t
    }

    pub(super) fn hold_offer(&mut self, addr: Ipv4Addr, key: ClientKey, now: UnixTime) {
        let expires = now.saturating_add(self.cfg.server.offer_hold);
        if let Some(prev) = self.offers_by_client.insert(key.clone(), addr)
            && prev != addr
        {
            self.forget_offer(prev);
        }
        if let Some(old) = self.offers.insert(addr, Offer { key, expires }) {
            self.offer_expiry.remove(&(old.expires, addr));
        }
        self.offer_expiry.insert((expires, addr));
        self.table.hold(addr);
    }

    /// Drops the hold on `addr` (not the client index).
    pub(super) fn forget_offer(&mut self, addr: Ipv4Addr) {
        if let Some(o) = self.offers.remove(&addr) {
            self.offer_expiry.remove(&(o.expires, addr));
            self.table.unhold(addr);
        }
    }

    pub(super) fn drop_offer(&mut self, key: &ClientKey) {
        if let Some(a) = self.offers_by_client.remove(key) {
            self.forget_offer(a);
        }
    }

    pub(super) fn expire_offers(&mut self, now: UnixTime) {
        while let Some(&(t, addr)) = self.offer_expiry.first() {
            if t > now {
                break;
            }
            self.offer_expiry.pop_first();
            if let Some(o) = self.offers.remove(&addr) {
                if self.offers_by_client.get(&o.key) == Some(&addr) {
                    self.offers_by_client.remove(&o.key);
                }
                self.table.unhold(addr);
            }
        }
    }

    /// Number of outstanding offer holds.
    pub fn offers_held(&self) -> usize {
        self.offers.len()
    }
}
