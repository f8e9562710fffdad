//! The byte-exact example encodings of reference `isc-failover.md` §1.5.

#![allow(clippy::unwrap_used)]

use std::net::Ipv4Addr;

use crate::common::hex;
use dhcp_core::config::LoadBalance;
use dhcp_core::lease::{BindingState, HwAddr, Lease};
use dhcp_failover::wire::{
    Binding, BindingAck, Body, Connect, ConnectAck, Message, RejectReason, ServerFlags,
    ServerState, StateMsg, decode, encode,
};

fn check(msg: Message, bytes: &str) {
    let bytes = hex(bytes);
    assert_eq!(encode(&msg).unwrap(), bytes);
    assert_eq!(decode(&bytes).unwrap(), msg);
}

#[test]
fn connect_example() {
    check(
        Message::new(
            0x6500_0000,
            0,
            Body::Connect(Connect {
                relationship_name: Some(b"failover-partner".to_vec()),
                max_unacked: Some(10),
                receive_timer: Some(60),
                vendor_class: Some(b"isc-4.4.3-P1".to_vec()),
                protocol_version: Some(1),
                tls_request: Some(0),
                mclt: Some(3600),
                hba: Some(LoadBalance::Split(128).hba()),
            }),
        ),
        "00 76 05 0c 65 00 00 00 00 00 00 00 00 16 00 10
         66 61 69 6c 6f 76 65 72 2d 70 61 72 74 6e 65 72
         00 0e 00 04 00 00 00 0a 00 13 00 04 00 00 00 3c
         00 1c 00 0c 69 73 63 2d 34 2e 34 2e 33 2d 50 31
         00 14 00 01 01 00 1b 00 01 00 00 0f 00 04 00 00
         0e 10 00 0b 00 20 ff ff ff ff ff ff ff ff ff ff
         ff ff ff ff ff ff 00 00 00 00 00 00 00 00 00 00
         00 00 00 00 00 00",
    );
}

#[test]
fn state_example() {
    check(
        Message::new(
            0x6500_0000,
            1,
            Body::State(StateMsg {
                server_state: Some(ServerState::Normal),
                server_flags: Some(ServerFlags(0)),
                start_time_of_state: Some(0x64ff_ff00),
            }),
        ),
        "00 1e 0a 0c 65 00 00 00 00 00 00 01 00 18 00 01 02 00 17 00 01 00 00 19 00 04 64 ff ff 00",
    );
}

#[test]
fn recover_wait_is_254_on_the_wire() {
    let msg = Message::new(
        1,
        2,
        Body::State(StateMsg {
            server_state: Some(ServerState::RecoverWait),
            server_flags: Some(ServerFlags(ServerFlags::STARTUP)),
            start_time_of_state: Some(3),
        }),
    );
    let bytes = encode(&msg).unwrap();
    assert_eq!(&bytes[12..17], &[0, 24, 0, 1, 254]);
    assert_eq!(decode(&bytes).unwrap(), msg);
}

#[test]
fn bndupd_example_from_a_lease() {
    let mut lease = Lease::new_free(Ipv4Addr::new(192, 0, 2, 10), BindingState::Active);
    lease.client_id = Some(hex("01 52 54 00 12 34 56"));
    lease.hw = Some(HwAddr::ethernet([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]));
    lease.ends = 0x6500_0e10;
    lease.tstp = 0x6500_1518;
    lease.starts = 0x6500_0000;
    lease.cltt = 0x6500_0000;
    check(
        Message::new(0x6500_0000, 7, Body::BndUpd(Binding::from_lease(&lease))),
        "00 4f 03 0c 65 00 00 00 00 00 00 07 00 02 00 04
         c0 00 02 0a 00 03 00 01 02 00 04 00 07 01 52 54
         00 12 34 56 00 05 00 07 01 52 54 00 12 34 56 00
         0d 00 04 65 00 0e 10 00 12 00 04 65 00 15 18 00
         19 00 04 65 00 00 00 00 06 00 04 65 00 00 00",
    );
}

#[test]
fn bndupd_ip_flags_are_two_bytes_and_omitted_when_zero() {
    let mut lease = Lease::new_free(Ipv4Addr::new(10, 99, 0, 5), BindingState::Active);
    lease.flags.bootp = true;
    let bytes = encode(&Message::new(
        0,
        1,
        Body::BndUpd(Binding::from_lease(&lease)),
    ))
    .unwrap();
    // Last option: code 12, length 2, value 0x0002.
    assert_eq!(&bytes[bytes.len() - 6..], &[0, 12, 0, 2, 0, 2]);
    lease.flags.bootp = false;
    let bytes = encode(&Message::new(
        0,
        1,
        Body::BndUpd(Binding::from_lease(&lease)),
    ))
    .unwrap();
    assert!(
        !bytes.windows(4).any(|w| w == [0, 12, 0, 2]),
        "no IP-flags option"
    );
    let b = match decode(&bytes).unwrap().body {
        Body::BndUpd(b) => b,
        other => panic!("{other:?}"),
    };
    assert_eq!(b.ip_flags, None);
    assert_eq!(b.cltt, None);
}

#[test]
fn bndack_example() {
    check(
        Message::new(
            0x6500_0001,
            7,
            Body::BndAck(BindingAck::accept(Ipv4Addr::new(192, 0, 2, 10))),
        ),
        "00 14 04 0c 65 00 00 01 00 00 00 07 00 02 00 04 c0 00 02 0a",
    );
}

#[test]
fn contact_example() {
    check(
        Message::new(0x6500_0002, 8, Body::Contact),
        "00 0c 0b 0c 65 00 00 02 00 00 00 08",
    );
}

#[test]
fn connectack_constructors() {
    let ack = ConnectAck::accept("fo", 10, 30, "x", false);
    assert_eq!(ack.tls_reply, None);
    let rej = ack
        .clone()
        .reject(RejectReason::DuplicateConnection, Some("dup"));
    assert_eq!(rej.reject_reason, Some(RejectReason::DuplicateConnection));
    assert_eq!(rej.message.as_deref(), Some(&b"dup"[..]));
    let bytes = encode(&Message::new(5, 6, Body::ConnectAck(rej.clone()))).unwrap();
    // ISC order: ..., protocol-version (20), reject-reason (21) = 7, message (16).
    assert!(bytes.ends_with(&[
        0, 20, 0, 1, 1, 0, 21, 0, 1, 7, 0, 16, 0, 3, b'd', b'u', b'p'
    ]));
    assert_eq!(decode(&bytes).unwrap().body, Body::ConnectAck(rej));
}

#[test]
fn display_summaries() {
    let mut lease = Lease::new_free(Ipv4Addr::new(10, 99, 0, 100), BindingState::Active);
    lease.hw = Some(HwAddr::ethernet([0x52, 0x54, 0, 0x12, 0x34, 0x56]));
    let m = Message::new(0, 7, Body::BndUpd(Binding::from_lease(&lease)));
    assert_eq!(
        m.to_string(),
        "BNDUPD xid=7 10.99.0.100 active 1:52:54:00:12:34:56"
    );
    let m = Message::new(
        0,
        7,
        Body::BndAck(BindingAck::reject(
            Ipv4Addr::new(10, 99, 0, 100),
            RejectReason::LessCriticalBindingInfo,
            Some("outgoing update wins"),
        )),
    );
    assert_eq!(
        m.to_string(),
        "BNDACK xid=7 10.99.0.100 rejected: less critical binding information (outgoing update wins)"
    );
    let m = Message::new(
        0,
        1,
        Body::State(StateMsg::new(ServerState::RecoverWait, true, 0)),
    );
    assert_eq!(m.to_string(), "STATE xid=1 recover-wait (startup)");
}
