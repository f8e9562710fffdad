//! Kea's dialect through the real binary: `import-kea`, the `kea-dhcp4`
//! command line (`-t`, `-v`, `-V`, `-W`, `-c`), and a Kea file served on
//! loopback (a UEFI PXE client gets the boot file of its Kea class).

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod common;

use common::{BIN, Daemon, Relay};

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../dhcp-kea/tests/corpus")
        .join(name)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The binary under the name `kea-dhcp4` (a symbolic link in `dir`).
fn kea_dhcp4(dir: &Path) -> PathBuf {
    let link = dir.join("kea-dhcp4");
    std::os::unix::fs::symlink(BIN, &link).unwrap();
    link
}

fn run(prog: &Path, args: &[&str]) -> Output {
    Command::new(prog)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

/// A Kea file for loopback: relayed clients of 127.0.0.0/24, a UEFI x64
/// boot class, the memfile (and so our store) in `dir`.
fn loopback_config(dir: &Path) -> PathBuf {
    let lease_file = dir.join("kea-leases4.csv");
    common::write(
        dir,
        "kea-dhcp4.conf",
        &format!(
            r#"{{
  // Served on loopback by the test.
  "Dhcp4": {{
    "interfaces-config": {{ "interfaces": [ "lo" ] }},
    "lease-database": {{ "type": "memfile", "name": "{}" }},
    "valid-lifetime": 600,
    "client-classes": [
      {{ "name": "uefi-x64", "test": "option[93].hex == 0x0007", "boot-file-name": "bootx64.efi" }}
    ],
    "subnet4": [ {{
      "id": 1, "subnet": "127.0.0.0/24", "next-server": "127.0.0.1",
      "option-data": [ {{ "name": "routers", "data": "127.0.0.1" }} ],
      "pools": [ {{ "pool": "127.0.0.100 - 127.0.0.199" }} ]
    }} ]
  }}
}}
"#,
            lease_file.display()
        ),
    )
}

#[test]
fn import_kea_prints_toml_or_the_path_of_the_error() {
    let f = corpus("valid/v04-maas-like-boot-classes.json");
    let out = run(Path::new(BIN), &["import-kea", f.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let toml = text(&out.stdout);
    assert!(toml.starts_with("# Converted from Kea Dhcp4 configuration"));
    assert!(toml.contains("name = \"uefi-tftp\""), "{toml}");
    let f = corpus("invalid/e02-unknown-pool-key.json");
    let out = run(Path::new(BIN), &["import-kea", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).ends_with("Dhcp4/subnet4[0]/pools[1]/foo: unknown key\n"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn kea_command_line_test_and_versions() {
    let dir = tempfile::tempdir().unwrap();
    let kea = kea_dhcp4(dir.path());
    let good = corpus("valid/v05-ha-load-balancing.json");
    let out = run(&kea, &["-t", good.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("OK (1 subnet, 1 pool, 0 hosts, 1 failover relationship)"),
        "{err}"
    );
    assert!(
        err.contains("a real Kea peer speaks Kea's HA protocol"),
        "{err}"
    );
    let bad = corpus("invalid/e03-lease-database-mysql.json");
    let out = run(&kea, &["-t", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("Syntax check failed with: ") && err.contains("Dhcp4/lease-database/type"),
        "{err}"
    );
    for flag in ["-v", "-V", "-W"] {
        let out = run(&kea, &[flag]);
        assert!(out.status.success(), "{flag}: {}", text(&out.stderr));
        assert!(text(&out.stdout).starts_with(env!("CARGO_PKG_VERSION")) || flag == "-W");
    }
    // Under the daemon's own name, -v and -c are Kea's; -V is still ours.
    let out = run(Path::new(BIN), &["-v"]);
    assert_eq!(text(&out.stdout).trim(), env!("CARGO_PKG_VERSION"));
    let out = run(Path::new(BIN), &["-V"]);
    assert!(
        text(&out.stdout).starts_with("dhcpd "),
        "{}",
        text(&out.stdout)
    );
    let out = run(&kea, &["-x"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn kea_dash_c_serves_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let kea = kea_dhcp4(dir.path());
    let conf = loopback_config(dir.path());
    let log = dir.path().join("stderr");
    let port = common::free_port().to_string();
    let mut child = Command::new(&kea)
        .args(["-c", conf.to_str().unwrap(), "-p", &port])
        .env_remove("RUST_LOG")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let log_text = || std::fs::read_to_string(&log).unwrap_or_default();
    while !log_text().contains("serving") {
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            let _ = child.wait();
            panic!("not serving:\n{}", log_text());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(log_text().contains("(Kea command line)"), "{}", log_text());
    // The store is beside the memfile.
    assert!(dir.path().join("kea-leases4.csv.store").is_dir());
    // SAFETY: kill(2) on the pid of the child this test spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}:\n{}", log_text());
}

#[test]
fn a_kea_file_is_served_like_any_other() {
    let dir = tempfile::tempdir().unwrap();
    let conf = loopback_config(dir.path());
    let relay = Relay::bind(Ipv4Addr::new(127, 0, 0, 1));
    let store = dir.path().join("store");
    let d = Daemon::start(dir.path(), &conf, &store, relay.port(), &[]);
    let offer = d.exchange(&relay, &common::discover(common::mac(1), relay.addr, 1));
    assert_eq!(common::msg_type(&offer), dhcproto::v4::MessageType::Offer);
    assert_eq!(common::boot_file(&offer), "bootx64.efi");
    assert_eq!(offer.siaddr(), Ipv4Addr::new(127, 0, 0, 1));
    let lease = offer.opts().get(dhcproto::v4::OptionCode::AddressLeaseTime);
    assert_eq!(
        lease,
        Some(&dhcproto::v4::DhcpOption::AddressLeaseTime(600)),
        "{}",
        d.log_text()
    );
    let (status, log) = d.terminate();
    assert!(status.success(), "{log}");
}
