//! ISC's command line and ISC configuration files through the real binary:
//! `-t -cf` (0/1 with ISC-shaped errors), `-t -cf -4 FILE`, `-6`,
//! `import-isc` and `check-config` on an ISC file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
mod ops_support;

use common::BIN;
use ops_support::free_tcp_port;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../dhcp-isc/tests/fixtures")
        .join(name)
}

fn dhcpd(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Starts the binary with ISC's argv `args` (stderr to `log`) and waits
/// until it serves.
fn start_serving(args: &[&std::ffi::OsStr], log: &Path) -> std::process::Child {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let log_text = || std::fs::read_to_string(log).unwrap_or_default();
    while !log_text().contains("serving") {
        assert!(
            std::time::Instant::now() < deadline,
            "not serving:\n{}",
            log_text()
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "exited:\n{}",
            log_text()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child
}

#[test]
fn test_mode_accepts_the_maas_fixture() {
    let f = fixture("maas-primary.conf");
    let out = dhcpd(&["-t", "-cf", f.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("checking the configuration file"), "{err}");
    assert!(
        err.contains("OK (3 subnets, 4 pools, 2 hosts, 1 failover relationship)"),
        "{err}"
    );
}

#[test]
fn test_mode_refuses_with_isc_shaped_errors() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("dhcpd.conf");
    std::fs::write(&f, "default-lease-time 600;\nddns-update-style none;\n").unwrap();
    let out = dhcpd(&["-t", "-cf", f.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "{} line 2: statement \"ddns-update-style\" is not supported\nddns-update-style none;\n^",
            f.display()
        )),
        "{err}"
    );
    assert!(
        err.contains("Configuration file errors encountered -- exiting"),
        "{err}"
    );
}

#[test]
fn test_mode_with_cf_swallowing_dash_4_says_what_it_checked() {
    let f = fixture("maas-primary.conf");
    let out = dhcpd(&["-t", "-cf", "-4", f.to_str().unwrap()]);
    let err = text(&out.stderr);
    // As ISC, -cf takes "-4" as the file name; the fixture is a trailing
    // interface name. No crash: a clear failure naming both.
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("checking the configuration file -4"), "{err}");
    assert!(err.contains("interface names, not checked"), "{err}");
    assert!(err.contains("cannot read -4"), "{err}");
}

#[test]
fn dhcpv6_is_refused_clearly() {
    let out = dhcpd(&["-6", "-cf", "/nonexistent"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("DHCPv6 is not supported"));
}

#[test]
fn unknown_isc_flag_is_refused() {
    let out = dhcpd(&["-f", "-s", "10.99.0.1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("-s: option not supported"));
}

#[test]
fn import_isc_prints_loadable_toml() {
    let f = fixture("maas-secondary.conf");
    let out = dhcpd(&["import-isc", f.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let toml = text(&out.stdout);
    let cfg = dhcp_core::config::Config::from_toml(&toml).unwrap();
    assert_eq!(cfg.failover[0].name, "failover-vlan-5001");
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("imported.toml");
    std::fs::write(&t, &toml).unwrap();
    let out = dhcpd(&["check-config", "--config", t.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn check_config_accepts_an_isc_file() {
    let f = fixture("maas-primary.conf");
    let out = dhcpd(&["check-config", "-c", f.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(": OK (3 subnets"));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("dhcpd.conf");
    std::fs::write(&bad, "subnet 10.99.0.0 netmask 255.255.255.0 { pool { option routers 10.99.0.1; range 10.99.0.5 10.99.0.9; } }\n").unwrap();
    let out = dhcpd(&["check-config", "-c", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("line 1: statement \"option\" is not supported in a pool"));
}

/// Serving as MAAS starts ISC (`-f -q -4 -pf -cf -lf IFACE`, here on
/// loopback with `-p`): the pid file holds our pid, the store is created
/// beside the lease file, the lease file is kept in ISC's format, OMAPI
/// listens on the file's `omapi-port` with its key, and a SIGTERM stops the
/// daemon and removes the pid file.
#[test]
fn serves_under_the_isc_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let omapi_port = free_tcp_port();
    let conf = dir.path().join("dhcpd.conf");
    std::fs::write(
        &conf,
        format!(
            "omapi-port {omapi_port};\n\
             key omapi_key {{ algorithm HMAC-MD5; secret \"c2VjcmV0c2VjcmV0c2VjcmV0\"; }};\n\
             omapi-key omapi_key;\n\
             subnet 127.0.0.0 netmask 255.255.255.0 {{\n  range 127.0.0.100 127.0.0.199;\n}}\n"
        ),
    )
    .unwrap();
    let pid_file = dir.path().join("dhcpd.pid");
    let leases = dir.path().join("dhcpd.leases");
    let log = dir.path().join("stderr");
    let port = common::free_port().to_string();
    let argv: Vec<&std::ffi::OsStr> = vec![
        "-f".as_ref(),
        "-4".as_ref(),
        "-p".as_ref(),
        port.as_ref(),
        "-pf".as_ref(),
        pid_file.as_os_str(),
        "-cf".as_ref(),
        conf.as_os_str(),
        "-lf".as_ref(),
        leases.as_os_str(),
        "lo".as_ref(),
    ];
    let mut child = start_serving(&argv, &log);
    let log_text = || std::fs::read_to_string(&log).unwrap_or_default();
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert_eq!(pid.trim(), child.id().to_string());
    assert!(dir.path().join("dhcpd.leases.store").is_dir());
    // OMAPI: the server's startup message (protocol version 100, header 24).
    let mut s = std::net::TcpStream::connect(("127.0.0.1", omapi_port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut hello = [0u8; 8];
    std::io::Read::read_exact(&mut s, &mut hello).unwrap();
    assert_eq!(hello, [0, 0, 0, 100, 0, 0, 0, 24]);
    let key_file = dir.path().join("dhcpd.leases.store/omapi.key");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&key_file).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    // SIGTERM: a clean stop, the pid file gone, the lease file written.
    // SAFETY: kill(2) on the pid of the child this test spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert!(status.success(), "{}", log_text());
    assert!(!pid_file.exists());
    let text = std::fs::read_to_string(&leases).unwrap();
    assert!(
        text.contains("authoring-byte-order little-endian;"),
        "{text}"
    );
}

/// ISC's `failover peer` stanza for a loopback pair.
fn isc_pair_config(role: &str, me: (&str, u16), peer: (&str, u16)) -> String {
    let primary_only = if role == "primary" {
        "    mclt 60;\n    split 255;\n"
    } else {
        ""
    };
    format!(
        "authoritative;\nignore-client-uids true;\n\
         failover peer \"failover-vlan-1\" {{\n    {role};\n    address {};\n    port {};\n    \
         peer address {};\n    peer port {};\n    max-response-delay 6;\n    max-unacked-updates 10;\n    \
         load balance max seconds 3;\n{primary_only}}}\n\
         subnet 127.0.0.0 netmask 255.255.255.0 {{\n    option routers 127.0.0.1;\n    pool {{\n        \
         failover peer \"failover-vlan-1\";\n        range 127.0.0.100 127.0.0.199;\n    }}\n}}\n",
        me.0, me.1, peer.0, peer.1
    )
}

/// Our pair started by the command lines MAAS gives ISC (one rack each, here
/// 127.0.0.1 and 127.0.0.2 on loopback, MAAS's split 255) reaches NORMAL.
#[test]
fn a_pair_started_by_isc_command_lines_reaches_normal() {
    let dir = tempfile::tempdir().unwrap();
    let p1 = free_tcp_port();
    let p2 = free_tcp_port();
    let racks = [
        ("primary", ("127.0.0.1", p1), ("127.0.0.2", p2)),
        ("secondary", ("127.0.0.2", p2), ("127.0.0.1", p1)),
    ];
    let mut children = Vec::new();
    for (i, (role, me, peer)) in racks.iter().enumerate() {
        let rack = dir.path().join(format!("rack{i}"));
        std::fs::create_dir_all(&rack).unwrap();
        let conf = rack.join("dhcpd.conf");
        std::fs::write(&conf, isc_pair_config(role, *me, *peer)).unwrap();
        let log = rack.join("stderr");
        let child = Command::new(BIN)
            .args(["-f", "-4", "-p", &common::free_port().to_string(), "-pf"])
            .arg(rack.join("dhcpd.pid"))
            .arg("-cf")
            .arg(&conf)
            .arg("-lf")
            .arg(rack.join("dhcpd.leases"))
            .arg("lo")
            .env("RUST_LOG", "info")
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        children.push((child, log));
    }
    let normal = "failover status: state=normal partner=normal";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let logs: Vec<String> = children
            .iter()
            .map(|(_, log)| std::fs::read_to_string(log).unwrap_or_default())
            .collect();
        if logs.iter().all(|l| l.contains(normal)) {
            break;
        }
        if std::time::Instant::now() > deadline {
            for (c, _) in &mut children {
                let _ = c.kill();
            }
            panic!("not NORMAL within 60 s:\n{}", logs.join("\n-----\n"));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    for (c, log) in &mut children {
        // SAFETY: kill(2) on the pid of a child this test spawned.
        unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
        let status = c.wait().unwrap();
        assert!(
            status.success(),
            "{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }
}

/// `-user nobody -group nogroup` as root: the daemon becomes that user with
/// only CAP_NET_BIND_SERVICE and CAP_NET_RAW (SO_BINDTODEVICE needs the
/// latter, so serving at all shows it was kept), its store is the user's,
/// and it still writes the lease file and stops cleanly. Skipped when not
/// root or when Debian's `nobody`/`nogroup` are missing.
#[test]
fn drops_to_the_isc_user_and_group() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: needs root: drops_to_the_isc_user_and_group");
        return;
    }
    let Ok(Some(nobody)) = nix::unistd::User::from_name("nobody") else {
        eprintln!("SKIPPED: no user nobody: drops_to_the_isc_user_and_group");
        return;
    };
    let Ok(Some(nogroup)) = nix::unistd::Group::from_name("nogroup") else {
        eprintln!("SKIPPED: no group nogroup: drops_to_the_isc_user_and_group");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // The lease file's directory is the user's to write, as MAAS makes it.
    std::os::unix::fs::chown(
        dir.path(),
        Some(nobody.uid.as_raw()),
        Some(nogroup.gid.as_raw()),
    )
    .unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let conf = dir.path().join("dhcpd.conf");
    std::fs::write(
        &conf,
        "subnet 127.0.0.0 netmask 255.255.255.0 {\n  range 127.0.0.100 127.0.0.199;\n}\n",
    )
    .unwrap();
    let leases = dir.path().join("dhcpd.leases");
    std::fs::write(&leases, "").unwrap();
    let log = dir.path().join("stderr");
    let port = common::free_port().to_string();
    let argv: Vec<&std::ffi::OsStr> = vec![
        "-user".as_ref(),
        "nobody".as_ref(),
        "-group".as_ref(),
        "nogroup".as_ref(),
        "-f".as_ref(),
        "-4".as_ref(),
        "-p".as_ref(),
        port.as_ref(),
        "-cf".as_ref(),
        conf.as_os_str(),
        "-lf".as_ref(),
        leases.as_os_str(),
        "lo".as_ref(),
    ];
    let mut child = start_serving(&argv, &log);
    let log_text = || std::fs::read_to_string(&log).unwrap_or_default();
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.split_whitespace().collect::<Vec<_>>())
            .unwrap()
    };
    let uid = nobody.uid.as_raw().to_string();
    let gid = nogroup.gid.as_raw().to_string();
    assert!(field("Uid:").iter().all(|u| *u == uid), "{status}");
    assert!(field("Gid:").iter().all(|g| *g == gid), "{status}");
    assert_eq!(field("Groups:"), [gid.as_str()], "{status}");
    // CAP_NET_BIND_SERVICE (10) and CAP_NET_RAW (13), nothing else.
    assert_eq!(field("CapEff:"), ["0000000000002400"], "{status}");
    assert_eq!(field("CapPrm:"), ["0000000000002400"], "{status}");
    assert_eq!(field("CapInh:"), ["0000000000000000"], "{status}");
    let store = dir.path().join("dhcpd.leases.store");
    let owner = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&store).unwrap());
    assert_eq!(owner, nobody.uid.as_raw());
    // SAFETY: kill(2) on the pid of the child this test spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let st = child.wait().unwrap();
    assert!(st.success(), "{}", log_text());
    let text = std::fs::read_to_string(&leases).unwrap();
    assert!(text.contains("authoring-byte-order"), "{text}");
}
