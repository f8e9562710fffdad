//! Helpers shared by the `failover_*` tests: pair specs with short timers,
//! our daemon's failover state (from its `failover status:` log lines and its
//! control socket), lease databases (ours through the sled store after the
//! daemon stopped, ISC's leases file), TCP partitions with `tc`, and the
//! consistency checks.

#![allow(dead_code, clippy::unwrap_used)] // shared by several test binaries

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use dhcp_core::lease::{BindingState, Lease};
use dhcp_store::{LeaseStore, SledStore};
use testbed::isc::IscLeaseFile;
use testbed::lab::Lab;
use testbed::process::Process;
use testbed::server::{DhcpServer, FailoverRole, FailoverSpec, IscDhcpd, OurDhcpd, ServerSpec};
use testbed::sim::SwarmReport;
use testbed::topology;

/// Seconds of silence before a peer drops the link (short for tests).
pub const MAX_RESPONSE_DELAY: u32 = 6;
/// Seconds in COMMUNICATIONS-INTERRUPTED before PARTNER-DOWN.
pub const AUTO_PARTNER_DOWN: u32 = 3;

/// Which implementation runs one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    /// Our daemon.
    Ours,
    /// ISC dhcpd 4.4.
    Isc,
}

impl Impl {
    /// The server.
    pub fn server(self) -> Box<dyn DhcpServer> {
        match self {
            Impl::Ours => Box::new(OurDhcpd::new(testbed::server::default_our_binary())),
            Impl::Isc => Box::new(IscDhcpd::default()),
        }
    }
}

/// The specs of a pair: primary on srv1 (10.99.0.1), secondary on srv2
/// (10.99.0.2); split 128, mclt 60, short timers, range .10–.250 (each side
/// owns about half of it until PARTNER-DOWN + MCLT).
pub fn pair_specs(lease_time: u32, auto_partner_down: u32) -> (ServerSpec, ServerSpec) {
    let range = (Ipv4Addr::new(10, 99, 0, 10), Ipv4Addr::new(10, 99, 0, 250));
    let (a1, a2) = (topology::server_address(0), topology::server_address(1));
    let fo = |role, me, peer| {
        let mut f = FailoverSpec::new(role, me, peer);
        f.max_response_delay = MAX_RESPONSE_DELAY;
        f.auto_partner_down = auto_partner_down;
        f
    };
    let p = ServerSpec::standard(a1)
        .with_range(range.0, range.1)
        .with_lease_time(lease_time, lease_time)
        .with_failover(fo(FailoverRole::Primary, a1, a2));
    let s = ServerSpec::standard(a1)
        .with_range(range.0, range.1)
        .with_lease_time(lease_time, lease_time)
        .with_failover(fo(FailoverRole::Secondary, a2, a1));
    (p, s)
}

/// Our daemon's last `failover status:` line: (state, partner state).
pub fn our_states(p: &Process) -> (Option<String>, Option<String>) {
    testbed::demo::our_failover_states(&p.log_lines())
}

/// The current failover state of a server of either kind, from its log.
pub fn state_of(kind: Impl, p: &Process) -> Option<String> {
    match kind {
        Impl::Ours => our_states(p).0,
        Impl::Isc => testbed::isc::failover_states(&p.log_lines()).0,
    }
}

/// Waits until `p` (of kind `kind`) reports state `want`.
pub fn wait_state(kind: Impl, p: &Process, want: &str, timeout: Duration) {
    let end = Instant::now() + timeout;
    loop {
        let s = state_of(kind, p);
        if s.as_deref() == Some(want) {
            return;
        }
        assert!(
            Instant::now() < end,
            "{} did not reach {want} within {timeout:?} (last: {s:?})",
            p.name()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until every state `p` reports after log line `from` has been seen in
/// order (e.g. communications-interrupted then partner-down).
pub fn wait_states_in_order(
    kind: Impl,
    p: &Process,
    from: usize,
    want: &[&str],
    timeout: Duration,
) {
    let end = Instant::now() + timeout;
    loop {
        let lines = p.log_lines();
        let tail = lines.get(from..).unwrap_or_default();
        let seen: Vec<String> = states_seen(kind, tail);
        let mut it = seen.iter();
        if want.iter().all(|w| it.any(|s| s == w)) {
            return;
        }
        assert!(
            Instant::now() < end,
            "{} did not go through {want:?} within {timeout:?} (seen: {seen:?})",
            p.name()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every state a log shows, in order.
pub fn states_seen(kind: Impl, lines: &[String]) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for l in lines {
        let s = match kind {
            Impl::Ours => testbed::demo::our_failover_states(std::slice::from_ref(l)).0,
            Impl::Isc => testbed::isc::failover_states(std::slice::from_ref(l)).0,
        };
        if let Some(s) = s
            && v.last() != Some(&s)
        {
            v.push(s);
        }
    }
    v
}

/// Our daemon's failover relationship in `host`, from its control socket
/// (`failover-status`), as key → value (`state`, `partner_state`, `role`,
/// `connected`, `queued_updates`, `unacked_updates`).
pub fn our_status(lab: &Lab, host: &str) -> BTreeMap<String, String> {
    let r = &our_relationship_json(lab, host);
    let text = |x: &serde_json::Value| match x {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    [
        ("state", &r["local_state"]),
        ("partner_state", &r["partner_state"]),
        ("role", &r["role"]),
        ("connected", &r["connected"]),
        ("queued_updates", &r["pending_updates"]),
        ("unacked_updates", &r["unacked_updates"]),
    ]
    .into_iter()
    .map(|(k, x)| (k.to_owned(), text(x)))
    .collect()
}

/// The first relationship of our daemon in `host`, as its control socket's
/// `failover-status` answers it (JSON).
pub fn our_relationship_json(lab: &Lab, host: &str) -> serde_json::Value {
    use std::io::{BufRead, BufReader, Write};
    let sock = testbed::server::control_socket(lab, host);
    let mut s = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    s.write_all(b"{\"command\":\"failover-status\"}\n").unwrap();
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    v["result"]["relationships"][0].clone()
}

/// Waits until our daemon in `host` has no binding update outstanding.
pub fn wait_updates_settled(lab: &Lab, host: &str, timeout: Duration) {
    let end = Instant::now() + timeout;
    loop {
        let s = our_status(lab, host);
        if s.get("queued_updates").map(String::as_str) == Some("0")
            && s.get("unacked_updates").map(String::as_str) == Some("0")
        {
            return;
        }
        assert!(Instant::now() < end, "updates of {host} not settled: {s:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A lease database reduced to what both implementations record: address →
/// (binding state, MAC of an active binding).
pub type Bindings = BTreeMap<Ipv4Addr, (String, Option<String>)>;

fn mac_text(m: &[u8]) -> String {
    m.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn state_text(s: BindingState) -> String {
    match s {
        BindingState::Free => "free",
        BindingState::Active => "active",
        BindingState::Expired => "expired",
        BindingState::Released => "released",
        BindingState::Abandoned => "abandoned",
        BindingState::Reset => "reset",
        BindingState::Backup => "backup",
    }
    .to_owned()
}

/// Our lease store of `host` (read after the daemon stopped: sled locks it).
pub fn our_leases(lab: &Lab, host: &str) -> Vec<Lease> {
    SledStore::open(&lab.path(&format!("store-{host}")))
        .unwrap()
        .load()
        .unwrap()
}

/// Our store as [`Bindings`].
pub fn our_bindings(lab: &Lab, host: &str) -> Bindings {
    our_leases(lab, host)
        .into_iter()
        .map(|l| {
            let mac = (l.state == BindingState::Active)
                .then(|| l.hw.as_ref().map(|h| mac_text(&h.addr)))
                .flatten();
            (l.addr, (state_text(l.state), mac))
        })
        .collect()
}

/// ISC's leases file of `host` as [`Bindings`].
pub fn isc_bindings(lab: &Lab, host: &str) -> Bindings {
    let f = IscLeaseFile::load(&IscDhcpd::lease_file(lab, host)).unwrap();
    f.leases
        .iter()
        .map(|(a, l)| {
            let mac = l.is_active().then(|| l.hardware.clone()).flatten();
            (*a, (l.binding_state.clone(), mac))
        })
        .collect()
}

/// The bindings of one side.
pub fn bindings(kind: Impl, lab: &Lab, host: &str) -> Bindings {
    match kind {
        Impl::Ours => our_bindings(lab, host),
        Impl::Isc => isc_bindings(lab, host),
    }
}

/// Address → MAC of the active bindings.
pub fn active(b: &Bindings) -> BTreeMap<Ipv4Addr, String> {
    b.iter()
        .filter_map(|(a, (_, m))| m.clone().map(|m| (*a, m)))
        .collect()
}

/// Every client's lease is active for its MAC in `b`.
pub fn clients_recorded(report: &SwarmReport, b: &Bindings) -> Result<(), String> {
    let act = active(b);
    for c in &report.clients {
        let Some(l) = &c.lease else { continue };
        let mac = mac_text(&c.mac);
        if act.get(&l.address) != Some(&mac) {
            return Err(format!(
                "client {mac} holds {} but the database has {:?}",
                l.address,
                b.get(&l.address)
            ));
        }
    }
    Ok(())
}

/// No MAC is active on two addresses and no client holds an address the
/// database binds to another MAC.
pub fn no_double_binding(report: &SwarmReport, b: &Bindings) {
    let act = active(b);
    let mut by_mac: BTreeMap<&String, Vec<Ipv4Addr>> = BTreeMap::new();
    for (a, m) in &act {
        by_mac.entry(m).or_default().push(*a);
    }
    for (m, v) in &by_mac {
        assert!(v.len() == 1, "{m} bound to several addresses: {v:?}");
    }
    assert!(
        report.duplicate_addresses().is_empty(),
        "clients share addresses"
    );
    for c in &report.clients {
        if let Some(l) = &c.lease
            && let Some(m) = act.get(&l.address)
        {
            assert_eq!(
                *m,
                mac_text(&c.mac),
                "{} bound to another client",
                l.address
            );
        }
    }
}

/// Partitions the two servers from each other (a blackhole route to the
/// partner's address in each; DHCP to clients keeps working).
pub fn partition(lab: &Lab) {
    let (a1, a2) = (topology::server_address(0), topology::server_address(1));
    for (host, peer) in [("srv1", a2), ("srv2", a1)] {
        lab.exec(
            host,
            "ip",
            &["route", "add", "blackhole", &format!("{peer}/32")],
        )
        .unwrap();
    }
}

/// Heals [`partition`].
pub fn heal(lab: &Lab) {
    let (a1, a2) = (topology::server_address(0), topology::server_address(1));
    for (host, peer) in [("srv1", a2), ("srv2", a1)] {
        lab.exec(
            host,
            "ip",
            &["route", "del", "blackhole", &format!("{peer}/32")],
        )
        .unwrap();
    }
}

// ------------------------------------------------------------------ scenarios

use testbed::sim::{ClientEvent, Swarm, SwarmConfig, Until};

/// Which side a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// srv1.
    Primary,
    /// srv2.
    Secondary,
}
use testbed::topology::LabBuilder;

/// A lab with srv1, srv2 and cli1.
pub fn pair_lab() -> Lab {
    LabBuilder::new()
        .server("srv1")
        .server("srv2")
        .client("cli1")
        .build()
        .unwrap()
}

/// The running pair.
pub struct Pair {
    /// Primary kind.
    pub pk: Impl,
    /// Secondary kind.
    pub sk: Impl,
    /// Primary process (srv1).
    pub p: Process,
    /// Secondary process (srv2).
    pub s: Process,
    /// Primary's server.
    pub ps: Box<dyn DhcpServer>,
    /// Secondary's server.
    pub ss: Box<dyn DhcpServer>,
}

impl Pair {
    /// Starts both (primary first) and waits for NORMAL on both sides.
    pub fn start(lab: &Lab, pk: Impl, sk: Impl, lease_time: u32, auto_pd: u32) -> Pair {
        let (pspec, sspec) = pair_specs(lease_time, auto_pd);
        let (ps, ss) = (pk.server(), sk.server());
        let p = ps.start(lab, "srv1", &pspec).unwrap();
        let s = ss.start(lab, "srv2", &sspec).unwrap();
        let pair = Pair {
            pk,
            sk,
            p,
            s,
            ps,
            ss,
        };
        pair.wait_normal(Duration::from_secs(40));
        pair
    }

    /// Waits until both sides report NORMAL.
    pub fn wait_normal(&self, timeout: Duration) {
        wait_state(self.pk, &self.p, "normal", timeout);
        wait_state(self.sk, &self.s, "normal", timeout);
    }

    /// Waits until pending binding updates are exchanged (ours: queue empty;
    /// ISC: a fixed pause).
    pub fn settle(&self, lab: &Lab) {
        for (k, host) in [(self.pk, "srv1"), (self.sk, "srv2")] {
            if k == Impl::Ours {
                wait_updates_settled(lab, host, Duration::from_secs(20));
            }
        }
        std::thread::sleep(Duration::from_secs(2));
    }

    /// Stops both (SIGTERM) and returns (primary, secondary) bindings.
    pub fn stop_and_read(&mut self, lab: &Lab) -> (Bindings, Bindings) {
        self.p.terminate(Duration::from_secs(10)).unwrap();
        self.s.terminate(Duration::from_secs(10)).unwrap();
        (
            bindings(self.pk, lab, "srv1"),
            bindings(self.sk, lab, "srv2"),
        )
    }
}

/// A swarm configuration: `n` clients from MAC counter `first`, 1 s first
/// retransmission, optional renewals.
pub fn swarm_cfg(n: usize, first: u32, renew: bool) -> SwarmConfig {
    let mut cfg = SwarmConfig::new(n);
    cfg.first_mac = first;
    cfg.client.initial_timeout = Duration::from_secs(1);
    cfg.client.renew = renew;
    cfg.configure_addresses = renew;
    cfg.deadline = Duration::from_secs(40);
    cfg
}

/// Both reach NORMAL; 40 clients are served by both sides by the hash; the
/// secondary holds BACKUP leases; the databases agree on every client.
pub fn scenario_normal(pk: Impl, sk: Impl) {
    let lab = pair_lab();
    let mut pair = Pair::start(&lab, pk, sk, 300, AUTO_PARTNER_DOWN);
    let report = Swarm::run(lab.namespace("cli1").unwrap(), swarm_cfg(40, 1, false)).unwrap();
    eprintln!(
        "{}",
        report.summary_table(&format!("{pk:?} primary + {sk:?} secondary"))
    );
    assert_eq!(report.bound(), 40);
    assert!(report.duplicate_addresses().is_empty());
    let by = report.leases_by_server();
    let (a1, a2) = (topology::server_address(0), topology::server_address(1));
    assert!(
        by.get(&a1).copied().unwrap_or(0) > 0,
        "primary served none: {by:?}"
    );
    assert!(
        by.get(&a2).copied().unwrap_or(0) > 0,
        "secondary served none: {by:?}"
    );
    pair.settle(&lab);
    pair.wait_normal(Duration::from_secs(5));
    let (pb, sb) = pair.stop_and_read(&lab);
    clients_recorded(&report, &pb).unwrap();
    clients_recorded(&report, &sb).unwrap();
    assert_eq!(active(&pb), active(&sb), "active bindings differ");
    let backups = sb.values().filter(|(st, _)| st == "backup").count();
    assert!(backups > 0, "the secondary holds no BACKUP lease");
    no_double_binding(&report, &pb);
    no_double_binding(&report, &sb);
}

/// The longest DISCOVER-to-ACK wait of first binds (renewals excluded).
pub fn longest_bind_wait(report: &SwarmReport) -> Duration {
    testbed::sim::longest_bind_wait(&report.events)
}

/// SIGKILL one side while 60 clients boot and renew (20 s leases): the other
/// keeps renewing and binds new clients with no gap; restart → resync →
/// NORMAL with equal bindings on both sides. With `auto_pd` the survivor goes
/// PARTNER-DOWN and the restarted side passes RECOVER (and waits out MCLT in
/// RECOVER-WAIT); without, the survivor stays COMMUNICATIONS-INTERRUPTED and
/// the restarted side resumes NORMAL and sends its queued updates.
pub fn scenario_kill_restart(pk: Impl, sk: Impl, victim: Side, auto_pd: bool) {
    let lab = pair_lab();
    let apd = if auto_pd { AUTO_PARTNER_DOWN } else { 0 };
    let mut pair = Pair::start(&lab, pk, sk, 20, apd);
    let mut cfg = swarm_cfg(60, 1, true);
    cfg.start_spread = Duration::from_secs(12);
    cfg.until = Until::Stopped;
    cfg.deadline = Duration::from_secs(90);
    let swarm = Swarm::spawn(lab.namespace("cli1").unwrap(), cfg).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let (survivor_kind, _) = match victim {
        Side::Primary => (sk, pk),
        Side::Secondary => (pk, sk),
    };
    let mark = match victim {
        Side::Primary => pair.s.log_len(),
        Side::Secondary => pair.p.log_len(),
    };
    {
        let v = match victim {
            Side::Primary => &mut pair.p,
            Side::Secondary => &mut pair.s,
        };
        let status = v.kill().unwrap().unwrap();
        assert_eq!(testbed::process::describe(status), "signal 9");
    }
    let killed_at = swarm.started().elapsed();
    let survivor = match victim {
        Side::Primary => &pair.s,
        Side::Secondary => &pair.p,
    };
    wait_states_in_order(
        survivor_kind,
        survivor,
        mark,
        &["communications-interrupted"],
        Duration::from_secs(15),
    );
    // New clients keep arriving (spread) and renewals go on for 12 s.
    std::thread::sleep(Duration::from_secs(12));
    let restart_mark = {
        let (v, server) = match victim {
            Side::Primary => (&mut pair.p, &pair.ps),
            Side::Secondary => (&mut pair.s, &pair.ss),
        };
        let from = v.log_len();
        server.start_again(v).unwrap();
        from
    };
    let restarted_at = swarm.started().elapsed();
    if auto_pd {
        let (v, k) = match victim {
            Side::Primary => (&pair.p, pk),
            Side::Secondary => (&pair.s, sk),
        };
        wait_states_in_order(k, v, restart_mark, &["recover"], Duration::from_secs(30));
    }
    pair.wait_normal(Duration::from_secs(90));
    let normal_at = swarm.started().elapsed();
    std::thread::sleep(Duration::from_secs(3));
    let report = swarm.stop().unwrap();
    eprintln!(
        "{}",
        report.summary_table(&format!("{pk:?}+{sk:?}, {victim:?} SIGKILLed"))
    );
    eprintln!(
        "killed at {killed_at:?}, restarted at {restarted_at:?}, both normal at {normal_at:?}; \
         longest first-bind wait {:?}, longest wait {:?}",
        longest_bind_wait(&report),
        report.longest_wait()
    );
    eprintln!("{}", report.timeline_table());
    assert_eq!(report.failures(), 0);
    assert_eq!(report.bound(), 60, "every client holds a lease at the end");
    assert!(report.duplicate_addresses().is_empty());
    assert!(report.renewals() > 0, "clients renewed");
    assert!(
        longest_bind_wait(&report) <= Duration::from_secs(4),
        "a client waited {:?} for its first lease",
        longest_bind_wait(&report)
    );
    // Binds happened while the victim was down.
    let during = report
        .events
        .iter()
        .filter(|e| {
            matches!(
                e.event,
                ClientEvent::Bound { .. } | ClientEvent::Renewed { .. }
            ) && e.at > killed_at
                && e.at < restarted_at
        })
        .count();
    assert!(during > 0, "nothing granted while the partner was down");
    pair.settle(&lab);
    let (pb, sb) = pair.stop_and_read(&lab);
    assert_eq!(
        active(&pb),
        active(&sb),
        "active bindings differ after resync"
    );
    clients_recorded(&report, &pb).unwrap();
    clients_recorded(&report, &sb).unwrap();
    no_double_binding(&report, &pb);
    no_double_binding(&report, &sb);
}

/// TCP partition between the peers while both serve clients:
/// COMMUNICATIONS-INTERRUPTED → PARTNER-DOWN (auto-partner-down) → heal →
/// POTENTIAL-CONFLICT → resolution → NORMAL; no address bound twice, and the
/// databases agree on every client.
pub fn scenario_partition(pk: Impl, sk: Impl) {
    let lab = pair_lab();
    let mut pair = Pair::start(&lab, pk, sk, 300, AUTO_PARTNER_DOWN);
    let first = Swarm::run(lab.namespace("cli1").unwrap(), swarm_cfg(20, 1, false)).unwrap();
    assert_eq!(first.bound(), 20);
    let (pm, sm) = (pair.p.log_len(), pair.s.log_len());
    partition(&lab);
    let seq = ["communications-interrupted", "partner-down"];
    let t = Duration::from_secs(u64::from(MAX_RESPONSE_DELAY + AUTO_PARTNER_DOWN) + 15);
    wait_states_in_order(pk, &pair.p, pm, &seq, t);
    wait_states_in_order(sk, &pair.s, sm, &seq, t);
    // Both serve new clients while partitioned.
    let second = Swarm::run(lab.namespace("cli1").unwrap(), swarm_cfg(20, 1000, false)).unwrap();
    eprintln!("{}", second.summary_table("clients during the partition"));
    assert_eq!(second.bound(), 20);
    assert!(second.duplicate_addresses().is_empty());
    heal(&lab);
    let after = ["potential-conflict", "normal"];
    wait_states_in_order(pk, &pair.p, pm, &after, Duration::from_secs(60));
    wait_states_in_order(sk, &pair.s, sm, &["normal"], Duration::from_secs(60));
    pair.wait_normal(Duration::from_secs(30));
    pair.settle(&lab);
    let (pb, sb) = pair.stop_and_read(&lab);
    assert_eq!(
        active(&pb),
        active(&sb),
        "active bindings differ after resolution"
    );
    for r in [&first, &second] {
        clients_recorded(r, &pb).unwrap();
        clients_recorded(r, &sb).unwrap();
        no_double_binding(r, &pb);
        no_double_binding(r, &sb);
    }
}
