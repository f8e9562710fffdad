//! One simulated failover server: a [`Peer`], its working lease table, its
//! durable store (leases and persisted state, written in order through a
//! commit queue), and a minimal DHCP engine that allocates, renews, releases,
//! expires and reclaims leases through [`FailoverPolicy`] exactly as the
//! engine must.

use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv4Addr;

use dhcp_core::config::FailoverConfig;
use dhcp_core::lease::{BindingState, ClientKey, HwAddr, Lease, UnixTime};
use dhcp_core::policy::{LeasePolicy, QueryKind, ServeQuery};
use dhcp_core::table::{LeaseTable, PoolSpec};

use crate::peer::{CommitToken, Event, Peer, PeerError, PersistedState};
use crate::policy::FailoverPolicy;

/// A durable write, applied in order.
#[derive(Debug, Clone)]
pub enum Write {
    /// Leases changed by the peer; confirm `token` once written.
    Peer(CommitToken, Vec<Lease>),
    /// Leases changed by the engine; tell the peer, then answer `reply`.
    Engine(Vec<Lease>, Option<Reply>),
    /// The peer's persisted state.
    State(PersistedState),
}

/// A DHCPACK waiting for its lease to be durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// The client (index in the simulation).
    pub client: usize,
    /// The address.
    pub addr: Ipv4Addr,
    /// The lease end, in this server's clock.
    pub ends: UnixTime,
    /// What the MCLT rule allowed: `max(now, tsfp) + MCLT` before the grant.
    pub mclt_bound: UnixTime,
}

/// One simulated server.
#[derive(Debug)]
pub struct Server {
    /// Configuration of its failover relationship.
    pub cfg: FailoverConfig,
    /// The pools.
    pub pools: Vec<PoolSpec>,
    /// Clock offset from true time, seconds.
    pub skew: i64,
    /// Running (false while crashed).
    pub up: bool,
    /// The peer (replaced on restart).
    pub peer: Peer,
    /// The working lease table (rebuilt from `durable` on restart).
    pub table: LeaseTable,
    /// Durable lease records.
    pub durable: BTreeMap<Ipv4Addr, Lease>,
    /// Durable persisted failover state.
    pub durable_state: Option<PersistedState>,
    /// Writes not yet durable: (true time in ms when it completes, write).
    pub queue: VecDeque<(u64, Write)>,
}

impl Server {
    /// A brand-new server (empty store) at local time `now`.
    pub fn new(
        cfg: FailoverConfig,
        pools: Vec<PoolSpec>,
        skew: i64,
        now: UnixTime,
    ) -> Result<Self, PeerError> {
        let peer = Peer::new(cfg.clone(), None, now)?;
        Ok(Self {
            table: LeaseTable::new(pools.clone()),
            cfg,
            pools,
            skew,
            up: true,
            peer,
            durable: BTreeMap::new(),
            durable_state: None,
            queue: VecDeque::new(),
        })
    }

    /// Crash: every write not yet durable is lost.
    pub fn crash(&mut self) {
        self.up = false;
        self.queue.clear();
    }

    /// Restart from the durable store at local time `now`.
    pub fn restart(&mut self, now: UnixTime) -> Result<(), PeerError> {
        let mut table = LeaseTable::new(self.pools.clone());
        for l in self.durable.values() {
            let _ = table.upsert(l.clone());
        }
        self.table = table;
        self.peer = Peer::new(self.cfg.clone(), self.durable_state.clone(), now)?;
        self.up = true;
        Ok(())
    }

    /// The policy snapshot.
    pub fn policy(&self) -> FailoverPolicy {
        self.peer.policy()
    }

    /// Queues a write completing at `at_ms` (after every earlier one).
    pub fn enqueue(&mut self, at_ms: u64, w: Write) {
        let at = self.queue.back().map_or(at_ms, |(t, _)| (*t).max(at_ms));
        self.queue.push_back((at, w));
    }

    /// Applies the writes due by `now_ms`; returns the replies now releasable.
    /// `local` is the server's clock.
    pub fn apply_due(&mut self, now_ms: u64, local: UnixTime) -> Vec<Reply> {
        let mut replies = Vec::new();
        while self.queue.front().is_some_and(|(t, _)| *t <= now_ms) {
            let Some((_, w)) = self.queue.pop_front() else {
                break;
            };
            match w {
                Write::Peer(token, leases) => {
                    for l in leases {
                        self.durable.insert(l.addr, l);
                    }
                    self.peer.handle_committed(token);
                }
                Write::Engine(leases, reply) => {
                    for l in leases {
                        self.peer.local_lease_changed(local, &l);
                        self.durable.insert(l.addr, l);
                    }
                    replies.extend(reply);
                }
                Write::State(s) => self.durable_state = Some(s),
            }
        }
        replies
    }

    /// Takes the peer's events: commits and state go to the write queue
    /// (completing at `at_ms`); close requests are returned.
    pub fn drain_events(&mut self, at_ms: u64) -> Vec<Event> {
        let mut other = Vec::new();
        while let Some(e) = self.peer.poll_event() {
            match e {
                Event::Commit { token, leases } => self.enqueue(at_ms, Write::Peer(token, leases)),
                Event::Persist(s) => self.enqueue(at_ms, Write::State(s)),
                e => other.push(e),
            }
        }
        other
    }

    // ------------------------------------------------------------------ engine

    /// DISCOVER+REQUEST: allocates (or re-finds) an address for the client and
    /// stages the ACTIVE lease; the reply is due when the write is durable.
    pub fn allocate(
        &mut self,
        client: usize,
        key: &ClientKey,
        hw: &HwAddr,
        secs: u16,
        desired: u32,
        now: UnixTime,
    ) -> Option<(Lease, Reply)> {
        let pol = self.policy();
        let q = ServeQuery {
            kind: QueryKind::Discover,
            hash_key: &hw.addr,
            secs,
            now,
        };
        if !pol.should_serve(&q) {
            return None;
        }
        let pick = self.pick_free(&pol, now)?;
        Some(self.grant(client, pick, key, hw, desired, now, &pol))
    }

    fn pick_free(&self, pol: &FailoverPolicy, now: UnixTime) -> Option<Lease> {
        let order = [
            pol.own_free_state(),
            BindingState::Expired,
            BindingState::Released,
            crate::peer::peer_free(pol.role),
            BindingState::Reset,
        ];
        for pool in 0..self.pools.len() {
            for s in order {
                if let Some(l) = self
                    .table
                    .in_state(pool, s)
                    .find(|l| pol.may_allocate(l, now))
                {
                    return Some(l.clone());
                }
            }
        }
        None
    }

    #[allow(clippy::too_many_arguments)]
    fn grant(
        &mut self,
        client: usize,
        mut l: Lease,
        key: &ClientKey,
        hw: &HwAddr,
        desired: u32,
        now: UnixTime,
        pol: &FailoverPolicy,
    ) -> (Lease, Reply) {
        let mclt_bound = now.max(l.tsfp).saturating_add(pol.mclt);
        let granted = pol.grant_time(&l, desired, now);
        l.state = BindingState::Active;
        l.client = Some(key.clone());
        l.hw = Some(hw.clone());
        l.client_id = None;
        l.starts = now;
        l.ends = now.saturating_add(granted);
        l.cltt = now;
        pol.on_ack(&mut l, desired, granted, now);
        let _ = self.table.upsert(l.clone());
        let reply = Reply {
            client,
            addr: l.addr,
            ends: l.ends,
            mclt_bound,
        };
        (l, reply)
    }

    /// RENEW (unicast, `rebinding` false) or REBIND (broadcast): extends the
    /// client's lease on `addr` if this server answers and holds it for them.
    #[allow(clippy::too_many_arguments)]
    pub fn renew(
        &mut self,
        client: usize,
        key: &ClientKey,
        hw: &HwAddr,
        addr: Ipv4Addr,
        desired: u32,
        now: UnixTime,
    ) -> Option<(Lease, Reply)> {
        let pol = self.policy();
        let q = ServeQuery {
            kind: QueryKind::RequestNoServerId,
            hash_key: &hw.addr,
            secs: 0,
            now,
        };
        if !pol.should_serve(&q) {
            return None;
        }
        let l = self.table.get(addr)?.clone();
        if !l.is_active_for(key, now) {
            return None;
        }
        Some(self.grant(client, l, key, hw, desired, now, &pol))
    }

    /// RELEASE: the lease goes to the policy's release state.
    pub fn release(&mut self, key: &ClientKey, addr: Ipv4Addr, now: UnixTime) -> Option<Lease> {
        let pol = self.policy();
        let q = ServeQuery {
            kind: QueryKind::Other,
            hash_key: &[],
            secs: 0,
            now,
        };
        if !pol.should_serve(&q) {
            return None;
        }
        let mut l = self.table.get(addr)?.clone();
        if !l.is_active_for(key, now) {
            return None;
        }
        l.state = pol.release_state(&l);
        l.ends = now;
        l.tstp = now;
        l.starts = now;
        let _ = self.table.upsert(l.clone());
        Some(l)
    }

    /// The expiry and reclaim timers: returns the changed leases (already in
    /// the working table).
    pub fn expire(&mut self, now: UnixTime) -> Vec<Lease> {
        let pol = self.policy();
        let mut changed = Vec::new();
        for addr in self.table.due(BindingState::Active, now) {
            let Some(mut l) = self.table.get(addr).cloned() else {
                continue;
            };
            if let Some(s) = pol.expiry_state(&l, now) {
                l.state = s;
                l.tstp = l.ends;
                l.starts = now;
                let _ = self.table.upsert(l.clone());
                changed.push(l);
            }
        }
        for s in [
            BindingState::Expired,
            BindingState::Released,
            BindingState::Reset,
        ] {
            let cands: Vec<Lease> = (0..self.pools.len())
                .flat_map(|p| self.table.in_state(p, s).cloned().collect::<Vec<_>>())
                .collect();
            for mut l in cands {
                if pol.reclaim_at(&l).is_some_and(|t| t <= now) {
                    l.state = pol.own_free_state();
                    l.starts = now;
                    l.tstp = now;
                    let _ = self.table.upsert(l.clone());
                    changed.push(l);
                }
            }
        }
        changed
    }
}
