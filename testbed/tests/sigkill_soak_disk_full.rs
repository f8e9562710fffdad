//! The SIGKILL soak (see `sigkill_soak.rs`) with the store on a small tmpfs
//! that fills up mid-run: for the middle third of the cycles a filler file
//! leaves the file system almost no room, then it is removed. The daemon
//! must never acknowledge a lease it could not make durable (every captured
//! ACK is still checked against the store: lost = 0), and it must serve
//! again once the disk has room. A restart while the disk is full must
//! succeed too (the store keeps in its journal what it cannot replay into
//! the database yet): restarts refused on the full disk are counted apart
//! and must be 0.
//!
//! `TESTBED_SOAK_CYCLES` (default 12) and `TESTBED_SOAK_SEED` as for the
//! main soak. `TESTBED_SOAK_FULL_HOLD_S` (default 0) keeps the daemon
//! serving on the full disk that many seconds before the next kill, long
//! enough for its journal (2 × 1 MiB, written in full when created) to
//! fill, after which it must withhold its ACKs; meanwhile the store is
//! checked every 3 s with the daemon paused (SIGSTOP), not killed. The tmpfs is mounted in the lab's directory and unmounted
//! when the test ends.

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use std::time::{Duration, Instant};

use testbed::soak::{Soak, SoakConfig, env_u64};

/// What the filler leaves free: less than the store's headroom for a
/// database write (`dhcp_store::WRITE_HEADROOM`), so checkpoints fail;
/// the journal files, written in full when created, still take commits.
const LEAVE: u64 = 256 << 10;

#[test]
fn no_ack_without_durability_when_the_disk_fills_up() {
    if !testbed::can_run_root_test("no_ack_without_durability_when_the_disk_fills_up") {
        return;
    }
    let mut config = SoakConfig::from_env(12);
    config.store_tmpfs_mib = Some(48);
    // More renewals than the main soak, to fill the journal sooner.
    config.clients_per_swarm = 250;
    config.lease_time = 6;
    config.daemon_args = vec!["--journal-mib".into(), "1".into()];
    let (seed, cycles) = (config.seed, config.cycles);
    eprintln!(
        "soak (disk fills up): seed {seed} (repeat with TESTBED_SOAK_SEED={seed}), {cycles} cycles"
    );
    let third = (cycles / 3).max(1);
    let mut soak = Soak::start(config).unwrap();
    while soak.cycles_done() < third {
        soak.cycle().unwrap();
    }
    soak.fill_disk(LEAVE).unwrap();
    eprintln!("disk filled after cycle {}", soak.cycles_done());
    let hold = Duration::from_secs(env_u64("TESTBED_SOAK_FULL_HOLD_S", 0));
    let held = Instant::now();
    while held.elapsed() < hold {
        std::thread::sleep(Duration::from_secs(3));
        soak.check_paused(&format!("hold {:.0} s", held.elapsed().as_secs_f64()));
    }
    while soak.cycles_done() < 2 * third {
        soak.cycle().unwrap();
    }
    soak.free_disk().unwrap();
    eprintln!("disk freed after cycle {}", soak.cycles_done());
    soak.run_cycles().unwrap();
    let report = soak.finish().unwrap();
    let counts = &report.counts;
    let withheld = report
        .log
        .iter()
        .filter(|l| l.contains("withheld, the lease could not be stored"))
        .count();
    eprintln!("{}", counts.table());
    eprintln!(
        "ACKs per cycle: {:?}; replies withheld (log): {withheld}; daemon at the end: {}",
        report.acks_per_cycle, report.final_status
    );
    // What the daemon said besides its transactions: each kind of line
    // (its text up to the first field, digits aside) once, with its count.
    let mut kinds: Vec<(String, usize, &str)> = Vec::new();
    for l in report
        .log
        .iter()
        .filter(|l| !l.contains(" INFO ") && !l.contains("started pid") && !l.contains("signal 9"))
    {
        let text = l.split_once("| ").map_or(l.as_str(), |(_, t)| t);
        let key: String = text
            .split('=')
            .next()
            .unwrap_or(text)
            .chars()
            .filter(|c| !c.is_ascii_digit())
            .take(100)
            .collect();
        match kinds.iter_mut().find(|(k, _, _)| *k == key) {
            Some(k) => k.1 += 1,
            None => kinds.push((key, 1, l)),
        }
    }
    for (_, n, first) in &kinds {
        eprintln!("daemon ({n}x), first: {first}");
    }
    for l in &report.totals.lost {
        eprintln!("LOST (seed {seed}): {l}");
    }
    assert_eq!(report.final_status, "exit 0");
    assert!(counts.passed(), "seed {seed}: {counts:?}");
    assert_eq!(
        counts.restarts_refused_disk_full, 0,
        "seed {seed}: restarts refused on the full disk"
    );
    // Served again once the disk had room.
    let after: u64 = report.acks_per_cycle[2 * third..].iter().sum();
    assert!(
        after > 0,
        "no ACK after the disk was freed: {:?}",
        report.acks_per_cycle
    );
}
