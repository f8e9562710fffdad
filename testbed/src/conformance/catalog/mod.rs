//! The scenarios, by subject: client states and addresses
//! ([`states`]), relayed requests ([`relay`]), DHCPINFORM, DECLINE, RELEASE
//! and BOOTP ([`messages`]), and options and framing ([`options`]).

pub mod build;
pub mod messages;
pub mod options;
pub mod relay;
pub mod states;

use crate::conformance::scenario::Scenario;

/// Every scenario, in the order they run (names are unique).
pub fn all() -> Vec<Scenario> {
    let mut v = states::scenarios();
    v.extend(relay::scenarios());
    v.extend(messages::scenarios());
    v.extend(options::scenarios());
    v
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_unique_and_there_are_enough() {
        let all = super::all();
        let mut names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "duplicate scenario names");
        assert!(n >= 150, "{n} scenarios");
        for s in &all {
            assert!(!s.steps.is_empty(), "{}", s.name);
            let relayed = s.relayed();
            assert!(
                s.steps
                    .iter()
                    .all(|st| (st.dest == crate::conformance::packet::Dest::Relay) == relayed),
                "{}: a scenario runs either relayed or direct",
                s.name
            );
        }
    }
}
