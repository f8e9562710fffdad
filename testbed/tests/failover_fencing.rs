//! Fencing-aware automatic partner-down in the lab (issue 16): a pair of
//! our daemons whose failover link runs between second addresses
//! (10.99.0.101 and .102 on the same bridge) while clients and the
//! client-link probes use 10.99.0.1 and .2. Blackhole routes to the
//! partner's failover address cut the failover link only.
//!
//! 1. Failover link cut, partner alive and serving: both servers go
//!    COMMUNICATIONS-INTERRUPTED and stay there long past
//!    `auto_partner_down` (each still sees the other answer on the client
//!    link); the withheld takeover is logged and counted in the status; a
//!    client is still served.
//! 2. The secondary then SIGKILLed: the primary's probes go unanswered and
//!    it enters PARTNER-DOWN, no sooner than `auto_partner_down` after the
//!    partner's last answer, and within a few probe intervals of it.

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

mod failover_common;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use dhcp_core::config::FencingConfig;
use failover_common::*;
use testbed::server::{FailoverRole, FailoverSpec, ServerSpec};
use testbed::sim::{Swarm, SwarmConfig};
use testbed::topology;

const APD: u32 = 6;
const INTERVAL: u32 = 1;
const FO: [Ipv4Addr; 2] = [Ipv4Addr::new(10, 99, 0, 101), Ipv4Addr::new(10, 99, 0, 102)];

fn spec(role: FailoverRole, me: usize) -> ServerSpec {
    let client_link = [topology::server_address(0), topology::server_address(1)];
    let mut f = FailoverSpec::new(role, FO[me], FO[1 - me]);
    f.max_response_delay = 3;
    f.auto_partner_down = APD;
    f.fencing = Some(FencingConfig {
        probe_from: Some(client_link[me]),
        probe_to: Some(client_link[1 - me]),
        interval: INTERVAL,
    });
    ServerSpec::standard(topology::server_address(0))
        .with_range(Ipv4Addr::new(10, 99, 0, 10), Ipv4Addr::new(10, 99, 0, 90))
        .with_lease_time(120, 120)
        .with_failover(f)
}

fn failover_link(lab: &testbed::lab::Lab, cut: bool) {
    for (host, peer) in [("srv1", FO[1]), ("srv2", FO[0])] {
        let verb = if cut { "add" } else { "del" };
        lab.exec(
            host,
            "ip",
            &["route", verb, "blackhole", &format!("{peer}/32")],
        )
        .unwrap();
    }
}

#[test]
fn partner_down_waits_for_silence_on_the_client_link_too() {
    if !testbed::can_run_root_test("partner_down_waits_for_silence_on_the_client_link_too") {
        return;
    }
    let lab = pair_lab();
    for (host, addr) in [("srv1", FO[0]), ("srv2", FO[1])] {
        lab.exec(
            host,
            "ip",
            &["addr", "add", &format!("{addr}/24"), "dev", "eth0"],
        )
        .unwrap();
    }
    let server = Impl::Ours.server();
    let mut p = server
        .start(&lab, "srv1", &spec(FailoverRole::Primary, 0))
        .unwrap();
    let mut s = server
        .start(&lab, "srv2", &spec(FailoverRole::Secondary, 1))
        .unwrap();
    wait_state(Impl::Ours, &p, "normal", Duration::from_secs(40));
    wait_state(Impl::Ours, &s, "normal", Duration::from_secs(40));

    // 1. The failover link breaks; both partners keep serving clients.
    failover_link(&lab, true);
    let cut = Instant::now();
    wait_state(
        Impl::Ours,
        &p,
        "communications-interrupted",
        Duration::from_secs(20),
    );
    wait_state(
        Impl::Ours,
        &s,
        "communications-interrupted",
        Duration::from_secs(20),
    );
    std::thread::sleep(Duration::from_secs(u64::from(3 * APD)));
    for (name, proc_) in [("primary", &p), ("secondary", &s)] {
        assert_eq!(
            state_of(Impl::Ours, proc_).as_deref(),
            Some("communications-interrupted"),
            "the {name} took over while its partner was still serving"
        );
        assert!(
            proc_
                .log_lines()
                .iter()
                .any(|l| l.contains("automatic partner-down withheld")),
            "the {name} raised no alert"
        );
    }
    for host in ["srv1", "srv2"] {
        let f = our_relationship_json(&lab, host)["fencing"].clone();
        eprintln!("{host} fencing after {:?} cut: {f}", cut.elapsed());
        assert!(f["answers"].as_u64().unwrap() >= 3, "{host}: {f}");
        assert!(f["withheld"].as_u64().unwrap() >= 1, "{host}: {f}");
    }
    let mut cfg = SwarmConfig::new(1);
    cfg.configure_addresses = false;
    cfg.client.renew = false;
    cfg.deadline = Duration::from_secs(20);
    let report = Swarm::spawn(lab.namespace("cli1").unwrap(), cfg)
        .unwrap()
        .wait()
        .unwrap();
    assert_eq!(report.bound(), 1, "a client is served during the cut");

    // 2. The secondary dies: the primary's probes fall silent.
    let last_answer_seen = Instant::now();
    s.kill().unwrap();
    wait_state(
        Impl::Ours,
        &p,
        "partner-down",
        Duration::from_secs(u64::from(APD + 10 * INTERVAL)),
    );
    let took = last_answer_seen.elapsed();
    eprintln!(
        "primary PARTNER-DOWN {took:?} after the partner's SIGKILL (auto_partner_down {APD} s)"
    );
    assert!(
        took + Duration::from_secs(u64::from(INTERVAL) + 1) >= Duration::from_secs(u64::from(APD)),
        "took over {took:?} after the last answer, before auto_partner_down"
    );
    p.terminate(Duration::from_secs(10)).unwrap();
}
