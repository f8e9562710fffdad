//! The driver: runs one [`Peer`] inside the engine task.
//!
//! The engine task owns both the [`Engine`] (and so the lease table) and the
//! driver, so the peer and the engine see one table. The driver:
//!
//! * picks the connection that carries the relationship. A primary takes the
//!   first TCP connection (either direction) and closes later ones; a
//!   secondary keeps every connection until a CONNECT arrives, takes the
//!   first connection carrying one, and answers a CONNECT on any other with
//!   the peer's duplicate-connection reply (ISC, reference §1.1);
//! * feeds the peer: link up/down, messages, timers
//!   ([`Peer::poll_timeout`]), durable engine writes
//!   ([`Peer::local_lease_changed`], for addresses of the relationship's pools
//!   whose record is still the one written), commit completions
//!   ([`Peer::handle_committed`]) and operator commands;
//! * applies the peer's outputs: transmits to the connection, `Commit` events
//!   to the group commit (the token comes back when durable), `Persist`
//!   events to the store's metadata after every earlier commit is durable,
//!   `Close` by dropping the connection's queue;
//! * publishes a [`FailoverStatus`] and logs `failover status:` lines on
//!   every state change (the lab and the demo read them).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use dhcp_core::config::{FailoverConfig, Role};
use dhcp_core::engine::Engine;
use dhcp_core::lease::{Lease, UnixTime};
use dhcp_failover::peer::{
    CloseReason, CommitToken, Event, FailoverState, Peer, PeerError, PersistedState,
};
use dhcp_failover::policy::FailoverPolicy;
use dhcp_failover::wire::{Body, Message, RejectReason};
use dhcp_store::{Completion, GroupCommit, LeaseStore, StoreError};
use tokio::sync::{mpsc, watch};

use super::fencing::ProbeSlot;
use super::guard::{Refusal, Refusals, Throttle};
use super::partner_requests::{self, PartnerRequests};
use super::transport::{ConnId, LinkEvent, Transport};
use super::{Command, FailoverHandle, FailoverStatus, LOG_TARGET, meta_key};
use crate::clock::engine_now;
use crate::failure_log::FailureLog;

/// Why the driver could not start.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The stored failover state could not be read.
    #[error("failover state of {name:?} in the store: {source}")]
    Store {
        /// The relationship.
        name: String,
        /// The cause.
        source: StoreError,
    },
    /// The peer refused the configuration.
    #[error(transparent)]
    Peer(#[from] PeerError),
}

/// One input for the driver, from [`Driver::next_input`].
#[derive(Debug)]
pub enum Input {
    /// The transport reported something.
    Link(LinkEvent),
    /// A peer commit batch is durable.
    Committed(CommitToken),
    /// These engine writes are durable.
    Durable(Vec<Lease>),
    /// An operator command.
    Command(Command),
    /// A peer timer may be due (also the periodic housekeeping).
    Timer,
    /// A client-link probe's outcome (true: the partner answered).
    ClientProbe(bool),
}

/// Sends durable engine writes back to the driver (from the commit worker).
#[derive(Debug, Clone)]
pub struct DurableNotifier(mpsc::UnboundedSender<Vec<Lease>>);

impl DurableNotifier {
    /// Reports `writes` as durable.
    pub fn durable(&self, writes: Vec<Lease>) {
        let _ = self.0.send(writes);
    }

    /// `done`, preceded, once the commit of `writes` has succeeded, by
    /// reporting them as durable to each of `notifiers` (the relationships'
    /// binding updates follow the commit; each driver keeps the records of
    /// its own pools). Without notifiers, `done` unchanged.
    pub fn wrap(notifiers: Vec<Self>, writes: &[Lease], done: Completion) -> Completion {
        if notifiers.is_empty() {
            return done;
        }
        let writes = writes.to_vec();
        Box::new(move |r| {
            if r.is_ok()
                && let Some((last, rest)) = notifiers.split_last()
            {
                for n in rest {
                    n.durable(writes.clone());
                }
                last.durable(writes);
            }
            done(r);
        })
    }
}

/// The failover driver for one relationship.
pub struct Driver {
    peer: Peer,
    store: Arc<dyn LeaseStore>,
    _transport: Transport,
    links: mpsc::Receiver<LinkEvent>,
    in_use: Arc<AtomicBool>,
    active: Option<(ConnId, mpsc::UnboundedSender<Message>)>,
    /// Connections without a CONNECT yet (secondary), with when they came up.
    waiting: HashMap<ConnId, (mpsc::UnboundedSender<Message>, UnixTime)>,
    committed_tx: mpsc::UnboundedSender<CommitToken>,
    committed_rx: mpsc::UnboundedReceiver<CommitToken>,
    durable_tx: mpsc::UnboundedSender<Vec<Lease>>,
    durable_rx: mpsc::UnboundedReceiver<Vec<Lease>>,
    commands: mpsc::Receiver<Command>,
    status: watch::Sender<FailoverStatus>,
    last_contact: Option<UnixTime>,
    /// The last state saved, or queued for saving on the commit thread.
    last_persisted: Option<PersistedState>,
    /// Saving the state is retried every tick while it fails (a full disk):
    /// set by a failed save.
    persist_retry: Arc<AtomicBool>,
    persist_failures: Arc<FailureLog>,
    logged: (FailoverState, FailoverState),
    stranded: PartnerRequests,
    refusals: Arc<Refusals>,
    /// Rate limits of the refusal reports: CONNECT refused by us, by the
    /// partner.
    refusal_logs: [Throttle; 2],
    /// Fencing: whether the peer wants client-link probes now, their
    /// outcomes, the prober's parts until it is started, and how often an
    /// automatic partner-down was withheld (with its log rate limit).
    probe_wanted: watch::Sender<bool>,
    probe_results: mpsc::UnboundedReceiver<bool>,
    prober: Option<ProberParts>,
    withheld: u64,
    withheld_log: Throttle,
}

/// What [`Driver::take_prober`] hands over to start the relationship's
/// [`super::fencing::Prober`].
#[derive(Debug)]
pub struct ProberParts {
    /// The probe slot (also goes to the receive loops' board).
    pub slot: Arc<ProbeSlot>,
    /// Seconds between probes.
    pub interval: u32,
    /// Whether the peer wants probes now.
    pub wanted: watch::Receiver<bool>,
    /// Where outcomes go.
    pub results: mpsc::UnboundedSender<bool>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("state", &self.peer.state())
            .field("partner", &self.peer.partner_state())
            .field("active", &self.active.as_ref().map(|a| a.0))
            .finish()
    }
}

impl Driver {
    /// Loads the persisted state of `cfg` from `store`, creates the peer and
    /// starts the transport. Call from within the tokio runtime.
    pub fn start(
        cfg: FailoverConfig,
        store: Arc<dyn LeaseStore>,
    ) -> Result<(Self, FailoverHandle), DriverError> {
        let key = meta_key(&cfg.name);
        let store_err = |source| DriverError::Store {
            name: cfg.name.clone(),
            source,
        };
        let persisted = match store.get_meta(&key).map_err(store_err)? {
            Some(bytes) => match serde_json::from_slice::<PersistedState>(&bytes) {
                Ok(p) => Some(p),
                Err(e) => {
                    tracing::error!(target: LOG_TARGET, error = %e,
                        "stored failover state unreadable: starting as a new relationship (RECOVER)");
                    None
                }
            },
            None => None,
        };
        let resumed = persisted.is_some();
        let peer = Peer::new(cfg.clone(), persisted.clone(), engine_now())?;
        tracing::info!(target: LOG_TARGET, relationship = %cfg.name, role = ?cfg.role,
            saved_state = %persisted.as_ref().map_or(FailoverState::Recover, |p| p.my_state),
            resumed, "failover peer starting");
        let in_use = Arc::new(AtomicBool::new(false));
        let refusals = Arc::new(Refusals::default());
        let (transport, links) = Transport::start(&cfg, in_use.clone(), refusals.clone());
        let (committed_tx, committed_rx) = mpsc::unbounded_channel();
        let (durable_tx, durable_rx) = mpsc::unbounded_channel();
        let (cmd_tx, commands) = mpsc::channel(16);
        let (probe_wanted, wanted) = watch::channel(false);
        let (results, probe_results) = mpsc::unbounded_channel();
        let prober = cfg
            .fencing
            .as_ref()
            .zip(cfg.fencing_probe())
            .map(|(f, (from, to))| ProberParts {
                slot: Arc::new(ProbeSlot::new(from, to)),
                interval: f.interval,
                wanted,
                results,
            });
        let mut d = Self {
            status: watch::channel(status_of(&peer, None, [0; 5])).0,
            peer,
            store,
            _transport: transport,
            links,
            in_use,
            active: None,
            waiting: HashMap::new(),
            committed_tx,
            committed_rx,
            durable_tx,
            durable_rx,
            commands,
            last_contact: None,
            last_persisted: persisted,
            persist_retry: Arc::new(AtomicBool::new(false)),
            persist_failures: Arc::new(FailureLog::default()),
            logged: (FailoverState::Unknown, FailoverState::Unknown),
            stranded: PartnerRequests::new(cfg.peer_address),
            refusals,
            refusal_logs: Default::default(),
            probe_wanted,
            probe_results,
            prober,
            withheld: 0,
            withheld_log: Throttle::default(),
        };
        d.publish();
        let handle = FailoverHandle {
            status: d.status.subscribe(),
            commands: cmd_tx,
        };
        Ok((d, handle))
    }

    /// The policy the engine uses now.
    pub fn policy(&self) -> FailoverPolicy {
        self.peer.policy()
    }

    /// The peer (read-only).
    pub fn peer(&self) -> &Peer {
        &self.peer
    }

    /// A DHCPNAK for `msg` when it is a retransmitted REQUEST naming the
    /// partner while the partner answers no client (see
    /// [`super::partner_requests`]); `server_id` is our address on the
    /// arrival interface; `echo_client_id` as the server's setting. Call
    /// for every request before the engine.
    pub fn nak_stranded(
        &mut self,
        msg: &dhcproto::v4::Message,
        server_id: std::net::Ipv4Addr,
        echo_client_id: bool,
    ) -> Option<dhcp_core::engine::Reply> {
        let unreachable =
            partner_requests::partner_silent(self.peer.state(), self.peer.is_linked());
        if self
            .stranded
            .should_nak(msg, unreachable, std::time::Instant::now())
        {
            partner_requests::nak(msg, server_id, echo_client_id)
        } else {
            None
        }
    }

    /// A DHCPNAK for `msg`, a REQUEST naming the partner passed over a
    /// moment ago, now that the partner answers no client (see
    /// [`super::partner_requests::partner_silent`] and
    /// [`crate::serve::passed_over`]): the client starts over at once
    /// instead of waiting out its retransmission. A client the partner did
    /// acknowledge before it went is BOUND and ignores the NAK.
    pub fn nak_passed_over(
        &self,
        msg: &dhcproto::v4::Message,
        server_id: std::net::Ipv4Addr,
        echo_client_id: bool,
    ) -> Option<dhcp_core::engine::Reply> {
        if self.stranded.names_partner(msg)
            && partner_requests::partner_silent(self.peer.state(), self.peer.is_linked())
        {
            partner_requests::nak(msg, server_id, echo_client_id)
        } else {
            None
        }
    }

    /// The parts of this relationship's client-link prober, once (when
    /// fencing is configured).
    pub fn take_prober(&mut self) -> Option<ProberParts> {
        self.prober.take()
    }

    /// For the engine task: where to report durable writes.
    pub fn notifier(&self) -> DurableNotifier {
        DurableNotifier(self.durable_tx.clone())
    }

    /// Waits for the next input.
    pub async fn next_input(&mut self) -> Input {
        let now = engine_now();
        let wait = match self.peer.poll_timeout() {
            Some(t) if t > now => Duration::from_secs(u64::from(t - now)),
            Some(_) => Duration::from_millis(200),
            None => Duration::from_secs(1),
        }
        .min(Duration::from_secs(1));
        tokio::select! {
            Some(e) = self.links.recv() => Input::Link(e),
            Some(t) = self.committed_rx.recv() => Input::Committed(t),
            Some(w) = self.durable_rx.recv() => Input::Durable(w),
            Some(c) = self.commands.recv() => Input::Command(c),
            Some(a) = self.probe_results.recv() => Input::ClientProbe(a),
            () = tokio::time::sleep(wait) => Input::Timer,
        }
    }

    /// Handles one input and applies every output; the caller then takes a
    /// fresh [`Driver::policy`].
    pub fn handle(&mut self, input: Input, engine: &mut Engine, commit: &GroupCommit) {
        let now = engine_now();
        match input {
            Input::Link(e) => self.on_link(now, e, engine),
            Input::Committed(t) => self.peer.handle_committed(t),
            Input::Durable(writes) => {
                let table = engine.table();
                for l in writes {
                    let ours = table
                        .pool_of(l.addr)
                        .and_then(|p| table.pools().get(p))
                        .is_some_and(|p| {
                            p.failover_peer.as_deref() == Some(self.peer.config().name.as_str())
                        });
                    // Send the record as it is now, unless something else
                    // (a partner update) has since changed the binding
                    // itself: then that change is the one to keep.
                    let current = table
                        .get(l.addr)
                        .filter(|c| c.state == l.state && c.client == l.client && c.ends == l.ends);
                    if let (true, Some(c)) = (ours, current) {
                        self.peer.local_lease_changed(now, c);
                    }
                }
            }
            Input::Command(Command::PartnerDown(reply)) => {
                tracing::warn!(target: LOG_TARGET, "operator command: partner down");
                self.peer.partner_down(now, engine.table_mut());
                self.pump(engine, commit);
                let _ = reply.send(self.peer.state());
            }
            Input::Command(Command::Maintenance(start, reply)) => {
                let verdict = self.peer.maintenance(now, start);
                tracing::warn!(target: LOG_TARGET, start, ?verdict, "operator command: partner maintenance");
                let _ = reply.send(verdict);
            }
            Input::ClientProbe(answered) => {
                self.peer.client_probe_result(now, answered);
                if self.peer.poll_timeout().is_some_and(|t| t <= now) {
                    self.peer.handle_timeout(now, engine.table_mut());
                }
            }
            Input::Timer => {
                // A connection that has not carried a CONNECT within the link
                // start-up time is closed (dropping its queue closes it).
                self.waiting.retain(|_, (_, since)| {
                    now.saturating_sub(*since) < dhcp_failover::peer::STARTUP_SECS
                });
                if self.peer.poll_timeout().is_some_and(|t| t <= now) {
                    self.peer.handle_timeout(now, engine.table_mut());
                }
                // Keep the persisted update queue roughly current (a hint:
                // leases with tstp > atsfp are re-sent in any case).
                let p = self.peer.persisted();
                if self.last_persisted.as_ref() != Some(&p)
                    || self.persist_retry.swap(false, Ordering::Relaxed)
                {
                    self.persist(p, commit);
                }
            }
        }
        self.pump(engine, commit);
    }

    fn on_link(&mut self, now: UnixTime, e: LinkEvent, engine: &mut Engine) {
        match e {
            LinkEvent::Up { conn, tx, .. } => {
                if self.active.is_some() {
                    if self.peer.role() == Role::Primary {
                        // Already have one: close this one.
                        self.refusals.count(Refusal::Duplicate);
                        drop(tx);
                    } else {
                        self.waiting.insert(conn, (tx, now));
                    }
                } else if self.peer.role() == Role::Primary {
                    self.activate(now, conn, tx);
                } else {
                    self.waiting.insert(conn, (tx, now));
                }
            }
            LinkEvent::Message { conn, msg } => {
                let is_active = self.active.as_ref().is_some_and(|a| a.0 == conn);
                if is_active {
                    self.peer.handle_message(now, msg, engine.table_mut());
                    // Only messages of an established relationship count
                    // as contact, not a CONNECT that was refused.
                    if self.peer.is_linked() {
                        self.last_contact = Some(now);
                    }
                    return;
                }
                let Some((tx, since)) = self.waiting.remove(&conn) else {
                    return;
                };
                let connect = matches!(msg.body, Body::Connect(_));
                if connect && self.active.is_none() {
                    self.activate(now, conn, tx);
                    self.peer.handle_message(now, msg, engine.table_mut());
                    if self.peer.is_linked() {
                        self.last_contact = Some(now);
                    }
                } else if let Some(reply) = self.peer.duplicate_connection_reply(&msg) {
                    self.refusals.count(Refusal::Duplicate);
                    tracing::info!(target: LOG_TARGET, conn, "duplicate failover connection refused");
                    let _ = tx.send(reply);
                } else {
                    // Not a handshake message on a spare connection: keep waiting.
                    self.waiting.insert(conn, (tx, since));
                }
            }
            LinkEvent::Down { conn, error } => {
                self.waiting.remove(&conn);
                if self.active.as_ref().is_some_and(|a| a.0 == conn) {
                    tracing::warn!(target: LOG_TARGET, conn, error = ?error, "failover connection lost");
                    self.active = None;
                    self.in_use.store(false, Ordering::Relaxed);
                    self.peer.handle_disconnected(now, engine.table_mut());
                }
            }
        }
    }

    fn activate(&mut self, now: UnixTime, conn: ConnId, tx: mpsc::UnboundedSender<Message>) {
        self.active = Some((conn, tx));
        self.in_use.store(true, Ordering::Relaxed);
        self.peer.handle_connected(now);
    }

    /// Drains the peer's transmits and events.
    fn pump(&mut self, engine: &mut Engine, commit: &GroupCommit) {
        loop {
            let mut progressed = false;
            while let Some(m) = self.peer.poll_transmit() {
                progressed = true;
                match &self.active {
                    Some((_, tx)) => {
                        let _ = tx.send(m);
                    }
                    None => tracing::debug!(target: LOG_TARGET, "no connection: message dropped"),
                }
            }
            while let Some(ev) = self.peer.poll_event() {
                progressed = true;
                self.on_event(ev, commit);
            }
            if !progressed {
                break;
            }
        }
        let _ = engine;
        let wanted = self.peer.wants_client_probe();
        self.probe_wanted
            .send_if_modified(|w| std::mem::replace(w, wanted) != wanted);
        self.publish();
    }

    fn on_event(&mut self, ev: Event, commit: &GroupCommit) {
        match ev {
            Event::StateChanged { from, to } => {
                tracing::debug!(target: LOG_TARGET, %from, %to, "state changed");
            }
            Event::PartnerStateChanged { from, to } => {
                tracing::debug!(target: LOG_TARGET, %from, %to, "partner state changed");
            }
            Event::Persist(p) => {
                self.persist_now(p, commit);
            }
            Event::Commit {
                token,
                leases,
                urgent,
            } => {
                let done = self.committed_tx.clone();
                let n = leases.len();
                let submit = if urgent {
                    GroupCommit::submit_now
                } else {
                    GroupCommit::submit
                };
                submit(
                    commit,
                    leases,
                    Box::new(move |r| match r {
                        Ok(()) => {
                            let _ = done.send(token);
                        }
                        Err(e) => tracing::error!(target: LOG_TARGET, error = %e, records = n,
                            "cannot commit failover lease changes; their acknowledgements are withheld"),
                    }),
                );
            }
            Event::Close(reason) => {
                self.report_close(&reason);
                tracing::info!(target: LOG_TARGET, ?reason, "closing the failover connection");
                if self.active.take().is_some() {
                    self.in_use.store(false, Ordering::Relaxed);
                }
            }
            Event::UpdateRejected {
                addr,
                reason,
                by_partner,
            } => {
                tracing::debug!(target: LOG_TARGET, %addr, %reason, by_partner, "binding update rejected");
            }
            Event::PartnerDownWithheld(reason) => {
                self.withheld += 1;
                if let Some(more) = self.withheld_log.hit(std::time::Instant::now()) {
                    tracing::warn!(target: LOG_TARGET, %reason, suppressed = more,
                        "automatic partner-down withheld: {reason}; staying in COMMUNICATIONS-INTERRUPTED \
                         (the failover link is down: repair it, or stop the partner and run partner-down; \
                         counted in dhcpd_failover_partner_down_withheld_total)");
                }
            }
            Event::Fatal(text) => {
                tracing::error!(target: LOG_TARGET, %text, "failover relationship shut down");
            }
        }
    }

    /// Saves a state change before it takes effect (ISC and the draft: a
    /// state is on stable storage before the server acts in it or tells
    /// its partner), after every commit submitted before it; this one call
    /// blocks the engine task for the flush, as state changes are rare.
    fn persist_now(&mut self, p: PersistedState, commit: &GroupCommit) {
        if let Err(e) = commit.commit_blocking(Vec::new()) {
            tracing::error!(target: LOG_TARGET, error = %e, "lease commit failed before saving failover state");
        }
        let bytes = match serde_json::to_vec(&p) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(target: LOG_TARGET, error = %e, "cannot encode the failover state");
                return;
            }
        };
        match self
            .store
            .put_meta(&meta_key(&self.peer.config().name), &bytes)
        {
            Ok(()) => {
                self.persist_failures
                    .ok("the failover state is saved again");
                self.last_persisted = Some(p);
            }
            Err(e) => {
                self.persist_retry.store(true, Ordering::Relaxed);
                self.persist_failures
                    .failed("cannot save the failover state", &e);
            }
        }
    }

    /// Refreshes the saved state between state changes (the persisted
    /// update queue, a hint: leases with tstp > atsfp are re-sent anyway):
    /// saved durably on the commit thread, after every commit submitted
    /// before it (so the saved state never runs ahead of the leases), without
    /// blocking the engine task on the flush. A failed save is retried at the
    /// next tick.
    fn persist(&mut self, p: PersistedState, commit: &GroupCommit) {
        let bytes = match serde_json::to_vec(&p) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(target: LOG_TARGET, error = %e, "cannot encode the failover state");
                return;
            }
        };
        self.last_persisted = Some(p);
        let (store, key) = (self.store.clone(), meta_key(&self.peer.config().name));
        let (failures, retry) = (self.persist_failures.clone(), self.persist_retry.clone());
        commit.submit(
            Vec::new(),
            Box::new(move |r| {
                let saved = match r {
                    Err(e) => Err(e.to_string()),
                    Ok(()) => store.put_meta(&key, &bytes).map_err(|e| e.to_string()),
                };
                match saved {
                    Ok(()) => failures.ok("the failover state is saved again"),
                    Err(e) => {
                        retry.store(true, Ordering::Relaxed);
                        failures.failed("cannot save the failover state", &e);
                    }
                }
            }),
        );
    }

    /// Saves the current state at once (at shutdown, after the last commit).
    pub fn save(&mut self) {
        let p = self.peer.persisted();
        match serde_json::to_vec(&p) {
            Ok(bytes) => {
                if let Err(e) = self
                    .store
                    .put_meta(&meta_key(&self.peer.config().name), &bytes)
                {
                    self.persist_failures
                        .failed("cannot save the failover state", &e);
                }
            }
            Err(e) => {
                tracing::error!(target: LOG_TARGET, error = %e, "cannot encode the failover state")
            }
        }
    }

    fn publish(&mut self) {
        let mut s = status_of(&self.peer, self.last_contact, self.refusals.snapshot());
        s.fencing = self.peer.fence().map(|f| {
            let (probes, answers) = f.totals();
            super::FencingStatus {
                probes,
                answers,
                last_answer: f.last_answer(),
                withheld: self.withheld,
            }
        });
        if (s.state, s.partner_state) != self.logged {
            self.logged = (s.state, s.partner_state);
            tracing::info!(target: LOG_TARGET, "failover status: state={} partner={} connected={} relationship={}",
                s.state, s.partner_state, s.connected, s.name);
        }
        self.status.send_if_modified(|old| {
            if *old == s {
                false
            } else {
                *old = s;
                true
            }
        });
    }
}

impl Driver {
    /// Counts a refused handshake and reports it, at most once a minute per
    /// side, with the measured clock offset when that was the reason.
    fn report_close(&mut self, reason: &CloseReason) {
        let (kind, slot, r) = match reason {
            CloseReason::Refused(RejectReason::DuplicateConnection) => {
                self.refusals.count(Refusal::Duplicate);
                return;
            }
            CloseReason::Refused(r) => (Refusal::ConnectRefused, 0, *r),
            CloseReason::RejectedByPartner(r) => (Refusal::RejectedByPartner, 1, *r),
            _ => return,
        };
        self.refusals.count(kind);
        let Some(more) = self.refusal_logs[slot].hit(std::time::Instant::now()) else {
            return;
        };
        let offset = self
            .peer
            .clock_offset()
            .map_or("unknown".to_owned(), |o| format!("{o:+} s"));
        let who = if slot == 0 {
            "refused the partner's"
        } else {
            "the partner refused our"
        };
        tracing::warn!(target: LOG_TARGET, reason = %r, clock_offset = %offset, suppressed = more,
            "{who} CONNECT ({r}); partner clock offset {offset}; retried every 5 s, reported at most once a minute \
             (counted in dhcpd_failover_refused_total)");
    }
}

fn status_of(peer: &Peer, last_contact: Option<UnixTime>, refused: [u64; 5]) -> FailoverStatus {
    let (queued, unacked) = peer.pending_updates();
    FailoverStatus {
        name: peer.config().name.clone(),
        role: peer.role(),
        state: peer.state(),
        stos: peer.stos(),
        partner_state: peer.partner_state(),
        connected: peer.is_linked(),
        queued_updates: queued,
        unacked_updates: unacked,
        last_contact,
        mclt: peer.mclt(),
        refused,
        fencing: None,
        maintenance: peer.maintenance_state(),
    }
}
