//! ISC's command line and ISC configuration files through the real binary:
//! `-t -cf` (0/1 with ISC-shaped errors), `-t -cf -4 FILE`, `-6`,
//! `import-isc` and `check-config` on an ISC file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_dhcpd");

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

#[test]
fn test_mode_accepts_the_maas_fixture() {
    let f = fixture("maas-primary.conf");
    let out = dhcpd(&["-t", "-cf", f.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("checking the configuration file"), "{err}");
    assert!(
        err.contains("OK (3 subnets, 4 pools, 2 hosts, 1 failover relationships)"),
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
