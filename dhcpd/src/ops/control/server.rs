//! The control socket server: accepts connections, reads one JSON request
//! per line and writes one JSON response per line. Requests that need the
//! engine go to the engine task ([`super::engine`]); the rest are answered
//! here.

use std::future::Future;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Semaphore, mpsc, oneshot, watch};

use super::engine::{EngineCall, EngineRequest};
use super::error::ControlError;
use super::protocol::{EventFigures, Reply, Request, Response, StatusReport, parse_request};
use crate::clock::unix_now;
use crate::failover::status::SharedFailoverOps;
use crate::ops::reload::Reloader;
use crate::ops::reload_status::ReloadStatus;
use crate::serve::counters::Counters;
use crate::shutdown;

/// Connections served at once; further ones are closed at accept (as the
/// metrics endpoint does), so idle clients cannot exhaust the daemon.
pub const MAX_CONNECTIONS: usize = 32;

/// How long a connection may stay idle.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Binds the control socket at `path` with permissions `mode`. A stale
/// socket file (nothing listening) is replaced; a live one is an error.
pub fn bind(path: &Path, mode: u32) -> std::io::Result<UnixListener> {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "exists and is not a socket",
            ));
        }
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                "another daemon is listening on it",
            ));
        }
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(listener)
}

/// Static facts for `status`.
#[derive(Debug, Clone)]
pub struct DaemonInfo {
    /// Configuration file.
    pub config: Option<PathBuf>,
    /// Store directory.
    pub store: PathBuf,
    /// Served interfaces.
    pub interfaces: Vec<String>,
    /// Unix start time.
    pub started: u64,
}

/// Everything the control server answers with.
pub struct ControlServer {
    /// The engine task's queue.
    pub engine: mpsc::Sender<EngineCall>,
    /// Reloads.
    pub reloader: Arc<Reloader>,
    /// Failover.
    pub failover: SharedFailoverOps,
    /// Counters.
    pub counters: Arc<Counters>,
    /// Reload outcomes.
    pub reload_status: Arc<ReloadStatus>,
    /// Static facts.
    pub info: DaemonInfo,
}

/// The connection slots of the daemon's control sockets (ours and Kea's
/// share one set): [`MAX_CONNECTIONS`].
pub fn connection_slots() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(MAX_CONNECTIONS))
}

/// Accepts connections on `listener` until `stop` turns true, each served
/// by `serve` in its own task while it holds one of `slots` (a connection
/// finding none free is closed at once); then removes the socket file at
/// `path`. `what` names the socket in logs.
pub async fn accept_loop<F, Fut>(
    listener: UnixListener,
    path: PathBuf,
    mut stop: watch::Receiver<bool>,
    slots: Arc<Semaphore>,
    what: &'static str,
    serve: F,
) where
    F: Fn(UnixStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    loop {
        let conn = tokio::select! {
            _ = shutdown::requested(&mut stop) => break,
            c = listener.accept() => c,
        };
        match conn {
            Ok((stream, _)) => {
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    tracing::debug!(socket = what, "too many control connections; one refused");
                    continue;
                };
                let task = serve(stream);
                tokio::spawn(async move {
                    task.await;
                    drop(slot);
                });
            }
            Err(e) => {
                tracing::warn!(socket = what, error = %e, "control socket accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    let _ = std::fs::remove_file(&path);
}

impl ControlServer {
    /// Serves connections (holding one of `slots` each) until `stop` turns
    /// true; then removes the socket file.
    pub async fn run(
        self: Arc<Self>,
        listener: UnixListener,
        path: PathBuf,
        stop: watch::Receiver<bool>,
        slots: Arc<Semaphore>,
    ) {
        accept_loop(listener, path, stop, slots, "control", move |stream| {
            let me = self.clone();
            async move { me.connection(stream).await }
        })
        .await;
    }

    /// Asks the engine task; its answer.
    pub async fn engine(&self, req: EngineRequest) -> Result<Reply, ControlError> {
        let (tx, rx) = oneshot::channel();
        self.engine
            .send(EngineCall { req, reply: tx })
            .await
            .map_err(|_| ControlError::EngineStopped)?;
        rx.await.map_err(|_| ControlError::EngineDropped)?
    }

    async fn connection(&self, stream: UnixStream) {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        let mut line = String::new();
        loop {
            line.clear();
            let n = match tokio::time::timeout(IDLE_TIMEOUT, lines.read_line(&mut line)).await {
                Ok(Ok(n)) => n,
                _ => break,
            };
            if n == 0 {
                break;
            }
            let response = match parse_request(&line) {
                Ok(Some(req)) => self.answer(req).await,
                Ok(None) => continue,
                Err(e) => Response::from(Err(e)),
            };
            let mut out = super::protocol::to_json_line(&response).unwrap_or_else(|e| {
                format!(r#"{{"ok":false,"error":"cannot encode the response: {e}"}}"#)
            });
            out.push('\n');
            if write.write_all(out.as_bytes()).await.is_err() {
                break;
            }
        }
    }

    /// Answers one request.
    pub async fn answer(&self, req: Request) -> Response {
        let result = match req {
            Request::Status => self.status().await,
            Request::LeasesList { state, all } => {
                self.engine(EngineRequest::Leases { state, all }).await
            }
            Request::LeasesShow { key } => self.engine(EngineRequest::Lease(key)).await,
            Request::LeasesRelease { key } => self.engine(EngineRequest::Release(key)).await,
            Request::HostsList => self.engine(EngineRequest::Hosts).await,
            Request::HostsAdd { host } => self.engine(EngineRequest::AddHost(host)).await,
            Request::HostsRemove { name } => self.engine(EngineRequest::RemoveHost(name)).await,
            Request::FailoverStatus => Ok(Reply::Failover {
                relationships: self.failover.status(),
            }),
            Request::FailoverPartnerDown { relationship } => self
                .failover
                .partner_down(relationship.as_deref())
                .map(|message| {
                    tracing::warn!(%message, "partner-down requested over the control socket");
                    Reply::Done { message }
                })
                .map_err(ControlError::from),
            Request::FailoverMaintenance {
                relationship,
                start,
            } => self
                .failover
                .maintenance(relationship.as_deref(), start)
                .map(|message| {
                    tracing::warn!(%message, "partner maintenance over the control socket");
                    Reply::Done { message }
                })
                .map_err(ControlError::from),
            Request::Reload => {
                tracing::info!("reload requested over the control socket");
                let record = self.reloader.reload().await;
                if record.ok {
                    Ok(Reply::Reloaded { record })
                } else {
                    Err(ControlError::Reload(record.message))
                }
            }
        };
        Response::from(result)
    }

    async fn status(&self) -> Result<Reply, ControlError> {
        let engine = match self.engine(EngineRequest::Status).await? {
            Reply::EngineStatus(s) => s,
            _ => return Err(ControlError::UnexpectedReply),
        };
        let c = &self.counters;
        let now = unix_now();
        Ok(Reply::Status(Box::new(StatusReport {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            pid: std::process::id(),
            started: self.info.started,
            uptime: now.saturating_sub(self.info.started),
            config: self.info.config.as_ref().map(|p| p.display().to_string()),
            store: self.info.store.display().to_string(),
            interfaces: self.info.interfaces.clone(),
            pools: engine.pools,
            config_hosts: engine.config_hosts,
            runtime_hosts: engine.runtime_hosts,
            failover: self.failover.status(),
            last_reload: self.reload_status.last(),
            events: EventFigures {
                queued: c.events_queued.load(Ordering::Relaxed),
                delivered: c.events_delivered.load(Ordering::Relaxed),
                dropped: c.events_dropped.load(Ordering::Relaxed),
            },
            counters: c.snapshot().into_iter().filter(|(_, v)| *v != 0).collect(),
        })))
    }
}
