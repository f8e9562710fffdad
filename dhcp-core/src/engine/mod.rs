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
mod discover;
mod inform;
mod limits;
mod release;
mod reply;
mod request;
mod time;

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
    /// A new client over a `[limits]` rate (per relay, link or MAC).
    RateLimited,
    /// A new client whose source already holds its `[limits]` share of the link.
    ShareLimited,
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
            Self::RateLimited => "rate_limited",
            Self::ShareLimited => "share_limited",
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
    /// Starvation limits' state.
    limiter: limits::Limiter,
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
            limiter: limits::Limiter::default(),
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
        // A relay's link selection (RFC 3527) or the client's subnet
        // selection (RFC 3011) names the link; then giaddr, else the
        // interface. A named link with no subnet here gets no answer.
        let network = match selected_link(req) {
            Some(link) => self
                .topo
                .subnet_of(link)
                .map(|s| self.topo.subnets[s].network),
            None => self
                .topo
                .network_for(msg.giaddr(), info.interface, info.local_addr),
        };
        let Some(network) = network else {
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
            reserved: self
                .topo
                .host_for(client.client_id.as_deref(), &client.hw)
                .is_some_and(|h| self.topo.on_network(network, h.address)),
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
            echo_client_id: self.cfg.server.echo_client_id,
            always_send_timers: self.cfg.server.always_send_timers,
        };
        self.emit(
            reply::finish(msg, m, parts, Destination::for_reply(msg, addr)),
            out,
        );
    }

    fn nak(&self, msg: &Message, why: &str, info: &RecvInfo<'_>, out: &mut Outcome) {
        self.emit(
            reply::nak(msg, info.local_addr, why, self.cfg.server.echo_client_id),
            out,
        );
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

/// The link a request names for itself: the link selection sub-option (5)
/// of the relay agent information (RFC 3527), which wins, or the subnet
/// selection option (118, RFC 3011).
fn selected_link(req: &Request) -> Option<Ipv4Addr> {
    let addr = |v: &[u8]| <[u8; 4]>::try_from(v).ok().map(Ipv4Addr::from);
    if let Some(mut subs) = req.raw(82) {
        while let [code, len, rest @ ..] = subs {
            let len = usize::from(*len);
            let Some(value) = rest.get(..len) else { break };
            if *code == 5 {
                return addr(value);
            }
            subs = &rest[len..];
        }
    }
    req.raw(reply::SUBNET_SELECTION).and_then(addr)
}
