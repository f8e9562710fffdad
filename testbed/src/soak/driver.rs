//! The soak's moving parts: a lab with our daemon in `srv1` and swarms of
//! renewing clients in `cli1`. [`Soak::cycle`] lets the daemon serve for a
//! random moment, SIGKILLs it, waits for replies already on the wire to
//! land, checks every ACK so far against a copy of the store, and starts it
//! again with the same configuration and store; [`Soak::finish`] stops it
//! cleanly and checks once more. With [`SoakConfig::pair`] a failover pair
//! serves and the secondary is the one killed; each ACK is checked against
//! the store of the server that sent it. Optionally the store lives on a small tmpfs
//! that a filler file fills up ([`Soak::fill_disk`], [`Soak::free_disk`]).

use std::io::Write as _;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::counts::{SoakCounts, env_u64, seed_from_env};
use super::ledger::{Ack, AckTap, CheckOutcome, Ledger, read_store_copy};
use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::process::Process;
use crate::server::{
    DhcpServer, FailoverRole, FailoverSpec, OurDhcpd, ServerSpec, default_our_binary,
};
use crate::sim::{Swarm, SwarmConfig, SwarmHandle, Until};
use crate::topology::{self, LabBuilder};

/// Time after a kill for replies already on the wire to reach the clients.
const DRAIN: Duration = Duration::from_millis(150);
/// Longest wait for the first ACK after a restart before the kill moment
/// is drawn (the cycle is then counted as one without ACKs).
const FIRST_ACK_WAIT: Duration = Duration::from_secs(10);

/// What a soak runs.
#[derive(Debug, Clone)]
pub struct SoakConfig {
    /// Kill-and-restart cycles.
    pub cycles: usize,
    /// Seed of the kill moments and of the clients.
    pub seed: u64,
    /// Swarms of clients; odd-numbered ones send option 61.
    pub swarms: usize,
    /// Clients in each swarm.
    pub clients_per_swarm: usize,
    /// Lease time the daemon grants, seconds (clients renew at half).
    pub lease_time: u32,
    /// Extra arguments for `dhcpd run`.
    pub daemon_args: Vec<String>,
    /// Put the store on a tmpfs of this many MiB (for [`Soak::fill_disk`]).
    pub store_tmpfs_mib: Option<u64>,
    /// Run a failover pair (srv1 primary, srv2 secondary) and kill the
    /// secondary each cycle; the primary's store is checked paused.
    pub pair: bool,
    /// Range of the time from the first ACK after a restart to the kill, in
    /// milliseconds (one kill in ten lands within 100 ms of start-up
    /// instead, whether ACKs flow or not).
    pub up_ms: (u64, u64),
}

impl SoakConfig {
    /// Two swarms of 150 clients, 12-second leases, a kill 50–1300 ms
    /// after the first ACK of each cycle; cycles from `TESTBED_SOAK_CYCLES` (default `default_cycles`)
    /// and the seed from `TESTBED_SOAK_SEED` (default: from the clock).
    pub fn from_env(default_cycles: usize) -> Self {
        Self {
            cycles: env_u64("TESTBED_SOAK_CYCLES", default_cycles as u64) as usize,
            seed: seed_from_env("TESTBED_SOAK_SEED"),
            swarms: 2,
            clients_per_swarm: 150,
            lease_time: 12,
            daemon_args: Vec::new(),
            store_tmpfs_mib: None,
            pair: false,
            up_ms: (50, 1300),
        }
    }
}

/// A tmpfs mounted for the run, unmounted (lazily) when dropped.
#[derive(Debug)]
struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    fn mount(path: &Path, mib: u64) -> Result<Self> {
        std::fs::create_dir_all(path)
            .map_err(|e| Error::io(format!("create {}", path.display()), e))?;
        run(
            "mount",
            &["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"],
            path,
        )?;
        Ok(Self {
            path: path.to_owned(),
        })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = run("umount", &["-l"], &self.path);
    }
}

fn run(program: &str, args: &[&str], path: &Path) -> Result<()> {
    let command = format!("{program} {} {}", args.join(" "), path.display());
    let out = Command::new(program)
        .args(args)
        .arg(path)
        .output()
        .map_err(|source| Error::Spawn {
            command: command.clone(),
            source,
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::Command {
            command,
            status: crate::process::describe(out.status),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

/// What a finished soak reports.
#[derive(Debug, Clone)]
pub struct SoakReport {
    /// The figures.
    pub counts: SoakCounts,
    /// Every check summed (over both servers of a pair), the lost ACKs
    /// among them.
    pub totals: CheckOutcome,
    /// How the killed daemon exited on the final SIGTERM ("exit 0").
    pub final_status: String,
    /// ACKs captured in each cycle.
    pub acks_per_cycle: Vec<u64>,
    /// The killed daemon's log lines, every start.
    pub log: Vec<String>,
    /// ACKs checked, by the server that sent them.
    pub checked_by_server: Vec<(Ipv4Addr, u64)>,
}

/// One daemon of the soak and what is checked against its store: the ACKs
/// it sent (option 54 names it).
#[derive(Debug)]
struct Daemon {
    srv: Process,
    address: Ipv4Addr,
    store: PathBuf,
    scratch: PathBuf,
    ledger: Ledger,
    up: bool,
}

/// A running soak. Fields drop in order: clients, daemons, tmpfs, lab.
#[derive(Debug)]
pub struct Soak {
    swarms: Vec<(SwarmHandle, AckTap)>,
    daemons: Vec<Daemon>,
    disk: Option<Tmpfs>,
    lab: Lab,
    server: OurDhcpd,
    config: SoakConfig,
    rng: ChaCha8Rng,
    started: Instant,
    counts: SoakCounts,
    acks_per_cycle: Vec<u64>,
    /// ACKs captured since the last kill.
    cycle_acks: u64,
    /// The daemon killed each cycle (the secondary of a pair).
    victim: usize,
    full: bool,
}

/// The specs of the daemons: one, or a failover pair (primary srv1,
/// secondary srv2, split 128, no automatic partner-down).
fn specs(config: &SoakConfig) -> Vec<ServerSpec> {
    let lease = config.lease_time;
    let (a1, a2) = (topology::server_address(0), topology::server_address(1));
    let base = ServerSpec::wide(a1).with_lease_time(lease, lease);
    if !config.pair {
        return vec![base];
    }
    let fo = |role, me, peer| {
        let mut f = FailoverSpec::new(role, me, peer);
        f.max_response_delay = 6;
        f.auto_partner_down = 0;
        f
    };
    vec![
        base.clone()
            .with_failover(fo(FailoverRole::Primary, a1, a2)),
        base.with_failover(fo(FailoverRole::Secondary, a2, a1)),
    ]
}

impl Soak {
    /// Builds the lab, starts the daemon (or the pair, primary first) and
    /// the clients.
    pub fn start(config: SoakConfig) -> Result<Self> {
        let started = Instant::now();
        let specs = specs(&config);
        let mut builder = LabBuilder::new().wide();
        for i in 0..specs.len() {
            builder = builder.server(&format!("srv{}", i + 1));
        }
        let lab = builder.client("cli1").build()?;
        let disk = match config.store_tmpfs_mib {
            Some(mib) => {
                let store = lab.path("store-srv1");
                let disk = Tmpfs::mount(&lab.path("disk"), mib)?;
                let inner = disk.path.join("store");
                std::fs::create_dir_all(&inner)
                    .map_err(|e| Error::io(format!("create {}", inner.display()), e))?;
                std::os::unix::fs::symlink(&inner, &store)
                    .map_err(|e| Error::io(format!("link {}", store.display()), e))?;
                Some(disk)
            }
            None => None,
        };
        let mut server = OurDhcpd::new(default_our_binary());
        server.extra_args = config.daemon_args.clone();
        let mut daemons = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            let host = format!("srv{}", i + 1);
            daemons.push(Daemon {
                srv: server.start(&lab, &host, spec)?,
                address: topology::server_address(i),
                store: lab.path(&format!("store-{host}")),
                scratch: lab.path(&format!("store-copy-{host}")),
                ledger: Ledger::new(),
                up: true,
            });
        }
        if config.pair {
            wait_normal(&daemons, Duration::from_secs(40))?;
        }
        let ns = lab.namespace("cli1")?.to_owned();
        let mut swarms = Vec::new();
        for i in 0..config.swarms {
            let mut cfg = SwarmConfig::new(config.clients_per_swarm);
            cfg.first_mac = 1 + (i * config.clients_per_swarm) as u32;
            cfg.client.client_id = i % 2 == 1;
            cfg.client.initial_timeout = Duration::from_secs(1);
            cfg.client.max_timeout = Duration::from_secs(4);
            cfg.until = Until::Stopped;
            cfg.deadline = Duration::from_secs(24 * 3600);
            cfg.start_spread = Duration::from_secs(u64::from(config.lease_time) / 2);
            cfg.seed = config.seed.wrapping_add(i as u64);
            let handle = Swarm::spawn(&ns, cfg.clone())?;
            let tap = AckTap::new(i, &handle, &cfg);
            swarms.push((handle, tap));
        }
        Ok(Self {
            swarms,
            victim: daemons.len() - 1,
            daemons,
            disk,
            lab,
            server,
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            counts: SoakCounts {
                seed: config.seed,
                ..SoakCounts::default()
            },
            config,
            started,
            acks_per_cycle: Vec::new(),
            cycle_acks: 0,
            full: false,
        })
    }

    /// The lab.
    pub fn lab(&self) -> &Lab {
        &self.lab
    }

    /// The process of the daemon that is killed each cycle.
    pub fn daemon(&self) -> &Process {
        &self.daemons[self.victim].srv
    }

    /// Cycles done so far.
    pub fn cycles_done(&self) -> usize {
        self.counts.cycles
    }

    /// The checks so far, summed over the daemons.
    pub fn totals(&self) -> CheckOutcome {
        let mut t = CheckOutcome::default();
        for d in &self.daemons {
            let o = d.ledger.totals();
            t.checked += o.checked;
            t.rechecked += o.rechecked;
            t.superseded += o.superseded;
            t.expired += o.expired;
            t.lost.extend(o.lost.iter().cloned());
        }
        t
    }

    /// One cycle: serve for a random moment, SIGKILL the victim, check its
    /// store (and, in a pair, the survivor's, paused), start it again. A
    /// daemon that exited by itself, or did not start, is counted (and
    /// started again).
    pub fn cycle(&mut self) -> Result<()> {
        let n = self.counts.cycles + 1;
        let v = self.victim;
        if !self.daemons[v].up {
            self.restart(v, n);
        }
        // One kill in ten lands right after start-up; the others under
        // load: a random moment after the first ACK since the restart.
        let up = if self.rng.random_bool(0.1) {
            self.rng.random_range(0..100)
        } else {
            if self.daemons[v].up {
                self.wait_for_ack(FIRST_ACK_WAIT);
            }
            self.rng
                .random_range(self.config.up_ms.0..self.config.up_ms.1)
        };
        std::thread::sleep(Duration::from_millis(up));
        for (i, d) in self.daemons.iter_mut().enumerate() {
            if d.up && !d.srv.is_running() {
                self.counts.unexpected_exits += 1;
                d.up = i != v;
                eprintln!(
                    "cycle {n}: {} exited by itself; log {}",
                    d.srv.name(),
                    d.srv.log_path().display()
                );
            }
        }
        self.daemons[v].srv.kill()?;
        std::thread::sleep(DRAIN);
        self.capture();
        let acks = std::mem::take(&mut self.cycle_acks);
        self.acks_per_cycle.push(acks);
        if acks == 0 {
            self.counts.cycles_without_acks += 1;
        }
        self.check(v, &format!("cycle {n}"));
        for i in (0..self.daemons.len()).filter(|&i| i != v) {
            self.check_paused_daemon(i, &format!("cycle {n}, survivor"));
        }
        std::thread::sleep(Duration::from_millis(self.rng.random_range(0..300)));
        self.restart(v, n);
        self.counts.cycles = n;
        if n.is_multiple_of(25) {
            let t = self.totals();
            eprintln!(
                "cycle {n}/{} at {:.0} s: {} acks, {} checked, {} lost",
                self.config.cycles,
                self.started.elapsed().as_secs_f64(),
                self.counts.acks_captured,
                t.checked,
                t.lost.len()
            );
        }
        Ok(())
    }

    /// Checks every daemon's store without a kill: each is SIGSTOPped in
    /// turn (every thread stops at a system-call boundary, so its files
    /// hold at least every record it has acknowledged), replies on the wire
    /// are waited for, a copy of its store is checked, and it is SIGCONTed.
    /// For long phases between kills.
    pub fn check_paused(&mut self, when: &str) {
        for i in 0..self.daemons.len() {
            self.check_paused_daemon(i, when);
        }
    }

    fn check_paused_daemon(&mut self, i: usize, when: &str) {
        if !self.daemons[i].up {
            return;
        }
        self.daemons[i].srv.signal(libc::SIGSTOP);
        std::thread::sleep(DRAIN);
        self.capture();
        self.check(i, when);
        self.daemons[i].srv.signal(libc::SIGCONT);
    }

    /// Runs the configured number of cycles.
    pub fn run_cycles(&mut self) -> Result<()> {
        while self.counts.cycles < self.config.cycles {
            self.cycle()?;
        }
        Ok(())
    }

    /// Starts daemon `i` again (three attempts), counting failures; while
    /// the disk is full they are counted apart.
    fn restart(&mut self, i: usize, cycle: usize) {
        let d = &mut self.daemons[i];
        for attempt in 1..=3 {
            match self.server.start_again(&mut d.srv) {
                Ok(()) => {
                    d.up = true;
                    return;
                }
                Err(e) => {
                    if self.full {
                        self.counts.restarts_refused_disk_full += 1;
                    } else {
                        self.counts.restart_failures += 1;
                        eprintln!("cycle {cycle}: restart attempt {attempt} failed: {e}");
                    }
                    let _ = d.srv.kill();
                }
            }
        }
        d.up = false;
    }

    /// Moves the ACKs received so far to the ledger of the daemon that sent
    /// each (the first daemon's when option 54 names none of them).
    fn capture(&mut self) -> u64 {
        let mut n = 0;
        for (handle, tap) in &mut self.swarms {
            let acks = tap.take(handle);
            n += acks.len() as u64;
            for d in &mut self.daemons {
                let (mine, _): (Vec<Ack>, Vec<Ack>) =
                    acks.iter().cloned().partition(|a| a.server == d.address);
                d.ledger.record(mine);
            }
            let known: Vec<Ipv4Addr> = self.daemons.iter().map(|d| d.address).collect();
            let strays: Vec<Ack> = acks
                .into_iter()
                .filter(|a| !known.contains(&a.server))
                .collect();
            self.counts.stray_acks += strays.len() as u64;
            self.daemons[0].ledger.record(strays);
        }
        self.counts.acks_captured += n;
        self.cycle_acks += n;
        n
    }

    /// Waits until an ACK has arrived in this cycle, or `timeout`.
    fn wait_for_ack(&mut self, timeout: Duration) {
        let end = Instant::now() + timeout;
        while self.cycle_acks == 0 && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(20));
            self.capture();
        }
    }

    fn check(&mut self, i: usize, when: &str) {
        let d = &mut self.daemons[i];
        match read_store_copy(&d.store, &d.scratch) {
            Ok(leases) => {
                let out = d.ledger.check(&leases, SystemTime::now());
                for l in &out.lost {
                    eprintln!("LOST (seed {}, {when}): {l}", self.counts.seed);
                }
            }
            Err(e) => {
                self.counts.reopen_failures += 1;
                eprintln!(
                    "REOPEN FAILED (seed {}, {when}, {}): {e}",
                    self.counts.seed,
                    d.srv.name()
                );
            }
        }
    }

    /// Fills the store's tmpfs with a filler file until `leave` bytes are
    /// free (or none). Needs [`SoakConfig::store_tmpfs_mib`].
    pub fn fill_disk(&mut self, leave: u64) -> Result<()> {
        let Some(disk) = &self.disk else {
            return Err(Error::NoResult("the store is not on a tmpfs".into()));
        };
        let path = disk.path.join("filler");
        let free = free_bytes(&disk.path)?;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(format!("open {}", path.display()), e))?;
        let chunk = vec![0u8; 64 << 10];
        let mut left = free.saturating_sub(leave);
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            if f.write_all(&chunk[..n]).is_err() {
                break; // full already
            }
            left -= n as u64;
        }
        self.full = true;
        Ok(())
    }

    /// Removes the filler file.
    pub fn free_disk(&mut self) -> Result<()> {
        if let Some(disk) = &self.disk {
            let path = disk.path.join("filler");
            std::fs::remove_file(&path)
                .map_err(|e| Error::io(format!("remove {}", path.display()), e))?;
        }
        self.full = false;
        Ok(())
    }

    /// Stops the daemons cleanly (SIGTERM, the victim first), checks their
    /// stores once more, stops the clients and returns the figures.
    pub fn finish(mut self) -> Result<SoakReport> {
        let v = self.victim;
        if !self.daemons[v].up {
            self.restart(v, self.counts.cycles);
        }
        let mut final_status = String::new();
        let order: Vec<usize> = std::iter::once(v)
            .chain((0..self.daemons.len()).filter(|&i| i != v))
            .collect();
        for &i in &order {
            let status = self.daemons[i].srv.terminate(Duration::from_secs(10))?;
            let text = status.map_or_else(|| "still running".into(), crate::process::describe);
            if i == v {
                final_status = text;
            } else if text != "exit 0" {
                self.counts.unexpected_exits += 1;
                eprintln!("{} on SIGTERM: {text}", self.daemons[i].srv.name());
            }
        }
        std::thread::sleep(DRAIN);
        self.capture();
        for i in 0..self.daemons.len() {
            self.check(i, "after SIGTERM");
        }
        for (handle, tap) in std::mem::take(&mut self.swarms) {
            self.counts.naks += tap.naks();
            handle.stop()?;
        }
        let totals = self.totals();
        self.counts.acks_checked = totals.checked;
        self.counts.rechecks = totals.rechecked;
        self.counts.not_checkable = totals.superseded + totals.expired;
        self.counts.lost = totals.lost.len() as u64;
        self.counts.wall = self.started.elapsed();
        Ok(SoakReport {
            counts: self.counts.clone(),
            totals,
            final_status,
            acks_per_cycle: std::mem::take(&mut self.acks_per_cycle),
            log: self.daemons[v].srv.log_lines(),
            checked_by_server: self
                .daemons
                .iter()
                .map(|d| (d.address, d.ledger.totals().checked))
                .collect(),
        })
    }
}

/// Waits until every daemon of a pair reports NORMAL in its log.
fn wait_normal(daemons: &[Daemon], timeout: Duration) -> Result<()> {
    let procs: Vec<&Process> = daemons.iter().map(|d| &d.srv).collect();
    crate::demo::wait_all_normal(&procs, timeout)
}

/// Bytes free on the file system holding `path`.
fn free_bytes(path: &Path) -> Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| Error::NoResult(format!("bad path {}: {e}", path.display())))?;
    // SAFETY: `c` is a NUL-terminated path and `st` a valid, writable
    // statvfs that the call fills in.
    let (r, st) = unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        let r = libc::statvfs(c.as_ptr(), &mut st);
        (r, st)
    };
    if r != 0 {
        return Err(Error::io(
            format!("statvfs {}", path.display()),
            std::io::Error::last_os_error(),
        ));
    }
    Ok(st.f_bavail * st.f_frsize)
}
