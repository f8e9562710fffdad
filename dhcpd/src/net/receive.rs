//! The receive loop of one server socket: read (every queued datagram at
//! once, up to a batch), validate, find the arrival interface and our address
//! on it, and queue the request for the engine.
//! Everything that is dropped is counted by reason.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use dhcp_core::packet::{PacketError, decode_request};
use tokio::sync::{mpsc, watch};

use crate::failover::fencing::ProbeBoard;
use crate::net::coalesce::Coalescer;
use crate::net::interfaces::InterfaceTable;
use crate::net::socket::{RecvMeta, ServerSocket};
use crate::serve::counters::{Counters, DropReason};
use crate::serve::transaction::{Inbound, Origin};
use crate::shutdown;

/// Receive buffer size: larger datagrams are dropped as oversize (DHCP
/// messages fit in an Ethernet frame; jumbo frames included).
pub const RECV_BUFFER: usize = 9000;
/// Most datagrams taken per wake-up (one `recvmmsg(2)`).
pub const RECV_BATCH: usize = 16;

/// What a receive loop needs.
pub struct Receiver {
    /// Index of the socket (for replies).
    pub index: usize,
    /// The socket.
    pub socket: Arc<ServerSocket>,
    /// The interface table.
    pub interfaces: InterfaceTable,
    /// The engine's queue.
    pub queue: mpsc::Sender<Inbound>,
    /// The counters.
    pub counters: Arc<Counters>,
    /// Told the size of every batch (receive coalescing).
    pub coalescer: Arc<Coalescer>,
    /// The fencing probes in flight, which claim the partner's answers.
    pub probes: ProbeBoard,
}

impl Receiver {
    /// Runs until `shutdown` turns true (or the engine is gone).
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut bufs = vec![vec![0u8; RECV_BUFFER]; RECV_BATCH];
        let mut metas = Vec::with_capacity(RECV_BATCH);
        loop {
            // Under a flood the socket is always ready: yield now and then so
            // the engine and the sender (same thread) keep running.
            tokio::task::consume_budget().await;
            let got = tokio::select! {
                biased;
                _ = shutdown::requested(&mut shutdown) => break,
                r = self.socket.recv_batch(&mut bufs, &mut metas) => r,
            };
            if let Err(e) = got {
                self.counters.recv_errors.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(error = %e, "receive error");
                continue;
            }
            self.coalescer.note_batch(metas.len());
            let lost = self.socket.new_overflows(&metas);
            if lost > 0 {
                self.counters
                    .kernel_receive_drops
                    .fetch_add(lost, Ordering::Relaxed);
            }
            let received = std::time::Instant::now();
            self.counters
                .received
                .fetch_add(metas.len() as u64, Ordering::Relaxed);
            for (meta, buf) in metas.iter().zip(&bufs) {
                if !self.accept(meta, buf, received) {
                    return;
                }
            }
        }
    }

    /// Validates one datagram and queues it; false once the engine is gone.
    fn accept(&self, meta: &RecvMeta, buf: &[u8], received: std::time::Instant) -> bool {
        if meta.truncated {
            self.counters.dropped(DropReason::Oversize);
            return true;
        }
        let Some(data) = buf.get(..meta.len) else {
            self.counters.dropped(DropReason::Oversize);
            return true;
        };
        let request = match decode_request(data) {
            Ok(r) => r,
            Err(PacketError::NotRequest(2)) if self.probes.claim(data, *meta.src.ip()) => {
                self.counters.probe_answers.fetch_add(1, Ordering::Relaxed);
                return true;
            }
            Err(e) => {
                self.counters.dropped(DropReason::from(&e));
                tracing::debug!(src = %meta.src, error = %e, "dropped datagram");
                return true;
            }
        };
        let iface = self.interfaces.get(meta.ifindex);
        let Some((iface, local_addr)) =
            iface.and_then(|i| i.local_addr(meta.local).map(|a| (i, a)))
        else {
            self.counters.dropped(DropReason::NoLocalAddress);
            tracing::debug!(
                ifindex = meta.ifindex,
                "no IPv4 address on the arrival interface"
            );
            return true;
        };
        let inbound = Inbound {
            request,
            origin: Origin {
                socket: self.index,
                ifindex: iface.index,
                interface: iface.name.clone(),
                local_addr,
                src: meta.src,
                received,
            },
        };
        match self.queue.try_send(inbound) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.counters.dropped(DropReason::QueueFull);
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}
