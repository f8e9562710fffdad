//! The latency client's smoke test: a few hundred paced DORA exchanges
//! against our daemon in `loadbench`'s lab, every one answered and timed.
//! Needs root (network namespaces); otherwise reports SKIPPED.
//!
//! Our daemon's binary: `TESTBED_DHCPD`, or the workspace's build
//! (`testbed::server::default_our_binary`).

#![allow(clippy::unwrap_used)] // integration test: failing fast is the point

use std::path::PathBuf;
use std::time::Duration;

use benches::load::lab;
use benches::load::latency::client::{self, LoadConfig};
use benches::load::latency::report::Percentiles;
use benches::load::servers::{self, Programs, Subject};

#[test]
fn three_hundred_exchanges_are_all_timed() {
    if !testbed::can_run_root_test("three_hundred_exchanges_are_all_timed") {
        return;
    }
    let dhcpd = testbed::server::default_our_binary();
    assert!(
        dhcpd.is_file(),
        "our daemon not found at {} (cargo build -p dhcpd)",
        dhcpd.display()
    );
    let lab = lab::build("ls").unwrap();
    let programs = Programs {
        dhcpd,
        responder: PathBuf::new(),
        dhcpd_args: Vec::new(),
        responder_args: Vec::new(),
    };
    let server = lab::server_address();
    let mut process =
        servers::start(&lab, lab::SERVER_HOST, Subject::Ours, &programs, server).unwrap();
    // 100 exchanges a second for 3 s recorded, after 0.5 s unrecorded.
    let config = LoadConfig {
        warmup: Duration::from_millis(500),
        clients: 1000,
        ..LoadConfig::new(100, Duration::from_secs(3), server, lab::CLIENT_ADDRESS)
    };
    let ns = lab.namespace(lab::CLIENT_HOST).unwrap().to_owned();
    let result = client::run(&ns, &config).unwrap();
    process.terminate(Duration::from_secs(10)).unwrap();

    let offer = Percentiles::of(&result.offer);
    let ack = Percentiles::of(&result.ack);
    eprintln!("DISCOVER→OFFER {offer:?}\nREQUEST→ACK {ack:?}");
    for (what, d, p) in [("OFFER", &result.offer, offer), ("ACK", &result.ack, ack)] {
        assert_eq!(d.sent, 300, "{what}: requests recorded");
        assert_eq!(d.histogram.len(), 300, "{what}: every answer timed");
        assert_eq!(p.lost, 0, "{what}: nothing lost");
        assert!(p.p50 > 0 && p.p50 <= p.p99 && p.p99 <= p.p999 && p.p999 <= p.max);
        // A debug build fsyncing on a shared machine: generous, but a
        // reply that took a second would mean something is wrong.
        assert!(p.max < 1_000_000_000, "{what}: max {} ns", p.max);
    }
    assert_eq!(result.ack.naks, 0);
    assert_eq!(result.send_errors, 0);
}
