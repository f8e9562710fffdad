//! The `testbed demo` scenario: one server, a storm of simulated PXE
//! clients, a summary table.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::server::{DhcpServer, IscDhcpd, OurDhcpd, ServerSpec};
use crate::sim::{Swarm, SwarmConfig, SwarmReport};
use crate::topology::{self, LabBuilder};

/// Which server the demo runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerChoice {
    /// ISC dhcpd 4.4.
    Isc,
    /// Our daemon, at this path.
    Ours(PathBuf),
}

impl ServerChoice {
    /// The implementation.
    pub fn server(&self) -> Box<dyn DhcpServer> {
        match self {
            Self::Isc => Box::new(IscDhcpd::default()),
            Self::Ours(path) => Box::new(OurDhcpd::new(path.clone())),
        }
    }
}

/// Demo settings.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The server.
    pub server: ServerChoice,
    /// Number of simulated clients.
    pub clients: usize,
    /// The clients' first retransmission timeout.
    pub initial_timeout: Duration,
    /// Spread of the clients' start times (zero: all at once).
    pub start_spread: Duration,
    /// Give up after this long.
    pub deadline: Duration,
    /// Addresses in the pool on the wide network (more than 240 clients);
    /// `None`: [`failover_pool_size`] of the clients.
    pub pool: Option<u32>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            server: ServerChoice::Ours(crate::server::default_our_binary()),
            clients: 200,
            initial_timeout: Duration::from_secs(4),
            start_spread: Duration::ZERO,
            deadline: Duration::from_secs(120),
            pool: None,
        }
    }
}

/// The demo's outcome.
#[derive(Debug, Clone)]
pub struct DemoResult {
    /// The server's short name.
    pub server: String,
    /// The swarm report.
    pub report: SwarmReport,
}

impl DemoResult {
    /// Whether every client got a distinct lease.
    pub fn passed(&self) -> bool {
        self.report.failures() == 0
            && self.report.duplicate_addresses().is_empty()
            && self.report.bound() == self.report.clients.len()
    }

    /// The summary table.
    pub fn table(&self) -> String {
        self.report.summary_table(&format!(
            "testbed demo: {} simulated PXE clients against {}",
            self.report.clients.len(),
            self.server
        ))
    }
}

/// Runs the demo: builds a lab (server `srv1`, client host `cli1`; the wide
/// /16 network when more than 240 clients), starts the server, runs the
/// swarm until every client is bound or the deadline passes, tears down.
pub fn run(options: &DemoOptions) -> Result<DemoResult> {
    let wide = options.clients > 240;
    let mut builder = LabBuilder::new().server("srv1").client("cli1");
    if wide {
        builder = builder.wide();
    }
    let lab = builder.build()?;
    let server = options.server.server();
    let next_server = topology::server_address(0);
    let spec = if wide {
        ServerSpec::wide_pool(
            next_server,
            options
                .pool
                .unwrap_or_else(|| failover_pool_size(options.clients)),
        )
    } else {
        ServerSpec::standard(next_server).with_range(
            std::net::Ipv4Addr::new(10, 99, 0, 10),
            std::net::Ipv4Addr::new(10, 99, 0, 250),
        )
    };
    let _srv = server.start(&lab, "srv1", &spec)?;
    let mut cfg = SwarmConfig::new(options.clients);
    cfg.client.initial_timeout = options.initial_timeout;
    cfg.client.renew = false;
    cfg.configure_addresses = false;
    cfg.start_spread = options.start_spread;
    cfg.deadline = options.deadline;
    let report = Swarm::run(lab.namespace("cli1")?, cfg)?;
    Ok(DemoResult {
        server: server.name().to_owned(),
        report,
    })
}

/// Waits until every one of our daemons `procs` logs NORMAL as its last
/// failover state.
pub fn wait_all_normal(procs: &[&crate::process::Process], timeout: Duration) -> Result<()> {
    let end = Instant::now() + timeout;
    loop {
        let normal = procs
            .iter()
            .all(|p| our_failover_states(&p.log_lines()).0.as_deref() == Some("normal"));
        if normal {
            return Ok(());
        }
        if Instant::now() >= end {
            return Err(Error::Timeout {
                what: "every server of the pair in NORMAL".into(),
                seconds: timeout.as_secs_f64(),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Our daemon's failover states from its log: the last
/// `failover status: state=S partner=P` line, as (S, P).
pub fn our_failover_states<S: AsRef<str>>(log: &[S]) -> (Option<String>, Option<String>) {
    let mut out = (None, None);
    for line in log {
        let Some((_, rest)) = line.as_ref().split_once("failover status: ") else {
            continue;
        };
        let field = |name: &str| {
            rest.split_whitespace()
                .find_map(|w| w.strip_prefix(name))
                .map(str::to_owned)
        };
        out = (field("state="), field("partner="));
    }
    out
}

// ------------------------------------------------------------ failover demo

/// Settings of the failover demo ([`run_failover`]).
#[derive(Debug, Clone)]
pub struct FailoverDemoOptions {
    /// The implementation of both servers.
    pub server: ServerChoice,
    /// Number of simulated PXE clients.
    pub clients: usize,
    /// The clients' first retransmission timeout.
    pub initial_timeout: Duration,
    /// Spread of the clients' start times.
    pub start_spread: Duration,
    /// When the primary is SIGKILLed, from the swarm's start.
    pub kill_at: Duration,
    /// How long the primary stays down.
    pub down_for: Duration,
    /// `auto-partner-down` seconds of both servers (0: off).
    pub auto_partner_down: u32,
    /// Give up after this long.
    pub deadline: Duration,
    /// Addresses in the pool (from 10.99.16.0); see [`failover_pool_size`].
    pub pool: u32,
    /// How long the pair runs in NORMAL before the clients start (time for
    /// the first pool balancing of a fresh pair, as a pair in service has
    /// long done).
    pub settle: Duration,
    /// Restart the primary with an empty lease store (a lost disk; our
    /// daemon only).
    pub lose_disk: bool,
}

/// The default pool of the failover demo for `clients`: room for every
/// client on either server alone. In a failover pair each server may
/// allocate only its own free addresses while the other is unreachable
/// (half the free pool each, split 128), so a pool just larger than the
/// number of clients runs the survivor dry mid-outage: twice the clients,
/// in 4,096-address steps, at least 4,096 (at most the /16).
pub fn failover_pool_size(clients: usize) -> u32 {
    let want = u32::try_from(clients.saturating_mul(2)).unwrap_or(u32::MAX);
    want.div_ceil(4096).max(1).saturating_mul(4096)
}

impl Default for FailoverDemoOptions {
    fn default() -> Self {
        Self {
            server: ServerChoice::Ours(crate::server::default_our_binary()),
            clients: 300,
            initial_timeout: Duration::from_secs(2),
            start_spread: Duration::from_secs(14),
            kill_at: Duration::from_secs(4),
            down_for: Duration::from_secs(5),
            auto_partner_down: 0,
            deadline: Duration::from_secs(120),
            pool: failover_pool_size(300),
            settle: Duration::ZERO,
            lose_disk: false,
        }
    }
}

/// The failover states of both servers at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateSample {
    /// Time since the swarm started.
    pub at: Duration,
    /// The primary's state (`down` while killed).
    pub primary: String,
    /// The secondary's state.
    pub secondary: String,
}

/// What the failover demo produced.
#[derive(Debug, Clone)]
pub struct FailoverDemoResult {
    /// The servers' short name.
    pub server: String,
    /// The swarm report.
    pub report: SwarmReport,
    /// Both servers' states, sampled four times a second.
    pub states: Vec<StateSample>,
    /// When the primary was killed.
    pub killed_at: Duration,
    /// When it was serving again.
    pub restarted_at: Duration,
    /// Restart → both NORMAL, if reached.
    pub back_to_normal: Option<Duration>,
    /// The primary's and secondary's addresses.
    pub addresses: (std::net::Ipv4Addr, std::net::Ipv4Addr),
    /// Start of both daemons → both NORMAL (a fresh pair: empty stores).
    pub normal_after: Duration,
}

impl FailoverDemoResult {
    /// Whether the demo met its targets: every client booted (got a lease;
    /// the clients do not renew, so in long runs the first, MCLT-limited
    /// leases may have run out by the end), no duplicate address, no client
    /// waited more than 4 s, and the pair is NORMAL again.
    pub fn passed(&self) -> bool {
        self.report.failures() == 0
            && self.report.duplicate_addresses().is_empty()
            && self
                .report
                .longest_wait()
                .is_some_and(|w| w <= Duration::from_secs(4))
            && self.back_to_normal.is_some()
    }

    /// The per-second timeline: leases granted by each server and each
    /// server's failover state at the end of the second.
    pub fn timeline_table(&self) -> String {
        use std::fmt::Write as _;
        let rows = self.report.timeline(Duration::from_secs(1));
        let (a1, a2) = self.addresses;
        let secs = rows.len().max(
            self.states
                .last()
                .map_or(0, |s| s.at.as_secs() as usize + 1),
        );
        let mut s = format!(
            "  {:>6}  {:>8} {:>8}  {:<27} {:<27}\n",
            "second", "primary", "second.", "primary state", "secondary state"
        );
        for i in 0..secs {
            let row = rows.get(i);
            let n = |a| row.and_then(|r| r.get(&a)).copied().unwrap_or(0);
            let end = Duration::from_secs(i as u64 + 1);
            let st = self.states.iter().rev().find(|x| x.at < end);
            let (p, q) = st.map_or(("-", "-"), |x| (x.primary.as_str(), x.secondary.as_str()));
            let mut mark = String::new();
            let sec = Duration::from_secs(i as u64);
            if self.killed_at >= sec && self.killed_at < end {
                mark.push_str("  <- primary SIGKILLed");
            }
            if self.restarted_at >= sec && self.restarted_at < end {
                mark.push_str("  <- primary restarted");
            }
            let _ = writeln!(
                s,
                "  {i:>6}  {:>8} {:>8}  {p:<27} {q:<27}{mark}",
                n(a1),
                n(a2)
            );
        }
        s
    }

    /// The verdict lines.
    pub fn verdict(&self) -> String {
        let r = &self.report;
        let wait = r
            .longest_wait()
            .map_or_else(|| "n/a".to_owned(), |w| format!("{:.2} s", w.as_secs_f64()));
        let normal = self.back_to_normal.map_or_else(
            || "not reached".to_owned(),
            |d| format!("{:.1} s after the restart", d.as_secs_f64()),
        );
        let by = r.leases_by_server();
        let (a1, a2) = self.addresses;
        format!(
            "verdict: {}\n  fresh pair NORMAL     {:.1} s after start (then clients)\n  \
             clients booted        {} / {}\n  failed boots          {}\n  \
             duplicate addresses   {}\n  longest client wait   {wait}\n  \
             leases (primary / secondary at the end) {} / {}\n  \
             primary killed at     {:.1} s, serving again at {:.1} s\n  \
             time back to NORMAL   {normal}\n  \
             retransmitting clients started at {}\n{}",
            if self.passed() { "PASS" } else { "FAIL" },
            self.normal_after.as_secs_f64(),
            r.clients.len() - r.failures(),
            r.clients.len(),
            r.failures(),
            r.duplicate_addresses().len(),
            by.get(&a1).copied().unwrap_or(0),
            by.get(&a2).copied().unwrap_or(0),
            self.killed_at.as_secs_f64(),
            self.restarted_at.as_secs_f64(),
            {
                let all = r.retransmitting_starts();
                let mut starts: Vec<String> = all
                    .iter()
                    .take(8)
                    .map(|d| format!("{:.2} s", d.as_secs_f64()))
                    .collect();
                if all.len() > starts.len() {
                    starts.push(format!("… ({} in all)", all.len()));
                }
                if starts.is_empty() {
                    "(none)".to_owned()
                } else {
                    starts.join(", ")
                }
            },
            r.failed_clients()
                .iter()
                .take(8)
                .map(|(i, state, c)| {
                    format!(
                        "  failed client {i}: {state}, {} DISCOVERs, {} OFFERs, {} REQUESTs, {} NAKs\n",
                        c.discovers, c.offers, c.requests, c.naks
                    )
                })
                .collect::<String>(),
        )
    }
}

/// A server's current failover state from its log lines after index `from`
/// (ours or ISC); `startup` before the first state line.
fn failover_state_of(kind: &str, p: &crate::process::Process, from: usize) -> String {
    let lines = p.log_lines();
    let lines = lines.get(from..).unwrap_or_default();
    let s = if kind == "isc" {
        crate::isc::failover_states(lines).0
    } else {
        our_failover_states(lines).0
    };
    s.unwrap_or_else(|| "startup".to_owned())
}

/// The failover demo: two servers in a failover pair (split 128, mclt 60) on
/// the wide network, `clients` simulated PXE clients booting over
/// `start_spread`; the primary is SIGKILLed at `kill_at`, the clients keep
/// booting, the primary is started again after `down_for` and resynchronises.
/// States are sampled from the servers' logs four times a second.
pub fn run_failover(options: &FailoverDemoOptions) -> Result<FailoverDemoResult> {
    use crate::server::{FailoverRole, FailoverSpec};
    use crate::sim::Until;
    use std::time::Instant;

    if options.lose_disk && !matches!(options.server, ServerChoice::Ours(_)) {
        return Err(crate::error::Error::NoResult(
            "--lose-disk needs our daemon (--server ours)".into(),
        ));
    }
    let lab = LabBuilder::new()
        .server("srv1")
        .server("srv2")
        .client("cli1")
        .wide()
        .build()?;
    let server = options.server.server();
    let kind = server.name().to_owned();
    let (a1, a2) = (topology::server_address(0), topology::server_address(1));
    let fo = |role, me, peer| {
        let mut f = FailoverSpec::new(role, me, peer);
        f.max_response_delay = 10;
        f.auto_partner_down = options.auto_partner_down;
        f
    };
    let pspec =
        ServerSpec::wide_pool(a1, options.pool).with_failover(fo(FailoverRole::Primary, a1, a2));
    let sspec =
        ServerSpec::wide_pool(a1, options.pool).with_failover(fo(FailoverRole::Secondary, a2, a1));
    let pair_started = Instant::now();
    let mut primary = server.start(&lab, "srv1", &pspec)?;
    let secondary = server.start(&lab, "srv2", &sspec)?;
    let normal = |p: &crate::process::Process| failover_state_of(&kind, p, 0) == "normal";
    let wait_start = Instant::now();
    while !(normal(&primary) && normal(&secondary)) {
        if wait_start.elapsed() > Duration::from_secs(60) {
            return Err(crate::error::Error::NoResult(
                "the pair did not reach NORMAL within 60 s".into(),
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let normal_after = pair_started.elapsed();
    std::thread::sleep(options.settle);

    let mut cfg = SwarmConfig::new(options.clients);
    cfg.client.initial_timeout = options.initial_timeout;
    cfg.client.renew = false;
    cfg.configure_addresses = false;
    cfg.start_spread = options.start_spread;
    cfg.deadline = options.deadline;
    cfg.until = Until::Stopped;
    let swarm = Swarm::spawn(lab.namespace("cli1")?, cfg)?;
    let started = swarm.started();
    let mut states = Vec::new();
    // The primary's state is read from the log of its current run only.
    let mut sample = |primary: Option<(&crate::process::Process, usize)>,
                      secondary: &crate::process::Process| {
        states.push(StateSample {
            at: started.elapsed(),
            primary: primary.map_or_else(
                || "down".to_owned(),
                |(p, from)| failover_state_of(&kind, p, from),
            ),
            secondary: failover_state_of(&kind, secondary, 0),
        });
    };
    while started.elapsed() < options.kill_at {
        sample(Some((&primary, 0)), &secondary);
        std::thread::sleep(Duration::from_millis(250));
    }
    primary.kill()?;
    let killed_at = started.elapsed();
    if options.lose_disk {
        let store = lab.path("store-srv1");
        std::fs::remove_dir_all(&store)
            .map_err(|e| crate::error::Error::io(format!("remove {}", store.display()), e))?;
    }
    while started.elapsed() < killed_at + options.down_for {
        sample(None, &secondary);
        std::thread::sleep(Duration::from_millis(250));
    }
    let mark = primary.log_len();
    server.start_again(&mut primary)?;
    let restarted_at = started.elapsed();
    let mut back_to_normal = None;
    loop {
        sample(Some((&primary, mark)), &secondary);
        let p_normal = failover_state_of(&kind, &primary, mark) == "normal";
        if back_to_normal.is_none() && p_normal && normal(&secondary) {
            back_to_normal = Some(started.elapsed().saturating_sub(restarted_at));
        }
        let all_bound = swarm.bound() == options.clients;
        let spread_done = started.elapsed() > options.start_spread;
        if (back_to_normal.is_some() && all_bound && spread_done)
            || started.elapsed() > options.deadline
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    std::thread::sleep(Duration::from_millis(500));
    sample(Some((&primary, mark)), &secondary);
    let report = swarm.stop()?;
    Ok(FailoverDemoResult {
        server: kind,
        report,
        states,
        killed_at,
        restarted_at,
        back_to_normal,
        addresses: (a1, a2),
        normal_after,
    })
}
