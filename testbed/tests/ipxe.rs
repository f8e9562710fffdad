//! iPXE (QEMU, TCG) network-boots: DHCP from the server under test, then TFTP
//! fetches an iPXE script whose marker must appear on the serial console.
//! One VM; takes roughly 20-40 s under TCG.
//!
//! SERVER UNDER TEST: ISC dhcpd for now (`testbed::server::from_env()`);
//! set `TESTBED_SERVER=ours` (and `TESTBED_DHCPD=PATH`) to run against our daemon.

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use std::time::Duration;

use testbed::ipxe::{VmConfig, boot_until_marker, write_tftp_root};
use testbed::server::{self, ServerSpec};
use testbed::tftp::start_tftpd;
use testbed::topology::{self, LabBuilder};

#[test]
fn ipxe_boots_to_its_script() {
    if !testbed::can_run_root_test("ipxe_boots_to_its_script") {
        return;
    }
    let lab = LabBuilder::new()
        .server("srv1")
        .client("pxe1")
        .build()
        .unwrap();
    let srv_addr = topology::server_address(0);
    let server = server::from_env();
    let spec = ServerSpec::standard(srv_addr);
    let mut srv = server.start(&lab, "srv1", &spec).unwrap();
    let root = write_tftp_root(&lab, "PXE-LAB-OK").unwrap();
    let mut tftpd = start_tftpd(&lab, "srv1", srv_addr, &root).unwrap();

    let mut vm = VmConfig::new("pxe1");
    vm.timeout = Duration::from_secs(150);
    let boot = boot_until_marker(&lab, &vm, "PXE-LAB-OK").unwrap();
    eprintln!(
        "iPXE: {} after {:.1} s",
        boot.marker_line,
        boot.elapsed.as_secs_f64()
    );
    let address = boot.address.expect("iPXE printed its address");
    let (lo, hi) = spec.subnets[0].range.unwrap();
    assert!(address >= lo && address <= hi, "{address}");
    assert_eq!(boot.filename.as_deref(), Some("boot.ipxe"));
    assert_eq!(boot.next_server, Some(srv_addr));
    // The marker exists only in the script served by tftpd, so TFTP worked
    // (in.tftpd logs to syslog, not to its captured stderr).
    assert!(tftpd.is_running(), "tftpd still serving");
    assert!(srv.is_running(), "DHCP server still serving");
}
