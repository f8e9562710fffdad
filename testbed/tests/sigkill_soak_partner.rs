//! The SIGKILL soak (see `sigkill_soak.rs`) with a failover pair of our
//! daemons (primary srv1, secondary srv2, split 128, no automatic
//! partner-down) serving the clients, and the partner, the secondary,
//! SIGKILLed and restarted each cycle while the primary serves on. Every
//! ACK is checked against the store of the server that sent it (option
//! 54): the secondary's copy while it is dead, the primary's with it paused
//! (SIGSTOP) for the moment of the copy; both after a clean stop at the end.
//!
//! `TESTBED_SOAK_CYCLES` (default 8) and `TESTBED_SOAK_SEED` as for the
//! main soak.

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use testbed::soak::{Soak, SoakConfig};

#[test]
fn acked_leases_survive_partner_sigkill_under_load() {
    if !testbed::can_run_root_test("acked_leases_survive_partner_sigkill_under_load") {
        return;
    }
    let mut config = SoakConfig::from_env(8);
    config.pair = true;
    // The restarted partner needs a moment to rejoin before it serves.
    config.up_ms = (1000, 4000);
    let (seed, cycles) = (config.seed, config.cycles);
    eprintln!(
        "soak (partner killed): seed {seed} (repeat with TESTBED_SOAK_SEED={seed}), {cycles} cycles"
    );
    let mut soak = Soak::start(config).unwrap();
    soak.run_cycles().unwrap();
    let report = soak.finish().unwrap();
    let counts = &report.counts;
    eprintln!("{}", counts.table());
    let by_server = |s: u8| {
        report
            .totals
            .lost
            .iter()
            .filter(|l| l.ack.server.octets()[3] == s)
            .count()
    };
    eprintln!(
        "ACKs per cycle: {:?}; checked by server {:?}; lost by primary {} / secondary {}; \
         partner at the end: {}",
        report.acks_per_cycle,
        report.checked_by_server,
        by_server(1),
        by_server(2),
        report.final_status
    );
    for l in &report.totals.lost {
        eprintln!("LOST (seed {seed}): {l}");
    }
    assert_eq!(report.final_status, "exit 0");
    assert!(counts.passed(), "seed {seed}: {counts:?}");
    // Both servers acknowledged leases that were checked.
    assert!(
        report.checked_by_server.iter().all(|(_, n)| *n > 0),
        "{:?}",
        report.checked_by_server
    );
}
