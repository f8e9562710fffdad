//! The soak's moving parts: a lab with our daemon in `srv1` and swarms of
//! renewing clients in `cli1`. [`Soak::cycle`] lets the daemon serve for a
//! random moment, SIGKILLs it, waits for replies already on the wire to
//! land, checks every ACK so far against a copy of the store, and starts it
//! again with the same configuration and store; [`Soak::finish`] stops it
//! cleanly and checks once more. Optionally the store lives on a small tmpfs
//! that a filler file fills up ([`Soak::fill_disk`], [`Soak::free_disk`]).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::counts::{SoakCounts, env_u64, seed_from_env};
use super::ledger::{AckTap, CheckOutcome, Ledger, read_store_copy};
use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::process::Process;
use crate::server::{DhcpServer, OurDhcpd, ServerSpec, default_our_binary};
use crate::sim::{Swarm, SwarmConfig, SwarmHandle, Until};
use crate::topology::{self, LabBuilder};

/// Time after a kill for replies already on the wire to reach the clients.
const DRAIN: Duration = Duration::from_millis(150);

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
    /// Range of the time the daemon serves before a kill, in milliseconds
    /// (one kill in ten lands within 100 ms of start-up instead).
    pub up_ms: (u64, u64),
}

impl SoakConfig {
    /// Two swarms of 150 clients, 12-second leases, up 200–1500 ms per
    /// cycle; cycles from `TESTBED_SOAK_CYCLES` (default `default_cycles`)
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
            up_ms: (200, 1500),
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
    /// Every check summed, the lost ACKs among them.
    pub totals: CheckOutcome,
    /// How the daemon exited on the final SIGTERM ("exit 0").
    pub final_status: String,
    /// ACKs captured in each cycle.
    pub acks_per_cycle: Vec<u64>,
    /// The daemon's log lines, every start.
    pub log: Vec<String>,
}

/// A running soak. Fields drop in order: clients, daemon, tmpfs, lab.
#[derive(Debug)]
pub struct Soak {
    swarms: Vec<(SwarmHandle, AckTap)>,
    srv: Process,
    disk: Option<Tmpfs>,
    lab: Lab,
    server: OurDhcpd,
    config: SoakConfig,
    rng: ChaCha8Rng,
    started: Instant,
    ledger: Ledger,
    counts: SoakCounts,
    acks_per_cycle: Vec<u64>,
    store: PathBuf,
    scratch: PathBuf,
    up: bool,
    full: bool,
}

impl Soak {
    /// Builds the lab, starts the daemon and the clients.
    pub fn start(config: SoakConfig) -> Result<Self> {
        let started = Instant::now();
        let lab = LabBuilder::server_and_client().wide().build()?;
        let store = lab.path("store-srv1");
        let disk = match config.store_tmpfs_mib {
            Some(mib) => {
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
        let spec = ServerSpec::wide(topology::server_address(0))
            .with_lease_time(config.lease_time, config.lease_time);
        let srv = server.start(&lab, "srv1", &spec)?;
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
            srv,
            disk,
            scratch: lab.path("store-copy"),
            lab,
            server,
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            counts: SoakCounts {
                seed: config.seed,
                ..SoakCounts::default()
            },
            config,
            started,
            ledger: Ledger::new(),
            acks_per_cycle: Vec::new(),
            store,
            up: true,
            full: false,
        })
    }

    /// The lab.
    pub fn lab(&self) -> &Lab {
        &self.lab
    }

    /// The daemon's process.
    pub fn daemon(&self) -> &Process {
        &self.srv
    }

    /// Cycles done so far.
    pub fn cycles_done(&self) -> usize {
        self.counts.cycles
    }

    /// The checks so far, summed.
    pub fn totals(&self) -> &CheckOutcome {
        self.ledger.totals()
    }

    /// One cycle: serve for a random moment, SIGKILL, check the store,
    /// start again. A daemon that exited by itself, or did not start, is
    /// counted (and started again).
    pub fn cycle(&mut self) -> Result<()> {
        let n = self.counts.cycles + 1;
        if !self.up {
            self.restart(n);
        }
        let up = if self.rng.random_bool(0.1) {
            self.rng.random_range(0..100)
        } else {
            self.rng
                .random_range(self.config.up_ms.0..self.config.up_ms.1)
        };
        std::thread::sleep(Duration::from_millis(up));
        if self.up && !self.srv.is_running() {
            self.counts.unexpected_exits += 1;
            eprintln!(
                "cycle {n}: the daemon exited by itself; log {}",
                self.srv.log_path().display()
            );
        }
        self.srv.kill()?;
        std::thread::sleep(DRAIN);
        let acks = self.capture();
        self.acks_per_cycle.push(acks);
        if acks == 0 {
            self.counts.cycles_without_acks += 1;
        }
        self.check(&format!("cycle {n}"));
        std::thread::sleep(Duration::from_millis(self.rng.random_range(0..300)));
        self.restart(n);
        self.counts.cycles = n;
        if n.is_multiple_of(25) {
            let t = self.ledger.totals();
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

    /// Runs the configured number of cycles.
    pub fn run_cycles(&mut self) -> Result<()> {
        while self.counts.cycles < self.config.cycles {
            self.cycle()?;
        }
        Ok(())
    }

    /// Starts the daemon again (three attempts), counting failures; while
    /// the disk is full they are counted apart.
    fn restart(&mut self, cycle: usize) {
        for attempt in 1..=3 {
            match self.server.start_again(&mut self.srv) {
                Ok(()) => {
                    self.up = true;
                    return;
                }
                Err(e) => {
                    if self.full {
                        self.counts.restarts_refused_disk_full += 1;
                    } else {
                        self.counts.restart_failures += 1;
                        eprintln!("cycle {cycle}: restart attempt {attempt} failed: {e}");
                    }
                    let _ = self.srv.kill();
                }
            }
        }
        self.up = false;
    }

    fn capture(&mut self) -> u64 {
        let mut n = 0;
        for (handle, tap) in &mut self.swarms {
            let acks = tap.take(handle);
            n += acks.len() as u64;
            self.ledger.record(acks);
        }
        self.counts.acks_captured += n;
        n
    }

    fn check(&mut self, when: &str) {
        match read_store_copy(&self.store, &self.scratch) {
            Ok(leases) => {
                let out = self.ledger.check(&leases, SystemTime::now());
                for l in &out.lost {
                    eprintln!("LOST (seed {}, {when}): {l}", self.counts.seed);
                }
            }
            Err(e) => {
                self.counts.reopen_failures += 1;
                eprintln!("REOPEN FAILED (seed {}, {when}): {e}", self.counts.seed);
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

    /// Stops the daemon cleanly (SIGTERM), checks the store once more,
    /// stops the clients and returns the figures.
    pub fn finish(mut self) -> Result<SoakReport> {
        if !self.up {
            self.restart(self.counts.cycles);
        }
        let status = self.srv.terminate(Duration::from_secs(10))?;
        let final_status = status.map_or_else(|| "still running".into(), crate::process::describe);
        std::thread::sleep(DRAIN);
        self.capture();
        self.check("after SIGTERM");
        for (handle, tap) in std::mem::take(&mut self.swarms) {
            self.counts.naks += tap.naks();
            handle.stop()?;
        }
        let totals = self.ledger.totals().clone();
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
            log: self.srv.log_lines(),
        })
    }
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
