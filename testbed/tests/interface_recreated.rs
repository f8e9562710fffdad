//! The server's interface is deleted and created again under the running
//! daemon (as when the network configuration recreates a VLAN or bridge): the
//! same name and address, a new kernel index. A socket bound to the old index
//! hears nothing more; the daemon notices and binds again, and clients get
//! leases on the new interface without a restart.
//!
//! SERVER UNDER TEST: our daemon only (this is about its socket handling).

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use std::time::Duration;

use testbed::real_clients::{RealClient, obtain_lease};
use testbed::server::{OurDhcpd, ServerSpec, default_our_binary};
use testbed::topology::{self, LabBuilder};

#[test]
fn server_serves_an_interface_deleted_and_created_again() {
    if !testbed::can_run_root_test("server_serves_an_interface_deleted_and_created_again") {
        return;
    }
    let lab = LabBuilder::server_and_client().build().unwrap();
    let spec = ServerSpec::standard(topology::server_address(0));
    let server = OurDhcpd::new(default_our_binary());
    let mut srv = testbed::server::DhcpServer::start(&server, &lab, "srv1", &spec).unwrap();
    let t = Duration::from_secs(30);
    let before = obtain_lease(&lab, "cli1", "eth0", RealClient::Udhcpc, t).unwrap();

    lab.recreate_interface("srv1", "eth0").unwrap();
    // The daemon re-reads interfaces every 5 s; udhcpc retries meanwhile.
    let after = obtain_lease(&lab, "cli1", "eth0", RealClient::Udhcpc, t).unwrap();
    srv.wait_for_log("listening on it again", Duration::from_secs(1))
        .unwrap();
    eprintln!(
        "before: {} in {:?}; after the interface was recreated: {} in {:?}",
        before.address, before.elapsed, after.address, after.elapsed
    );
    assert_eq!(
        after.address, before.address,
        "the same client, the same lease"
    );
    assert_eq!(after.server_id, Some(topology::server_address(0)));
}
