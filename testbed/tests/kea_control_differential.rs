//! Kea's control channel, differentially: the same command script sent
//! over the unix control socket to real Kea 2.2 (`kea-dhcp4 -c FILE`, with
//! `libdhcp_lease_cmds.so`) and to ours started by the same command line on
//! the same file. For every command, both must give the same result code
//! (0 success, 1 error, 2 unsupported, 3 empty) and, where arguments come
//! back, the same argument shape (keys and value types; the values differ:
//! pids, times). The comparison table is printed; docs/kea.md keeps it.
//!
//! Build the daemon first (`cargo build -p dhcpd`); needs root and
//! `/usr/sbin/kea-dhcp4` (Debian's kea-dhcp4-server).

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use testbed::kea::{self, KeaServer};
use testbed::probe::{self, Probe};
use testbed::topology::LabBuilder;

const LEASE_CMDS: &str = "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so";
const HOST_CMDS: &str = "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_host_cmds.so";

/// The file both servers read (their own directory each), loading `hook`.
fn config(dir: &Path, hook: &str) -> String {
    let d = dir.display();
    format!(
        r#"{{ "Dhcp4": {{
  "interfaces-config": {{ "interfaces": [ "eth0" ] }},
  "lease-database": {{ "type": "memfile", "name": "{d}/kea-leases4.csv" }},
  "control-socket": {{ "socket-type": "unix", "socket-name": "{d}/kea4-ctrl.sock" }},
  "valid-lifetime": 600,
  "hooks-libraries": [
    {{ "library": "{hook}" }}
  ],
  "subnet4": [ {{ "id": 1, "subnet": "10.99.0.0/16",
                  "pools": [ {{ "pool": "10.99.4.0 - 10.99.5.255" }} ],
                  "reservations": [ {{ "hw-address": "52:54:00:97:00:01", "ip-address": "10.99.0.50", "hostname": "r1" }} ] }} ]
}} }}
"#
    )
}

/// The script: a label and the command, in order (later ones depend on
/// earlier ones' effects). `{d}` is the server's directory.
const SCRIPT: &[(&str, &str)] = &[
    ("list-commands", r#"{"command":"list-commands"}"#),
    ("version-get", r#"{"command":"version-get"}"#),
    ("status-get", r#"{"command":"status-get"}"#),
    ("config-get", r#"{"command":"config-get"}"#),
    (
        "config-test (valid)",
        r#"{"command":"config-test","arguments":{"Dhcp4":{"valid-lifetime":300,"subnet4":[{"id":1,"subnet":"10.99.0.0/16"}]}}}"#,
    ),
    (
        "config-test (unknown key)",
        r#"{"command":"config-test","arguments":{"Dhcp4":{"bogus":1}}}"#,
    ),
    ("unknown command", r#"{"command":"format-disk"}"#),
    ("no command", r#"{"arguments":{}}"#),
    ("ha-heartbeat (no HA hook)", r#"{"command":"ha-heartbeat"}"#),
    (
        "reservation-get (no host_cmds)",
        r#"{"command":"reservation-get","arguments":{"subnet-id":1,"ip-address":"10.99.0.50"}}"#,
    ),
    (
        "lease4-get (none)",
        r#"{"command":"lease4-get","arguments":{"ip-address":"10.99.4.10"}}"#,
    ),
    ("lease4-get (no arguments)", r#"{"command":"lease4-get"}"#),
    (
        "lease4-get (bad address)",
        r#"{"command":"lease4-get","arguments":{"ip-address":"bogus"}}"#,
    ),
    (
        "lease4-add",
        r#"{"command":"lease4-add","arguments":{"ip-address":"10.99.4.10","hw-address":"1a:1b:1c:1d:1e:01","hostname":"h1"}}"#,
    ),
    (
        "lease4-add (exists)",
        r#"{"command":"lease4-add","arguments":{"ip-address":"10.99.4.10","hw-address":"1a:1b:1c:1d:1e:01"}}"#,
    ),
    (
        "lease4-add (client-id, valid-lft)",
        r#"{"command":"lease4-add","arguments":{"ip-address":"10.99.4.11","hw-address":"1a:1b:1c:1d:1e:02","client-id":"01:1a:1b:1c:1d:1e:02","valid-lft":100}}"#,
    ),
    (
        "lease4-add (no subnet)",
        r#"{"command":"lease4-add","arguments":{"ip-address":"10.98.0.1","hw-address":"1a:1b:1c:1d:1e:03"}}"#,
    ),
    (
        "lease4-add (no address)",
        r#"{"command":"lease4-add","arguments":{"hw-address":"1a:1b:1c:1d:1e:03"}}"#,
    ),
    (
        "lease4-get",
        r#"{"command":"lease4-get","arguments":{"ip-address":"10.99.4.10"}}"#,
    ),
    (
        "lease4-get (client-id lease)",
        r#"{"command":"lease4-get","arguments":{"ip-address":"10.99.4.11"}}"#,
    ),
    (
        "lease4-get (by identifier)",
        r#"{"command":"lease4-get","arguments":{"identifier-type":"hw-address","identifier":"1a:1b:1c:1d:1e:01","subnet-id":1}}"#,
    ),
    ("lease4-get-all", r#"{"command":"lease4-get-all"}"#),
    (
        "lease4-get-all (subnet 1)",
        r#"{"command":"lease4-get-all","arguments":{"subnets":[1]}}"#,
    ),
    (
        "lease4-get-all (other subnet)",
        r#"{"command":"lease4-get-all","arguments":{"subnets":[2]}}"#,
    ),
    (
        "lease4-get-page",
        r#"{"command":"lease4-get-page","arguments":{"from":"start","limit":1}}"#,
    ),
    (
        "lease4-get-page (past the end)",
        r#"{"command":"lease4-get-page","arguments":{"from":"10.99.4.11","limit":10}}"#,
    ),
    (
        "lease4-get-page (limit 0)",
        r#"{"command":"lease4-get-page","arguments":{"from":"start","limit":0}}"#,
    ),
    (
        "lease4-get-page (no limit)",
        r#"{"command":"lease4-get-page","arguments":{"from":"start"}}"#,
    ),
    (
        "lease4-get-by-hw-address",
        r#"{"command":"lease4-get-by-hw-address","arguments":{"hw-address":"1a:1b:1c:1d:1e:01"}}"#,
    ),
    (
        "lease4-get-by-hw-address (none)",
        r#"{"command":"lease4-get-by-hw-address","arguments":{"hw-address":"1a:1b:1c:1d:1e:99"}}"#,
    ),
    (
        "lease4-get-by-hw-address (no arguments)",
        r#"{"command":"lease4-get-by-hw-address"}"#,
    ),
    (
        "lease4-get-by-client-id",
        r#"{"command":"lease4-get-by-client-id","arguments":{"client-id":"01:1a:1b:1c:1d:1e:02"}}"#,
    ),
    (
        "lease4-get-by-client-id (none)",
        r#"{"command":"lease4-get-by-client-id","arguments":{"client-id":"01:02"}}"#,
    ),
    (
        "lease4-get-by-hostname",
        r#"{"command":"lease4-get-by-hostname","arguments":{"hostname":"h1"}}"#,
    ),
    (
        "lease4-update",
        r#"{"command":"lease4-update","arguments":{"ip-address":"10.99.4.10","hw-address":"1a:1b:1c:1d:1e:01","hostname":"h2"}}"#,
    ),
    (
        "lease4-update (none)",
        r#"{"command":"lease4-update","arguments":{"ip-address":"10.99.4.12","hw-address":"1a:1b:1c:1d:1e:04"}}"#,
    ),
    (
        "lease4-update (force-create)",
        r#"{"command":"lease4-update","arguments":{"ip-address":"10.99.4.12","hw-address":"1a:1b:1c:1d:1e:04","force-create":true}}"#,
    ),
    (
        "lease4-del",
        r#"{"command":"lease4-del","arguments":{"ip-address":"10.99.4.12"}}"#,
    ),
    (
        "lease4-del (none)",
        r#"{"command":"lease4-del","arguments":{"ip-address":"10.99.4.12"}}"#,
    ),
    (
        "lease4-del (by identifier)",
        r#"{"command":"lease4-del","arguments":{"identifier-type":"hw-address","identifier":"1a:1b:1c:1d:1e:02","subnet-id":1}}"#,
    ),
    (
        "lease4-wipe",
        r#"{"command":"lease4-wipe","arguments":{"subnet-id":1}}"#,
    ),
    (
        "lease4-wipe (empty)",
        r#"{"command":"lease4-wipe","arguments":{"subnet-id":1}}"#,
    ),
    (
        "lease4-get (after wipe)",
        r#"{"command":"lease4-get","arguments":{"ip-address":"10.99.4.10"}}"#,
    ),
    (
        "config-write",
        r#"{"command":"config-write","arguments":{"filename":"{d}/written.json"}}"#,
    ),
    (
        "config-write (unwritable)",
        r#"{"command":"config-write","arguments":{"filename":"/nonexistent-dir/x.json"}}"#,
    ),
    ("config-reload", r#"{"command":"config-reload"}"#),
    ("shutdown", r#"{"command":"shutdown"}"#),
];

/// Runs the script against `server`; every answer, in order.
fn answers(lab: &testbed::Lab, server: KeaServer) -> Vec<Value> {
    let name = match server {
        KeaServer::Kea => "kea",
        KeaServer::Ours => "ours",
    };
    let dir = kea::directory(lab, name).unwrap();
    let mut p = kea::start(lab, "srv1", name, server, &config(&dir, LEASE_CMDS)).unwrap();
    let socket = dir.join("kea4-ctrl.sock");
    let d = dir.display().to_string();
    let out: Vec<Value> = SCRIPT
        .iter()
        .map(|(_, cmd)| kea::command(&socket, &cmd.replace("{d}", &d)).unwrap())
        .collect();
    // `shutdown` stops the server by itself.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while p.try_wait().unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "{name} did not stop after shutdown:\n{}",
            p.log_lines().join("\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    out
}

#[test]
fn ours_answers_keas_control_commands_as_kea_does() {
    if !testbed::can_run_root_test("ours_answers_keas_control_commands_as_kea_does") {
        return;
    }
    if !kea::installed() {
        eprintln!("SKIPPED: needs Kea 2.2 (kea-dhcp4-server)");
        return;
    }
    let lab = LabBuilder::new().server("srv1").build().unwrap();
    let theirs = answers(&lab, KeaServer::Kea);
    let ours = answers(&lab, KeaServer::Ours);

    let mut table = String::from("| command | Kea 2.2 | ours | arguments |\n|---|---|---|---|\n");
    let mut mismatches = Vec::new();
    for (((label, _), k), o) in SCRIPT.iter().zip(&theirs).zip(&ours) {
        let (kr, or) = (&k["result"], &o["result"]);
        let (ka, oa) = (k.get("arguments"), o.get("arguments"));
        // config-get: Kea gives its file with every default filled in,
        // ours the file as written; each key ours gives, Kea gives too,
        // shaped alike.
        let within = *label == "config-get";
        let same_shape = if within {
            matches!((oa, ka), (Some(o), Some(k)) if kea::shape_within(o, k))
        } else {
            ka.map(kea::shape) == oa.map(kea::shape)
        };
        let args = match (ka, oa) {
            (None, None) => "none".to_owned(),
            _ if within && same_shape => "ours within Kea's (defaults filled in)".to_owned(),
            _ if same_shape => "same shape".to_owned(),
            _ => format!(
                "Kea {} / ours {}",
                ka.map_or("none".into(), |a| kea::shape(a).to_string()),
                oa.map_or("none".into(), |a| kea::shape(a).to_string())
            ),
        };
        table.push_str(&format!("| {label} | {kr} | {or} | {args} |\n"));
        if kr != or || !same_shape {
            mismatches.push(format!("{label}: Kea {k}\n    ours {o}"));
        }
    }
    eprintln!("{table}");
    // Every command ours lists, Kea 2.2 lists too, or it is one of ours
    // (HA and reservations need hooks this file does not load).
    let kea_list: Vec<&str> = theirs[0]["arguments"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for c in ours[0]["arguments"].as_array().unwrap() {
        let c = c.as_str().unwrap();
        assert!(kea_list.contains(&c), "ours offers {c}, Kea 2.2 does not");
    }
    assert!(
        mismatches.is_empty(),
        "{} commands answered differently:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// `libdhcp_host_cmds.so`'s commands, on ours alone (Debian's Kea 2.2 does
/// not ship the hook): answers as Kea's manual gives them, and a
/// reservation added over the socket is in force at once (a client gets its
/// address) and gone once deleted.
#[test]
fn reservations_added_over_the_kea_socket_are_in_force_at_once() {
    if !testbed::can_run_root_test("reservations_added_over_the_kea_socket_are_in_force_at_once") {
        return;
    }
    let lab = LabBuilder::new()
        .server("srv1")
        .client("cli1")
        .build()
        .unwrap();
    let dir = kea::directory(&lab, "ours").unwrap();
    let mut p = kea::start(
        &lab,
        "srv1",
        "ours",
        KeaServer::Ours,
        &config(&dir, HOST_CMDS),
    )
    .unwrap();
    let socket = dir.join("kea4-ctrl.sock");
    let ask = |json: &str| kea::command(&socket, json).unwrap();
    let server = Ipv4Addr::new(10, 99, 0, 1);
    let mac = [0x52, 0x54, 0x00, 0x97, 0x00, 0x02];
    let address = |lab: &testbed::Lab| {
        let o = probe::exchange(
            lab,
            "cli1",
            "eth0",
            server,
            &Probe::new("host", mac),
            Duration::from_secs(8),
        )
        .unwrap();
        o.ack.map(|a| a.yiaddr)
    };

    let list = ask(r#"{"command":"list-commands"}"#);
    let list: Vec<&str> = list["arguments"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        list.contains(&"reservation-add") && !list.contains(&"lease4-get"),
        "{list:?}"
    );

    let add = r#"{"command":"reservation-add","arguments":{"reservation":{"subnet-id":1,"hw-address":"52:54:00:97:00:02","ip-address":"10.99.0.60","hostname":"r2","boot-file-name":"r2.efi"}}}"#;
    let r = ask(add);
    assert_eq!(
        (r["result"].clone(), r["text"].clone()),
        (0.into(), "Host added.".into()),
        "{r}"
    );
    let r = ask(add);
    assert_eq!(r["result"], 1, "{r}");
    let r = ask(
        r#"{"command":"reservation-add","arguments":{"reservation":{"subnet-id":7,"hw-address":"52:54:00:97:00:03","ip-address":"10.99.0.61"}}}"#,
    );
    assert_eq!(r["result"], 1, "{r}");
    let r = ask(
        r#"{"command":"reservation-add","arguments":{"reservation":{"subnet-id":1,"hw-address":"52:54:00:97:00:03","ip-address":"10.99.0.61","duid":"01:02"}}}"#,
    );
    assert_eq!(r["result"], 1, "{r}");
    assert!(
        r["text"]
            .as_str()
            .unwrap()
            .contains("arguments/reservation/duid"),
        "{r}"
    );

    let r = ask(
        r#"{"command":"reservation-get","arguments":{"subnet-id":1,"ip-address":"10.99.0.60"}}"#,
    );
    assert_eq!(r["result"], 0, "{r}");
    assert_eq!(r["arguments"]["hostname"], "r2", "{r}");
    assert_eq!(r["arguments"]["hw-address"], "52:54:00:97:00:02", "{r}");
    assert_eq!(r["arguments"]["boot-file-name"], "r2.efi", "{r}");
    assert_eq!(r["arguments"]["subnet-id"], 1, "{r}");
    let r = ask(
        r#"{"command":"reservation-get","arguments":{"subnet-id":1,"identifier-type":"hw-address","identifier":"52:54:00:97:00:02"}}"#,
    );
    assert_eq!(r["arguments"]["ip-address"], "10.99.0.60", "{r}");
    let r = ask(
        r#"{"command":"reservation-get","arguments":{"subnet-id":1,"ip-address":"10.99.0.62"}}"#,
    );
    assert_eq!(r["result"], 3, "{r}");
    // The file's own reservation is there too.
    let r = ask(
        r#"{"command":"reservation-get","arguments":{"subnet-id":1,"ip-address":"10.99.0.50"}}"#,
    );
    assert_eq!(r["arguments"]["hostname"], "r1", "{r}");

    assert_eq!(address(&lab), Some(Ipv4Addr::new(10, 99, 0, 60)));

    let del = r#"{"command":"reservation-del","arguments":{"subnet-id":1,"identifier-type":"hw-address","identifier":"52:54:00:97:00:02"}}"#;
    let r = ask(del);
    assert_eq!(
        (r["result"].clone(), r["text"].clone()),
        (0.into(), "Host deleted.".into()),
        "{r}"
    );
    let r = ask(del);
    assert_eq!(r["result"], 1, "{r}");
    let r = ask(
        r#"{"command":"reservation-get","arguments":{"subnet-id":1,"ip-address":"10.99.0.60"}}"#,
    );
    assert_eq!(r["result"], 3, "{r}");
    let after = address(&lab).unwrap();
    assert!(
        after != Ipv4Addr::new(10, 99, 0, 60),
        "still reserved: {after}"
    );
    p.kill().unwrap();
}
