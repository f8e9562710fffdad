//! The client-link probes of a fencing-aware automatic partner-down
//! ([`dhcp_failover::fencing`] has the decision and the datagrams).
//!
//! One [`Prober`] task per relationship with `[failover.fencing]`: while the
//! driver says the peer wants probes, it sends the partner a relayed
//! DHCPDISCOVER every `interval` seconds from the server socket that has our
//! client-link address, waits up to the interval for the answer, and reports
//! each outcome to the driver. The partner answers to our relay address on
//! the server port, so the answer reaches a receive loop, which hands every
//! BOOTREPLY to [`ProbeBoard::claim`] before dropping it as "not a request".

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dhcp_failover::fencing::{is_probe_answer, probe_datagram};
use tokio::sync::{Notify, mpsc, watch};

use crate::net::interfaces::InterfaceTable;
use crate::net::socket::ServerSocket;
use crate::shutdown;

/// The probe in flight of one relationship, shared by its prober and the
/// receive loops.
#[derive(Debug)]
pub struct ProbeSlot {
    from: Ipv4Addr,
    to: Ipv4Addr,
    /// `1 << 32 | xid` while a probe waits for its answer, 0 otherwise.
    pending: AtomicU64,
    /// The xid of the last probe answered.
    answered_xid: AtomicU64,
    answered: Notify,
}

impl ProbeSlot {
    /// A slot for probes from our client-link address `from` to the
    /// partner's `to`.
    pub fn new(from: Ipv4Addr, to: Ipv4Addr) -> Self {
        Self {
            from,
            to,
            pending: AtomicU64::new(0),
            answered_xid: AtomicU64::new(0),
            answered: Notify::new(),
        }
    }

    fn arm(&self, xid: u32) {
        self.pending
            .store(1 << 32 | u64::from(xid), Ordering::Release);
    }

    fn disarm(&self) {
        self.pending.store(0, Ordering::Release);
    }

    /// Whether `datagram` from `src` answers the pending probe; wakes the
    /// prober when it does.
    fn claim(&self, datagram: &[u8], src: Ipv4Addr) -> bool {
        let p = self.pending.load(Ordering::Acquire);
        if p == 0 || src != self.to {
            return false;
        }
        let xid = p as u32;
        if !is_probe_answer(datagram, xid, self.from) {
            return false;
        }
        self.answered_xid.store(p, Ordering::Release);
        self.disarm();
        self.answered.notify_one();
        true
    }
}

/// Every relationship's probe slot, for the receive loops.
#[derive(Debug, Clone, Default)]
pub struct ProbeBoard(Arc<Vec<Arc<ProbeSlot>>>);

impl ProbeBoard {
    /// A board of these slots.
    pub fn new(slots: Vec<Arc<ProbeSlot>>) -> Self {
        Self(Arc::new(slots))
    }

    /// Whether `datagram` (a BOOTREPLY from `src`) answers one of our
    /// probes; if so it has been reported and must not be counted as a drop.
    pub fn claim(&self, datagram: &[u8], src: Ipv4Addr) -> bool {
        self.0.iter().any(|s| s.claim(datagram, src))
    }
}

/// One relationship's prober task.
pub struct Prober {
    /// The shared slot.
    pub slot: Arc<ProbeSlot>,
    /// Seconds between probes.
    pub interval: u32,
    /// The partner's server port.
    pub port: u16,
    /// Whether the peer wants probes now (set by the driver).
    pub wanted: watch::Receiver<bool>,
    /// Where each outcome goes (true: answered).
    pub results: mpsc::UnboundedSender<bool>,
    /// The server sockets; the one with our client-link address sends.
    pub sockets: Vec<Arc<ServerSocket>>,
    /// The interfaces, to find that socket.
    pub interfaces: InterfaceTable,
}

impl Prober {
    /// Runs until `stop` turns true or the driver is gone.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let interval = Duration::from_secs(u64::from(self.interval.max(1)));
        let mut xid = seed_xid();
        loop {
            let wanted = tokio::select! {
                _ = shutdown::requested(&mut stop) => return,
                w = self.wanted.wait_for(|w| *w) => w.is_ok(),
            };
            if !wanted {
                return;
            }
            xid = xid.wrapping_mul(0x9E37_79B9).wrapping_add(1);
            let started = tokio::time::Instant::now();
            let answered = self.probe(xid, interval).await;
            if self.results.send(answered).is_err() {
                return;
            }
            tokio::select! {
                _ = shutdown::requested(&mut stop) => return,
                () = tokio::time::sleep_until(started + interval) => {}
            }
        }
    }

    /// Sends one probe and waits up to `wait` for its answer.
    async fn probe(&self, xid: u32, wait: Duration) -> bool {
        let data = probe_datagram(self.slot.from, xid);
        let Some(socket) = self.socket() else {
            tracing::debug!(target: super::LOG_TARGET, "no server socket to probe the client link from");
            return false;
        };
        self.slot.arm(xid);
        let dst = SocketAddrV4::new(self.slot.to, self.port);
        let sent = socket
            .send_batch(&[&data], &[dst], self.slot.from, 0)
            .await
            .into_iter()
            .all(|r| r.is_ok());
        if !sent {
            self.slot.disarm();
            tracing::debug!(target: super::LOG_TARGET, %dst, "client-link probe could not be sent");
            return false;
        }
        // A wake-up left over from an earlier probe's late answer is told
        // apart by the xid.
        let deadline = tokio::time::Instant::now() + wait;
        let armed = 1 << 32 | u64::from(xid);
        let answered = loop {
            if self.slot.answered_xid.load(Ordering::Acquire) == armed {
                break true;
            }
            if tokio::time::timeout_at(deadline, self.slot.answered.notified())
                .await
                .is_err()
            {
                break self.slot.answered_xid.load(Ordering::Acquire) == armed;
            }
        };
        self.slot.disarm();
        answered
    }

    /// The socket bound to the interface holding our client-link address,
    /// else the first (an unbound socket serves every interface).
    fn socket(&self) -> Option<&Arc<ServerSocket>> {
        self.sockets
            .iter()
            .find(|s| {
                s.device()
                    .and_then(|d| self.interfaces.by_name(d))
                    .is_some_and(|i| i.addrs.contains(&self.slot.from))
            })
            .or_else(|| self.sockets.first())
    }
}

/// A starting transaction id that differs between runs.
fn seed_xid() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() ^ (d.as_secs() as u32));
    nanos ^ std::process::id().rotate_left(16)
}
