//! A Kea-style HA configuration (`libdhcp_ha.so`, `high-availability` in
//! hot-standby and in load-balancing mode) run by two of our servers
//! through Kea's command line: the pair reaches NORMAL over ISC failover
//! and serves a PXE client. Build the daemon first (`cargo build -p
//! dhcpd`); needs root.

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, Instant};

use testbed::kea::{self, KeaServer};
use testbed::topology::LabBuilder;
use testbed::{Lab, Process, firmware, probe};

const PRIMARY: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 2);
const SECONDARY: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 3);

/// The file of `this` server (`server1` on srv2 or `server2` on srv3).
fn config(dir: &Path, this: &str, mode: &str, second_role: &str) -> String {
    kea::HaFile {
        dir,
        this,
        mode,
        second_role,
        primary: PRIMARY,
        secondary: SECONDARY,
        subnet: "10.99.0.0/24",
        pool: "10.99.0.100 - 10.99.0.199",
        control_socket: false,
    }
    .render()
}

fn normal(p: &Process) -> bool {
    testbed::demo::our_failover_states(&p.log_lines())
        .0
        .as_deref()
        == Some("normal")
}

fn pair_serves(mode: &str, second_role: &str) {
    let lab: Lab = LabBuilder::new()
        .server("srv1")
        .server("srv2")
        .server("srv3")
        .client("cli1")
        .build()
        .unwrap();
    let mut servers = Vec::new();
    for (host, this) in [("srv2", "server1"), ("srv3", "server2")] {
        let name = format!("{mode}-{this}");
        let dir = kea::directory(&lab, &name).unwrap();
        let conf = config(&dir, this, mode, second_role);
        servers.push(kea::start(&lab, host, &name, KeaServer::Ours, &conf).unwrap());
    }
    let end = Instant::now() + Duration::from_secs(90);
    while !servers.iter().all(normal) {
        for s in &mut servers {
            assert!(
                s.is_running(),
                "{} exited:\n{}",
                s.name(),
                s.log_lines().join("\n")
            );
        }
        assert!(
            Instant::now() < end,
            "{mode}: not NORMAL within 90 s:\n{}\n---\n{}",
            servers[0].log_lines().join("\n"),
            servers[1].log_lines().join("\n")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The primary serves this client in both modes (split 255; split 128
    // and its hash bucket, or the secondary's answer under load-balancing).
    let bios = firmware::firmware(
        "bios",
        [0x52, 0x54, 0x00, 0x97, 0x00, 1],
        0,
        "PXEClient:Arch:00000:UNDI:002001",
        firmware::PXE_PRL,
    );
    let mut acked = None;
    for server in [PRIMARY, SECONDARY] {
        let o =
            probe::exchange(&lab, "cli1", "eth0", server, &bios, Duration::from_secs(5)).unwrap();
        if let Some(ack) = o.ack {
            acked = Some(ack);
            break;
        }
    }
    let ack = acked.unwrap_or_else(|| panic!("{mode}: no server acknowledged the client"));
    assert_eq!(ack.file, "lpxelinux.0", "{mode}");
    assert_eq!(ack.lease_time(), Some(600), "{mode}");
    if mode == "hot-standby" {
        assert_eq!(
            ack.server_id(),
            Some(PRIMARY),
            "hot-standby: the primary serves"
        );
    }
    let notes = servers[0].log_lines().join("\n");
    assert!(
        notes.contains("a real Kea peer speaks Kea's HA protocol"),
        "{notes}"
    );
    for s in &mut servers {
        s.kill().unwrap();
    }
}

#[test]
fn kea_hot_standby_config_runs_our_pair_to_normal() {
    if !testbed::can_run_root_test("kea_hot_standby_config_runs_our_pair_to_normal") {
        return;
    }
    pair_serves("hot-standby", "standby");
}

#[test]
fn kea_load_balancing_config_runs_our_pair_to_normal() {
    if !testbed::can_run_root_test("kea_load_balancing_config_runs_our_pair_to_normal") {
        return;
    }
    pair_serves("load-balancing", "secondary");
}
