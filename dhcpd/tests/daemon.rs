//! End-to-end tests of the `dhcpd` binary on loopback, unprivileged ports,
//! requests relayed by a fake relay agent (giaddr on 127.0.0.0/8).

mod common;

use std::net::Ipv4Addr;
use std::process::Command;
use std::time::Duration;

use common::*;
use dhcproto::v4::{DhcpOption, MessageType, OptionCode};

const RELAY_A: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const RELAY_B: Ipv4Addr = Ipv4Addr::new(127, 0, 1, 1);
const SERVER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);

fn in_range(a: Ipv4Addr, start: [u8; 4], end: [u8; 4]) -> bool {
    (u32::from(Ipv4Addr::from(start))..=u32::from(Ipv4Addr::from(end))).contains(&u32::from(a))
}

/// DORA through a relay: OFFER and ACK carry an address from the pool, the
/// interface address as server identifier, the subnet's options, next server
/// and the PXE boot file; replies go to the relay from the server port; each
/// transaction is logged; SIGTERM stops the daemon with status 0.
#[test]
fn relayed_dora_gets_lease_options_and_boot_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "dhcpd.toml", CONFIG);
    let relay = Relay::bind(RELAY_A);
    let d = Daemon::start(
        dir.path(),
        &cfg,
        &dir.path().join("store"),
        relay.port(),
        &[],
    );

    let offer = d.exchange(&relay, &discover(mac(1), RELAY_A, 0x1001));
    assert_eq!(msg_type(&offer), MessageType::Offer);
    let addr = offer.yiaddr();
    assert!(in_range(addr, [127, 0, 0, 100], [127, 0, 0, 199]), "{addr}");
    assert_eq!(server_id(&offer), SERVER);
    assert_eq!(offer.siaddr(), Ipv4Addr::new(127, 0, 0, 1));
    assert_eq!(offer.giaddr(), RELAY_A);
    assert_eq!(offer.chaddr(), &mac(1)[..]);
    assert_eq!(boot_file(&offer), "bootx64.efi");
    let o = offer.opts();
    assert_eq!(
        o.get(OptionCode::SubnetMask),
        Some(&DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)))
    );
    assert_eq!(
        o.get(OptionCode::Router),
        Some(&DhcpOption::Router(vec![Ipv4Addr::new(127, 0, 0, 1)]))
    );
    assert_eq!(
        o.get(OptionCode::DomainNameServer),
        Some(&DhcpOption::DomainNameServer(vec![Ipv4Addr::new(
            127, 0, 0, 53
        )]))
    );
    assert!(o.get(OptionCode::AddressLeaseTime).is_some());

    let ack = d.exchange(
        &relay,
        &request_selecting(mac(1), RELAY_A, 0x1002, addr, SERVER),
    );
    assert_eq!(msg_type(&ack), MessageType::Ack);
    assert_eq!(ack.yiaddr(), addr);
    assert_eq!(server_id(&ack), SERVER);
    assert_eq!(boot_file(&ack), "bootx64.efi");
    // PXE ROMs get the short PXE lease time (default 30 s).
    assert_eq!(
        ack.opts().get(OptionCode::AddressLeaseTime),
        Some(&DhcpOption::AddressLeaseTime(30))
    );

    // SIGHUP does not stop the daemon (reload comes later).
    // SAFETY: signalling our own child by its PID.
    unsafe {
        libc::kill(d.pid(), libc::SIGHUP);
    }
    // The signal is handled by its own task: wait for it, or a SIGTERM sent
    // right after may be taken first and the SIGHUP never logged.
    d.wait_log("SIGHUP received", Duration::from_secs(10));

    // A second client gets a different address.
    let offer2 = d.exchange(&relay, &discover(mac(2), RELAY_A, 0x2001));
    assert_ne!(offer2.yiaddr(), addr);

    let (status, log) = d.terminate();
    assert!(status.success(), "exit status {status}\n{log}");
    let mac1 = "02:00:00:99:00:01";
    assert!(
        log.contains(&format!(
            "DHCPDISCOVER from {mac1} via lo relay 127.0.0.1: DHCPOFFER {addr}"
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "DHCPREQUEST from {mac1} via lo relay 127.0.0.1: DHCPACK {addr} (30s)"
        )),
        "{log}"
    );
    assert!(log.contains("lease store flushed"), "{log}");
    assert!(log.contains("SIGHUP received"), "{log}");
}

/// Two relayed subnets: the giaddr selects the subnet; a REQUEST for an
/// address of the other subnet is NAKed to the relay.
#[test]
fn giaddr_selects_the_subnet() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "dhcpd.toml", CONFIG);
    let relay_a = Relay::bind(RELAY_A);
    let relay_b = Relay::bind_port(RELAY_B, relay_a.port());
    let d = Daemon::start(
        dir.path(),
        &cfg,
        &dir.path().join("store"),
        relay_a.port(),
        &["--quiet"],
    );

    let offer = d.exchange(&relay_b, &discover(mac(3), RELAY_B, 0x3001));
    assert_eq!(msg_type(&offer), MessageType::Offer);
    assert!(in_range(offer.yiaddr(), [127, 0, 1, 10], [127, 0, 1, 20]));
    assert_eq!(offer.giaddr(), RELAY_B);
    // The second subnet has no options of its own: mask derived from the subnet.
    assert_eq!(
        offer.opts().get(OptionCode::SubnetMask),
        Some(&DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)))
    );
    let ack = d.exchange(
        &relay_b,
        &request_selecting(mac(3), RELAY_B, 0x3002, offer.yiaddr(), SERVER),
    );
    assert_eq!(msg_type(&ack), MessageType::Ack);

    // The same client, moved behind relay A, asks for its old address: NAK.
    let nak = d.exchange(
        &relay_a,
        &request_init_reboot(mac(3), RELAY_A, 0x3003, offer.yiaddr()),
    );
    assert_eq!(msg_type(&nak), MessageType::Nak);

    let stats_path = d.stats.clone();
    let (status, log) = d.terminate();
    assert!(status.success(), "{log}");
    // --quiet: no transaction lines.
    assert!(!log.contains("DHCPDISCOVER from"), "{log}");
    let stats = Daemon::read_stats(&stats_path);
    assert!(stats["sent.offer"] >= 1);
    assert!(stats["sent.ack"] >= 1);
    assert!(stats["sent.nak"] >= 1);
}

/// Leases are durable: after SIGINT and a restart on the same store, the
/// client's INIT-REBOOT REQUEST is ACKed and a DISCOVER is offered the same
/// address.
#[test]
fn lease_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "dhcpd.toml", CONFIG);
    let store = dir.path().join("store");
    let relay = Relay::bind(RELAY_A);

    let d = Daemon::start(dir.path(), &cfg, &store, relay.port(), &[]);
    let offer = d.exchange(&relay, &discover(mac(7), RELAY_A, 0x7001));
    let addr = offer.yiaddr();
    let ack = d.exchange(
        &relay,
        &request_selecting(mac(7), RELAY_A, 0x7002, addr, SERVER),
    );
    assert_eq!(msg_type(&ack), MessageType::Ack);
    // SIGINT stops it as cleanly as SIGTERM.
    let (status, log) = d.stop_with(libc::SIGINT);
    assert!(status.success(), "{log}");
    assert!(log.contains("SIGINT received"), "{log}");

    let d = Daemon::start(dir.path(), &cfg, &store, relay.port(), &[]);
    assert!(d.log_text().contains("restored="), "{}", d.log_text());
    // Another client first: it must not get the stored address.
    let other = d.exchange(&relay, &discover(mac(8), RELAY_A, 0x8001));
    assert_ne!(other.yiaddr(), addr);
    let ack = d.exchange(&relay, &request_init_reboot(mac(7), RELAY_A, 0x7003, addr));
    assert_eq!(msg_type(&ack), MessageType::Ack);
    assert_eq!(ack.yiaddr(), addr);
    let offer = d.exchange(&relay, &discover(mac(7), RELAY_A, 0x7004));
    assert_eq!(offer.yiaddr(), addr);
    let (status, log) = d.terminate();
    assert!(status.success(), "{log}");
}

/// Malformed datagrams are dropped and counted by reason while a good client
/// is still served.
#[test]
fn malformed_datagrams_are_dropped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "dhcpd.toml", CONFIG);
    let relay = Relay::bind(RELAY_A);
    let d = Daemon::start(
        dir.path(),
        &cfg,
        &dir.path().join("store"),
        relay.port(),
        &[],
    );

    let good = {
        use dhcproto::{Encodable, Encoder};
        let mut v = Vec::new();
        discover(mac(9), RELAY_A, 0x9001)
            .encode(&mut Encoder::new(&mut v))
            .unwrap();
        v
    };
    let mut bad: Vec<(&str, Vec<u8>)> =
        vec![("truncated", Vec::new()), ("truncated", vec![1; 100])];
    let mut magic = good.clone();
    magic[236] = 0;
    bad.push(("bad_magic", magic));
    let mut reply_op = good.clone();
    reply_op[0] = 2;
    bad.push(("not_request", reply_op));
    let mut hlen = good.clone();
    hlen[2] = 17;
    bad.push(("bad_hlen", hlen));
    let mut overrun = good[..240].to_vec();
    overrun.extend_from_slice(&[53, 1, 1, 60, 200, b'P']);
    bad.push(("option_overrun", overrun));
    let mut bootp = good[..240].to_vec();
    bootp.push(255);
    bad.push(("no_message_type", bootp));
    let mut offer_type = good[..240].to_vec();
    offer_type.extend_from_slice(&[53, 1, 2, 255]);
    bad.push(("unexpected_type", offer_type));
    let mut bad_len = good[..240].to_vec();
    bad_len.extend_from_slice(&[53, 1, 1, 50, 3, 1, 2, 3, 255]);
    bad.push(("bad_option_length", bad_len));

    for (_, b) in &bad {
        relay.send_raw(d.port, b);
    }
    // Random junk of every length, as a flood would send.
    let mut x: u32 = 0x1234_5678;
    for len in 0..300usize {
        let junk: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        relay.send_raw(d.port, &junk);
    }
    let offer = d.exchange(&relay, &discover(mac(9), RELAY_A, 0x9002));
    assert_eq!(msg_type(&offer), MessageType::Offer);
    let ack = d.exchange(
        &relay,
        &request_selecting(mac(9), RELAY_A, 0x9003, offer.yiaddr(), SERVER),
    );
    assert_eq!(msg_type(&ack), MessageType::Ack);

    // The stats file is rewritten while the daemon runs.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(8);
    loop {
        let live = std::fs::read_to_string(&d.stats).unwrap_or_default();
        let acks = live
            .lines()
            .find_map(|l| l.strip_prefix("sent.ack "))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        if acks >= 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "stale stats:\n{live}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let stats_path = d.stats.clone();
    let (status, log) = d.terminate();
    assert!(status.success(), "{log}");
    let stats = Daemon::read_stats(&stats_path);
    for (reason, _) in &bad {
        assert!(
            stats[&format!("drop.{reason}")] >= 1,
            "drop.{reason} not counted: {stats:?}"
        );
    }
    // Everything received was either dropped with a reason or handled (the
    // kernel may drop some of the junk itself when the socket buffer fills).
    let handled: u64 = [
        "discover", "request", "decline", "release", "inform", "other",
    ]
    .iter()
    .map(|t| stats[&format!("request.{t}")])
    .sum();
    assert_eq!(stats["received"], stats["dropped"] + handled, "{stats:?}");
    assert!(stats["dropped"] >= bad.len() as u64, "{stats:?}");
    assert!(
        stats["received"] <= bad.len() as u64 + 300 + 10,
        "{stats:?}"
    );
    assert!(stats["sent.offer"] >= 1);
    assert!(stats["sent.ack"] >= 1);
    assert!(log.contains("dropped="), "{log}");
}

/// `check-config` accepts a good file and rejects a bad one, naming the key.
#[test]
fn check_config_names_the_key_path() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.toml", CONFIG);
    let out = Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("OK (2 subnets"));

    let bad = write(
        dir.path(),
        "bad.toml",
        &CONFIG.replace("end = \"127.0.1.20\"", "end = \"127.0.2.20\""),
    );
    let out = Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("subnets[1].pools[0].end"), "{err}");

    let level = write(
        dir.path(),
        "level.toml",
        &CONFIG.replace("[server]", "[server]\nlog_level = \"loud\""),
    );
    let out = Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(&level)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("server.log_level"), "{err}");

    // `run` refuses the same file before opening anything.
    let out = Command::new(BIN)
        .args(["run", "--config"])
        .arg(&bad)
        .arg("--store")
        .arg(dir.path().join("never"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(!dir.path().join("never").exists());
}

/// The timer expires leases and commits the change.
#[test]
fn expired_leases_are_committed_by_the_timer() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "dhcpd.toml",
        &format!("{CONFIG}\n[pxe]\npxe_lease_time = 1\n"),
    );
    let relay = Relay::bind(RELAY_A);
    let d = Daemon::start(
        dir.path(),
        &cfg,
        &dir.path().join("store"),
        relay.port(),
        &[],
    );
    let offer = d.exchange(&relay, &discover(mac(11), RELAY_A, 0xb001));
    let ack = d.exchange(
        &relay,
        &request_selecting(mac(11), RELAY_A, 0xb002, offer.yiaddr(), SERVER),
    );
    assert_eq!(
        ack.opts().get(OptionCode::AddressLeaseTime),
        Some(&DhcpOption::AddressLeaseTime(1))
    );
    std::thread::sleep(std::time::Duration::from_millis(3500));
    let stats_path = d.stats.clone();
    let (status, log) = d.terminate();
    assert!(status.success(), "{log}");
    let stats = Daemon::read_stats(&stats_path);
    assert!(stats["expiry_writes"] >= 1, "{stats:?}");
    assert_eq!(stats["commit_errors"], 0);
}
