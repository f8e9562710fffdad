//! The `testbed` binary: `demo` prints its table; Ctrl-C on a running lab
//! removes it.
//!
//! SERVER UNDER TEST for the demo: our daemon, found by the demo itself (its
//! default: the `dhcpd` next to the `testbed` binary, or `TESTBED_DHCPD`);
//! ISC dhcpd (`--server isc`) with `TESTBED_SERVER=isc`, like the other tests.

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use testbed::netns;

#[test]
fn demo_prints_a_summary_table() {
    if !testbed::can_run_root_test("demo_prints_a_summary_table") {
        return;
    }
    let mut args = vec![
        "demo",
        "--single",
        "--clients",
        "50",
        "--initial-timeout",
        "1",
        "--timeline",
    ];
    let isc = std::env::var("TESTBED_SERVER").as_deref() == Ok("isc");
    if isc {
        args.extend(["--server", "isc"]);
    }
    // Without CARGO the demo never runs a nested `cargo build` (it would wait
    // for the lock of the `cargo test` running us); `cargo test --workspace`
    // has built target/debug/dhcpd next to the testbed binary.
    let out = Command::new(env!("CARGO_BIN_EXE_testbed"))
        .args(&args)
        .env_remove("CARGO")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success());
    assert!(text.contains("leases granted per second"));
    let against = if isc { "against isc" } else { "against ours" };
    assert!(
        text.contains(against),
        "the demo's default server: {against}"
    );
    for row in [
        "| clients ",
        "| leases ",
        "| failures ",
        "| duplicate addresses ",
        "time-to-lease median",
    ] {
        assert!(text.contains(row), "missing {row:?}");
    }
    assert!(text.contains("| leases                     |          50 |") || text.contains("50 |"));
}

#[test]
fn ctrl_c_removes_the_lab() {
    if !testbed::can_run_root_test("ctrl_c_removes_the_lab") {
        return;
    }
    let prefix = format!("tbsig{}x", std::process::id());
    let mut child = Command::new(env!("CARGO_BIN_EXE_testbed"))
        .args([
            "up",
            "--servers",
            "2",
            "--clients",
            "1",
            "--relayed",
            "1",
            "--prefix",
            &prefix,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !line.starts_with("READY") {
        line.clear();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "testbed up exited early"
        );
        assert!(Instant::now() < deadline);
    }
    let ours = || -> Vec<String> {
        netns::list()
            .unwrap()
            .into_iter()
            .filter(|n| n.starts_with(&prefix))
            .collect()
    };
    assert_eq!(ours().len(), 6, "{:?}", ours()); // bridge + srv1 srv2 cli1 relay rcl1
    // SAFETY: signalling our own child by PID.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(ours().is_empty(), "left: {:?}", ours());
}
