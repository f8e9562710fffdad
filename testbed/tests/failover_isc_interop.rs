//! Our daemon paired with ISC dhcpd 4.4 in both roles (split 128, mclt 60):
//! NORMAL and load-balanced service with lease databases compared, SIGKILL of
//! either side, a partition with auto-partner-down and conflict resolution.
//! Build the daemon first (`cargo build -p dhcpd`); needs root and
//! `/usr/sbin/dhcpd`.

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

mod failover_common;

use failover_common::{Impl, Side, scenario_kill_restart, scenario_normal, scenario_partition};

fn runnable(test: &str) -> bool {
    if !testbed::can_run_root_test(test) {
        return false;
    }
    if !std::path::Path::new("/usr/sbin/dhcpd").exists() {
        eprintln!("SKIPPED: needs ISC dhcpd (isc-dhcp-server): {test}");
        return false;
    }
    true
}

#[test]
fn ours_primary_isc_secondary_reach_normal_and_share_clients() {
    if runnable("ours_primary_isc_secondary_reach_normal_and_share_clients") {
        scenario_normal(Impl::Ours, Impl::Isc);
    }
}

#[test]
fn isc_primary_ours_secondary_reach_normal_and_share_clients() {
    if runnable("isc_primary_ours_secondary_reach_normal_and_share_clients") {
        scenario_normal(Impl::Isc, Impl::Ours);
    }
}

#[test]
fn ours_primary_isc_secondary_primary_sigkill() {
    if runnable("ours_primary_isc_secondary_primary_sigkill") {
        scenario_kill_restart(Impl::Ours, Impl::Isc, Side::Primary, true);
    }
}

#[test]
fn ours_primary_isc_secondary_secondary_sigkill() {
    if runnable("ours_primary_isc_secondary_secondary_sigkill") {
        scenario_kill_restart(Impl::Ours, Impl::Isc, Side::Secondary, false);
    }
}

#[test]
fn isc_primary_ours_secondary_primary_sigkill() {
    if runnable("isc_primary_ours_secondary_primary_sigkill") {
        scenario_kill_restart(Impl::Isc, Impl::Ours, Side::Primary, false);
    }
}

#[test]
fn isc_primary_ours_secondary_secondary_sigkill() {
    if runnable("isc_primary_ours_secondary_secondary_sigkill") {
        scenario_kill_restart(Impl::Isc, Impl::Ours, Side::Secondary, true);
    }
}

#[test]
fn ours_primary_isc_secondary_partition() {
    if runnable("ours_primary_isc_secondary_partition") {
        scenario_partition(Impl::Ours, Impl::Isc);
    }
}

#[test]
fn isc_primary_ours_secondary_partition() {
    if runnable("isc_primary_ours_secondary_partition") {
        scenario_partition(Impl::Isc, Impl::Ours);
    }
}
