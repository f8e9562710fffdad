//! How replies reach a client with no address yet: by Ethernet broadcast
//! when the client sets the BROADCAST flag, otherwise by unicast to its MAC
//! (RFC 2131 §4.1). Seen with tcpdump on the server segment's bridge.
//!
//! SERVER UNDER TEST: ISC dhcpd for now (`testbed::server::from_env()`);
//! set `TESTBED_SERVER=ours` (and `TESTBED_DHCPD=PATH`) to run against our daemon.

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use std::time::Duration;

use testbed::capture::Capture;
use testbed::real_clients::{RealClient, obtain_lease_with};
use testbed::server::{self, ServerSpec};
use testbed::topology::{self, LabBuilder, SERVER_SEGMENT};

fn mac_of(lab: &testbed::Lab, host: &str) -> String {
    let out = lab
        .exec(host, "cat", &["/sys/class/net/eth0/address"])
        .unwrap();
    out.trim().to_owned()
}

#[test]
fn replies_are_broadcast_with_the_flag_and_unicast_to_chaddr_without() {
    if !testbed::can_run_root_test(
        "replies_are_broadcast_with_the_flag_and_unicast_to_chaddr_without",
    ) {
        return;
    }
    let lab = LabBuilder::new()
        .server("srv1")
        .client("uni")
        .client("bcast")
        .build()
        .unwrap();
    let server = server::from_env();
    let _srv = server
        .start(
            &lab,
            "srv1",
            &ServerSpec::standard(topology::server_address(0)),
        )
        .unwrap();
    let capture = Capture::start(&lab, SERVER_SEGMENT, "udp port 67 or udp port 68").unwrap();
    let t = Duration::from_secs(20);
    obtain_lease_with(&lab, "uni", "eth0", RealClient::Udhcpc, &[], t).unwrap();
    obtain_lease_with(&lab, "bcast", "eth0", RealClient::Udhcpc, &["-B"], t).unwrap();
    let frames = capture.stop();
    let (uni, bcast) = (mac_of(&lab, "uni"), mac_of(&lab, "bcast"));
    let replies: Vec<_> = frames.iter().filter(|f| f.op == "Reply").collect();
    eprintln!("{replies:#?}");
    // Without the flag: OFFER and ACK unicast to the client's MAC.
    assert!(
        replies.iter().filter(|f| f.eth_dst == uni).count() >= 2,
        "unicast OFFER+ACK to {uni}"
    );
    // With the flag: OFFER and ACK broadcast, none unicast to that client.
    assert!(replies.iter().filter(|f| f.is_broadcast()).count() >= 2);
    assert!(!replies.iter().any(|f| f.eth_dst == bcast));
}
