//! TCP to the failover partner: listener, dialer and one task per connection.
//!
//! Both sides listen and dial, as ISC does (reference §1.1): the listener is
//! bound to `address:port` and closes connections from anyone but
//! `peer_address`; the dialer binds its socket to `address` before connecting
//! to `peer_address:peer_port` and tries again every [`RETRY`] while the
//! driver reports no connection in use and the last dialled one has closed.
//! Which connection carries the relationship is the driver's decision
//! ([`super::driver`]); the transport only reports connections
//! ([`LinkEvent::Up`]), messages and closures.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use dhcp_core::config::FailoverConfig;
use dhcp_failover::wire::{FrameReader, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::guard::{Refusal, Refusals, Throttle};

/// Delay between connection attempts (ISC: 5 s after a failed or dropped link).
pub const RETRY: Duration = Duration::from_secs(5);
/// Delay before binding the listener again after a failure (ISC: 90 s; we
/// retry sooner because the address may simply not be configured yet).
pub const LISTEN_RETRY: Duration = Duration::from_secs(5);
/// How long one connection attempt may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Capacity of the queue of link events to the engine task.
pub const EVENT_QUEUE: usize = 1024;

/// Identifies one TCP connection.
pub type ConnId = u64;

/// What the transport reports to the driver.
#[derive(Debug)]
pub enum LinkEvent {
    /// A TCP connection is established. Messages sent to `tx` are written to
    /// it; dropping `tx` closes it (after writing what was queued).
    Up {
        /// The connection.
        conn: ConnId,
        /// Its outgoing queue.
        tx: mpsc::UnboundedSender<Message>,
        /// The remote socket address.
        remote: SocketAddr,
        /// Whether we dialled it.
        outbound: bool,
    },
    /// A message arrived on `conn`.
    Message {
        /// The connection.
        conn: ConnId,
        /// The message.
        msg: Message,
    },
    /// `conn` is closed (by either side, or on a framing error).
    Down {
        /// The connection.
        conn: ConnId,
        /// Why, when it was not an orderly close.
        error: Option<String>,
    },
}

/// The listener and dialer of one relationship. Dropping it stops both (live
/// connections end when the driver drops their queues).
#[derive(Debug)]
pub struct Transport {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Transport {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Transport {
    /// Starts listening and dialling for `cfg`. `in_use` is set by the driver
    /// while a connection carries the relationship (the dialer waits then).
    /// Refusals are counted in `refusals`.
    pub fn start(
        cfg: &FailoverConfig,
        in_use: Arc<AtomicBool>,
        refusals: Arc<Refusals>,
    ) -> (Self, mpsc::Receiver<LinkEvent>) {
        let (tx, rx) = mpsc::channel(EVENT_QUEUE);
        let ids = Arc::new(AtomicU64::new(1));
        let local = SocketAddrV4::new(cfg.address, cfg.port);
        let remote = SocketAddrV4::new(cfg.peer_address, cfg.peer_port);
        let listener = tokio::spawn(listen(
            local,
            cfg.peer_address,
            tx.clone(),
            ids.clone(),
            refusals.clone(),
        ));
        let dialer = tokio::spawn(dial(cfg.address, remote, tx, ids, in_use, refusals));
        (
            Self {
                tasks: vec![listener, dialer],
            },
            rx,
        )
    }
}

async fn bind_listener(local: SocketAddrV4) -> std::io::Result<TcpListener> {
    let s = TcpSocket::new_v4()?;
    s.set_reuseaddr(true)?;
    s.bind(SocketAddr::V4(local))?;
    s.listen(16)
}

async fn listen(
    local: SocketAddrV4,
    peer: Ipv4Addr,
    events: mpsc::Sender<LinkEvent>,
    ids: Arc<AtomicU64>,
    refusals: Arc<Refusals>,
) {
    let mut not_peer_log = Throttle::default();
    loop {
        let listener = match bind_listener(local).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(target: super::LOG_TARGET, %local, error = %e,
                    "cannot listen for the failover partner; retrying");
                tokio::time::sleep(LISTEN_RETRY).await;
                continue;
            }
        };
        tracing::info!(target: super::LOG_TARGET, %local, "listening for the failover partner");
        loop {
            match listener.accept().await {
                Ok((stream, from)) => {
                    if from.ip() != std::net::IpAddr::V4(peer) {
                        // Closed before anything is read; counted, and
                        // logged at most once a minute.
                        drop(stream);
                        refusals.count(Refusal::NotPeer);
                        if let Some(more) = not_peer_log.hit(std::time::Instant::now()) {
                            tracing::warn!(target: super::LOG_TARGET, %from, %peer, suppressed = more,
                                "failover connection from an address that is not the partner closed \
                                 (more are counted in dhcpd_failover_refused_total{{reason=\"not_peer\"}})");
                        }
                        continue;
                    }
                    let conn = ids.fetch_add(1, Ordering::Relaxed);
                    tokio::spawn(run_connection(
                        conn,
                        stream,
                        from,
                        false,
                        events.clone(),
                        None,
                        refusals.clone(),
                    ));
                }
                Err(e) => {
                    tracing::warn!(target: super::LOG_TARGET, error = %e, "failover accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}

async fn connect(source: Ipv4Addr, remote: SocketAddrV4) -> std::io::Result<TcpStream> {
    let s = TcpSocket::new_v4()?;
    s.bind(SocketAddr::V4(SocketAddrV4::new(source, 0)))?;
    match tokio::time::timeout(CONNECT_TIMEOUT, s.connect(SocketAddr::V4(remote))).await {
        Ok(r) => r,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "connect timed out",
        )),
    }
}

async fn dial(
    source: Ipv4Addr,
    remote: SocketAddrV4,
    events: mpsc::Sender<LinkEvent>,
    ids: Arc<AtomicU64>,
    in_use: Arc<AtomicBool>,
    refusals: Arc<Refusals>,
) {
    // Whether the connection we dialled last is still open.
    let mut last_open: Option<Arc<AtomicBool>> = None;
    loop {
        let busy = in_use.load(Ordering::Relaxed)
            || last_open
                .as_ref()
                .is_some_and(|o| o.load(Ordering::Relaxed));
        if !busy {
            match connect(source, remote).await {
                Ok(stream) => {
                    let conn = ids.fetch_add(1, Ordering::Relaxed);
                    let open = Arc::new(AtomicBool::new(true));
                    last_open = Some(open.clone());
                    let from = SocketAddr::V4(remote);
                    tokio::spawn(run_connection(
                        conn,
                        stream,
                        from,
                        true,
                        events.clone(),
                        Some(open),
                        refusals.clone(),
                    ));
                }
                Err(e) => {
                    tracing::debug!(target: super::LOG_TARGET, %remote, error = %e,
                        "cannot connect to the failover partner");
                }
            }
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// Runs one connection until the driver drops its queue, the partner closes
/// it, or a framing error.
async fn run_connection(
    conn: ConnId,
    mut stream: TcpStream,
    remote: SocketAddr,
    outbound: bool,
    events: mpsc::Sender<LinkEvent>,
    open: Option<Arc<AtomicBool>>,
    refusals: Arc<Refusals>,
) {
    let _ = stream.set_nodelay(true);
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    tracing::info!(target: super::LOG_TARGET, conn, %remote, outbound, "failover TCP connection up");
    if events
        .send(LinkEvent::Up {
            conn,
            tx,
            remote,
            outbound,
        })
        .await
        .is_err()
    {
        return;
    }
    let (mut rd, mut wr) = stream.split();
    let mut frames = FrameReader::default();
    let mut buf = vec![0u8; 16 * 1024];
    let mut out = Vec::new();
    let error: Option<String> = 'conn: loop {
        tokio::select! {
            m = rx.recv() => {
                let Some(first) = m else {
                    // The driver closed the connection: what was queued was
                    // written already.
                    let _ = wr.shutdown().await;
                    break 'conn None;
                };
                out.clear();
                let mut next = Some(first);
                while let Some(msg) = next {
                    tracing::debug!(target: super::LOG_TARGET, conn, "send {:?}", msg.message_type());
                    if let Err(e) = dhcp_failover::wire::encode_into(&msg, &mut out) {
                        tracing::error!(target: super::LOG_TARGET, error = %e, "cannot encode a failover message");
                    }
                    next = rx.try_recv().ok();
                }
                if let Err(e) = wr.write_all(&out).await {
                    break 'conn Some(e.to_string());
                }
            }
            r = rd.read(&mut buf) => {
                let n = match r {
                    Ok(0) => break 'conn None,
                    Ok(n) => n,
                    Err(e) => break 'conn Some(e.to_string()),
                };
                frames.push(buf.get(..n).unwrap_or_default());
                loop {
                    match frames.next_message() {
                        Ok(Some(msg)) => {
                            tracing::debug!(target: super::LOG_TARGET, conn, "recv {:?}", msg.message_type());
                            if events.send(LinkEvent::Message { conn, msg }).await.is_err() {
                                break 'conn None;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            refusals.count(Refusal::BadFrame);
                            break 'conn Some(format!("bad frame: {e}"));
                        }
                    }
                }
            }
        }
    };
    if let Some(o) = open {
        o.store(false, Ordering::Relaxed);
    }
    tracing::info!(target: super::LOG_TARGET, conn, %remote, error = ?error, "failover TCP connection closed");
    let _ = events.send(LinkEvent::Down { conn, error }).await;
}
