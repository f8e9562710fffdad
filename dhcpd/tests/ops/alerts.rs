//! The Prometheus alert rules: `promtool check rules` and `promtool test
//! rules` (one positive and one negative case per alert). Skipped, loudly,
//! when promtool (Debian package `prometheus`) is not installed.

use std::path::PathBuf;
use std::process::Command;

fn rules_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/prometheus"))
}

fn promtool() -> Option<PathBuf> {
    let found = Command::new("promtool").arg("--version").output().is_ok();
    if !found {
        eprintln!("SKIPPED: promtool not found (install the Debian package `prometheus`)");
    }
    found.then(|| PathBuf::from("promtool"))
}

fn run(tool: &PathBuf, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .current_dir(rules_dir())
        .output()
        .expect("promtool runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

#[test]
fn alert_rules_are_valid() {
    let Some(tool) = promtool() else { return };
    let text = run(&tool, &["check", "rules", "alerts.yml"]);
    assert!(text.contains("SUCCESS"), "{text}");
}

#[test]
fn every_alert_has_unit_tests() {
    let Some(tool) = promtool() else { return };
    let text = run(&tool, &["test", "rules", "alerts_test.yml"]);
    assert!(text.contains("SUCCESS"), "{text}");
    // Each alert appears in the tests, with a firing and a silent case.
    let rules = std::fs::read_to_string(rules_dir().join("alerts.yml")).unwrap();
    let tests = std::fs::read_to_string(rules_dir().join("alerts_test.yml")).unwrap();
    let alerts: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
        .collect();
    assert!(alerts.len() >= 7, "{alerts:?}");
    for a in alerts {
        let cases: Vec<&str> = tests
            .split("- eval_time:")
            .filter(|c| c.contains(&format!("alertname: {a}\n")))
            .collect();
        assert!(
            cases.iter().any(|c| c.contains("exp_alerts: []")),
            "{a}: no negative test"
        );
        assert!(
            cases.iter().any(|c| c.contains("exp_labels")),
            "{a}: no positive test"
        );
    }
}
