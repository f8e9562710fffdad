//! Interoperability with ISC's `omshell` (Debian package isc-dhcp-server),
//! a client nobody here wrote, against the tokio server on loopback.
//! Skipped, with the reason printed, when `omshell` is not installed.

mod common;

use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

use common::{SECRET, WRONG_SECRET};
use omapi::{Backend, HardwareAddress, HostKey};

fn omshell() -> Option<&'static str> {
    let path = "/usr/bin/omshell";
    if std::path::Path::new(path).exists() {
        Some(path)
    } else {
        println!("SKIPPED: {path} not found (Debian ships it in isc-dhcp-server)");
        None
    }
}

/// Run an omshell script; its standard output.
fn run(omshell: &str, script: &str) -> String {
    let mut child = Command::new(omshell)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("--- omshell script ---\n{script}--- output ---\n{text}");
    text
}

fn header(port: u16, secret: &str) -> String {
    format!("server 127.0.0.1\nport {port}\nkey omapi_key {secret}\nconnect\n")
}

const MAC3: [u8; 6] = [0x52, 0x54, 0x00, 0xaa, 0xbb, 0x03];

fn hw(mac: [u8; 6]) -> HardwareAddress {
    HardwareAddress {
        htype: 1,
        addr: mac.to_vec(),
    }
}

#[test]
fn omshell_create_lookup_duplicate_delete() {
    let Some(omshell) = omshell() else { return };
    let s = common::start();
    // The recipe of maas-integration.md §6.2, as MAAS <= 3.5 runs it.
    let create = "new host\nset name = \"52-54-00-aa-bb-03\"\nset hardware-address = 52:54:00:aa:bb:03\n\
                  set hardware-type = 1\nset ip-address = 10.20.0.70\ncreate\n";
    let out = run(omshell, &format!("{}{create}", header(s.port, SECRET)));
    assert!(!out.contains("can't"), "{out}");
    assert!(out.contains("name = \"52-54-00-aa-bb-03\""), "{out}");
    assert!(out.contains("ip-address = 0a:14:00:46"), "{out}");
    {
        let mut b = s.backend();
        let id = b
            .find_host(HostKey::Hardware(&hw(MAC3)))
            .expect("host created");
        assert_eq!(
            b.host(id).unwrap().ip_address,
            Some(Ipv4Addr::new(10, 20, 0, 70))
        );
    }
    // Look it up by name, and by hardware address (each a new connection).
    let out = run(
        omshell,
        &format!(
            "{}new host\nset name = \"52-54-00-aa-bb-03\"\nopen\n",
            header(s.port, SECRET)
        ),
    );
    assert!(out.contains("ip-address = 0a:14:00:46"), "{out}");
    assert!(
        out.contains("hardware-address = 52:54:00:aa:bb:03"),
        "{out}"
    );
    let by_mac =
        "new host\nset hardware-address = 52:54:00:aa:bb:03\nset hardware-type = 1\nopen\n";
    let out = run(omshell, &format!("{}{by_mac}", header(s.port, SECRET)));
    assert!(out.contains("name = \"52-54-00-aa-bb-03\""), "{out}");
    assert!(out.contains("ip-address = 0a:14:00:46"), "{out}");
    // A second create of the same host is refused with "already exists".
    let out = run(omshell, &format!("{}{create}", header(s.port, SECRET)));
    assert!(out.contains("can't open object: already exists"), "{out}");
    assert_eq!(s.backend().host_count(), 1);
    // Change its address (open by name, update).
    let out = run(
        omshell,
        &format!(
            "{}new host\nset name = \"52-54-00-aa-bb-03\"\nopen\nset ip-address = 10.20.0.71\nupdate\n",
            header(s.port, SECRET)
        ),
    );
    assert!(!out.contains("can't"), "{out}");
    {
        let mut b = s.backend();
        let id = b.find_host(HostKey::Hardware(&hw(MAC3))).unwrap();
        assert_eq!(
            b.host(id).unwrap().ip_address,
            Some(Ipv4Addr::new(10, 20, 0, 71))
        );
    }
    // Delete it: open by hardware address, remove.
    let out = run(
        omshell,
        &format!("{}{by_mac}remove\n", header(s.port, SECRET)),
    );
    assert!(!out.contains("can't"), "{out}");
    assert_eq!(s.backend().host_count(), 0, "{out}");
    // Now it is not found.
    let out = run(omshell, &format!("{}{by_mac}", header(s.port, SECRET)));
    assert!(out.contains("can't open object: not found"), "{out}");
    let stats = s.server.stats();
    assert_eq!(
        stats.refused_bad_signature + stats.refused_unsigned + stats.malformed,
        0,
        "{stats:?}"
    );
}

#[test]
fn omshell_without_name_and_lease_and_failover_state() {
    let Some(omshell) = omshell() else { return };
    let s = common::start();
    // MAAS 3.6+: create without a name.
    let script = format!(
        "{}new host\nset hardware-address = 52:54:00:aa:bb:05\nset hardware-type = 1\nset ip-address = 10.20.0.75\ncreate\n\
         close\nnew lease\nset ip-address = 10.20.0.100\nopen\n\
         close\nnew failover-state\nset name = \"failover-partner\"\nopen\nset local-state = 4\nupdate\n",
        header(s.port, SECRET)
    );
    let out = run(omshell, &script);
    assert!(!out.contains("can't"), "{out}");
    assert!(out.contains("client-hostname = \"node02\""), "{out}");
    assert!(out.contains("local-state = 00:00:00:04"), "{out}");
    assert_eq!(s.backend().host_count(), 1);
    assert_eq!(
        s.backend().failover["failover-partner"].local_state,
        omapi::FailoverStateCode::PARTNER_DOWN
    );
}

#[test]
fn omshell_wrong_key_is_refused() {
    let Some(omshell) = omshell() else { return };
    let s = common::start();
    let script = format!(
        "{}new host\nset hardware-address = 52:54:00:aa:bb:06\nset hardware-type = 1\nset ip-address = 10.20.0.76\ncreate\n",
        header(s.port, WRONG_SECRET)
    );
    let out = run(omshell, &script);
    assert!(out.contains("can't"), "{out}");
    assert_eq!(s.backend().host_count(), 0);
    assert_eq!(
        s.server.stats().refused_bad_signature,
        1,
        "{:?}",
        s.server.stats()
    );
}
