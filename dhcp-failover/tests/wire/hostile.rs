//! Hostile and malformed input: every case is a typed error, never a panic.

#![allow(clippy::unwrap_used)]

use std::net::Ipv4Addr;

use crate::common::captured;
use dhcp_failover::wire::{
    Binding, Body, DecodeError, Disconnect, EncodeError, FrameError, FrameReader, MAX_MESSAGE_LEN,
    Message, OptionCode, StreamError, decode, encode, encode_into,
};
use proptest::prelude::*;

/// A message with the given type and raw option bytes (header computed).
fn raw(mtype: u8, options: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, mtype, 12, 0, 0, 0, 1, 0, 0, 0, 2];
    v.extend_from_slice(options);
    let len = v.len() as u16;
    v[..2].copy_from_slice(&len.to_be_bytes());
    v
}

fn opt(code: u16, data: &[u8]) -> Vec<u8> {
    let mut o = code.to_be_bytes().to_vec();
    o.extend_from_slice(&(data.len() as u16).to_be_bytes());
    o.extend_from_slice(data);
    o
}

const IP: [u8; 4] = [10, 99, 0, 100];

#[test]
fn short_input_is_truncated() {
    for n in 0..12 {
        let bytes = raw(11, &[]);
        let err = decode(&bytes[..n]).unwrap_err();
        assert!(matches!(err, DecodeError::Truncated { .. }), "{n}: {err:?}");
    }
    // Declared 30 bytes, 20 present.
    let mut bytes = raw(10, &[0; 18]);
    bytes.truncate(20);
    assert_eq!(
        decode(&bytes),
        Err(DecodeError::Truncated {
            needed: 30,
            available: 20
        })
    );
}

#[test]
fn trailing_data_is_rejected() {
    let mut bytes = raw(11, &[]);
    bytes.extend_from_slice(&[0, 12, 11]);
    assert_eq!(decode(&bytes), Err(DecodeError::TrailingData { extra: 3 }));
}

#[test]
fn message_length_out_of_range() {
    for len in [0u16, 1, 11] {
        let mut bytes = raw(11, &[]);
        bytes[..2].copy_from_slice(&len.to_be_bytes());
        assert_eq!(decode(&bytes), Err(DecodeError::BadMessageLength(len)));
    }
    let mut big = raw(3, &opt(4, &[7; 2100]));
    assert_eq!(
        decode(&big),
        Err(DecodeError::BadMessageLength(big.len() as u16))
    );
    big[..2].copy_from_slice(&u16::MAX.to_be_bytes());
    assert_eq!(decode(&big), Err(DecodeError::BadMessageLength(u16::MAX)));
}

#[test]
fn unknown_message_types_are_errors_with_or_without_options() {
    for t in [0u8, 13, 128, 255] {
        assert_eq!(
            decode(&raw(t, &[])),
            Err(DecodeError::UnknownMessageType(t))
        );
        let with = raw(t, &opt(2, &IP));
        assert_eq!(decode(&with), Err(DecodeError::UnknownMessageType(t)));
    }
}

#[test]
fn bad_payload_offset() {
    for poff in [0u8, 8, 11] {
        let mut bytes = raw(11, &[]);
        bytes[3] = poff;
        assert!(matches!(
            decode(&bytes),
            Err(DecodeError::BadPayloadOffset { .. })
        ));
    }
    let mut bytes = raw(10, &[0; 4]);
    bytes[3] = 17;
    assert!(matches!(
        decode(&bytes),
        Err(DecodeError::BadPayloadOffset {
            offset: 17,
            length: 16
        })
    ));
    bytes[3] = 16; // options area empty: fine
    assert!(decode(&bytes).is_ok());
}

#[test]
fn option_overruns() {
    // 1..3 bytes of an option header.
    for n in 1..4 {
        let bytes = raw(3, &[0, 2, 0, 4][..n]);
        assert_eq!(
            decode(&bytes),
            Err(DecodeError::OptionOverrun { offset: 12 })
        );
    }
    // Length points past the end.
    let mut o = opt(2, &IP);
    o[3] = 5;
    assert_eq!(
        decode(&raw(3, &o)),
        Err(DecodeError::OptionOverrun { offset: 12 })
    );
    // Even for unknown codes and in option-less message types.
    let mut o = opt(999, &[1, 2]);
    o[3] = 200;
    assert_eq!(
        decode(&raw(11, &o)),
        Err(DecodeError::OptionOverrun { offset: 12 })
    );
}

#[test]
fn fixed_size_options_must_have_their_size() {
    let cases: &[(u8, u16, &[u8])] = &[
        (3, 12, &[2]),         // IP-flags of length 1 (the draft's diagram)
        (3, 12, &[0, 0, 2]),   // ... or 3
        (3, 2, &[10, 99, 0]),  // short address
        (3, 3, &[2, 0]),       // binding status
        (3, 13, &[0; 8]),      // lease expiration
        (5, 15, &[0; 2]),      // MCLT
        (5, 27, &[0, 0]),      // TLS-request of ISC 3.0.x size
        (10, 24, &[]),         // server-state
        (12, 21, &[1, 2]),     // reject reason
        (3, 9, &[0, 1, b'a']), // DDNS: ISC's table allows only length 0
    ];
    for &(t, code, data) in cases {
        let err = decode(&raw(t, &opt(code, data))).unwrap_err();
        assert_eq!(
            err,
            DecodeError::BadOptionLength {
                code: OptionCode::from_code(code).unwrap(),
                len: data.len() as u16
            },
            "type {t} option {code}"
        );
    }
}

#[test]
fn duplicate_accepted_options_are_errors() {
    let mut o = opt(2, &IP);
    o.extend(opt(3, &[2]));
    o.extend(opt(2, &IP));
    assert_eq!(
        decode(&raw(3, &o)),
        Err(DecodeError::DuplicateOption(OptionCode::AssignedIpAddress))
    );
    // A second binding in one BNDUPD (draft batching) is a duplicate too.
    let mut o = opt(2, &IP);
    o.extend(opt(3, &[1]));
    o.extend(opt(2, &[10, 99, 0, 101]));
    o.extend(opt(3, &[1]));
    assert!(matches!(
        decode(&raw(3, &o)),
        Err(DecodeError::DuplicateOption(_))
    ));
    let o = [opt(24, &[2]), opt(24, &[2])].concat();
    assert_eq!(
        decode(&raw(10, &o)),
        Err(DecodeError::DuplicateOption(OptionCode::ServerState))
    );
}

#[test]
fn unaccepted_options_are_skipped_unchecked_even_when_repeated() {
    // MCLT twice, with a bad length, inside a BNDUPD: ISC skips it.
    let o = [
        opt(2, &IP),
        opt(15, &[1]),
        opt(15, &[1, 2, 3]),
        opt(3, &[2]),
    ]
    .concat();
    let m = decode(&raw(3, &o)).unwrap();
    let Body::BndUpd(b) = m.body else { panic!() };
    assert_eq!(b.assigned_ip, Some(Ipv4Addr::from(IP)));
    // Options in a CONTACT are all skipped.
    assert_eq!(
        decode(&raw(11, &[opt(2, &IP), opt(2, &IP)].concat()))
            .unwrap()
            .body,
        Body::Contact
    );
    // Unknown codes (0 and above 29) are skipped anywhere.
    let o = [opt(0, &[1]), opt(30, &[]), opt(0xffff, &[9; 9])].concat();
    assert_eq!(decode(&raw(8, &o)).unwrap().body, Body::UpdDone);
}

#[test]
fn ddns_and_digest_are_never_modelled() {
    // Empty DDNS in a BNDUPD: accepted by ISC's parser, dropped.
    let o = [opt(2, &IP), opt(9, &[])].concat();
    assert!(decode(&raw(3, &o)).is_ok());
    // message-digest last: dropped; anywhere else: error.
    let o = [opt(2, &IP), opt(17, &[1, 0xaa, 0xbb])].concat();
    let m = decode(&raw(3, &o)).unwrap();
    assert_eq!(
        m.body,
        Body::BndUpd(Binding {
            assigned_ip: Some(Ipv4Addr::from(IP)),
            ..Binding::default()
        })
    );
    let o = [opt(17, &[1, 0xaa]), opt(2, &IP)].concat();
    assert_eq!(decode(&raw(3, &o)), Err(DecodeError::DigestNotLast));
}

#[test]
fn invalid_enumerated_values() {
    for v in [0u8, 8, 255] {
        assert_eq!(
            decode(&raw(3, &opt(3, &[v]))),
            Err(DecodeError::InvalidValue {
                code: OptionCode::BindingStatus,
                value: v
            })
        );
    }
    for v in [12u8, 100, 253, 255] {
        assert_eq!(
            decode(&raw(10, &opt(24, &[v]))),
            Err(DecodeError::InvalidValue {
                code: OptionCode::ServerState,
                value: v
            })
        );
    }
    // Reject reasons are only logged by ISC: unknown ones decode.
    let m = decode(&raw(12, &opt(21, &[99]))).unwrap();
    assert!(
        matches!(m.body, Body::Disconnect(Disconnect { reject_reason: Some(r), .. }) if r.code() == 99)
    );
}

#[test]
fn chaddr_needs_an_htype_and_hba_needs_32_bytes() {
    assert_eq!(
        decode(&raw(3, &opt(5, &[]))),
        Err(DecodeError::BadOptionLength {
            code: OptionCode::ClientHardwareAddress,
            len: 0
        })
    );
    // A 31-byte HBA decodes as absent (the receiver answers reject 18, as ISC).
    let m = decode(&raw(5, &opt(11, &[0xff; 31]))).unwrap();
    let Body::Connect(c) = m.body else { panic!() };
    assert_eq!(c.hba, None);
}

#[test]
fn oversize_messages_do_not_encode() {
    let m = Message::new(
        0,
        0,
        Body::Disconnect(Disconnect {
            reject_reason: None,
            message: Some(vec![b'x'; 2100]),
        }),
    );
    assert_eq!(encode(&m), Err(EncodeError::TooLong(12 + 4 + 2100)));
    let mut out = vec![1, 2, 3];
    assert!(encode_into(&m, &mut out).is_err());
    assert_eq!(out, [1, 2, 3]);
    // Exactly 2048 is fine; 2049 is not.
    let fit = |n| {
        Message::new(
            0,
            0,
            Body::Disconnect(Disconnect {
                reject_reason: None,
                message: Some(vec![0; n]),
            }),
        )
    };
    assert_eq!(
        encode(&fit(MAX_MESSAGE_LEN - 16)).unwrap().len(),
        MAX_MESSAGE_LEN
    );
    assert!(encode(&fit(MAX_MESSAGE_LEN - 15)).is_err());
    // Option lengths beyond u16 are caught too.
    assert!(encode(&fit(70_000)).is_err());
}

#[test]
fn framer_rejects_bad_length_prefixes_early() {
    let mut r = FrameReader::default();
    r.push(&[0x08]);
    assert_eq!(r.next_frame(), Ok(None));
    r.push(&[0x01]); // 0x0801 = 2049
    assert_eq!(
        r.next_frame(),
        Err(FrameError::TooLong {
            len: 2049,
            max: 2048
        })
    );

    let mut r = FrameReader::default();
    r.push(&[0, 11]);
    assert_eq!(r.next_frame(), Err(FrameError::TooShort(11)));

    let mut r = FrameReader::new(100);
    r.push(&[0, 101]);
    assert_eq!(
        r.next_frame(),
        Err(FrameError::TooLong { len: 101, max: 100 })
    );

    // A complete but undecodable frame is a decode error from next_message.
    let mut r = FrameReader::default();
    r.push(&raw(42, &[]));
    assert_eq!(
        r.next_message(),
        Err(StreamError::Decode(DecodeError::UnknownMessageType(42)))
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Arbitrary bytes never panic; whatever decodes re-encodes to a message
    /// that decodes to the same thing.
    #[test]
    fn random_bytes_never_panic(mut bytes in prop::collection::vec(any::<u8>(), 0..300), fix_len in any::<bool>()) {
        if fix_len && bytes.len() >= 2 {
            let n = bytes.len() as u16;
            bytes[..2].copy_from_slice(&n.to_be_bytes());
        }
        if let Ok(m) = decode(&bytes) {
            let again = encode(&m).unwrap();
            prop_assert_eq!(decode(&again).unwrap(), m);
        }
    }

    /// Arbitrary bytes through the framer in arbitrary chunks never panic.
    #[test]
    fn framer_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..600), chunk in 1usize..64) {
        let mut r = FrameReader::default();
        'outer: for piece in bytes.chunks(chunk) {
            r.push(piece);
            loop {
                match r.next_message() {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(StreamError::Frame(_)) => break 'outer,
                    Err(StreamError::Decode(_)) => {}
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Real ISC frames with random bytes overwritten never panic the decoder.
    #[test]
    fn mutated_capture_frames_never_panic(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        do_cut in any::<bool>(),
    ) {
        let frames = captured();
        let mut bytes = frames[which.index(frames.len())].bytes.clone();
        for (at, v) in edits {
            let i = at.index(bytes.len());
            bytes[i] = v;
        }
        if do_cut {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        if let Ok(m) = decode(&bytes) {
            prop_assert_eq!(decode(&encode(&m).unwrap()).unwrap(), m);
        }
    }
}
