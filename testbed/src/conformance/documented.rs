//! The documented differences: scenarios where ours answers unlike both ISC
//! dhcpd 4.4 and Kea 2.2, each with the clause that allows it and why we
//! chose it. The conformance test fails on a difference from both that is
//! not listed here, and on a listed one that no longer occurs.

/// One documented difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Documented {
    /// The scenario's name.
    pub scenario: &'static str,
    /// The clause that allows our answer.
    pub clause: &'static str,
    /// Why we answer so.
    pub reason: &'static str,
}

/// Every documented difference (docs/conformance.md shows the same table).
pub const DOCUMENTED: &[Documented] = &[];

/// The entry for `scenario`, if documented.
pub fn documented(scenario: &str) -> Option<&'static Documented> {
    DOCUMENTED.iter().find(|d| d.scenario == scenario)
}
