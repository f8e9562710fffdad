//! Issue 17's renumbering case, with MAAS's parameters: ISC dhcpd 4.4 as
//! primary and ours as secondary, both started by ISC's command line from
//! the MAAS-style fixture (split 255, mclt 3600, 30 s PXE leases), 20
//! dhclient clients that send a PXE vendor class (so they get 30 s
//! leases). Once every client is bound by the primary, ISC is SIGKILLed.
//! The clients' renewals go unanswered, their leases run out, and they
//! come back to our secondary (by REBIND, or by DISCOVER with their old
//! address): every one of the 20 must keep its address.
//!
//! Build the daemon first (`cargo build -p dhcpd`); needs root,
//! `/usr/sbin/dhcpd` and dhclient (isc-dhcp-client).

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use testbed::topology::LabBuilder;
use testbed::{Lab, Process};

const ISC: &str = "/usr/sbin/dhcpd";
const CLIENTS: usize = 20;
const SECONDARY: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 3);

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../dhcp-isc/tests/fixtures")
        .join(name)
}

fn start(lab: &Lab, program: &str, host: &str, conf: &str) -> Process {
    let text = std::fs::read_to_string(fixture(conf)).unwrap();
    testbed::server::start_with_isc_argv(lab, host, host, std::path::Path::new(program), &text)
        .unwrap()
}

fn wait_log(p: &mut Process, needle: &str, timeout: Duration) {
    let end = Instant::now() + timeout;
    while !p.log_lines().iter().any(|l| l.contains(needle)) {
        assert!(
            p.is_running(),
            "{} exited:\n{}",
            p.name(),
            p.log_lines().join("\n")
        );
        assert!(
            Instant::now() < end,
            "{}: no {needle:?} within {timeout:?}:\n{}",
            p.name(),
            p.log_lines().join("\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The hook: one line per event (`REASON ADDRESS SERVER-ID`) appended to
/// the client's log; the address configured in the client's namespace only.
const HOOK: &str = r#"#!/bin/sh
echo "$reason ${new_ip_address:--} ${new_dhcp_server_identifier:--}" >> @LOG@
case "$reason" in
  PREINIT) ip link set dev "$interface" up ;;
  BOUND|RENEW|REBIND|REBOOT)
    [ -n "$new_ip_address" ] && ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface" ;;
  EXPIRE|FAIL|RELEASE|STOP)
    [ -n "$old_ip_address" ] && ip addr del "$old_ip_address/$old_subnet_mask" dev "$interface" ;;
esac
exit 0
"#;

/// A dhclient that keeps running (renewing, rebinding) in `host`.
fn dhclient(lab: &Lab, host: &str) -> (Process, PathBuf) {
    let log = lab.path(&format!("{host}-events.log"));
    let hook = lab
        .write_script(
            &format!("{host}-hook.sh"),
            &HOOK.replace("@LOG@", &log.to_string_lossy()),
        )
        .unwrap();
    let conf = lab
        .write_file(
            &format!("{host}-dhclient.conf"),
            "send vendor-class-identifier \"PXEClient:Arch:00000:UNDI:002001\";\n\
             request subnet-mask, routers, domain-name;\n",
        )
        .unwrap();
    let args = [
        "-4".to_owned(),
        "-d".to_owned(),
        "-v".to_owned(),
        "-cf".to_owned(),
        conf.to_string_lossy().into_owned(),
        "-sf".to_owned(),
        hook.to_string_lossy().into_owned(),
        "-lf".to_owned(),
        lab.path(&format!("{host}.dhclient.leases"))
            .to_string_lossy()
            .into_owned(),
        "-pf".to_owned(),
        lab.path(&format!("{host}.dhclient.pid"))
            .to_string_lossy()
            .into_owned(),
        "eth0".to_owned(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let p = lab
        .spawn(host, &format!("dhclient-{host}"), "dhclient", &args)
        .unwrap();
    (p, log)
}

/// The client's events: (reason, address, server identifier).
fn events(log: &PathBuf) -> Vec<(String, Option<Ipv4Addr>, Option<Ipv4Addr>)> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((
                w.next()?.to_owned(),
                w.next()?.parse().ok(),
                w.next()?.parse().ok(),
            ))
        })
        .collect()
}

fn is_bind(reason: &str) -> bool {
    matches!(reason, "BOUND" | "RENEW" | "REBIND" | "REBOOT")
}

#[test]
fn clients_keep_their_addresses_when_our_secondary_survives_isc() {
    let test = "clients_keep_their_addresses_when_our_secondary_survives_isc";
    if !testbed::can_run_root_test(test) {
        return;
    }
    if !std::path::Path::new(ISC).exists() || !testbed::netns::have_program("dhclient") {
        eprintln!("SKIPPED: needs ISC dhcpd and dhclient: {test}");
        return;
    }
    let hosts: Vec<String> = (1..=CLIENTS).map(|i| format!("c{i:02}")).collect();
    let mut b = LabBuilder::new()
        .server("srv1")
        .server("srv2")
        .server("srv3");
    for h in &hosts {
        b = b.client(h);
    }
    let lab = b.build().unwrap();
    let ours = testbed::server::default_our_binary();
    let mut primary = start(&lab, ISC, "srv2", "maas-primary.conf");
    let mut secondary = start(&lab, &ours.to_string_lossy(), "srv3", "maas-secondary.conf");
    wait_log(
        &mut primary,
        "I move from recover-done to normal",
        Duration::from_secs(90),
    );
    wait_log(
        &mut secondary,
        "state=normal partner=normal",
        Duration::from_secs(30),
    );

    let clients: Vec<(Process, PathBuf)> = hosts.iter().map(|h| dhclient(&lab, h)).collect();
    let mut before = BTreeMap::new();
    let end = Instant::now() + Duration::from_secs(60);
    while before.len() < CLIENTS {
        assert!(Instant::now() < end, "bound before the kill: {before:?}");
        for (i, (_, log)) in clients.iter().enumerate() {
            if let Some((_, Some(a), _)) = events(log).iter().rev().find(|e| is_bind(&e.0)) {
                before.insert(i, *a);
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // Let the primary's binding updates reach the secondary.
    std::thread::sleep(Duration::from_secs(3));
    let lines_at_kill: Vec<usize> = clients.iter().map(|(_, l)| events(l).len()).collect();
    primary.kill().unwrap();
    let killed = Instant::now();

    // Each client, after the kill, binds again through our secondary.
    let mut after: BTreeMap<usize, (Ipv4Addr, String, Duration)> = BTreeMap::new();
    let end = killed + Duration::from_secs(150);
    while after.len() < CLIENTS && Instant::now() < end {
        for (i, (_, log)) in clients.iter().enumerate() {
            if after.contains_key(&i) {
                continue;
            }
            let ev = events(log);
            if let Some((r, Some(a), _)) = ev[lines_at_kill[i]..]
                .iter()
                .find(|e| is_bind(&e.0) && e.2 == Some(SECONDARY))
            {
                after.insert(i, (*a, r.clone(), killed.elapsed()));
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut table = String::from("client | before | after (via) | after the kill\n");
    let mut kept = 0;
    for (i, a) in &before {
        let row = match after.get(i) {
            Some((b, how, t)) => {
                if b == a {
                    kept += 1;
                }
                format!("{b} ({how}) | {:.1} s", t.as_secs_f64())
            }
            None => "- | not bound again".to_owned(),
        };
        table.push_str(&format!("{} | {a} | {row}\n", hosts[*i]));
    }
    eprintln!("{table}{kept}/{CLIENTS} kept their address");
    drop(clients);
    secondary.kill().unwrap();
    assert_eq!(kept, CLIENTS, "renumbered or unserved clients:\n{table}");
}
