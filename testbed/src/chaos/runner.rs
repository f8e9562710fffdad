//! Running [`Schedule`]s against a pair of our daemons in the lab.
//!
//! One lab, one pair (srv1 primary, srv2 secondary, split 128, MCLT 10 s,
//! no automatic partner-down: a partition taken for a partner's death is
//! exactly the unsafe case that `[failover.fencing]` exists for) and one
//! swarm of clients that bind and renew throughout. The schedules run one
//! after the other; after each, every fault is healed and both servers must
//! be back in NORMAL before the next begins. At the end every ACK the
//! clients received is checked with [`super::overlapping_grants`].

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use super::{Fault, Schedule, Side};
use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::process::Process;
use crate::server::{
    DhcpServer, FailoverRole, FailoverSpec, OurDhcpd, ServerSpec, default_our_binary,
};
use crate::sim::{Swarm, SwarmConfig, Until};
use crate::soak::{Ack, AckTap};
use crate::topology::{self, LabBuilder};

/// How a chaos run is shaped.
#[derive(Debug, Clone)]
pub struct ChaosConfig {
    /// Schedules to run.
    pub schedules: u64,
    /// Seed of the first schedule (the others follow: seed + 1, …).
    pub first_seed: u64,
    /// Length of each schedule.
    pub length: Duration,
    /// Clients in the swarm.
    pub clients: usize,
    /// Lease time the servers grant, seconds.
    pub lease_time: u32,
    /// How long both servers may take to be NORMAL again after a schedule.
    pub settle: Duration,
}

/// What a chaos run found.
#[derive(Debug, Clone, Default)]
pub struct ChaosReport {
    /// Schedules run.
    pub schedules: u64,
    /// Seeds run.
    pub seeds: (u64, u64),
    /// Faults applied, by kind.
    pub faults: BTreeMap<&'static str, u64>,
    /// DHCPACKs captured (first bindings and renewals).
    pub acks: usize,
    /// Overlapping grants of one address to two clients.
    pub violations: Vec<String>,
    /// The longest DISCOVER-to-ACK wait of a first binding.
    pub longest_wait: Duration,
    /// Schedules after which the pair was not NORMAL within the settle time.
    pub unsettled: Vec<u64>,
    /// Wall time.
    pub elapsed: Duration,
}

impl ChaosReport {
    /// A short table of the figures.
    pub fn table(&self) -> String {
        let faults: Vec<String> = self
            .faults
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        format!(
            "chaos: {} schedules (seeds {}..={}), faults: {}; ACKs checked {}; double allocations {}; \
             longest first-bind wait {:.1} s; not NORMAL again in time: {:?}; {:.0} s",
            self.schedules,
            self.seeds.0,
            self.seeds.1,
            faults.join(", "),
            self.acks,
            self.violations.len(),
            self.longest_wait.as_secs_f64(),
            self.unsettled,
            self.elapsed.as_secs_f64()
        )
    }
}

struct Server {
    host: &'static str,
    proc_: Process,
    down: bool,
}

/// How many running faults hold each blackhole route (from, to) and each
/// server's cut client link: overlapping faults on the same thing are
/// applied once and undone by the last one to end.
#[derive(Default)]
struct Held {
    routes: BTreeMap<(usize, usize), u32>,
    cuts: [u32; 2],
}

/// Runs `config`'s schedules and reports.
pub fn run(config: &ChaosConfig) -> Result<ChaosReport> {
    let started = Instant::now();
    let lab = LabBuilder::new()
        .server("srv1")
        .server("srv2")
        .client("cli1")
        .build()?;
    let ours = OurDhcpd::new(default_our_binary());
    let (a1, a2) = (topology::server_address(0), topology::server_address(1));
    let spec = |role, me, peer| {
        let mut f = FailoverSpec::new(role, me, peer);
        f.max_response_delay = 4;
        f.mclt = 10;
        ServerSpec::standard(a1)
            .with_range(Ipv4Addr::new(10, 99, 0, 10), Ipv4Addr::new(10, 99, 0, 250))
            .with_lease_time(config.lease_time, config.lease_time)
            .with_failover(f)
    };
    let specs = [
        spec(FailoverRole::Primary, a1, a2),
        spec(FailoverRole::Secondary, a2, a1),
    ];
    // Whatever happens, no slow-disk cgroup outlives the run.
    let _cgroups = SlowDiskCgroups(["srv1", "srv2"].map(|h| slow_disk_cgroup(&lab, h)));
    let mut servers = Vec::new();
    for (host, s) in ["srv1", "srv2"].into_iter().zip(&specs) {
        servers.push(Server {
            host,
            proc_: ours.start(&lab, host, s)?,
            down: false,
        });
    }
    wait_normal(&servers, Duration::from_secs(60))?;

    let mut cfg = SwarmConfig::new(config.clients);
    cfg.client.initial_timeout = Duration::from_secs(1);
    cfg.client.max_timeout = Duration::from_secs(4);
    cfg.configure_addresses = false;
    cfg.until = Until::Stopped;
    cfg.deadline = Duration::from_secs(24 * 3600);
    cfg.start_spread = Duration::from_secs(2);
    cfg.seed = config.first_seed;
    let handle = Swarm::spawn(lab.namespace("cli1")?, cfg.clone())?;
    let mut tap = AckTap::new(0, &handle, &cfg);
    let mut acks: Vec<Ack> = Vec::new();

    let mut report = ChaosReport {
        seeds: (
            config.first_seed,
            config.first_seed + config.schedules.saturating_sub(1),
        ),
        ..ChaosReport::default()
    };
    for k in 0..config.schedules {
        let schedule = Schedule::generate(config.first_seed + k, config.length);
        apply(&lab, &ours, &mut servers, &schedule, &mut report)?;
        acks.extend(tap.take(&handle));
        if wait_normal(&servers, config.settle).is_err() {
            report.unsettled.push(schedule.seed);
            wait_normal(&servers, Duration::from_secs(120))?;
        }
        report.schedules += 1;
    }
    // A last look after the final renewals.
    std::thread::sleep(Duration::from_secs(2));
    acks.extend(tap.take(&handle));
    report.longest_wait = crate::sim::longest_bind_wait(&handle.events_since(0));
    let _ = handle.stop();
    report.acks = acks.len();
    report.violations = super::overlapping_grants(&acks);
    for s in &mut servers {
        let _ = s.proc_.terminate(Duration::from_secs(10));
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Applies one schedule: each fault at its time, undone when it ends.
fn apply(
    lab: &Lab,
    ours: &OurDhcpd,
    servers: &mut [Server],
    schedule: &Schedule,
    report: &mut ChaosReport,
) -> Result<()> {
    let t0 = Instant::now();
    // (when, start?, fault), in time order; ends before starts at a tie.
    let mut timeline: Vec<(Duration, bool, Fault)> = Vec::new();
    for s in &schedule.steps {
        timeline.push((s.at, true, s.fault));
        timeline.push((s.at + s.lasts, false, s.fault));
        *report.faults.entry(s.fault.label()).or_default() += 1;
    }
    timeline.sort_by_key(|(t, start, _)| (*t, *start));
    let mut held = Held::default();
    for (at, start, fault) in timeline {
        if let Some(wait) = at.checked_sub(t0.elapsed()) {
            std::thread::sleep(wait);
        }
        if start {
            begin(lab, &mut held, ours, servers, fault)?;
        } else {
            end(lab, &mut held, ours, servers, fault)?;
        }
    }
    if let Some(rest) = schedule.length.checked_sub(t0.elapsed()) {
        std::thread::sleep(rest);
    }
    Ok(())
}

fn peer_of(side: Side) -> (usize, usize) {
    (side.index(), 1 - side.index())
}

fn route(lab: &Lab, held: &mut Held, from: usize, to: usize, add: bool) -> Result<()> {
    let n = held.routes.entry((from, to)).or_default();
    let apply = if add {
        *n += 1;
        *n == 1
    } else {
        *n = n.saturating_sub(1);
        *n == 0
    };
    if !apply {
        return Ok(());
    }
    let host = ["srv1", "srv2"][from];
    let peer = topology::server_address(to);
    let verb = if add { "add" } else { "del" };
    lab.exec(
        host,
        "ip",
        &["route", verb, "blackhole", &format!("{peer}/32")],
    )
    .map(|_| ())
}

/// libfaketime, preloaded into a server whose clock is skewed.
const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// Restarts `s` with its wall clock `skew` seconds off (0: the true time).
fn restart_skewed(ours: &OurDhcpd, s: &mut Server, skew: i32) -> Result<()> {
    if skew != 0 && !std::path::Path::new(LIBFAKETIME).exists() {
        return Err(Error::NoResult(format!(
            "a clock-skew fault needs {LIBFAKETIME} (Debian package faketime)"
        )));
    }
    s.proc_.kill()?;
    let offset = format!("{skew:+}s");
    if skew == 0 {
        s.proc_.set_env(&[]);
    } else {
        s.proc_.set_env(&[
            ("LD_PRELOAD", LIBFAKETIME),
            ("FAKETIME", &offset),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ]);
    }
    ours.start_again(&mut s.proc_)
}

/// Write operations a second a slow disk allows the throttled server.
const SLOW_DISK_WRITE_IOPS: u32 = 8;

/// The blkio cgroup (v1) that throttles `host`'s writes during a slow-disk
/// fault.
fn slow_disk_cgroup(lab: &Lab, host: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("/sys/fs/cgroup/blkio/testbed-{}-{host}", lab.id()))
}

fn write_file(path: &std::path::Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::io(format!("write {}", path.display()), e))
}

/// Removes the slow-disk cgroups when dropped (their processes back in the
/// root cgroup first).
struct SlowDiskCgroups([std::path::PathBuf; 2]);

impl Drop for SlowDiskCgroups {
    fn drop(&mut self) {
        for cg in &self.0 {
            if let Ok(pids) = std::fs::read_to_string(cg.join("cgroup.procs")) {
                for pid in pids.lines() {
                    let _ = std::fs::write("/sys/fs/cgroup/blkio/cgroup.procs", pid);
                }
                let _ = std::fs::remove_dir(cg);
            }
        }
    }
}

/// Moves `s` into (`slow`) or out of a cgroup limiting its writes to the
/// disk of the lab's directory to [`SLOW_DISK_WRITE_IOPS`].
fn slow_disk(lab: &Lab, s: &Server, slow: bool) -> Result<()> {
    use std::os::unix::fs::MetadataExt as _;
    let cg = slow_disk_cgroup(lab, s.host);
    let root = std::path::Path::new("/sys/fs/cgroup/blkio");
    let pid = s.proc_.pid();
    if slow {
        if !root.join("blkio.throttle.write_iops_device").exists() {
            return Err(Error::NoResult(
                "a slow-disk fault needs the cgroup v1 blkio controller at /sys/fs/cgroup/blkio"
                    .into(),
            ));
        }
        let dev = std::fs::metadata(lab.dir())
            .map_err(|e| Error::io(format!("stat {}", lab.dir().display()), e))?
            .dev();
        std::fs::create_dir_all(&cg)
            .map_err(|e| Error::io(format!("create {}", cg.display()), e))?;
        let (major, minor) = (libc::major(dev), libc::minor(dev));
        write_file(
            &cg.join("blkio.throttle.write_iops_device"),
            &format!("{major}:{minor} {SLOW_DISK_WRITE_IOPS}"),
        )?;
        if let Some(pid) = pid {
            write_file(&cg.join("cgroup.procs"), &pid.to_string())?;
        }
    } else {
        if let Some(pid) = pid {
            write_file(&root.join("cgroup.procs"), &pid.to_string())?;
        }
        let _ = std::fs::remove_dir(&cg);
    }
    Ok(())
}

fn begin(
    lab: &Lab,
    held: &mut Held,
    ours: &OurDhcpd,
    servers: &mut [Server],
    fault: Fault,
) -> Result<()> {
    match fault {
        Fault::PartitionBoth => {
            route(lab, held, 0, 1, true)?;
            route(lab, held, 1, 0, true)
        }
        Fault::PartitionFrom(side) => {
            let (me, peer) = peer_of(side);
            route(lab, held, me, peer, true)
        }
        Fault::ClientLinkCut(side) => {
            held.cuts[side.index()] += 1;
            lab.cut_link(servers[side.index()].host, "eth0")
        }
        Fault::Kill(side) | Fault::KillEmptyStore(side) => {
            let s = &mut servers[side.index()];
            s.proc_.kill()?;
            s.down = true;
            if matches!(fault, Fault::KillEmptyStore(_)) {
                let store = lab.path(&format!("store-{}", s.host));
                std::fs::remove_dir_all(&store)
                    .map_err(|e| Error::io(format!("remove {}", store.display()), e))?;
            }
            Ok(())
        }
        Fault::ClockSkew(side, skew) => restart_skewed(ours, &mut servers[side.index()], skew),
        Fault::SlowDisk(side) => slow_disk(lab, &servers[side.index()], true),
    }
}

fn end(
    lab: &Lab,
    held: &mut Held,
    ours: &OurDhcpd,
    servers: &mut [Server],
    fault: Fault,
) -> Result<()> {
    match fault {
        Fault::PartitionBoth => {
            route(lab, held, 0, 1, false)?;
            route(lab, held, 1, 0, false)
        }
        Fault::PartitionFrom(side) => {
            let (me, peer) = peer_of(side);
            route(lab, held, me, peer, false)
        }
        Fault::ClientLinkCut(side) => {
            let n = &mut held.cuts[side.index()];
            *n = n.saturating_sub(1);
            if *n > 0 {
                return Ok(());
            }
            lab.restore_link(servers[side.index()].host, "eth0")
        }
        Fault::Kill(side) | Fault::KillEmptyStore(side) => {
            let s = &mut servers[side.index()];
            if s.down {
                ours.start_again(&mut s.proc_)?;
                s.down = false;
            }
            Ok(())
        }
        Fault::ClockSkew(side, _) => restart_skewed(ours, &mut servers[side.index()], 0),
        Fault::SlowDisk(side) => slow_disk(lab, &servers[side.index()], false),
    }
}

fn wait_normal(servers: &[Server], timeout: Duration) -> Result<()> {
    let procs: Vec<&Process> = servers.iter().map(|s| &s.proc_).collect();
    crate::demo::wait_all_normal(&procs, timeout)
}
