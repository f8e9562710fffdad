//! The ISC-format lease file (`--lease-file`, ISC's `-lf`): written while
//! leases change and at shutdown, read by ISC's own `dhcp-lease-list`
//! (Debian's isc-dhcp-server), which lists the same leases as
//! `dhcpd leases list`; a file rewritten by someone else does not stop a start.

use std::path::Path;
use std::time::Duration;

use crate::common::*;
use crate::ops_support::*;

const LEASE_LIST: &str = "/usr/sbin/dhcp-lease-list";

/// `(ip, mac)` pairs of `dhcp-lease-list --parsable`.
fn isc_listing(file: &Path) -> Option<Vec<(String, String)>> {
    if !Path::new(LEASE_LIST).exists() {
        return None;
    }
    let out = std::process::Command::new(LEASE_LIST)
        .args(["--parsable", "--lease"])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut pairs: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let mac = w.iter().position(|x| *x == "MAC")?;
            let ip = w.iter().position(|x| *x == "IP")?;
            Some((w.get(ip + 1)?.to_string(), w.get(mac + 1)?.to_string()))
        })
        .collect();
    pairs.sort();
    Some(pairs)
}

#[test]
fn the_isc_lease_file_lists_what_the_daemon_lists() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "dhcpd.toml", CONFIG);
    let store = dir.path().join("store");
    let sock = dir.path().join("control.sock");
    let file = dir.path().join("dhcpd.leases");
    // MAAS's pre-start step may have rewritten the file: it is not read back.
    std::fs::write(
        &file,
        "host stale { hardware ethernet 02:00:00:00:00:01; }\n",
    )
    .unwrap();
    let relay = Relay::bind(RELAY);
    let d = Daemon::start(
        dir.path(),
        &cfg,
        &store,
        relay.port(),
        &[
            "--control-socket",
            sock.to_str().unwrap(),
            "--lease-file",
            file.to_str().unwrap(),
        ],
    );
    for i in 1..=3u8 {
        dora(&d, &relay, mac(i), 0x40 + u32::from(i));
    }
    let ours = ctl_json(&sock, &["leases", "list"]);
    let mut expected: Vec<(String, String)> = ours["leases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["ip"].as_str().unwrap().to_owned(),
                l["mac"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    expected.sort();
    assert_eq!(expected.len(), 3);
    // Written while running (within the rewrite interval and a tick).
    assert!(
        wait_until(Duration::from_secs(15), || std::fs::read_to_string(&file)
            .is_ok_and(|t| t.matches("binding state active").count() == 3)),
        "{:?}",
        std::fs::read_to_string(&file)
    );
    let (status, log) = d.terminate();
    assert!(status.success(), "{log}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("host stale"), "{text}");
    for (ip, mac) in &expected {
        assert!(text.contains(&format!("lease {ip} {{")), "{text}");
        assert!(
            text.contains(&format!("hardware ethernet {mac};")),
            "{text}"
        );
    }
    match isc_listing(&file) {
        Some(listed) => assert_eq!(listed, expected, "dhcp-lease-list read:\n{text}"),
        None => println!("SKIPPED the dhcp-lease-list comparison: {LEASE_LIST} not installed"),
    }
}
