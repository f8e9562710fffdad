//! The server is SIGKILLed in the middle of a client storm and started again
//! (same configuration and lease file); every client still gets a lease, by
//! retransmitting. This is the supervision pattern of issue 5's failover demo.
//!
//! SERVER UNDER TEST: our daemon (`testbed::server::from_env()`, binary from
//! `TESTBED_DHCPD` or next to the test executable); `TESTBED_SERVER=isc` runs
//! the same test against ISC dhcpd.

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use std::time::Duration;

use testbed::server::{self, ServerSpec};
use testbed::sim::{ClientEvent, Swarm, SwarmConfig};
use testbed::topology::{self, LabBuilder};

#[test]
fn clients_get_leases_across_a_server_kill_and_restart() {
    if !testbed::can_run_root_test("clients_get_leases_across_a_server_kill_and_restart") {
        return;
    }
    let lab = LabBuilder::server_and_client().build().unwrap();
    let server = server::from_env();
    let spec = ServerSpec::standard(topology::server_address(0));
    let mut srv = server.start(&lab, "srv1", &spec).unwrap();

    let mut cfg = SwarmConfig::new(60);
    cfg.client.initial_timeout = Duration::from_secs(1);
    cfg.client.renew = false;
    cfg.configure_addresses = false;
    cfg.start_spread = Duration::from_secs(2);
    cfg.deadline = Duration::from_secs(30);
    let swarm = Swarm::spawn(lab.namespace("cli1").unwrap(), cfg).unwrap();

    std::thread::sleep(Duration::from_millis(600));
    let old_pid = srv.pid().unwrap();
    let status = srv.kill().unwrap().unwrap();
    assert_eq!(testbed::process::describe(status), "signal 9");
    let killed_at = swarm.started().elapsed();
    let bound_before = swarm.bound();
    std::thread::sleep(Duration::from_millis(1000));
    server.start_again(&mut srv).unwrap();
    assert_ne!(srv.pid().unwrap(), old_pid);
    let restarted_at = swarm.started().elapsed();

    let report = swarm.wait().unwrap();
    eprintln!(
        "{}",
        report.summary_table("60 clients across a server kill")
    );
    eprintln!("killed at {killed_at:?} with {bound_before} bound");
    assert!(
        bound_before > 0 && bound_before < 60,
        "kill happened mid-storm"
    );
    assert_eq!(report.bound(), 60);
    assert!(report.duplicate_addresses().is_empty());
    // Some clients had to wait out the outage.
    assert!(report.retransmitting_clients() > 0);
    let bound_at = |from: Duration, to: Duration| {
        report
            .events
            .iter()
            .filter(|e| matches!(e.event, ClientEvent::Bound { .. }) && e.at > from && e.at <= to)
            .count()
    };
    // Nothing was granted while the server was down, the rest after the restart.
    let settle = Duration::from_millis(100);
    assert_eq!(bound_at(killed_at + settle, restarted_at), 0);
    assert!(bound_at(restarted_at, Duration::MAX) > 0);
}
