//! ISC's OMAPI on TCP (`--omapi-listen`, MAAS: 127.0.0.1:7911), for host
//! reservations at run time: the `omapi` crate's sessions, one per
//! connection, fed by a task per connection and run in the engine task
//! against [`backend::EngineBackend`] (the engine's only owner), so that a
//! host created over OMAPI is served from the next request on.
//!
//! A connection task owns its [`Session`] and lends it, with the bytes it
//! read, to the engine task, which hands it back with the replies queued.

pub mod backend;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use omapi::{Config, Key, KeyRing, Session, Stats};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, oneshot, watch};

use crate::serve::counters::Counters;
use crate::shutdown;

/// The log target of OMAPI.
pub const LOG_TARGET: &str = "dhcpd::omapi";

/// Connections served at once; more wait to be accepted.
const MAX_CONNECTIONS: usize = 32;

/// A connection idle this long is closed.
const IDLE: Duration = Duration::from_secs(600);

/// Calls queued for the engine task.
pub const CALL_QUEUE: usize = 64;

/// A session lent to the engine task with the bytes read for it.
pub struct OmapiCall {
    /// The session.
    pub session: Box<Session>,
    /// Bytes read (empty with `eof`).
    pub input: Vec<u8>,
    /// The client closed its side.
    pub eof: bool,
    /// Where the session goes back, its replies queued.
    pub reply: oneshot::Sender<Box<Session>>,
}

impl std::fmt::Debug for OmapiCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OmapiCall")
            .field("input", &self.input.len())
            .field("eof", &self.eof)
            .finish()
    }
}

/// Why OMAPI could not start.
#[derive(Debug, thiserror::Error)]
pub enum OmapiError {
    /// The key file could not be read.
    #[error("cannot read the OMAPI key file {path}: {source}")]
    KeyFile {
        /// The path.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The key file does not hold a usable key statement.
    #[error("OMAPI key file {path}: {source}")]
    Key {
        /// The path.
        path: std::path::PathBuf,
        /// The cause.
        source: omapi::KeyError,
    },
    /// The listener could not be bound.
    #[error("cannot listen for OMAPI on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// Reads the key statement in `path`.
pub fn load_key(path: &Path) -> Result<Key, OmapiError> {
    let text = std::fs::read_to_string(path).map_err(|source| OmapiError::KeyFile {
        path: path.to_owned(),
        source,
    })?;
    Key::parse_isc(&text).map_err(|source| OmapiError::Key {
        path: path.to_owned(),
        source,
    })
}

/// Binds the listener and makes the sessions' configuration.
pub async fn bind(addr: SocketAddr, key: Key) -> Result<(TcpListener, Arc<Config>), OmapiError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| OmapiError::Bind { addr, source })?;
    let mut keys = KeyRing::new();
    keys.add(key);
    Ok((listener, Arc::new(Config::new(keys))))
}

/// Accepts connections until shutdown.
pub async fn run(
    listener: TcpListener,
    config: Arc<Config>,
    engine: mpsc::Sender<OmapiCall>,
    counters: Arc<Counters>,
    mut stop: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        tokio::select! {
            _ = shutdown::requested(&mut stop) => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let (config, engine, stop) = (config.clone(), engine.clone(), stop.clone());
                    let counters = counters.clone();
                    tokio::spawn(async move {
                        connection(stream, peer, config, engine, &counters, stop).await;
                        drop(permit);
                    });
                }
                Err(e) => {
                    tracing::warn!(target: LOG_TARGET, error = %e, "OMAPI accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
}

fn log_refusals(peer: SocketAddr, s: &Stats) {
    if s.refused_bad_signature
        + s.refused_unsigned
        + s.refused_unknown_key
        + s.malformed
        + s.truncated
        > 0
    {
        tracing::warn!(
            target: LOG_TARGET,
            %peer,
            bad_signature = s.refused_bad_signature,
            unsigned = s.refused_unsigned,
            unknown_key = s.refused_unknown_key,
            malformed = s.malformed,
            truncated = s.truncated,
            "OMAPI requests refused"
        );
    }
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    config: Arc<Config>,
    engine: mpsc::Sender<OmapiCall>,
    counters: &Counters,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let mut session = Box::new(Session::new(config));
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if let Some(out) = session.poll_transmit()
            && stream.write_all(&out).await.is_err()
        {
            break;
        }
        if session.is_closed() {
            let _ = stream.shutdown().await;
            break;
        }
        let n = tokio::select! {
            _ = shutdown::requested(&mut stop) => break,
            r = tokio::time::timeout(IDLE, stream.read(&mut buf)) => match r {
                Ok(Ok(n)) => n,
                Ok(Err(_)) | Err(_) => break,
            },
        };
        let (tx, rx) = oneshot::channel();
        let call = OmapiCall {
            session,
            input: buf[..n].to_vec(),
            eof: n == 0,
            reply: tx,
        };
        if engine.send(call).await.is_err() {
            return;
        }
        let Ok(back) = rx.await else { return };
        session = back;
        let stats = session.take_stats();
        counters.add_omapi(&stats);
        log_refusals(peer, &stats);
    }
}

/// Runs one call in the engine task.
pub fn handle(call: OmapiCall, backend: &mut backend::EngineBackend<'_>) {
    let OmapiCall {
        mut session,
        input,
        eof,
        reply,
    } = call;
    if eof {
        session.handle_eof();
    } else {
        session.handle_input(&input, backend);
    }
    let _ = reply.send(session);
}
