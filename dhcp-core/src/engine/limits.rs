//! Starvation limits on new clients ([`crate::config::LimitsConfig`]): one
//! token bucket per source for the rate, and per source the addresses its
//! new clients hold (offered or bound) for the share.
//!
//! A holding is counted until it is found released: the list of a source is
//! pruned (entries whose address is no longer offered to, nor bound to, the
//! same client are dropped) when it reaches the cap and on every tick, so a
//! count is never below the truth and is exact at least once a second.
//! Idle sources (bucket full, nothing held) are forgotten on the tick, so a
//! flood of random MACs leaves no state behind.

use std::net::Ipv4Addr;

use super::{Engine, IgnoreReason};
use crate::config::SourceLimit;
use crate::hashing::FastMap;
use crate::lease::{BindingState, ClientKey, UnixTime};

/// Where a new client came from, for one kind of limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Source {
    /// Through the relay agent at this address.
    Relay(Ipv4Addr),
    /// For this link (shared network index).
    Link(usize),
    /// From this hardware address (up to 8 bytes, with `hlen`).
    Mac(u64, u8),
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: u32,
    at: UnixTime,
}

#[derive(Debug, Default)]
struct Holding {
    held: Vec<(Ipv4Addr, ClientKey)>,
}

/// The limiter's state.
#[derive(Debug, Default)]
pub(super) struct Limiter {
    buckets: FastMap<Source, Bucket>,
    holdings: FastMap<Source, Holding>,
}

impl Source {
    /// The hardware-address source of `chaddr` (its first `hlen` bytes, at
    /// most 8 of them).
    pub(super) fn mac(chaddr: &[u8]) -> Self {
        let n = chaddr.len().min(8);
        let mut v = 0u64;
        for b in &chaddr[..n] {
            v = v << 8 | u64::from(*b);
        }
        Source::Mac(v, chaddr.len().min(255) as u8)
    }
}

impl Engine {
    fn limit_of(&self, s: &Source) -> Option<SourceLimit> {
        let l = &self.cfg.limits;
        match s {
            Source::Relay(_) => l.per_relay,
            Source::Link(_) => l.per_link,
            Source::Mac(..) => l.per_mac,
        }
    }

    /// The sources of a new client's DISCOVER that have a limit.
    pub(super) fn limited_sources(
        &self,
        giaddr: Ipv4Addr,
        network: usize,
        chaddr: &[u8],
    ) -> [Option<Source>; 3] {
        let l = &self.cfg.limits;
        [
            (l.per_relay.is_some() && !giaddr.is_unspecified()).then_some(Source::Relay(giaddr)),
            l.per_link.is_some().then_some(Source::Link(network)),
            l.per_mac.is_some().then(|| Source::mac(chaddr)),
        ]
    }

    /// Whether every source may start one more new allocation now; refuses
    /// without charging anything.
    pub(super) fn limits_admit(
        &mut self,
        sources: &[Option<Source>; 3],
        network: usize,
        now: UnixTime,
    ) -> Result<(), IgnoreReason> {
        let dynamic = self.table.network_counts(network).total();
        for s in sources.iter().flatten() {
            let Some(limit) = self.limit_of(s) else {
                continue;
            };
            if limit.new_per_second > 0 {
                let b = self.refilled(s, &limit, now);
                if b.tokens == 0 {
                    return Err(IgnoreReason::RateLimited);
                }
            }
            if let Some(pct) = limit.max_share_percent {
                let cap = (dynamic * u64::from(pct) / 100).max(1);
                let count = self.limiter.holdings.get(s).map_or(0, |h| h.held.len());
                if count as u64 >= cap && self.prune_holding(s, now) as u64 >= cap {
                    return Err(IgnoreReason::ShareLimited);
                }
            }
        }
        Ok(())
    }

    /// Charges an admitted allocation of `addr` to `key`.
    pub(super) fn limits_charge(
        &mut self,
        sources: &[Option<Source>; 3],
        addr: Ipv4Addr,
        key: &ClientKey,
    ) {
        for s in sources.iter().flatten() {
            let Some(limit) = self.limit_of(s) else {
                continue;
            };
            if limit.new_per_second > 0
                && let Some(b) = self.limiter.buckets.get_mut(s)
            {
                b.tokens = b.tokens.saturating_sub(1);
            }
            if limit.max_share_percent.is_some() {
                self.limiter
                    .holdings
                    .entry(*s)
                    .or_default()
                    .held
                    .push((addr, key.clone()));
            }
        }
    }

    /// The bucket of `s` refilled to `now` (created full).
    fn refilled(&mut self, s: &Source, limit: &SourceLimit, now: UnixTime) -> Bucket {
        let size = limit.bucket();
        let b = self.limiter.buckets.entry(*s).or_insert(Bucket {
            tokens: size,
            at: now,
        });
        let gained = now
            .saturating_sub(b.at)
            .saturating_mul(limit.new_per_second);
        if gained > 0 {
            b.tokens = b.tokens.saturating_add(gained).min(size);
            b.at = now;
        }
        *b
    }

    /// Drops the holdings of `s` that are over; returns how many remain.
    fn prune_holding(&mut self, s: &Source, now: UnixTime) -> usize {
        let Some(mut h) = self.limiter.holdings.remove(s) else {
            return 0;
        };
        h.held.retain(|(a, k)| self.still_held(*a, k, now));
        let n = h.held.len();
        if n > 0 {
            self.limiter.holdings.insert(*s, h);
        }
        n
    }

    fn still_held(&self, addr: Ipv4Addr, key: &ClientKey, now: UnixTime) -> bool {
        self.offers
            .get(&addr)
            .is_some_and(|o| &o.key == key && o.expires > now)
            || self.table.get(addr).is_some_and(|l| {
                l.state == BindingState::Active && l.client.as_ref() == Some(key) && l.ends > now
            })
    }

    /// The tick's housekeeping: prune every holding, forget idle sources.
    pub(super) fn limits_tick(&mut self, now: UnixTime) {
        if !self.cfg.limits.any() {
            return;
        }
        let sources: Vec<Source> = self.limiter.holdings.keys().copied().collect();
        for s in &sources {
            self.prune_holding(s, now);
        }
        let limits = self.cfg.limits.clone();
        self.limiter.buckets.retain(|s, b| {
            let limit = match s {
                Source::Relay(_) => limits.per_relay,
                Source::Link(_) => limits.per_link,
                Source::Mac(..) => limits.per_mac,
            };
            limit.is_some_and(|l| {
                let gained = now.saturating_sub(b.at).saturating_mul(l.new_per_second);
                b.tokens.saturating_add(gained) < l.bucket()
            })
        });
    }
}
