//! Starting and stopping the daemon: store, engine, sockets and tasks.
//!
//! Tasks (all on one tokio runtime):
//! - one receive loop per server socket ([`crate::net::receive`]),
//! - the engine task ([`crate::serve::service`]), the only owner of the engine,
//! - the sender ([`crate::net::transmit`]), which sends replies in order once their
//!   writes are durable,
//! - an interface watcher that re-reads interface addresses every few seconds,
//! - and, on its own thread, the store's group-commit worker.
//!
//! Shutdown (SIGTERM/SIGINT in the binary): the receive loops stop accepting,
//! the engine finishes what was queued, the sender waits for every pending
//! commit and sends those replies, the group commit drains, the store is
//! flushed, and [`serve`] returns the counters.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use dhcp_core::engine::Engine;
use dhcp_core::policy::ByRelationship;
use dhcp_store::{GroupCommit, LeaseStore, SledStore, StoreError};
use tokio::sync::{mpsc, watch};

use crate::failover::driver::{Driver, DriverError};
use crate::failover::fencing::{ProbeBoard, Prober};
use crate::failover::ops::Relationships;
use crate::failover::status::{NoFailover, SharedFailoverOps};
use crate::net::coalesce::Coalescer;
use crate::net::interfaces::InterfaceTable;
use crate::net::l2::L2Sender;
use crate::net::receive::Receiver;
use crate::net::socket::{DeviceChange, ServerSocket};
use crate::net::transmit::Transmitter;
use crate::ops::lease_file::LeaseFile;
use crate::ops::start::{self, OpsContext, OpsError};
use crate::serve::counters::Counters;
use crate::serve::service::Service;
use crate::settings::Settings;
use crate::shutdown;

/// Capacity of the queue between the receive loops and the engine; beyond it
/// requests are dropped (and counted as `queue_full`).
pub const INBOUND_QUEUE: usize = 4096;
/// Capacity of the sender's queue (batches).
pub const SEND_QUEUE: usize = 1024;
/// How often the stats file is rewritten while running.
pub const STATS_INTERVAL: Duration = Duration::from_secs(5);
/// Free lease records idle this long (seconds) are removed at start-up.
pub const COMPACT_AFTER: u32 = 30 * 86_400;
/// How often interface addresses are re-read.
pub const INTERFACE_REFRESH: Duration = Duration::from_secs(5);

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The lease store could not be opened or read.
    #[error("lease store {path}: {source}")]
    Store {
        /// Its directory.
        path: PathBuf,
        /// The cause.
        source: StoreError,
    },
    /// The interface list could not be read.
    #[error("cannot read the network interfaces: {0}")]
    Interfaces(std::io::Error),
    /// A configured interface does not exist.
    #[error("interface {0:?} does not exist")]
    NoInterface(String),
    /// A server socket could not be opened.
    #[error("cannot open UDP port {port} on {interface}: {source}")]
    Socket {
        /// The interface (`*` for all).
        interface: String,
        /// The port.
        port: u16,
        /// The cause.
        source: std::io::Error,
    },
    /// The failover relationship could not start.
    #[error("failover: {0}")]
    Failover(DriverError),
    /// The metrics exporter, control socket or signal handling could not start.
    #[error(transparent)]
    Ops(#[from] OpsError),
    /// The engine task stopped on its own (a bug); the daemon exits so that
    /// its supervisor restarts it.
    #[error("the engine task stopped unexpectedly: {0}")]
    EngineStopped(String),
}

/// Runs the daemon until `shutdown` completes, counting into `counters`
/// (shared so that a metrics exporter can read them while it runs). The
/// receive loops report their batches to `coalescer`, whose park hook the
/// caller installs in the runtime (or not).
pub async fn serve(
    settings: Settings,
    counters: Arc<Counters>,
    coalescer: Arc<Coalescer>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let store_err = |source| ServeError::Store {
        path: settings.store.clone(),
        source,
    };
    let store =
        Arc::new(SledStore::open_with(&settings.store, settings.store_options).map_err(store_err)?);
    // Compaction: free records idle for longer than COMPACT_AFTER carry nothing
    // worth keeping (the table recreates them as never-used free addresses).
    let idle_before = crate::clock::engine_now().saturating_sub(COMPACT_AFTER);
    // Only an optimisation: a failure (a nearly full disk) is no reason not
    // to serve, and the removals are written at the next checkpoint.
    let compacted = store.compact(idle_before).unwrap_or_else(|e| {
        tracing::warn!(store = %settings.store.display(), error = %e, "lease store compaction skipped");
        0
    });
    let mut engine = Engine::new(settings.config.clone());
    let report = engine.restore(store.load().map_err(store_err)?);
    tracing::info!(
        store = %settings.store.display(),
        restored = report.restored,
        orphaned = report.orphaned,
        compacted,
        "lease store opened"
    );
    // Opening a large store decodes every record once through buffers
    // that are dropped again (a million active leases: about 200 MiB),
    // which the allocator would otherwise keep mapped for good.
    crate::memory::release_freed();

    // Failover: one driver per relationship (see crate::failover).
    let mut drivers = Vec::new();
    let mut handles = Vec::new();
    for cfg in &settings.config.failover {
        let (d, h) = Driver::start(cfg.clone(), store.clone()).map_err(ServeError::Failover)?;
        drivers.push(d);
        handles.push(h);
    }

    let interfaces = InterfaceTable::load().map_err(ServeError::Interfaces)?;
    let sockets = open_sockets(&settings, &interfaces)?;
    let l2 = match L2Sender::open() {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(
                error = %e,
                "no layer-2 socket (needs CAP_NET_RAW): replies to address-less clients will be broadcast"
            );
            None
        }
    };

    let (stop_tx, stop_rx) = watch::channel(false);
    // Failover's operations interface: the drivers' handles, or standalone.
    let failover_ops: SharedFailoverOps = if handles.is_empty() {
        Arc::new(NoFailover)
    } else {
        Arc::new(Relationships(handles))
    };
    let (ops, engine_ops) = start::start(
        OpsContext {
            settings: &settings,
            counters: &counters,
            store: store.clone(),
            failover: failover_ops,
            stop: stop_rx.clone(),
        },
        &mut engine,
    )
    .await?;

    let batch_counters = counters.clone();
    let commit = GroupCommit::start_with_linger(
        store.clone(),
        settings.max_batch,
        settings.commit_linger,
        move |b| {
            batch_counters.commits.fetch_add(1, Ordering::Relaxed);
            batch_counters
                .committed_records
                .fetch_add(b.records as u64, Ordering::Relaxed);
            let t = &batch_counters.timings;
            t.commit_latency.observe_duration(b.duration);
            t.commit_batch.observe(b.records as u64);
            tracing::trace!(
                transactions = b.transactions,
                records = b.records,
                micros = b.duration.as_micros() as u64,
                "group commit"
            );
        },
    );

    let (in_tx, in_rx) = mpsc::channel(INBOUND_QUEUE);
    let (send_tx, send_rx) = mpsc::channel(SEND_QUEUE);

    // Fencing: a prober per relationship that has it; the receive loops
    // hand the partner's answers to the probes' board.
    let mut slots = Vec::new();
    let mut probers = Vec::new();
    for d in &mut drivers {
        if let Some(p) = d.take_prober() {
            slots.push(p.slot.clone());
            let prober = Prober {
                slot: p.slot,
                interval: p.interval,
                port: settings.ports.server,
                wanted: p.wanted,
                results: p.results,
                sockets: sockets.clone(),
                interfaces: interfaces.clone(),
            };
            probers.push(tokio::spawn(prober.run(stop_rx.clone())));
        }
    }
    let probes = ProbeBoard::new(slots);

    let mut receivers = Vec::new();
    for (index, socket) in sockets.iter().enumerate() {
        let r = Receiver {
            index,
            socket: socket.clone(),
            interfaces: interfaces.clone(),
            queue: in_tx.clone(),
            counters: counters.clone(),
            coalescer: coalescer.clone(),
            probes: probes.clone(),
        };
        receivers.push(tokio::spawn(r.run(stop_rx.clone())));
    }
    drop(in_tx);
    let sender = tokio::spawn(
        Transmitter::new(sockets.clone(), l2, settings.ports, counters.clone()).run(send_rx),
    );
    let mut policies = ByRelationship::new();
    for d in &drivers {
        policies.set(&d.peer().config().name, d.policy());
    }
    let mut service = tokio::spawn(
        Service {
            engine,
            policies,
            commit,
            sends: send_tx,
            counters: counters.clone(),
            max_batch: settings.max_batch,
            ops: engine_ops,
            passed: Default::default(),
            failover: drivers,
            lease_file: settings.lease_file.clone().map(LeaseFile::new),
        }
        .run(in_rx),
    );
    let watcher = tokio::spawn(watch_interfaces(
        interfaces,
        sockets.clone(),
        stop_rx.clone(),
    ));
    let stats = settings
        .stats_file
        .clone()
        .map(|path| tokio::spawn(write_stats_periodically(path, counters.clone(), stop_rx)));
    tracing::info!(
        sockets = sockets.len(),
        port = settings.ports.server,
        "serving"
    );
    ops.ready();

    let early_end = tokio::select! {
        () = shutdown => None,
        () = ops.stop_requested() => None,
        r = &mut service => Some(r),
    };
    tracing::info!("shutting down: no longer accepting requests");
    ops.stopping();
    let _ = stop_tx.send(true);
    for r in receivers {
        let _ = r.await;
    }
    // A prober may be waiting out its interval for an answer; it holds
    // nothing to flush.
    for p in probers {
        p.abort();
    }
    let _ = watcher.await;
    if let Some(s) = stats {
        let _ = s.await;
    }
    let (commit, failure) = match early_end {
        None => (service.await.ok(), None),
        Some(Ok(c)) => (Some(c), Some("ended".to_owned())),
        Some(Err(e)) => (None, Some(e.to_string())),
    };
    if let Some(f) = &failure {
        tracing::error!(cause = %f, "the engine task stopped unexpectedly");
    }
    let _ = sender.await;
    let flushed = tokio::task::spawn_blocking(move || {
        // Dropping the group commit waits for its worker to finish every
        // queued job; then one last flush.
        drop(commit);
        store.checkpoint()
    })
    .await;
    match flushed {
        Ok(Ok(())) => tracing::info!("lease store flushed"),
        Ok(Err(e)) => tracing::error!(error = %e, "final store flush failed"),
        Err(e) => tracing::error!(error = %e, "final store flush did not complete"),
    }
    ops.finish(&counters).await;
    match failure {
        Some(f) => Err(ServeError::EngineStopped(f)),
        None => Ok(()),
    }
}

fn open_sockets(
    settings: &Settings,
    interfaces: &InterfaceTable,
) -> Result<Vec<Arc<ServerSocket>>, ServeError> {
    let port = settings.ports.server;
    let socket_err = |interface: &str, source| ServeError::Socket {
        interface: interface.to_owned(),
        port,
        source,
    };
    if settings.interfaces.is_empty() {
        tracing::info!("no interfaces configured: listening on all interfaces");
        let s = ServerSocket::bind(None, port).map_err(|e| socket_err("*", e))?;
        s.set_gso(settings.udp_gso);
        return Ok(vec![Arc::new(s)]);
    }
    let mut out = Vec::new();
    for name in &settings.interfaces {
        let iface = interfaces
            .by_name(name)
            .ok_or_else(|| ServeError::NoInterface(name.clone()))?;
        if iface.addrs.is_empty() {
            tracing::warn!(interface = %name, "interface has no IPv4 address yet");
        }
        let s = ServerSocket::bind(Some(name), port).map_err(|e| socket_err(name, e))?;
        s.set_gso(settings.udp_gso);
        tracing::info!(interface = %name, addrs = ?iface.addrs, port, "listening");
        out.push(Arc::new(s));
    }
    Ok(out)
}

/// Writes the counters to `path` (`name value` lines), atomically.
pub fn write_stats(path: &Path, counters: &Counters) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, counters.render())?;
    std::fs::rename(&tmp, path)
}

async fn write_stats_periodically(
    path: PathBuf,
    counters: Arc<Counters>,
    mut stop: watch::Receiver<bool>,
) {
    let mut every = tokio::time::interval(STATS_INTERVAL);
    loop {
        tokio::select! {
            _ = shutdown::requested(&mut stop) => break,
            _ = every.tick() => {
                let (p, c) = (path.clone(), counters.clone());
                let r = tokio::task::spawn_blocking(move || write_stats(&p, &c)).await;
                if let Ok(Err(e)) = r {
                    tracing::warn!(error = %e, path = %path.display(), "cannot write the stats file");
                }
            }
        }
    }
}

/// Re-reads the interfaces every [`INTERFACE_REFRESH`], and keeps each
/// socket bound to its interface across the interface's deletion and
/// re-creation.
async fn watch_interfaces(
    table: InterfaceTable,
    sockets: Vec<Arc<ServerSocket>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut every = tokio::time::interval(INTERFACE_REFRESH);
    every.tick().await;
    loop {
        tokio::select! {
            _ = shutdown::requested(&mut stop) => break,
            _ = every.tick() => {
                let t = table.clone();
                let _ = tokio::task::spawn_blocking(move || t.refresh()).await;
                follow_devices(&table, &sockets);
            }
        }
    }
}

/// Binds every socket whose interface was created again to its new index.
fn follow_devices(table: &InterfaceTable, sockets: &[Arc<ServerSocket>]) {
    for s in sockets {
        let Some(name) = s.device() else {
            continue;
        };
        match s.follow_device(table.by_name(name).map(|i| i.index)) {
            DeviceChange::Same => {}
            DeviceChange::Gone => {
                tracing::warn!(interface = %name, "interface has gone: serving it again when it returns")
            }
            DeviceChange::Rebound { from, to } => tracing::info!(
                interface = %name,
                old_index = from,
                index = to,
                "interface was created again: listening on it again"
            ),
            DeviceChange::Failed(e) => tracing::error!(
                interface = %name,
                error = %e,
                "interface was created again, but the socket cannot be bound to it"
            ),
        }
    }
}
