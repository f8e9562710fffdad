//! The control socket and the CLI against a running daemon: status, leases
//! list/show/release, runtime hosts (served at once, surviving a restart,
//! removable), failover commands while standalone, socket permissions.

use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;

use crate::common::*;
use crate::ops_support::*;
use dhcproto::v4::MessageType;

const HOST_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 50);

#[test]
fn cli_drives_a_running_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "dhcpd.toml", CONFIG);
    let store = dir.path().join("store");
    let sock = dir.path().join("control.sock");
    let sock_s = sock.to_str().unwrap().to_owned();
    let relay = Relay::bind(RELAY);
    let start = || {
        Daemon::start(
            dir.path(),
            &cfg,
            &store,
            relay.port(),
            &["--control-socket", &sock_s],
        )
    };
    let d = start();
    assert_eq!(
        std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777,
        0o660
    );

    // status, human and JSON.
    let st = ctl(&sock, &["status"]);
    assert!(st.ok, "{}", st.stderr);
    assert!(st.stdout.contains("failover: standalone"), "{}", st.stdout);
    assert!(
        st.stdout.contains("127.0.0.100-127.0.0.199"),
        "{}",
        st.stdout
    );
    // FREE and BACKUP apart (a secondary's free addresses are BACKUP).
    let header = st
        .stdout
        .lines()
        .find(|l| l.starts_with("NETWORK"))
        .unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        [
            "NETWORK", "POOL", "SIZE", "ACTIVE", "FREE", "BACKUP", "USED"
        ],
        "{}",
        st.stdout
    );
    let st = ctl_json(&sock, &["status"]);
    assert_eq!(st["kind"], "status");
    assert_eq!(st["pools"].as_array().unwrap().len(), 2);
    assert_eq!(st["pools"][0]["size"], 100);

    // A lease, seen by list and show, then released.
    let ack = dora(&d, &relay, mac(1), 0x10);
    let ip = ack.yiaddr();
    let leases = ctl_json(&sock, &["leases", "list"]);
    let list = leases["leases"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{leases}");
    assert_eq!(list[0]["ip"], ip.to_string());
    assert_eq!(list[0]["state"], "active");
    assert_eq!(list[0]["mac"], "02:00:00:99:00:01");
    let human = ctl(&sock, &["leases", "list"]);
    assert!(human.stdout.contains(&ip.to_string()), "{}", human.stdout);
    assert!(human.stdout.contains("1 leases"), "{}", human.stdout);
    let shown = ctl_json(&sock, &["leases", "show", "02:00:00:99:00:01"]);
    assert_eq!(shown["lease"]["ip"], ip.to_string());
    let rel = ctl_json(&sock, &["leases", "release", &ip.to_string()]);
    assert_eq!(rel["lease"]["state"], "free");
    assert!(
        ctl_json(&sock, &["leases", "list"])["leases"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let again = ctl(&sock, &["leases", "release", &ip.to_string()]);
    assert!(
        !again.ok && again.stderr.contains("not active"),
        "{}",
        again.stderr
    );
    let bad = ctl(&sock, &["leases", "show", "nonsense"]);
    assert!(!bad.ok, "{}", bad.stdout);

    // A runtime host is served at once.
    let added = ctl(
        &sock,
        &[
            "hosts",
            "add",
            "node7",
            "--mac",
            "02:00:00:99:00:07",
            "--ip",
            "127.0.0.50",
        ],
    );
    assert!(added.ok, "{}", added.stderr);
    let ack = dora(&d, &relay, mac(7), 0x70);
    assert_eq!(ack.yiaddr(), HOST_IP);
    // Conflicts are refused with the reason.
    let dup = ctl(
        &sock,
        &[
            "hosts",
            "add",
            "other",
            "--mac",
            "02:00:00:99:00:08",
            "--ip",
            "127.0.0.50",
        ],
    );
    assert!(
        !dup.ok && dup.stderr.contains("already reserved"),
        "{}",
        dup.stderr
    );
    let outside = ctl(
        &sock,
        &[
            "hosts",
            "add",
            "far",
            "--mac",
            "02:00:00:99:00:09",
            "--ip",
            "127.9.9.9",
        ],
    );
    assert!(
        !outside.ok && outside.stderr.contains("no configured subnet"),
        "{}",
        outside.stderr
    );
    let hosts = ctl_json(&sock, &["hosts", "list"]);
    assert_eq!(hosts["hosts"][0]["source"], "runtime");
    assert_eq!(hosts["hosts"][0]["host"]["name"], "node7");

    // Failover commands while standalone.
    let fs = ctl(&sock, &["failover", "status"]);
    assert!(fs.ok && fs.stdout.contains("standalone"), "{}", fs.stdout);
    let pd = ctl(&sock, &["failover", "partner-down"]);
    assert!(!pd.ok && pd.stderr.contains("standalone"), "{}", pd.stderr);

    // The runtime host survives a restart.
    let (status, log) = d.terminate();
    assert!(status.success(), "{log}");
    assert!(!sock.exists(), "the control socket was not removed");
    let d = start();
    assert!(d.log_text().contains("runtime host reservations restored"));
    let ack = d.exchange(&relay, &request_init_reboot(mac(7), RELAY, 0x80, HOST_IP));
    assert_eq!(msg_type(&ack), MessageType::Ack);
    assert_eq!(ack.yiaddr(), HOST_IP);

    // Removed, the client gets a pool address; config hosts cannot be removed.
    let removed = ctl(&sock, &["hosts", "remove", "node7"]);
    assert!(removed.ok, "{}", removed.stderr);
    let ack = dora(&d, &relay, mac(7), 0x90);
    assert_ne!(ack.yiaddr(), HOST_IP);
    let missing = ctl(&sock, &["hosts", "remove", "node7"]);
    assert!(!missing.ok, "{}", missing.stdout);
    let added = ctl(
        &sock,
        &[
            "hosts",
            "add",
            "node8",
            "--mac",
            "02:00:00:99:00:08",
            "--ip",
            "127.0.0.51",
        ],
    );
    assert!(added.ok, "{}", added.stderr);
    drop(d);

    // MAAS semantics on request: runtime hosts do not outlive a restart.
    let d = Daemon::start(
        dir.path(),
        &cfg,
        &store,
        relay.port(),
        &["--control-socket", &sock_s, "--forget-runtime-hosts"],
    );
    assert!(d.log_text().contains("runtime host reservations forgotten"));
    let hosts = ctl_json(&sock, &["hosts", "list"]);
    assert!(hosts["hosts"].as_array().unwrap().is_empty(), "{hosts}");
    drop(d);

    // No daemon: a clear error, non-zero exit.
    let none = ctl(&dir.path().join("absent.sock"), &["status"]);
    assert!(
        !none.ok && none.stderr.contains("cannot connect"),
        "{}",
        none.stderr
    );
}
