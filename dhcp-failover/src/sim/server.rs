//! One simulated failover server: a [`Peer`], the real DHCP engine
//! ([`dhcp_core::engine::Engine`], which owns the working lease table), a
//! durable store (leases and persisted state, written in order through a
//! commit queue), and the glue a daemon has: engine writes are made durable
//! before the reply leaves and are then handed to the peer.

use std::collections::{BTreeMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};

use dhcp_core::config::{Config, FailoverConfig, Role};
use dhcp_core::engine::{Engine, RecvInfo, Verdict};
use dhcp_core::lease::{Lease, UnixTime};
use dhcp_core::packet::decode_request;
use dhcp_core::table::LeaseTable;
use dhcproto::Encodable;
use dhcproto::v4::{DhcpOption, Message, MessageType};

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
    /// The `tsfp` the grant relied on.
    pub tsfp: UnixTime,
}

/// Error building a simulated server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The generated configuration was refused.
    #[error("simulated config: {0}")]
    Config(#[from] dhcp_core::config::ConfigError),
    /// The peer refused the failover configuration.
    #[error(transparent)]
    Peer(#[from] PeerError),
}

/// One simulated server.
pub struct Server {
    /// The whole configuration (one shared network, one pool, one relationship).
    pub cfg: Config,
    /// Its address (server identifier).
    pub addr: Ipv4Addr,
    /// Clock offset from true time, seconds.
    pub skew: i64,
    /// Running (false while crashed).
    pub up: bool,
    /// The peer (replaced on restart).
    pub peer: Peer,
    /// The engine, owner of the working lease table (rebuilt on restart).
    pub engine: Engine,
    /// Durable lease records.
    pub durable: BTreeMap<Ipv4Addr, Lease>,
    /// Durable persisted failover state.
    pub durable_state: Option<PersistedState>,
    /// Writes not yet durable: (true time in ms when it completes, write).
    pub queue: VecDeque<(u64, Write)>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .field("up", &self.up)
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

/// The configuration of a simulated server, as TOML (validated by
/// [`Config::from_toml`]).
pub fn config_toml(fo: &FailoverConfig, pool_size: u8, lease_time: u32) -> String {
    let primary = fo.role == Role::Primary;
    let mut s = format!(
        r#"
[server]
offer_hold = 5
ignore_client_uids = true

[lease_time]
default = {lease_time}
max = {lease_time}

[[shared_networks]]
name = "sim"
interface = "eth0"
[[shared_networks.subnets]]
subnet = "10.99.1.0/24"
[[shared_networks.subnets.pools]]
start = "10.99.1.1"
end = "10.99.1.{pool_size}"
failover_peer = "{name}"

[[failover]]
name = "{name}"
role = "{role}"
address = "{address}"
peer_address = "{peer_address}"
max_response_delay = {mrd}
max_unacked_updates = {window}
load_balance_max_seconds = {lbms}
auto_partner_down = {apd}
max_lease_misbalance = {mis}
max_lease_ownership = {own}
min_balance = {minb}
max_balance = {maxb}
"#,
        name = fo.name,
        role = if primary { "primary" } else { "secondary" },
        address = fo.address,
        peer_address = fo.peer_address,
        mrd = fo.max_response_delay,
        window = fo.max_unacked_updates,
        lbms = fo.load_balance_max_seconds,
        apd = fo.auto_partner_down,
        mis = fo.max_lease_misbalance,
        own = fo.max_lease_ownership,
        minb = fo.min_balance,
        maxb = fo.max_balance,
    );
    if primary {
        s.push_str(&format!(
            "mclt = {}\nsplit = {}\n",
            fo.mclt.unwrap_or(3600),
            fo.split.unwrap_or(128)
        ));
    }
    s
}

impl Server {
    /// A brand-new server (empty store) at local time `now`.
    pub fn new(
        fo: FailoverConfig,
        pool_size: u8,
        lease_time: u32,
        addr: Ipv4Addr,
        skew: i64,
        now: UnixTime,
    ) -> Result<Self, ServerError> {
        let cfg = Config::from_toml(&config_toml(&fo, pool_size, lease_time))?;
        let peer = Peer::new(fo, None, now)?;
        Ok(Self {
            engine: Engine::new(cfg.clone()),
            cfg,
            addr,
            skew,
            up: true,
            peer,
            durable: BTreeMap::new(),
            durable_state: None,
            queue: VecDeque::new(),
        })
    }

    /// The working lease table.
    pub fn table(&self) -> &LeaseTable {
        self.engine.table()
    }

    /// The peer and the table it works on.
    pub fn parts(&mut self) -> (&mut Peer, &mut LeaseTable) {
        (&mut self.peer, self.engine.table_mut())
    }

    /// Crash: every write not yet durable is lost.
    pub fn crash(&mut self) {
        self.up = false;
        self.queue.clear();
    }

    /// Restart from the durable store at local time `now`.
    pub fn restart(&mut self, now: UnixTime) -> Result<(), ServerError> {
        let mut engine = Engine::new(self.cfg.clone());
        engine.restore(self.durable.values().cloned());
        self.engine = engine;
        let fo = self
            .cfg
            .failover
            .first()
            .cloned()
            .ok_or_else(|| PeerError::PrimaryIncomplete("sim".into()))?;
        self.peer = Peer::new(fo, self.durable_state.clone(), now)?;
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
    /// (completing at `at_ms`); the others are returned.
    pub fn drain_events(&mut self, at_ms: u64) -> Vec<Event> {
        let mut other = Vec::new();
        while let Some(e) = self.peer.poll_event() {
            match e {
                Event::Commit { token, leases, .. } => {
                    self.enqueue(at_ms, Write::Peer(token, leases))
                }
                Event::Persist(s) => self.enqueue(at_ms, Write::State(s)),
                e => other.push(e),
            }
        }
        other
    }

    // ------------------------------------------------------------------ engine

    fn handle(&mut self, m: &Message, now: UnixTime) -> Option<dhcp_core::engine::Outcome> {
        let bytes = m.to_vec().ok()?;
        let req = decode_request(&bytes).ok()?;
        let info = RecvInfo {
            interface: Some("eth0"),
            local_addr: self.addr,
            src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
        };
        let policy = self.peer.policy();
        Some(self.engine.handle(&policy, &req, &info, now))
    }

    /// DISCOVER: the address offered, if this server answers.
    pub fn discover(&mut self, mac: [u8; 6], secs: u16, now: UnixTime) -> Option<Ipv4Addr> {
        let mut m = message(MessageType::Discover, mac);
        m.set_secs(secs);
        let out = self.handle(&m, now)?;
        match out.reply {
            Some(r) if r.msg_type == MessageType::Offer => Some(r.msg.yiaddr()),
            _ => None,
        }
    }

    /// REQUEST in SELECTING (after our OFFER), RENEWING (`ciaddr`, unicast) or
    /// REBINDING. On ACK returns the writes to commit and the reply to release
    /// after the commit.
    pub fn request(
        &mut self,
        client: usize,
        mac: [u8; 6],
        addr: Ipv4Addr,
        selecting: bool,
        now: UnixTime,
    ) -> Option<(Vec<Lease>, Reply)> {
        let mut m = message(MessageType::Request, mac);
        if selecting {
            m.opts_mut().insert(DhcpOption::RequestedIpAddress(addr));
            m.opts_mut().insert(DhcpOption::ServerIdentifier(self.addr));
        } else {
            m.set_ciaddr(addr);
        }
        let before = self.table().get(addr).cloned();
        let out = self.handle(&m, now)?;
        let r = out.reply.as_ref()?;
        if r.msg_type != MessageType::Ack || out.verdict != Verdict::Replied(MessageType::Ack) {
            return None;
        }
        let lease = out.writes.iter().find(|l| l.addr == addr)?.clone();
        let policy = self.peer.policy();
        let tsfp = before.map_or(0, |l| l.tsfp);
        let reply = Reply {
            client,
            addr,
            ends: lease.ends,
            mclt_bound: now.max(tsfp).saturating_add(policy.mclt),
            tsfp,
        };
        Some((out.writes, reply))
    }

    /// RELEASE: the writes to commit, if this server took it.
    pub fn release(&mut self, mac: [u8; 6], addr: Ipv4Addr, now: UnixTime) -> Vec<Lease> {
        let mut m = message(MessageType::Release, mac);
        m.set_ciaddr(addr);
        m.opts_mut().insert(DhcpOption::ServerIdentifier(self.addr));
        self.handle(&m, now).map(|o| o.writes).unwrap_or_default()
    }

    /// The engine's timers (expiry, reclaim): the writes to commit.
    pub fn tick(&mut self, now: UnixTime) -> Vec<Lease> {
        let policy = self.peer.policy();
        self.engine.tick(&policy, now)
    }
}

fn message(ty: MessageType, mac: [u8; 6]) -> Message {
    let xid = u32::from_be_bytes([mac[2], mac[3], mac[4], mac[5]]);
    let mut m = Message::new_with_id(
        xid,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        &mac,
    );
    m.opts_mut().insert(DhcpOption::MessageType(ty));
    m
}
