//! systemd integration: the shipped unit file passes `systemd-analyze
//! verify`; under a notify socket the daemon sends READY=1 (after its sockets
//! and store are open), STATUS= and, with WATCHDOG_USEC, WATCHDOG=1 pings;
//! and it serves a client as user `nobody` holding only CAP_NET_BIND_SERVICE
//! and CAP_NET_RAW (what the unit grants), on a privileged loopback port.

use std::net::UdpSocket;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use crate::ops_support::*;

const UNIT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/systemd/dhcp-failover-server.service"
);

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Kills the child (by PID) when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn unit_file_verifies() {
    if !have("systemd-analyze") {
        eprintln!("SKIPPED: systemd-analyze not found");
        return;
    }
    let unit = std::fs::read_to_string(UNIT).unwrap();
    for key in [
        "Type=notify",
        "User=dhcpd",
        "AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_NET_RAW",
        "ProtectSystem=strict",
        "StateDirectory=dhcpd",
        "WatchdogSec=",
        "ExecReload=/bin/kill -HUP $MAINPID",
    ] {
        assert!(unit.contains(key), "the unit lacks {key}");
    }
    // verify checks that the executable exists: point it at the one built.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("dhcp-failover-server.service");
    std::fs::write(&copy, unit.replace("/usr/sbin/dhcp-failover-server", BIN)).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&copy)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "systemd-analyze verify failed:\n{text}"
    );
    let complaints: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("dhcp-failover-server.service"))
        .collect();
    assert!(complaints.is_empty(), "systemd-analyze verify:\n{text}");
}

fn spawn(
    bin: &Path,
    dir: &Path,
    port: u16,
    relay: u16,
    envs: &[(&str, String)],
    wrap: &[&str],
) -> (Guard, std::path::PathBuf) {
    let cfg = write(dir, "dhcpd.toml", CONFIG);
    let log = dir.join(format!("dhcpd-{port}.log"));
    let mut cmd = if wrap.is_empty() {
        Command::new(bin)
    } else {
        let mut c = Command::new(wrap[0]);
        c.args(&wrap[1..]).arg(bin);
        c
    };
    cmd.args(["run", "--config"])
        .arg(&cfg)
        .arg("--store")
        .arg(dir.join("store"))
        .args(["--interface", "lo", "--log-level", "debug"])
        .args(["--server-port", &port.to_string()])
        .args(["--client-port", &free_port().to_string()])
        .args(["--relay-port", &relay.to_string()])
        .env_remove("RUST_LOG")
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .env_remove("WATCHDOG_PID")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    (Guard(cmd.spawn().unwrap()), log)
}

#[test]
fn notifies_ready_status_and_watchdog() {
    let dir = tempfile::tempdir().unwrap();
    let notify = dir.path().join("notify.sock");
    let rx = UnixDatagram::bind(&notify).unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let relay = Relay::bind(RELAY);
    let port = free_port();
    let (guard, log) = spawn(
        Path::new(BIN),
        dir.path(),
        port,
        relay.port(),
        &[
            ("NOTIFY_SOCKET", notify.display().to_string()),
            ("WATCHDOG_USEC", "400000".to_owned()),
        ],
        &[],
    );
    let mut buf = [0u8; 1024];
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && !got.iter().any(|m: &String| m.contains("WATCHDOG=1")) {
        let n = rx.recv(&mut buf).expect("a notification");
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(
        got[0].starts_with("READY=1\nSTATUS=serving: 2 pools"),
        "{got:?}"
    );
    // READY only once the sockets are open: the log already says serving.
    assert!(log_text.contains("serving"), "{log_text}");
    assert!(got.iter().any(|m| m == "WATCHDOG=1"), "{got:?}\n{log_text}");
    assert!(
        got.iter()
            .any(|m| m.starts_with("STATUS=") && m.contains("failover: standalone")),
        "{got:?}"
    );
    // The daemon serves meanwhile.
    let relay_ok = relay.try_exchange(port, &discover(mac(1), RELAY, 1));
    assert!(relay_ok.is_some(), "{log_text}");
    // SAFETY: signalling our own child by its PID.
    unsafe {
        libc::kill(guard.0.id() as i32, libc::SIGTERM);
    }
    let stopping = (0..20).find_map(|_| {
        let n = rx.recv(&mut buf).ok()?;
        let m = String::from_utf8_lossy(&buf[..n]).into_owned();
        m.starts_with("STOPPING=1").then_some(m)
    });
    assert!(stopping.is_some(), "no STOPPING=1");
}

/// A free UDP port below 1024 on 127.0.0.1 (needs root to probe).
fn privileged_port() -> Option<u16> {
    (600..1000).find(|p| UdpSocket::bind(("127.0.0.1", *p)).is_ok())
}

#[test]
fn serves_as_nobody_with_only_the_unit_capabilities() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: needs root to drop to nobody with capabilities");
        return;
    }
    if !have("setpriv") {
        eprintln!("SKIPPED: setpriv (util-linux) not found");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    // The binary and a store directory owned by nobody, as StateDirectory= does.
    let bin = d.join("dhcpd");
    std::fs::copy(BIN, &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let store = d.join("store");
    std::fs::create_dir(&store).unwrap();
    std::os::unix::fs::chown(&store, Some(65534), Some(65534)).unwrap();
    let port = privileged_port().expect("a free privileged port");
    let relay = Relay::bind(RELAY);
    let caps = "-all,+net_bind_service,+net_raw";
    let (guard, log) = spawn(
        &bin,
        d,
        port,
        relay.port(),
        &[],
        &[
            "setpriv",
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            "--bounding-set",
            caps,
            "--inh-caps",
            caps,
            "--ambient-caps",
            caps,
            "--",
        ],
    );
    let pid = guard.0.id();
    let status_of = || std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        wait_until(Duration::from_secs(20), || read_log().contains("serving")),
        "{}",
        read_log()
    );
    let status = status_of();
    let field = |k: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(k))
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    assert_eq!(field("Uid:"), "65534 65534 65534 65534", "{status}");
    assert_eq!(field("CapEff:"), "0000000000002400", "{status}");
    assert_eq!(field("CapBnd:"), "0000000000002400", "{status}");
    // A full DORA on the privileged port.
    let daemon_port = port;
    let offer = relay
        .try_exchange(daemon_port, &discover(mac(1), RELAY, 1))
        .unwrap_or_else(|| panic!("no offer:\n{}", read_log()));
    let ack = relay
        .try_exchange(
            daemon_port,
            &request_selecting(mac(1), RELAY, 2, offer.yiaddr(), server_id(&offer)),
        )
        .unwrap_or_else(|| panic!("no ack:\n{}", read_log()));
    assert_eq!(ack.yiaddr(), offer.yiaddr());
    let text = read_log();
    // CAP_NET_RAW was enough for the layer-2 socket.
    assert!(!text.contains("no layer-2 socket"), "{text}");
    // SAFETY: signalling our own child by its PID.
    unsafe {
        libc::kill(pid as i32, libc::SIGTERM);
    }
    drop(guard);
}
