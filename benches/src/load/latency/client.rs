//! The paced load client: DORA exchanges started at a fixed rate from many
//! simulated clients, as a relay sends them (from `relay:67`, `giaddr` =
//! `relay`), each reply matched to its exchange by `xid` and timed.
//!
//! One thread sends the DISCOVERs on schedule (open loop: late replies do
//! not slow it down, so a slow server cannot hide its latency by pacing
//! the client); another receives, records each OFFER's and ACK's latency
//! and sends the REQUEST as soon as its OFFER arrives. Latency is measured
//! in the client, from just before `sendto` to just after `recvfrom`.

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
}

impl LoadConfig {
    /// `rate` exchanges per second for `duration` from 50,000 clients
    /// (after a 1 s warm-up, replies awaited 2 s at the end).
    pub fn new(rate: u32, duration: Duration, server: Ipv4Addr, relay: Ipv4Addr) -> Self {
        Self {
            rate,
            duration,
            warmup: Duration::from_secs(1),
            clients: 50_000,
            server,
            relay,
            drain: Duration::from_secs(2),
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
        .set_read_timeout(Some(Duration::from_millis(20)))
        .map_err(|e| Error::io("setting the receive timeout", e))?;
    let warm = config.count(config.warmup);
    let total = warm + config.count(config.duration);
    let slots = usize::try_from(total).map_err(|_| Error::Measure("too many exchanges".into()))?;
    // When each DISCOVER left, in ns since `t0`, plus one (0: not yet).
    let sent_at: Vec<AtomicU64> = (0..slots).map(|_| AtomicU64::new(0)).collect();
    let sender_done = AtomicBool::new(false);
    let xid_base = xid_base();
    let pid = std::process::id() as i32;
    let cpu_before = cpu_time(pid)?;
    let t0 = Instant::now();
    let shared = Shared {
        config,
        socket: &socket,
        sent_at: &sent_at,
        sender_done: &sender_done,
        xid_base,
        t0,
        total,
    };
    let (sender, receiver) = std::thread::scope(|scope| {
        let sender = scope.spawn(|| send_discovers(&shared));
        let receiver = receive(&shared, warm);
        // The sender ends on its own; should the receiver fail first, it
        // still runs to its end.
        (sender.join(), receiver)
    });
    let (send_lag, send_errors) =
        sender.map_err(|_| Error::Measure("the sending thread panicked".into()))??;
    let mut result = receiver?;
    let wall = t0.elapsed();
    result.send_lag = send_lag;
    result.send_errors = send_errors;
    result.sent_rate = total as f64 / config.warmup.saturating_add(config.duration).as_secs_f64();
    result.client_cpu = cpu_time(pid)?.saturating_sub(cpu_before);
    result.wall = wall;
    Ok(result)
}

struct Shared<'a> {
    config: &'a LoadConfig,
    socket: &'a UdpSocket,
    sent_at: &'a [AtomicU64],
    sender_done: &'a AtomicBool,
    xid_base: u32,
    t0: Instant,
    total: u64,
}

impl Shared<'_> {
    fn mac(&self, exchange: u64) -> [u8; 6] {
        packets::mac((exchange % u64::from(self.config.clients)) as u32)
    }

    fn xid(&self, exchange: u64) -> u32 {
        self.xid_base.wrapping_add(exchange as u32)
    }

    fn now_ns(&self) -> u64 {
        self.t0.elapsed().as_nanos() as u64
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

/// Sends every DISCOVER at its time (exchange `i` at `t0 + i / rate`); when
/// behind, sends what is due at once. Returns the lag histogram and the
/// failed sends.
fn send_discovers(s: &Shared<'_>) -> Result<(Histogram<u64>, u64)> {
    // Wake-ups as close to the asked time as the kernel allows.
    // SAFETY: prctl(PR_SET_TIMERSLACK) takes a plain integer.
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong) };
    let mut lag = latency_histogram()?;
    let mut errors = 0;
    let interval = 1e9 / f64::from(s.config.rate);
    let to = SocketAddrV4::new(s.config.server, 67);
    let mut buf = Vec::with_capacity(512);
    for i in 0..s.total {
        let due = (i as f64 * interval) as u64;
        let mut now = s.now_ns();
        if now < due {
            std::thread::sleep(Duration::from_nanos(due - now));
            now = s.now_ns();
        }
        lag.saturating_record(now.saturating_sub(due).max(1));
        packets::discover(s.xid(i), &s.mac(i), s.config.relay, &mut buf);
        s.sent_at[i as usize].store(s.now_ns() + 1, Ordering::Release);
        if s.socket.send_to(&buf, to).is_err() {
            errors += 1;
        }
    }
    s.sender_done.store(true, Ordering::Release);
    Ok((lag, errors))
}

/// Receives until the drain after the last DISCOVER, sending each REQUEST
/// on its OFFER; records exchanges from `warm` on.
fn receive(s: &Shared<'_>, warm: u64) -> Result<LoadResult> {
    let mut offer = Direction::new()?;
    let mut ack = Direction::new()?;
    let mut stage = vec![Stage::Discovering; s.sent_at.len()];
    // When each REQUEST left, ns since t0.
    let mut requested_at = vec![0_u64; s.sent_at.len()];
    let mut stray = 0;
    let mut buf = vec![0_u8; 2048];
    let mut out = Vec::with_capacity(512);
    let to = SocketAddrV4::new(s.config.server, 67);
    let mut done_at: Option<Instant> = None;
    // Exchanges ACKed or NAKed (all of them: the run ends early then).
    let mut finished = 0_u64;
    loop {
        match s.socket.recv_from(&mut buf) {
            Ok((len, _)) => {
                let now = s.now_ns();
                let Some(reply) = buf.get(..len).and_then(packets::parse_reply) else {
                    stray += 1;
                    continue;
                };
                let i = u64::from(reply.xid.wrapping_sub(s.xid_base));
                let Some(sent) = s.sent_at.get(i as usize).map(|a| a.load(Ordering::Acquire))
                else {
                    stray += 1;
                    continue;
                };
                if sent == 0 || reply.mac != s.mac(i) {
                    stray += 1;
                    continue;
                }
                let idx = i as usize;
                let recorded = i >= warm;
                match (reply.kind, stage[idx]) {
                    (ReplyKind::Offer, Stage::Discovering) => {
                        if recorded {
                            offer
                                .histogram
                                .saturating_record(now.saturating_sub(sent - 1).max(1));
                        }
                        stage[idx] = Stage::Requesting;
                        let server = reply.server.unwrap_or(s.config.server);
                        packets::request(
                            reply.xid,
                            &reply.mac,
                            s.config.relay,
                            reply.yiaddr,
                            server,
                            &mut out,
                        );
                        requested_at[idx] = s.now_ns();
                        if s.socket.send_to(&out, to).is_err() {
                            // Counted as a REQUEST without its ACK.
                            continue;
                        }
                    }
                    (ReplyKind::Ack, Stage::Requesting) => {
                        if recorded {
                            ack.histogram
                                .saturating_record(now.saturating_sub(requested_at[idx]).max(1));
                        }
                        stage[idx] = Stage::Acked;
                        finished += 1;
                    }
                    (ReplyKind::Nak, Stage::Requesting) => {
                        stage[idx] = Stage::Naked;
                        finished += 1;
                    }
                    _ => stray += 1,
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) => {}
            Err(e) => return Err(Error::io("receiving replies", e)),
        }
        if done_at.is_none() && s.sender_done.load(Ordering::Acquire) {
            done_at = Some(Instant::now());
        }
        if let Some(at) = done_at
            && (at.elapsed() >= s.config.drain || finished == s.total)
        {
            break;
        }
    }
    for (i, st) in stage.iter().enumerate().skip(warm as usize) {
        let sent = s.sent_at[i].load(Ordering::Acquire) != 0;
        offer.sent += u64::from(sent);
        match st {
            Stage::Discovering => {}
            Stage::Requesting => ack.sent += 1,
            Stage::Acked => ack.sent += 1,
            Stage::Naked => {
                ack.sent += 1;
                ack.naks += 1;
            }
        }
        offer.answered += u64::from(*st != Stage::Discovering);
        ack.answered += u64::from(*st == Stage::Acked);
    }
    Ok(LoadResult {
        offer,
        ack,
        sent_rate: 0.0,
        send_lag: latency_histogram()?,
        send_errors: 0,
        stray,
        client_cpu: Duration::ZERO,
        wall: Duration::ZERO,
    })
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
