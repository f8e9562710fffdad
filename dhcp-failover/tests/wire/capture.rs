//! Every failover message ISC 4.4.3-P1 sent in `fixtures/isc-failover.pcap`
//! decodes, re-encoding reproduces ISC's bytes, and the messages we build
//! ourselves (from config and lease records) are byte-identical to ISC's.
//!
//! The frames were extracted with `testdata/isc-failover/extract.py`
//! (see the README there).

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use crate::common::captured_frames;
use dhcp_core::config::LoadBalance;
use dhcp_core::lease::{BindingState, HwAddr, Lease};
use dhcp_failover::wire::{
    Binding, BindingAck, Body, Connect, ConnectAck, FrameReader, Message, MessageType,
    RejectReason, ServerFlags, ServerState, StateMsg, decode, encode,
};

fn decoded() -> Vec<(crate::common::CapturedFrame, Message)> {
    captured_frames()
        .into_iter()
        .map(|f| {
            let m = decode(&f.bytes).unwrap();
            (f, m)
        })
        .collect()
}

#[test]
fn every_captured_frame_decodes_and_reencodes_identically() {
    let frames = captured_frames();
    assert_eq!(frames.len(), 971);
    for f in &frames {
        let msg = decode(&f.bytes).unwrap_or_else(|e| panic!("frame {} ({}): {e}", f.n, f.kind));
        assert_eq!(
            msg.message_type().name().to_lowercase(),
            f.kind,
            "frame {}",
            f.n
        );
        let again = encode(&msg).unwrap();
        assert_eq!(
            again, f.bytes,
            "frame {} ({}) re-encodes differently",
            f.n, f.kind
        );
    }
}

#[test]
fn capture_covers_the_documented_types_and_states() {
    let all = decoded();
    let types: BTreeSet<u8> = all.iter().map(|(_, m)| m.message_type().code()).collect();
    assert_eq!(types, (3..=11).collect(), "message types seen");
    let states: BTreeSet<u8> = all
        .iter()
        .filter_map(|(_, m)| match &m.body {
            Body::State(s) => s.server_state.map(|s| s.code()),
            _ => None,
        })
        .collect();
    assert_eq!(states, [2, 3, 4, 5, 6, 9, 11].into_iter().collect());
    // ISC in STARTUP sends its saved state with the STARTUP flag.
    assert!(all.iter().any(|(_, m)| matches!(&m.body,
        Body::State(s) if s.server_flags.is_some_and(|f| f.startup()))));
}

/// The primary's CONNECT, rebuilt from its configuration, is ISC's CONNECT.
#[test]
fn connect_from_config_matches_isc() {
    let all = decoded();
    let (f, m) = &all[0];
    assert_eq!(f.from, "pri");
    let ours = Message::new(
        m.time,
        0,
        Body::Connect(Connect::new(
            "fo",
            10,
            30,
            "isc-4.4.3-P1",
            60,
            LoadBalance::Split(128).hba(),
        )),
    );
    assert_eq!(encode(&ours).unwrap(), f.bytes);
    // Every CONNECT in the capture is that one (bar time).
    for (f, m) in all
        .iter()
        .filter(|(_, m)| m.message_type() == MessageType::Connect)
    {
        assert_eq!(f.from, "pri");
        assert_eq!(m.body, ours.body, "frame {}", f.n);
    }
}

/// The secondary's CONNECTACK answers TLS-request with TLS-reply 0.
#[test]
fn connectack_matches_isc() {
    let all = decoded();
    let acks: Vec<_> = all
        .iter()
        .filter(|(_, m)| m.message_type() == MessageType::ConnectAck)
        .collect();
    assert_eq!(acks.len(), 4);
    for (f, m) in acks {
        assert_eq!(f.from, "sec");
        let ours = Message::new(
            m.time,
            m.xid,
            Body::ConnectAck(ConnectAck::accept("fo", 10, 30, "isc-4.4.3-P1", true)),
        );
        assert_eq!(encode(&ours).unwrap(), f.bytes, "frame {}", f.n);
    }
}

/// STATE messages carry exactly server-state, server-flags, STOS.
#[test]
fn state_messages_match_isc_layout() {
    for (f, m) in decoded()
        .iter()
        .filter(|(_, m)| m.message_type() == MessageType::State)
    {
        let Body::State(s) = &m.body else {
            unreachable!()
        };
        let flags = s.server_flags.unwrap();
        assert_eq!(flags.0 & !ServerFlags::STARTUP, 0);
        let ours = Message::new(
            m.time,
            m.xid,
            Body::State(StateMsg::new(
                s.server_state.unwrap(),
                flags.startup(),
                s.start_time_of_state.unwrap(),
            )),
        );
        assert_eq!(encode(&ours).unwrap(), f.bytes, "frame {}", f.n);
    }
    // The first STATE of each side after the cold start: saved state RECOVER
    // (6) with the STARTUP flag. (Frames 4 and 5 in capture order.)
    let all = decoded();
    let Body::State(s) = &all[3].1.body else {
        panic!("frame 4 is not STATE")
    };
    assert_eq!(s.server_state, Some(ServerState::Recover));
    assert!(s.server_flags.unwrap().startup());
}

/// Every BNDUPD ISC sent is exactly what `Binding::from_lease` produces for
/// the lease record it describes.
#[test]
fn bndupd_from_lease_matches_isc() {
    let mut states = BTreeSet::new();
    let mut n = 0;
    for (f, m) in decoded() {
        let Body::BndUpd(b) = &m.body else { continue };
        let state = b.binding_status.unwrap();
        states.insert(state);
        let mut lease = Lease::new_free(b.assigned_ip.unwrap(), state);
        lease.hw = b.chaddr.clone();
        lease.client_id = b.client_id.clone();
        lease.ends = b.lease_expiration.unwrap();
        lease.tstp = b.potential_expiration.unwrap();
        lease.starts = b.start_time_of_state.unwrap();
        lease.cltt = b.cltt.unwrap_or(0);
        if let Some(fl) = b.ip_flags {
            lease.flags = fl.into();
        }
        let ours = Message::new(m.time, m.xid, Body::BndUpd(Binding::from_lease(&lease)));
        assert_eq!(encode(&ours).unwrap(), f.bytes, "frame {}", f.n);
        n += 1;
    }
    assert_eq!(n, 457);
    assert!(states.contains(&BindingState::Free));
    assert!(states.contains(&BindingState::Backup));
    assert!(states.contains(&BindingState::Active));
}

/// A FREE update for a never-used address (all times zero, no CLTT).
#[test]
fn free_bndupd_from_new_lease_matches_isc() {
    let all = decoded();
    let (f, m) = all.iter().find(|(f, _)| f.kind == "bndupd").unwrap();
    let lease = Lease::new_free(Ipv4Addr::new(10, 99, 0, 100), BindingState::Free);
    let ours = Message::new(m.time, m.xid, Body::BndUpd(Binding::from_lease(&lease)));
    assert_eq!(encode(&ours).unwrap(), f.bytes);
}

/// An ACTIVE update carries chaddr = htype 1 + MAC, and ISC's potential
/// expiry is the lease end + MCLT/2 (here 30 s) or more.
#[test]
fn active_bndupd_fields() {
    let all = decoded();
    let active: Vec<&Binding> = all
        .iter()
        .filter_map(|(_, m)| match &m.body {
            Body::BndUpd(b) if b.binding_status == Some(BindingState::Active) => Some(b),
            _ => None,
        })
        .collect();
    assert!(!active.is_empty());
    for b in active {
        let hw: &HwAddr = b.chaddr.as_ref().unwrap();
        assert_eq!(hw.htype, 1);
        assert_eq!(hw.addr.len(), 6);
        assert!(b.cltt.is_some());
        assert!(b.potential_expiration.unwrap() >= b.lease_expiration.unwrap());
    }
}

/// BNDACKs copy the BNDUPD xid and contain assigned-IP only, or
/// assigned-IP + reject-reason + message; both are what `BindingAck`'s
/// constructors produce.
#[test]
fn bndacks_match_constructors() {
    let all = decoded();
    // Outstanding BNDUPD xids per (connection, sender).
    let mut sent: BTreeMap<(usize, String), BTreeSet<u32>> = BTreeMap::new();
    let mut rejects = 0;
    for (f, m) in &all {
        match &m.body {
            Body::BndUpd(_) => {
                sent.entry((f.conn, f.from.clone()))
                    .or_default()
                    .insert(m.xid);
            }
            Body::BndAck(a) => {
                let other = if f.from == "pri" { "sec" } else { "pri" };
                let xids = sent.entry((f.conn, other.to_string())).or_default();
                assert!(xids.remove(&m.xid), "frame {}: BNDACK for unknown xid", f.n);
                let ip = a.binding.assigned_ip.unwrap();
                let ours = match a.reject_reason {
                    None => BindingAck::accept(ip),
                    Some(r) => {
                        rejects += 1;
                        let text = String::from_utf8(a.message.clone().unwrap()).unwrap();
                        BindingAck::reject(ip, r, Some(&text))
                    }
                };
                let ours = Message::new(m.time, m.xid, Body::BndAck(ours));
                assert_eq!(encode(&ours).unwrap(), f.bytes, "frame {}", f.n);
            }
            _ => {}
        }
    }
    assert!(rejects > 0, "the cold start has 'less critical' rejects");
    let first_reject = all
        .iter()
        .find_map(|(_, m)| match &m.body {
            Body::BndAck(a) => a.reject_reason,
            _ => None,
        })
        .unwrap();
    assert_eq!(first_reject, RejectReason::LessCriticalBindingInfo);
}

/// The framer splits each direction of each connection back into the same
/// messages whatever the read sizes.
#[test]
fn framer_reassembles_capture_streams() {
    let frames = captured_frames();
    let mut streams: BTreeMap<(usize, String), Vec<&crate::common::CapturedFrame>> =
        BTreeMap::new();
    for f in &frames {
        streams.entry((f.conn, f.from.clone())).or_default().push(f);
    }
    for chunk in [1usize, 2, 3, 7, 12, 100, 1500, 1 << 20] {
        for msgs in streams.values() {
            let bytes: Vec<u8> = msgs.iter().flat_map(|f| f.bytes.iter().copied()).collect();
            let mut r = FrameReader::default();
            let mut out = Vec::new();
            for piece in bytes.chunks(chunk) {
                r.push(piece);
                while let Some(m) = r.next_message().unwrap() {
                    out.push(encode(&m).unwrap());
                }
            }
            assert_eq!(r.buffered(), 0);
            let want: Vec<Vec<u8>> = msgs.iter().map(|f| f.bytes.clone()).collect();
            assert_eq!(out, want, "chunk size {chunk}");
        }
    }
}
