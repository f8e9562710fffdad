//! Comparing two servers' answers to one scenario, field by field, after
//! normalising what legitimately differs between servers: which free
//! address of a pool each picks. Pool addresses are renamed in order of
//! first appearance within the scenario (the first becomes 10.99.250.1,
//! the next 10.99.250.2, …), so "the address offered in step 0" still
//! matches "the address acknowledged in step 1" and a reply with another
//! address shows up. Reserved and fixed addresses stay as they are. A
//! message (option 56) is not compared: free text, and optional. All
//! three servers run at the same address, so the server identifier (54)
//! and `siaddr` compare as they are.

use std::net::Ipv4Addr;

use crate::conformance::driver::StepResult;
use crate::conformance::packet::{Addr, Opt};
use crate::conformance::scenario::{Expect, Scenario};
use crate::probe::{RawReply, differences};

/// The dynamic ranges of the fixtures (inclusive).
pub const POOLS: [(Ipv4Addr, Ipv4Addr); 3] = [
    (Ipv4Addr::new(10, 99, 0, 10), Ipv4Addr::new(10, 99, 0, 250)),
    (Ipv4Addr::new(10, 99, 1, 10), Ipv4Addr::new(10, 99, 1, 250)),
    (Ipv4Addr::new(10, 99, 2, 10), Ipv4Addr::new(10, 99, 2, 250)),
];

/// Renames pool addresses in order of first appearance.
#[derive(Debug, Default)]
struct Names(Vec<Ipv4Addr>);

impl Names {
    fn name(&mut self, a: Ipv4Addr) -> Ipv4Addr {
        let in_pool = POOLS
            .iter()
            .any(|(lo, hi)| (u32::from(*lo)..=u32::from(*hi)).contains(&u32::from(a)));
        if !in_pool {
            return a;
        }
        let n = match self.0.iter().position(|x| *x == a) {
            Some(n) => n,
            None => {
                self.0.push(a);
                self.0.len() - 1
            }
        };
        Ipv4Addr::new(10, 99, 250, 1 + n as u8)
    }
}

/// One server's results with pool addresses renamed; the scenario's own
/// fixed addresses (a requested address, a `ciaddr`) are named first, so a
/// reply that gives the requested address is told from one that does not.
fn normalise(scenario: &Scenario, results: &[StepResult]) -> Vec<StepResult> {
    let mut names = Names::default();
    for step in &scenario.steps {
        let p = &step.packet;
        let opts = p.options.iter().filter_map(|o| match o {
            Opt::Addr(_, a) => Some(*a),
            _ => None,
        });
        for a in [p.ciaddr, p.giaddr].into_iter().chain(opts) {
            if let Addr::Lit(a) = a {
                names.name(a);
            }
        }
    }
    results
        .iter()
        .map(|r| match r {
            StepResult::Reply(reply, to) => {
                let mut reply = reply.clone();
                // A message (56) is free text and optional (RFC 2131
                // Table 3: MAY in OFFER, ACK and NAK).
                reply.options.remove(&56);
                reply.yiaddr = names.name(reply.yiaddr);
                reply.ciaddr = names.name(reply.ciaddr);
                let to = names.name(*to);
                StepResult::Reply(reply, to)
            }
            other => other.clone(),
        })
        .collect()
}

/// What a step got, in a few words: `ACK 10.99.250.1`, `NAK`, `silent`.
pub fn summary(r: &StepResult) -> String {
    match r {
        StepResult::Reply(reply, _) => {
            let kind = match reply.message_type() {
                None => "BOOTREPLY",
                Some(2) => "OFFER",
                Some(5) => "ACK",
                Some(6) => "NAK",
                Some(_) => "other",
            };
            if reply.yiaddr.is_unspecified() {
                kind.to_owned()
            } else {
                format!("{kind} {}", reply.yiaddr)
            }
        }
        StepResult::Silent => "silent".to_owned(),
        StepResult::NotSent => "(not sent)".to_owned(),
    }
}

/// Whether a step's result is the answer the RFC expects.
pub fn as_expected(expect: Expect, r: &StepResult) -> bool {
    match (expect, r) {
        (Expect::Silence, StepResult::Silent) => true,
        (Expect::Bootp, StepResult::Reply(reply, _)) => reply.message_type().is_none(),
        (Expect::Kind(k), StepResult::Reply(reply, _)) => reply.message_type() == Some(k),
        _ => false,
    }
}

/// The differences between two servers' results (`a` first), for the
/// compared steps: one line each, empty when they agree.
pub fn compare(scenario: &Scenario, a: &[StepResult], b: &[StepResult]) -> Vec<String> {
    let (a, b) = (normalise(scenario, a), normalise(scenario, b));
    let mut out = Vec::new();
    for (n, step) in scenario.steps.iter().enumerate() {
        if !step.compared {
            continue;
        }
        let (x, y) = (&a[n], &b[n]);
        match (x, y) {
            (StepResult::Reply(r, to), StepResult::Reply(s, to2)) => {
                let mut s = s.clone();
                same_lease_time_within_a_second_or_two(r, &mut s);
                for d in reply_differences(r, &s) {
                    out.push(format!("step {n}: {d}"));
                }
                if to != to2 {
                    out.push(format!("step {n}: sent to: {to} | {to2}"));
                }
            }
            _ if summary(x) != summary(y) => {
                out.push(format!("step {n}: {} | {}", summary(x), summary(y)));
            }
            _ => {}
        }
    }
    out
}

/// A lease time re-offered from an existing lease is what is left of it
/// (ISC): a second or two either way is when the step ran, not behaviour.
fn same_lease_time_within_a_second_or_two(a: &RawReply, b: &mut RawReply) {
    if let (Some(x), Some(y)) = (a.lease_time(), b.lease_time())
        && x.abs_diff(y) <= 2
    {
        b.options.insert(51, x.to_be_bytes().to_vec());
    }
}

/// Field-by-field differences of two replies ([`differences`] with
/// `yiaddr` compared: pool addresses are already renamed).
fn reply_differences(a: &RawReply, b: &RawReply) -> Vec<String> {
    let mut d = differences(a, b, true, &[]);
    if a.message_type() != b.message_type() {
        d.insert(
            0,
            format!("type: {} | {}", summary_kind(a), summary_kind(b)),
        );
    }
    d
}

fn summary_kind(r: &RawReply) -> String {
    r.message_type().map_or("BOOTP".into(), |k| k.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_addresses_are_renamed_in_order_of_appearance() {
        let mut n = Names::default();
        let a = Ipv4Addr::new(10, 99, 0, 200);
        let b = Ipv4Addr::new(10, 99, 1, 12);
        assert_eq!(n.name(a), Ipv4Addr::new(10, 99, 250, 1));
        assert_eq!(n.name(b), Ipv4Addr::new(10, 99, 250, 2));
        assert_eq!(n.name(a), Ipv4Addr::new(10, 99, 250, 1));
        assert_eq!(
            n.name(Ipv4Addr::new(10, 99, 0, 5)),
            Ipv4Addr::new(10, 99, 0, 5)
        );
        assert_eq!(n.name(Ipv4Addr::BROADCAST), Ipv4Addr::BROADCAST);
    }
}
