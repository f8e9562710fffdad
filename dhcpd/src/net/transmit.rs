//! Sending replies: choosing socket, destination and source for each
//! [`Destination`], and the sender task that releases replies only once the
//! lease writes they depend on are durable.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use dhcp_core::engine::Destination;
use dhcp_store::StoreError;
use tokio::sync::{mpsc, oneshot};

use crate::failure_log::FailureLog;
use crate::net::l2::{L2Sender, ethernet_mac};
use crate::net::socket::ServerSocket;
use crate::serve::counters::Counters;
use crate::serve::transaction::Outgoing;
use crate::settings::Ports;

/// The result of a group commit, delivered to the sender.
pub type CommitResult = Result<(), Arc<StoreError>>;

/// One unit of work for the sender, in the order the engine produced it.
#[derive(Debug)]
pub enum SendJob {
    /// Replies whose transactions wrote nothing: send at once, even ahead of
    /// replies still waiting for a commit.
    Now(Vec<Outgoing>),
    /// Replies to send once their batch's writes are durable, in the order
    /// of their commits; dropped if the commit fails.
    AfterCommit(Vec<Outgoing>, oneshot::Receiver<CommitResult>),
}

/// Sends replies out of the server sockets (or the layer-2 socket).
pub struct Transmitter {
    sockets: Vec<Arc<ServerSocket>>,
    l2: Option<L2Sender>,
    ports: Ports,
    counters: Arc<Counters>,
    /// Commit failures come in floods (a full disk fails every commit).
    commit_failures: FailureLog,
}

/// Where and how one reply is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    /// UDP from the receiving socket, to `dst`, out of `ifindex` (0: routed).
    Udp { dst: SocketAddrV4, ifindex: u32 },
    /// Layer-2 frame to `mac`.
    Frame { dst: SocketAddrV4, mac: [u8; 6] },
}

fn route(dest: &Destination, ifindex: u32, ports: Ports, l2: bool) -> (Route, bool) {
    let broadcast = Route::Udp {
        dst: SocketAddrV4::new(Ipv4Addr::BROADCAST, ports.client),
        ifindex,
    };
    match dest {
        Destination::Relay(giaddr) => (
            Route::Udp {
                dst: SocketAddrV4::new(*giaddr, ports.relay),
                ifindex: 0,
            },
            false,
        ),
        Destination::Unicast(ciaddr) => (
            Route::Udp {
                dst: SocketAddrV4::new(*ciaddr, ports.client),
                ifindex: 0,
            },
            false,
        ),
        Destination::Broadcast => (broadcast, false),
        Destination::Hardware { ip, hw } => match ethernet_mac(hw.htype, &hw.addr) {
            Some(mac) if l2 => (
                Route::Frame {
                    dst: SocketAddrV4::new(*ip, ports.client),
                    mac,
                },
                false,
            ),
            _ => (broadcast, true),
        },
    }
}

impl Transmitter {
    /// A transmitter over the server sockets; `l2` is the layer-2 socket, if
    /// it could be opened.
    pub fn new(
        sockets: Vec<Arc<ServerSocket>>,
        l2: Option<L2Sender>,
        ports: Ports,
        counters: Arc<Counters>,
    ) -> Self {
        Self {
            sockets,
            l2,
            ports,
            counters,
            commit_failures: FailureLog::default(),
        }
    }

    /// Sends `replies` in order: runs of UDP replies from the same socket,
    /// source address and interface go in one batch; failures are logged and
    /// counted per reply.
    pub async fn send_all(&self, replies: &[Outgoing]) {
        let l2 = self.l2.is_some();
        let routes: Vec<Route> = replies
            .iter()
            .map(|out| {
                let (route, fallback) = route(&out.reply.dest, out.origin.ifindex, self.ports, l2);
                if fallback {
                    self.counters.l2_fallbacks.fetch_add(1, Ordering::Relaxed);
                }
                route
            })
            .collect();
        let mut at = 0;
        while at < replies.len() {
            match &routes[at] {
                Route::Frame { dst, mac } => {
                    let r = self.send_frame(&replies[at], *dst, *mac);
                    self.account(&replies[at], &routes[at], r);
                    at += 1;
                }
                Route::Udp { ifindex, .. } => {
                    let o = &replies[at].origin;
                    let key = (o.socket, o.local_addr, *ifindex);
                    let mut end = at + 1;
                    while end < replies.len()
                        && matches!(&routes[end], Route::Udp { ifindex, .. }
                            if (replies[end].origin.socket, replies[end].origin.local_addr, *ifindex) == key)
                    {
                        end += 1;
                    }
                    self.send_udp_run(&replies[at..end], &routes[at..end], key)
                        .await;
                    at = end;
                }
            }
        }
    }

    async fn send_udp_run(
        &self,
        replies: &[Outgoing],
        routes: &[Route],
        (socket, src, ifindex): (usize, Ipv4Addr, u32),
    ) {
        let Some(s) = self.sockets.get(socket) else {
            for (out, route) in replies.iter().zip(routes) {
                self.account(out, route, Err(std::io::Error::other("no such socket")));
            }
            return;
        };
        let datas: Vec<&[u8]> = replies.iter().map(|o| o.reply.bytes.as_slice()).collect();
        let dsts: Vec<SocketAddrV4> = routes
            .iter()
            .map(|r| match r {
                Route::Udp { dst, .. } | Route::Frame { dst, .. } => *dst,
            })
            .collect();
        let results = s.send_batch(&datas, &dsts, src, ifindex).await;
        for ((out, route), r) in replies.iter().zip(routes).zip(results) {
            self.account(out, route, r);
        }
    }

    fn send_frame(&self, out: &Outgoing, dst: SocketAddrV4, mac: [u8; 6]) -> std::io::Result<()> {
        let o = &out.origin;
        match &self.l2 {
            Some(l2) => {
                let src = SocketAddrV4::new(o.local_addr, self.ports.server);
                l2.send(o.ifindex, mac, src, dst, &out.reply.bytes)
            }
            None => Err(std::io::Error::other("no layer-2 socket")),
        }
    }

    fn account(&self, out: &Outgoing, route: &Route, result: std::io::Result<()>) {
        match result {
            Ok(()) => {
                self.counters.sent(out.reply.msg_type);
                self.counters
                    .timings
                    .reply_latency
                    .observe_duration(out.origin.received.elapsed());
            }
            Err(e) => {
                self.counters.send_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    error = %e,
                    route = ?route,
                    interface = %out.origin.interface,
                    "cannot send reply"
                );
            }
        }
    }

    /// The sender task, until the queue closes: replies of [`SendJob::Now`]
    /// go out as they arrive; those of [`SendJob::AfterCommit`] wait for their
    /// commit, in commit order (the group commit completes jobs first in,
    /// first out), and are dropped if it fails.
    pub async fn run(self, mut jobs: mpsc::Receiver<SendJob>) {
        let mut waiting: VecDeque<Waiting> = VecDeque::new();
        loop {
            tokio::select! {
                biased;
                r = next_commit(&mut waiting) => {
                    if let Some((replies, _)) = waiting.pop_front() {
                        self.after_commit(&replies, r).await;
                    }
                }
                job = jobs.recv() => match job {
                    None => break,
                    Some(SendJob::Now(replies)) => self.send_all(&replies).await,
                    Some(SendJob::AfterCommit(replies, done)) => waiting.push_back((replies, done)),
                },
            }
        }
        while let Some((replies, done)) = waiting.pop_front() {
            let r = done.await;
            self.after_commit(&replies, r).await;
        }
    }

    async fn after_commit(
        &self,
        replies: &[Outgoing],
        result: Result<CommitResult, oneshot::error::RecvError>,
    ) {
        match result {
            Ok(Ok(())) => {
                self.commit_failures.ok("lease commits succeed again");
                for line in replies.iter().filter_map(|o| o.log.as_deref()) {
                    tracing::info!(target: crate::serve::transaction::LOG_TARGET, "{line}");
                }
                self.send_all(replies).await;
            }
            Ok(Err(e)) => self.withhold(replies, &e),
            Err(_) => self.withhold(replies, &"the store worker stopped"),
        }
    }

    /// Drops `replies` whose commit failed: counted, the failure logged (once
    /// at `warn` per outage), and each reply's transaction line logged as
    /// withheld.
    fn withhold(&self, replies: &[Outgoing], error: &dyn std::fmt::Display) {
        self.counters.commit_errors.fetch_add(1, Ordering::Relaxed);
        self.commit_failures
            .failed("lease commit failed; its replies withheld", error);
        for line in replies.iter().filter_map(|o| o.log.as_deref()) {
            tracing::info!(
                target: crate::serve::transaction::LOG_TARGET,
                "{line}: withheld, the lease could not be stored"
            );
        }
    }
}

/// Replies waiting for their commit.
type Waiting = (Vec<Outgoing>, oneshot::Receiver<CommitResult>);

/// The result of the oldest waiting commit; never ready when none waits.
async fn next_commit(
    waiting: &mut VecDeque<Waiting>,
) -> Result<CommitResult, oneshot::error::RecvError> {
    match waiting.front_mut() {
        Some((_, done)) => done.await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::transaction::Origin;
    use dhcp_core::engine::Reply;
    use dhcp_core::lease::HwAddr;
    use dhcproto::v4::{Message, MessageType};
    use std::time::Duration;

    fn outgoing(tag: u8, relay: Ipv4Addr) -> Outgoing {
        Outgoing {
            reply: Reply {
                msg: Message::default(),
                bytes: vec![tag; 4],
                dest: Destination::Relay(relay),
                msg_type: MessageType::Offer,
            },
            origin: Origin {
                socket: 0,
                ifindex: 1,
                interface: Arc::from("lo"),
                local_addr: Ipv4Addr::LOCALHOST,
                src: SocketAddrV4::new(Ipv4Addr::LOCALHOST, 1),
                received: std::time::Instant::now(),
            },
            log: None,
        }
    }

    /// The durability contract: a reply that needs a commit waits for it
    /// (and for the commits before it), a failed commit's replies are never
    /// sent, and replies that need no commit are not held up.
    #[tokio::test]
    async fn replies_wait_for_their_commit_in_order() {
        let sock = Arc::new(ServerSocket::bind(Some("lo"), 0).unwrap());
        let relay = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let ports = Ports {
            server: sock.port().unwrap(),
            client: 1,
            relay: relay.local_addr().unwrap().port(),
        };
        let counters = Arc::new(Counters::default());
        let t = Transmitter::new(vec![sock], None, ports, counters.clone());
        let (tx, rx) = mpsc::channel(8);
        let task = tokio::spawn(t.run(rx));
        let lo = Ipv4Addr::LOCALHOST;
        let (c1, r1) = oneshot::channel();
        let (c2, r2) = oneshot::channel();
        let (c3, r3) = oneshot::channel();
        tx.send(SendJob::AfterCommit(vec![outgoing(1, lo)], r1))
            .await
            .unwrap();
        tx.send(SendJob::AfterCommit(vec![outgoing(2, lo)], r2))
            .await
            .unwrap();
        tx.send(SendJob::Now(vec![outgoing(3, lo)])).await.unwrap();
        tx.send(SendJob::AfterCommit(vec![outgoing(4, lo)], r3))
            .await
            .unwrap();
        let mut buf = [0u8; 16];
        // The reply without writes goes at once, ahead of the waiting ones.
        let n = relay.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], &[3; 4]);
        // A later commit completing first releases nothing yet.
        c2.send(Ok(())).unwrap();
        let early = tokio::time::timeout(Duration::from_millis(200), relay.recv(&mut buf)).await;
        assert!(early.is_err(), "a reply overtook an earlier commit");
        c1.send(Ok(())).unwrap();
        for want in [1u8, 2] {
            let n = relay.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], &[want; 4]);
        }
        c3.send(Err(Arc::new(StoreError::Closed))).unwrap();
        drop(tx);
        task.await.unwrap();
        let late = tokio::time::timeout(Duration::from_millis(200), relay.recv(&mut buf)).await;
        assert!(late.is_err(), "the failed commit's reply was sent");
        assert_eq!(counters.commit_errors.load(Ordering::Relaxed), 1);
        let snap: std::collections::HashMap<_, _> = counters.snapshot().into_iter().collect();
        assert_eq!(snap["sent.offer"], 3);
    }

    const PORTS: Ports = Ports {
        server: 1067,
        client: 1068,
        relay: 2067,
    };

    #[test]
    fn routes_follow_rfc2131() {
        let ip = Ipv4Addr::new(10, 99, 0, 7);
        assert_eq!(
            route(&Destination::Relay(ip), 3, PORTS, true),
            (
                Route::Udp {
                    dst: SocketAddrV4::new(ip, 2067),
                    ifindex: 0
                },
                false
            )
        );
        assert_eq!(
            route(&Destination::Unicast(ip), 3, PORTS, true).0,
            Route::Udp {
                dst: SocketAddrV4::new(ip, 1068),
                ifindex: 0
            }
        );
        let bcast = Route::Udp {
            dst: SocketAddrV4::new(Ipv4Addr::BROADCAST, 1068),
            ifindex: 3,
        };
        assert_eq!(route(&Destination::Broadcast, 3, PORTS, true).0, bcast);
        let hw = Destination::Hardware {
            ip,
            hw: HwAddr::ethernet([2, 0, 0, 0, 0, 9]),
        };
        assert_eq!(
            route(&hw, 3, PORTS, true),
            (
                Route::Frame {
                    dst: SocketAddrV4::new(ip, 1068),
                    mac: [2, 0, 0, 0, 0, 9]
                },
                false
            )
        );
        // Without a layer-2 socket, or for a non-Ethernet client: broadcast.
        assert_eq!(route(&hw, 3, PORTS, false), (bcast.clone(), true));
        let ib = Destination::Hardware {
            ip,
            hw: HwAddr {
                htype: 32,
                addr: vec![1; 20],
            },
        };
        assert_eq!(route(&ib, 3, PORTS, true), (bcast, true));
    }
}
