//! Address selection for DHCPDISCOVER.

use std::net::Ipv4Addr;

use super::{Client, Engine};
use crate::lease::{BindingState, UnixTime};
use crate::policy::LeasePolicy;

impl Engine {
    /// Picks the address to offer, in order of preference: the client's current
    /// binding; an address already offered to it; its previous address; the
    /// address it asks for; then the least recently used address this server
    /// may allocate (own free state first, then others the policy allows, then
    /// expired, released and reset leases).
    pub(super) fn choose_address(
        &self,
        policy: &dyn LeasePolicy,
        c: &Client,
        network: usize,
        now: UnixTime,
    ) -> Option<Ipv4Addr> {
        let free_for = |addr: Ipv4Addr| -> bool {
            if !self.topo.on_network(network, addr) {
                return false;
            }
            if self
                .offers
                .get(&addr)
                .is_some_and(|o| o.key != c.key && o.expires > now)
            {
                return false;
            }
            match self.table.get(addr) {
                Some(l) if l.client.as_ref() == Some(&c.key) => policy.may_return(l, now),
                Some(l) if l.state == BindingState::Active && l.ends > now => false,
                Some(l) => policy.may_allocate(l, now),
                None => false,
            }
        };
        if let Some(l) = self.table.by_client(&c.key)
            && l.state == BindingState::Active
            && self.topo.on_network(network, l.addr)
        {
            return Some(l.addr);
        }
        if let Some(a) = self.offers_by_client.get(&c.key)
            && self.topo.on_network(network, *a)
            && self.offers.get(a).is_some_and(|o| o.expires > now)
        {
            return Some(*a);
        }
        if let Some(l) = self.table.by_client(&c.key)
            && free_for(l.addr)
        {
            return Some(l.addr);
        }
        if let Some(a) = c.requested_addr
            && self
                .table
                .get(a)
                .is_some_and(|l| l.client.is_none() || l.client.as_ref() == Some(&c.key))
            && free_for(a)
        {
            return Some(a);
        }
        let own = policy.own_free_state();
        let other = if own == BindingState::Free {
            BindingState::Backup
        } else {
            BindingState::Free
        };
        let pools: Vec<usize> = self
            .table
            .pools()
            .iter()
            .enumerate()
            .filter(|(_, p)| p.network == network)
            .map(|(i, _)| i)
            .collect();
        for state in [
            own,
            other,
            BindingState::Expired,
            BindingState::Released,
            BindingState::Reset,
        ] {
            for &p in &pools {
                for l in self.table.in_state(p, state) {
                    if self
                        .offers
                        .get(&l.addr)
                        .is_some_and(|o| o.key != c.key && o.expires > now)
                    {
                        continue;
                    }
                    if policy.may_allocate(l, now) {
                        return Some(l.addr);
                    }
                }
            }
        }
        None
    }
}
