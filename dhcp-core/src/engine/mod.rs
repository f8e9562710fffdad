//! The sans-IO DHCPv4 server engine.
//!
//! [`Engine::handle`] takes a validated request, where it arrived and the
//! current time, and returns an [`Outcome`]: at most one reply with its
//! destination, and the lease records that changed. **The caller must make
//! `Outcome::writes` durable before sending `Outcome::reply`** (the daemon batches
//! many outcomes into one store commit). [`Engine::tick`] moves bindings on by
//! time (expiry, reclaim). Failover decisions are delegated to a
//! [`LeasePolicy`].

mod alloc;
mod reply;

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;

use dhcproto::v4::{DhcpOption, Message, MessageType, OptionCode};

pub use reply::{Destination, Reply, nak};

use crate::config::{Config, HostConfig, LeaseTimes, OptionSet, PxeConfig, PxeRule};
use crate::hashing::FastMap;
use crate::lease::{BindingState, ClientKey, HwAddr, Lease, UnixTime};
use crate::network::{Topology, client_key};
use crate::packet::Request;
use crate::policy::{LeasePolicy, Policies, QueryKind, ServeQuery};
use crate::pxe::{self, BootClient, BootSelection};
use crate::table::{LeaseTable, StateCounts};

/// Where a request arrived.
#[derive(Debug, Clone, Copy)]
pub struct RecvInfo<'a> {
    /// Name of the receiving interface, if known.
    pub interface: Option<&'a str>,
    /// Our address on the receiving interface: the server identifier we use.
    pub local_addr: Ipv4Addr,
    /// The datagram's source.
    pub src: SocketAddrV4,
}

/// What happened to a request, for the one-line transaction log and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Answered with OFFER, ACK or NAK.
    Replied(MessageType),
    /// Lease released.
    Released,
    /// Address declined and abandoned.
    Declined,
    /// Deliberately not answered.
    Ignored(IgnoreReason),
}

/// Why a request got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoreReason {
    /// No subnet configured for the link it came from.
    UnknownNetwork,
    /// The failover state or load balancing says the partner answers.
    NotOurs,
    /// A REQUEST naming another server.
    OtherServer,
    /// No record of the client's address (RFC 2131 silence rule).
    NoRecord,
    /// No free address this server may allocate.
    PoolExhausted,
    /// A required field was missing (e.g. option 50 in SELECTING).
    Malformed,
    /// RELEASE/DECLINE for a lease the client does not hold.
    NotBound,
    /// The reply could not be encoded.
    EncodeFailed,
}

impl IgnoreReason {
    /// A short label for logs and metrics.
    pub fn label(self) -> &'static str {
        match self {
            Self::UnknownNetwork => "unknown_network",
            Self::NotOurs => "not_ours",
            Self::OtherServer => "other_server",
            Self::NoRecord => "no_record",
            Self::PoolExhausted => "pool_exhausted",
            Self::Malformed => "malformed",
            Self::NotBound => "not_bound",
            Self::EncodeFailed => "encode_failed",
        }
    }
}

/// The result of handling one request.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The reply; send it only after `writes` are durable.
    pub reply: Option<Reply>,
    /// Lease records that changed, to commit.
    pub writes: Vec<Lease>,
    /// What happened.
    pub verdict: Verdict,
    /// The request's message type.
    pub request_type: MessageType,
    /// The client's hardware address.
    pub hw: HwAddr,
    /// The address concerned, if any.
    pub addr: Option<Ipv4Addr>,
    /// The lease time granted (ACK only).
    pub lease_time: Option<u32>,
}

#[derive(Debug, Clone)]
struct Offer {
    key: ClientKey,
    expires: UnixTime,
}

/// Facts about the client extracted from a request.
struct Client {
    key: ClientKey,
    hw: HwAddr,
    client_id: Option<Vec<u8>>,
    hostname: Option<String>,
    requested_addr: Option<Ipv4Addr>,
    requested_time: Option<u32>,
    server_id: Option<Ipv4Addr>,
    boot: BootClient,
}

/// The DHCP server state machine (one per server, all networks).
pub struct Engine {
    cfg: Config,
    topo: Topology,
    rules: Vec<PxeRule>,
    table: LeaseTable,
    offers: FastMap<Ipv4Addr, Offer>,
    offers_by_client: FastMap<ClientKey, Ipv4Addr>,
    /// Offer holds ordered by expiry.
    offer_expiry: BTreeSet<(UnixTime, Ipv4Addr)>,
}

/// What [`Engine::restore`] found in the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RestoreReport {
    /// Records loaded into the table.
    pub restored: usize,
    /// Records for addresses no longer in any pool (left in the store, unused).
    pub orphaned: usize,
}

impl Engine {
    /// An engine for a validated configuration, every pool address free.
    pub fn new(cfg: Config) -> Self {
        let topo = Topology::new(&cfg);
        let table = LeaseTable::new(topo.pools.clone());
        Self {
            rules: cfg.pxe.effective_rules(),
            cfg,
            topo,
            table,
            offers: FastMap::default(),
            offers_by_client: FastMap::default(),
            offer_expiry: BTreeSet::new(),
        }
    }

    /// Loads stored records (after a restart).
    pub fn restore(&mut self, leases: impl IntoIterator<Item = Lease>) -> RestoreReport {
        let mut r = RestoreReport::default();
        for l in leases {
            match self.table.upsert(l) {
                Ok(_) => r.restored += 1,
                Err(_) => r.orphaned += 1,
            }
        }
        r
    }

    /// Applies a new configuration, keeping every lease whose address is still
    /// in a pool. Returns how many were dropped from the table.
    pub fn reconfigure(&mut self, cfg: Config) -> RestoreReport {
        let old: Vec<Lease> = self.table.iter().cloned().collect();
        let runtime_hosts: Vec<HostConfig> = self
            .topo
            .hosts()
            .iter()
            .filter(|h| !self.cfg.hosts.iter().any(|c| c.name == h.name))
            .cloned()
            .collect();
        *self = Engine::new(cfg);
        for h in runtime_hosts {
            self.topo.add_host(h);
        }
        self.restore(
            old.into_iter()
                .filter(|l| l.state != BindingState::Free || l.ends != 0),
        )
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The lease table.
    pub fn table(&self) -> &LeaseTable {
        &self.table
    }

    /// The lease table, for the failover peer to apply partner updates.
    pub fn table_mut(&mut self) -> &mut LeaseTable {
        &mut self.table
    }

    /// The compiled topology.
    pub fn topology(&self) -> &Topology {
        &self.topo
    }

    /// Adds or replaces a host reservation at runtime (effective at once).
    pub fn add_host(&mut self, host: HostConfig) {
        self.topo.add_host(host);
    }

    /// Removes a runtime or configured host reservation by name.
    pub fn remove_host(&mut self, name: &str) -> bool {
        self.topo.remove_host(name)
    }

    /// Handles one request under the policy of its shared network's failover
    /// relationship. See the module docs for the durability contract.
    pub fn handle<P: Policies + ?Sized>(
        &mut self,
        policies: &P,
        req: &Request,
        info: &RecvInfo<'_>,
        now: UnixTime,
    ) -> Outcome {
        let msg = &req.msg;
        let hw = HwAddr {
            htype: u8::from(msg.htype()),
            addr: msg.chaddr().to_vec(),
        };
        let mut out = Outcome {
            reply: None,
            writes: Vec::new(),
            verdict: Verdict::Ignored(IgnoreReason::UnknownNetwork),
            request_type: req.msg_type,
            hw: hw.clone(),
            addr: None,
            lease_time: None,
        };
        let Some(network) = self
            .topo
            .network_for(msg.giaddr(), info.interface, info.local_addr)
        else {
            return out;
        };
        let policy = policies.policy(
            self.topo
                .networks
                .get(network)
                .and_then(|n| n.failover_peer.as_deref()),
        );
        let ignore_uids = self
            .topo
            .networks
            .get(network)
            .and_then(|n| n.subnets.first())
            .map(|s| self.topo.subnets[*s].ignore_client_uids)
            .unwrap_or(self.cfg.server.ignore_client_uids);
        let client = self.client(req, hw, ignore_uids);
        let server_id = client.server_id;
        let kind = match req.msg_type {
            MessageType::Discover => QueryKind::Discover,
            MessageType::Request if server_id.is_some() => QueryKind::RequestSelecting,
            MessageType::Request => QueryKind::RequestNoServerId,
            _ => QueryKind::Other,
        };
        let hash_key = req.raw(61).unwrap_or(msg.chaddr());
        let q = ServeQuery {
            kind,
            hash_key,
            secs: msg.secs(),
            now,
            network_counts: if kind == QueryKind::Discover {
                self.table.network_counts(network)
            } else {
                StateCounts::default()
            },
        };
        if !policy.should_serve(&q) {
            out.verdict = Verdict::Ignored(IgnoreReason::NotOurs);
            return out;
        }
        self.expire_offers(now);
        let t = Txn {
            policy,
            msg,
            client,
            network,
            info,
            now,
        };
        match req.msg_type {
            MessageType::Discover => self.discover(&t, &mut out),
            MessageType::Request => self.request(&t, &mut out),
            MessageType::Release => self.release(&t, &mut out),
            MessageType::Decline => self.decline(&t, &mut out),
            MessageType::Inform => self.inform(&t, &mut out),
            _ => {}
        }
        out
    }

    fn client(&self, req: &Request, hw: HwAddr, ignore_uids: bool) -> Client {
        let opts = req.msg.opts();
        let client_id = req.raw(61).map(<[u8]>::to_vec);
        let ip = |code| match opts.get(code) {
            Some(DhcpOption::RequestedIpAddress(a)) | Some(DhcpOption::ServerIdentifier(a)) => {
                Some(*a)
            }
            _ => None,
        };
        Client {
            key: client_key(client_id.as_deref(), &hw, ignore_uids),
            hw,
            hostname: req.raw(12).map(|h| String::from_utf8_lossy(h).into_owned()),
            requested_addr: ip(OptionCode::RequestedIpAddress),
            server_id: ip(OptionCode::ServerIdentifier),
            requested_time: match opts.get(OptionCode::AddressLeaseTime) {
                Some(DhcpOption::AddressLeaseTime(t)) => Some(*t),
                _ => None,
            },
            client_id,
            boot: BootClient::from_options(req.raw(93), req.raw(60), req.raw(77), req.raw(175)),
        }
    }

    /// Options, lease times and boot selection in scope for a client at `addr`.
    fn scope(
        &self,
        c: &Client,
        addr: Ipv4Addr,
        host: Option<&HostConfig>,
        local: Ipv4Addr,
    ) -> Scope {
        let subnet = self.topo.subnet_of(addr).map(|i| &self.topo.subnets[i]);
        let mut options = subnet
            .map(|s| s.options.clone())
            .unwrap_or_else(|| Arc::new(self.cfg.options.clone()));
        let mut times = subnet.map(|s| s.lease_time).unwrap_or(self.cfg.lease_time);
        for class in &self.cfg.classes {
            let vc = class
                .vendor_class_prefix
                .as_ref()
                .is_none_or(|p| c.boot.vendor_class_starts_with(p));
            let uc = class
                .user_class
                .as_ref()
                .is_none_or(|u| c.boot.user_classes.iter().any(|x| x == u.as_bytes()));
            if vc && uc {
                options = Arc::new(class.options.or(&options));
                times = class.lease_time.or(times);
            }
        }
        let pxe_cfg: &PxeConfig = &self.cfg.pxe;
        if let Some(t) = pxe::pxe_lease_time(pxe_cfg, &c.boot) {
            times = LeaseTimes {
                default: Some(t),
                max: Some(t),
                min: None,
            };
        }
        let next_server = host
            .and_then(|h| h.next_server)
            .or(subnet.and_then(|s| s.next_server));
        if let Some(h) = host {
            options = Arc::new(h.options.or(&options));
            times = h.lease_time.or(times);
        }
        let boot =
            if subnet.is_some_and(|s| s.pxe) && host.and_then(|h| h.boot_file.as_ref()).is_none() {
                pxe::select(&self.rules, &c.boot, next_server.unwrap_or(local))
            } else {
                None
            };
        Scope {
            options,
            lease_time: times.choose(c.requested_time),
            next_server: next_server.unwrap_or(Ipv4Addr::UNSPECIFIED),
            boot,
            host_boot_file: host.and_then(|h| h.boot_file.clone()),
        }
    }

    fn host_on(&self, c: &Client, network: usize) -> Option<HostConfig> {
        self.topo
            .host_for(c.client_id.as_deref(), &c.hw)
            .filter(|h| self.topo.on_network(network, h.address))
            .cloned()
    }

    fn discover(&mut self, t: &Txn<'_>, out: &mut Outcome) {
        let (policy, msg, c, network, info, now) = t.parts();
        let host = self.host_on(c, network);
        let addr = match &host {
            Some(h) => h.address,
            None => match self.choose_address(policy, c, network, now) {
                Some(a) => a,
                None => {
                    out.verdict = Verdict::Ignored(IgnoreReason::PoolExhausted);
                    return;
                }
            },
        };
        let scope = self.scope(c, addr, host.as_ref(), info.local_addr);
        let lease_time = if host.is_some() {
            scope.lease_time
        } else {
            let granted = match self.table.get(addr) {
                Some(l) => policy.grant_time(l, scope.lease_time, now),
                None => scope.lease_time,
            };
            self.hold_offer(addr, c.key.clone(), now);
            granted.max(1)
        };
        self.respond(
            msg,
            MessageType::Offer,
            addr,
            Some(lease_time),
            &scope,
            info,
            out,
        );
    }

    fn request(&mut self, t: &Txn<'_>, out: &mut Outcome) {
        let (policy, msg, c, network, info, now) = t.parts();
        let authoritative = self.cfg.server.authoritative;
        let ciaddr = msg.ciaddr();
        // Which address is being asked for, and in which RFC 2131 state.
        let (addr, selecting) = match (c.server_id, c.requested_addr) {
            (Some(sid), requested) => {
                if sid != info.local_addr {
                    // The client chose another server; forget our offer.
                    self.drop_offer(&c.key);
                    out.verdict = Verdict::Ignored(IgnoreReason::OtherServer);
                    return;
                }
                match requested.or((!ciaddr.is_unspecified()).then_some(ciaddr)) {
                    Some(a) => (a, true),
                    None => {
                        out.verdict = Verdict::Ignored(IgnoreReason::Malformed);
                        return;
                    }
                }
            }
            (None, Some(a)) if ciaddr.is_unspecified() => (a, false), // INIT-REBOOT
            (None, _) if !ciaddr.is_unspecified() => (ciaddr, false), // RENEWING / REBINDING
            (None, _) => {
                out.verdict = Verdict::Ignored(IgnoreReason::Malformed);
                return;
            }
        };
        out.addr = Some(addr);
        if !self.topo.on_network(network, addr) {
            if authoritative {
                self.nak(msg, "requested address is not on this network", info, out);
            } else {
                out.verdict = Verdict::Ignored(IgnoreReason::NoRecord);
            }
            return;
        }
        if let Some(h) = self.host_on(c, network) {
            if h.address == addr {
                let scope = self.scope(c, addr, Some(&h), info.local_addr);
                self.respond(
                    msg,
                    MessageType::Ack,
                    addr,
                    Some(scope.lease_time),
                    &scope,
                    info,
                    out,
                );
                out.lease_time = Some(scope.lease_time);
            } else {
                self.nak(msg, "client has a reserved address", info, out);
            }
            return;
        }
        let Some(lease) = self.table.get(addr).cloned() else {
            // On our network but in no pool: a reservation of another client, or
            // an address we do not manage.
            if authoritative {
                self.nak(msg, "address not available", info, out);
            } else {
                out.verdict = Verdict::Ignored(IgnoreReason::NoRecord);
            }
            return;
        };
        let mine = lease.client.as_ref() == Some(&c.key);
        let offered_to_client = self.offers.get(&addr).is_some_and(|o| o.key == c.key);
        let held_by_other = self
            .offers
            .get(&addr)
            .is_some_and(|o| o.key != c.key && o.expires > now);
        let bound_to_other = !mine && lease.state == BindingState::Active && lease.ends > now;
        let reserved_other = self.topo.is_reserved(addr);
        if bound_to_other || held_by_other || reserved_other {
            self.nak(msg, "address in use by another client", info, out);
            return;
        }
        let usable = (mine && lease.state == BindingState::Active && lease.ends > now)
            || policy.may_allocate(&lease, now);
        if selecting {
            // The client takes up an offer: it must be one we may still honour.
            if !(usable && (offered_to_client || mine || lease.state.is_free())) {
                self.nak(msg, "address not available", info, out);
                return;
            }
        } else {
            // INIT-REBOOT, RENEWING, REBINDING: we answer only for a binding we
            // have a record of (RFC 2131 §4.3.2); otherwise we stay silent.
            if !mine {
                let holds_other = self.table.by_client(&c.key).is_some_and(|h| {
                    h.addr != addr && h.state == BindingState::Active && h.ends > now
                });
                if holds_other {
                    self.nak(msg, "client holds a different address", info, out);
                } else {
                    out.verdict = Verdict::Ignored(IgnoreReason::NoRecord);
                }
                return;
            }
            if !usable {
                out.verdict = Verdict::Ignored(IgnoreReason::NoRecord);
                return;
            }
        }
        let scope = self.scope(c, addr, None, info.local_addr);
        let granted = policy.grant_time(&lease, scope.lease_time, now).max(1);
        let mut new = lease.clone();
        new.state = BindingState::Active;
        new.client = Some(c.key.clone());
        new.hw = Some(c.hw.clone());
        // The record carries a client identifier only when it identifies the
        // client: with ignore-client-uids the hardware address does, and a
        // failover partner rebuilds the client from what the record carries.
        new.client_id = match &c.key {
            ClientKey::ClientId(_) => c.client_id.clone(),
            ClientKey::Hw(_) => None,
        };
        new.hostname = c.hostname.clone();
        new.starts = now;
        new.ends = now.saturating_add(granted);
        new.cltt = now;
        policy.on_ack(&mut new, scope.lease_time, granted, now);
        // Release any other binding this client held on this network.
        if let Some(old) = self.table.by_client(&c.key).cloned()
            && old.addr != addr
            && old.state == BindingState::Active
        {
            let mut freed = old;
            freed.state = policy.release_state(&freed);
            freed.ends = now;
            freed.starts = now;
            self.commit(freed, out);
        }
        self.commit(new, out);
        self.drop_offer(&c.key);
        self.respond(
            msg,
            MessageType::Ack,
            addr,
            Some(granted),
            &scope,
            info,
            out,
        );
        out.lease_time = Some(granted);
    }

    fn release(&mut self, t: &Txn<'_>, out: &mut Outcome) {
        let (policy, msg, c, _, info, now) = t.parts();
        let addr = msg.ciaddr();
        out.addr = Some(addr);
        if c.server_id.is_some_and(|s| s != info.local_addr) {
            out.verdict = Verdict::Ignored(IgnoreReason::OtherServer);
            return;
        }
        match self.table.get(addr) {
            Some(l) if l.state == BindingState::Active && l.client.as_ref() == Some(&c.key) => {
                let mut l = l.clone();
                l.state = policy.release_state(&l);
                l.starts = now;
                l.ends = now;
                l.tstp = now;
                l.cltt = now;
                self.commit(l, out);
                out.verdict = Verdict::Released;
            }
            _ => out.verdict = Verdict::Ignored(IgnoreReason::NotBound),
        }
    }

    fn decline(&mut self, t: &Txn<'_>, out: &mut Outcome) {
        let (_, _, c, _, info, now) = t.parts();
        let Some(addr) = c.requested_addr else {
            out.verdict = Verdict::Ignored(IgnoreReason::Malformed);
            return;
        };
        out.addr = Some(addr);
        if c.server_id.is_some_and(|s| s != info.local_addr) {
            out.verdict = Verdict::Ignored(IgnoreReason::OtherServer);
            return;
        }
        let offered = self.offers.get(&addr).is_some_and(|o| o.key == c.key);
        match self.table.get(addr) {
            Some(l) if l.client.as_ref() == Some(&c.key) || offered => {
                let mut l = l.clone();
                l.state = BindingState::Abandoned;
                l.client = None;
                l.hw = None;
                l.client_id = None;
                l.hostname = None;
                l.starts = now;
                l.ends = now.saturating_add(self.cfg.server.abandon_time);
                l.tstp = l.ends;
                self.commit(l, out);
                self.drop_offer(&c.key);
                out.verdict = Verdict::Declined;
            }
            _ => out.verdict = Verdict::Ignored(IgnoreReason::NotBound),
        }
    }

    fn inform(&mut self, t: &Txn<'_>, out: &mut Outcome) {
        let (_, msg, c, network, info, _) = t.parts();
        let addr = if msg.ciaddr().is_unspecified() {
            info.src.ip().to_owned()
        } else {
            msg.ciaddr()
        };
        let addr = if self.topo.on_network(network, addr) {
            addr
        } else {
            match self.topo.networks[network].subnets.first() {
                Some(s) => self.topo.subnets[*s].net.network(),
                None => return,
            }
        };
        let scope = self.scope(c, addr, None, info.local_addr);
        let mut m = reply::header(msg, Ipv4Addr::UNSPECIFIED, scope.next_server);
        m.set_ciaddr(msg.ciaddr());
        let dest = if !msg.giaddr().is_unspecified() {
            Destination::Relay(msg.giaddr())
        } else if !msg.ciaddr().is_unspecified() {
            Destination::Unicast(msg.ciaddr())
        } else {
            Destination::Broadcast
        };
        let parts = reply::ReplyParts {
            msg_type: MessageType::Ack,
            server_id: info.local_addr,
            lease_time: None,
            options: &scope.options,
            boot: scope.boot.as_ref(),
            host_boot_file: scope.host_boot_file.as_deref(),
            message: None,
        };
        self.emit(reply::finish(msg, m, parts, dest), out);
    }

    #[allow(clippy::too_many_arguments)]
    fn respond(
        &self,
        msg: &Message,
        ty: MessageType,
        addr: Ipv4Addr,
        lease_time: Option<u32>,
        scope: &Scope,
        info: &RecvInfo<'_>,
        out: &mut Outcome,
    ) {
        out.addr = Some(addr);
        let mut m = reply::header(msg, addr, scope.next_server);
        if ty == MessageType::Ack {
            m.set_ciaddr(msg.ciaddr());
        }
        let parts = reply::ReplyParts {
            msg_type: ty,
            server_id: info.local_addr,
            lease_time,
            options: &scope.options,
            boot: scope.boot.as_ref(),
            host_boot_file: scope.host_boot_file.as_deref(),
            message: None,
        };
        self.emit(
            reply::finish(msg, m, parts, Destination::for_reply(msg, addr)),
            out,
        );
    }

    fn nak(&self, msg: &Message, why: &str, info: &RecvInfo<'_>, out: &mut Outcome) {
        self.emit(reply::nak(msg, info.local_addr, why), out);
    }

    fn emit(&self, r: Result<Reply, crate::packet::EncodeError>, out: &mut Outcome) {
        match r {
            Ok(r) => {
                out.verdict = Verdict::Replied(r.msg_type);
                out.reply = Some(r);
            }
            Err(_) => out.verdict = Verdict::Ignored(IgnoreReason::EncodeFailed),
        }
    }

    fn commit(&mut self, lease: Lease, out: &mut Outcome) {
        if self.table.upsert(lease.clone()).is_ok() {
            out.writes.push(lease);
        }
    }

    /// Applies a lease record decided elsewhere (a failover partner's update or
    /// an operator action) to the table. The caller commits it.
    pub fn apply(&mut self, lease: Lease) -> Result<(), crate::table::TableError> {
        self.table.upsert(lease).map(|_| ())
    }

    /// The failover relationship governing `addr`: the one its pool names
    /// (`None` for pools without one and addresses outside every pool).
    pub fn relationship_of(&self, addr: Ipv4Addr) -> Option<&str> {
        self.table
            .pool_of(addr)
            .and_then(|p| self.table.pools().get(p))
            .and_then(|p| p.failover_peer.as_deref())
    }

    /// Moves bindings on by time: expiry of ACTIVE leases, reclaim of EXPIRED,
    /// RELEASED, RESET and (after `abandon_time`) ABANDONED ones, each under
    /// the policy of its pool's relationship. Returns the changed records to
    /// commit.
    pub fn tick<P: Policies + ?Sized>(&mut self, policies: &P, now: UnixTime) -> Vec<Lease> {
        self.expire_offers(now);
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

    fn hold_offer(&mut self, addr: Ipv4Addr, key: ClientKey, now: UnixTime) {
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
    fn forget_offer(&mut self, addr: Ipv4Addr) {
        if let Some(o) = self.offers.remove(&addr) {
            self.offer_expiry.remove(&(o.expires, addr));
            self.table.unhold(addr);
        }
    }

    fn drop_offer(&mut self, key: &ClientKey) {
        if let Some(a) = self.offers_by_client.remove(key) {
            self.forget_offer(a);
        }
    }

    fn expire_offers(&mut self, now: UnixTime) {
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

/// One request being handled: everything the per-message handlers need.
struct Txn<'a> {
    policy: &'a dyn LeasePolicy,
    msg: &'a Message,
    client: Client,
    network: usize,
    info: &'a RecvInfo<'a>,
    now: UnixTime,
}

impl<'a> Txn<'a> {
    #[allow(clippy::type_complexity)]
    fn parts(
        &self,
    ) -> (
        &'a dyn LeasePolicy,
        &'a Message,
        &Client,
        usize,
        &'a RecvInfo<'a>,
        UnixTime,
    ) {
        (
            self.policy,
            self.msg,
            &self.client,
            self.network,
            self.info,
            self.now,
        )
    }
}

/// What applies to one client at one address.
struct Scope {
    options: Arc<OptionSet>,
    lease_time: u32,
    next_server: Ipv4Addr,
    boot: Option<BootSelection>,
    host_boot_file: Option<String>,
}
