//! Reload: a valid new configuration (SIGHUP) is applied without losing a
//! lease; an invalid one (control API) is refused with the reason, logged,
//! and the configuration in force keeps serving.

use std::time::Duration;

use crate::common::*;
use crate::ops_support::*;
use dhcproto::v4::{DhcpOption, Message, MessageType, OptionCode};

fn domain(m: &Message) -> String {
    match m.opts().get(OptionCode::DomainName) {
        Some(DhcpOption::DomainName(d)) => d.clone(),
        other => panic!("no domain name: {other:?}"),
    }
}

#[test]
fn valid_reload_applies_invalid_is_refused_no_lease_lost() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "dhcpd.toml", CONFIG);
    let sock = dir.path().join("control.sock");
    let relay = Relay::bind(RELAY);
    let d = Daemon::start(
        dir.path(),
        &cfg,
        &dir.path().join("store"),
        relay.port(),
        &["--control-socket", sock.to_str().unwrap()],
    );
    let ack = dora(&d, &relay, mac(1), 0x10);
    let ip = ack.yiaddr();
    assert_eq!(domain(&ack), "maas.test");

    // Valid change, by SIGHUP.
    write(
        dir.path(),
        "dhcpd.toml",
        &CONFIG.replace("maas.test", "reloaded.test"),
    );
    // SAFETY: signalling our own child by its PID.
    unsafe {
        libc::kill(d.pid(), libc::SIGHUP);
    }
    assert!(
        wait_until(Duration::from_secs(10), || d
            .log_text()
            .contains("configuration reloaded")),
        "{}",
        d.log_text()
    );
    let ack2 = dora(&d, &relay, mac(2), 0x20);
    assert_eq!(domain(&ack2), "reloaded.test");
    // The first lease survived: the client's INIT-REBOOT is ACKed, and the
    // lease is still listed as active.
    let again = d.exchange(&relay, &request_init_reboot(mac(1), RELAY, 0x30, ip));
    assert_eq!(msg_type(&again), MessageType::Ack);
    assert_eq!(again.yiaddr(), ip);
    let shown = ctl_json(&sock, &["leases", "show", &ip.to_string()]);
    assert_eq!(shown["lease"]["state"], "active");

    // Invalid change (a pool outside its subnet), over the control API.
    write(
        dir.path(),
        "dhcpd.toml",
        &CONFIG.replace("127.0.1.20", "127.0.2.20"),
    );
    let r = ctl(&sock, &["reload"]);
    assert!(!r.ok, "an invalid configuration was accepted: {}", r.stdout);
    assert!(r.stderr.contains("invalid configuration"), "{}", r.stderr);
    assert!(
        d.log_text().contains("configuration reload refused"),
        "{}",
        d.log_text()
    );
    // Not TOML at all: refused too.
    write(dir.path(), "dhcpd.toml", "this is [not toml");
    assert!(!ctl(&sock, &["reload"]).ok);
    let st = ctl_json(&sock, &["status"]);
    assert_eq!(st["last_reload"]["ok"], false, "{st}");

    // The reloaded configuration keeps serving, with every lease.
    let ack3 = dora(&d, &relay, mac(3), 0x40);
    assert_eq!(domain(&ack3), "reloaded.test");
    let leases = ctl_json(&sock, &["leases", "list", "--state", "active"]);
    assert_eq!(leases["leases"].as_array().unwrap().len(), 3, "{leases}");

    // And a valid file is accepted again over the API.
    write(dir.path(), "dhcpd.toml", CONFIG);
    let ok = ctl(&sock, &["reload"]);
    assert!(ok.ok, "{}", ok.stderr);
    assert!(
        ok.stdout.contains("configuration reloaded"),
        "{}",
        ok.stdout
    );
    let (status, log) = d.terminate();
    assert!(status.success(), "{log}");
}
