//! A deterministic simulator of a failover pair (in the manner of quinn's
//! `Pair` and smoltcp's netsim), for tests here and in the daemon.
//!
//! Two [`server::Server`]s (peer + lease table + durable store + a minimal
//! engine) run on a virtual clock (milliseconds of true time; each server sees
//! it with its own bounded skew). A TCP-like network delivers each direction in
//! order with random latency, holds traffic during partitions, and can reset
//! the connection. Servers crash (losing writes not yet durable) and restart
//! from their store. Clients DISCOVER, RENEW, REBIND and RELEASE; load
//! balancing decides which server answers.
//!
//! [`run`] plays one seeded scenario and checks, after every step:
//! * no address is held by two clients at once, and no two running servers
//!   have it ACTIVE for different clients;
//! * every lease a client holds is in some server's durable store (nothing
//!   acknowledged is lost to a crash);
//! * every grant respects the MCLT bound (`ends ≤ max(now, tsfp) + MCLT`, with
//!   the partner actually knowing that `tsfp`);
//! * once faults stop, both servers reach NORMAL within a bound.
//!
//! Everything is a function of the seed, so a failing seed replays exactly.

mod checks;
mod failure;
mod rng;
mod scenario;
mod server;

use std::collections::VecDeque;
use std::net::Ipv4Addr;

use dhcp_core::config::Role;
use dhcp_core::lease::{BindingState, ClientKey, HwAddr, UnixTime};

use crate::peer::{Event, FailoverState};
use crate::wire::Message;

pub use failure::Failure;
use failure::pair_failure;
pub use rng::Rng;
use scenario::MAX_SKEW;
pub use scenario::{EPOCH, Fault, Scenario};
pub use server::{Reply, Server, ServerError, Write, config_toml};

/// Counters of a finished run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Leases granted (allocations and renewals acknowledged to clients).
    pub grants: u64,
    /// Failover messages delivered.
    pub messages: u64,
    /// Simulation steps.
    pub steps: u64,
    /// Seconds from the end of faults to both servers in NORMAL.
    pub heal_secs: u64,
}

#[derive(Debug, Clone)]
struct Held {
    addr: Ipv4Addr,
    server: usize,
    /// The lease end in true ms, minus the skew tolerance.
    until_ms: u64,
    granted_ms: u64,
}

#[derive(Debug)]
struct Client {
    key: ClientKey,
    mac: [u8; 6],
    held: Option<Held>,
    /// An ACK on its way: the client waits for it (until this time in ms).
    pending: Option<u64>,
    next_ms: u64,
}

#[derive(Debug, Default)]
struct Conn {
    /// Per side: whether that server considers the connection open.
    open: [bool; 2],
    /// In flight towards side i: (delivery ms, message).
    to: [VecDeque<(u64, Message)>; 2],
    /// Sides to notify of the close: (ms, side).
    closing: Vec<(u64, usize)>,
}

/// The simulated pair.
struct Pair {
    sc: Scenario,
    rng: Rng,
    now_ms: u64,
    servers: [Server; 2],
    clients: Vec<Client>,
    conn: Option<Conn>,
    partition_until: u64,
    next_connect_ms: u64,
    restart_at: [Option<u64>; 2],
    last_restart_ms: u64,
    faults: VecDeque<(u64, Fault)>,
    stats: Stats,
    trace: VecDeque<String>,
    verbose: bool,
}

/// How much earlier than the granting server's `ends` a client stops using its
/// lease: the peers' expiry tolerance plus the skew between them (+1 s of
/// rounding). This is what "bounded clock skew" costs.
const TOL_MS: u64 = (crate::peer::EXPIRY_FUDGE as u64 + 2 * MAX_SKEW as u64 + 1) * 1000;

/// Runs the scenario of `seed`. `verbose` prints the trace as it goes.
pub fn run(seed: u64, verbose: bool) -> Result<Stats, Box<Failure>> {
    let sc = Scenario::from_seed(seed);
    let mut pair = Pair::new(sc).map_err(|e| pair_failure(seed, 0, e))?;
    pair.verbose = verbose;
    pair.run()
}

impl Pair {
    fn new(sc: Scenario) -> Result<Self, server::ServerError> {
        let mut rng = Rng::new(sc.seed.wrapping_mul(31).wrapping_add(7));
        let mk = |role: Role, i: usize| {
            let skew = sc.skew[i];
            Server::new(
                sc.config(role),
                sc.pool_size,
                sc.lease_time,
                Ipv4Addr::new(10, 99, 1, 250 + i as u8),
                skew,
                (i64::from(EPOCH) + skew) as UnixTime,
            )
        };
        let servers = [mk(Role::Primary, 0)?, mk(Role::Secondary, 1)?];
        let clients = (0..sc.clients)
            .map(|i| {
                let mac = [2, 0, 0, 0, (i >> 8) as u8, i as u8];
                Client {
                    key: ClientKey::Hw(HwAddr::ethernet(mac)),
                    mac,
                    held: None,
                    pending: None,
                    next_ms: rng.range(1_000, 60_000),
                }
            })
            .collect();
        Ok(Self {
            faults: sc.faults.iter().copied().collect(),
            sc,
            rng,
            now_ms: 0,
            servers,
            clients,
            conn: None,
            partition_until: 0,
            next_connect_ms: 100,
            restart_at: [None, None],
            last_restart_ms: 0,
            stats: Stats::default(),
            trace: VecDeque::new(),
            verbose: false,
        })
    }

    fn local(&self, i: usize) -> UnixTime {
        (i64::from(EPOCH) + (self.now_ms / 1000) as i64 + self.servers[i].skew) as UnixTime
    }

    fn local_to_ms(&self, i: usize, t: UnixTime) -> u64 {
        let s = i64::from(t) - i64::from(EPOCH) - self.servers[i].skew;
        (s.max(0) as u64) * 1000
    }

    fn log(&mut self, s: String) {
        if self.verbose {
            println!("{:>7}.{:03} {s}", self.now_ms / 1000, self.now_ms % 1000);
        }
        self.trace.push_back(format!(
            "{:>7}.{:03} {s}",
            self.now_ms / 1000,
            self.now_ms % 1000
        ));
        if self.trace.len() > 60 {
            self.trace.pop_front();
        }
    }

    fn fail(&self, what: String) -> Box<Failure> {
        Box::new(Failure {
            seed: self.sc.seed,
            at_ms: self.now_ms,
            what,
            trace: self.trace.iter().cloned().collect(),
        })
    }

    fn run(&mut self) -> Result<Stats, Box<Failure>> {
        let faulty_end = self.sc.duration * 1000;
        let bound_ms = u64::from(self.sc.mclt) * 3000 + u64::from(self.sc.mrd) * 8000 + 120_000;
        let mut healed_at = None;
        let mut same_ms = 0u32;
        loop {
            let next = self.next_wakeup();
            if next > faulty_end && healed_at.is_none() {
                // End of the faulty phase: everything heals and restarts.
                self.now_ms = self.now_ms.max(faulty_end);
                self.faults.clear();
                self.partition_until = self.partition_until.min(self.now_ms);
                healed_at = Some(self.now_ms);
                self.log("faults stop".into());
                continue;
            }
            if next <= self.now_ms {
                same_ms += 1;
                if same_ms > 10_000 {
                    return Err(self.fail("livelock: time does not advance".into()));
                }
            } else {
                same_ms = 0;
            }
            self.now_ms = next.max(self.now_ms);
            self.step()?;
            self.stats.steps += 1;
            if let Some(h) = healed_at {
                let both_normal = self.servers.iter().all(|s| {
                    s.up && s.peer.state() == FailoverState::Normal
                        && s.peer.partner_state() == FailoverState::Normal
                });
                if both_normal {
                    self.stats.heal_secs = (self.now_ms - h.max(self.last_restart_ms)) / 1000;
                    return Ok(self.stats);
                }
                // Measured from when the last crashed server came back.
                let since = h.max(self.last_restart_ms);
                if self.restart_at.iter().all(Option::is_none) && self.now_ms > since + bound_ms {
                    let st: Vec<String> = self
                        .servers
                        .iter()
                        .map(|s| format!("{}/{}", s.peer.state(), s.peer.partner_state()))
                        .collect();
                    return Err(self.fail(format!(
                        "not both NORMAL {}s after faults stopped: {st:?}",
                        bound_ms / 1000
                    )));
                }
            }
        }
    }

    fn next_wakeup(&self) -> u64 {
        let mut t = u64::MAX;
        for (i, s) in self.servers.iter().enumerate() {
            if let Some(r) = self.restart_at[i] {
                t = t.min(r);
            }
            if !s.up {
                continue;
            }
            if let Some(w) = s.peer.poll_timeout() {
                t = t.min(self.local_to_ms(i, w).max(self.now_ms));
            }
            if let Some((w, _)) = s.queue.front() {
                t = t.min(*w);
            }
            // Lease timers: once a second is plenty.
            t = t.min((self.now_ms / 5000 + 1) * 5000 + 500 * i as u64);
        }
        if let Some(c) = &self.conn {
            for q in &c.to {
                if let Some((w, _)) = q.front() {
                    t = t.min(*w);
                }
            }
            for (w, _) in &c.closing {
                t = t.min(*w);
            }
        } else {
            t = t.min(self.next_connect_ms);
        }
        for c in &self.clients {
            t = t.min(c.next_ms);
        }
        if let Some((w, _)) = self.faults.front() {
            t = t.min(*w);
        }
        t
    }

    fn step(&mut self) -> Result<(), Box<Failure>> {
        self.run_faults()?;
        self.run_restarts()?;
        self.run_connect();
        self.run_network();
        for i in 0..2 {
            if !self.servers[i].up {
                continue;
            }
            let local = self.local(i);
            let replies = self.servers[i].apply_due(self.now_ms, local);
            for r in replies {
                self.deliver_reply(i, r)?;
            }
            let s = &mut self.servers[i];
            let (peer, table) = s.parts();
            peer.handle_timeout(local, table);
            // The peer's table changes reach the store before the engine's next ones.
            self.pump(i);
            let s = &mut self.servers[i];
            let changed = s.tick(local);
            if !changed.is_empty() {
                let at = self.now_ms + self.rng.range(0, 20);
                self.servers[i].enqueue(at, Write::Engine(changed, None));
            }
        }
        self.run_clients()?;
        for i in 0..2 {
            self.pump(i);
        }
        self.check()
    }

    // ---------------------------------------------------------------- faults

    fn run_faults(&mut self) -> Result<(), Box<Failure>> {
        while self.faults.front().is_some_and(|(t, _)| *t <= self.now_ms) {
            let Some((_, f)) = self.faults.pop_front() else {
                break;
            };
            self.log(format!("fault {f:?}"));
            match f {
                Fault::Partition(d) => self.partition_until = self.now_ms + d,
                Fault::Reset => {
                    if let Some(c) = &mut self.conn {
                        c.to = Default::default();
                        for side in 0..2 {
                            if c.open[side] {
                                c.closing.push((self.now_ms + 1, side));
                            }
                        }
                    }
                }
                Fault::Crash(i, d) => {
                    if self.servers[i].up {
                        self.servers[i].crash();
                        self.restart_at[i] = Some(self.now_ms + d);
                        if let Some(c) = &mut self.conn {
                            c.open[i] = false;
                            c.to[i].clear();
                            if c.open[1 - i] {
                                let at = self.now_ms.max(self.partition_until) + 5;
                                c.closing.push((at, 1 - i));
                            }
                        }
                    }
                }
                Fault::PartnerDown(i) => {
                    if self.servers[i].up && !self.servers[1 - i].up {
                        let local = self.local(i);
                        let s = &mut self.servers[i];
                        let (peer, table) = s.parts();
                        peer.partner_down(local, table);
                        self.pump(i);
                    }
                }
            }
        }
        Ok(())
    }

    fn run_restarts(&mut self) -> Result<(), Box<Failure>> {
        for i in 0..2 {
            if self.restart_at[i].is_some_and(|t| t <= self.now_ms) {
                self.restart_at[i] = None;
                let local = self.local(i);
                self.servers[i]
                    .restart(local)
                    .map_err(|e| self.fail(e.to_string()))?;
                self.last_restart_ms = self.now_ms;
                self.log(format!("server {i} restarts"));
            }
        }
        Ok(())
    }

    // --------------------------------------------------------------- network

    fn run_connect(&mut self) {
        // Tear down a connection both sides have closed.
        if let Some(c) = &self.conn
            && !c.open[0]
            && !c.open[1]
            && c.closing.is_empty()
        {
            self.conn = None;
            self.next_connect_ms = self.now_ms + 5_000;
        }
        if self.conn.is_some() || self.now_ms < self.next_connect_ms {
            return;
        }
        if !self
            .servers
            .iter()
            .all(|s| s.up && !s.peer.has_connection())
            || self.now_ms < self.partition_until
        {
            self.next_connect_ms = self.now_ms + 5_000;
            return;
        }
        self.log("connected".into());
        self.conn = Some(Conn {
            open: [true, true],
            ..Conn::default()
        });
        for i in 0..2 {
            let local = self.local(i);
            self.servers[i].peer.handle_connected(local);
        }
    }

    fn run_network(&mut self) {
        let Some(mut c) = self.conn.take() else {
            return;
        };
        let now = self.now_ms;
        let mut closes = Vec::new();
        c.closing.retain(|(t, side)| {
            if *t <= now {
                closes.push(*side);
                false
            } else {
                true
            }
        });
        for side in closes {
            if c.open[side] {
                c.open[side] = false;
                c.to[side].clear();
                if self.servers[side].up {
                    let local = self.local(side);
                    let s = &mut self.servers[side];
                    let (peer, table) = s.parts();
                    peer.handle_disconnected(local, table);
                    self.conn = Some(std::mem::take(&mut c));
                    self.pump(side);
                    c = self.conn.take().unwrap_or_default();
                    self.log(format!("server {side} sees the connection close"));
                }
            }
        }
        for side in 0..2 {
            while c.to[side].front().is_some_and(|(t, _)| *t <= now) {
                let Some((_, m)) = c.to[side].pop_front() else {
                    break;
                };
                if !c.open[side] || !self.servers[side].up {
                    continue;
                }
                self.stats.messages += 1;
                if self.verbose {
                    self.log(format!("{} -> {side}: {m}", 1 - side));
                }
                let local = self.local(side);
                let s = &mut self.servers[side];
                let (peer, table) = s.parts();
                peer.handle_message(local, m, table);
                self.conn = Some(std::mem::take(&mut c));
                self.pump(side);
                c = self.conn.take().unwrap_or_default();
            }
        }
        self.conn = Some(c);
    }

    /// Moves a server's output to the network and its events to the store.
    fn pump(&mut self, i: usize) {
        if !self.servers[i].up {
            return;
        }
        let delay = self.rng.range(0, 30);
        let events = self.servers[i].drain_events(self.now_ms + delay);
        let mut close = false;
        for e in events {
            match e {
                Event::Close(reason) => {
                    self.log(format!("server {i} closes: {reason:?}"));
                    close = true;
                }
                Event::StateChanged { from, to } => {
                    self.log(format!("server {i}: {from} -> {to}"));
                }
                Event::Fatal(s) => self.log(format!("server {i}: FATAL {s}")),
                _ => {}
            }
        }
        while let Some(m) = self.servers[i].peer.poll_transmit() {
            let lat = self.rng.range(1, 40);
            if let Some(c) = &mut self.conn
                && c.open[i]
                && c.open[1 - i]
            {
                let base = self.now_ms.max(self.partition_until);
                let at = c.to[1 - i]
                    .back()
                    .map_or(base + lat, |(t, _)| (*t).max(base + lat));
                c.to[1 - i].push_back((at, m));
            }
        }
        if close
            && let Some(c) = &mut self.conn
            && c.open[i]
        {
            c.open[i] = false;
            c.to[i].clear();
            if c.open[1 - i] {
                // The FIN (or RST) arrives after the data, once the network
                // lets it through.
                let last = c.to[1 - i].back().map_or(0, |(t, _)| *t);
                let at = self.now_ms.max(self.partition_until).max(last) + 5;
                c.closing.push((at, 1 - i));
            }
        }
    }

    // --------------------------------------------------------------- clients

    fn run_clients(&mut self) -> Result<(), Box<Failure>> {
        for ci in 0..self.clients.len() {
            if self.clients[ci].next_ms > self.now_ms {
                continue;
            }
            let c = &self.clients[ci];
            let mac = c.mac;
            match c.held.clone() {
                _ if c.pending.is_some_and(|t| t > self.now_ms) => {
                    // Still waiting for the ACK; look again shortly.
                    self.clients[ci].next_ms = self.now_ms + 1_000;
                }
                None => {
                    // DISCOVER to both; the first OFFER gets the REQUEST.
                    let secs = self.rng.range(0, 6) as u16;
                    let first = self.rng.below(2) as usize;
                    let mut done = false;
                    for i in [first, 1 - first] {
                        if !self.servers[i].up {
                            continue;
                        }
                        let local = self.local(i);
                        let Some(addr) = self.servers[i].discover(mac, secs, local) else {
                            continue;
                        };
                        self.log(format!("server {i} offers {addr} to client {ci}"));
                        if let Some((writes, reply)) =
                            self.servers[i].request(ci, mac, addr, true, local)
                        {
                            self.check_partner_knows(i, &reply)?;
                            let at = self.now_ms + self.rng.range(0, 20);
                            self.servers[i].enqueue(at, Write::Engine(writes, Some(reply)));
                            self.clients[ci].pending = Some(self.now_ms + 2_000);
                            done = true;
                        }
                        break;
                    }
                    self.clients[ci].next_ms = self.now_ms + if done { 500 } else { 10_000 };
                }
                Some(h) => {
                    if self.now_ms >= h.until_ms {
                        self.log(format!("client {ci} lets {} go", h.addr));
                        self.clients[ci].held = None;
                        self.clients[ci].next_ms = self.now_ms + self.rng.range(1_000, 30_000);
                        continue;
                    }
                    if self.rng.chance(10) {
                        // RELEASE, then forget the lease whatever happens.
                        let i = h.server;
                        if self.servers[i].up {
                            let local = self.local(i);
                            let writes = self.servers[i].release(mac, h.addr, local);
                            if !writes.is_empty() {
                                let at = self.now_ms + self.rng.range(0, 20);
                                self.servers[i].enqueue(at, Write::Engine(writes, None));
                            }
                        }
                        self.log(format!("client {ci} releases {}", h.addr));
                        self.clients[ci].held = None;
                        // Events on the two servers closer together than their
                        // clock skew cannot be ordered by the servers' time
                        // stamps; a client that comes back that soon after a
                        // release could see its new lease lost to the release.
                        let pause = (2 * MAX_SKEW as u64 + 1) * 1000;
                        self.clients[ci].next_ms = self.now_ms + self.rng.range(pause, 60_000);
                        continue;
                    }
                    // RENEW to the granting server; after 7/8 of the lease,
                    // REBIND to both.
                    let life = h.until_ms.saturating_sub(h.granted_ms);
                    let rebinding = self.now_ms >= h.granted_ms + life * 7 / 8;
                    let targets: Vec<usize> = if rebinding {
                        vec![h.server, 1 - h.server]
                    } else {
                        vec![h.server]
                    };
                    let mut done = false;
                    for i in targets {
                        if !self.servers[i].up {
                            continue;
                        }
                        let local = self.local(i);
                        if let Some((writes, reply)) =
                            self.servers[i].request(ci, mac, h.addr, false, local)
                        {
                            self.check_partner_knows(i, &reply)?;
                            let at = self.now_ms + self.rng.range(0, 20);
                            self.servers[i].enqueue(at, Write::Engine(writes, Some(reply)));
                            self.clients[ci].pending = Some(self.now_ms + 2_000);
                            done = true;
                            break;
                        }
                    }
                    let next = if done { 500 } else { (life / 16).max(1_000) };
                    self.clients[ci].next_ms =
                        (self.now_ms + next).min(h.until_ms.max(self.now_ms + 1));
                }
            }
        }
        Ok(())
    }

    fn deliver_reply(&mut self, server: usize, r: Reply) -> Result<(), Box<Failure>> {
        self.stats.grants += 1;
        if r.ends > r.mclt_bound {
            return Err(self.fail(format!(
                "server {server} granted {} until {} beyond the MCLT bound {}",
                r.addr, r.ends, r.mclt_bound
            )));
        }
        let granted_ms = self.now_ms;
        let until = self
            .local_to_ms(server, r.ends)
            .saturating_sub(TOL_MS)
            .max(self.now_ms);
        let c = &mut self.clients[r.client];
        c.pending = None;
        c.held = Some(Held {
            addr: r.addr,
            server,
            until_ms: until,
            granted_ms,
        });
        let life = until - granted_ms;
        c.next_ms = granted_ms + life / 2;
        self.log(format!(
            "server {server} acks {} to client {} for {}s",
            r.addr,
            r.client,
            life / 1000
        ));
        Ok(())
    }
}
