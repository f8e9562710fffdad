//! A client behind a relay host (ISC dhcrelay) gets a lease from the relayed
//! subnet.
//!
//! SERVER UNDER TEST: ISC dhcpd for now (`testbed::server::from_env()`);
//! set `TESTBED_SERVER=ours` (and `TESTBED_DHCPD=PATH`) to run against our daemon.

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use std::time::Duration;

use testbed::real_clients::{RealClient, obtain_lease};
use testbed::relay::start_dhcrelay;
use testbed::server::{self, ServerSpec};
use testbed::sim::{ReceivePath, Swarm, SwarmConfig};
use testbed::topology::{self, LabBuilder};

#[test]
fn relayed_clients_get_leases_from_the_relayed_subnet() {
    if !testbed::can_run_root_test("relayed_clients_get_leases_from_the_relayed_subnet") {
        return;
    }
    let lab = LabBuilder::new()
        .server("srv1")
        .client("cli1")
        .relayed_client("rcl1")
        .relayed_client("rcl2")
        .build()
        .unwrap();
    let server = server::from_env();
    let spec = ServerSpec::standard(topology::server_address(0)).with_relayed_subnet();
    let mut srv = server.start(&lab, "srv1", &spec).unwrap();
    let _relay = start_dhcrelay(&lab, &[topology::server_address(0)]).unwrap();

    // A real client behind the relay.
    let lease = obtain_lease(
        &lab,
        "rcl1",
        "eth0",
        RealClient::Udhcpc,
        Duration::from_secs(20),
    )
    .unwrap();
    assert!(
        topology::client_net().contains(&lease.address),
        "relayed client got {} outside {}",
        lease.address,
        topology::client_net()
    );
    assert_eq!(lease.router, Some(topology::RELAY_CLIENT_SIDE));
    assert_eq!(lease.server_id, Some(topology::server_address(0)));

    // Simulated PXE clients behind the relay.
    let mut cfg = SwarmConfig::new(5);
    cfg.client.initial_timeout = Duration::from_secs(1);
    cfg.deadline = Duration::from_secs(20);
    cfg.configure_addresses = false;
    // Read replies from the UDP socket (the other receive path).
    cfg.receive = ReceivePath::Udp;
    let report = Swarm::run(lab.namespace("rcl2").unwrap(), cfg).unwrap();
    assert_eq!(report.bound(), 5);
    for c in &report.clients {
        let l = c.lease.as_ref().unwrap();
        assert!(topology::client_net().contains(&l.address), "{}", l.address);
        assert_ne!(l.address, lease.address);
    }

    // A client on the server segment still gets a local address.
    let local = obtain_lease(
        &lab,
        "cli1",
        "eth0",
        RealClient::Udhcpc,
        Duration::from_secs(20),
    )
    .unwrap();
    assert!(topology::server_net().contains(&local.address));

    // ISC logs the relay's giaddr for relayed requests.
    if server.name() == "isc" {
        srv.wait_for_log(
            &format!("via {}", topology::RELAY_CLIENT_SIDE),
            Duration::from_secs(1),
        )
        .unwrap();
    }
    assert!(srv.is_running());
}
