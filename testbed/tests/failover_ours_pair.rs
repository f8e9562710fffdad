//! Two of our daemons in a failover pair (split 128, mclt 60): NORMAL and
//! load-balanced service, a SIGKILL of either side, a TCP partition with
//! auto-partner-down and conflict resolution. Build the daemon first
//! (`cargo build -p dhcpd`).

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

mod failover_common;

use failover_common::{Impl, Side, scenario_kill_restart, scenario_normal, scenario_partition};

#[test]
fn ours_pair_reaches_normal_and_shares_clients() {
    if !testbed::can_run_root_test("ours_pair_reaches_normal_and_shares_clients") {
        return;
    }
    scenario_normal(Impl::Ours, Impl::Ours);
}

#[test]
fn ours_pair_survives_primary_sigkill() {
    if !testbed::can_run_root_test("ours_pair_survives_primary_sigkill") {
        return;
    }
    scenario_kill_restart(Impl::Ours, Impl::Ours, Side::Primary, true);
}

#[test]
fn ours_pair_survives_secondary_sigkill() {
    if !testbed::can_run_root_test("ours_pair_survives_secondary_sigkill") {
        return;
    }
    scenario_kill_restart(Impl::Ours, Impl::Ours, Side::Secondary, false);
}

#[test]
fn ours_pair_partition_partner_down_and_resolution() {
    if !testbed::can_run_root_test("ours_pair_partition_partner_down_and_resolution") {
        return;
    }
    scenario_partition(Impl::Ours, Impl::Ours);
}
