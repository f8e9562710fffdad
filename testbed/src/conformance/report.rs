//! The suite's verdict: per scenario, whether ours agrees with ISC and with
//! Kea, checked against the documented differences, and the printed table.

use std::fmt::Write as _;

use crate::conformance::compare::{as_expected, compare, summary};
use crate::conformance::documented::{DOCUMENTED, documented};
use crate::conformance::driver::StepResult;
use crate::conformance::scenario::Scenario;

/// One scenario's results on the three servers (ours, ISC, Kea).
#[derive(Debug, Clone)]
pub struct Row {
    /// The scenario.
    pub scenario: Scenario,
    /// Ours, ISC, Kea.
    pub results: [Vec<StepResult>; 3],
}

impl Row {
    /// Differences ours | ISC.
    pub fn vs_isc(&self) -> Vec<String> {
        compare(&self.scenario, &self.results[0], &self.results[1])
    }

    /// Differences ours | Kea.
    pub fn vs_kea(&self) -> Vec<String> {
        compare(&self.scenario, &self.results[0], &self.results[2])
    }
}

/// The counts of the agreement table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Scenarios.
    pub scenarios: usize,
    /// Ours answered as ISC did.
    pub same_as_isc: usize,
    /// Ours answered as Kea did.
    pub same_as_kea: usize,
    /// Ours answered as both did.
    pub same_as_both: usize,
    /// Ours differs from both.
    pub differs_from_both: usize,
    /// ISC and Kea differ from each other.
    pub isc_kea_differ: usize,
    /// Of those differing from both, documented.
    pub documented: usize,
}

/// The verdict over all rows: the counts, and the failures (a difference
/// from both that is not documented; a documented one that did not occur).
pub fn verdict(rows: &[Row]) -> (Counts, Vec<String>) {
    let mut c = Counts {
        scenarios: rows.len(),
        ..Counts::default()
    };
    let mut failures = Vec::new();
    for row in rows {
        let name = row.scenario.name.as_str();
        let (isc, kea) = (row.vs_isc().is_empty(), row.vs_kea().is_empty());
        c.same_as_isc += usize::from(isc);
        c.same_as_kea += usize::from(kea);
        c.same_as_both += usize::from(isc && kea);
        if !compare(&row.scenario, &row.results[1], &row.results[2]).is_empty() {
            c.isc_kea_differ += 1;
        }
        let doc = documented(name);
        if !isc && !kea {
            c.differs_from_both += 1;
            if doc.is_some() {
                c.documented += 1;
            } else {
                failures.push(format!(
                    "{name}: ours differs from ISC ({}) and from Kea ({}), undocumented",
                    row.vs_isc().join("; "),
                    row.vs_kea().join("; ")
                ));
            }
        } else if doc.is_some() {
            failures.push(format!(
                "{name}: documented as differing from both, but ours now agrees with {}",
                if isc { "ISC" } else { "Kea" }
            ));
        }
    }
    for d in DOCUMENTED {
        if !rows.iter().any(|r| r.scenario.name == d.scenario) {
            failures.push(format!("{}: documented, but no such scenario", d.scenario));
        }
    }
    (c, failures)
}

/// The table: scenario, clause, expected, what each server answered
/// (`*` after an answer the RFC does not expect), agreement with ISC and
/// Kea, and the differences.
pub fn table(rows: &[Row]) -> String {
    let mut s = String::from(
        "scenario | clause | expected | ours | ISC 4.4 | Kea 2.2 | =ISC | =Kea | differences (ours | other)\n",
    );
    for row in rows {
        let sc = &row.scenario;
        let expected: Vec<&str> = sc
            .steps
            .iter()
            .filter(|st| st.compared)
            .map(|st| st.expect.name())
            .collect();
        let show = |results: &[StepResult]| {
            let v: Vec<String> = sc
                .steps
                .iter()
                .zip(results)
                .filter(|(st, _)| st.compared)
                .map(|(st, r)| {
                    let mark = if as_expected(st.expect, r) { "" } else { "*" };
                    format!("{}{mark}", summary(r))
                })
                .collect();
            v.join(", ")
        };
        let (isc, kea) = (row.vs_isc(), row.vs_kea());
        let yes = |d: &[String]| if d.is_empty() { "agree" } else { "differ" };
        let mut notes = Vec::new();
        if !isc.is_empty() {
            notes.push(format!("ISC: {}", isc.join("; ")));
        }
        if !kea.is_empty() {
            notes.push(format!("Kea: {}", kea.join("; ")));
        }
        if !isc.is_empty() && !kea.is_empty() && documented(&sc.name).is_some() {
            notes.push("(documented)".to_owned());
        }
        let _ = writeln!(
            s,
            "{} | {} | {} | {} | {} | {} | {} | {} | {}",
            sc.name,
            sc.clause,
            expected.join(", "),
            show(&row.results[0]),
            show(&row.results[1]),
            show(&row.results[2]),
            yes(&isc),
            yes(&kea),
            notes.join(" / ")
        );
    }
    s
}

/// The counts as the lines of docs/conformance.md's agreement table.
pub fn counts_table(c: &Counts) -> String {
    format!(
        "| scenarios | {} |\n| ours = ISC 4.4 | {} |\n| ours = Kea 2.2 | {} |\n| ours = both | {} |\n\
         | ISC and Kea differ | {} |\n| ours differs from both | {} |\n| of which documented | {} |\n",
        c.scenarios,
        c.same_as_isc,
        c.same_as_kea,
        c.same_as_both,
        c.isc_kea_differ,
        c.differs_from_both,
        c.documented
    )
}
