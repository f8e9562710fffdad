//! Property tests: for every message type, decoding inverts encoding; the
//! decoder accepts what ISC's parser accepts (extra header bytes, any option
//! order, unknown and not-accepted options skipped).

#![allow(clippy::unwrap_used)]

use std::net::Ipv4Addr;

use dhcp_core::lease::{BindingState, HwAddr};
use dhcp_failover::wire::{
    Binding, BindingAck, Body, Connect, ConnectAck, Disconnect, HEADER_LEN, IpFlags,
    MAX_MESSAGE_LEN, Message, MessageType, OptionCode, PoolResp, RejectReason, ServerFlags,
    ServerState, StateMsg, decode, encode,
};
use proptest::option::of;
use proptest::prelude::*;

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

fn binding_state() -> impl Strategy<Value = BindingState> {
    (1u8..=7).prop_map(|c| BindingState::from_code(c).unwrap())
}

fn server_state() -> impl Strategy<Value = ServerState> {
    prop_oneof![(0u8..=11), Just(254u8)].prop_map(|c| ServerState::from_code(c).unwrap())
}

fn reject_reason() -> impl Strategy<Value = RejectReason> {
    any::<u8>().prop_map(RejectReason::from_code)
}

fn hw() -> impl Strategy<Value = HwAddr> {
    (any::<u8>(), bytes(21)).prop_map(|(htype, addr)| HwAddr { htype, addr })
}

fn binding() -> impl Strategy<Value = Binding> {
    (
        (
            of(any::<u32>().prop_map(Ipv4Addr::from)),
            of(binding_state()),
            of(bytes(40)),
            of(hw()),
            of(any::<u32>()),
            of(any::<u32>()),
        ),
        (
            of(any::<u32>()),
            of(any::<u32>()),
            of(any::<u16>().prop_map(IpFlags)),
            of(bytes(40)),
            of(bytes(40)),
        ),
    )
        .prop_map(
            |((ip, st, cid, hw, le, pe), (stos, cltt, fl, rq, rp))| Binding {
                assigned_ip: ip,
                binding_status: st,
                client_id: cid,
                chaddr: hw,
                lease_expiration: le,
                potential_expiration: pe,
                start_time_of_state: stos,
                cltt,
                ip_flags: fl,
                request_options: rq,
                reply_options: rp,
            },
        )
}

fn body(t: MessageType) -> BoxedStrategy<Body> {
    match t {
        MessageType::PoolReq => Just(Body::PoolReq).boxed(),
        MessageType::PoolResp => of(any::<u32>())
            .prop_map(|n| {
                Body::PoolResp(PoolResp {
                    addresses_transferred: n,
                })
            })
            .boxed(),
        MessageType::BndUpd => binding().prop_map(Body::BndUpd).boxed(),
        MessageType::BndAck => (binding(), of(reject_reason()), of(bytes(60)))
            .prop_map(|(binding, reject_reason, message)| {
                Body::BndAck(BindingAck {
                    binding,
                    reject_reason,
                    message,
                })
            })
            .boxed(),
        MessageType::Connect => (
            of(bytes(40)),
            of(any::<u32>()),
            of(any::<u32>()),
            of(bytes(40)),
            of(any::<u8>()),
            of(any::<u8>()),
            of(any::<u32>()),
            of(any::<[u8; 32]>()),
        )
            .prop_map(|(n, mu, rt, vc, pv, tls, mclt, hba)| {
                Body::Connect(Connect {
                    relationship_name: n,
                    max_unacked: mu,
                    receive_timer: rt,
                    vendor_class: vc,
                    protocol_version: pv,
                    tls_request: tls,
                    mclt,
                    hba,
                })
            })
            .boxed(),
        MessageType::ConnectAck => (
            of(bytes(40)),
            of(any::<u32>()),
            of(any::<u32>()),
            of(bytes(40)),
            of(any::<u8>()),
            of(any::<u8>()),
            of(reject_reason()),
            of(bytes(60)),
        )
            .prop_map(|(n, mu, rt, vc, pv, tls, rr, msg)| {
                Body::ConnectAck(ConnectAck {
                    relationship_name: n,
                    max_unacked: mu,
                    receive_timer: rt,
                    vendor_class: vc,
                    protocol_version: pv,
                    tls_reply: tls,
                    reject_reason: rr,
                    message: msg,
                })
            })
            .boxed(),
        MessageType::UpdReqAll => Just(Body::UpdReqAll).boxed(),
        MessageType::UpdDone => Just(Body::UpdDone).boxed(),
        MessageType::UpdReq => Just(Body::UpdReq).boxed(),
        MessageType::State => (of(server_state()), of(any::<u8>()), of(any::<u32>()))
            .prop_map(|(s, f, t)| {
                Body::State(StateMsg {
                    server_state: s,
                    server_flags: f.map(ServerFlags),
                    start_time_of_state: t,
                })
            })
            .boxed(),
        MessageType::Contact => Just(Body::Contact).boxed(),
        MessageType::Disconnect => (of(reject_reason()), of(bytes(60)))
            .prop_map(|(r, m)| {
                Body::Disconnect(Disconnect {
                    reject_reason: r,
                    message: m,
                })
            })
            .boxed(),
    }
}

/// One body of every message type.
fn all_bodies() -> impl Strategy<Value = Vec<Body>> {
    MessageType::ALL
        .iter()
        .map(|&t| body(t))
        .collect::<Vec<_>>()
}

fn any_message() -> impl Strategy<Value = Message> {
    (
        any::<u32>(),
        any::<u32>(),
        prop::sample::select(MessageType::ALL.to_vec()).prop_flat_map(body),
    )
        .prop_map(|(time, xid, body)| Message::new(time, xid, body))
}

/// Splits an encoded message into header and raw options.
fn split_options(bytes: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut opts = Vec::new();
    let mut pos = HEADER_LEN;
    while pos < bytes.len() {
        let len = usize::from(u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]));
        opts.push(bytes[pos..pos + 4 + len].to_vec());
        pos += 4 + len;
    }
    (bytes[..HEADER_LEN].to_vec(), opts)
}

/// Reassembles a message from header, extra header bytes and options.
fn join(header: &[u8], extra: &[u8], opts: &[Vec<u8>]) -> Vec<u8> {
    let mut out = header.to_vec();
    out[3] = (HEADER_LEN + extra.len()) as u8;
    out.extend_from_slice(extra);
    for o in opts {
        out.extend_from_slice(o);
    }
    let len = out.len() as u16;
    out[..2].copy_from_slice(&len.to_be_bytes());
    out
}

fn option(code: u16, data: &[u8]) -> Vec<u8> {
    let mut o = code.to_be_bytes().to_vec();
    o.extend_from_slice(&(data.len() as u16).to_be_bytes());
    o.extend_from_slice(data);
    o
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// decode(encode(m)) == m for one message of each of the 12 types.
    #[test]
    fn roundtrip_every_type(time in any::<u32>(), xid in any::<u32>(), bodies in all_bodies()) {
        for body in bodies {
            let m = Message::new(time, xid, body);
            let bytes = encode(&m).unwrap();
            prop_assert_eq!(usize::from(u16::from_be_bytes([bytes[0], bytes[1]])), bytes.len());
            prop_assert!(bytes.len() <= MAX_MESSAGE_LEN);
            prop_assert_eq!(bytes[2], m.message_type().code());
            prop_assert_eq!(bytes[3], 12);
            prop_assert_eq!(decode(&bytes).unwrap(), m);
        }
    }

    /// Encoding a decoded message gives back the same bytes when they were
    /// produced by our encoder (canonical form).
    #[test]
    fn encoding_is_canonical(m in any_message()) {
        let bytes = encode(&m).unwrap();
        prop_assert_eq!(encode(&decode(&bytes).unwrap()).unwrap(), bytes);
    }

    /// A payload offset above 12 is accepted and the extra bytes skipped.
    #[test]
    fn extra_header_bytes_are_skipped(m in any_message(), extra in bytes(20)) {
        let (header, opts) = split_options(&encode(&m).unwrap());
        prop_assert_eq!(decode(&join(&header, &extra, &opts)).unwrap(), m);
    }

    /// Options may come in any order.
    #[test]
    fn option_order_does_not_matter(
        (m, perm) in any_message().prop_flat_map(|m| {
            let n = split_options(&encode(&m).unwrap()).1.len();
            (Just(m), Just((0..n).collect::<Vec<_>>()).prop_shuffle())
        })
    ) {
        let (header, opts) = split_options(&encode(&m).unwrap());
        let shuffled: Vec<Vec<u8>> = perm.iter().map(|&i| opts[i].clone()).collect();
        prop_assert_eq!(decode(&join(&header, &[], &shuffled)).unwrap(), m);
    }

    /// Unknown option codes, and known options the message type does not
    /// accept (even repeated, even with odd lengths), are skipped.
    #[test]
    fn unknown_and_unaccepted_options_are_skipped(
        m in any_message(),
        junk in prop::collection::vec((any::<u16>(), bytes(12), any::<prop::sample::Index>()), 0..6),
    ) {
        let t = m.message_type();
        let (header, mut opts) = split_options(&encode(&m).unwrap());
        for (code, data, at) in junk {
            let skipped = match OptionCode::from_code(code) {
                None => true,
                Some(oc) => !t.accepts(oc) && oc != OptionCode::MessageDigest,
            };
            if skipped {
                let i = at.index(opts.len() + 1);
                opts.insert(i, option(code, &data));
            }
        }
        let bytes = join(&header, &[], &opts);
        if bytes.len() <= MAX_MESSAGE_LEN {
            prop_assert_eq!(decode(&bytes).unwrap(), m);
        }
    }
}
