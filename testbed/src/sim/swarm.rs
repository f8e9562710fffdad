//! The driver that runs many [`SimClient`]s on one thread, demultiplexing
//! replies by xid and chaddr. A thousand clients cost one thread and two
//! sockets: a UDP socket on port 68 in the client namespace (`SO_BROADCAST`,
//! `SO_BINDTODEVICE`) that every client sends from, and, by default, a
//! promiscuous packet socket that replies are read from, so replies unicast
//! to a client's own MAC arrive too (see [`super::sockets`]).
//!
//! By default the clients set the BROADCAST flag; with
//! `client.broadcast_flag = false` the server must unicast to `chaddr`.
//! Renewals are unicast to the server from the client's own address and
//! answered by unicast to `ciaddr`; for those the swarm adds each bound
//! address (as a /32, plus a route to its subnet and the default route) to its
//! interface (`configure_addresses`).
//!
//! Two swarms in one lab must use disjoint MACs (`first_mac`).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dhcproto::{Encodable, Encoder};

use super::client::{ClientConfig, ClientEvent, SimClient, Transmit};
use super::report::{ClientRecord, SwarmEvent, SwarmReport};
use super::sockets::{ReceivePath, SwarmSockets, send_from};
use crate::error::{Error, Result};
use crate::netns;

/// When a swarm stops by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// As soon as every client holds a lease (or at the deadline).
    AllBound,
    /// Only at the deadline or when [`SwarmHandle::stop`] is called (clients
    /// keep renewing meanwhile).
    Stopped,
}

/// A swarm's settings.
#[derive(Debug, Clone)]
pub struct SwarmConfig {
    /// Number of clients.
    pub clients: usize,
    /// The interface in the client namespace.
    pub interface: String,
    /// Per-client behaviour.
    pub client: ClientConfig,
    /// The first three bytes of every client MAC; the last three count up
    /// from `first_mac`.
    pub mac_prefix: [u8; 3],
    /// Counter of the first client's MAC (so two swarms can use disjoint MACs).
    pub first_mac: u32,
    /// Client `i` starts at `start_spread * i / clients` (zero: all at once).
    pub start_spread: Duration,
    /// Hard stop, counted from the start.
    pub deadline: Duration,
    /// When to stop before the deadline.
    pub until: Until,
    /// Seed for xids and jitter.
    pub seed: u64,
    /// Add bound addresses to the interface so unicast renewals work
    /// (defaults to `client.renew`).
    pub configure_addresses: bool,
    /// Where replies are read from (default: a promiscuous packet socket).
    pub receive: ReceivePath,
}

impl SwarmConfig {
    /// `clients` PXE clients on `eth0`, RFC timers, stopping once all are bound
    /// or after 120 s.
    pub fn new(clients: usize) -> Self {
        Self {
            clients,
            interface: "eth0".to_owned(),
            client: ClientConfig::default(),
            mac_prefix: [0x02, 0x99, 0x00],
            first_mac: 1,
            start_spread: Duration::ZERO,
            deadline: Duration::from_secs(120),
            until: Until::AllBound,
            seed: 0x07e5_7bed,
            configure_addresses: true,
            receive: ReceivePath::Packet,
        }
    }

    /// The MAC of client `i`.
    pub fn mac(&self, i: usize) -> [u8; 6] {
        let n = self.first_mac.wrapping_add(i as u32);
        let [_, a, b, c] = n.to_be_bytes();
        [
            self.mac_prefix[0],
            self.mac_prefix[1],
            self.mac_prefix[2],
            a,
            b,
            c,
        ]
    }
}

#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
    bound: AtomicUsize,
    events: Mutex<Vec<SwarmEvent>>,
}

/// A running swarm.
#[derive(Debug)]
pub struct SwarmHandle {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<Result<SwarmReport>>>,
    started: Instant,
}

impl SwarmHandle {
    /// Clients currently holding a lease.
    pub fn bound(&self) -> usize {
        self.shared.bound.load(Ordering::Relaxed)
    }

    /// Events so far, from index `from` on.
    pub fn events_since(&self, from: usize) -> Vec<SwarmEvent> {
        match self.shared.events.lock() {
            Ok(e) => e.get(from..).map(<[_]>::to_vec).unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    /// When the swarm started.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Whether the driver thread has finished.
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Waits for the swarm to stop by itself and returns its report.
    pub fn wait(mut self) -> Result<SwarmReport> {
        self.join()
    }

    /// Tells the swarm to stop now and returns its report.
    pub fn stop(mut self) -> Result<SwarmReport> {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.join()
    }

    fn join(&mut self) -> Result<SwarmReport> {
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| Error::NoResult("swarm thread panicked".into()))?,
            None => Err(Error::NoResult("swarm already joined".into())),
        }
    }
}

impl Drop for SwarmHandle {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Entry points for running a swarm.
#[derive(Debug)]
pub struct Swarm;

impl Swarm {
    /// Runs a swarm in namespace `ns` to completion and returns its report.
    pub fn run(ns: &str, config: SwarmConfig) -> Result<SwarmReport> {
        Self::spawn(ns, config)?.wait()
    }

    /// Starts a swarm in namespace `ns` on its own thread.
    pub fn spawn(ns: &str, config: SwarmConfig) -> Result<SwarmHandle> {
        let iface = config.interface.clone();
        let path = config.receive;
        let sockets = netns::in_namespace(ns, move || SwarmSockets::open(&iface, path))?;
        let shared = Arc::new(Shared::default());
        let ns = ns.to_owned();
        let started = Instant::now();
        let s2 = shared.clone();
        let thread = std::thread::Builder::new()
            .name("swarm".into())
            .spawn(move || drive(&ns, sockets, config, &s2, started))
            .map_err(|e| Error::io("spawn swarm thread", e))?;
        Ok(SwarmHandle {
            shared,
            thread: Some(thread),
            started,
        })
    }
}

struct Driver<'a> {
    ns: &'a str,
    config: &'a SwarmConfig,
    sockets: SwarmSockets,
    shared: &'a Shared,
    started: Instant,
    clients: Vec<SimClient>,
    xids: HashMap<u32, usize>,
    current_xid: Vec<u32>,
    pending_ip: Vec<String>,
    routes_done: Vec<String>,
    packets_sent: u64,
    packets_received: u64,
    undecodable: u64,
    unmatched: u64,
    send_errors: u64,
    out: Vec<u8>,
    /// Each client's next timeout, soonest first (stale entries, whose
    /// time is no longer the client's, are skipped when they come up).
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
}

fn drive(
    ns: &str,
    sockets: SwarmSockets,
    config: SwarmConfig,
    shared: &Shared,
    started: Instant,
) -> Result<SwarmReport> {
    let n = config.clients.max(1);
    let clients: Vec<SimClient> = (0..config.clients)
        .map(|i| {
            let offset = config.start_spread.mul_f64(i as f64 / n as f64);
            SimClient::new(
                config.mac(i),
                config.client.clone(),
                config.seed.wrapping_add(i as u64).wrapping_mul(0x9e37_79b9),
                started + offset,
            )
        })
        .collect();
    let mut d = Driver {
        ns,
        config: &config,
        sockets,
        shared,
        started,
        current_xid: clients.iter().map(SimClient::xid).collect(),
        xids: clients
            .iter()
            .enumerate()
            .map(|(i, c)| (c.xid(), i))
            .collect(),
        clients,
        pending_ip: Vec::new(),
        routes_done: Vec::new(),
        packets_sent: 0,
        packets_received: 0,
        undecodable: 0,
        unmatched: 0,
        send_errors: 0,
        out: Vec::with_capacity(1500),
        timers: BinaryHeap::new(),
    };
    for i in 0..d.clients.len() {
        let t = d.clients[i].poll_timeout();
        d.timers.push(Reverse((t, i)));
    }
    d.run()?;
    Ok(d.report())
}

impl Driver<'_> {
    fn run(&mut self) -> Result<()> {
        let deadline = self.started + self.config.deadline;
        let mut buf = vec![0u8; 2048];
        loop {
            let now = Instant::now();
            if now >= deadline || self.shared.stop.load(Ordering::Relaxed) {
                break;
            }
            if self.config.until == Until::AllBound
                && self.shared.bound.load(Ordering::Relaxed) == self.clients.len()
            {
                break;
            }
            // The clients whose timeout has come (a heap: a storm of tens
            // of thousands of clients must not cost a scan of all per wake).
            while let Some(&Reverse((t, i))) = self.timers.peek() {
                if t > now {
                    break;
                }
                self.timers.pop();
                let current = self.clients[i].poll_timeout();
                if current == t {
                    self.poll_client(i, now);
                    self.schedule(i);
                } else if current > t {
                    // Stale: the client's timeout moved; its entry is there.
                    continue;
                } else {
                    self.schedule(i);
                }
            }
            let next_wake = self
                .timers
                .peek()
                .map_or(now + Duration::from_secs(3600), |Reverse((t, _))| *t);
            self.flush_ip();
            let wait = next_wake
                .saturating_duration_since(Instant::now())
                .clamp(Duration::from_millis(1), Duration::from_millis(100));
            if let Some(len) = self.sockets.recv(&mut buf, wait)? {
                self.packets_received += 1;
                let now = Instant::now();
                if let Some(i) = self.receive(&buf[..len], now) {
                    self.poll_client(i, now);
                    self.schedule(i);
                }
            }
        }
        self.flush_ip();
        Ok(())
    }

    /// Decodes a datagram as a client does (options in overloaded `file` and
    /// `sname` included) and hands it to its client; returns the client index.
    fn receive(&mut self, data: &[u8], now: Instant) -> Option<usize> {
        let Ok(msg) = dhcp_core::packet::decode_reply(data) else {
            self.undecodable += 1;
            return None;
        };
        let Some(&i) = self.xids.get(&msg.xid()) else {
            self.unmatched += 1;
            return None;
        };
        if !self.clients[i].accepts(&msg) {
            self.unmatched += 1;
            return None;
        }
        let had = self.clients[i].lease().is_some();
        let event = self.clients[i].handle(now, &msg);
        self.update_xid(i);
        self.sync_bound(i, had);
        if let Some(ev) = event {
            self.event(i, now, ev);
        }
        Some(i)
    }

    /// Puts client `i`'s current timeout on the heap.
    fn schedule(&mut self, i: usize) {
        let t = self.clients[i].poll_timeout();
        self.timers.push(Reverse((t, i)));
    }

    fn poll_client(&mut self, i: usize, now: Instant) {
        loop {
            let had = self.clients[i].lease().is_some();
            let (tx, ev) = self.clients[i].poll_transmit(now);
            self.update_xid(i);
            self.sync_bound(i, had);
            let done = tx.is_none() && ev.is_none();
            if let Some(ev) = ev {
                self.event(i, now, ev);
            }
            if let Some(tx) = tx {
                self.send(&tx);
            }
            if done {
                break;
            }
        }
    }

    /// Keeps the shared count of bound clients in step with client `i`.
    fn sync_bound(&mut self, i: usize, had: bool) {
        match (had, self.clients[i].lease().is_some()) {
            (false, true) => {
                self.shared.bound.fetch_add(1, Ordering::Relaxed);
            }
            (true, false) => {
                self.shared.bound.fetch_sub(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }

    fn update_xid(&mut self, i: usize) {
        let x = self.clients[i].xid();
        if self.current_xid[i] != x {
            if self.xids.get(&self.current_xid[i]) == Some(&i) {
                self.xids.remove(&self.current_xid[i]);
            }
            self.current_xid[i] = x;
            self.xids.insert(x, i);
        }
    }

    fn send(&mut self, tx: &Transmit) {
        self.out.clear();
        if tx.message.encode(&mut Encoder::new(&mut self.out)).is_err() {
            self.send_errors += 1;
            return;
        }
        if self.out.len() < 300 {
            self.out.resize(300, 0);
        }
        let to = SocketAddrV4::new(tx.destination, 67);
        let sent = match tx.source {
            // From the client's own address when it has one configured here;
            // otherwise (addresses not configured) from whatever the kernel picks.
            Some(src) if self.config.configure_addresses => {
                send_from(&self.sockets.send, &self.out, to, src)
                    .or_else(|_| self.sockets.send.send_to(&self.out, to))
            }
            _ => self.sockets.send.send_to(&self.out, to),
        };
        match sent {
            Ok(_) => self.packets_sent += 1,
            Err(_) => self.send_errors += 1,
        }
    }

    fn event(&mut self, i: usize, now: Instant, event: ClientEvent) {
        if self.config.configure_addresses {
            match &event {
                ClientEvent::Bound { address, .. } => self.add_address(i, *address),
                ClientEvent::Expired { address } => {
                    let line = format!("addr del {address}/32 dev {}", self.config.interface);
                    self.pending_ip.push(line);
                }
                _ => {}
            }
        }
        let at = now.saturating_duration_since(self.started);
        if let Ok(mut ev) = self.shared.events.lock() {
            ev.push(SwarmEvent {
                at,
                client: i,
                event,
            });
        }
    }

    fn add_address(&mut self, i: usize, address: Ipv4Addr) {
        let iface = &self.config.interface;
        self.pending_ip
            .push(format!("addr replace {address}/32 dev {iface}"));
        if let Some(lease) = self.clients[i].lease() {
            if let Some(mask) = lease.subnet_mask {
                let len = u32::from(mask).leading_ones() as u8;
                if let Ok(net) = ipnet::Ipv4Net::new(address, len) {
                    let route = format!("route replace {} dev {iface}", net.trunc());
                    if !self.routes_done.contains(&route) {
                        self.routes_done.push(route.clone());
                        self.pending_ip.push(route);
                    }
                }
            }
            if let Some(router) = lease.router {
                let route = format!("route replace default via {router} dev {iface}");
                if !self.routes_done.contains(&route) {
                    self.routes_done.push(route.clone());
                    self.pending_ip.push(route);
                }
            }
        }
    }

    fn flush_ip(&mut self) {
        if self.pending_ip.is_empty() {
            return;
        }
        let lines = std::mem::take(&mut self.pending_ip);
        let _ = netns::ip_batch(self.ns, &lines);
    }

    fn report(&self) -> SwarmReport {
        let clients = self
            .clients
            .iter()
            .enumerate()
            .map(|(i, c)| ClientRecord {
                index: i,
                mac: c.mac(),
                time_to_lease: c.time_to_first_lease(),
                lease: c.lease().cloned(),
                counters: *c.counters(),
                state: c.state_name(),
            })
            .collect();
        SwarmReport {
            clients,
            events: match self.shared.events.lock() {
                Ok(e) => e.clone(),
                Err(_) => Vec::new(),
            },
            elapsed: self.started.elapsed(),
            packets_sent: self.packets_sent,
            packets_received: self.packets_received,
            undecodable: self.undecodable,
            unmatched: self.unmatched,
            send_errors: self.send_errors,
        }
    }
}
