//! Interoperability with PyPI's `pypureomapi`, a client nobody here wrote,
//! against the tokio server on loopback (script: `interop_pypureomapi.py`).
//!
//! The Python comes from `$OMAPI_TEST_PYTHON`, else the workspace's
//! `.venv/bin/python3` (`python3 -m venv .venv && .venv/bin/pip install
//! pypureomapi`), else `python3`; the test is skipped, with the reason
//! printed, when none of them can import pypureomapi.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{SECRET, WRONG_SECRET};
use omapi::{Backend, HardwareAddress, HostKey, HostStatement};

fn python() -> Option<PathBuf> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let candidates = std::env::var_os("OMAPI_TEST_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([
            workspace.join(".venv/bin/python3"),
            PathBuf::from("python3"),
        ]);
    for p in candidates {
        let ok = Command::new(&p)
            .args(["-c", "import pypureomapi"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(p);
        }
    }
    println!(
        "SKIPPED: no python with pypureomapi (python3 -m venv .venv && .venv/bin/pip install pypureomapi)"
    );
    None
}

#[test]
fn pypureomapi_hosts_leases_failover_and_refusals() {
    let Some(python) = python() else { return };
    let s = common::start();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop_pypureomapi.py");
    let out = Command::new(python)
        .arg(script)
        .arg(s.port.to_string())
        .arg(SECRET)
        .arg(WRONG_SECRET)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success() && text.contains("ALL OK"), "{text}");
    let mut b = s.backend();
    // Created: three; deleted: one; the refused ones never arrived.
    assert_eq!(b.host_count(), 2);
    let hw = |last| HardwareAddress {
        htype: 1,
        addr: vec![0x52, 0x54, 0, 0xaa, 0xbb, last],
    };
    let id = b.find_host(HostKey::Hardware(&hw(4))).unwrap();
    let node04 = b.host(id).unwrap();
    assert_eq!(
        node04.statements,
        vec![HostStatement::HostName("node04".into())]
    );
    let id = b.find_host(HostKey::Hardware(&hw(7))).unwrap();
    let node07 = b.host(id).unwrap();
    assert_eq!(
        node07.statements,
        vec![
            HostStatement::HostName("node07.example".into()),
            HostStatement::Routers(vec!["10.20.0.1".parse().unwrap()])
        ]
    );
    assert!(b.find_host(HostKey::Hardware(&hw(9))).is_none());
    assert!(b.find_host(HostKey::Hardware(&hw(10))).is_none());
    drop(b);
    let stats = s.server.stats();
    assert_eq!(stats.refused_bad_signature, 1, "{stats:?}");
    assert_eq!(stats.refused_unsigned, 1, "{stats:?}");
}
