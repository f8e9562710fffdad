//! The lab itself: teardown leaves nothing behind (normal drop and panic),
//! link cut/restore, process supervision. No DHCP server involved.

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use std::time::Duration;

use testbed::netns;
use testbed::topology::LabBuilder;

fn alive(pid: i32) -> bool {
    // Zombies do not count: a reaped or dying process has no netns link.
    std::fs::read_link(format!("/proc/{pid}/ns/net")).is_ok()
}

fn leftovers(names: &[String]) -> Vec<String> {
    let now = netns::list().unwrap();
    names.iter().filter(|n| now.contains(n)).cloned().collect()
}

#[test]
fn lab_teardown_leaves_no_namespaces_processes_or_files() {
    if !testbed::can_run_root_test("lab_teardown_leaves_no_namespaces_processes_or_files") {
        return;
    }
    let lab = LabBuilder::new()
        .server("srv1")
        .server("srv2")
        .client("cli1")
        .relayed_client("rcl1")
        .build()
        .unwrap();
    let names = lab.namespaces();
    assert_eq!(names.len(), 6, "{names:?}"); // bridge ns + 5 hosts
    assert_eq!(leftovers(&names), names);
    let dir = lab.dir().to_owned();
    assert!(dir.is_dir());
    // A supervised process and an unsupervised one (as a daemonizing client
    // would leave) inside hosts.
    let p = lab.spawn("srv1", "sleeper", "sleep", &["300"]).unwrap();
    let pid = p.pid().unwrap();
    let _ = lab
        .exec("cli1", "sh", &["-c", "sleep 300 >/dev/null 2>&1 &"])
        .unwrap();
    let stray = netns::pids(lab.namespace("cli1").unwrap());
    assert_eq!(stray.len(), 1, "{stray:?}");
    assert!(alive(pid) && alive(stray[0]));
    std::mem::forget(p); // leave it to the lab's teardown
    drop(lab);
    assert!(
        leftovers(&names).is_empty(),
        "left: {:?}",
        leftovers(&names)
    );
    assert!(!dir.exists());
    std::thread::sleep(Duration::from_millis(50));
    assert!(!alive(stray[0]), "stray process survived");
}

#[test]
fn lab_is_removed_when_a_test_panics() {
    if !testbed::can_run_root_test("lab_is_removed_when_a_test_panics") {
        return;
    }
    let names = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let n2 = names.clone();
    let outcome = std::panic::catch_unwind(move || {
        let lab = LabBuilder::new()
            .server("srv1")
            .client("cli1")
            .build()
            .unwrap();
        *n2.lock().unwrap() = lab.namespaces();
        let _p = lab.spawn("srv1", "sleeper", "sleep", &["300"]).unwrap();
        panic!("deliberate panic with a live lab");
    });
    assert!(outcome.is_err());
    let names = names.lock().unwrap().clone();
    assert_eq!(names.len(), 3);
    assert!(
        leftovers(&names).is_empty(),
        "left: {:?}",
        leftovers(&names)
    );
}

#[test]
fn link_cut_and_restore() {
    if !testbed::can_run_root_test("link_cut_and_restore") {
        return;
    }
    if !netns::have_program("ping") {
        panic!("ping not found: install iputils-ping");
    }
    let lab = LabBuilder::new()
        .server("srv1")
        .server("srv2")
        .build()
        .unwrap();
    let ping = |lab: &testbed::Lab| {
        lab.exec("srv1", "ping", &["-c", "1", "-W", "1", "10.99.0.2"])
            .is_ok()
    };
    assert!(ping(&lab), "link up: ping works");
    lab.cut_link("srv2", "eth0").unwrap();
    assert!(!ping(&lab), "link cut: ping fails");
    lab.restore_link("srv2", "eth0").unwrap();
    // The bridge port needs a moment to forward again.
    let ok = (0..20).any(|_| {
        if ping(&lab) {
            true
        } else {
            std::thread::sleep(Duration::from_millis(100));
            false
        }
    });
    assert!(ok, "link restored: ping works again");
}

#[test]
fn processes_are_logged_killed_and_restarted_by_pid() {
    if !testbed::can_run_root_test("processes_are_logged_killed_and_restarted_by_pid") {
        return;
    }
    let lab = LabBuilder::new().server("srv1").build().unwrap();
    let script = "echo started; echo to-stderr >&2; trap 'echo got-term; exit 3' TERM; \
                  while :; do sleep 0.05; done";
    let mut p = lab.spawn("srv1", "looper", "sh", &["-c", script]).unwrap();
    p.wait_for_log("out| started", Duration::from_secs(5))
        .unwrap();
    let line = p
        .wait_for_log("err| to-stderr", Duration::from_secs(5))
        .unwrap();
    // "HH:MM:SS.mmm +   0.001s err| to-stderr"
    assert!(line.contains("err| to-stderr"), "{line}");
    assert_eq!(line.as_bytes()[2], b':', "timestamped: {line}");
    // It runs inside the host's namespace.
    let pid1 = p.pid().unwrap();
    assert!(netns::pids(lab.namespace("srv1").unwrap()).contains(&pid1));

    // SIGKILL, reaped.
    let status = p.kill().unwrap().unwrap();
    assert_eq!(testbed::process::describe(status), "signal 9");
    assert!(p.pid().is_none());

    // Start again: a new PID, same log.
    p.start_again().unwrap();
    let pid2 = p.pid().unwrap();
    assert_ne!(pid1, pid2);
    let from = p.log_len();
    p.wait_for_log_from(
        from.saturating_sub(3),
        "out| started",
        Duration::from_secs(5),
    )
    .unwrap();

    // Restart: SIGTERM (the trap exits 3), then a third instance.
    std::thread::sleep(Duration::from_millis(200));
    p.restart().unwrap();
    assert_eq!(p.restarts(), 2);
    let pid3 = p.pid().unwrap();
    assert_ne!(pid3, pid2);
    p.wait_for_log("out| got-term", Duration::from_secs(5))
        .unwrap();
    p.wait_for_log("exited: exit 3", Duration::from_secs(5))
        .unwrap();
    let log = std::fs::read_to_string(p.log_path()).unwrap();
    assert_eq!(log.matches("started pid").count(), 3, "{log}");

    // Terminate for good.
    p.terminate(Duration::from_secs(2)).unwrap();
    assert!(!p.is_running());
}
