//! Kea's planned-maintenance procedure on a Kea-style HA pair of our
//! servers (`libdhcp_ha.so` `high-availability` in load-balancing mode,
//! mapped onto ISC failover): with PXE clients booting, the operator sends
//! `ha-maintenance-start` to the server that stays (over its Kea control
//! socket), then stops the other with SIGTERM. The staying server answers
//! every client from the announcement on and goes to PARTNER-DOWN the
//! moment its partner's connection closes: no client fails to boot, none
//! holds an address another holds. The stopped server is started again and
//! rejoins through RECOVER. Build the daemon first (`cargo build -p
//! dhcpd`); needs root.

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use testbed::kea::{self, KeaServer};
use testbed::sim::{ClientEvent, Swarm, SwarmConfig};
use testbed::topology::LabBuilder;
use testbed::{Lab, Process};

const PRIMARY: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 2);
const SECONDARY: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 3);
const CLIENTS: usize = 240;

/// The file of `this` server (`server1` on srv2 or `server2` on srv3).
fn config(dir: &Path, this: &str) -> String {
    kea::HaFile {
        dir,
        this,
        mode: "load-balancing",
        second_role: "secondary",
        primary: PRIMARY,
        secondary: SECONDARY,
        subnet: "10.99.0.0/16",
        pool: "10.99.4.0 - 10.99.5.255",
        control_socket: true,
    }
    .render()
}

/// The argument shapes Kea 2.2's HA hook gives (recorded from a pair of
/// Kea 2.2 servers, load-balancing, on 2026-12-04): `ha-heartbeat`, and
/// the entry of `status-get`'s `high-availability`.
const KEA_HEARTBEAT: &str =
    r#"{"date-time":"string","scopes":["string"],"state":"string","unsent-update-count":"number"}"#;
const KEA_HA_STATUS: &str = r#"{"ha-mode":"string","ha-servers":{"local":{"role":"string","scopes":["string"],"state":"string"},"remote":{"age":"number","analyzed-packets":"number","communication-interrupted":"bool","connecting-clients":"number","in-touch":"bool","last-scopes":["string"],"last-state":"string","role":"string","unacked-clients":"number","unacked-clients-left":"number"}}}"#;

/// Checks `ha-heartbeat` and `status-get` on `socket`: Kea's shapes, and
/// the local state `state` (Kea's word) with `scopes`.
fn check_ha_status(socket: &Path, state: &str, scopes: &[&str]) {
    let hb = command(socket, r#"{ "command": "ha-heartbeat" }"#);
    assert_eq!(hb["result"], 0, "{hb}");
    assert_eq!(
        kea::shape(&hb["arguments"]).to_string(),
        KEA_HEARTBEAT,
        "{hb}"
    );
    assert_eq!(hb["arguments"]["state"], state, "{hb}");
    assert_eq!(hb["arguments"]["scopes"], serde_json::json!(scopes), "{hb}");
    let st = command(socket, r#"{ "command": "status-get" }"#);
    assert_eq!(st["result"], 0, "{st}");
    let ha = &st["arguments"]["high-availability"][0];
    assert_eq!(kea::shape(ha).to_string(), KEA_HA_STATUS, "{st}");
    assert_eq!(ha["ha-mode"], "load-balancing", "{st}");
    assert_eq!(ha["ha-servers"]["local"]["state"], state, "{st}");
    assert_eq!(ha["ha-servers"]["local"]["role"], "primary", "{st}");
    assert_eq!(ha["ha-servers"]["remote"]["role"], "secondary", "{st}");
}

/// Sends one Kea command and returns the answer.
fn command(socket: &Path, json: &str) -> serde_json::Value {
    kea::command(socket, json).unwrap()
}

fn state(p: &Process) -> Option<String> {
    testbed::demo::our_failover_states(&p.log_lines()).0
}

fn wait_for(servers: &[&Process], what: &str, want: &[&str], within: Duration) {
    let end = Instant::now() + within;
    loop {
        let states: Vec<_> = servers.iter().map(|p| state(p)).collect();
        if states
            .iter()
            .all(|s| s.as_deref().is_some_and(|s| want.contains(&s)))
        {
            return;
        }
        assert!(
            Instant::now() < end,
            "{what}: states {states:?}, wanted {want:?}, within {within:?}:\n{}",
            servers
                .iter()
                .map(|p| p.log_lines().join("\n"))
                .collect::<Vec<_>>()
                .join("\n---\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn ha_maintenance_start_hands_over_without_a_failed_boot() {
    if !testbed::can_run_root_test("ha_maintenance_start_hands_over_without_a_failed_boot") {
        return;
    }
    let lab: Lab = LabBuilder::new()
        .wide()
        .server("srv1")
        .server("srv2")
        .server("srv3")
        .client("cli1")
        .build()
        .unwrap();
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut servers = Vec::new();
    for (host, this) in [("srv2", "server1"), ("srv3", "server2")] {
        let dir = kea::directory(&lab, this).unwrap();
        let conf = config(&dir, this);
        servers.push(kea::start(&lab, host, this, KeaServer::Ours, &conf).unwrap());
        dirs.push(dir);
    }
    let stays = dirs[0].join("kea4-ctrl.sock");
    wait_for(
        &[&servers[0], &servers[1]],
        "the pair",
        &["normal"],
        Duration::from_secs(90),
    );
    // Announcing needs NORMAL with the partner connected; cancelling what
    // was never announced is an error.
    let r = command(&stays, r#"{ "command": "ha-maintenance-cancel" }"#);
    assert_eq!(r["result"], 1, "{r}");
    check_ha_status(&stays, "load-balancing", &["server1"]);

    // PXE clients booting over 24 s (ten a second), with a PXE ROM's
    // timers: 4 s first timeout, doubling; a boot fails when no lease came
    // within the swarm's 70 s.
    let mut cfg = SwarmConfig::new(CLIENTS);
    cfg.client.initial_timeout = Duration::from_secs(4);
    cfg.client.max_timeout = Duration::from_secs(32);
    cfg.client.renew = false;
    cfg.configure_addresses = false;
    cfg.start_spread = Duration::from_secs(24);
    cfg.deadline = Duration::from_secs(70);
    let swarm = Swarm::spawn(lab.namespace("cli1").unwrap(), cfg).unwrap();

    std::thread::sleep(Duration::from_secs(6));
    let r = command(&stays, r#"{ "command": "ha-maintenance-start" }"#);
    assert_eq!(r["result"], 0, "{r}");
    let announced = swarm.started().elapsed();
    check_ha_status(&stays, "partner-in-maintenance", &["server1", "server2"]);
    // Announcing twice is an error, as in Kea.
    let r = command(&stays, r#"{ "command": "ha-maintenance-start" }"#);
    assert_eq!(r["result"], 1, "{r}");
    std::thread::sleep(Duration::from_secs(3));
    let stopped_at = swarm.started().elapsed();
    let status = servers[1].terminate(Duration::from_secs(10)).unwrap();
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    wait_for(
        &[&servers[0]],
        "after the partner's stop",
        &["partner-down"],
        Duration::from_secs(3),
    );
    let partner_down_at = swarm.started().elapsed();
    check_ha_status(&stays, "partner-down", &["server1", "server2"]);
    let report = swarm.wait().unwrap();
    eprintln!(
        "{}",
        report.summary_table("PXE clients across ha-maintenance-start and the partner's stop")
    );
    eprintln!(
        "announced at {announced:?}, partner stopped at {stopped_at:?}, partner-down by {partner_down_at:?}"
    );
    let failed = report.failures();
    assert_eq!(failed, 0, "{failed} clients failed to boot");
    assert!(report.duplicate_addresses().is_empty());
    let by_server = report.leases_by_server();
    eprintln!("leases by server: {by_server:?}");
    // Both served before the stop; only the staying server after it.
    let late_from_stopped = report
        .events
        .iter()
        .filter(|e| {
            e.at > stopped_at + Duration::from_millis(200)
                && matches!(&e.event, ClientEvent::Bound { server, .. } if *server == SECONDARY)
        })
        .count();
    assert_eq!(late_from_stopped, 0);
    assert!(by_server.get(&SECONDARY).copied().unwrap_or(0) > 0);
    let wait = report.longest_wait().unwrap();
    eprintln!("longest client wait {wait:?}");

    // The stopped server comes back and recovers (RECOVER, UPDREQALL; it
    // waits out MCLT from its last state change in RECOVER-WAIT before it
    // serves, as an ISC server does); the staying server keeps serving.
    servers[1].restart().unwrap();
    wait_for(
        &[&servers[1]],
        "the restarted server",
        &["recover-wait", "recover-done", "normal"],
        Duration::from_secs(60),
    );
    let r = command(&stays, r#"{ "command": "ha-maintenance-cancel" }"#);
    assert_eq!(r["result"], 0, "{r}");
    let r = command(&stays, r#"{ "command": "ha-maintenance-cancel" }"#);
    assert_eq!(r["result"], 1, "{r}");
    for s in &mut servers {
        s.kill().unwrap();
    }
}
