//! One Kea `Dhcp4` JSON file, MAAS-like (boot-loader client classes for
//! every architecture of the boot table, iPXE, UEFI HTTP boot with
//! `HTTPClient`, a path prefix sent always, a vendor-class PXE class with a
//! 30 s lifetime, a reservation, a relayed subnet), served by real Kea 2.2 (`/usr/sbin/kea-dhcp4 -c FILE`) and then
//! by ours started through the same command line (our binary under the name
//! `kea-dhcp4`), in the same namespace topology. Every client must get the
//! same OFFER and ACK from both: BOOTP fields (siaddr, file, …), the lease
//! time and every option's code and bytes, the server identifier aside (it
//! is the same address here anyway). The comparison table is printed.
//!
//! Build the daemon first (`cargo build -p dhcpd`); needs root and
//! `/usr/sbin/kea-dhcp4` (Debian's kea-dhcp4-server).

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use testbed::firmware::{self, IPXE_PRL, OS_PRL, PXE_PRL};
use testbed::kea::{self, KeaServer};
use testbed::probe::{self, Outcome, Probe};
use testbed::topology::{LabBuilder, RELAY_CLIENT_SIDE, RELAY_HOST};
use testbed::{Lab, Process};

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 1);

fn runnable(test: &str) -> bool {
    if !testbed::can_run_root_test(test) {
        return false;
    }
    if !kea::installed() {
        eprintln!("SKIPPED: needs Kea 2.2 (kea-dhcp4-server): {test}");
        return false;
    }
    true
}

/// srv1 10.99.0.1, cli1 on the server segment, the relay host with giaddr
/// 10.99.1.1.
fn lab() -> Lab {
    LabBuilder::new()
        .server("srv1")
        .client("cli1")
        .with_relay()
        .build()
        .unwrap()
}

/// The file both servers read; the memfile (and so our store beside it)
/// in `dir`.
fn config(dir: &Path) -> String {
    let d = dir.display();
    let s = SERVER;
    format!(
        r#"{{
  // MAAS-like: boot classes, a reservation, a relayed subnet.
  "Dhcp4": {{
    "interfaces-config": {{ "interfaces": [ "eth0" ], "dhcp-socket-type": "raw" }},
    "lease-database": {{ "type": "memfile", "name": "{d}/kea-leases4.csv", "lfc-interval": 0 }},
    "valid-lifetime": 600,
    "authoritative": true,
    "option-def": [ {{ "name": "path-prefix", "code": 210, "type": "string" }} ],
    "option-data": [
      {{ "name": "domain-name-servers", "data": "{s}" }},
      {{ "name": "ntp-servers", "data": "{s}" }},
      {{ "name": "domain-name", "data": "maas.test" }},
      {{ "name": "domain-search", "data": "maas.test, example.test" }},
      {{ "name": "time-offset", "data": "-3600" }},
      {{ "name": "interface-mtu", "data": "1500" }},
      {{ "name": "netbios-name-servers", "data": "{s}, 10.99.0.254" }},
      {{ "code": 47, "csv-format": false, "data": "6e6f6465" }}
    ],
    "client-classes": [
      {{ "name": "PXE", "test": "substring(option[60].hex,0,9) == 'PXEClient'", "valid-lifetime": 30 }},
      {{ "name": "ipxe", "test": "option[77].hex == 'iPXE'",
         "boot-file-name": "http://{s}:5248/ipxe.cfg" }},
      {{ "name": "bios", "test": "option[93].hex == 0x0000 and not member('ipxe')",
         "boot-file-name": "lpxelinux.0",
         "option-data": [ {{ "name": "path-prefix", "data": "http://{s}:5248/", "always-send": true }} ] }},
      {{ "name": "uefi-amd64-tftp", "test": "option[93].hex == 0x0007 or option[93].hex == 0x0009",
         "boot-file-name": "bootx64.efi" }},
      {{ "name": "uefi-amd64-http", "test": "option[93].hex == 0x0010",
         "boot-file-name": "http://{s}:5248/images/bootx64.efi",
         "option-data": [ {{ "name": "vendor-class-identifier", "data": "HTTPClient" }} ] }},
      {{ "name": "uefi-arm64-tftp", "test": "option[93].hex == 0x000b", "boot-file-name": "bootaa64.efi" }},
      {{ "name": "uefi-arm64-http", "test": "option[93].hex == 0x0013",
         "boot-file-name": "http://{s}:5248/images/bootaa64.efi",
         "option-data": [ {{ "name": "vendor-class-identifier", "data": "HTTPClient" }} ] }},
      {{ "name": "open-firmware-ppc64el", "test": "option[93].hex == 0x000c", "boot-file-name": "bootppc64.bin" }},
      {{ "name": "powernv", "test": "option[93].hex == 0x000e", "boot-file-name": "pxelinux.0",
         "option-data": [ {{ "name": "path-prefix", "data": "ppc64el/" }} ] }},
      {{ "name": "s390x", "test": "option[93].hex == 0x001f", "boot-file-name": "boots390x.bin",
         "option-data": [ {{ "name": "path-prefix", "data": "s390x/" }} ] }},
      {{ "name": "s390x-partition", "test": "option[93].hex == 0x0020",
         "boot-file-name": "s390x_partition/maas" }}
    ],
    "subnet4": [
      {{ "id": 1, "subnet": "10.99.0.0/24", "next-server": "{s}",
         "renew-timer": 300, "rebind-timer": 525,
         "option-data": [ {{ "name": "routers", "data": "10.99.0.254" }} ],
         "pools": [ {{ "pool": "10.99.0.100 - 10.99.0.199" }} ],
         "reservations": [ {{ "hw-address": "52:54:00:aa:bb:01", "ip-address": "10.99.0.50" }} ] }},
      {{ "id": 2, "subnet": "10.99.1.0/24", "next-server": "{s}",
         "relay": {{ "ip-addresses": [ "10.99.1.1" ] }},
         "option-data": [ {{ "name": "routers", "data": "10.99.1.1" }} ],
         "pools": [ {{ "pool": "10.99.1.100 - 10.99.1.199" }} ],
         "reservations": [ {{ "hw-address": "52:54:00:aa:bb:02", "ip-address": "10.99.1.50" }} ] }}
    ],
    "loggers": [ {{ "name": "kea-dhcp4", "output_options": [ {{ "output": "stdout" }} ], "severity": "INFO" }} ]
  }}
}}
"#
    )
}

/// Starts `server` on srv1 with the file (in a fresh directory of its own).
fn start(lab: &Lab, server: KeaServer) -> Process {
    let name = match server {
        KeaServer::Kea => "kea",
        KeaServer::Ours => "ours",
    };
    let dir = kea::directory(lab, name).unwrap();
    kea::start(lab, "srv1", name, server, &config(&dir)).unwrap()
}

// ------------------------------------------------------------------ clients

fn mac(n: u8) -> [u8; 6] {
    [0x52, 0x54, 0x00, 0x98, 0x00, n]
}

fn pxe(name: &str, n: u8, arch: u16) -> Probe {
    firmware::pxe(name, mac(n), arch)
}

fn http(name: &str, n: u8, arch: u16) -> Probe {
    firmware::http(name, mac(n), arch)
}

fn ipxe(name: &str, n: u8) -> Probe {
    Probe::new(name, mac(n))
        .option(93, &[0, 0])
        .option(94, &[1, 2, 1])
        .option(60, b"PXEClient:Arch:00000:UNDI:002001")
        .option(77, b"iPXE")
        .option(55, IPXE_PRL)
}

fn os(name: &str, m: [u8; 6]) -> Probe {
    Probe::new(name, m).option(55, OS_PRL)
}

/// Every client of the comparison, and whether its address is reserved.
fn clients() -> Vec<(Probe, bool)> {
    vec![
        (
            firmware::firmware(
                "bios",
                mac(1),
                0,
                "PXEClient:Arch:00000:UNDI:002001",
                PXE_PRL,
            ),
            false,
        ),
        (pxe("uefi-amd64-tftp", 2, 7), false),
        (http("uefi-amd64-http", 3, 16), false),
        (pxe("uefi-ebc", 4, 9), false),
        (pxe("uefi-arm64-tftp", 5, 11), false),
        (http("uefi-arm64-http", 6, 19), false),
        (pxe("ofw-ppc64el", 7, 12), false),
        (pxe("powernv", 8, 14), false),
        (pxe("s390x", 9, 31), false),
        (pxe("s390x-partition", 10, 32), false),
        (pxe("uefi-ia32 (no class)", 11, 6), false),
        (ipxe("ipxe", 12), false),
        (
            ipxe("ipxe-client-id", 13).option(61, &[1, 0x52, 0x54, 0x00, 0x98, 0x00, 13]),
            false,
        ),
        (os("plain-client", mac(14)), false),
        (
            os("reserved-host", [0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01]),
            true,
        ),
        (pxe("relayed-uefi", 15, 7).relayed(RELAY_CLIENT_SIDE), false),
        (
            http("relayed-http", 16, 16).relayed(RELAY_CLIENT_SIDE),
            false,
        ),
        (
            os("relayed-plain", mac(17)).relayed(RELAY_CLIENT_SIDE),
            false,
        ),
        (
            os("relayed-reserved", [0x52, 0x54, 0x00, 0xaa, 0xbb, 0x02]).relayed(RELAY_CLIENT_SIDE),
            true,
        ),
    ]
}

fn run_clients(lab: &Lab) -> Vec<Outcome> {
    clients()
        .iter()
        .map(|(p, _)| {
            let host = if p.giaddr.is_some() {
                RELAY_HOST
            } else {
                "cli1"
            };
            probe::exchange(lab, host, "eth0", SERVER, p, Duration::from_secs(8)).unwrap()
        })
        .collect()
}

#[test]
fn ours_answers_a_kea_config_as_kea_does() {
    if !runnable("ours_answers_a_kea_config_as_kea_does") {
        return;
    }
    let lab = lab();
    let mut kea = start(&lab, KeaServer::Kea);
    let theirs = run_clients(&lab);
    kea.kill().unwrap();
    let mut our = start(&lab, KeaServer::Ours);
    let ours = run_clients(&lab);
    our.kill().unwrap();

    let names: Vec<(String, bool)> = clients()
        .into_iter()
        .map(|(p, reserved)| (p.name, reserved))
        .collect();
    // The server identifier aside (option 54).
    let (table, failures) = probe::comparison(&names, ("Kea 2.2", &theirs), &ours, &[54]);
    eprintln!("{table}");
    assert!(
        failures.is_empty(),
        "answers differ for {failures:?}:\n{table}"
    );
}
