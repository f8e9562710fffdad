//! The driver that runs many [`SimClient`]s over one UDP socket on port 68 in
//! a client namespace (`SO_BROADCAST`, `SO_BINDTODEVICE`), on one thread,
//! demultiplexing replies by xid and chaddr. A thousand clients cost one
//! socket and one thread.
//!
//! The clients set the BROADCAST flag, so OFFERs and ACKs come back by
//! broadcast. Renewals are unicast to the server and answered by unicast to
//! `ciaddr`; for those to arrive the swarm adds each bound address (as a /32,
//! plus a route to its subnet and the default route) to its interface
//! (`configure_addresses`).

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dhcproto::{Decodable, Decoder, Encodable, Encoder, v4::Message};
use socket2::{Domain, Protocol, Socket, Type};

use super::client::{ClientConfig, ClientEvent, SimClient, Transmit};
use super::report::{ClientRecord, SwarmEvent, SwarmReport};
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
        let socket = netns::in_namespace(ns, move || client_socket(&iface))?;
        let shared = Arc::new(Shared::default());
        let ns = ns.to_owned();
        let started = Instant::now();
        let s2 = shared.clone();
        let thread = std::thread::Builder::new()
            .name("swarm".into())
            .spawn(move || drive(&ns, socket, config, &s2, started))
            .map_err(|e| Error::io("spawn swarm thread", e))?;
        Ok(SwarmHandle {
            shared,
            thread: Some(thread),
            started,
        })
    }
}

/// A UDP socket on 0.0.0.0:68 bound to `iface`, with broadcast allowed.
/// Must be called from a thread inside the client namespace.
fn client_socket(iface: &str) -> Result<UdpSocket> {
    let ctx = |what: &str| format!("client socket on {iface}: {what}");
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))
        .map_err(|e| Error::io(ctx("socket"), e))?;
    s.set_reuse_address(true)
        .map_err(|e| Error::io(ctx("SO_REUSEADDR"), e))?;
    s.set_broadcast(true)
        .map_err(|e| Error::io(ctx("SO_BROADCAST"), e))?;
    s.bind_device(Some(iface.as_bytes()))
        .map_err(|e| Error::io(ctx("SO_BINDTODEVICE"), e))?;
    let _ = s.set_recv_buffer_size(4 << 20);
    let _ = s.set_send_buffer_size(1 << 20);
    let addr = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68);
    s.bind(&addr.into())
        .map_err(|e| Error::io(ctx("bind 0.0.0.0:68"), e))?;
    Ok(s.into())
}

struct Driver<'a> {
    ns: &'a str,
    config: &'a SwarmConfig,
    socket: UdpSocket,
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
}

fn drive(
    ns: &str,
    socket: UdpSocket,
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
        socket,
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
    };
    d.run()?;
    Ok(d.report())
}

impl Driver<'_> {
    fn run(&mut self) -> Result<()> {
        let deadline = self.started + self.config.deadline;
        let mut next_wake = self.started;
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
            if now >= next_wake {
                next_wake = now + Duration::from_secs(3600);
                for i in 0..self.clients.len() {
                    if self.clients[i].poll_timeout() <= now {
                        self.poll_client(i, now);
                    }
                    next_wake = next_wake.min(self.clients[i].poll_timeout());
                }
            }
            self.flush_ip();
            let wait = next_wake
                .saturating_duration_since(Instant::now())
                .clamp(Duration::from_millis(1), Duration::from_millis(100));
            self.socket
                .set_read_timeout(Some(wait))
                .map_err(|e| Error::io("set_read_timeout", e))?;
            match self.socket.recv_from(&mut buf) {
                Ok((len, _from)) => {
                    self.packets_received += 1;
                    let now = Instant::now();
                    if let Some(i) = self.receive(&buf[..len], now) {
                        self.poll_client(i, now);
                        next_wake = next_wake.min(self.clients[i].poll_timeout());
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(Error::io("recv on port 68", e)),
            }
        }
        self.flush_ip();
        Ok(())
    }

    /// Decodes a datagram and hands it to its client; returns the client index.
    fn receive(&mut self, data: &[u8], now: Instant) -> Option<usize> {
        let Ok(msg) = Message::decode(&mut Decoder::new(data)) else {
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
                send_from(&self.socket, &self.out, to, src)
                    .or_else(|_| self.socket.send_to(&self.out, to))
            }
            _ => self.socket.send_to(&self.out, to),
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
                counters: c.counters().clone(),
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

/// `sendmsg` with an `IP_PKTINFO` control message choosing the source
/// address `src` (which must be configured in the namespace).
fn send_from(
    socket: &UdpSocket,
    data: &[u8],
    to: SocketAddrV4,
    src: Ipv4Addr,
) -> std::io::Result<usize> {
    use std::os::fd::AsRawFd;
    let dst = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: to.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*to.ip()).to_be(),
        },
        sin_zero: [0; 8],
    };
    let info = libc::in_pktinfo {
        ipi_ifindex: 0,
        ipi_spec_dst: libc::in_addr {
            s_addr: u32::from(src).to_be(),
        },
        ipi_addr: libc::in_addr { s_addr: 0 },
    };
    // Room for one cmsghdr carrying an in_pktinfo, 8-byte aligned.
    let mut control = [0u64; 8];
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // SAFETY: msghdr is plain data; every pointer placed in it refers to a
    // local that outlives the sendmsg call, and the control buffer is large
    // and aligned enough for one cmsghdr with an in_pktinfo (checked below).
    unsafe {
        let space = libc::CMSG_SPACE(std::mem::size_of::<libc::in_pktinfo>() as u32) as usize;
        if space > std::mem::size_of_val(&control) {
            return Err(std::io::Error::other("control buffer too small"));
        }
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_name = &dst as *const libc::sockaddr_in as *mut libc::c_void;
        msg.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = space as _;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if cmsg.is_null() {
            return Err(std::io::Error::other("no room for IP_PKTINFO"));
        }
        (*cmsg).cmsg_level = libc::IPPROTO_IP;
        (*cmsg).cmsg_type = libc::IP_PKTINFO;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<libc::in_pktinfo>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::in_pktinfo>(), info);
        let n = libc::sendmsg(socket.as_raw_fd(), &msg, 0);
        if n < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }
}
