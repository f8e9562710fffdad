//! Fencing-aware automatic partner-down in the peer: with
//! `[failover.fencing]`, the `auto_partner_down` timer leads to
//! PARTNER-DOWN only once the partner has also been silent to the
//! client-link probes for as long; while it answers, the peer stays in
//! COMMUNICATIONS-INTERRUPTED and reports each withheld takeover.

#![allow(clippy::unwrap_used)]

mod peer_support;

use dhcp_core::config::{FencingConfig, Role};
use dhcp_failover::fencing::Withheld;
use dhcp_failover::peer::{Event, FailoverState as S, Peer};
use peer_support::*;

const APD: u32 = 10;

/// A secondary in NORMAL that loses the link at T0 + 1.
fn interrupted(fencing: bool) -> H {
    let mut c = cfg(Role::Secondary);
    c.auto_partner_down = APD;
    c.fencing = fencing.then_some(FencingConfig {
        probe_from: None,
        probe_to: None,
        interval: 2,
    });
    let peer = Peer::new(c, Some(H::saved(S::Normal, S::Normal)), T0).unwrap();
    let mut h = H::with_peer(peer);
    h.handshake(T0);
    h.partner_state(T0, S::Normal, false);
    assert_eq!(h.state(), S::Normal);
    assert!(!h.peer.wants_client_probe(), "no probes while linked");
    h.disconnect(T0 + 1);
    assert_eq!(h.state(), S::CommunicationsInterrupted);
    h
}

fn probe(h: &mut H, t: u32, answered: bool) {
    h.advance(t);
    h.peer.client_probe_result(t, answered);
    h.advance(t);
}

fn withheld(h: &H) -> Vec<Withheld> {
    h.events
        .iter()
        .filter_map(|e| match e {
            Event::PartnerDownWithheld(w) => Some(*w),
            _ => None,
        })
        .collect()
}

#[test]
fn a_partner_answering_clients_keeps_us_in_communications_interrupted() {
    let mut h = interrupted(true);
    assert!(h.peer.wants_client_probe());
    for t in (T0 + 2..T0 + 40).step_by(2) {
        probe(&mut h, t, true);
    }
    h.advance(T0 + 40);
    assert_eq!(h.state(), S::CommunicationsInterrupted);
    let w = withheld(&h);
    assert!(!w.is_empty());
    assert!(
        w.iter()
            .all(|w| matches!(w, Withheld::PartnerAnswersClients { .. }))
    );
    assert_eq!(h.peer.fence().unwrap().totals(), (19, 19));
}

#[test]
fn a_partner_silent_on_both_links_is_taken_over_after_the_configured_time() {
    let mut h = interrupted(true);
    for t in (T0 + 2..T0 + 11).step_by(2) {
        probe(&mut h, t, false);
    }
    assert_eq!(h.state(), S::CommunicationsInterrupted, "before the time");
    h.advance(T0 + 11);
    assert_eq!(h.state(), S::PartnerDown);
    assert!(withheld(&h).is_empty());
    assert!(!h.peer.wants_client_probe());
}

#[test]
fn the_partner_falling_silent_starts_the_clock_again() {
    let mut h = interrupted(true);
    probe(&mut h, T0 + 2, false);
    probe(&mut h, T0 + 6, true);
    for t in (T0 + 8..T0 + 15).step_by(2) {
        probe(&mut h, t, false);
    }
    assert_eq!(h.state(), S::CommunicationsInterrupted, "answered at +6");
    h.advance(T0 + 15);
    assert_eq!(h.state(), S::CommunicationsInterrupted);
    h.advance(T0 + 16);
    assert_eq!(h.state(), S::PartnerDown, "10 s after the last answer");
}

#[test]
fn without_probe_outcomes_the_takeover_waits() {
    let mut h = interrupted(true);
    h.advance(T0 + 30);
    assert_eq!(h.state(), S::CommunicationsInterrupted);
    assert!(matches!(
        withheld(&h).first(),
        Some(Withheld::NoProbeEvidence { silent_probes: 0 })
    ));
    probe(&mut h, T0 + 31, false);
    probe(&mut h, T0 + 33, false);
    h.advance(T0 + 36);
    assert_eq!(h.state(), S::PartnerDown);
}

#[test]
fn without_fencing_the_timer_alone_decides() {
    let mut h = interrupted(false);
    assert!(!h.peer.wants_client_probe());
    h.advance(T0 + 11);
    assert_eq!(h.state(), S::PartnerDown);
}
