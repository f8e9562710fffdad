//! Real clients (dhclient, udhcpc, dhcpcd) against the server under test.
//!
//! SERVER UNDER TEST: ISC dhcpd for now (`testbed::server::from_env()`);
//! set `TESTBED_SERVER=ours` (and `TESTBED_DHCPD=PATH`) to run against our daemon.

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use std::time::Duration;

use testbed::real_clients::{RealClient, obtain_lease};
use testbed::server::{self, ServerSpec};
use testbed::topology::{self, LabBuilder};

fn lease_with_boot_info(client: RealClient) {
    if !testbed::can_run_root_test(&format!("{client} gets a lease")) {
        return;
    }
    // dhcpcd keeps global per-interface files: give its interface a unique name.
    let ifname = format!("d{}", std::process::id());
    let iface = if client == RealClient::Dhcpcd {
        ifname.as_str()
    } else {
        "eth0"
    };
    let lab = LabBuilder::new()
        .server("srv1")
        .client_with_interface("cli1", iface)
        .build()
        .unwrap();
    let server = server::from_env();
    let spec = ServerSpec::standard(topology::server_address(0));
    let _srv = server.start(&lab, "srv1", &spec).unwrap();
    let lease = obtain_lease(&lab, "cli1", iface, client, Duration::from_secs(30)).unwrap();
    eprintln!(
        "{client}: address {} next-server {:?} file {:?} server {:?} in {:?}",
        lease.address, lease.next_server, lease.boot_file, lease.server_id, lease.elapsed
    );
    assert!(topology::server_net().contains(&lease.address));
    let (lo, hi) = spec.subnets[0].range.unwrap();
    assert!(lease.address >= lo && lease.address <= hi);
    assert_eq!(
        lease.next_server,
        Some(topology::server_address(0)),
        "next-server"
    );
    assert_eq!(lease.boot_file.as_deref(), Some("pxelinux.0"), "boot file");
    // The address was configured inside the client namespace only.
    let addrs = lab
        .exec("cli1", "ip", &["-4", "-o", "addr", "show", "dev", iface])
        .unwrap();
    assert!(addrs.contains(&lease.address.to_string()), "{addrs}");
}

#[test]
fn dhclient_gets_lease_with_next_server_and_boot_file() {
    lease_with_boot_info(RealClient::Dhclient);
}

#[test]
fn udhcpc_gets_lease_with_next_server_and_boot_file() {
    lease_with_boot_info(RealClient::Udhcpc);
}

#[test]
fn dhcpcd_gets_lease_with_next_server_and_boot_file() {
    lease_with_boot_info(RealClient::Dhcpcd);
}
