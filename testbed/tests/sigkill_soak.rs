//! SIGKILL soak under load (issue 16, item 2): 300 simulated clients (half
//! of them sending option 61) bind and renew 12-second leases against our
//! daemon, so ACKs are always in flight; the daemon is SIGKILLed at random
//! moments and started again with the same configuration and store, cycle
//! after cycle. Every DHCPACK is captured on the client side; while the
//! daemon is dead, a copy of its store is opened (replaying the journal as
//! the daemon would) and every ACK received must be there: same client, an
//! expiry at least as late as the ACK promised. At the end the daemon is
//! stopped cleanly (SIGTERM) and checked once more.
//!
//! `TESTBED_SOAK_CYCLES` (default 10, the CI form) sets the number of
//! cycles and `TESTBED_SOAK_SEED` the seed of the kill moments (printed at
//! the start, so a run can be repeated). The recorded run is in
//! docs/reliability.md.

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use std::time::{Duration, Instant, SystemTime};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use testbed::server::{self, DhcpServer, OurDhcpd, ServerSpec};
use testbed::sim::{Swarm, SwarmConfig, SwarmHandle, Until};
use testbed::soak::{self, AckTap, Ledger, SoakCounts};
use testbed::topology::{self, LabBuilder};

const SWARMS: usize = 2;
const CLIENTS_PER_SWARM: usize = 150;
const LEASE_TIME: u32 = 12;
/// Time after a kill for replies already on the wire to reach the clients.
const DRAIN: Duration = Duration::from_millis(150);

/// Moves every ACK received so far into the ledger; returns how many.
fn capture(swarms: &mut [(SwarmHandle, AckTap)], ledger: &mut Ledger) -> u64 {
    let mut n = 0;
    for (handle, tap) in swarms.iter_mut() {
        let acks = tap.take(handle);
        n += acks.len() as u64;
        ledger.record(acks);
    }
    n
}

/// Reads the store copy and checks the ledger against it, counting what it finds.
fn check(
    store: &std::path::Path,
    scratch: &std::path::Path,
    ledger: &mut Ledger,
    counts: &mut SoakCounts,
    when: &str,
) {
    match soak::read_store_copy(store, scratch) {
        Ok(leases) => {
            let out = ledger.check(&leases, SystemTime::now());
            for l in &out.lost {
                eprintln!("LOST (seed {}, {when}): {l}", counts.seed);
            }
        }
        Err(e) => {
            counts.reopen_failures += 1;
            eprintln!("REOPEN FAILED (seed {}, {when}): {e}", counts.seed);
        }
    }
}

#[test]
fn acked_leases_survive_sigkill_under_load() {
    if !testbed::can_run_root_test("acked_leases_survive_sigkill_under_load") {
        return;
    }
    let cycles = soak::env_u64("TESTBED_SOAK_CYCLES", 10) as usize;
    let seed = soak::seed_from_env("TESTBED_SOAK_SEED");
    eprintln!("soak: seed {seed} (repeat with TESTBED_SOAK_SEED={seed}), {cycles} cycles");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let started = Instant::now();

    let lab = LabBuilder::server_and_client().wide().build().unwrap();
    let server = OurDhcpd::new(server::default_our_binary());
    let spec =
        ServerSpec::wide(topology::server_address(0)).with_lease_time(LEASE_TIME, LEASE_TIME);
    let mut srv = server.start(&lab, "srv1", &spec).unwrap();
    let store = lab.path("store-srv1");
    let scratch = lab.path("store-copy");

    let ns = lab.namespace("cli1").unwrap();
    let mut swarms = Vec::new();
    for i in 0..SWARMS {
        let mut cfg = SwarmConfig::new(CLIENTS_PER_SWARM);
        cfg.first_mac = 1 + (i * CLIENTS_PER_SWARM) as u32;
        cfg.client.client_id = i % 2 == 1;
        cfg.client.initial_timeout = Duration::from_secs(1);
        cfg.client.max_timeout = Duration::from_secs(4);
        cfg.until = Until::Stopped;
        cfg.deadline = Duration::from_secs(24 * 3600);
        cfg.start_spread = Duration::from_secs(u64::from(LEASE_TIME) / 2);
        cfg.seed = seed.wrapping_add(i as u64);
        let handle = Swarm::spawn(ns, cfg.clone()).unwrap();
        let tap = AckTap::new(i, &handle, &cfg);
        swarms.push((handle, tap));
    }

    let mut ledger = Ledger::new();
    let mut counts = SoakCounts {
        seed,
        ..SoakCounts::default()
    };
    for cycle in 1..=cycles {
        // One kill in ten lands right after start-up, the others under load.
        let up = if rng.random_bool(0.1) {
            rng.random_range(0..100)
        } else {
            rng.random_range(200..1500)
        };
        std::thread::sleep(Duration::from_millis(up));
        if !srv.is_running() {
            counts.restart_failures += 1;
            eprintln!(
                "cycle {cycle}: the daemon exited by itself; log {}",
                srv.log_path().display()
            );
        }
        srv.kill().unwrap();
        std::thread::sleep(DRAIN);
        let acks = capture(&mut swarms, &mut ledger);
        counts.acks_captured += acks;
        if acks == 0 {
            counts.cycles_without_acks += 1;
        }
        check(
            &store,
            &scratch,
            &mut ledger,
            &mut counts,
            &format!("cycle {cycle}"),
        );
        std::thread::sleep(Duration::from_millis(rng.random_range(0..300)));
        let mut restarted = false;
        for attempt in 1..=3 {
            match server.start_again(&mut srv) {
                Ok(()) => {
                    restarted = true;
                    break;
                }
                Err(e) => {
                    counts.restart_failures += 1;
                    eprintln!("cycle {cycle}: restart attempt {attempt} failed: {e}");
                    let _ = srv.kill();
                }
            }
        }
        counts.cycles = cycle;
        if cycle % 25 == 0 {
            let t = ledger.totals();
            eprintln!(
                "cycle {cycle}/{cycles} at {:.0} s: {} acks, {} checked, {} lost",
                started.elapsed().as_secs_f64(),
                counts.acks_captured,
                t.checked,
                t.lost.len()
            );
        }
        if !restarted {
            break;
        }
    }

    // A clean stop at the end: the daemon checkpoints its store and exits.
    let status = srv.terminate(Duration::from_secs(10)).unwrap();
    let status = status.map_or_else(|| "still running".to_owned(), testbed::process::describe);
    std::thread::sleep(DRAIN);
    counts.acks_captured += capture(&mut swarms, &mut ledger);
    check(&store, &scratch, &mut ledger, &mut counts, "after SIGTERM");
    for (handle, tap) in swarms {
        counts.naks += tap.naks();
        handle.stop().unwrap();
    }
    let totals = ledger.totals();
    counts.acks_checked = totals.checked;
    counts.rechecks = totals.rechecked;
    counts.not_checkable = totals.superseded + totals.expired;
    counts.lost = totals.lost.len() as u64;
    counts.wall = started.elapsed();
    eprintln!("{}", counts.table());
    eprintln!(
        "uncheckable: {} superseded by a new address, {} expired; daemon at the end: {status}",
        totals.superseded, totals.expired
    );
    for l in &totals.lost {
        eprintln!("LOST (seed {seed}): {l}");
    }
    assert_eq!(status, "exit 0", "the daemon stops cleanly on SIGTERM");
    assert!(counts.passed(), "seed {seed}: {counts:?}");
    assert!(
        counts.acks_checked >= counts.cycles as u64,
        "too little load to mean anything: {counts:?}"
    );
}
