//! Encoding a [`Message`] the way ISC does: 12-byte header with payload offset
//! 12, big-endian, options in ISC's emission order, only the options that are
//! present in the model. The decoder inverts it exactly:
//! `decode(&encode(m)?) == m` for every encodable `m`.

use super::codes::OptionCode;
use super::error::EncodeError;
use super::layout::{HEADER_LEN, MAX_MESSAGE_LEN};
use super::message::{Binding, Body, Message};

/// Appends options to a message buffer.
struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

impl Writer<'_> {
    fn opt(&mut self, code: OptionCode, data: &[u8]) {
        self.out.extend_from_slice(&code.code().to_be_bytes());
        // Oversized options are caught by the total-length check in `encode_into`
        // (any option over 2036 bytes makes the message too long); saturate here.
        let len = u16::try_from(data.len()).unwrap_or(u16::MAX);
        self.out.extend_from_slice(&len.to_be_bytes());
        self.out.extend_from_slice(data);
    }

    fn bytes(&mut self, code: OptionCode, v: &Option<Vec<u8>>) {
        if let Some(d) = v {
            self.opt(code, d);
        }
    }

    fn u8(&mut self, code: OptionCode, v: Option<u8>) {
        if let Some(x) = v {
            self.opt(code, &[x]);
        }
    }

    fn u16(&mut self, code: OptionCode, v: Option<u16>) {
        if let Some(x) = v {
            self.opt(code, &x.to_be_bytes());
        }
    }

    fn u32(&mut self, code: OptionCode, v: Option<u32>) {
        if let Some(x) = v {
            self.opt(code, &x.to_be_bytes());
        }
    }

    fn binding(&mut self, b: &Binding) {
        use OptionCode as C;
        self.u32(C::AssignedIpAddress, b.assigned_ip.map(u32::from));
        self.u8(C::BindingStatus, b.binding_status.map(|s| s.code()));
        self.bytes(C::ClientIdentifier, &b.client_id);
        if let Some(hw) = &b.chaddr {
            let mut d = Vec::with_capacity(1 + hw.addr.len());
            d.push(hw.htype);
            d.extend_from_slice(&hw.addr);
            self.opt(C::ClientHardwareAddress, &d);
        }
        self.u32(C::LeaseExpirationTime, b.lease_expiration);
        self.u32(C::PotentialExpirationTime, b.potential_expiration);
        self.u32(C::StartTimeOfState, b.start_time_of_state);
        self.u32(C::ClientLastTransactionTime, b.cltt);
        self.u16(C::IpFlags, b.ip_flags.map(|f| f.0));
        self.bytes(C::ClientRequestOptions, &b.request_options);
        self.bytes(C::ClientReplyOptions, &b.reply_options);
    }
}

/// Encodes `msg` into a new buffer.
pub fn encode(msg: &Message) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(64);
    encode_into(msg, &mut out)?;
    Ok(out)
}

/// Appends the encoding of `msg` to `out`. On error `out` is left unchanged.
pub fn encode_into(msg: &Message, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    use OptionCode as C;
    let start = out.len();
    out.extend_from_slice(&[0, 0, msg.message_type().code(), HEADER_LEN as u8]);
    out.extend_from_slice(&msg.time.to_be_bytes());
    out.extend_from_slice(&msg.xid.to_be_bytes());
    let mut w = Writer { out };
    match &msg.body {
        Body::PoolReq | Body::UpdReqAll | Body::UpdDone | Body::UpdReq | Body::Contact => {}
        Body::PoolResp(p) => w.u32(C::AddressesTransferred, p.addresses_transferred),
        Body::BndUpd(b) => w.binding(b),
        Body::BndAck(a) => {
            w.binding(&a.binding);
            w.u8(C::RejectReason, a.reject_reason.map(|r| r.code()));
            w.bytes(C::Message, &a.message);
        }
        Body::Connect(c) => {
            w.bytes(C::RelationshipName, &c.relationship_name);
            w.u32(C::MaxUnackedBndupd, c.max_unacked);
            w.u32(C::ReceiveTimer, c.receive_timer);
            w.bytes(C::VendorClassIdentifier, &c.vendor_class);
            w.u8(C::ProtocolVersion, c.protocol_version);
            w.u8(C::TlsRequest, c.tls_request);
            w.u32(C::Mclt, c.mclt);
            if let Some(h) = &c.hba {
                w.opt(C::HashBucketAssignment, h);
            }
        }
        Body::ConnectAck(c) => {
            w.bytes(C::RelationshipName, &c.relationship_name);
            w.u32(C::MaxUnackedBndupd, c.max_unacked);
            w.u32(C::ReceiveTimer, c.receive_timer);
            w.bytes(C::VendorClassIdentifier, &c.vendor_class);
            w.u8(C::ProtocolVersion, c.protocol_version);
            w.u8(C::TlsReply, c.tls_reply);
            w.u8(C::RejectReason, c.reject_reason.map(|r| r.code()));
            w.bytes(C::Message, &c.message);
        }
        Body::State(s) => {
            w.u8(C::ServerState, s.server_state.map(|s| s.code()));
            w.u8(C::ServerFlags, s.server_flags.map(|f| f.0));
            w.u32(C::StartTimeOfState, s.start_time_of_state);
        }
        Body::Disconnect(d) => {
            w.u8(C::RejectReason, d.reject_reason.map(|r| r.code()));
            w.bytes(C::Message, &d.message);
        }
    }
    let len = out.len() - start;
    let Ok(len16) = u16::try_from(len) else {
        out.truncate(start);
        return Err(EncodeError::TooLong(len));
    };
    if len > MAX_MESSAGE_LEN {
        out.truncate(start);
        return Err(EncodeError::TooLong(len));
    }
    out[start..start + 2].copy_from_slice(&len16.to_be_bytes());
    Ok(())
}

impl Message {
    /// Encodes the message (see [`encode`]).
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        encode(self)
    }

    /// Decodes one complete message (see [`super::decode()`]).
    pub fn decode(frame: &[u8]) -> Result<Message, super::error::DecodeError> {
        super::decode::decode(frame)
    }
}
