//! Starvation limits under a random-MAC DISCOVER flood (issue 16): a rogue
//! relay agent on the server's link (giaddr 10.99.0.254) floods DISCOVERs
//! from random MACs while 40 PXE clients on the link itself boot, all from
//! one 60-address pool.
//!
//! * Without `[limits]`, the flood's offers hold the whole pool and the
//!   clients are starved (the test checks that fewer than half are served,
//!   so that the limit is what makes the difference).
//! * With `[limits.per_relay]` (10 new clients/s, burst 20, at most 25 % of
//!   the link), at least 99 % of the clients are served during the flood,
//!   and the refusals are counted by reason.
//!
//! `TESTBED_STARVATION_RATE` sets the flood rate in packets/s (default
//! 20,000; 0 sends as fast as one core can: line rate for the recorded
//! figure), `TESTBED_STARVATION_PACKETS` its length (default: enough for the
//! run).

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use dhcp_core::config::{LimitsConfig, SourceLimit};
use testbed::flood::{FloodConfig, flood};
use testbed::server::{self, OurDhcpd, ServerSpec};
use testbed::sim::{Swarm, SwarmConfig};
use testbed::stats::{DaemonStats, UdpCounters};
use testbed::topology::{self, LabBuilder};

const CLIENTS: usize = 40;
const ROGUE_RELAY: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 254);

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Run {
    served: usize,
    flood_sent: u64,
    flood_secs: f64,
    kernel_lost: u64,
    stats: DaemonStats,
}

fn run(limits: LimitsConfig) -> Run {
    let lab = LabBuilder::new()
        .server("srv1")
        .client("cli1")
        .client("noise")
        .build()
        .unwrap();
    let stats_file = lab.path("dhcpd-srv1.stats");
    let ours = OurDhcpd::new(server::default_our_binary()).with_stats_file(&stats_file);
    let mut spec = ServerSpec::standard(topology::server_address(0))
        .with_range(Ipv4Addr::new(10, 99, 0, 100), Ipv4Addr::new(10, 99, 0, 159));
    spec.limits = limits;
    let mut srv = testbed::server::DhcpServer::start(&ours, &lab, "srv1", &spec).unwrap();
    let udp_before = UdpCounters::read(&lab, "srv1").unwrap();

    let rate = env_u64("TESTBED_STARVATION_RATE", 20_000);
    let duration = 25;
    let packets = env_u64(
        "TESTBED_STARVATION_PACKETS",
        if rate == 0 {
            20_000_000
        } else {
            rate * duration
        },
    );
    let noise_ns = lab.namespace("noise").unwrap().to_owned();
    let stop_at = Instant::now() + Duration::from_secs(duration);
    let flooder = std::thread::spawn(move || {
        let mut cfg = FloodConfig::new(packets);
        cfg.rate = (rate > 0).then_some(rate);
        cfg.random_mac_discovers_via = Some(ROGUE_RELAY);
        cfg.stop_at = Some(stop_at);
        flood(&noise_ns, &cfg).unwrap()
    });
    // The flood has drained what it can before the clients start.
    std::thread::sleep(Duration::from_secs(2));
    let mut cfg = SwarmConfig::new(CLIENTS);
    cfg.client.initial_timeout = Duration::from_secs(1);
    cfg.client.renew = false;
    cfg.configure_addresses = false;
    cfg.start_spread = Duration::from_secs(2);
    cfg.deadline = Duration::from_secs(20);
    let report = Swarm::run(lab.namespace("cli1").unwrap(), cfg).unwrap();
    let still_flooding = !flooder.is_finished();
    let sent = flooder.join().unwrap();
    assert!(still_flooding, "the clients ran during the flood");
    assert!(report.duplicate_addresses().is_empty());
    srv.terminate(Duration::from_secs(10)).unwrap();
    let udp_after = UdpCounters::read(&lab, "srv1").unwrap();
    Run {
        served: report.bound(),
        flood_sent: sent.sent,
        flood_secs: sent.elapsed.as_secs_f64(),
        kernel_lost: udp_after.rcvbuf_errors - udp_before.rcvbuf_errors,
        stats: DaemonStats::load(&stats_file).unwrap(),
    }
}

fn print(label: &str, r: &Run) {
    if std::env::var_os("TESTBED_STARVATION_STATS").is_some() {
        eprintln!("{label}: {:?}", r.stats.values());
    }
    eprintln!(
        "{label}: {}/{CLIENTS} PXE clients served; flood {} DISCOVERs in {:.1} s ({:.0}/s), \
         {} lost in the kernel (the daemon counted {}); daemon: offers {}, rate_limited {}, share_limited {}, \
         pool_exhausted {}",
        r.served,
        r.flood_sent,
        r.flood_secs,
        r.flood_sent as f64 / r.flood_secs.max(0.001),
        r.kernel_lost,
        r.stats.get("kernel_receive_drops"),
        r.stats.get("sent.offer"),
        r.stats.get("ignored.rate_limited"),
        r.stats.get("ignored.share_limited"),
        r.stats.get("ignored.pool_exhausted"),
    );
}

#[test]
fn a_random_mac_flood_behind_one_relay_does_not_starve_the_link() {
    if !testbed::can_run_root_test("a_random_mac_flood_behind_one_relay_does_not_starve_the_link") {
        return;
    }
    let unlimited = run(LimitsConfig::default());
    print("without limits", &unlimited);
    assert!(
        unlimited.served < CLIENTS / 2,
        "the flood should starve an unprotected pool ({} served)",
        unlimited.served
    );

    let limits = LimitsConfig {
        per_relay: Some(SourceLimit {
            new_per_second: 10,
            burst: Some(20),
            max_share_percent: Some(25),
        }),
        ..LimitsConfig::default()
    };
    let limited = run(limits);
    print("with [limits.per_relay]", &limited);
    assert!(
        limited.served * 100 >= CLIENTS * 99,
        "{}/{CLIENTS} served",
        limited.served
    );
    assert!(
        limited.stats.get("ignored.share_limited") + limited.stats.get("ignored.rate_limited") > 0
    );
}
