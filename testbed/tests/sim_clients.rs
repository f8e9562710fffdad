//! Simulated PXE clients against the server under test.
//!
//! SERVER UNDER TEST: our daemon (`testbed::server::from_env()`, binary from
//! `TESTBED_DHCPD` or next to the test executable); `TESTBED_SERVER=isc` runs
//! the same test against ISC dhcpd.

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use std::collections::HashSet;
use std::time::Duration;

use testbed::capture::Capture;
use testbed::server::{self, ServerSpec};
use testbed::sim::{Swarm, SwarmConfig, Until};
use testbed::topology::{self, LabBuilder};

#[test]
fn two_hundred_pxe_clients_get_distinct_leases() {
    if !testbed::can_run_root_test("two_hundred_pxe_clients_get_distinct_leases") {
        return;
    }
    let lab = LabBuilder::server_and_client().build().unwrap();
    let server = server::from_env();
    let spec = ServerSpec::standard(topology::server_address(0)).with_range(
        "10.99.0.10".parse().unwrap(),
        "10.99.0.250".parse().unwrap(),
    );
    let _srv = server.start(&lab, "srv1", &spec).unwrap();

    let mut cfg = SwarmConfig::new(200);
    cfg.client.initial_timeout = Duration::from_secs(2);
    cfg.client.renew = false;
    cfg.configure_addresses = false;
    cfg.deadline = Duration::from_secs(60);
    let report = Swarm::run(lab.namespace("cli1").unwrap(), cfg).unwrap();
    eprintln!(
        "{}",
        report.summary_table(&format!("200 clients vs {}", server.name()))
    );

    assert_eq!(report.bound(), 200, "every client bound");
    assert_eq!(report.failures(), 0);
    assert!(report.duplicate_addresses().is_empty());
    let addrs: HashSet<_> = report
        .clients
        .iter()
        .map(|c| c.lease.as_ref().unwrap().address)
        .collect();
    assert_eq!(addrs.len(), 200);
    for c in &report.clients {
        let l = c.lease.as_ref().unwrap();
        assert!(topology::server_net().contains(&l.address));
        assert_eq!(l.server, topology::server_address(0));
        assert_eq!(l.next_server, topology::server_address(0));
        assert_eq!(l.boot_file.as_deref(), Some("pxelinux.0"));
    }
}

#[test]
fn pxe_clients_without_broadcast_flag_get_unicast_replies() {
    if !testbed::can_run_root_test("pxe_clients_without_broadcast_flag_get_unicast_replies") {
        return;
    }
    let lab = LabBuilder::server_and_client().build().unwrap();
    let server = server::from_env();
    let _srv = server
        .start(
            &lab,
            "srv1",
            &ServerSpec::standard(topology::server_address(0)),
        )
        .unwrap();
    let capture =
        Capture::start(&lab, topology::SERVER_SEGMENT, "udp port 67 or udp port 68").unwrap();
    let mut cfg = SwarmConfig::new(50);
    cfg.client.broadcast_flag = false;
    cfg.client.initial_timeout = Duration::from_secs(1);
    cfg.client.renew = false;
    cfg.configure_addresses = false;
    cfg.deadline = Duration::from_secs(30);
    let report = Swarm::run(lab.namespace("cli1").unwrap(), cfg.clone()).unwrap();
    assert_eq!(report.bound(), 50);
    assert!(report.duplicate_addresses().is_empty());
    // Every OFFER and ACK went to the client's own MAC, none by broadcast.
    let frames = capture.stop();
    let replies: Vec<_> = frames.iter().filter(|f| f.op == "Reply").collect();
    assert!(replies.len() >= 100, "{} replies", replies.len());
    assert!(
        replies.iter().all(|f| !f.is_broadcast()),
        "a reply was broadcast"
    );
    let macs: HashSet<String> = (0..50)
        .map(|i| {
            cfg.mac(i)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":")
        })
        .collect();
    assert!(replies.iter().all(|f| macs.contains(&f.eth_dst)));
}

#[test]
fn simulated_clients_renew_by_unicast() {
    if !testbed::can_run_root_test("simulated_clients_renew_by_unicast") {
        return;
    }
    let lab = LabBuilder::server_and_client().build().unwrap();
    let server = server::from_env();
    // 4 s leases: T1 at 2 s, so a renewal fits well within 5 s.
    let spec = ServerSpec::standard(topology::server_address(0)).with_lease_time(4, 4);
    let _srv = server.start(&lab, "srv1", &spec).unwrap();
    let capture =
        Capture::start(&lab, topology::SERVER_SEGMENT, "udp port 67 or udp port 68").unwrap();

    let mut cfg = SwarmConfig::new(10);
    cfg.client.initial_timeout = Duration::from_secs(1);
    cfg.until = Until::Stopped;
    cfg.deadline = Duration::from_secs(5);
    let report = Swarm::run(lab.namespace("cli1").unwrap(), cfg).unwrap();
    eprintln!("{}", report.summary_table("renewals"));
    assert_eq!(report.bound(), 10);
    for c in &report.clients {
        assert!(
            c.counters.renewals >= 1,
            "client {} renewed {} times ({:?})",
            c.index,
            c.counters.renewals,
            c.counters
        );
        assert_eq!(c.counters.restarts, 0, "client {} lost its lease", c.index);
    }
    // Renewals went by unicast from the client's address to the server, and
    // were answered by unicast.
    let frames = capture.stop();
    let to_server = format!(".68 > {}.67", topology::server_address(0));
    let unicast_requests = frames
        .iter()
        .filter(|f| f.op == "Request" && f.ip.starts_with("10.99.0.") && f.ip.ends_with(&to_server))
        .count();
    assert!(
        unicast_requests >= 10,
        "unicast renewals seen: {unicast_requests}"
    );
    let unicast_replies = frames
        .iter()
        .filter(|f| f.op == "Reply" && !f.is_broadcast() && !f.ip.contains("255.255.255.255"))
        .count();
    assert!(
        unicast_replies >= 10,
        "unicast renewal ACKs seen: {unicast_replies}"
    );
}
