//! The server survives a flood of random and malformed packets on port 67,
//! keeps serving clients while it lasts, and (our daemon) counts the drops.
//!
//! SERVER UNDER TEST: our daemon (binary from `TESTBED_DHCPD` or next to the
//! test executable), started with `--stats-file`; `TESTBED_SERVER=isc` runs
//! the survival part against ISC dhcpd. 100,000 packets by default
//! (`TESTBED_FLOOD_PACKETS`), paced at 20,000 per second.

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use std::time::Duration;

use testbed::flood::{FloodConfig, GarbageKind, flood};
use testbed::server::{self, DhcpServer, OurDhcpd, ServerSpec};
use testbed::sim::{Swarm, SwarmConfig};
use testbed::stats::{DaemonStats, UdpCounters};
use testbed::topology::{self, LabBuilder};

#[test]
fn server_survives_garbage_flood_and_keeps_serving() {
    if !testbed::can_run_root_test("server_survives_garbage_flood_and_keeps_serving") {
        return;
    }
    let lab = LabBuilder::new()
        .server("srv1")
        .client("cli1")
        .client("noise")
        .build()
        .unwrap();
    let isc = std::env::var("TESTBED_SERVER").as_deref() == Ok("isc");
    let stats_file = lab.path("dhcpd-srv1.stats");
    let server: Box<dyn DhcpServer> = if isc {
        server::from_env()
    } else {
        Box::new(OurDhcpd::new(server::default_our_binary()).with_stats_file(&stats_file))
    };
    let mut srv = server
        .start(
            &lab,
            "srv1",
            &ServerSpec::standard(topology::server_address(0)),
        )
        .unwrap();
    let packets: u64 = std::env::var("TESTBED_FLOOD_PACKETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let udp_before = UdpCounters::read(&lab, "srv1").unwrap();
    let noise_ns = lab.namespace("noise").unwrap().to_owned();
    let flooder = std::thread::spawn(move || {
        let mut cfg = FloodConfig::new(packets);
        cfg.rate = Some(20_000);
        flood(&noise_ns, &cfg).unwrap()
    });
    // Clients boot while the flood runs.
    std::thread::sleep(Duration::from_millis(200));
    let mut cfg = SwarmConfig::new(20);
    cfg.client.initial_timeout = Duration::from_secs(1);
    cfg.client.renew = false;
    cfg.configure_addresses = false;
    cfg.deadline = Duration::from_secs(30);
    let report = Swarm::run(lab.namespace("cli1").unwrap(), cfg).unwrap();
    let still_flooding = !flooder.is_finished();
    let sent = flooder.join().unwrap();
    eprintln!("flood: {sent:?}; clients finished while flooding: {still_flooding}");
    eprintln!("{}", report.summary_table("clients during the flood"));
    assert_eq!(sent.sent + sent.send_errors, packets);
    assert!(sent.sent > packets * 9 / 10, "{sent:?}");
    assert!(
        still_flooding,
        "the clients were served while the flood lasted"
    );
    assert_eq!(
        report.bound(),
        20,
        "every client got a lease during the flood"
    );
    assert!(report.duplicate_addresses().is_empty());
    assert!(srv.is_running(), "server survived");
    // And it still serves after the flood.
    let mut after = SwarmConfig::new(1);
    after.first_mac = 1000;
    after.client.initial_timeout = Duration::from_secs(1);
    after.configure_addresses = false;
    after.deadline = Duration::from_secs(10);
    assert_eq!(
        Swarm::run(lab.namespace("cli1").unwrap(), after)
            .unwrap()
            .bound(),
        1
    );
    if isc {
        return;
    }
    // Our daemon's own accounting: stop it (SIGTERM writes the stats file).
    let status = srv.terminate(Duration::from_secs(10)).unwrap();
    assert!(
        status.is_some_and(|s| s.success()),
        "clean exit on SIGTERM: {status:?}"
    );
    let udp_after = UdpCounters::read(&lab, "srv1").unwrap();
    let stats = DaemonStats::load(&stats_file).unwrap();
    let random_requests = sent.by_kind[GarbageKind::ALL
        .iter()
        .position(|k| *k == GarbageKind::RandomRequest)
        .unwrap()];
    let malformed = sent.sent.saturating_sub(random_requests);
    let kernel_lost = udp_after.rcvbuf_errors - udp_before.rcvbuf_errors;
    let dropped = stats.get("dropped");
    eprintln!(
        "malformed sent {malformed}, random REQUESTs {random_requests}, lost in the kernel \
         {kernel_lost} ({udp_before:?} -> {udp_after:?}); daemon: {:?}",
        stats.values()
    );
    // Every malformed packet that reached the daemon is counted as a drop:
    // the drops lie between (malformed − what the kernel lost) and malformed.
    let reached_at_least = malformed.saturating_sub(kernel_lost);
    assert!(
        dropped <= malformed && dropped + malformed / 100 >= reached_at_least,
        "dropped {dropped}, malformed sent {malformed}, lost by the kernel {kernel_lost}"
    );
    assert_eq!(
        stats.get("received"),
        dropped + stats.sum("request."),
        "every datagram received was either dropped or handled"
    );
    assert!(
        dropped >= malformed / 2,
        "most malformed packets reached the daemon"
    );
    assert_eq!(
        stats.get("drop.queue_full"),
        0,
        "no overload drops at this rate"
    );
}
