//! Bounded work for large tables: pool balancing gives a bounded run at a
//! time, and a full update request is answered from the table a slice at a
//! time, so neither holds copies of a whole pool.

#![allow(clippy::unwrap_used)]

mod peer_support;

use dhcp_core::config::Role;
use dhcp_core::lease::BindingState;
use dhcp_failover::peer::FailoverState as S;
use dhcp_failover::wire::{BindingAck, Body};
use peer_support::*;

#[test]
fn a_large_pool_is_balanced_in_bounded_runs() {
    use dhcp_core::table::{LeaseTable, PoolSpec};
    use dhcp_failover::peer::MAX_GIVE_PER_RUN;
    // 10,000 addresses, never used: the primary owes its secondary 5,000,
    // given at most MAX_GIVE_PER_RUN at a time, the next run once the
    // partner has acknowledged the last.
    let mut h = H::new(Role::Primary, Some(H::saved(S::Normal, S::Normal)));
    h.table = LeaseTable::new(vec![PoolSpec {
        start: std::net::Ipv4Addr::new(10, 99, 0, 10),
        end: std::net::Ipv4Addr::new(10, 99, 39, 25),
        network: 0,
        failover_peer: Some(NAME.into()),
    }]);
    assert_eq!(h.table.counts(0).free, 10_000);
    h.handshake(T0);
    h.partner_state(T0, S::Normal, false);
    for round in 0..2_000 {
        let out = h.output(T0 + 1);
        if round == 0 {
            // The first run stopped at its bound (5,000 were owed).
            let (queued, unacked) = h.peer.pending_updates();
            assert_eq!(queued + unacked, MAX_GIVE_PER_RUN);
        }
        let ups: Vec<_> = out
            .iter()
            .filter_map(|m| match &m.body {
                Body::BndUpd(b) => b.assigned_ip.map(|a| (m.xid, a)),
                _ => None,
            })
            .collect();
        if ups.is_empty() && round > 0 {
            break;
        }
        for (xid, a) in ups {
            send!(h, T0 + 1, xid xid, Body::BndAck(BindingAck::accept(a)));
        }
        // Never more than one run's worth handed over and unacknowledged.
        let (queued, unacked) = h.peer.pending_updates();
        assert!(queued + unacked <= MAX_GIVE_PER_RUN, "{queued} + {unacked}");
    }
    assert_eq!(h.table.counts(0).backup, 5_000);
    assert_eq!(h.table.counts(0).free, 5_000);
}

#[test]
fn a_full_request_is_answered_from_the_table_a_slice_at_a_time() {
    use dhcp_core::table::{LeaseTable, PoolSpec};
    // 5,000 ACTIVE bindings; the partner asks for everything. Every one is
    // sent and acknowledged before UPDDONE, but never more than a slice of
    // them is held as queued copies.
    let mut h = H::new(Role::Primary, Some(H::saved(S::Normal, S::Normal)));
    h.table = LeaseTable::new(vec![PoolSpec {
        start: std::net::Ipv4Addr::new(10, 99, 0, 10),
        end: std::net::Ipv4Addr::new(10, 99, 19, 145),
        network: 0,
        failover_peer: Some(NAME.into()),
    }]);
    let addrs: Vec<_> = h.table.iter().map(|l| l.addr).collect();
    assert_eq!(addrs.len(), 5_000);
    for (i, a) in addrs.iter().enumerate() {
        let mut l = h.table.get(*a).unwrap().clone();
        l.state = BindingState::Active;
        l.client = Some(dhcp_core::lease::ClientKey::ClientId(
            (i as u32).to_be_bytes().to_vec(),
        ));
        l.starts = T0 - 10;
        l.ends = T0 + 3600;
        l.tstp = T0 - 10;
        l.tsfp = T0 + 3600;
        l.atsfp = T0 + 3600;
        h.set_lease(l);
    }
    h.handshake(T0);
    h.partner_state(T0, S::Normal, false);
    let _ = h.output(T0);
    send!(h, T0 + 1, xid 77, Body::UpdReqAll);
    let mut acked = std::collections::BTreeSet::new();
    let mut done = false;
    for _ in 0..10_000 {
        let (queued, unacked) = h.peer.pending_updates();
        assert!(queued + unacked <= 1024 + 10, "{queued} + {unacked}");
        let out = h.output(T0 + 1);
        if out.iter().any(|m| matches!(m.body, Body::UpdDone)) {
            done = true;
            break;
        }
        for m in out {
            if let Body::BndUpd(b) = &m.body {
                let a = b.assigned_ip.unwrap();
                acked.insert(a);
                send!(h, T0 + 1, xid m.xid, Body::BndAck(BindingAck::accept(a)));
            }
        }
    }
    assert!(done, "no UPDDONE");
    assert_eq!(acked.len(), 5_000);
}
