//! Decoding one complete failover message, with ISC's parser rules
//! (reference §1.3):
//!
//! * unknown option codes (0, 30..) are skipped;
//! * options the message type does not accept are skipped unchecked;
//! * an accepted option that appears twice is an error;
//! * a fixed-size option with another length is an error;
//! * a message-digest option anywhere but last is an error, and is otherwise
//!   discarded;
//! * DDNS is accepted (length 0 only, as ISC's table has it) and discarded.
//!
//! Two choices where ISC defers the check to message processing: an empty
//! client-hardware-address is a decode error (it has no htype), and an HBA
//! that is not 32 bytes decodes as absent (ISC answers both "absent" and "not
//! 32 bytes" with reject reason 18).

use std::net::Ipv4Addr;

use dhcp_core::lease::{BindingState, HwAddr};

use super::codes::{IpFlags, MessageType, OptionCode, RejectReason, ServerFlags, ServerState};
use super::error::DecodeError;
use super::layout::{HEADER_LEN, MAX_MESSAGE_LEN};
use super::message::{
    Binding, BindingAck, Body, Connect, ConnectAck, Disconnect, Message, PoolResp, StateMsg,
};

/// Number of option slots (codes 0..=29).
const SLOTS: usize = 30;

/// The accepted options of one message, by code.
struct Options<'a> {
    slots: [Option<&'a [u8]>; SLOTS],
}

impl<'a> Options<'a> {
    fn raw(&self, code: OptionCode) -> Option<&'a [u8]> {
        self.slots[usize::from(code.code())]
    }

    fn bytes(&self, code: OptionCode) -> Option<Vec<u8>> {
        self.raw(code).map(<[u8]>::to_vec)
    }

    fn u8(&self, code: OptionCode) -> Option<u8> {
        self.raw(code).and_then(|d| d.first().copied())
    }

    fn u16(&self, code: OptionCode) -> Option<u16> {
        let d = self.raw(code)?;
        Some(u16::from_be_bytes(d.try_into().ok()?))
    }

    fn u32(&self, code: OptionCode) -> Option<u32> {
        let d = self.raw(code)?;
        Some(u32::from_be_bytes(d.try_into().ok()?))
    }

    fn ipv4(&self, code: OptionCode) -> Option<Ipv4Addr> {
        self.u32(code).map(Ipv4Addr::from)
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Decodes exactly one message; `frame` must hold it completely and nothing
/// else. Never panics.
pub fn decode(frame: &[u8]) -> Result<Message, DecodeError> {
    let truncated = |needed| DecodeError::Truncated {
        needed,
        available: frame.len(),
    };
    let length = be16(frame, 0).ok_or(truncated(HEADER_LEN))?;
    let len = usize::from(length);
    if !(HEADER_LEN..=MAX_MESSAGE_LEN).contains(&len) {
        return Err(DecodeError::BadMessageLength(length));
    }
    if frame.len() < len {
        return Err(truncated(len));
    }
    if frame.len() > len {
        return Err(DecodeError::TrailingData {
            extra: frame.len() - len,
        });
    }
    // From here on the frame is 12..=2048 bytes long.
    let (type_code, poff) = match frame {
        [_, _, t, p, ..] => (*t, *p),
        _ => return Err(truncated(HEADER_LEN)),
    };
    let mtype =
        MessageType::from_code(type_code).ok_or(DecodeError::UnknownMessageType(type_code))?;
    if usize::from(poff) < HEADER_LEN || usize::from(poff) > len {
        return Err(DecodeError::BadPayloadOffset {
            offset: poff,
            length,
        });
    }
    let time = be32(frame, 4).ok_or(truncated(HEADER_LEN))?;
    let xid = be32(frame, 8).ok_or(truncated(HEADER_LEN))?;
    let opts = parse_options(mtype, frame, usize::from(poff))?;
    let body = build_body(mtype, &opts)?;
    Ok(Message { time, xid, body })
}

fn parse_options(
    mtype: MessageType,
    frame: &[u8],
    mut pos: usize,
) -> Result<Options<'_>, DecodeError> {
    let mut opts = Options {
        slots: [None; SLOTS],
    };
    while pos < frame.len() {
        let overrun = DecodeError::OptionOverrun { offset: pos };
        let code = be16(frame, pos).ok_or(overrun.clone())?;
        let olen = be16(frame, pos + 2).ok_or(overrun.clone())?;
        let start = pos + 4;
        let end = start + usize::from(olen);
        let data = frame.get(start..end).ok_or(overrun)?;
        pos = end;
        let Some(oc) = OptionCode::from_code(code) else {
            continue;
        };
        if oc == OptionCode::MessageDigest {
            if end != frame.len() {
                return Err(DecodeError::DigestNotLast);
            }
            continue;
        }
        if !mtype.accepts(oc) {
            continue;
        }
        let slot = &mut opts.slots[usize::from(code)];
        if slot.is_some() {
            return Err(DecodeError::DuplicateOption(oc));
        }
        if let Some(n) = oc.fixed_len()
            && n != data.len()
        {
            return Err(DecodeError::BadOptionLength {
                code: oc,
                len: olen,
            });
        }
        *slot = Some(data);
    }
    Ok(opts)
}

fn build_body(mtype: MessageType, o: &Options<'_>) -> Result<Body, DecodeError> {
    use OptionCode as C;
    Ok(match mtype {
        MessageType::PoolReq => Body::PoolReq,
        MessageType::PoolResp => Body::PoolResp(PoolResp {
            addresses_transferred: o.u32(C::AddressesTransferred),
        }),
        MessageType::BndUpd => Body::BndUpd(binding(o)?),
        MessageType::BndAck => Body::BndAck(BindingAck {
            binding: binding(o)?,
            reject_reason: o.u8(C::RejectReason).map(RejectReason::from_code),
            message: o.bytes(C::Message),
        }),
        MessageType::Connect => Body::Connect(Connect {
            relationship_name: o.bytes(C::RelationshipName),
            max_unacked: o.u32(C::MaxUnackedBndupd),
            receive_timer: o.u32(C::ReceiveTimer),
            vendor_class: o.bytes(C::VendorClassIdentifier),
            protocol_version: o.u8(C::ProtocolVersion),
            tls_request: o.u8(C::TlsRequest),
            mclt: o.u32(C::Mclt),
            hba: o
                .raw(C::HashBucketAssignment)
                .and_then(|d| <[u8; 32]>::try_from(d).ok()),
        }),
        MessageType::ConnectAck => Body::ConnectAck(ConnectAck {
            relationship_name: o.bytes(C::RelationshipName),
            max_unacked: o.u32(C::MaxUnackedBndupd),
            receive_timer: o.u32(C::ReceiveTimer),
            vendor_class: o.bytes(C::VendorClassIdentifier),
            protocol_version: o.u8(C::ProtocolVersion),
            tls_reply: o.u8(C::TlsReply),
            reject_reason: o.u8(C::RejectReason).map(RejectReason::from_code),
            message: o.bytes(C::Message),
        }),
        MessageType::UpdReqAll => Body::UpdReqAll,
        MessageType::UpdDone => Body::UpdDone,
        MessageType::UpdReq => Body::UpdReq,
        MessageType::State => Body::State(StateMsg {
            server_state: match o.u8(C::ServerState) {
                None => None,
                Some(v) => Some(ServerState::from_code(v).ok_or(DecodeError::InvalidValue {
                    code: C::ServerState,
                    value: v,
                })?),
            },
            server_flags: o.u8(C::ServerFlags).map(ServerFlags),
            start_time_of_state: o.u32(C::StartTimeOfState),
        }),
        MessageType::Contact => Body::Contact,
        MessageType::Disconnect => Body::Disconnect(Disconnect {
            reject_reason: o.u8(C::RejectReason).map(RejectReason::from_code),
            message: o.bytes(C::Message),
        }),
    })
}

fn binding(o: &Options<'_>) -> Result<Binding, DecodeError> {
    use OptionCode as C;
    let binding_status = match o.u8(C::BindingStatus) {
        None => None,
        Some(v) => Some(BindingState::from_code(v).ok_or(DecodeError::InvalidValue {
            code: C::BindingStatus,
            value: v,
        })?),
    };
    let chaddr = match o.raw(C::ClientHardwareAddress) {
        None => None,
        Some([htype, addr @ ..]) => Some(HwAddr {
            htype: *htype,
            addr: addr.to_vec(),
        }),
        Some([]) => {
            return Err(DecodeError::BadOptionLength {
                code: C::ClientHardwareAddress,
                len: 0,
            });
        }
    };
    Ok(Binding {
        assigned_ip: o.ipv4(C::AssignedIpAddress),
        binding_status,
        client_id: o.bytes(C::ClientIdentifier),
        chaddr,
        lease_expiration: o.u32(C::LeaseExpirationTime),
        potential_expiration: o.u32(C::PotentialExpirationTime),
        start_time_of_state: o.u32(C::StartTimeOfState),
        cltt: o.u32(C::ClientLastTransactionTime),
        ip_flags: o.u16(C::IpFlags).map(IpFlags),
        request_options: o.bytes(C::ClientRequestOptions),
        reply_options: o.bytes(C::ClientReplyOptions),
    })
}
