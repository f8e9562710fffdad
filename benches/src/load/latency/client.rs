//! The paced load client: DORA exchanges started at a fixed rate from many
//! simulated clients, as a relay sends them (from `relay:67`, `giaddr` =
//! `relay`), each reply matched to its exchange by `xid` and timed.
//!
//! One thread does everything, so that the client takes at most one of the
//! cores it shares with the server: it sends each DISCOVER on schedule
//! (open loop: replies, late or not, never slow it down, so a slow server
//! cannot hide its latency by pacing the client), reads every reply that
//! has arrived, sends each REQUEST as soon as its OFFER is read, and waits
//! in `ppoll` until the next DISCOVER is due or a reply arrives (or, with
//! [`LoadConfig::spin`], polls again at once). Latency is
//! measured in the client, from just before `sendto` to just after
//! `recvfrom`; it includes the client's own delays, which the lag of its
//! DISCOVERs behind their schedule shows.

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::load::cpu::cpu_time;
use crate::load::error::{Error, Result};
use crate::load::latency::packets::{self, ReplyKind};

/// One run's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadConfig {
    /// New DORA exchanges started per second.
    pub rate: u32,
    /// How long exchanges are started and recorded.
    pub duration: Duration,
    /// Exchanges started for this long first are not recorded (the
    /// server's start-up, the client's first page faults).
    pub warmup: Duration,
    /// Distinct simulated clients (hardware addresses), taken in turn.
    pub clients: u32,
    /// The server (port 67).
    pub server: Ipv4Addr,
    /// The client's own address and the relay address (`giaddr`).
    pub relay: Ipv4Addr,
    /// How long replies are still awaited after the last DISCOVER; a
    /// request still unanswered then is lost.
    pub drain: Duration,
    /// Poll the socket without ever sleeping (one core kept busy) instead
    /// of waiting in `ppoll`. On a VM a vCPU that went idle can take
    /// milliseconds to wake, which a sleeping client counts as the server's
    /// latency and as its own lag; but on a machine of two cores a spinning
    /// client leaves the server and everything else one core, so it is off
    /// by default.
    pub spin: bool,
}

impl LoadConfig {
    /// `rate` exchanges per second for `duration` from 50,000 clients
    /// (after a 1 s warm-up, replies awaited 2 s at the end, not spinning).
    pub fn new(rate: u32, duration: Duration, server: Ipv4Addr, relay: Ipv4Addr) -> Self {
        Self {
            rate,
            duration,
            warmup: Duration::from_secs(1),
            clients: 50_000,
            server,
            relay,
            drain: Duration::from_secs(2),
            spin: false,
        }
    }

    fn count(&self, period: Duration) -> u64 {
        (period.as_secs_f64() * f64::from(self.rate)).round() as u64
    }
}

/// One direction's record (DISCOVER→OFFER or REQUEST→ACK) of the recorded
/// exchanges.
#[derive(Debug, Clone)]
pub struct Direction {
    /// Latencies of the answered requests, nanoseconds.
    pub histogram: Histogram<u64>,
    /// Requests sent.
    pub sent: u64,
    /// Requests answered (the histogram's count; for REQUEST, ACKs only).
    pub answered: u64,
    /// REQUESTs answered with a NAK (REQUEST→ACK only).
    pub naks: u64,
}

impl Direction {
    fn new() -> Result<Self> {
        Ok(Self {
            histogram: latency_histogram()?,
            sent: 0,
            answered: 0,
            naks: 0,
        })
    }

    /// Requests without an answer by the end of the drain.
    pub fn lost(&self) -> u64 {
        self.sent.saturating_sub(self.answered + self.naks)
    }
}

/// A histogram of nanoseconds from 1 ns to 100 s, 3 significant digits.
pub fn latency_histogram() -> Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, 100_000_000_000, 3)
        .map_err(|e| Error::Measure(format!("creating a histogram: {e}")))
}

/// What one run measured.
#[derive(Debug, Clone)]
pub struct LoadResult {
    /// DISCOVER → OFFER.
    pub offer: Direction,
    /// REQUEST → ACK.
    pub ack: Direction,
    /// DISCOVERs sent per second over the whole run (warm-up included).
    pub sent_rate: f64,
    /// How late the DISCOVERs left against their schedule, nanoseconds
    /// (the client's own lag: large values mean the client, not the
    /// server, fell behind).
    pub send_lag: Histogram<u64>,
    /// Sends that failed (each such exchange counts as lost).
    pub send_errors: u64,
    /// Replies that matched no outstanding exchange: a second answer to
    /// the same request, an unknown `xid` or hardware address, or garbage.
    pub stray: u64,
    /// This process's CPU time (all threads) during the run.
    pub client_cpu: Duration,
    /// Wall time from the first DISCOVER to the end of the drain.
    pub wall: Duration,
}

/// Where a recorded exchange stands, in the receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Discovering,
    Requesting,
    Acked,
    Naked,
}

/// Runs the load from a fresh thread in network namespace `ns` (the
/// client's address must exist there) and returns what it measured.
pub fn run(ns: &str, config: &LoadConfig) -> Result<LoadResult> {
    let (ns, config) = (ns.to_owned(), config.clone());
    std::thread::spawn(move || {
        testbed::netns::enter(&ns)?;
        run_here(&config)
    })
    .join()
    .map_err(|_| Error::Measure("the load thread panicked".into()))?
}

/// Runs the load in the calling thread's network namespace.
pub fn run_here(config: &LoadConfig) -> Result<LoadResult> {
    if config.rate == 0 || config.clients == 0 {
        return Err(Error::Measure("rate and clients must be above 0".into()));
    }
    let socket = UdpSocket::bind(SocketAddrV4::new(config.relay, 67))
        .map_err(|e| Error::io(format!("binding {}:67", config.relay), e))?;
    enlarge_buffers(&socket);
    socket
        .set_nonblocking(true)
        .map_err(|e| Error::io("making the socket non-blocking", e))?;
    // Wake-ups as close to the asked time as the kernel allows.
    // SAFETY: prctl(PR_SET_TIMERSLACK) takes a plain integer.
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong) };
    let warm = config.count(config.warmup);
    let total = warm + config.count(config.duration);
    let slots = usize::try_from(total).map_err(|_| Error::Measure("too many exchanges".into()))?;
    let pid = std::process::id() as i32;
    let cpu_before = cpu_time(pid)?;
    let mut run = Run {
        config,
        socket: &socket,
        to: SocketAddrV4::new(config.server, 67),
        xid_base: xid_base(),
        t0: Instant::now(),
        total,
        warm,
        interval: 1e9 / f64::from(config.rate),
        stage: vec![Stage::Discovering; slots],
        sent_at: vec![0; slots],
        requested_at: vec![0; slots],
        started: 0,
        finished: 0,
        offer: Direction::new()?,
        ack: Direction::new()?,
        send_lag: latency_histogram()?,
        send_errors: 0,
        stray: 0,
        discover: packets::Template::discover(config.relay),
        request: packets::Template::request(config.relay),
        out: Vec::with_capacity(512),
    };
    run.drive()?;
    let wall = run.t0.elapsed();
    run.count();
    Ok(LoadResult {
        offer: run.offer,
        ack: run.ack,
        sent_rate: total as f64 / config.warmup.saturating_add(config.duration).as_secs_f64(),
        send_lag: run.send_lag,
        send_errors: run.send_errors,
        stray: run.stray,
        client_cpu: cpu_time(pid)?.saturating_sub(cpu_before),
        wall,
    })
}

/// One run's state.
struct Run<'a> {
    config: &'a LoadConfig,
    socket: &'a UdpSocket,
    to: SocketAddrV4,
    xid_base: u32,
    t0: Instant,
    /// Exchanges to start, warm-up included.
    total: u64,
    /// Exchanges of the warm-up (not recorded).
    warm: u64,
    /// Nanoseconds between two DISCOVERs.
    interval: f64,
    stage: Vec<Stage>,
    /// When each DISCOVER left, ns since `t0`.
    sent_at: Vec<u64>,
    /// When each REQUEST left, ns since `t0`.
    requested_at: Vec<u64>,
    /// DISCOVERs sent so far.
    started: u64,
    /// Exchanges ACKed or NAKed (when all are, the run ends early).
    finished: u64,
    offer: Direction,
    ack: Direction,
    send_lag: Histogram<u64>,
    send_errors: u64,
    stray: u64,
    discover: packets::Template,
    request: packets::Template,
    out: Vec<u8>,
}

impl Run<'_> {
    fn mac(&self, exchange: u64) -> [u8; 6] {
        packets::mac((exchange % u64::from(self.config.clients)) as u32)
    }

    fn xid(&self, exchange: u64) -> u32 {
        self.xid_base.wrapping_add(exchange as u32)
    }

    fn now_ns(&self) -> u64 {
        self.t0.elapsed().as_nanos() as u64
    }

    fn due(&self, exchange: u64) -> u64 {
        (exchange as f64 * self.interval) as u64
    }

    /// Sends, reads and waits until the drain after the last DISCOVER
    /// (or until every exchange is finished).
    fn drive(&mut self) -> Result<()> {
        let mut buf = vec![0_u8; 2048];
        let mut done_at: Option<u64> = None;
        let drain = self.config.drain.as_nanos() as u64;
        loop {
            let mut now = self.now_ns();
            while self.started < self.total && self.due(self.started) <= now {
                self.send_discover(self.started, now);
                self.started += 1;
                now = self.now_ns();
            }
            loop {
                match self.socket.recv_from(&mut buf) {
                    Ok((len, _)) => {
                        let at = self.now_ns();
                        self.handle(buf.get(..len).unwrap_or_default(), at);
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
                        ) =>
                    {
                        break;
                    }
                    Err(e) => return Err(Error::io("receiving replies", e)),
                }
            }
            let now = self.now_ns();
            if self.started == self.total {
                let at = *done_at.get_or_insert(now);
                if now.saturating_sub(at) >= drain || self.finished == self.total {
                    return Ok(());
                }
            }
            let wait = if self.started < self.total {
                self.due(self.started).saturating_sub(now)
            } else {
                20_000_000
            };
            if wait > 0 && !self.config.spin {
                wait_readable(self.socket, wait)?;
            }
        }
    }

    fn send_discover(&mut self, i: u64, now: u64) {
        self.send_lag
            .saturating_record(now.saturating_sub(self.due(i)).max(1));
        let zero = Ipv4Addr::UNSPECIFIED;
        let mut out = std::mem::take(&mut self.out);
        self.discover
            .fill(self.xid(i), &self.mac(i), zero, zero, &mut out);
        let idx = i as usize;
        self.sent_at[idx] = self.now_ns();
        if self.socket.send_to(&out, self.to).is_err() {
            self.send_errors += 1;
        }
        self.out = out;
    }

    /// One datagram read at `now`.
    fn handle(&mut self, datagram: &[u8], now: u64) {
        let Some(reply) = packets::parse_reply(datagram) else {
            self.stray += 1;
            return;
        };
        let i = u64::from(reply.xid.wrapping_sub(self.xid_base));
        let idx = i as usize;
        let Some(&sent) = self.sent_at.get(idx) else {
            self.stray += 1;
            return;
        };
        // Replies only come to DISCOVERs already sent.
        if i >= self.started || reply.mac != self.mac(i) {
            self.stray += 1;
            return;
        }
        let recorded = i >= self.warm;
        match (reply.kind, self.stage[idx]) {
            (ReplyKind::Offer, Stage::Discovering) => {
                if recorded {
                    self.offer
                        .histogram
                        .saturating_record(now.saturating_sub(sent).max(1));
                }
                self.stage[idx] = Stage::Requesting;
                let server = reply.server.unwrap_or(self.config.server);
                let mut out = std::mem::take(&mut self.out);
                self.request
                    .fill(reply.xid, &reply.mac, reply.yiaddr, server, &mut out);
                self.requested_at[idx] = self.now_ns();
                // A failed send is a REQUEST without its ACK: lost.
                let _ = self.socket.send_to(&out, self.to);
                self.out = out;
            }
            (ReplyKind::Ack, Stage::Requesting) => {
                if recorded {
                    self.ack
                        .histogram
                        .saturating_record(now.saturating_sub(self.requested_at[idx]).max(1));
                }
                self.stage[idx] = Stage::Acked;
                self.finished += 1;
            }
            (ReplyKind::Nak, Stage::Requesting) => {
                self.stage[idx] = Stage::Naked;
                self.finished += 1;
            }
            _ => self.stray += 1,
        }
    }

    /// The recorded exchanges' counts, once the run is over.
    fn count(&mut self) {
        let warm = self.warm as usize;
        for st in self.stage.iter().skip(warm) {
            self.offer.sent += 1;
            self.offer.answered += u64::from(*st != Stage::Discovering);
            match st {
                Stage::Discovering => {}
                Stage::Requesting | Stage::Acked => self.ack.sent += 1,
                Stage::Naked => {
                    self.ack.sent += 1;
                    self.ack.naks += 1;
                }
            }
            self.ack.answered += u64::from(*st == Stage::Acked);
        }
    }
}

/// A different `xid` range for every run, so that nothing from an earlier
/// run can match.
fn xid_base() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    nanos.rotate_left(16) ^ std::process::id()
}

/// Waits until `socket` is readable or `nanos` have passed.
fn wait_readable(socket: &UdpSocket, nanos: u64) -> Result<()> {
    let mut fd = libc::pollfd {
        fd: socket.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let timeout = libc::timespec {
        tv_sec: (nanos / 1_000_000_000) as libc::time_t,
        tv_nsec: (nanos % 1_000_000_000) as libc::c_long,
    };
    // SAFETY: one valid pollfd, a valid timespec, no signal mask.
    let rc = unsafe { libc::ppoll(&mut fd, 1, &timeout, std::ptr::null()) };
    if rc < 0 {
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(Error::io("waiting for replies", e));
        }
    }
    Ok(())
}

/// Socket buffers of 8 MiB, so that a burst is not dropped by the client's
/// own kernel queue (SO_RCVBUFFORCE as root, else as much as allowed).
fn enlarge_buffers(socket: &UdpSocket) {
    let size: libc::c_int = 8 << 20;
    for (force, plain) in [
        (libc::SO_RCVBUFFORCE, libc::SO_RCVBUF),
        (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF),
    ] {
        for opt in [force, plain] {
            // SAFETY: setsockopt on an open socket with a pointer to a
            // c_int and its size.
            let rc = unsafe {
                libc::setsockopt(
                    socket.as_raw_fd(),
                    libc::SOL_SOCKET,
                    opt,
                    (&size as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                )
            };
            if rc == 0 {
                break;
            }
        }
    }
}
