//! Two servers in a failover pair (split 128) serve simulated clients
//! between them. This is the harness for issue 5's interop tests.
//!
//! SERVERS UNDER TEST: ISC dhcpd as both primary and secondary for now; the
//! issue-5 tests pair ISC with our daemon (`OurDhcpd`) using the same
//! `FailoverSpec`.

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use std::time::Duration;

use testbed::isc::{IscLeaseFile, failover_states};
use testbed::server::{DhcpServer, FailoverRole, FailoverSpec, IscDhcpd, ServerSpec};
use testbed::sim::{Swarm, SwarmConfig};
use testbed::topology::{self, LabBuilder};

#[test]
fn isc_failover_pair_reaches_normal_and_shares_clients() {
    if !testbed::can_run_root_test("isc_failover_pair_reaches_normal_and_shares_clients") {
        return;
    }
    let lab = LabBuilder::new()
        .server("srv1")
        .server("srv2")
        .client("cli1")
        .build()
        .unwrap();
    let (a1, a2) = (topology::server_address(0), topology::server_address(1));
    let primary = ServerSpec::standard(a1)
        .with_lease_time(60, 60)
        .with_failover(FailoverSpec::new(FailoverRole::Primary, a1, a2));
    let secondary = ServerSpec::standard(a1)
        .with_lease_time(60, 60)
        .with_failover(FailoverSpec::new(FailoverRole::Secondary, a2, a1));
    let isc = IscDhcpd::default();
    let mut p = isc.start(&lab, "srv1", &primary).unwrap();
    let mut s = isc.start(&lab, "srv2", &secondary).unwrap();
    // ISC: first connection attempts are refused, the retry comes ~5 s later.
    p.wait_for_log(
        "I move from recover-done to normal",
        Duration::from_secs(30),
    )
    .or_else(|_| p.wait_for_log("Both servers normal", Duration::from_secs(1)))
    .unwrap();
    s.wait_for_log("to normal", Duration::from_secs(10))
        .unwrap();

    let mut cfg = SwarmConfig::new(40);
    cfg.client.initial_timeout = Duration::from_secs(1);
    cfg.client.renew = false;
    cfg.configure_addresses = false;
    cfg.deadline = Duration::from_secs(30);
    let report = Swarm::run(lab.namespace("cli1").unwrap(), cfg).unwrap();
    eprintln!("{}", report.summary_table("ISC failover pair, split 128"));
    assert_eq!(report.bound(), 40);
    assert!(report.duplicate_addresses().is_empty());
    let by_server = report.leases_by_server();
    assert!(
        by_server.get(&a1).copied().unwrap_or(0) > 0,
        "primary served some: {by_server:?}"
    );
    assert!(
        by_server.get(&a2).copied().unwrap_or(0) > 0,
        "secondary served some: {by_server:?}"
    );
    assert_eq!(
        report
            .timeline(Duration::from_secs(1))
            .iter()
            .flat_map(|m| m.values())
            .sum::<usize>(),
        40
    );

    // Both sides are NORMAL and their lease files agree on every client.
    assert_eq!(failover_states(&p.log_lines()).0.as_deref(), Some("normal"));
    assert_eq!(failover_states(&s.log_lines()).0.as_deref(), Some("normal"));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let a = IscLeaseFile::load(&IscDhcpd::lease_file(&lab, "srv1")).unwrap();
        let b = IscLeaseFile::load(&IscDhcpd::lease_file(&lab, "srv2")).unwrap();
        let agree = report.clients.iter().all(|c| {
            let l = c.lease.as_ref().unwrap();
            let mac = c
                .mac
                .iter()
                .map(|x| format!("{x:02x}"))
                .collect::<Vec<_>>()
                .join(":");
            [&a, &b]
                .iter()
                .all(|f| f.active().get(&l.address) == Some(&Some(mac.clone())))
        });
        if agree {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "lease files disagree");
        std::thread::sleep(Duration::from_millis(200));
    }
}
