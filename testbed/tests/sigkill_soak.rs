//! SIGKILL soak under load (issue 16, item 2): 300 simulated clients (half
//! of them sending option 61) bind and renew 12-second leases against our
//! daemon, so ACKs are always in flight; the daemon is SIGKILLed at random
//! moments and started again with the same configuration and store, cycle
//! after cycle. Every DHCPACK is captured on the client side; while the
//! daemon is dead, a copy of its store is opened (replaying the journal as
//! the daemon would) and every ACK received must be there: same client, an
//! expiry at least as late as the ACK promised. At the end the daemon is
//! stopped cleanly (SIGTERM) and checked once more. See `testbed::soak`.
//!
//! `TESTBED_SOAK_CYCLES` (default 10, the CI form) sets the number of
//! cycles and `TESTBED_SOAK_SEED` the seed of the kill moments (printed at
//! the start, so a run can be repeated). The recorded run is in
//! docs/reliability.md.

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use testbed::soak::{Soak, SoakConfig};

#[test]
fn acked_leases_survive_sigkill_under_load() {
    if !testbed::can_run_root_test("acked_leases_survive_sigkill_under_load") {
        return;
    }
    let config = SoakConfig::from_env(10);
    let seed = config.seed;
    eprintln!(
        "soak: seed {seed} (repeat with TESTBED_SOAK_SEED={seed}), {} cycles",
        config.cycles
    );
    let mut soak = Soak::start(config).unwrap();
    soak.run_cycles().unwrap();
    let report = soak.finish().unwrap();
    let counts = &report.counts;
    eprintln!("{}", counts.table());
    eprintln!(
        "uncheckable: {} superseded by a new address, {} expired; daemon at the end: {}",
        report.totals.superseded, report.totals.expired, report.final_status
    );
    for l in &report.totals.lost {
        eprintln!("LOST (seed {seed}): {l}");
    }
    assert_eq!(
        report.final_status, "exit 0",
        "the daemon stops cleanly on SIGTERM"
    );
    assert!(counts.passed(), "seed {seed}: {counts:?}");
    assert!(
        counts.acks_checked >= counts.cycles as u64,
        "too little load to mean anything: {counts:?}"
    );
}
