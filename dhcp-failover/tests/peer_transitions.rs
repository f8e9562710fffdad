//! Time-scripted tests for every row of the reference's transition tables:
//! §4.3 (partner STATE received), §4.4 (connection lost), §4.5 (actions on
//! entering a state) and §4.6 (UPDDONE). The expected outcomes are written out
//! from the reference, not computed from the implementation's tables.

#![allow(clippy::unwrap_used)]

mod peer_support;

use dhcp_core::config::Role;
use dhcp_core::lease::BindingState;
use dhcp_core::policy::LeasePolicy;
use dhcp_failover::peer::{CloseReason, Event, FailoverState as S};
use dhcp_failover::wire::Body;
use peer_support::*;

const ALL_PARTNER: [S; 12] = [
    S::Unknown,
    S::Normal,
    S::CommunicationsInterrupted,
    S::PartnerDown,
    S::PotentialConflict,
    S::Recover,
    S::Paused,
    S::Shutdown,
    S::RecoverDone,
    S::ResolutionInterrupted,
    S::ConflictDone,
    S::RecoverWait,
];

/// Puts a linked peer in `mine`, delivers the partner's `partner` STATE at
/// T0+1 and returns the harness.
fn after(role: Role, mine: S, partner: S) -> H {
    let mut h = H::linked_in(role, mine);
    h.partner_state(T0 + 1, partner, false);
    h
}

/// Checks one table row: for each partner state, the resulting state.
fn row(mine: S, expect: &[(S, S)]) {
    for role in [Role::Primary, Role::Secondary] {
        for &(partner, result) in expect {
            let h = after(role, mine, partner);
            assert_eq!(
                h.state(),
                result,
                "{role:?} in {mine}, partner says {partner}: expected {result}"
            );
        }
    }
    // Every partner state is covered by the row.
    for p in ALL_PARTNER {
        assert!(
            expect.iter().any(|(q, _)| *q == p),
            "row {mine} misses partner state {p}"
        );
    }
}

// ------------------------------------------------------------------ §4.3 rows

#[test]
fn t43_normal_row() {
    row(
        S::Normal,
        &[
            (S::Normal, S::Normal),
            (S::PartnerDown, S::PotentialConflict),
            (S::PotentialConflict, S::Shutdown),
            (S::ResolutionInterrupted, S::Shutdown),
            (S::ConflictDone, S::Shutdown),
            (S::Recover, S::PartnerDown),
            (S::Shutdown, S::PartnerDown),
            (S::Paused, S::CommunicationsInterrupted),
            (S::CommunicationsInterrupted, S::Normal),
            (S::RecoverWait, S::Normal),
            (S::RecoverDone, S::Normal),
            (S::Unknown, S::Normal),
        ],
    );
}

#[test]
fn t43_normal_partner_down_while_starting_means_i_was_down() {
    // Saved NORMAL, restarting, partner announces PARTNER-DOWN → RECOVER, and
    // RECOVER asks for everything (§4.5).
    let mut h = H::new(Role::Primary, Some(H::saved(S::Normal, S::Normal)));
    h.handshake(T0);
    h.partner_state(T0, S::PartnerDown, false);
    assert_eq!(h.state(), S::Recover);
    let out = recv!(h, T0, [Body::State(_), Body::UpdReqAll]);
    assert!(is_state(&out[0], S::Recover));
    // STOS is not updated when leaving STARTUP (§4.1).
    assert_eq!(h.peer.stos(), T0);
}

#[test]
fn t43_recover_row() {
    row(
        S::Recover,
        &[
            (S::Recover, S::Recover),
            (S::PartnerDown, S::Recover),
            (S::CommunicationsInterrupted, S::Recover),
            (S::PotentialConflict, S::PotentialConflict),
            (S::ResolutionInterrupted, S::PotentialConflict),
            (S::ConflictDone, S::PotentialConflict),
            (S::Normal, S::PotentialConflict),
            (S::Shutdown, S::PartnerDown),
            (S::Paused, S::Recover),
            (S::RecoverWait, S::Recover),
            (S::RecoverDone, S::Recover),
            (S::Unknown, S::Recover),
        ],
    );
    // RECOVER, PARTNER-DOWN and COMMUNICATIONS-INTERRUPTED make it ask for everything.
    for p in [S::Recover, S::PartnerDown, S::CommunicationsInterrupted] {
        let mut h = after(Role::Secondary, S::Recover, p);
        recv!(h, T0 + 1, [Body::UpdReqAll]);
    }
    let mut h = after(Role::Secondary, S::Recover, S::Paused);
    recv!(h, T0 + 1, []);
}

#[test]
fn t43_recover_reprocesses_a_repeated_state() {
    let mut h = after(Role::Primary, S::Recover, S::PartnerDown);
    recv!(h, T0 + 1, [Body::UpdReqAll]);
    h.partner_state(T0 + 2, S::PartnerDown, false);
    recv!(h, T0 + 2, [Body::UpdReqAll]);
}

#[test]
fn t43_normal_ignores_a_repeated_state() {
    let mut h = after(Role::Primary, S::Normal, S::Paused);
    assert_eq!(h.state(), S::CommunicationsInterrupted);
    let mut h2 = after(Role::Primary, S::Normal, S::RecoverWait);
    let _ = h2.output(T0 + 1);
    h2.partner_state(T0 + 2, S::RecoverWait, false);
    recv!(h2, T0 + 2, []);
    assert_eq!(h2.state(), S::Normal);
    let _ = h.output(T0 + 1);
}

#[test]
fn t43_potential_conflict_row() {
    row(
        S::PotentialConflict,
        &[
            (S::Normal, S::Shutdown),
            (S::ConflictDone, S::PotentialConflict),
            (S::Recover, S::Recover),
            (S::Shutdown, S::PartnerDown),
            (S::PotentialConflict, S::PotentialConflict),
            (S::ResolutionInterrupted, S::PotentialConflict),
            (S::PartnerDown, S::PotentialConflict),
            (S::CommunicationsInterrupted, S::PotentialConflict),
            (S::Paused, S::PotentialConflict),
            (S::RecoverWait, S::PotentialConflict),
            (S::RecoverDone, S::PotentialConflict),
            (S::Unknown, S::PotentialConflict),
        ],
    );
    // Partner CONFLICT-DONE: the secondary asks for the primary's updates.
    let mut h = after(Role::Secondary, S::PotentialConflict, S::ConflictDone);
    recv!(h, T0 + 1, [Body::UpdReq]);
}

#[test]
fn t43_conflict_done_row() {
    row(
        S::ConflictDone,
        &[
            (S::Normal, S::Normal),
            (S::Shutdown, S::Shutdown),
            (S::PotentialConflict, S::ConflictDone),
            (S::ResolutionInterrupted, S::ConflictDone),
            (S::Recover, S::Shutdown),
            (S::PartnerDown, S::Shutdown),
            (S::CommunicationsInterrupted, S::Shutdown),
            (S::Paused, S::Shutdown),
            (S::RecoverWait, S::Shutdown),
            (S::RecoverDone, S::Shutdown),
            (S::ConflictDone, S::Shutdown),
            (S::Unknown, S::Shutdown),
        ],
    );
    // Where ISC exits, we report it.
    let h = after(Role::Primary, S::ConflictDone, S::Recover);
    assert!(h.events.iter().any(|e| matches!(e, Event::Fatal(_))));
}

#[test]
fn t43_partner_down_row() {
    row(
        S::PartnerDown,
        &[
            (S::Recover, S::PartnerDown),
            (S::RecoverWait, S::PartnerDown),
            (S::RecoverDone, S::Normal),
            (S::Normal, S::PotentialConflict),
            (S::PotentialConflict, S::PotentialConflict),
            (S::PartnerDown, S::PotentialConflict),
            (S::CommunicationsInterrupted, S::PotentialConflict),
            (S::ResolutionInterrupted, S::PotentialConflict),
            (S::ConflictDone, S::PotentialConflict),
            (S::Paused, S::PartnerDown),
            (S::Shutdown, S::PartnerDown),
            (S::Unknown, S::PartnerDown),
        ],
    );
}

#[test]
fn t43_partner_down_ignores_a_starting_partner() {
    for p in ALL_PARTNER {
        let mut h = H::linked_in(Role::Primary, S::PartnerDown);
        h.partner_state(T0 + 1, p, true);
        assert_eq!(h.state(), S::PartnerDown, "partner starting in {p}");
    }
}

#[test]
fn t43_communications_interrupted_row() {
    row(
        S::CommunicationsInterrupted,
        &[
            (S::Paused, S::CommunicationsInterrupted),
            (S::Recover, S::PartnerDown),
            (S::Normal, S::Normal),
            (S::CommunicationsInterrupted, S::Normal),
            (S::RecoverDone, S::Normal),
            (S::RecoverWait, S::Normal),
            (S::PotentialConflict, S::PotentialConflict),
            (S::PartnerDown, S::PotentialConflict),
            (S::ResolutionInterrupted, S::PotentialConflict),
            (S::ConflictDone, S::PotentialConflict),
            (S::Shutdown, S::PartnerDown),
            (S::Unknown, S::CommunicationsInterrupted),
        ],
    );
}

#[test]
fn t43_resolution_interrupted_row() {
    row(
        S::ResolutionInterrupted,
        &[
            (S::Normal, S::PotentialConflict),
            (S::Recover, S::PotentialConflict),
            (S::PotentialConflict, S::PotentialConflict),
            (S::PartnerDown, S::PotentialConflict),
            (S::CommunicationsInterrupted, S::PotentialConflict),
            (S::ResolutionInterrupted, S::PotentialConflict),
            (S::ConflictDone, S::PotentialConflict),
            (S::RecoverDone, S::PotentialConflict),
            (S::RecoverWait, S::PotentialConflict),
            (S::Shutdown, S::PartnerDown),
            (S::Paused, S::ResolutionInterrupted),
            (S::Unknown, S::ResolutionInterrupted),
        ],
    );
}

#[test]
fn t43_recover_wait_row() {
    let all: Vec<(S, S)> = ALL_PARTNER.iter().map(|&p| (p, S::RecoverWait)).collect();
    row(S::RecoverWait, &all);
}

#[test]
fn t43_recover_done_row() {
    row(
        S::RecoverDone,
        &[
            (S::Normal, S::Normal),
            (S::RecoverDone, S::Normal),
            (S::Shutdown, S::PartnerDown),
            (S::Recover, S::RecoverDone),
            (S::PartnerDown, S::RecoverDone),
            (S::CommunicationsInterrupted, S::RecoverDone),
            (S::PotentialConflict, S::RecoverDone),
            (S::ResolutionInterrupted, S::RecoverDone),
            (S::ConflictDone, S::RecoverDone),
            (S::Paused, S::RecoverDone),
            (S::RecoverWait, S::RecoverDone),
            (S::Unknown, S::RecoverDone),
        ],
    );
}

#[test]
fn t43_shutdown_and_paused_rows() {
    for mine in [S::Shutdown, S::Paused] {
        let all: Vec<(S, S)> = ALL_PARTNER.iter().map(|&p| (p, mine)).collect();
        row(mine, &all);
    }
}

#[test]
fn t43_starting_resumes_the_saved_state() {
    // After the partner's STATE a starting peer resumes its saved state,
    // announcing it without the STARTUP flag.
    let mut h = H::new(Role::Secondary, Some(H::saved(S::Normal, S::Normal)));
    let out = h.handshake(T0);
    assert!(matches!(&out[0].body, Body::ConnectAck(_)));
    match &out[1].body {
        Body::State(s) => {
            assert_eq!(s.server_state.map(|s| s.code()), Some(S::Normal.code()));
            assert!(
                s.server_flags.unwrap().startup(),
                "STARTUP flag while starting"
            );
        }
        b => panic!("expected STATE, got {b:?}"),
    }
    assert_eq!(h.state(), S::Startup);
    h.partner_state(T0 + 1, S::CommunicationsInterrupted, false);
    assert_eq!(h.state(), S::Normal);
    let out = h.output(T0 + 1);
    assert!(is_state(&out[0], S::Normal));
    match &out[0].body {
        Body::State(s) => assert!(!s.server_flags.unwrap().startup()),
        _ => unreachable!(),
    }
}

#[test]
fn t43_saved_resolution_interrupted_goes_potential_conflict() {
    let mut h = H::new(
        Role::Primary,
        Some(H::saved(S::ResolutionInterrupted, S::Normal)),
    );
    h.handshake(T0);
    h.partner_state(T0, S::CommunicationsInterrupted, false);
    assert_eq!(h.state(), S::PotentialConflict);
    recv!(h, T0, [Body::State(_), Body::UpdReq]);
}

// ------------------------------------------------------------------ §4.4 rows

#[test]
fn t44_connection_loss_row_by_row() {
    let table = [
        (S::Normal, S::CommunicationsInterrupted),
        (S::PotentialConflict, S::ResolutionInterrupted),
        (S::Unknown, S::ResolutionInterrupted),
        (S::ConflictDone, S::ConflictDone),
        (S::CommunicationsInterrupted, S::CommunicationsInterrupted),
        (S::PartnerDown, S::PartnerDown),
        (S::Paused, S::Paused),
        (S::Recover, S::Recover),
        (S::RecoverDone, S::RecoverDone),
        (S::RecoverWait, S::RecoverWait),
        (S::ResolutionInterrupted, S::ResolutionInterrupted),
        (S::Shutdown, S::Shutdown),
    ];
    for role in [Role::Primary, Role::Secondary] {
        for (mine, result) in table {
            let mut h = H::linked_in(role, mine);
            h.disconnect(T0 + 5);
            assert_eq!(h.state(), result, "{role:?}: connection lost in {mine}");
            assert!(!h.peer.has_connection());
        }
    }
}

#[test]
fn t44_receive_timeout_drops_the_link() {
    let mut h = H::linked_in(Role::Primary, S::Normal);
    let _ = h.output(T0);
    // CONTACTs keep going out, but nothing comes in.
    let out = h.output(T0 + MRD - 1);
    assert!(
        out.iter()
            .all(|m| matches!(m.body, Body::Contact | Body::BndUpd(_)))
    );
    assert_eq!(h.state(), S::Normal);
    h.advance(T0 + MRD);
    assert_eq!(h.state(), S::CommunicationsInterrupted);
    assert!(
        h.events
            .contains(&Event::Close(CloseReason::ReceiveTimeout))
    );
    // ISC closes without sending DISCONNECT.
    recv!(h, T0 + MRD, []);
}

#[test]
fn t44_startup_timer_applies_the_disconnect_table_to_the_saved_state() {
    for (saved, result) in [
        (S::Normal, S::CommunicationsInterrupted),
        (S::PotentialConflict, S::ResolutionInterrupted),
        (S::Unknown, S::ResolutionInterrupted),
        (S::Recover, S::Recover),
        (S::PartnerDown, S::PartnerDown),
    ] {
        let mut h = H::new(Role::Primary, Some(H::saved(saved, S::Normal)));
        h.advance(T0 + 14);
        assert_eq!(h.state(), S::Startup);
        assert!(!h.peer.policy().responsive(), "silent in STARTUP");
        h.advance(T0 + 15);
        assert_eq!(h.state(), result, "saved {saved}");
    }
}

#[test]
fn t44_conflict_done_requeues_unacked_updates() {
    let mut h = H::linked_in(Role::Primary, S::ConflictDone);
    let l = h.lease(12);
    h.peer.local_lease_changed(T0 + 1, &l);
    recv!(h, T0 + 1, [Body::BndUpd(_)]);
    assert_eq!(h.peer.pending_updates(), (0, 1));
    h.disconnect(T0 + 2);
    assert_eq!(h.state(), S::ConflictDone);
    assert_eq!(h.peer.pending_updates(), (1, 0));
}

// ------------------------------------------------------------------ §4.5 rows

#[test]
fn t45_any_state_change_is_announced_and_persisted() {
    let mut h = after(Role::Primary, S::Normal, S::Paused);
    let out = h.output(T0 + 1);
    assert!(is_state(&out[0], S::CommunicationsInterrupted));
    assert!(h.events.iter().any(
        |e| matches!(e, Event::Persist(p) if p.my_state == S::CommunicationsInterrupted
            && p.partner_state == S::Paused)
    ));
}

#[test]
fn t45_communications_interrupted_starts_auto_partner_down() {
    let mut c = cfg(Role::Secondary);
    c.auto_partner_down = 10;
    let peer = dhcp_failover::peer::Peer::new(c, Some(H::saved(S::Normal, S::Normal)), T0).unwrap();
    let mut h = H::with_peer(peer);
    h.handshake(T0);
    h.partner_state(T0, S::Normal, false);
    assert_eq!(h.state(), S::Normal);
    h.disconnect(T0 + 1);
    assert_eq!(h.state(), S::CommunicationsInterrupted);
    h.advance(T0 + 10);
    assert_eq!(h.state(), S::CommunicationsInterrupted);
    h.advance(T0 + 11);
    assert_eq!(h.state(), S::PartnerDown);
}

#[test]
fn t45_normal_sends_pending_updates_and_balances() {
    let mut h = H::new(
        Role::Primary,
        Some(H::saved(S::CommunicationsInterrupted, S::Normal)),
    );
    // A lease changed while out of contact: tstp > atsfp.
    let mut l = h.lease(10);
    l.state = BindingState::Active;
    l.hw = Some(dhcp_core::lease::HwAddr::ethernet([2, 0, 0, 0, 0, 1]));
    l.ends = T0 + 100;
    l.tstp = T0 + 130;
    h.set_lease(l);
    h.handshake(T0);
    h.partner_state(T0, S::Normal, false);
    assert_eq!(h.state(), S::Normal);
    let out = h.output(T0);
    assert!(is_state(&out[0], S::Normal));
    let upds: Vec<_> = out
        .iter()
        .filter_map(|m| match &m.body {
            Body::BndUpd(b) => Some((b.assigned_ip.unwrap(), b.binding_status.unwrap())),
            _ => None,
        })
        .collect();
    assert!(upds.contains(&(ip(10), BindingState::Active)));
    // 9 free leases: the primary hands (9 - 0) / 2 = 4 to the secondary.
    let backups = upds
        .iter()
        .filter(|(_, s)| *s == BindingState::Backup)
        .count();
    assert_eq!(backups, 4, "{upds:?}");
}

#[test]
fn t45_potential_conflict_primary_asks_at_once_secondary_waits() {
    let mut h = after(Role::Primary, S::Normal, S::PartnerDown);
    assert_eq!(h.state(), S::PotentialConflict);
    // (The balancing updates sent in NORMAL and not yet acknowledged are re-sent after these.)
    let out = h.output(T0 + 1);
    assert!(is_state(&out[0], S::PotentialConflict));
    assert!(matches!(out[1].body, Body::UpdReq), "{out:?}");
    let mut h = after(Role::Secondary, S::Normal, S::PartnerDown);
    assert_eq!(h.state(), S::PotentialConflict);
    recv!(h, T0 + 1, [Body::State(_)]);
}

#[test]
fn t45_recover_asks_for_everything_when_linked() {
    // Brand-new relationship: RECOVER through STARTUP, UPDREQALL once linked.
    let mut h = H::new(Role::Secondary, None);
    assert_eq!(h.state(), S::Startup);
    h.handshake(T0 + 1);
    h.partner_state(T0 + 1, S::Recover, true);
    assert_eq!(h.state(), S::Recover);
    recv!(h, T0 + 1, [Body::State(_), Body::UpdReqAll]);
}

#[test]
fn t45_recover_waits_for_a_starting_partner_to_resume_its_state() {
    // A brand-new (amnesic) secondary meets a primary that is itself
    // starting with a saved NORMAL: not POTENTIAL-CONFLICT, whose
    // resolution would leave it without the primary's bindings. It asks
    // for everything, and again once the primary is PARTNER-DOWN.
    let mut h = H::new(Role::Secondary, None);
    h.handshake(T0 + 1);
    h.partner_state(T0 + 1, S::Normal, true);
    assert_eq!(h.state(), S::Recover);
    recv!(h, T0 + 1, [Body::State(_), Body::UpdReqAll]);
    h.partner_state(T0 + 1, S::PartnerDown, false);
    assert_eq!(h.state(), S::Recover);
    recv!(h, T0 + 1, [Body::UpdReqAll]);
    // A live NORMAL partner (no STARTUP flag) is still a conflict.
    let mut h = H::new(Role::Secondary, None);
    h.handshake(T0 + 1);
    h.partner_state(T0 + 1, S::Normal, false);
    assert_eq!(h.state(), S::PotentialConflict);
}

#[test]
fn t45_recover_wait_waits_until_stos_plus_mclt() {
    let mut h = after(Role::Secondary, S::Recover, S::PartnerDown);
    let _ = h.output(T0 + 1);
    send!(h, T0 + 2, Body::UpdDone);
    assert_eq!(h.state(), S::RecoverWait);
    recv!(h, T0 + 2, [Body::State(_)]);
    // Keep the link alive with CONTACTs from the partner.
    for t in (T0 + 10..T0 + MCLT).step_by(10) {
        send!(h, t, Body::Contact);
    }
    h.advance(T0 + MCLT - 1);
    assert_eq!(h.state(), S::RecoverWait);
    h.advance(T0 + MCLT);
    assert_eq!(h.state(), S::RecoverDone);
    // The partner (PARTNER-DOWN) moves to NORMAL on seeing RECOVER-DONE; so do we.
    h.partner_state(T0 + MCLT, S::Normal, false);
    assert_eq!(h.state(), S::Normal);
}

#[test]
fn t45_recover_wait_already_elapsed_goes_straight_to_recover_done() {
    let mut h = after(Role::Secondary, S::Recover, S::PartnerDown);
    for t in (T0 + 10..T0 + MCLT + 5).step_by(10) {
        send!(h, t, Body::Contact);
    }
    send!(h, T0 + MCLT + 5, Body::UpdDone);
    assert_eq!(h.state(), S::RecoverDone);
}

#[test]
fn t45_partner_down_reclaims_after_mclt() {
    let mut h = H::linked_in(Role::Secondary, S::CommunicationsInterrupted);
    h.disconnect(T0 + 1);
    h.peer.partner_down(T0 + 100, &mut h.table);
    h.pump_events();
    assert_eq!(h.state(), S::PartnerDown);
    let pol = h.peer.policy();
    let mut l = h.lease(11);
    l.state = BindingState::Expired;
    l.ends = T0 + 50;
    l.tsfp = T0 + 80;
    // max(ends, STOS + MCLT, tsfp + MCLT)
    assert_eq!(pol.reclaim_at(&l), Some(T0 + 160));
    // The primary's FREE addresses only after STOS + MCLT.
    let free = h.lease(12);
    assert!(!pol.may_allocate(&free, T0 + 160));
    assert!(pol.may_allocate(&free, T0 + 161));
}

// ------------------------------------------------------------------ §4.6 rows

#[test]
fn t46_update_done_in_recover() {
    // Partner not recovering and MCLT not elapsed: RECOVER-WAIT.
    let mut h = after(Role::Primary, S::Recover, S::PartnerDown);
    send!(h, T0 + 2, Body::UpdDone);
    assert_eq!(h.state(), S::RecoverWait);
    // Partner in RECOVER too (a fresh pair): RECOVER-DONE at once, and
    // NORMAL once the partner is RECOVER-DONE.
    let mut h = after(Role::Primary, S::Recover, S::Recover);
    send!(h, T0 + 2, Body::UpdDone);
    assert_eq!(h.state(), S::RecoverDone);
    h.partner_state(T0 + 3, S::RecoverDone, false);
    assert_eq!(h.state(), S::Normal);
    // Partner RECOVER-DONE: likewise.
    let mut h = after(Role::Primary, S::Recover, S::RecoverDone);
    send!(h, T0 + 2, Body::UpdDone);
    assert_eq!(
        h.state(),
        S::Normal,
        "RECOVER-DONE with a RECOVER-DONE partner"
    );
}

#[test]
fn t46_update_done_in_potential_conflict() {
    let mut h = after(Role::Primary, S::PotentialConflict, S::PotentialConflict);
    send!(h, T0 + 2, Body::UpdDone);
    assert_eq!(h.state(), S::ConflictDone);
    let mut h = after(Role::Secondary, S::PotentialConflict, S::ConflictDone);
    send!(h, T0 + 2, Body::UpdDone);
    assert_eq!(h.state(), S::Normal);
    let mut h = after(Role::Secondary, S::PotentialConflict, S::PotentialConflict);
    send!(h, T0 + 2, Body::UpdDone);
    assert_eq!(h.state(), S::PotentialConflict);
    let mut h = after(Role::Primary, S::PotentialConflict, S::ConflictDone);
    send!(h, T0 + 2, Body::UpdDone);
    assert_eq!(
        h.state(),
        S::Shutdown,
        "primary finding partner CONFLICT-DONE"
    );
}

#[test]
fn split_brain_heal_sequence() {
    // The [CAP] sequence, both sides scripted against each other by hand:
    // primary PC → UPDREQ; secondary answers UPDDONE → primary CONFLICT-DONE →
    // secondary UPDREQ → primary UPDDONE → secondary NORMAL → primary NORMAL.
    let mut p = after(Role::Primary, S::PartnerDown, S::CommunicationsInterrupted);
    assert_eq!(p.state(), S::PotentialConflict);
    let out = recv!(p, T0 + 1, [Body::State(_), Body::UpdReq]);
    send!(p, T0 + 2, xid out[1].xid, Body::UpdDone);
    assert_eq!(p.state(), S::ConflictDone);
    recv!(p, T0 + 2, [Body::State(_)]);
    send!(p, T0 + 3, xid 77, Body::UpdReq);
    recv!(p, T0 + 3, [Body::UpdDone]);
    p.partner_state(T0 + 4, S::Normal, false);
    assert_eq!(p.state(), S::Normal);
}
