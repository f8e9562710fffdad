//! The deterministic pair simulator over many seeds (issue 4 "must show").
//!
//! `cargo test -p dhcp-failover --test sim_pair` runs 10,000 seeds (split over
//! four tests so they use the available cores). Environment:
//! * `SIM_SEED=N` replays seed N alone with a full trace (add `-- --nocapture`);
//! * `SIM_SEEDS=N` changes the number of seeds, `SIM_SEED_START=S` the first.

use std::time::Instant;

use dhcp_failover::sim;

const SWEEPS: u64 = 4;
const DEFAULT_SEEDS: u64 = 10_000;

fn sweep(part: u64) {
    if let Ok(s) = std::env::var("SIM_SEED") {
        if part == 0 {
            let seed: u64 = s.parse().expect("SIM_SEED is a number");
            println!("{:?}", sim::Scenario::from_seed(seed));
            match sim::run(seed, true) {
                Ok(stats) => println!("seed {seed} ok: {stats:?}"),
                Err(f) => panic!("{f}"),
            }
        }
        return;
    }
    let total: u64 = std::env::var("SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEEDS);
    let start: u64 = std::env::var("SIM_SEED_START")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let per = total.div_ceil(SWEEPS);
    let seeds = start + part * per..start + ((part + 1) * per).min(total);
    let n = seeds.end - seeds.start;
    let started = Instant::now();
    let mut grants = 0;
    let mut worst_heal = 0;
    for seed in seeds {
        match sim::run(seed, false) {
            Ok(s) => {
                grants += s.grants;
                worst_heal = worst_heal.max(s.heal_secs);
            }
            Err(f) => panic!(
                "{f}\nreplay: SIM_SEED={seed} cargo test -p dhcp-failover --test sim_pair -- --nocapture"
            ),
        }
    }
    println!(
        "sweep {part}: {n} seeds in {:.1?}, {grants} leases granted, slowest heal {worst_heal}s",
        started.elapsed()
    );
}

#[test]
fn seeds_part_0() {
    sweep(0);
}

#[test]
fn seeds_part_1() {
    sweep(1);
}

#[test]
fn seeds_part_2() {
    sweep(2);
}

#[test]
fn seeds_part_3() {
    sweep(3);
}

#[test]
fn a_seed_replays_exactly() {
    for seed in [1, 2, 3] {
        let a = sim::run(seed, false).map_err(|f| f.to_string());
        let b = sim::run(seed, false).map_err(|f| f.to_string());
        assert_eq!(a, b);
    }
}
