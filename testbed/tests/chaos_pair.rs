//! Seeded chaos schedules for a pair of our daemons (issue 16): failover
//! link partitions (both ways, one way), a server's client link cut,
//! SIGKILL + restart, restart with an empty store, a server restarted with
//! its wall clock 5–45 s off (libfaketime), while 60 clients bind
//! and renew 20 s leases. Every DHCPACK the clients receive is checked: no
//! address may be ACKed to two clients with overlapping lease times.
//!
//! CI form: 3 schedules of 8 s. The recorded run:
//! `TESTBED_CHAOS_SCHEDULES=100 cargo test -p testbed --test chaos_pair --
//! --nocapture`; `TESTBED_CHAOS_SEED` picks the first seed (default 1), so
//! a failing schedule can be run alone.

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use std::time::Duration;

use testbed::chaos::runner::{ChaosConfig, run};
use testbed::soak::env_u64;

#[test]
fn no_address_is_granted_twice_under_seeded_chaos() {
    if !testbed::can_run_root_test("no_address_is_granted_twice_under_seeded_chaos") {
        return;
    }
    let config = ChaosConfig {
        schedules: env_u64("TESTBED_CHAOS_SCHEDULES", 3),
        first_seed: env_u64("TESTBED_CHAOS_SEED", 1),
        length: Duration::from_secs(8),
        clients: 60,
        lease_time: 20,
        settle: Duration::from_secs(40),
    };
    let report = run(&config).unwrap();
    eprintln!("{}", report.table());
    for v in &report.violations {
        eprintln!("VIOLATION: {v}");
    }
    assert!(report.violations.is_empty(), "double allocations");
    assert!(report.acks > 0);
    assert!(
        report.longest_wait <= Duration::from_secs(60),
        "a client waited {:?}",
        report.longest_wait
    );
}
