//! Kea's `libdhcp_run_script.so` events from real Kea 2.2 and from ours on
//! the same `Dhcp4` JSON file: a relayed client does DORA, renews (a second
//! DORA) and releases; another declines its address; a third gets a 4 s
//! lease and lets it expire.
//! The script (a shell script dumping its arguments and environment into a
//! file per call) must receive the same calls (paired by hook point,
//! lease address and message type: both run the script asynchronously, so
//! files may land out of order) and the same variables; values are
//! compared where they are comparable (`*_CLTT` is normalised).
//! Differences listed in [`DOCUMENTED`] and [`DOCUMENTED_HOOKS`] (and in
//! docs/kea.md) are shown but tolerated; any other fails the test. The
//! comparison table is printed.
//!
//! Build the daemon first (`cargo build -p dhcpd`); needs root and
//! `/usr/sbin/kea-dhcp4` with its run_script hook.

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dhcproto::v4::MessageType;
use testbed::kea::{self, KeaServer};
use testbed::probe::{self, Probe};
use testbed::topology::{LabBuilder, RELAY_CLIENT_SIDE, RELAY_HOST};
use testbed::{Lab, Process};

const SERVER: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 1);
const HOOK: &str = "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_run_script.so";

/// Variables that differ between the two servers for a documented reason
/// (docs/kea.md, "run_script"), by hook point (`*`: any): their value may
/// differ or ours may lack them.
const DOCUMENTED: &[(&str, &str)] = &[
    // The frame's source Ethernet address: not kept by our sockets.
    ("*", "QUERY4_REMOTE_HWADDR"),
    ("*", "QUERY4_REMOTE_HWADDR_TYPE"),
];

/// Hook points Kea calls that ours does not (docs/kea.md), with the
/// message type: Kea renews on a DISCOVER too, ours only on the REQUEST.
const DOCUMENTED_HOOKS: &[(&str, &str)] = &[("lease4_renew", "DHCPDISCOVER")];

fn runnable(test: &str) -> bool {
    if !testbed::can_run_root_test(test) {
        return false;
    }
    if !kea::installed() || !Path::new(HOOK).exists() {
        eprintln!("SKIPPED: needs Kea 2.2 with libdhcp_run_script.so: {test}");
        return false;
    }
    true
}

fn config(dir: &Path, script: &Path) -> String {
    let d = dir.display();
    let sc = script.display();
    format!(
        r#"{{
  "Dhcp4": {{
    "interfaces-config": {{ "interfaces": [ "eth0" ], "dhcp-socket-type": "raw" }},
    "lease-database": {{ "type": "memfile", "name": "{d}/kea-leases4.csv", "lfc-interval": 0 }},
    "expired-leases-processing": {{ "reclaim-timer-wait-time": 1 }},
    "valid-lifetime": 600,
    "authoritative": true,
    "hooks-libraries": [ {{ "library": "{HOOK}", "parameters": {{ "name": "{sc}", "sync": false }} }} ],
    "client-classes": [
      {{ "name": "short", "test": "substring(option[60].hex,0,5) == 'brief'", "valid-lifetime": 4 }}
    ],
    "subnet4": [
      {{ "id": 1, "subnet": "10.99.0.0/24", "pools": [ {{ "pool": "10.99.0.100 - 10.99.0.199" }} ] }},
      {{ "id": 2, "subnet": "10.99.1.0/24",
         "relay": {{ "ip-addresses": [ "10.99.1.1" ] }},
         "pools": [ {{ "pool": "10.99.1.100 - 10.99.1.199" }} ] }}
    ],
    "loggers": [ {{ "name": "kea-dhcp4", "output_options": [ {{ "output": "stdout" }} ], "severity": "INFO" }} ]
  }}
}}
"#
    )
}

/// The script: one file per call, `ARG i value` lines then `env`.
fn write_script(lab: &Lab, name: &str, out: &Path) -> PathBuf {
    let body = format!(
        "#!/bin/sh\nf={}/$(date +%s%N)-$$\n{{ i=0; for a in \"$@\"; do echo \"ARG$i=$a\"; i=$((i+1)); done; env; }} > \"$f.tmp\"\nmv \"$f.tmp\" \"$f.call\"\n",
        out.display()
    );
    let path = lab.write_file(&format!("{name}/script.sh"), &body).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn alpha() -> Probe {
    Probe::new("alpha", [0x52, 0x54, 0x00, 0x99, 0x00, 0x01])
        .option(61, &[1, 0x52, 0x54, 0x00, 0x99, 0x00, 0x01])
        .option(12, b"alpha")
        .relayed(RELAY_CLIENT_SIDE)
}

fn gamma() -> Probe {
    Probe::new("gamma", [0x52, 0x54, 0x00, 0x99, 0x00, 0x03]).relayed(RELAY_CLIENT_SIDE)
}

fn brief() -> Probe {
    Probe::new("brief", [0x52, 0x54, 0x00, 0x99, 0x00, 0x02])
        .option(60, b"brief")
        .relayed(RELAY_CLIENT_SIDE)
}

/// One script call: the hook point (`ARG0`) and its variables (`ARG*` and
/// the hook's own, the script's inherited environment left out).
#[derive(Debug, Clone)]
struct Call {
    hook: String,
    vars: BTreeMap<String, String>,
}

fn hook_var(k: &str) -> bool {
    k.starts_with("ARG")
        || k.starts_with("QUERY4_")
        || k.starts_with("LEASE4_")
        || k.starts_with("LEASES4_")
        || k.starts_with("DELETED_LEASES4_")
        || k == "REMOVE_LEASE"
}

fn read_calls(dir: &Path) -> Vec<Call> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "call"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let vars: BTreeMap<String, String> = text
                .lines()
                .filter_map(|l| l.split_once('='))
                .filter(|(k, _)| hook_var(k))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            let hook = vars.get("ARG0").cloned().unwrap_or_default();
            Call { hook, vars }
        })
        .collect()
}

/// Waits until `dir` holds calls for every hook point of `want` (in any
/// order, each at least as many times), or `timeout`.
fn wait_calls(dir: &Path, want: &[&str], timeout: Duration) -> Vec<Call> {
    let deadline = Instant::now() + timeout;
    loop {
        let calls = read_calls(dir);
        let all = want.iter().all(|w| {
            calls.iter().filter(|c| c.hook == *w).count() >= want.iter().filter(|x| *x == w).count()
        });
        if all || Instant::now() >= deadline {
            return calls;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Values that are not comparable between two runs.
fn normalised(k: &str, v: &str) -> String {
    let volatile = k.ends_with("_CLTT");
    if volatile { "*".into() } else { v.to_owned() }
}

/// Runs the scenario against `server`; the script's calls, in order.
fn scenario(lab: &Lab, server: KeaServer) -> Vec<Call> {
    let name = match server {
        KeaServer::Kea => "kea",
        KeaServer::Ours => "ours",
    };
    let dir = kea::directory(lab, name).unwrap();
    let out = dir.join("calls");
    std::fs::create_dir_all(&out).unwrap();
    let script = write_script(lab, name, &out);
    let mut p: Process = kea::start(lab, "srv1", name, server, &config(&dir, &script)).unwrap();
    let t = Duration::from_secs(8);
    let a = probe::exchange(lab, RELAY_HOST, "eth0", SERVER, &alpha(), t).unwrap();
    let addr = a.ack.as_ref().map(|r| r.yiaddr).unwrap();
    wait_calls(&out, &["leases4_committed"], Duration::from_secs(5));
    probe::exchange(lab, RELAY_HOST, "eth0", SERVER, &alpha(), t).unwrap();
    wait_calls(
        &out,
        &["leases4_committed", "leases4_committed"],
        Duration::from_secs(5),
    );
    probe::send_final(
        lab,
        RELAY_HOST,
        SERVER,
        &alpha(),
        addr,
        MessageType::Release,
    )
    .unwrap();
    wait_calls(&out, &["lease4_release"], Duration::from_secs(5));
    let g = probe::exchange(lab, RELAY_HOST, "eth0", SERVER, &gamma(), t).unwrap();
    let gaddr = g.ack.as_ref().map(|r| r.yiaddr).unwrap();
    probe::send_final(
        lab,
        RELAY_HOST,
        SERVER,
        &gamma(),
        gaddr,
        MessageType::Decline,
    )
    .unwrap();
    wait_calls(&out, &["lease4_decline"], Duration::from_secs(5));
    probe::exchange(lab, RELAY_HOST, "eth0", SERVER, &brief(), t).unwrap();
    let want = [
        "leases4_committed",
        "leases4_committed",
        "leases4_committed",
        "leases4_committed",
        "leases4_committed",
        "lease4_release",
        "lease4_decline",
        "lease4_expire",
    ];
    let calls = wait_calls(&out, &want, Duration::from_secs(30));
    p.kill().unwrap();
    calls
}

#[test]
fn run_script_gets_what_kea_gives_it() {
    if !runnable("run_script_gets_what_kea_gives_it") {
        return;
    }
    let lab = LabBuilder::new()
        .server("srv1")
        .with_relay()
        .build()
        .unwrap();
    let theirs = scenario(&lab, KeaServer::Kea);
    let ours = scenario(&lab, KeaServer::Ours);
    let (table, undocumented) = compare(&theirs, &ours);
    eprintln!("{table}");
    assert!(
        undocumented.is_empty(),
        "undocumented differences: {undocumented:#?}\n{table}"
    );
}

/// What pairs a call of one server with the other's: the hook point, the
/// lease address and the client's message type.
fn key(c: &Call) -> (String, String, String) {
    let get = |k: &str| c.vars.get(k).cloned().unwrap_or_default();
    let addr = [
        "LEASE4_ADDRESS",
        "LEASES4_AT0_ADDRESS",
        "DELETED_LEASES4_AT0_ADDRESS",
    ]
    .iter()
    .map(|k| get(k))
    .find(|v| !v.is_empty())
    .unwrap_or_default();
    (c.hook.clone(), addr, get("QUERY4_TYPE"))
}

fn documented(hook: &str, var: &str) -> bool {
    DOCUMENTED
        .iter()
        .any(|(h, v)| (*h == "*" || *h == hook) && *v == var)
}

/// The table of every call's variables side by side (calls paired by
/// [`key`], in Kea's order), and the differences not documented.
fn compare(theirs: &[Call], ours: &[Call]) -> (String, Vec<String>) {
    use std::fmt::Write as _;
    let mut table = String::new();
    let mut bad = Vec::new();
    let mut used = vec![false; ours.len()];
    let _ = writeln!(
        table,
        "{:<36} {:<24} {:<24} same",
        "call / variable", "Kea 2.2", "ours"
    );
    let show = |v: Option<String>| v.unwrap_or_else(|| "(missing)".into());
    for (i, k) in theirs.iter().enumerate() {
        let (hook, addr, qtype) = key(k);
        let found = (0..ours.len()).find(|&j| !used[j] && key(&ours[j]) == key(k));
        let Some(j) = found else {
            let how = if DOCUMENTED_HOOKS.contains(&(hook.as_str(), qtype.as_str())) {
                "not called by ours (documented)"
            } else {
                bad.push(format!(
                    "Kea call #{i} {hook} {addr} {qtype}: none from ours"
                ));
                "NOT CALLED BY OURS"
            };
            let _ = writeln!(table, "#{i} {hook} {addr} {qtype}: {how}");
            for (var, v) in &k.vars {
                let v = normalised(var, v);
                let _ = writeln!(table, "  {var:<34} {v:<24} {:<24}", "(missing)");
            }
            continue;
        };
        used[j] = true;
        let _ = writeln!(table, "#{i} {hook} {addr} {qtype}");
        let ov = &ours[j].vars;
        let mut keys: Vec<&String> = k.vars.keys().chain(ov.keys()).collect();
        keys.sort();
        keys.dedup();
        for var in keys {
            let a = k.vars.get(var).map(|v| normalised(var, v));
            let b = ov.get(var).map(|v| normalised(var, v));
            let same = if a == b {
                "yes"
            } else if documented(&hook, var) && a.is_some() {
                "doc"
            } else {
                bad.push(format!("#{i} {hook} {var}: Kea {a:?}, ours {b:?}"));
                "NO"
            };
            let _ = writeln!(table, "  {var:<34} {:<24} {:<24} {same}", show(a), show(b));
        }
    }
    for (j, c) in ours.iter().enumerate() {
        if !used[j] {
            let (hook, addr, qtype) = key(c);
            bad.push(format!("ours called {hook} {addr} {qtype}, Kea did not"));
            let _ = writeln!(table, "ours only: {hook} {addr} {qtype}: NO");
        }
    }
    (table, bad)
}
