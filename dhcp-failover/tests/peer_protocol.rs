//! Time-scripted tests of the peer's protocol mechanics: handshake checks,
//! keep-alive, the lazy update queue with flow control, the durability
//! contract for BNDACKs, BNDACK rejections, update requests and pool requests.

#![allow(clippy::unwrap_used)]

mod peer_support;

use dhcp_core::config::Role;
use dhcp_core::lease::BindingState;
use dhcp_failover::peer::{CloseReason, Event, FailoverState as S, Peer};
use dhcp_failover::wire::{Binding, BindingAck, Body, Connect, ConnectAck, RejectReason};
use peer_support::*;

fn connect_ack_reason(out: &[dhcp_failover::wire::Message]) -> Option<RejectReason> {
    match &out.first()?.body {
        Body::ConnectAck(a) => a.reject_reason,
        _ => None,
    }
}

#[test]
fn secondary_refuses_bad_connects() {
    let cases: Vec<(Connect, u32, RejectReason)> = vec![
        (
            Connect::new("other", 10, MRD, "x", MCLT, hba128()),
            T0,
            RejectReason::InvalidPartner,
        ),
        (connect(), T0 + 61, RejectReason::TimeMismatch),
        (
            Connect {
                hba: None,
                ..connect()
            },
            T0,
            RejectReason::HbaConflict,
        ),
        (
            Connect {
                mclt: None,
                ..connect()
            },
            T0,
            RejectReason::InvalidMclt,
        ),
    ];
    for (c, their_time, reason) in cases {
        let mut h = H::new(Role::Secondary, None);
        h.connect(T0);
        h.peer.handle_message(
            T0,
            dhcp_failover::wire::Message::new(their_time, 0, Body::Connect(c)),
            &mut h.table,
        );
        h.pump_events();
        let out = h.output(T0);
        assert_eq!(connect_ack_reason(&out), Some(reason));
        assert_eq!(out.len(), 1);
        assert!(
            h.events
                .contains(&Event::Close(CloseReason::Refused(reason)))
        );
        assert!(!h.peer.has_connection());
    }
    // 60 s of skew is still accepted.
    let mut h = H::new(Role::Secondary, None);
    h.connect(T0);
    h.peer.handle_message(
        T0,
        dhcp_failover::wire::Message::new(T0 - 60, 0, Body::Connect(connect())),
        &mut h.table,
    );
    let out = h.output(T0);
    assert_eq!(connect_ack_reason(&out), None);
    assert!(h.peer.is_linked());
}

#[test]
fn secondary_learns_mclt_and_hba_and_persists_them() {
    let mut h = H::new(Role::Secondary, None);
    assert_eq!(h.peer.hba(), None);
    let out = h.handshake(T0);
    assert!(matches!(&out[0].body, Body::ConnectAck(a) if a.reject_reason.is_none()));
    assert_eq!(out[0].xid, 0, "CONNECTACK copies the CONNECT's xid");
    assert_eq!(h.peer.mclt(), MCLT);
    assert_eq!(h.peer.hba(), Some(hba128()));
    assert!(h.events.iter().any(
        |e| matches!(e, Event::Persist(p) if p.mclt == Some(MCLT) && p.hba == Some(hba128()))
    ));
}

#[test]
fn primary_handles_connectack() {
    // Refused by the partner: close.
    let mut h = H::new(Role::Primary, None);
    h.connect(T0);
    let out = recv!(h, T0, [Body::Connect(_)]);
    let c = match &out[0].body {
        Body::Connect(c) => c.clone(),
        _ => unreachable!(),
    };
    assert_eq!(c.mclt, Some(MCLT));
    assert_eq!(c.hba, Some(hba128()));
    assert_eq!(c.relationship_name.as_deref(), Some(NAME.as_bytes()));
    send!(
        h,
        T0,
        Body::ConnectAck(connect_ack().reject(RejectReason::TimeMismatch, None))
    );
    assert!(
        h.events
            .contains(&Event::Close(CloseReason::RejectedByPartner(
                RejectReason::TimeMismatch
            )))
    );
    // Wrong name: DISCONNECT with reason 8.
    let mut h = H::new(Role::Primary, None);
    h.connect(T0);
    let _ = h.output(T0);
    send!(
        h,
        T0,
        Body::ConnectAck(ConnectAck::accept("other", 10, MRD, "x", false))
    );
    let out = recv!(h, T0, [Body::Disconnect(_)]);
    assert!(
        matches!(&out[0].body, Body::Disconnect(d) if d.reject_reason == Some(RejectReason::InvalidPartner))
    );
    // Clock skew: DISCONNECT with reason 4.
    let mut h = H::new(Role::Primary, None);
    h.connect(T0);
    let _ = h.output(T0);
    h.peer.handle_message(
        T0,
        dhcp_failover::wire::Message::new(T0 + 100, 0, Body::ConnectAck(connect_ack())),
        &mut h.table,
    );
    let out = recv!(h, T0, [Body::Disconnect(_)]);
    assert!(
        matches!(&out[0].body, Body::Disconnect(d) if d.reject_reason == Some(RejectReason::TimeMismatch))
    );
    // Accepted: STATE (saved state, STARTUP flag).
    let mut h = H::new(Role::Primary, None);
    let out = h.handshake(T0);
    assert!(is_state(&out[0], S::Recover));
}

#[test]
fn duplicate_connections_are_refused_with_reason_7() {
    let mut h = H::linked_in(Role::Secondary, S::Normal);
    let m = dhcp_failover::wire::Message::new(T0, 5, Body::Connect(connect()));
    let reply = h.peer.duplicate_connection_reply(&m).unwrap();
    assert!(
        matches!(&reply.body, Body::ConnectAck(a) if a.reject_reason == Some(RejectReason::DuplicateConnection))
    );
    assert_eq!(reply.xid, 5);
    let _ = h.output(T0);
}

#[test]
fn link_startup_limit_is_15_seconds() {
    let mut h = H::new(Role::Secondary, Some(H::saved(S::Normal, S::Normal)));
    h.connect(T0 + 20);
    h.advance(T0 + 34);
    assert!(h.peer.has_connection());
    h.advance(T0 + 35);
    assert!(!h.peer.has_connection());
    assert!(
        h.events
            .contains(&Event::Close(CloseReason::StartupTimeout))
    );
}

#[test]
fn contact_every_third_of_the_partner_receive_timer() {
    let mut h = H::linked_in(Role::Secondary, S::CommunicationsInterrupted);
    // CI with partner Unknown: nothing to send. MRD 30 → CONTACT every 10 s of silence.
    recv!(h, T0 + 9, []);
    recv!(h, T0 + 10, [Body::Contact]);
    send!(h, T0 + 15, Body::Contact);
    recv!(h, T0 + 19, []);
    recv!(h, T0 + 20, [Body::Contact]);
    send!(h, T0 + 25, Body::Contact);
    recv!(h, T0 + 30, [Body::Contact]);
    assert!(
        h.peer.is_linked(),
        "receive timer re-armed by the partner's CONTACTs"
    );
}

#[test]
fn bndack_waits_for_the_commit() {
    let mut h = H::linked_in(Role::Secondary, S::Normal);
    let _ = h.output(T0);
    h.auto_commit = false;
    send!(h, T0 + 1, xid 42, Body::BndUpd(active(15, 1, T0 + 100, T0 + 130, T0 + 1)));
    // The record is in the working table and offered for commit...
    assert_eq!(h.lease(15).state, BindingState::Active);
    let leases = h
        .events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Commit { leases, .. } => Some(leases.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(leases[0].addr, ip(15));
    // ...but its BNDACK does not leave before the commit is confirmed.
    recv!(h, T0 + 1, []);
    recv!(h, T0 + 2, []);
    h.commit_all();
    let out = recv!(h, T0 + 2, [Body::BndAck(_)]);
    assert_eq!(out[0].xid, 42);
    match &out[0].body {
        Body::BndAck(a) => {
            assert_eq!(a.binding.assigned_ip, Some(ip(15)));
            assert_eq!(a.reject_reason, None);
            assert_eq!(a.binding.client_id, None, "never a client-id in a BNDACK");
        }
        _ => unreachable!(),
    }
    let l = h.lease(15);
    assert_eq!((l.tsfp, l.ends), (T0 + 130, T0 + 100));
}

#[test]
fn a_full_update_window_asks_for_an_urgent_commit() {
    // The partner may have 10 updates outstanding: with the tenth waiting
    // for its commit it can send nothing more, so that commit should not
    // linger; the ones before may.
    let mut h = H::linked_in(Role::Secondary, S::Normal);
    let _ = h.output(T0);
    h.auto_commit = false;
    let urgent = |h: &H| {
        h.events.iter().rev().find_map(|e| match e {
            Event::Commit { urgent, .. } => Some(*urgent),
            _ => None,
        })
    };
    for i in 0..10u8 {
        send!(h, T0 + 1, xid 100 + u32::from(i), Body::BndUpd(active(10 + i, i, T0 + 100, T0 + 130, T0 + 1)));
        assert_eq!(urgent(&h), Some(i == 9), "update {i}");
    }
}

#[test]
fn updates_respect_the_partner_window_and_wait_for_acks_to_flush() {
    let mut h = H::new(Role::Primary, Some(H::saved(S::Normal, S::Normal)));
    h.connect(T0);
    let out = h.output(T0);
    // The secondary allows only 2 outstanding updates.
    send!(h, T0, xid out[0].xid, Body::ConnectAck(ConnectAck::accept(NAME, 2, MRD, "x", false)));
    h.partner_state(T0, S::Normal, false);
    // NORMAL entry: 5 leases to give to the secondary, 2 at a time.
    let out = h.output(T0);
    let upds: Vec<_> = out
        .iter()
        .filter(|m| matches!(m.body, Body::BndUpd(_)))
        .collect();
    assert_eq!(upds.len(), 2);
    assert_eq!(h.peer.pending_updates(), (3, 2));
    // A BNDACK with a wrong xid is ignored.
    let ip0 = match &upds[0].body {
        Body::BndUpd(b) => b.assigned_ip.unwrap(),
        _ => unreachable!(),
    };
    send!(h, T0 + 1, xid upds[0].xid + 100, Body::BndAck(BindingAck::accept(ip0)));
    recv!(h, T0 + 1, []);
    send!(h, T0 + 1, xid upds[0].xid, Body::BndAck(BindingAck::accept(ip0)));
    recv!(h, T0 + 1, [Body::BndUpd(_)]);
    assert_eq!(
        h.lease(ip0.octets()[3]).rewind_state,
        Some(BindingState::Backup)
    );
    // Our own pending BNDACK (not yet committed) holds back further updates.
    h.auto_commit = false;
    send!(h, T0 + 2, xid 9, Body::BndUpd(active(19, 3, T0 + 100, T0 + 130, T0 + 2)));
    let upd1 = match &upds[1].body {
        Body::BndUpd(b) => b.assigned_ip.unwrap(),
        _ => unreachable!(),
    };
    send!(h, T0 + 2, xid upds[1].xid, Body::BndAck(BindingAck::accept(upd1)));
    recv!(h, T0 + 2, []);
    h.commit_all();
    recv!(h, T0 + 2, [Body::BndAck(_), Body::BndUpd(_)]);
}

#[test]
fn acked_expiry_frees_the_lease() {
    let mut h = H::linked_in(Role::Primary, S::Normal);
    let _ = h.output(T0);
    let mut l = h.lease(19);
    l.state = BindingState::Expired;
    l.hw = Some(dhcp_core::lease::HwAddr::ethernet([2, 0, 0, 0, 0, 9]));
    l.ends = T0;
    l.tstp = T0;
    h.set_lease(l.clone());
    h.peer.local_lease_changed(T0 + 1, &l);
    let out = h.output(T0 + 1);
    let m = out
        .iter()
        .find(|m| matches!(&m.body, Body::BndUpd(b) if b.assigned_ip == Some(ip(19))))
        .unwrap();
    send!(h, T0 + 2, xid m.xid, Body::BndAck(BindingAck::accept(ip(19))));
    let l = h.lease(19);
    assert_eq!(l.state, BindingState::Free);
    assert_eq!(l.rewind_state, Some(BindingState::Free));
}

#[test]
fn bndupd_rejections() {
    let mut h = H::linked_in(Role::Primary, S::Normal);
    let _ = h.output(T0);
    let reason_of = |h: &mut H, t: u32| -> Option<RejectReason> {
        let out = h.output(t);
        match &out.last()?.body {
            Body::BndAck(a) => a.reject_reason,
            _ => None,
        }
    };
    // Address outside every pool of the relationship: 1.
    let mut b = active(15, 1, T0 + 100, T0 + 130, T0);
    b.assigned_ip = Some(std::net::Ipv4Addr::new(10, 99, 9, 9));
    send!(h, T0 + 1, Body::BndUpd(b));
    assert_eq!(
        reason_of(&mut h, T0 + 1),
        Some(RejectReason::IllegalIpAddress)
    );
    // No binding status: 3.
    let mut b = active(15, 1, T0 + 100, T0 + 130, T0);
    b.binding_status = None;
    send!(h, T0 + 1, Body::BndUpd(b));
    assert_eq!(
        reason_of(&mut h, T0 + 1),
        Some(RejectReason::MissingBindingInfo)
    );
    // The primary holds 10.99.0.15 ACTIVE; the secondary may not FREE it: 2.
    send!(
        h,
        T0 + 1,
        Body::BndUpd(active(15, 1, T0 + 100, T0 + 130, T0))
    );
    assert_eq!(reason_of(&mut h, T0 + 1), None);
    let free = Binding {
        assigned_ip: Some(ip(15)),
        binding_status: Some(BindingState::Free),
        ..Binding::default()
    };
    send!(h, T0 + 2, Body::BndUpd(free));
    assert_eq!(reason_of(&mut h, T0 + 2), Some(RejectReason::FatalConflict));
    assert!(h.events.iter().any(|e| matches!(
        e,
        Event::UpdateRejected {
            reason: RejectReason::FatalConflict,
            by_partner: false,
            ..
        }
    )));
}

#[test]
fn dueling_updates_less_critical_is_rejected() {
    // Both sides updated 10.99.0.18 at once (the [CAP] start-up pattern: FREE vs
    // FREE); the primary's update wins and the secondary's gets reason 16.
    let mut h = H::linked_in(Role::Primary, S::Normal);
    let _ = h.output(T0);
    let l = h.lease(18);
    h.peer.local_lease_changed(T0 + 1, &l);
    let out = h.output(T0 + 1);
    assert!(
        out.iter()
            .any(|m| matches!(&m.body, Body::BndUpd(b) if b.assigned_ip == Some(ip(18))))
    );
    let theirs = Binding {
        assigned_ip: Some(ip(18)),
        binding_status: Some(BindingState::Free),
        ..Binding::default()
    };
    send!(h, T0 + 1, Body::BndUpd(theirs));
    let out = recv!(h, T0 + 1, [Body::BndAck(_)]);
    assert!(matches!(&out[0].body,
        Body::BndAck(a) if a.reject_reason == Some(RejectReason::LessCriticalBindingInfo)));
    // An ACTIVE from the partner beats our FREE: accepted, ours forgotten.
    send!(
        h,
        T0 + 2,
        Body::BndUpd(active(18, 4, T0 + 100, T0 + 130, T0 + 2))
    );
    let out = recv!(h, T0 + 2, [Body::BndAck(_)]);
    assert!(matches!(&out[0].body, Body::BndAck(a) if a.reject_reason.is_none()));
    assert_eq!(h.lease(18).state, BindingState::Active);
}

#[test]
fn update_requests_are_answered_then_done() {
    let mut h = H::linked_in(Role::Secondary, S::Recover);
    let _ = h.output(T0);
    // Every address has a history (given to us by balancing, acknowledged).
    for last in 10..=19 {
        let mut l = h.lease(last);
        l.state = BindingState::Backup;
        l.starts = T0;
        l.tstp = T0;
        l.atsfp = T0;
        h.set_lease(l);
    }
    // UPDREQALL: every lease of the relationship, then UPDDONE with the request's xid
    // once the last one is acknowledged. The partner's window (10) lets all 10 go.
    send!(h, T0 + 1, xid 500, Body::UpdReqAll);
    let out = h.output(T0 + 1);
    assert_eq!(out.len(), 10);
    for m in &out[..9] {
        let Body::BndUpd(b) = &m.body else { panic!() };
        send!(h, T0 + 2, xid m.xid, Body::BndAck(BindingAck::accept(b.assigned_ip.unwrap())));
    }
    recv!(h, T0 + 2, []);
    let Body::BndUpd(b) = &out[9].body else {
        panic!()
    };
    // A rejection also settles the lease.
    send!(h, T0 + 2, xid out[9].xid, Body::BndAck(BindingAck::reject(b.assigned_ip.unwrap(), RejectReason::LessCriticalBindingInfo, None)));
    let done = recv!(h, T0 + 2, [Body::UpdDone]);
    assert_eq!(done[0].xid, 500);
    // UPDREQ with nothing unacknowledged: UPDDONE at once.
    send!(h, T0 + 3, xid 501, Body::UpdReq);
    let done = recv!(h, T0 + 3, [Body::UpdDone]);
    assert_eq!(done[0].xid, 501);
}

#[test]
fn poolreq_rebalances_and_answers_with_the_count() {
    // A primary in NORMAL whose secondary gave everything back.
    let mut h = H::new(Role::Primary, Some(H::saved(S::Normal, S::Normal)));
    h.handshake(T0);
    h.partner_state(T0, S::Normal, false);
    let out = h.output(T0);
    assert_eq!(
        out.iter()
            .filter(|m| matches!(m.body, Body::BndUpd(_)))
            .count(),
        5
    );
    for m in &out {
        if let Body::BndUpd(b) = &m.body {
            send!(h, T0, xid m.xid, Body::BndAck(BindingAck::accept(b.assigned_ip.unwrap())));
        }
    }
    // Giving back: as soon as the primary holds more than its share beyond
    // the tolerated misbalance, it balances without waiting for its
    // periodic run (at most once a second).
    let mut nudged = 0;
    for last in 10..=19 {
        let free = Binding {
            assigned_ip: Some(ip(last)),
            binding_status: Some(BindingState::Free),
            ..Binding::default()
        };
        send!(h, T0 + 1, Body::BndUpd(free));
        nudged += h
            .output(T0 + 1)
            .iter()
            .filter(|m| matches!(&m.body, Body::BndUpd(b) if b.binding_status == Some(BindingState::Backup)))
            .count();
    }
    assert!(nudged > 0, "no balance before the periodic run");
    assert_eq!(h.table.counts(0).free, 10 - nudged as u64);
    // POOLREQ: the rest of the even split, and the count in POOLRESP.
    send!(h, T0 + 2, xid 77, Body::PoolReq);
    let out = h.output(T0 + 2);
    let given = 5 - nudged as u32;
    assert!(matches!(&out[0].body, Body::PoolResp(r) if r.addresses_transferred == Some(given)));
    assert_eq!(out[0].xid, 77);
    assert_eq!(
        out.iter()
            .filter(|m| matches!(m.body, Body::BndUpd(_)))
            .count(),
        given as usize
    );
}

#[test]
fn a_partner_short_of_free_addresses_after_reconnection_is_given_some_at_once() {
    // A primary in NORMAL that gave half the pool to its secondary.
    let mut h = H::new(Role::Primary, Some(H::saved(S::Normal, S::Normal)));
    h.handshake(T0);
    h.partner_state(T0, S::Normal, false);
    let given: Vec<_> = h
        .output(T0)
        .iter()
        .filter_map(|m| match &m.body {
            Body::BndUpd(b) if b.binding_status == Some(BindingState::Backup) => b.assigned_ip,
            _ => None,
        })
        .collect();
    assert_eq!(given.len(), 5);
    for m in given.iter() {
        send!(h, T0, Body::BndAck(BindingAck::accept(*m)));
    }
    // The secondary reports that it allocated every one of them (as after
    // serving alone): the primary gives it more within the second, not at
    // its periodic run (min-balance 60 s away).
    for (i, addr) in given.iter().enumerate() {
        let last = addr.octets()[3];
        send!(
            h,
            T0 + 5,
            Body::BndUpd(active(last, i as u8, T0 + 600, T0 + 660, T0 + 5))
        );
    }
    let out = h.output(T0 + 6);
    let more = out
        .iter()
        .filter(|m| matches!(&m.body, Body::BndUpd(b) if b.binding_status == Some(BindingState::Backup)))
        .count();
    assert!(
        more >= 2,
        "{more} addresses given to the short secondary: {out:?}"
    );
    assert_eq!(h.table.counts(0).backup as usize, more);
}

#[test]
fn persisted_state_resumes_the_queue_after_restart() {
    let mut h = H::linked_in(Role::Primary, S::CommunicationsInterrupted);
    h.disconnect(T0 + 1);
    // A lease the partner has not heard of (tstp > atsfp).
    let mut l = h.lease(13);
    l.state = BindingState::Active;
    l.hw = Some(dhcp_core::lease::HwAddr::ethernet([2, 0, 0, 0, 0, 13]));
    l.ends = T0 + 60;
    l.tstp = T0 + 90;
    h.set_lease(l.clone());
    h.peer.local_lease_changed(T0 + 1, &l);
    // And one whose queued update is stale (already acknowledged): dropped on restore.
    let stale = h.lease(14);
    h.peer.local_lease_changed(T0 + 1, &stale);
    let saved = h.peer.persisted();
    assert_eq!(saved.pending_updates, vec![ip(13), ip(14)]);
    assert_eq!(saved.my_state, S::CommunicationsInterrupted);
    // serde round trip, as the daemon stores it.
    let json = serde_json::to_string(&saved).unwrap();
    let saved: dhcp_failover::peer::PersistedState = serde_json::from_str(&json).unwrap();
    let peer = Peer::new(cfg(Role::Primary), Some(saved), T0 + 10).unwrap();
    let mut h2 = H::with_peer(peer);
    h2.table = std::mem::replace(&mut h.table, dhcp_core::table::LeaseTable::new(pool()));
    h2.now = T0 + 10;
    h2.advance(T0 + 10);
    assert_eq!(h2.peer.persisted().pending_updates, vec![ip(13)]);
}

#[test]
fn a_sent_potential_expiry_outlives_the_release() {
    // We announce an ACTIVE binding with potential expiry P; the ack never
    // comes; the client releases. The record keeps tsfp = P so that a later
    // PARTNER-DOWN reclaim waits for P + MCLT (the partner may have renewed the
    // client on the strength of P).
    let mut h = H::linked_in(Role::Primary, S::Normal);
    let _ = h.output(T0);
    let mut l = h.lease(16);
    l.state = BindingState::Active;
    l.hw = Some(dhcp_core::lease::HwAddr::ethernet([2, 0, 0, 0, 0, 16]));
    l.starts = T0 + 1;
    l.ends = T0 + 60;
    l.tstp = T0 + 150;
    h.set_lease(l.clone());
    h.peer.local_lease_changed(T0 + 1, &l);
    let out = h.output(T0 + 1);
    assert!(
        out.iter()
            .any(|m| matches!(&m.body, Body::BndUpd(b) if b.assigned_ip == Some(ip(16))))
    );
    h.disconnect(T0 + 2);
    l.state = BindingState::Released;
    l.starts = T0 + 3;
    l.ends = T0 + 3;
    l.tstp = T0 + 3;
    h.set_lease(l.clone());
    h.peer.local_lease_changed(T0 + 3, &l);
    h.advance(T0 + 4);
    assert_eq!(h.lease(16).tsfp, T0 + 150);
    assert!(h.events.iter().any(
        |e| matches!(e, Event::Commit { leases, .. } if leases.iter().any(|x| x.addr == ip(16)))
    ));
}

#[test]
fn a_partner_that_says_it_is_short_gets_its_clients_answered_until_it_holds_what_it_was_given() {
    // A primary in NORMAL that believes its secondary holds half the pool.
    let mut h = H::new(Role::Primary, Some(H::saved(S::Normal, S::Normal)));
    h.handshake(T0);
    h.partner_state(T0, S::Normal, false);
    for m in h.output(T0) {
        if let Body::BndUpd(b) = &m.body {
            send!(h, T0, xid m.xid, Body::BndAck(BindingAck::accept(b.assigned_ip.unwrap())));
        }
    }
    assert_eq!(h.peer.policy().partner_short_until, None);
    // The secondary says it is short (it allocated its addresses while
    // apart; its updates have not reached us yet). Nothing to give by our
    // view, but we take its word for a while.
    send!(h, T0 + 2, xid 90, Body::PoolReq);
    let out = h.output(T0 + 2);
    assert!(matches!(&out[0].body, Body::PoolResp(r) if r.addresses_transferred == Some(0)));
    assert_eq!(h.peer.policy().partner_short_until, Some(T0 + 2 + 60));
    // Its updates show it: we give, and once it has acknowledged an
    // address of ours, load balancing is back.
    let backup: Vec<_> = (10..=19)
        .filter(|&l| h.lease(l).state == BindingState::Backup)
        .collect();
    for (i, last) in backup.iter().enumerate() {
        send!(
            h,
            T0 + 3,
            Body::BndUpd(active(*last, i as u8, T0 + 600, T0 + 660, T0 + 3))
        );
    }
    let given: Vec<_> = h
        .output(T0 + 4)
        .into_iter()
        .filter(|m| matches!(&m.body, Body::BndUpd(b) if b.binding_status == Some(BindingState::Backup)))
        .collect();
    assert!(given.len() >= 2, "{given:?}");
    // Until the partner has acknowledged every address given, it is still
    // taken to be short.
    for (i, m) in given.iter().enumerate() {
        assert!(
            h.peer.policy().partner_short_until.is_some(),
            "after {i} acks"
        );
        let Body::BndUpd(b) = &m.body else {
            unreachable!()
        };
        send!(h, T0 + 4, xid m.xid, Body::BndAck(BindingAck::accept(b.assigned_ip.unwrap())));
    }
    assert_eq!(h.peer.policy().partner_short_until, None);
}

#[test]
fn a_pool_never_used_is_not_sent_for_updreqall() {
    // A fresh pair: every address as a new table holds it. The requester
    // assumes exactly that, so UPDREQALL is done at once, with no update.
    let mut h = H::linked_in(Role::Secondary, S::Recover);
    let _ = h.output(T0);
    send!(h, T0 + 1, xid 600, Body::UpdReqAll);
    let done = recv!(h, T0 + 1, [Body::UpdDone]);
    assert_eq!(done[0].xid, 600);
    // One address with a history is sent, and only it.
    let mut l = h.lease(12);
    l.state = BindingState::Backup;
    l.tstp = T0 + 1;
    l.atsfp = T0 + 1;
    h.set_lease(l);
    send!(h, T0 + 2, xid 601, Body::UpdReqAll);
    let out = h.output(T0 + 2);
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(matches!(&out[0].body, Body::BndUpd(b) if b.assigned_ip == Some(ip(12))));
}
