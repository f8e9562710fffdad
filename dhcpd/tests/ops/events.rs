//! MAAS lease notifications: a test listener bound where MAAS's rack would
//! bind receives one JSON datagram per commit, release and expiry with the
//! fields of maas-integration.md §7.2 (an operator's release included); the
//! event command gets the same JSON
//! on stdin; a missing receiver never stops serving (events dropped, counted).

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::*;
use crate::ops_support::*;
use dhcproto::v4::DhcpOption;
use serde_json::Value;

/// Short leases, no PXE lease time, so that expiry comes quickly.
const SHORT: &str = r#"
[server]
ignore_client_uids = true

[lease_time]
default = 2
max = 2

[pxe]
pxe_lease_time = 0

[[subnets]]
subnet = "127.0.0.0/24"
[[subnets.pools]]
start = "127.0.0.100"
end = "127.0.0.199"
"#;

fn next(sock: &UnixDatagram) -> (String, Value) {
    let mut buf = [0u8; 4096];
    let n = sock.recv(&mut buf).expect("a lease event datagram");
    let text = String::from_utf8(buf[..n].to_vec()).unwrap();
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (text, v)
}

/// The next datagram with `action`, skipping repeated commits (a client
/// retransmitting on a slow machine gets a second ACK, hence a second commit).
fn expect(sock: &UnixDatagram, action: &str) -> (String, Value) {
    loop {
        let (text, v) = next(sock);
        if v["action"] == action {
            return (text, v);
        }
        assert_eq!(v["action"], "commit", "expected {action}, got {text}");
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn commit_release_and_expiry_datagrams() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "dhcpd.toml", SHORT);
    let path = dir.path().join("dhcpd.sock");
    let listener = UnixDatagram::bind(&path).unwrap();
    listener
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let out = dir.path().join("events.jsonl");
    let sock = dir.path().join("control.sock");
    let cmd = format!("cat >> {}", out.display());
    let relay = Relay::bind(RELAY);
    let d = Daemon::start(
        dir.path(),
        &cfg,
        &dir.path().join("store"),
        relay.port(),
        &[
            "--event-socket",
            path.to_str().unwrap(),
            "--event-command",
            &cmd,
            "--control-socket",
            sock.to_str().unwrap(),
        ],
    );

    // Commit, with the client's host name.
    let m = [0x52, 0x54, 0, 0, 0, 7];
    let offer = d.exchange(
        &relay,
        &with(discover(m, RELAY, 1), DhcpOption::Hostname("node-7".into())),
    );
    let ip = offer.yiaddr();
    let t0 = now();
    let ack = d.exchange(
        &relay,
        &with(
            request_selecting(m, RELAY, 2, ip, server_id(&offer)),
            DhcpOption::Hostname("node-7".into()),
        ),
    );
    assert_eq!(ack.yiaddr(), ip);
    let (text, c) = next(&listener);
    assert!(!text.ends_with('\n'), "trailing newline in {text:?}");
    assert_eq!(c["action"], "commit");
    assert_eq!(c["mac"], "52:54:0:0:0:7", "{text}");
    assert_eq!(c["ip_family"], "ipv4");
    assert_eq!(c["ip"], ip.to_string());
    assert_eq!(c["lease_time"], 2);
    assert_eq!(c["hostname"], "node-7");
    assert!((c["timestamp"].as_i64().unwrap() - t0).abs() <= 2, "{text}");

    // Release: no lease_time, no hostname.
    send_only(&d, &relay, &release(m, RELAY, 3, ip));
    let (text, r) = expect(&listener, "release");
    assert_eq!(r["ip"], ip.to_string());
    assert_eq!(r["mac"], "52:54:0:0:0:7");
    assert!(
        r.get("lease_time").is_none() && r.get("hostname").is_none(),
        "{text}"
    );

    // An operator's release is reported as a release too.
    let m3 = [0x52, 0x54, 0, 0, 0, 9];
    let ack3 = dora(&d, &relay, m3, 20);
    expect(&listener, "commit");
    let r = ctl(&sock, &["leases", "release", &ack3.yiaddr().to_string()]);
    assert!(r.ok, "{}", r.stderr);
    let (text, r3) = expect(&listener, "release");
    assert_eq!(r3["mac"], "52:54:0:0:0:9", "{text}");
    assert_eq!(r3["ip"], ack3.yiaddr().to_string());

    // Expiry of a second client's 2 s lease; it sent no host name.
    let m2 = [0x52, 0x54, 0, 0, 0, 8];
    let ack2 = dora(&d, &relay, m2, 10);
    let (text, c2) = expect(&listener, "commit");
    assert_eq!(c2["hostname"], "(none)", "{text}");
    let (text, e) = expect(&listener, "expiry");
    assert_eq!(e["mac"], "52:54:0:0:0:8");
    assert_eq!(e["ip"], ack2.yiaddr().to_string());
    assert!(e.get("lease_time").is_none(), "{text}");

    // The command got the same four events, one JSON object per line.
    let mut lines = Vec::new();
    assert!(wait_until(Duration::from_secs(10), || {
        lines = std::fs::read_to_string(&out)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
        lines.len() >= 6
    }));
    let mut actions: Vec<String> = lines
        .iter()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    actions.dedup();
    assert_eq!(
        actions,
        ["commit", "release", "commit", "release", "commit", "expiry"]
    );

    let stats = d.stats.clone();
    let (status, log) = d.terminate();
    assert!(status.success(), "{log}");
    let s = Daemon::read_stats(&stats);
    assert!(s["events_delivered"] >= 12, "{s:?}");
    assert_eq!(s["events_dropped"], 0, "{s:?}");
}

#[test]
fn a_missing_receiver_never_blocks_serving() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "dhcpd.toml", CONFIG);
    let relay = Relay::bind(RELAY);
    let d = Daemon::start(
        dir.path(),
        &cfg,
        &dir.path().join("store"),
        relay.port(),
        &[
            "--event-socket",
            dir.path().join("nobody-listens.sock").to_str().unwrap(),
            "--event-command",
            "sleep 30",
            "--event-queue",
            "2",
        ],
    );
    for i in 0..5u8 {
        dora(&d, &relay, mac(i), 0x100 * u32::from(i) + 1);
    }
    let stats = d.stats.clone();
    let (status, log) = d.terminate();
    assert!(status.success(), "{log}");
    assert!(log.contains("cannot send a lease event"), "{log}");
    let s = Daemon::read_stats(&stats);
    assert_eq!(s["sent.ack"], 5, "{s:?}");
    // Five to the socket (no receiver) and at least two to the full command
    // queue were dropped.
    assert!(s["events_dropped"] >= 7, "{s:?}");
    assert_eq!(s["events_delivered"], 0, "{s:?}");
}

/// A daemon on `cfg` (store in `dir`), relayed through `relay`.
fn start_with(dir: &std::path::Path, cfg: &std::path::Path, relay: &Relay) -> Daemon {
    Daemon::start(dir, cfg, &dir.join("store"), relay.port(), &[])
}

/// An executable script `name` in `dir`.
fn script(dir: &std::path::Path, name: &str, body: &str) -> std::path::PathBuf {
    let path = write(dir, name, body);
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    path
}

/// DORA for `m` sending host name `name`; the address acknowledged.
fn dora_named(d: &Daemon, relay: &Relay, m: [u8; 6], name: &str) -> std::net::Ipv4Addr {
    let offer = d.exchange(
        relay,
        &with(discover(m, RELAY, 1), DhcpOption::Hostname(name.into())),
    );
    let ip = offer.yiaddr();
    d.exchange(
        relay,
        &with(
            request_selecting(m, RELAY, 2, ip, server_id(&offer)),
            DhcpOption::Hostname(name.into()),
        ),
    );
    ip
}

/// Waits (10 s at most) until the lines of `out`, sorted, are `want`
/// (sorted): programs run concurrently.
fn wait_lines(d: &Daemon, out: &std::path::Path, want: &[String]) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(out).unwrap_or_default();
        let mut got: Vec<String> = text.lines().map(str::to_owned).collect();
        got.sort();
        if got == want {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "program log {got:?}, want {want:?}\n{}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An ISC file's `on commit` / `on release` hooks run their programs with
/// the evaluated arguments (MAAS's argument expressions), after the lease is
/// durable, without a shell; MAAS's own notify helper is not run (its
/// datagram is sent instead).
#[test]
fn isc_hooks_run_their_programs_with_evaluated_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("hook.log");
    let script = script(
        dir.path(),
        "hook.sh",
        &format!("#!/bin/sh\necho \"$@\" >> {}\n", out.display()),
    );
    let conf = format!(
        "default-lease-time 600;\nmax-lease-time 600;\n\
         subnet 127.0.0.0 netmask 255.255.255.0 {{ range 127.0.0.100 127.0.0.199; }}\n\
         on commit {{\n\
           set clhw = binary-to-ascii(16, 8, \":\", substring(hardware, 1, 6));\n\
           set clip = binary-to-ascii(10, 8, \".\", leased-address);\n\
           set cllt = binary-to-ascii(10, 32, \"\", encode-int(lease-time, 32));\n\
           set clht = pick-first-value(option host-name, \"(none)\");\n\
           execute(\"{s}\", \"commit\", clhw, clip, cllt, clht);\n\
           execute(\"/usr/sbin/maas-dhcp-helper\", \"notify\", \"--action\", \"commit\", \"--socket\", \"/nonexistent.sock\");\n\
         }}\n\
         on release {{\n\
           execute(\"{s}\", \"release\", binary-to-ascii(10, 8, \".\", leased-address));\n\
         }}\n",
        s = script.display()
    );
    let cfg = write(dir.path(), "dhcpd.conf", &conf);
    let relay = Relay::bind(RELAY);
    let d = start_with(dir.path(), &cfg, &relay);
    let m = [0x52, 0x54, 0, 0x0a, 0xbb, 7];
    let ip = dora_named(&d, &relay, m, "node-7");
    send_only(&d, &relay, &release(m, RELAY, 3, ip));
    // Programs run concurrently: the two lines may come in either order.
    let mut want = vec![
        format!("commit 52:54:0:a:bb:7 {ip} 600 node-7"),
        format!("release {ip}"),
    ];
    want.sort();
    wait_lines(&d, &out, &want);
}

/// A Kea file's run_script runs its script, without a shell, with the hook
/// point as argument and Kea's variables: a commit (`leases4_committed`),
/// then a release (`leases4_committed` with the deleted lease, and
/// `lease4_release`).
#[test]
fn kea_run_script_gets_keas_arguments_and_variables() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("script.log");
    let script = script(
        dir.path(),
        "script.sh",
        &format!(
            "#!/bin/sh\necho \"$1 $LEASES4_SIZE $DELETED_LEASES4_SIZE $LEASES4_AT0_ADDRESS$LEASE4_ADDRESS $LEASES4_AT0_HWADDR$LEASE4_HWADDR $LEASES4_AT0_HOSTNAME$LEASE4_HOSTNAME $LEASES4_AT0_VALID_LIFETIME$LEASE4_VALID_LIFETIME $LEASES4_AT0_SUBNET_ID$LEASE4_SUBNET_ID $QUERY4_TYPE\" >> {}\n",
            out.display()
        ),
    );
    let conf = format!(
        r#"{{ "Dhcp4": {{
  "valid-lifetime": 600,
  "hooks-libraries": [ {{ "library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_run_script.so",
                         "parameters": {{ "name": "{s}", "sync": false }} }} ],
  "subnet4": [ {{ "id": 5, "subnet": "127.0.0.0/24", "pools": [ {{ "pool": "127.0.0.100 - 127.0.0.199" }} ] }} ]
}} }}"#,
        s = script.display()
    );
    let cfg = write(dir.path(), "kea-dhcp4.conf", &conf);
    let relay = Relay::bind(RELAY);
    let d = start_with(dir.path(), &cfg, &relay);
    let m = [0x52, 0x54, 0, 0x0a, 0xbb, 8];
    let ip = dora_named(&d, &relay, m, "node-8");
    // The commit's script run first, so that the lines are in order.
    let committed =
        format!("leases4_committed 1 0 {ip} 52:54:00:0a:bb:08 node-8 600 5 DHCPREQUEST");
    wait_lines(&d, &out, std::slice::from_ref(&committed));
    send_only(&d, &relay, &release(m, RELAY, 3, ip));
    let mut want = vec![
        committed,
        // The deleted lease is in DELETED_LEASES4_AT0_*, not printed.
        "leases4_committed 0 1      DHCPRELEASE".to_owned(),
        format!("lease4_release   {ip} 52:54:00:0a:bb:08 node-8 600 5 DHCPRELEASE"),
    ];
    want.sort();
    wait_lines(&d, &out, &want);
}
