//! The operations side of the daemon, started by [`crate::server::serve`]:
//! the metrics exporter ([`crate::ops::metrics`]), the control socket
//! ([`crate::ops::control`]), lease events ([`crate::ops::events`]), reload on SIGHUP
//! ([`crate::ops::reload`]) and systemd notifications ([`crate::ops::systemd`]).
//!
//! [`start`] returns two halves: [`Ops`], kept by `serve` (readiness,
//! shutdown), and [`EngineOps`], moved into the engine task, which answers
//! control calls, emits lease events and publishes pool figures.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use dhcp_core::engine::{Engine, Outcome};
use dhcp_core::lease::{BindingState, Lease};
use dhcp_core::packet::Request;
use dhcp_core::policy::Policies;
use dhcp_store::{GroupCommit, LeaseStore};
use dhcproto::v4::MessageType;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::clock::unix_now;
use crate::failover::driver::DurableNotifier;
use crate::failover::status::SharedFailoverOps;
use crate::ops::control::engine::{EngineCall, EngineContext, EngineRequest};
use crate::ops::control::server::{ControlServer, DaemonInfo};
use crate::ops::control::{self, hosts};
use crate::ops::events::{self, Action, EventSink, KeaDetail, LeaseEvent};
use crate::ops::kea_control::{self, KeaContext};
use crate::ops::kea_script::Via;
use crate::ops::metrics::{self, DaemonCollector};
use crate::ops::omapi::{self, OmapiCall, backend::OmapiHosts};
use crate::ops::reload::Reloader;
use crate::ops::reload_status::ReloadStatus;
use crate::ops::systemd::Notifier;
use crate::serve::counters::Counters;
use crate::serve::pool_stats::PoolGauges;
use crate::settings::Settings;
use crate::shutdown;

/// Capacity of the engine task's control queue.
pub const CALL_QUEUE: usize = 64;
/// How often the systemd status line is refreshed (without a watchdog).
pub const STATUS_INTERVAL: Duration = Duration::from_secs(10);
/// How long shutdown waits for queued lease events to be delivered.
pub const EVENT_DRAIN: Duration = Duration::from_secs(2);

/// Why the operations side could not start.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// The metrics address could not be bound.
    #[error("cannot listen for metrics on {addr}: {source}")]
    Metrics {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The control socket could not be created.
    #[error("cannot create the control socket {path}: {source}")]
    Control {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// OMAPI could not start.
    #[error(transparent)]
    Omapi(#[from] super::omapi::OmapiError),
    /// SIGHUP could not be handled.
    #[error("cannot handle SIGHUP: {0}")]
    Signal(std::io::Error),
}

/// The engine task's half.
pub struct EngineOps {
    /// Control calls (and reloads) for the engine.
    pub calls: mpsc::Receiver<EngineCall>,
    /// Lease events.
    pub events: EventSink,
    /// Pool figures.
    pub pools: Arc<PoolGauges>,
    /// The store (runtime host metadata).
    pub store: Arc<dyn LeaseStore>,
    /// OMAPI sessions lent by their connections (never ready without OMAPI).
    pub omapi: mpsc::Receiver<OmapiCall>,
    /// The hosts OMAPI created (never stored) and their ids.
    pub omapi_hosts: OmapiHosts,
}

impl EngineOps {
    /// Inert operations for an engine task without them (tests).
    pub fn inert(counters: Arc<Counters>, store: Arc<dyn LeaseStore>) -> Self {
        let (_tx, calls) = mpsc::channel(1);
        let (_omapi_tx, omapi) = mpsc::channel(1);
        Self {
            calls,
            events: EventSink::disabled(counters),
            pools: Arc::new(PoolGauges::default()),
            store,
            omapi,
            omapi_hosts: OmapiHosts::default(),
        }
    }

    /// Answers one control call; `failover` hears of the lease changes it
    /// makes once they are durable.
    pub fn handle_call(
        &mut self,
        call: EngineCall,
        engine: &mut Engine,
        policies: &dyn Policies,
        commit: &GroupCommit,
        failover: Vec<DurableNotifier>,
    ) {
        control::engine::handle(
            EngineContext {
                engine,
                policies,
                commit,
                store: &self.store,
                events: &self.events,
                pools: &self.pools,
                failover,
                omapi_hosts: &mut self.omapi_hosts,
            },
            call,
        );
    }

    /// The lease event for one transaction, if events are on and it is one;
    /// `via` says where the request came in and `prior` is what
    /// [`EngineOps::prior_lease`] found (both only for a Kea script).
    pub fn transaction_event(
        &self,
        req: &Request,
        out: &Outcome,
        prior: Option<Lease>,
        via: impl FnOnce() -> Via,
    ) -> Option<LeaseEvent> {
        if !self.events.is_enabled() {
            return None;
        }
        let mut ev = LeaseEvent::from_outcome(
            req,
            out,
            self.events.wants_options(),
            self.events.wants_kea(),
            via,
        )?;
        if let (Some(d), Some(p)) = (ev.kea.as_mut(), prior) {
            match ev.action {
                // Kea reports the lease as it was before.
                Action::Release | Action::Decline => {
                    d.valid_lifetime = p.ends.saturating_sub(p.cltt);
                }
                Action::Commit => d.renewed = p.hw.as_ref() == Some(&out.hw),
                Action::Expiry => {}
            }
        }
        Some(ev)
    }

    /// With a Kea script, before the engine handles `req`: the ACTIVE lease
    /// at the address a REQUEST (renewal), RELEASE or DECLINE names.
    pub fn prior_lease(&self, engine: &Engine, req: &Request) -> Option<Lease> {
        if !self.events.wants_kea() {
            return None;
        }
        let requested = || {
            req.raw(50)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(Ipv4Addr::from)
        };
        let ciaddr = Some(req.msg.ciaddr()).filter(|a| !a.is_unspecified());
        let addr = match req.msg_type {
            MessageType::Request => requested().or(ciaddr),
            MessageType::Release => ciaddr,
            MessageType::Decline => requested(),
            _ => None,
        }?;
        engine
            .table()
            .get(addr)
            .filter(|l| l.state == BindingState::Active)
            .cloned()
    }

    /// Addresses whose ACTIVE lease is due at `now` (call before
    /// `Engine::tick`, to recognise expiries among its writes).
    pub fn due_active(&self, engine: &Engine, now: u32) -> HashSet<Ipv4Addr> {
        if self.events.is_enabled() {
            engine
                .table()
                .due(BindingState::Active, now)
                .into_iter()
                .collect()
        } else {
            HashSet::new()
        }
    }

    /// Expiry events among the timer's `writes`, given the `due` addresses.
    pub fn expiry_events(&self, due: &HashSet<Ipv4Addr>, writes: &[Lease]) -> Vec<LeaseEvent> {
        writes
            .iter()
            .filter(|l| l.state != BindingState::Active && due.contains(&l.addr))
            .filter_map(|l| {
                l.hw.as_ref().map(|hw| {
                    let mut ev = LeaseEvent::end(Action::Expiry, hw, l.addr);
                    if self.events.wants_kea() {
                        ev.kea = Some(KeaDetail::of(l, None, None));
                    }
                    ev
                })
            })
            .collect()
    }

    /// Emits `events` now (their changes are durable or there were none).
    pub fn emit(&self, events: Vec<LeaseEvent>) {
        self.events.emit_all(events);
    }

    /// A completion wrapper: emits `events` once the commit succeeded, then
    /// runs `then`.
    pub fn after_commit<R: Clone + 'static>(
        &self,
        events: Vec<LeaseEvent>,
        then: impl FnOnce(Result<(), R>) + Send + 'static,
    ) -> impl FnOnce(Result<(), R>) + Send + 'static {
        let sink = (!events.is_empty()).then(|| self.events.clone());
        move |r: Result<(), R>| {
            if r.is_ok()
                && let Some(s) = sink
            {
                s.emit_all(events);
            }
            then(r);
        }
    }

    /// Publishes the pool figures (once per timer tick).
    pub fn publish(&self, engine: &Engine) {
        self.pools.publish(engine);
    }
}

/// The half kept by `serve`.
pub struct Ops {
    notifier: Arc<Notifier>,
    pools: Arc<PoolGauges>,
    failover: SharedFailoverOps,
    stop_request: Arc<Notify>,
    tasks: Vec<JoinHandle<()>>,
    event_tasks: Vec<JoinHandle<()>>,
}

/// Everything `start` needs from `serve`.
pub struct OpsContext<'a> {
    /// Daemon settings.
    pub settings: &'a Settings,
    /// Shared counters.
    pub counters: &'a Arc<Counters>,
    /// The lease store.
    pub store: Arc<dyn LeaseStore>,
    /// Failover's operations interface ([`crate::failover::status::NoFailover`]
    /// until failover runs in the daemon).
    pub failover: SharedFailoverOps,
    /// Turns true at shutdown.
    pub stop: watch::Receiver<bool>,
}

/// Loads the runtime hosts into `engine`, then starts every configured
/// operations task.
pub async fn start(ctx: OpsContext<'_>, engine: &mut Engine) -> Result<(Ops, EngineOps), OpsError> {
    let settings = ctx.settings;
    let ops = &settings.ops;
    load_runtime_hosts(ctx.store.as_ref(), engine, ops.forget_runtime_hosts);
    let pools = Arc::new(PoolGauges::default());
    pools.publish(engine);
    let started = unix_now();

    let (sink, event_tasks) = events::start(&ops.events, ctx.counters.clone());
    let (call_tx, calls) = mpsc::channel(CALL_QUEUE);
    let reload_status = Arc::new(ReloadStatus::default());
    let reloader = Arc::new(Reloader::new(
        ops.config_path.clone(),
        settings.config.clone(),
        (ops.interfaces_fixed, ops.store_fixed),
        call_tx.clone(),
        ctx.failover.clone(),
        reload_status.clone(),
    ));
    let mut tasks = Vec::new();

    if let Some(addr) = ops.metrics {
        let listener = metrics::http::bind(addr)
            .await
            .map_err(|source| OpsError::Metrics { addr, source })?;
        let registry = Arc::new(metrics::registry(DaemonCollector {
            counters: ctx.counters.clone(),
            pools: pools.clone(),
            failover: ctx.failover.clone(),
            reload: reload_status.clone(),
            store: ctx.store.clone(),
            started,
        }));
        tracing::info!(address = %addr, "metrics exporter listening");
        tasks.push(tokio::spawn(metrics::http::run(
            listener,
            registry,
            ctx.stop.clone(),
        )));
    }

    let stop_request = Arc::new(Notify::new());
    if ops.control_socket.is_some() || ops.kea_control.is_some() {
        let server = Arc::new(ControlServer {
            engine: call_tx.clone(),
            reloader: reloader.clone(),
            failover: ctx.failover.clone(),
            counters: ctx.counters.clone(),
            reload_status,
            info: DaemonInfo {
                config: ops.config_path.clone(),
                store: settings.store.clone(),
                interfaces: settings.interfaces.clone(),
                started,
            },
        });
        let slots = control::server::connection_slots();
        let bind = |path: &PathBuf| {
            control::server::bind(path, ops.control_mode).map_err(|source| OpsError::Control {
                path: path.clone(),
                source,
            })
        };
        if let Some(path) = &ops.control_socket {
            let listener = bind(path)?;
            tracing::info!(path = %path.display(), mode = format!("{:o}", ops.control_mode), "control socket listening");
            tasks.push(tokio::spawn(server.clone().run(
                listener,
                path.clone(),
                ctx.stop.clone(),
                slots.clone(),
            )));
        }
        if let (Some(path), Some(config)) = (&ops.kea_control, &ops.config_path) {
            let listener = bind(path)?;
            tracing::info!(path = %path.display(), "Kea control socket listening");
            let kea = Arc::new(KeaContext::new(
                server,
                config.clone(),
                stop_request.clone(),
            ));
            tasks.push(tokio::spawn(kea_control::server::run(
                kea,
                listener,
                path.clone(),
                ctx.stop.clone(),
                slots,
            )));
        }
    }

    // Without OMAPI the sender is dropped at once: the engine task's
    // receiver then never yields a call.
    let (omapi_tx, omapi_calls) = mpsc::channel(omapi::CALL_QUEUE);
    if let Some(o) = &ops.omapi {
        let key = omapi::load_key(&o.key_file)?;
        let key_name = key.name().to_owned();
        let (listener, config) = omapi::bind(o.listen, key).await?;
        tracing::info!(target: omapi::LOG_TARGET, address = %o.listen, key = %key_name, "OMAPI listening");
        tasks.push(tokio::spawn(omapi::run(
            listener,
            config,
            omapi_tx,
            ctx.counters.clone(),
            ctx.stop.clone(),
        )));
    } else {
        drop(omapi_tx);
    }

    let mut hup = signal(SignalKind::hangup()).map_err(OpsError::Signal)?;
    let mut stop = ctx.stop.clone();
    let hup_reloader = reloader;
    tasks.push(tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown::requested(&mut stop) => break,
                s = hup.recv() => {
                    if s.is_none() { break; }
                    tracing::info!("SIGHUP received: reloading the configuration");
                    hup_reloader.reload().await;
                }
            }
        }
    }));

    let notifier = Arc::new(Notifier::from_env());
    if notifier.is_enabled() {
        tasks.push(tokio::spawn(keepalive(
            notifier.clone(),
            call_tx,
            pools.clone(),
            ctx.failover.clone(),
            ctx.stop.clone(),
        )));
    }
    Ok((
        Ops {
            notifier,
            pools: pools.clone(),
            failover: ctx.failover,
            stop_request,
            tasks,
            event_tasks,
        },
        EngineOps {
            calls,
            events: sink,
            pools,
            store: ctx.store,
            omapi: omapi_calls,
            omapi_hosts: OmapiHosts::default(),
        },
    ))
}

fn load_runtime_hosts(store: &dyn LeaseStore, engine: &mut Engine, forget: bool) {
    let stored = match hosts::load(store) {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the runtime host reservations; starting without them");
            return;
        }
    };
    if stored.is_empty() {
        return;
    }
    if forget {
        match hosts::save(store, &[]) {
            Ok(()) => tracing::info!(
                hosts = stored.len(),
                "runtime host reservations forgotten (--forget-runtime-hosts)"
            ),
            Err(e) => tracing::error!(error = %e, "cannot clear the runtime hosts"),
        }
        return;
    }
    let (kept, dropped) = hosts::reconcile(engine.config(), stored);
    for (h, why) in &dropped {
        tracing::warn!(name = %h.name, reason = %why, "runtime host dropped: conflicts with the configuration");
    }
    if !dropped.is_empty()
        && let Err(e) = hosts::save(store, &kept)
    {
        tracing::error!(error = %e, "cannot store the runtime hosts");
    }
    tracing::info!(hosts = kept.len(), "runtime host reservations restored");
    for h in kept {
        engine.add_host(h);
    }
}

/// One line for `STATUS=`.
fn status_line(pools: &PoolGauges, failover: &SharedFailoverOps) -> String {
    let p = pools.get();
    let size: u64 = p.iter().map(|x| x.size).sum();
    let used: u64 = p.iter().map(|x| x.used()).sum();
    let fo = failover.status();
    let fo = if fo.is_empty() {
        "standalone".to_owned()
    } else {
        fo.iter()
            .map(|r| {
                format!(
                    "{} {} (partner {}, {})",
                    r.name,
                    r.local_state,
                    r.partner_state.as_deref().unwrap_or("unknown"),
                    if r.connected {
                        "connected"
                    } else {
                        "not connected"
                    }
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "serving: {} pools, {used}/{size} addresses in use; failover: {fo}",
        p.len()
    )
}

/// Refreshes `STATUS=` and, when systemd asked for one, pings the watchdog
/// after the engine task has answered a ping (so a stuck engine is noticed).
async fn keepalive(
    notifier: Arc<Notifier>,
    engine: mpsc::Sender<EngineCall>,
    pools: Arc<PoolGauges>,
    failover: SharedFailoverOps,
    mut stop: watch::Receiver<bool>,
) {
    let period = notifier
        .watchdog()
        .map_or(STATUS_INTERVAL, |w| (w / 2).min(STATUS_INTERVAL));
    let watchdog = notifier.watchdog().is_some();
    let mut every = tokio::time::interval(period);
    // The first tick is immediate; READY=1 (with its status) comes first.
    every.tick().await;
    loop {
        tokio::select! {
            _ = shutdown::requested(&mut stop) => break,
            _ = every.tick() => {
                notifier.status(&status_line(&pools, &failover));
                if watchdog {
                    let (tx, rx) = oneshot::channel();
                    let call = EngineCall { req: EngineRequest::Ping, reply: tx };
                    let alive = engine.try_send(call).is_ok()
                        && matches!(tokio::time::timeout(period, rx).await, Ok(Ok(Ok(_))));
                    if alive {
                        notifier.ping();
                    } else {
                        tracing::warn!("the engine did not answer the watchdog ping");
                    }
                }
            }
        }
    }
}

impl Ops {
    /// Tells systemd the daemon is ready (sockets and store open).
    pub fn ready(&self) {
        self.notifier
            .ready(&status_line(&self.pools, &self.failover));
    }

    /// Resolves when a control command (Kea's `shutdown`) asks the daemon
    /// to stop.
    pub async fn stop_requested(&self) {
        self.stop_request.notified().await;
    }

    /// Tells systemd the daemon is stopping.
    pub fn stopping(&self) {
        self.notifier.stopping();
    }

    /// Waits for the operations tasks (after the stop signal) and, briefly,
    /// for queued lease events (after the engine task and the store's commit
    /// worker have finished, so that no event is still to come).
    pub async fn finish(self, counters: &Counters) {
        for t in self.tasks {
            let _ = t.await;
        }
        let drain = async {
            for t in self.event_tasks {
                let _ = t.await;
            }
        };
        if tokio::time::timeout(EVENT_DRAIN, drain).await.is_err() {
            tracing::warn!(
                dropped_so_far = counters.events_dropped.load(Ordering::Relaxed),
                "lease events still queued at exit were dropped"
            );
        }
    }
}
