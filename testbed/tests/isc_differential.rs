//! The MAAS-style dhcpd.conf of `dhcp-isc/tests/fixtures` (two shared
//! networks, a failover peer with split 255 and mclt 3600, the PXE class,
//! the iPXE option space, the whole boot chain, two hosts, DNS/NTP/domain
//! options, snippets, notify hooks, OMAPI) served by ISC dhcpd 4.4 and then
//! by ours, both started by ISC's command line as MAAS starts them, as a
//! primary/secondary pair in the same namespace topology. Simulated clients
//! for every architecture of the boot table, iPXE by user class and by
//! option 175, HTTP boot, ONIE (option 125), a plain OS client, reserved
//! hosts and relayed
//! clients must get the same OFFER and ACK from both: BOOTP fields and
//! every option's code and bytes. The comparison table is printed.
//!
//! Also: our server paired with ISC from the same files (either role)
//! reaches NORMAL.
//!
//! Build the daemon first (`cargo build -p dhcpd`); needs root and
//! `/usr/sbin/dhcpd`.

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use testbed::firmware::{self, IPXE_PRL, ONIE_PRL, OS_PRL, PXE_PRL};
use testbed::probe::{self, Outcome, Probe};
use testbed::topology::{LabBuilder, RELAY_CLIENT_SIDE, RELAY_HOST};
use testbed::{Lab, Process};

const ISC: &str = "/usr/sbin/dhcpd";
const PRIMARY: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 2);
const SECONDARY: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 3);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Isc,
    Ours,
}

fn runnable(test: &str) -> bool {
    if !testbed::can_run_root_test(test) {
        return false;
    }
    if !std::path::Path::new(ISC).exists() {
        eprintln!("SKIPPED: needs ISC dhcpd (isc-dhcp-server): {test}");
        return false;
    }
    true
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../dhcp-isc/tests/fixtures")
        .join(name)
}

/// srv1 10.99.0.1 (idle), srv2 10.99.0.2 (primary), srv3 10.99.0.3
/// (secondary), cli1 on the server segment, the relay host with giaddr
/// 10.99.1.1 on VLAN 5002's first subnet.
fn lab() -> Lab {
    LabBuilder::new()
        .server("srv1")
        .server("srv2")
        .server("srv3")
        .client("cli1")
        .with_relay()
        .build()
        .unwrap()
}

/// Starts `kind` on `host` with the fixture `conf`, by ISC's command line
/// (`-f -d -4 -cf -lf -pf IFACE`), with a fresh lease file.
fn start(lab: &Lab, kind: Kind, host: &str, conf: &str, tag: &str) -> Process {
    let text = std::fs::read_to_string(fixture(conf)).unwrap();
    let program = match kind {
        Kind::Isc => PathBuf::from(ISC),
        Kind::Ours => testbed::server::default_our_binary(),
    };
    let name = format!("{tag}-{host}");
    testbed::server::start_with_isc_argv(lab, host, &name, &program, &text).unwrap()
}

fn state(kind: Kind, p: &Process) -> Option<String> {
    let lines = p.log_lines();
    match kind {
        Kind::Isc => testbed::isc::failover_states(&lines).0,
        Kind::Ours => testbed::demo::our_failover_states(&lines).0,
    }
}

fn wait_normal(kind: Kind, p: &mut Process, timeout: Duration) {
    let end = Instant::now() + timeout;
    loop {
        let s = state(kind, p);
        if s.as_deref() == Some("normal") {
            return;
        }
        assert!(
            p.is_running(),
            "{} exited:\n{}",
            p.name(),
            p.log_lines().join("\n")
        );
        assert!(
            Instant::now() < end,
            "{} not NORMAL within {timeout:?} (last: {s:?}):\n{}",
            p.name(),
            p.log_lines().join("\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts a pair (primary on srv2, secondary on srv3) and waits for NORMAL.
fn pair(lab: &Lab, p: Kind, s: Kind, tag: &str) -> (Process, Process) {
    let mut primary = start(lab, p, "srv2", "maas-primary.conf", tag);
    let mut secondary = start(lab, s, "srv3", "maas-secondary.conf", tag);
    wait_normal(p, &mut primary, Duration::from_secs(90));
    wait_normal(s, &mut secondary, Duration::from_secs(30));
    (primary, secondary)
}

// ------------------------------------------------------------------ clients

fn mac(n: u8) -> [u8; 6] {
    [0x52, 0x54, 0x00, 0x99, 0x00, n]
}

/// A firmware client (see [`firmware::firmware`]) with the test's MAC `n`.
fn firmware(name: &str, n: u8, arch: u16, vendor: &str, prl: &[u8]) -> Probe {
    firmware::firmware(name, mac(n), arch, vendor, prl)
}

fn pxe(name: &str, n: u8, arch: u16) -> Probe {
    firmware::pxe(name, mac(n), arch)
}

fn http(name: &str, n: u8, arch: u16) -> Probe {
    firmware::http(name, mac(n), arch)
}

fn ipxe(name: &str, n: u8) -> Probe {
    Probe::new(name, mac(n))
        .option(61, &[1, 0x52, 0x54, 0x00, 0x99, 0x00, n])
        .option(93, &[0, 0])
        .option(94, &[1, 2, 1])
        .option(60, b"PXEClient:Arch:00000:UNDI:002001")
        .option(55, IPXE_PRL)
}

/// ONIE on a switch (MAAS 3.8's ONIE branch: option 125, no file).
fn onie(name: &str, n: u8, prl: &[u8]) -> Probe {
    Probe::new(name, mac(n))
        .option(60, b"onie_vendor:x86_64-accton_as7712_32x-r0")
        .option(77, b"onie_dhcp_user_class")
        .option(55, prl)
}

fn os(name: &str, m: [u8; 6]) -> Probe {
    Probe::new(name, m).option(55, OS_PRL).option(12, b"node")
}

/// Every client of the comparison, whether its address is reserved, and
/// the server whose replies count (the primary, which the hash gives every
/// client under split 255; both peers answer a reserved host).
fn clients() -> Vec<(Probe, bool, Ipv4Addr)> {
    let bios = firmware("bios", 1, 0, "PXEClient:Arch:00000:UNDI:002001", PXE_PRL);
    let mut v = vec![
        (bios.clone(), false),
        (pxe("uefi-amd64-tftp", 2, 7), false),
        (http("uefi-amd64-http", 3, 16), false),
        (pxe("uefi-ebc", 4, 9), false),
        (pxe("uefi-arm64-tftp", 5, 11), false),
        (http("uefi-arm64-http", 6, 19), false),
        (pxe("ofw-ppc64el", 7, 12), false),
        (pxe("powernv", 8, 14), false),
        (pxe("s390x", 9, 31), false),
        (pxe("s390x-partition", 10, 32), false),
        (pxe("uefi-ia32 (else)", 11, 6), false),
        (ipxe("ipxe-user-class", 12).option(77, b"iPXE"), false),
        (
            ipxe("ipxe-opt175-efi", 13).option(175, &[19, 1, 1, 36, 1, 1]),
            false,
        ),
        (
            ipxe("ipxe-opt175-bzimage", 14).option(175, &[19, 1, 1, 24, 1, 1]),
            false,
        ),
        (
            ipxe("ipxe-opt175-no-http", 15).option(175, &[36, 1, 1]),
            false,
        ),
        (os("os-client", mac(16)), false),
        (onie("onie-switch", 21, ONIE_PRL), false),
        (
            onie("onie-no-125-asked", 22, &[1, 3, 6, 12, 15, 66, 67]),
            false,
        ),
        (
            firmware(
                "bios-no-prl",
                17,
                0,
                "PXEClient:Arch:00000:UNDI:002001",
                &[],
            ),
            false,
        ),
        (
            os("reserved-host", [0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01]),
            true,
        ),
        (pxe("relayed-uefi", 20, 7).relayed(RELAY_CLIENT_SIDE), false),
        (bios.relayed(RELAY_CLIENT_SIDE), false),
        (
            http("relayed-http", 18, 16).relayed(RELAY_CLIENT_SIDE),
            false,
        ),
        (os("relayed-os", mac(19)).relayed(RELAY_CLIENT_SIDE), false),
        (
            os("relayed-reserved", [0x52, 0x54, 0x00, 0xaa, 0xbb, 0x02]).relayed(RELAY_CLIENT_SIDE),
            true,
        ),
    ];
    // "bios-no-prl" sends no option 55 at all.
    if let Some((p, _)) = v.iter_mut().find(|(p, _)| p.name == "bios-no-prl") {
        p.options.retain(|(c, _)| *c != 55);
    }
    let mut v: Vec<_> = v.into_iter().map(|(p, r)| (p, r, PRIMARY)).collect();
    let mut by_secondary = os(
        "reserved-host@secondary",
        [0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01],
    );
    by_secondary.name = "reserved-host (secondary's reply)".into();
    v.push((by_secondary, true, SECONDARY));
    v
}

fn run_clients(lab: &Lab) -> Vec<Outcome> {
    clients()
        .iter()
        .map(|(p, _, server)| {
            let host = if p.giaddr.is_some() {
                RELAY_HOST
            } else {
                "cli1"
            };
            probe::exchange(lab, host, "eth0", *server, p, Duration::from_secs(8)).unwrap()
        })
        .collect()
}

#[test]
fn ours_answers_the_maas_config_as_isc_does() {
    if !runnable("ours_answers_the_maas_config_as_isc_does") {
        return;
    }
    let lab = lab();
    let (mut p, mut s) = pair(&lab, Kind::Isc, Kind::Isc, "isc");
    let isc = run_clients(&lab);
    p.kill().unwrap();
    s.kill().unwrap();
    let (mut p, mut s) = pair(&lab, Kind::Ours, Kind::Ours, "ours");
    let ours = run_clients(&lab);
    p.kill().unwrap();
    s.kill().unwrap();

    let names: Vec<(String, bool)> = clients()
        .into_iter()
        .map(|(p, reserved, _)| (p.name, reserved))
        .collect();
    let (table, failures) = probe::comparison(&names, ("ISC dhcpd 4.4", &isc), &ours, &[]);
    eprintln!("{table}");
    assert!(
        failures.is_empty(),
        "answers differ for {failures:?}:\n{table}"
    );
}

#[test]
fn ours_pairs_with_isc_from_the_maas_config_in_either_role() {
    if !runnable("ours_pairs_with_isc_from_the_maas_config_in_either_role") {
        return;
    }
    let lab = lab();
    for (p, s, tag) in [
        (Kind::Isc, Kind::Ours, "isc-ours"),
        (Kind::Ours, Kind::Isc, "ours-isc"),
    ] {
        let (mut primary, mut secondary) = pair(&lab, p, s, tag);
        // Both serve: the primary answers a BIOS client (split 255).
        let bios = firmware("bios", 30, 0, "PXEClient:Arch:00000:UNDI:002001", PXE_PRL);
        let o =
            probe::exchange(&lab, "cli1", "eth0", PRIMARY, &bios, Duration::from_secs(8)).unwrap();
        let ack = o.ack.unwrap_or_else(|| panic!("{tag}: no ACK"));
        assert_eq!(ack.server_id(), Some(PRIMARY), "{tag}");
        assert_eq!(ack.file, "lpxelinux.0", "{tag}");
        primary.kill().unwrap();
        secondary.kill().unwrap();
    }
}
