//! The differential conformance suite (issue 17, docs/conformance.md):
//! every scenario of `testbed::conformance::catalog` run against ours, ISC
//! dhcpd 4.4 and Kea 2.2, one server at a time in the same lab, each from
//! its fixture in `testbed/fixtures/conformance/`. Prints the table
//! (scenario × server, agree / differ, the RFC clause) and the counts.
//! Fails on a difference of ours from both ISC and Kea that is not in
//! `testbed::conformance::documented::DOCUMENTED`, and on a documented one
//! that no longer occurs.
//!
//! Build the daemon first (`cargo build -p dhcpd`); needs root,
//! `/usr/sbin/dhcpd` and `/usr/sbin/kea-dhcp4`.

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

use std::time::Instant;

use testbed::LabBuilder;
use testbed::conformance::driver::{Site, StepResult, run};
use testbed::conformance::report::{Row, counts_table, table, verdict};
use testbed::conformance::servers::{ISC_BINARY, KEA_BINARY, Server};
use testbed::conformance::{catalog, catalog::build::SERVER};

#[test]
fn ours_answers_as_isc_or_kea_or_the_difference_is_documented() {
    let test = "ours_answers_as_isc_or_kea_or_the_difference_is_documented";
    if !testbed::can_run_root_test(test) {
        return;
    }
    for (bin, package) in [
        (ISC_BINARY, "isc-dhcp-server"),
        (KEA_BINARY, "kea-dhcp4-server"),
    ] {
        if !std::path::Path::new(bin).exists() {
            eprintln!("SKIPPED: needs {bin} ({package}): {test}");
            return;
        }
    }
    let started = Instant::now();
    let lab = LabBuilder::new()
        .server("srv1")
        .client("cli1")
        .with_relay()
        .build()
        .unwrap();
    let site = Site::new(&lab, "cli1", SERVER).unwrap();
    let scenarios = catalog::all();
    let only = std::env::var("CONFORMANCE_ONLY").ok();
    let scenarios: Vec<_> = scenarios
        .into_iter()
        .enumerate()
        .filter(|(_, s)| only.as_deref().is_none_or(|o| s.name.contains(o)))
        .collect();
    let mut results: Vec<Vec<Vec<StepResult>>> = Vec::new();
    for server in Server::ALL {
        let mut p = server.start(&lab, "srv1").unwrap();
        let mut per = Vec::new();
        for (index, s) in &scenarios {
            per.push(run(&site, *index, s).unwrap());
        }
        assert!(
            p.is_running(),
            "{} exited:\n{}",
            server.name(),
            p.log_lines().join("\n")
        );
        p.kill().unwrap();
        eprintln!(
            "{}: {} scenarios, {:?} so far",
            server.name(),
            per.len(),
            started.elapsed()
        );
        results.push(per);
    }
    let rows: Vec<Row> = scenarios
        .iter()
        .enumerate()
        .map(|(i, (_, s))| Row {
            scenario: s.clone(),
            results: [
                results[0][i].clone(),
                results[1][i].clone(),
                results[2][i].clone(),
            ],
        })
        .collect();
    eprintln!("{}", table(&rows));
    let (counts, failures) = verdict(&rows);
    eprintln!("{}", counts_table(&counts));
    eprintln!("conformance suite took {:?}", started.elapsed());
    if only.is_none() {
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}
