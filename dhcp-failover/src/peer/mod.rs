//! The failover peer: ISC's failover state machine for one relationship,
//! sans-IO, in the shape of quinn-proto.
//!
//! The driver (daemon or simulator) owns the TCP connection, the clock, the
//! lease store and the [`LeaseTable`]. It feeds inputs:
//! [`Peer::handle_connected`], [`Peer::handle_message`],
//! [`Peer::handle_disconnected`], [`Peer::handle_timeout`],
//! [`Peer::local_lease_changed`] (after the engine committed a lease),
//! [`Peer::partner_down`] (operator command) and [`Peer::handle_committed`];
//! and drains outputs: [`Peer::poll_transmit`], [`Peer::poll_timeout`] and
//! [`Peer::poll_event`]. The engine consults [`Peer::policy`].
//!
//! Durability contract: lease changes the peer makes (a partner's BNDUPD, a
//! BNDACK moving a lease to FREE, pool balancing) are applied to the table and
//! reported as [`Event::Commit`]; the BNDACK for a partner's update is released
//! by [`Peer::poll_transmit`] only after [`Peer::handle_committed`] confirmed
//! the commit carrying it. Lease changes the peer makes on its own (pool
//! balancing) are announced to the partner only after their commit too.
//!
//! Driver rules (the simulator in `crate::sim` follows them):
//! * after **every** input, drain [`Peer::poll_event`] at once and push
//!   [`Event::Commit`] and [`Event::Persist`] into the *same ordered* write
//!   pipeline as the engine's lease writes, before the engine handles the next
//!   packet: the store must see changes in the order the table saw them;
//! * call [`Peer::local_lease_changed`] only once the engine's write is durable;
//! * then drain [`Peer::poll_transmit`]; on [`Event::Close`] send what is
//!   queued and close the socket;
//! * call [`Peer::handle_timeout`] at [`Peer::poll_timeout`] (extra calls are harmless).
//!
//! Why this file is long: it is the protocol core, one type ([`Peer`]) whose
//! input handlers share its private state (connection phase, update queue,
//! timers, balancing). Everything that is a pure function of that state
//! already lives apart (`state` and `transition`: ISC's tables; `updates`:
//! the BNDUPD queue; `binding`: BNDUPD acceptance; `balance`: pool balancing;
//! `persist`, `event`); splitting `impl Peer` itself across files would only
//! make those files reach back into this one, as quinn-proto keeps its
//! `Connection` whole for the same reason.

pub(crate) mod balance;
mod binding;
mod event;
mod maintenance;
mod persist;
pub(crate) mod state;
mod transition;
mod updates;

use std::collections::{BTreeSet, VecDeque};
use std::net::Ipv4Addr;

use dhcp_core::config::{FailoverConfig, Role};
use dhcp_core::lease::{BindingState, Lease, UnixTime};
use dhcp_core::table::{LeaseTable, PoolIndex};

use crate::fencing::{Fence, FenceVerdict};
use crate::hash::LoadBalancer;
use crate::policy::FailoverPolicy;
use crate::wire::{
    Binding, BindingAck, Body, Connect, ConnectAck, Disconnect, Message, PoolResp, RejectReason,
    ServerFlags, StateMsg,
};

pub use balance::{own_free, peer_free};
pub use binding::EXPIRY_FUDGE;
pub use event::{CloseReason, CommitToken, Event};
pub use maintenance::{Maintenance, MaintenanceError};
pub use persist::PersistedState;
pub use state::{FailoverState, ServiceState};
pub use transition::{Reaction, on_disconnect, on_partner_state, on_update_done};

/// Seconds a new link may take to finish CONNECT/CONNECTACK, and the STARTUP
/// state's duration (ISC).
pub const STARTUP_SECS: u32 = 15;

/// Most addresses one balance run gives the partner; the next run comes
/// once the partner has acknowledged them. Bounds the update queue (and
/// the memory it holds) when a large pool is balanced for the first time:
/// half of a million-address pool would otherwise be queued at once.
pub const MAX_GIVE_PER_RUN: usize = 4096;

/// Largest clock difference accepted in CONNECT/CONNECTACK (ISC).
pub const MAX_SKEW_SECS: u32 = 60;

/// Window assumed when the partner does not send max-unacked-bndupd (ISC default).
pub const DEFAULT_PARTNER_WINDOW: u32 = 100;

/// MCLT a secondary uses before it has ever learnt one (ISC's default).
pub const DEFAULT_MCLT: u32 = 3600;

/// Vendor class we announce.
pub const VENDOR_CLASS: &str = concat!("rust-dhcp-failover-", env!("CARGO_PKG_VERSION"));

/// Error creating a peer.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerError {
    /// A primary needs `mclt` and `split` or `hba`.
    #[error("failover peer {0:?}: a primary needs mclt and split or hba")]
    PrimaryIncomplete(String),
}

/// The connection as the peer sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// No connection.
    Down,
    /// TCP is up; CONNECT/CONNECTACK not finished by `deadline`.
    Connecting { deadline: UnixTime },
    /// Handshake done.
    Up(Up),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Up {
    /// The partner's max-unacked-bndupd: how many updates we may have outstanding.
    window: u32,
    /// The partner's receive-timer; we send at least every third of it.
    partner_timer: u32,
    /// We drop the link if nothing arrives by then.
    recv_deadline: UnixTime,
    /// We send CONTACT if we have sent nothing by then.
    contact_at: UnixTime,
}

/// One failover relationship, as one of its two servers.
#[derive(Debug)]
pub struct Peer {
    cfg: FailoverConfig,
    p: PersistedState,
    /// STARTUP deadline while in STARTUP (`p.my_state` is then the saved state).
    startup: Option<UnixTime>,
    link: Link,
    updates: updates::UpdateQueue,
    ctrl: VecDeque<Message>,
    acks: VecDeque<(u64, Message)>,
    events: VecDeque<Event>,
    staged: Vec<Lease>,
    /// Our own lease changes to announce once their commit is confirmed.
    after_commit: VecDeque<(u64, Lease)>,
    /// Potential expiries sent for ACTIVE bindings and not (yet) covered by
    /// an acknowledgement: the partner may hold them even if the ack never
    /// came back.
    promised: std::collections::BTreeMap<Ipv4Addr, UnixTime>,
    next_token: u64,
    committed: u64,
    now: UnixTime,
    xid: u32,
    auto_pd_at: Option<UnixTime>,
    recover_wait_until: Option<UnixTime>,
    balance_at: Option<UnixTime>,
    /// When an update last brought the balance run forward.
    balance_nudged: Option<UnixTime>,
    /// Until when the partner is short of free addresses by its POOLREQ
    /// (see [`FailoverPolicy::partner_short_until`]); cleared once it has
    /// acknowledged every address we gave it.
    partner_short_until: Option<UnixTime>,
    /// Addresses given to the partner by balancing and not yet
    /// acknowledged (in this state).
    giving: usize,
    /// The last balance run stopped at [`MAX_GIVE_PER_RUN`]: run again once
    /// the partner has acknowledged what it gave.
    balance_more: bool,
    restore: Vec<Ipv4Addr>,
    /// Since when the link has been down (since start, or since it was
    /// lost); `None` while the handshake is complete. No binding update of
    /// a change after this time has been sent.
    down_since: Option<UnixTime>,
    /// The partner's clock minus ours at its last CONNECT or CONNECTACK.
    clock_offset: Option<i64>,
    /// Client-link evidence for a fencing-aware auto-partner-down.
    fence: Option<Fence>,
    /// The partner's announced maintenance ([`Peer::maintenance`]).
    maintenance: Maintenance,
    /// Addresses of the partner's UPDREQ/UPDREQALL not yet queued: their
    /// records are copied from the table a few at a time ([`REQUEST_QUEUE`]
    /// ahead of the window), not all at once, so that answering a full
    /// request for a million bindings does not hold a million copies.
    backlog: VecDeque<Ipv4Addr>,
}

/// How many answers to the partner's request are kept queued ahead.
const REQUEST_QUEUE: usize = 1024;

impl Peer {
    /// A peer for the relationship `cfg`, resuming `persisted` (or starting a
    /// brand-new relationship in RECOVER when `None`). Every start goes
    /// through STARTUP for up to 15 s (reference §4.1).
    pub fn new(
        cfg: FailoverConfig,
        persisted: Option<PersistedState>,
        now: UnixTime,
    ) -> Result<Self, PeerError> {
        if cfg.role == Role::Primary && (cfg.mclt.is_none() || cfg.load_balance().is_none()) {
            return Err(PeerError::PrimaryIncomplete(cfg.name.clone()));
        }
        let mut p = persisted.unwrap_or_else(|| PersistedState::new_relationship(now));
        if p.my_state == FailoverState::Startup {
            p.my_state = FailoverState::Unknown;
        }
        let restore = std::mem::take(&mut p.pending_updates);
        let fence = cfg.fencing.as_ref().map(|f| Fence::new(f.interval));
        let mut peer = Self {
            cfg,
            p,
            startup: Some(now.saturating_add(STARTUP_SECS)),
            link: Link::Down,
            updates: updates::UpdateQueue::default(),
            ctrl: VecDeque::new(),
            acks: VecDeque::new(),
            events: VecDeque::new(),
            staged: Vec::new(),
            after_commit: VecDeque::new(),
            promised: std::collections::BTreeMap::new(),
            next_token: 1,
            committed: 0,
            now,
            xid: 0,
            auto_pd_at: None,
            recover_wait_until: None,
            balance_at: None,
            balance_nudged: None,
            partner_short_until: None,
            giving: 0,
            balance_more: false,
            restore,
            down_since: Some(now),
            clock_offset: None,
            fence,
            maintenance: Maintenance::Off,
            backlog: VecDeque::new(),
        };
        peer.events.push_back(Event::StateChanged {
            from: peer.p.my_state,
            to: FailoverState::Startup,
        });
        Ok(peer)
    }

    // ----------------------------------------------------------------- queries

    /// My current state (STARTUP while starting).
    pub fn state(&self) -> FailoverState {
        if self.startup.is_some() {
            FailoverState::Startup
        } else {
            self.p.my_state
        }
    }

    /// The partner's last known state.
    pub fn partner_state(&self) -> FailoverState {
        self.p.partner_state
    }

    /// This server's role.
    pub fn role(&self) -> Role {
        self.cfg.role
    }

    /// The relationship configuration.
    pub fn config(&self) -> &FailoverConfig {
        &self.cfg
    }

    /// The start time of my current (or saved) state.
    pub fn stos(&self) -> UnixTime {
        self.p.my_stos
    }

    /// The MCLT in force: configured on a primary, learnt (or ISC's default)
    /// on a secondary.
    pub fn mclt(&self) -> u32 {
        match self.cfg.role {
            Role::Primary => self.cfg.mclt.unwrap_or(DEFAULT_MCLT),
            Role::Secondary => self.p.mclt.or(self.cfg.mclt).unwrap_or(DEFAULT_MCLT),
        }
    }

    /// The hash bucket assignment in force (configured, or learnt from CONNECT).
    pub fn hba(&self) -> Option<[u8; 32]> {
        match self.cfg.role {
            Role::Primary => self.cfg.load_balance().map(|lb| lb.hba()),
            Role::Secondary => self.p.hba,
        }
    }

    /// The partner's clock minus ours, in seconds, as its last CONNECT or
    /// CONNECTACK showed (for reports of a CONNECT refused for clock skew).
    pub fn clock_offset(&self) -> Option<i64> {
        self.clock_offset
    }

    /// Whether the CONNECT/CONNECTACK handshake has completed on the current link.
    pub fn is_linked(&self) -> bool {
        matches!(self.link, Link::Up(_))
    }

    /// Whether a connection (complete or not) is in place.
    pub fn has_connection(&self) -> bool {
        !matches!(self.link, Link::Down)
    }

    /// Number of binding updates queued and sent-but-unacknowledged.
    pub fn pending_updates(&self) -> (usize, usize) {
        (self.updates.queued_len(), self.updates.unacked_len())
    }

    /// The state to store durably now (the same value [`Event::Persist`] carries,
    /// with the current update queue).
    pub fn persisted(&self) -> PersistedState {
        let mut p = self.p.clone();
        let mut pending = self.updates.pending();
        pending.extend(self.restore.iter().copied());
        pending.sort();
        pending.dedup();
        p.pending_updates = pending;
        p
    }

    /// A snapshot of the answers the engine needs ([`dhcp_core::policy::LeasePolicy`]).
    /// Cheap; take a fresh one after every event (or per packet).
    pub fn policy(&self) -> FailoverPolicy {
        FailoverPolicy {
            role: self.cfg.role,
            state: self.state(),
            partner_state: self.p.partner_state,
            stos: self.p.my_stos,
            mclt: self.mclt(),
            balancer: LoadBalancer::new(
                self.cfg.role,
                self.hba(),
                self.cfg.load_balance_max_seconds,
            ),
            unsent_since: self.down_since,
            partner_short_until: self.partner_short_until,
            partner_maintenance: self.maintenance == Maintenance::Announced,
        }
    }

    /// The reply for a CONNECT (or CONNECTACK) arriving on a *second*
    /// connection while this peer already has one: the secondary answers
    /// CONNECTACK with reject reason 7, the primary DISCONNECT with reason 7.
    /// The driver sends it on that connection and closes it.
    pub fn duplicate_connection_reply(&self, msg: &Message) -> Option<Message> {
        let body = match &msg.body {
            Body::Connect(_) => Body::ConnectAck(ConnectAck {
                relationship_name: Some(self.cfg.name.as_bytes().to_vec()),
                reject_reason: Some(RejectReason::DuplicateConnection),
                ..ConnectAck::default()
            }),
            Body::ConnectAck(_) => Body::Disconnect(Disconnect {
                reject_reason: Some(RejectReason::DuplicateConnection),
                message: None,
            }),
            _ => return None,
        };
        Some(Message::new(self.now, msg.xid, body))
    }

    // ------------------------------------------------------------------ inputs

    /// A TCP connection to the partner is established (either direction). The
    /// primary sends CONNECT on it; the secondary waits for one.
    pub fn handle_connected(&mut self, now: UnixTime) {
        self.now = now;
        if self.has_connection() {
            return;
        }
        self.link = Link::Connecting {
            deadline: now.saturating_add(STARTUP_SECS),
        };
        if self.cfg.role == Role::Primary {
            let hba = self.hba();
            let connect = Connect {
                relationship_name: Some(self.cfg.name.as_bytes().to_vec()),
                max_unacked: Some(self.cfg.max_unacked_updates),
                receive_timer: Some(self.cfg.max_response_delay),
                vendor_class: Some(VENDOR_CLASS.as_bytes().to_vec()),
                protocol_version: Some(crate::wire::PROTOCOL_VERSION),
                tls_request: Some(0),
                mclt: Some(self.mclt()),
                hba,
            };
            let xid = self.next_xid();
            self.ctrl
                .push_back(Message::new(now, xid, Body::Connect(connect)));
        }
    }

    /// The TCP connection closed or failed (the partner closed or reset it;
    /// not our receive timeout, which [`Peer::handle_timeout`] detects).
    pub fn handle_disconnected(&mut self, now: UnixTime, table: &mut LeaseTable) {
        self.now = now;
        if !self.has_connection() {
            return;
        }
        let leaving = self.maintenance == Maintenance::Announced;
        self.link_lost(table);
        if leaving {
            self.partner_left(table);
        }
        self.flush_commit();
    }

    /// Where the partner's maintenance stands.
    pub fn maintenance_state(&self) -> Maintenance {
        self.maintenance
    }

    /// Operator command (Kea's `ha-maintenance-start` when `start`,
    /// `ha-maintenance-cancel` otherwise): the partner is about to be stopped.
    /// See [`Maintenance`] for what this server then does. Start needs
    /// NORMAL with the partner connected; cancel ends an announcement (or
    /// the PARTNER-DOWN it led to, which then runs on as any PARTNER-DOWN).
    pub fn maintenance(
        &mut self,
        now: UnixTime,
        start: bool,
    ) -> Result<Maintenance, MaintenanceError> {
        self.now = now;
        match (start, self.maintenance) {
            (true, Maintenance::Announced) => Err(MaintenanceError::AlreadyAnnounced),
            (true, _) if self.state() != FailoverState::Normal || !self.is_linked() => {
                Err(MaintenanceError::NotNormal {
                    state: self.state(),
                    link: if self.is_linked() {
                        ""
                    } else {
                        ", partner not connected"
                    },
                })
            }
            (true, _) => {
                tracing::warn!(peer = %self.cfg.name, "partner maintenance announced: answering every client");
                self.maintenance = Maintenance::Announced;
                Ok(self.maintenance)
            }
            (false, Maintenance::Off) => Err(MaintenanceError::NotInMaintenance),
            (false, _) => {
                tracing::info!(peer = %self.cfg.name, "partner maintenance cancelled");
                self.maintenance = Maintenance::Off;
                Ok(self.maintenance)
            }
        }
    }

    /// The partner left during its announced maintenance: PARTNER-DOWN now.
    fn partner_left(&mut self, table: &mut LeaseTable) {
        if self.state() == FailoverState::CommunicationsInterrupted {
            tracing::warn!(peer = %self.cfg.name, "partner stopped for its announced maintenance: partner-down");
            self.set_state(FailoverState::PartnerDown, table);
            self.maintenance = Maintenance::PartnerGone;
        }
    }

    /// The driver committed every lease batch up to and including `token`.
    pub fn handle_committed(&mut self, token: CommitToken) {
        self.committed = self.committed.max(token.0);
        while self
            .after_commit
            .front()
            .is_some_and(|(t, _)| *t <= self.committed)
        {
            if let Some((_, l)) = self.after_commit.pop_front() {
                self.updates.push(l);
            }
        }
    }

    /// The engine committed a change to `lease` (allocation, renewal, release,
    /// expiry, reclaim). Queues the binding update for the partner.
    pub fn local_lease_changed(&mut self, now: UnixTime, lease: &Lease) {
        self.now = now;
        self.updates.push(lease.clone());
    }

    /// Operator command: the partner is down (ISC OMAPI `local-state 4`).
    /// Honoured from COMMUNICATIONS-INTERRUPTED, RESOLUTION-INTERRUPTED and
    /// while the link is down in any responsive state.
    pub fn partner_down(&mut self, now: UnixTime, table: &mut LeaseTable) {
        self.now = now;
        self.restore_pending(table);
        self.keep_promises(table);
        if self.startup.is_some() {
            self.startup = None;
        }
        if !self.is_linked() {
            self.set_state(FailoverState::PartnerDown, table);
        }
        self.flush_commit();
    }

    /// Whether the driver should probe the client link now (fencing is
    /// configured and the automatic partner-down is pending): send
    /// [`crate::fencing::probe_datagram`] every `fencing.interval` seconds
    /// and report each outcome to [`Peer::client_probe_result`].
    #[must_use]
    pub fn wants_client_probe(&self) -> bool {
        self.fence.is_some()
            && self.auto_pd_at.is_some()
            && self.state() == FailoverState::CommunicationsInterrupted
            && !self.is_linked()
    }

    /// The outcome of one client-link probe (answered by the partner within
    /// the interval, or not). Ignored unless [`Peer::wants_client_probe`].
    pub fn client_probe_result(&mut self, now: UnixTime, answered: bool) {
        self.now = now;
        if self.wants_client_probe()
            && let Some(f) = &mut self.fence
        {
            f.record(now, answered);
        }
    }

    /// The client-link evidence, when fencing is configured.
    #[must_use]
    pub fn fence(&self) -> Option<&Fence> {
        self.fence.as_ref()
    }

    /// Timers: STARTUP, link start-up, receive timeout, CONTACT,
    /// auto-partner-down, RECOVER-WAIT and pool balancing. Spurious calls are harmless.
    pub fn handle_timeout(&mut self, now: UnixTime, table: &mut LeaseTable) {
        self.now = now;
        self.restore_pending(table);
        self.keep_promises(table);
        match self.link {
            Link::Connecting { deadline } if now >= deadline => {
                self.close(CloseReason::StartupTimeout, None, table);
            }
            Link::Up(up) if now >= up.recv_deadline => {
                tracing::warn!(peer = %self.cfg.name, "timeout waiting for failover peer");
                self.close(CloseReason::ReceiveTimeout, None, table);
            }
            Link::Up(up) if now >= up.contact_at && self.ctrl.is_empty() => {
                let xid = self.next_xid();
                self.ctrl.push_back(Message::new(now, xid, Body::Contact));
            }
            _ => {}
        }
        if let Some(until) = self.startup
            && now >= until
        {
            // Treated as losing the connection in the saved state (§4.1).
            self.set_state(on_disconnect(self.p.my_state), table);
        }
        if let Some(t) = self.auto_pd_at
            && now >= t
            && self.state() == FailoverState::CommunicationsInterrupted
        {
            match self
                .fence
                .as_ref()
                .map(|f| f.verdict(now, self.cfg.auto_partner_down))
            {
                None | Some(FenceVerdict::TakeOver) => {
                    self.set_state(FailoverState::PartnerDown, table);
                }
                Some(FenceVerdict::Withhold { reason, retry_at }) => {
                    self.auto_pd_at = Some(retry_at.max(now.saturating_add(1)));
                    self.events.push_back(Event::PartnerDownWithheld(reason));
                }
            }
        }
        if let Some(t) = self.recover_wait_until
            && now >= t
            && self.state() == FailoverState::RecoverWait
        {
            self.set_state(FailoverState::RecoverDone, table);
        }
        if let Some(t) = self.balance_at
            && now >= t
            && self.state() == FailoverState::Normal
        {
            self.balance(table, true);
        }
        if !self.backlog.is_empty() {
            self.refill(table);
        }
        self.flush_commit();
    }

    /// A message from the partner.
    pub fn handle_message(&mut self, now: UnixTime, msg: Message, table: &mut LeaseTable) {
        self.now = now;
        self.restore_pending(table);
        self.keep_promises(table);
        if !self.has_connection() {
            tracing::debug!("failover message without a connection ignored");
            return;
        }
        if let Link::Up(up) = &mut self.link {
            up.recv_deadline = now.saturating_add(self.cfg.max_response_delay.max(1));
        }
        let xid = msg.xid;
        match msg.body {
            Body::Connect(c) => self.on_connect(msg.time, xid, c, table),
            Body::ConnectAck(c) => self.on_connect_ack(msg.time, c, table),
            Body::Disconnect(d) => {
                let reason = CloseReason::PartnerDisconnected(d.reject_reason);
                let leaving = self.maintenance == Maintenance::Announced;
                self.close(reason, None, table);
                if leaving {
                    self.partner_left(table);
                }
            }
            _ if !self.is_linked() => {
                tracing::debug!("failover message before the handshake ignored");
            }
            Body::State(s) => self.on_state(s, table),
            Body::BndUpd(b) => self.on_bndupd(xid, b, table),
            Body::BndAck(a) => self.on_bndack(xid, a, table),
            Body::UpdReq => self.on_update_request(xid, false, table),
            Body::UpdReqAll => self.on_update_request(xid, true, table),
            Body::UpdDone => self.on_update_done(table),
            Body::PoolReq => {
                let n = if self.state() == FailoverState::Normal {
                    // Our view of its free addresses may lag behind its
                    // updates: take its word until it holds some of ours.
                    self.partner_short_until =
                        Some(self.now.saturating_add(self.cfg.min_balance.max(1)));
                    self.balance(table, false)
                } else {
                    0
                };
                tracing::debug!(given = n, state = %self.state(), "POOLREQ from the partner");
                let resp = PoolResp {
                    addresses_transferred: Some(n),
                };
                self.ctrl
                    .push_back(Message::new(now, xid, Body::PoolResp(resp)));
            }
            Body::PoolResp(r) => {
                tracing::debug!(moved = ?r.addresses_transferred, "POOLRESP");
            }
            Body::Contact => {}
        }
        if !self.backlog.is_empty() {
            self.refill(table);
        }
        self.flush_commit();
    }

    // ----------------------------------------------------------------- outputs

    /// The next message to send, if any. BNDACKs wait for their commit;
    /// BNDUPDs wait until every BNDACK has gone (ISC flushes its acks before
    /// its own updates) and respect the partner's window.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Message> {
        let now = self.now;
        let msg = if let Some(mut m) = self.ctrl.pop_front() {
            m.time = now;
            m
        } else if self
            .acks
            .front()
            .is_some_and(|(token, _)| *token <= self.committed)
        {
            let (_, mut m) = self.acks.pop_front()?;
            m.time = now;
            m
        } else if self.acks.is_empty() && self.may_send_updates() {
            let window = match self.link {
                Link::Up(up) => up.window,
                _ => return None,
            };
            let unsolicited = self.unsolicited_updates_allowed();
            let lease = self.updates.next(window, !unsolicited)?;
            let xid = self.next_update_xid();
            let m = Message::new(now, xid, Body::BndUpd(Binding::from_lease(&lease)));
            if lease.state == BindingState::Active && lease.tstp > lease.tsfp {
                let p = self.promised.entry(lease.addr).or_insert(0);
                *p = (*p).max(lease.tstp);
            }
            self.updates.sent(lease, xid);
            m
        } else {
            return None;
        };
        if let Link::Up(up) = &mut self.link {
            up.contact_at = now.saturating_add((up.partner_timer / 3).max(1));
        }
        Some(msg)
    }

    /// When [`Peer::handle_timeout`] should next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<UnixTime> {
        let link = match self.link {
            Link::Down => None,
            Link::Connecting { deadline } => Some(deadline),
            Link::Up(up) => Some(up.recv_deadline.min(up.contact_at)),
        };
        let state_timer = match self.state() {
            FailoverState::CommunicationsInterrupted => self.auto_pd_at,
            FailoverState::RecoverWait => self.recover_wait_until,
            FailoverState::Normal => self.balance_at,
            _ => None,
        };
        [self.startup, link, state_timer]
            .into_iter()
            .flatten()
            .min()
    }

    /// The next event, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    // --------------------------------------------------------------- handshake

    fn on_connect(&mut self, their_time: UnixTime, xid: u32, c: Connect, table: &mut LeaseTable) {
        self.clock_offset = Some(i64::from(their_time) - i64::from(self.now));
        let reason = if self.cfg.role == Role::Primary {
            // Two primaries: refuse as ISC does (the partner is misconfigured).
            Some(RejectReason::InvalidPartner)
        } else if c.relationship_name.as_deref() != Some(self.cfg.name.as_bytes()) {
            Some(RejectReason::InvalidPartner)
        } else if their_time.abs_diff(self.now) > MAX_SKEW_SECS {
            Some(RejectReason::TimeMismatch)
        } else if c.hba.is_none() {
            Some(RejectReason::HbaConflict)
        } else if c.mclt.is_none() {
            Some(RejectReason::InvalidMclt)
        } else if self.is_linked() {
            Some(RejectReason::DuplicateConnection)
        } else {
            None
        };
        let mut ack = ConnectAck {
            relationship_name: Some(self.cfg.name.as_bytes().to_vec()),
            max_unacked: Some(self.cfg.max_unacked_updates),
            receive_timer: Some(self.cfg.max_response_delay),
            vendor_class: Some(VENDOR_CLASS.as_bytes().to_vec()),
            protocol_version: Some(crate::wire::PROTOCOL_VERSION),
            tls_reply: c.tls_request.map(|_| 0),
            reject_reason: None,
            message: None,
        };
        if let Some(reason) = reason {
            // The driver counts and reports refusals (rate-limited).
            tracing::debug!(peer = %self.cfg.name, %reason, "refusing CONNECT");
            ack.reject_reason = Some(reason);
            ack.message = Some(reason.to_string().into_bytes());
            let reply = Message::new(self.now, xid, Body::ConnectAck(ack));
            self.close(CloseReason::Refused(reason), Some(reply), table);
            return;
        }
        let (mclt, hba) = (c.mclt, c.hba);
        if self.p.mclt != mclt || self.p.hba != hba {
            self.p.mclt = mclt;
            self.p.hba = hba;
            self.emit_persist();
        }
        self.ctrl
            .push_back(Message::new(self.now, xid, Body::ConnectAck(ack)));
        self.link_up(c.max_unacked, c.receive_timer);
    }

    fn on_connect_ack(&mut self, their_time: UnixTime, c: ConnectAck, table: &mut LeaseTable) {
        self.clock_offset = Some(i64::from(their_time) - i64::from(self.now));
        if self.cfg.role != Role::Primary || self.is_linked() {
            let reason = RejectReason::DuplicateConnection;
            let reply = self.disconnect_msg(reason);
            self.close(CloseReason::Refused(reason), Some(reply), table);
            return;
        }
        if let Some(reason) = c.reject_reason {
            tracing::debug!(peer = %self.cfg.name, %reason, "partner refused our CONNECT");
            self.close(CloseReason::RejectedByPartner(reason), None, table);
            return;
        }
        let reason = if c.relationship_name.as_deref() != Some(self.cfg.name.as_bytes()) {
            Some(RejectReason::InvalidPartner)
        } else if their_time.abs_diff(self.now) > MAX_SKEW_SECS {
            Some(RejectReason::TimeMismatch)
        } else {
            None
        };
        if let Some(reason) = reason {
            let reply = self.disconnect_msg(reason);
            self.close(CloseReason::Refused(reason), Some(reply), table);
            return;
        }
        self.link_up(c.max_unacked, c.receive_timer);
    }

    fn disconnect_msg(&mut self, reason: RejectReason) -> Message {
        let xid = self.next_xid();
        let d = Disconnect {
            reject_reason: Some(reason),
            message: Some(reason.to_string().into_bytes()),
        };
        Message::new(self.now, xid, Body::Disconnect(d))
    }

    fn link_up(&mut self, window: Option<u32>, partner_timer: Option<u32>) {
        let partner_timer = partner_timer.unwrap_or(self.cfg.max_response_delay).max(1);
        self.down_since = None;
        self.link = Link::Up(Up {
            window: window.unwrap_or(DEFAULT_PARTNER_WINDOW).max(1),
            partner_timer,
            recv_deadline: self.now.saturating_add(self.cfg.max_response_delay.max(1)),
            contact_at: self.now.saturating_add((partner_timer / 3).max(1)),
        });
        self.queue_state();
    }

    /// Drops the link, optionally sending `last` first, and applies the
    /// disconnect transition.
    fn close(&mut self, reason: CloseReason, last: Option<Message>, table: &mut LeaseTable) {
        self.link_lost(table);
        if let Some(m) = last {
            self.ctrl.push_back(m);
        }
        self.events.push_back(Event::Close(reason));
    }

    fn link_lost(&mut self, table: &mut LeaseTable) {
        if self.is_linked() {
            self.down_since = Some(self.now);
        }
        self.link = Link::Down;
        self.ctrl.clear();
        self.acks.clear();
        self.updates.link_lost();
        self.backlog.clear();
        self.xid = 0;
        if self.startup.is_none() {
            let next = on_disconnect(self.p.my_state);
            self.set_state(next, table);
        }
    }

    // ------------------------------------------------------------------- STATE

    fn on_state(&mut self, s: StateMsg, table: &mut LeaseTable) {
        let Some(wire_state) = s.server_state else {
            tracing::warn!("STATE without server-state ignored");
            return;
        };
        let new = wire_state;
        let partner_starting = s.server_flags.is_some_and(ServerFlags::startup);
        let prev = self.p.partner_state;
        if new != prev {
            self.p.partner_state = new;
            self.p.partner_stos = self.now;
            self.events.push_back(Event::PartnerStateChanged {
                from: prev,
                to: new,
            });
            self.emit_persist();
        }
        let starting = self.startup.is_some();
        let mine = self.p.my_state;
        if new == prev && !starting && !transition::reprocess_repeated_state(mine) {
            return;
        }
        match on_partner_state(mine, new, starting, partner_starting) {
            Reaction::Stay => {}
            Reaction::GoTo(s) => self.set_state(s, table),
            Reaction::SendUpdReqAll => self.send_request(true),
            Reaction::SendUpdReq => self.send_request(false),
            Reaction::Rebalance => {
                if mine == FailoverState::Normal && !starting {
                    self.balance_at = Some(self.now);
                }
            }
            Reaction::Fatal => {
                self.events.push_back(Event::Fatal(format!(
                    "partner moved to {new} while we are in {mine}"
                )));
                self.set_state(FailoverState::Shutdown, table);
            }
        }
        if self.startup.is_some() {
            // Still starting: resume the saved state, running its entry actions.
            self.set_state(self.p.my_state, table);
        }
    }

    fn send_request(&mut self, all: bool) {
        if !self.is_linked() {
            return;
        }
        let xid = self.next_xid();
        let body = if all { Body::UpdReqAll } else { Body::UpdReq };
        self.ctrl.push_back(Message::new(self.now, xid, body));
    }

    fn queue_state(&mut self) {
        if !self.is_linked() {
            return;
        }
        let flags = if self.startup.is_some() {
            ServerFlags::STARTUP
        } else {
            0
        };
        let s = StateMsg {
            server_state: Some(self.p.my_state),
            server_flags: Some(ServerFlags(flags)),
            start_time_of_state: Some(self.p.my_stos),
        };
        let xid = self.next_xid();
        self.ctrl
            .push_back(Message::new(self.now, xid, Body::State(s)));
    }

    /// Moves to `new` (leaving STARTUP if in it) and runs its entry actions.
    fn set_state(&mut self, new: FailoverState, table: &mut LeaseTable) {
        let from = self.state();
        if from == new {
            return;
        }
        let prev = self.p.my_state;
        if transition::updates_stos(from, new) {
            self.p.my_stos = self.now;
        }
        self.startup = None;
        self.p.my_state = new;
        if matches!(
            prev,
            FailoverState::Normal | FailoverState::PotentialConflict | FailoverState::PartnerDown
        ) {
            self.updates.requeue_unacked();
        }
        tracing::info!(peer = %self.cfg.name, %from, to = %new, "failover state change");
        self.events.push_back(Event::StateChanged { from, to: new });
        self.state_entered(new, table);
    }

    /// Reference §4.5: what entering `new` does.
    fn state_entered(&mut self, new: FailoverState, table: &mut LeaseTable) {
        self.emit_persist();
        self.auto_pd_at = None;
        self.recover_wait_until = None;
        self.balance_at = None;
        self.partner_short_until = None;
        self.maintenance = match (self.maintenance, new) {
            (Maintenance::Announced, FailoverState::Normal) => Maintenance::Announced,
            (Maintenance::Announced | Maintenance::PartnerGone, FailoverState::PartnerDown) => {
                Maintenance::PartnerGone
            }
            (Maintenance::PartnerGone, s) if s != FailoverState::Normal => Maintenance::PartnerGone,
            _ => Maintenance::Off,
        };
        self.giving = 0;
        self.balance_more = false;
        self.queue_state();
        match new {
            FailoverState::CommunicationsInterrupted if self.cfg.auto_partner_down > 0 => {
                self.auto_pd_at = Some(self.now.saturating_add(self.cfg.auto_partner_down));
                if let Some(f) = &mut self.fence {
                    f.restart();
                }
            }
            FailoverState::Normal => {
                for l in self.relationship_leases(table) {
                    if needs_update(&l) && !self.updates.contains(l.addr) {
                        self.updates.push(l);
                    }
                }
                // A secondary short of free addresses asks at once (it may
                // have used them up while the partner was away).
                self.balance(table, true);
            }
            FailoverState::PotentialConflict
                if self.cfg.role == Role::Primary
                    || self.p.partner_state == FailoverState::ConflictDone =>
            {
                self.send_request(false);
            }
            FailoverState::Recover => self.send_request(true),
            FailoverState::RecoverWait => {
                let until = self.p.my_stos.saturating_add(self.mclt());
                if self.now >= until {
                    self.set_state(FailoverState::RecoverDone, table);
                } else {
                    self.recover_wait_until = Some(until);
                }
            }
            FailoverState::RecoverDone
                if matches!(
                    self.p.partner_state,
                    FailoverState::Normal | FailoverState::RecoverDone
                ) && self.is_linked() =>
            {
                self.set_state(FailoverState::Normal, table);
            }
            _ => {}
        }
    }

    // ---------------------------------------------------------------- bindings

    fn on_bndupd(&mut self, xid: u32, b: Binding, table: &mut LeaseTable) {
        let (Some(ip), Some(status)) = (b.assigned_ip, b.binding_status) else {
            let ip = b.assigned_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
            self.reject(
                xid,
                ip,
                RejectReason::MissingBindingInfo,
                "missing binding information".into(),
            );
            return;
        };
        let Some(local) = self.relationship_lease(table, ip).cloned() else {
            self.reject(
                xid,
                ip,
                RejectReason::IllegalIpAddress,
                format!("{ip}: not in a pool of this relationship"),
            );
            return;
        };
        let normal = self.state() == FailoverState::Normal;
        let result = binding::accept(&b, status, &local, self.cfg.role, normal, self.now);
        let new = match result {
            Ok(l) => l,
            Err((reason, text)) => {
                self.reject(xid, ip, reason, text);
                return;
            }
        };
        // Dueling updates (§6.5). ISC applies the rule to updates sent and not
        // acknowledged; we also apply it to updates still queued, which hold
        // newer local data (e.g. a renewal made while out of contact) that a
        // stale update from the partner must not overwrite.
        // A recovering server's own queued changes are not to be trusted.
        let sent_only = !self.unsolicited_updates_allowed();
        if let Some(mine) = self.updates.outstanding(ip, sent_only) {
            let theirs = binding::Contender {
                state: status,
                cltt: b.cltt.unwrap_or(0),
                stos: b.start_time_of_state.unwrap_or(0),
                ends: b.lease_expiration.unwrap_or(0),
            };
            if !binding::incoming_wins(mine, theirs, self.cfg.role) {
                self.reject(
                    xid,
                    ip,
                    RejectReason::LessCriticalBindingInfo,
                    "incoming update is less critical than outgoing update".into(),
                );
                return;
            }
        }
        self.updates.forget(ip);
        // Our record is now the partner's: nothing left to tell it about this
        // address for an update request it is waiting on.
        if let Some(req_xid) = self.updates.settled(ip) {
            self.ctrl
                .push_back(Message::new(self.now, req_xid, Body::UpdDone));
        }
        let token = self.next_token;
        self.stage(table, new);
        let ack = BindingAck::accept(ip);
        self.acks
            .push_back((token, Message::new(self.now, xid, Body::BndAck(ack))));
        self.nudge_balance(table, ip);
    }

    fn reject(&mut self, xid: u32, ip: Ipv4Addr, reason: RejectReason, text: String) {
        if reason == RejectReason::LessCriticalBindingInfo {
            // Dueling updates are part of the protocol (both peers may
            // update one address at once): counted, not logged one by one.
            tracing::debug!(%ip, %reason, %text, "rejecting binding update");
        } else {
            tracing::info!(%ip, %reason, %text, "rejecting binding update");
        }
        self.events.push_back(Event::UpdateRejected {
            addr: ip,
            reason,
            by_partner: false,
        });
        let ack = BindingAck::reject(ip, reason, Some(&text));
        self.acks
            .push_back((0, Message::new(self.now, xid, Body::BndAck(ack))));
    }

    fn on_bndack(&mut self, xid: u32, a: BindingAck, table: &mut LeaseTable) {
        let Some(ip) = a.binding.assigned_ip else {
            return;
        };
        let Some(sent) = self.updates.take_acked(ip, xid) else {
            tracing::debug!(%ip, xid, "BNDACK does not match an outstanding update");
            return;
        };
        if let Some(reason) = a.reject_reason {
            if sent.state == peer_free(self.cfg.role) {
                self.given_acknowledged();
            }
            tracing::info!(%ip, %reason, "partner rejected our binding update");
            self.events.push_back(Event::UpdateRejected {
                addr: ip,
                reason,
                by_partner: true,
            });
        } else if let Some(cur) = table.get(ip).cloned() {
            if sent.state == peer_free(self.cfg.role) {
                self.given_acknowledged();
            }
            let mut l = cur;
            l.tsfp = sent.tstp;
            l.atsfp = sent.tstp;
            if matches!(
                sent.state,
                BindingState::Expired | BindingState::Released | BindingState::Reset
            ) && l.state == sent.state
            {
                l.state = BindingState::Free;
                l.rewind_state = Some(BindingState::Free);
                l.starts = self.now;
            } else {
                l.rewind_state = Some(sent.state);
            }
            self.stage(table, l);
        }
        if let Some(req_xid) = self.updates.settled(ip) {
            self.ctrl
                .push_back(Message::new(self.now, req_xid, Body::UpdDone));
        }
    }

    fn on_update_request(&mut self, xid: u32, all: bool, table: &mut LeaseTable) {
        // UPDREQALL: every lease we know anything of. An address never
        // touched (FREE, as a new table holds it) says nothing the
        // requester does not already assume: a fresh pair would otherwise
        // trade every address of its pools both ways.
        let addrs: BTreeSet<Ipv4Addr> = table
            .iter()
            .filter(|l| self.relationship_lease(table, l.addr).is_some())
            .filter(|l| (all && !is_pristine(l)) || needs_update(l))
            .map(|l| l.addr)
            .collect();
        self.backlog.clear();
        self.backlog.extend(addrs.iter().copied());
        if self.updates.start_request(xid, addrs) {
            self.ctrl
                .push_back(Message::new(self.now, xid, Body::UpdDone));
        }
        self.refill(table);
    }

    /// Queues the next answers to the partner's request, from the table as
    /// it is now, until [`REQUEST_QUEUE`] updates are queued.
    fn refill(&mut self, table: &LeaseTable) {
        while self.updates.queued_len() < REQUEST_QUEUE {
            let Some(addr) = self.backlog.pop_front() else {
                break;
            };
            // Settled meanwhile (the partner's own update replaced it), or
            // already on its way.
            if !self.updates.requested(addr) || self.updates.contains(addr) {
                continue;
            }
            match table.get(addr) {
                Some(l) => self.updates.push(l.clone()),
                None => {
                    if let Some(req_xid) = self.updates.settled(addr) {
                        self.ctrl
                            .push_back(Message::new(self.now, req_xid, Body::UpdDone));
                    }
                }
            }
        }
    }

    fn on_update_done(&mut self, table: &mut LeaseTable) {
        let r = on_update_done(
            self.state(),
            self.cfg.role,
            self.p.partner_state,
            self.now,
            self.p.my_stos,
            self.mclt(),
        );
        if let Reaction::GoTo(s) = r {
            self.set_state(s, table);
        }
    }

    fn may_send_updates(&self) -> bool {
        self.is_linked() && self.startup.is_none()
    }

    /// Unsolicited (lazy) updates flow in every linked state except RECOVER
    /// (whose data is not to be trusted) and SHUTDOWN/PAUSED; in RECOVER only
    /// answers to the partner's requests go out.
    fn unsolicited_updates_allowed(&self) -> bool {
        !matches!(
            self.state(),
            FailoverState::Recover
                | FailoverState::Startup
                | FailoverState::Shutdown
                | FailoverState::Paused
        )
    }

    // --------------------------------------------------------------- balancing

    /// After an update from the partner changed `ip`: when we now hold more
    /// than our share of its pool's free addresses (the partner used up its
    /// own, e.g. allocating while we were apart, and reports them at
    /// reconnection), balance at the next timeout instead of at the periodic
    /// run, which may be minutes away: a partner without free addresses
    /// cannot serve the clients the hash gives it. At most once a second.
    /// (Only the side with the surplus acts: the short side's updates are
    /// what shows it here, without a POOLREQ.)
    fn nudge_balance(&mut self, table: &LeaseTable, ip: Ipv4Addr) {
        if self.state() != FailoverState::Normal
            || self.balance_nudged == Some(self.now)
            || self.balance_at.is_some_and(|t| t <= self.now)
        {
            return;
        }
        let Some(pool) = table.pool_of(ip) else {
            return;
        };
        if balance::has_surplus(table, pool, self.cfg.role, self.balance_params()) {
            self.balance_nudged = Some(self.now);
            self.balance_at = Some(self.now);
        }
    }

    /// The partner answered for an address we gave it: once it has
    /// answered for all, it holds what balancing gave it and is no longer
    /// taken to be short.
    fn given_acknowledged(&mut self) {
        self.giving = self.giving.saturating_sub(1);
        if self.giving == 0 {
            self.partner_short_until = None;
            if std::mem::take(&mut self.balance_more) {
                self.balance_at = Some(self.now);
            }
        }
    }

    fn balance_params(&self) -> balance::BalanceParams {
        balance::BalanceParams {
            misbalance: self.cfg.max_lease_misbalance,
            ownership: self.cfg.max_lease_ownership,
        }
    }

    /// Runs the pool balance for every pool of the relationship; returns the
    /// number of leases handed over. `may_request`: POOLREQ may be sent when
    /// we are short (the periodic run and entering NORMAL; not in answer to
    /// the partner's POOLREQ, so that two short peers do not ping-pong).
    fn balance(&mut self, table: &mut LeaseTable, may_request: bool) -> u32 {
        let role = self.cfg.role;
        let hba = self.hba();
        let params = self.balance_params();
        let pools = self.relationship_pools(table);
        let mut moved = 0u32;
        let mut short = false;
        for &pool in &pools {
            let room = MAX_GIVE_PER_RUN.saturating_sub(moved as usize);
            let plan = balance::plan(table, pool, role, hba.as_ref(), params, room);
            // Stopped by the bound, not by the even split: more to give.
            self.balance_more |= room > 0 && plan.give.len() == room;
            short |= plan.short;
            if plan.lts > plan.thresh {
                tracing::debug!(pool, lts = plan.lts, "pool imbalanced");
            }
            for addr in plan.give {
                if let Some(mut l) = table.get(addr).cloned() {
                    l.state = peer_free(role);
                    l.starts = self.now;
                    l.tstp = self.now;
                    self.stage(table, l.clone());
                    // The partner must not hear of it before it is durable here.
                    self.after_commit.push_back((self.next_token, l));
                    moved += 1;
                    self.giving += 1;
                }
            }
        }
        tracing::debug!(may_request, short, moved, "balance run");
        if may_request && short && self.is_linked() {
            let xid = self.next_xid();
            self.ctrl
                .push_back(Message::new(self.now, xid, Body::PoolReq));
        }
        self.balance_at = Some(balance::next_run(
            table,
            &pools,
            role,
            self.now,
            self.cfg.max_lease_misbalance,
            self.cfg.min_balance,
            self.cfg.max_balance,
        ));
        moved
    }

    // ----------------------------------------------------------------- helpers

    fn relationship_pools(&self, table: &LeaseTable) -> Vec<PoolIndex> {
        table
            .pools()
            .iter()
            .enumerate()
            .filter(|(_, p)| p.failover_peer.as_deref() == Some(self.cfg.name.as_str()))
            .map(|(i, _)| i)
            .collect()
    }

    fn relationship_lease<'t>(&self, table: &'t LeaseTable, ip: Ipv4Addr) -> Option<&'t Lease> {
        let pool = table.pool_of(ip)?;
        let spec = table.pools().get(pool)?;
        if spec.failover_peer.as_deref() != Some(self.cfg.name.as_str()) {
            return None;
        }
        table.get(ip)
    }

    /// Every lease of the relationship's pools, in address order.
    fn relationship_leases(&self, table: &LeaseTable) -> Vec<Lease> {
        let mut v: Vec<Lease> = table
            .iter()
            .filter(|l| self.relationship_lease(table, l.addr).is_some())
            .cloned()
            .collect();
        v.sort_by_key(|l| l.addr);
        v
    }

    /// Once a binding we announced has ended (released, expired), its record
    /// no longer needs `tsfp` for the MCLT clamp; raise it to the highest
    /// potential expiry we sent, which the partner may have received even
    /// without acknowledging it, so that a PARTNER-DOWN reclaim waits for it.
    /// (The release or expiry itself lowers `tstp`; without this, a client
    /// the partner renewed on the strength of that potential expiry could
    /// outlive the reclaim. Found by the simulator.)
    fn keep_promises(&mut self, table: &mut LeaseTable) {
        if self.promised.is_empty() {
            return;
        }
        let addrs: Vec<(Ipv4Addr, UnixTime)> =
            self.promised.iter().map(|(a, t)| (*a, *t)).collect();
        for (addr, promised) in addrs {
            let Some(l) = table.get(addr) else {
                self.promised.remove(&addr);
                continue;
            };
            if l.tsfp >= promised {
                self.promised.remove(&addr);
            } else if l.state != BindingState::Active {
                let mut l = l.clone();
                l.tsfp = promised;
                self.promised.remove(&addr);
                self.stage(table, l);
            }
        }
    }

    fn restore_pending(&mut self, table: &LeaseTable) {
        if self.restore.is_empty() {
            return;
        }
        // The list may be older than the leases: only what still needs
        // telling is re-queued (re-sending an acknowledged record could undo
        // a newer change on the partner).
        for addr in std::mem::take(&mut self.restore) {
            if let Some(l) = self.relationship_lease(table, addr)
                && needs_update(l)
            {
                let l = l.clone();
                self.updates.push(l);
            }
        }
    }

    /// Applies `lease` to the table and adds it to the commit batch.
    fn stage(&mut self, table: &mut LeaseTable, lease: Lease) {
        match table.upsert(lease.clone()) {
            Ok(_) => self.staged.push(lease),
            Err(e) => tracing::warn!(error = %e, "lease change not applied"),
        }
    }

    fn flush_commit(&mut self) {
        if self.staged.is_empty() {
            return;
        }
        let leases = std::mem::take(&mut self.staged);
        let window = usize::try_from(self.cfg.max_unacked_updates).unwrap_or(usize::MAX);
        self.events.push_back(Event::Commit {
            token: CommitToken(self.next_token),
            leases,
            urgent: self.acks.len() >= window.max(1),
        });
        self.next_token += 1;
    }

    fn emit_persist(&mut self) {
        let p = self.persisted();
        self.events.push_back(Event::Persist(p));
    }

    fn next_xid(&mut self) -> u32 {
        let x = self.xid;
        self.xid = self.xid.wrapping_add(1);
        x
    }

    fn next_update_xid(&mut self) -> u32 {
        let mut x = self.next_xid();
        if x == 0 {
            x = self.next_xid();
        }
        x
    }
}

/// Whether the partner has not acknowledged the current record of `l`
/// (ISC: `tstp > atsfp`, or a transitional state that awaits its ack).
/// An address never touched since the pool was created: FREE, no client,
/// no times (what [`LeaseTable::new`] holds for every address).
fn is_pristine(l: &Lease) -> bool {
    *l == Lease::new_free(l.addr, BindingState::Free)
}

fn needs_update(l: &Lease) -> bool {
    l.tstp > l.atsfp
        || matches!(
            l.state,
            BindingState::Expired | BindingState::Released | BindingState::Reset
        )
}
