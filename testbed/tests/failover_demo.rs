//! The failover demo as a test: two of our daemons (split 128), 300 simulated
//! PXE clients over 14 s, the primary SIGKILLed at 4 s and restarted 5 s
//! later. Every client boots, no address is handed out twice, no client
//! waits more than 4 s, and the pair is NORMAL again. Build the daemon first
//! (`cargo build -p dhcpd`).

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use testbed::demo::{FailoverDemoOptions, run_failover};

#[test]
fn failover_demo_has_no_boot_gap() {
    if !testbed::can_run_root_test("failover_demo_has_no_boot_gap") {
        return;
    }
    let result = run_failover(&FailoverDemoOptions::default()).unwrap();
    eprintln!("{}", result.timeline_table());
    eprintln!("{}", result.verdict());
    let r = &result.report;
    assert_eq!(r.failures(), 0);
    assert_eq!(r.bound(), 300);
    assert!(r.duplicate_addresses().is_empty());
    assert!(
        r.longest_wait().unwrap() <= std::time::Duration::from_secs(4),
        "longest wait {:?}",
        r.longest_wait()
    );
    assert!(result.back_to_normal.is_some());
    // Both served before the kill; the secondary alone while the primary was down.
    let (a1, a2) = result.addresses;
    let rows = r.timeline(std::time::Duration::from_secs(1));
    let killed = result.killed_at.as_secs() as usize;
    let restarted = result.restarted_at.as_secs() as usize;
    let sum = |from: usize, to: usize, a| -> usize {
        rows.iter()
            .take(to)
            .skip(from)
            .map(|m| m.get(&a).copied().unwrap_or(0))
            .sum()
    };
    assert!(sum(0, killed, a1) > 0 && sum(0, killed, a2) > 0);
    assert_eq!(sum(killed + 1, restarted, a1), 0);
    assert!(sum(killed + 1, restarted, a2) > 0);
    assert!(
        sum(restarted + 1, rows.len(), a1) > 0,
        "the primary serves again"
    );
    assert!(result.passed());
}
