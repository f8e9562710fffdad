//! The typed model of a failover message: the header fields ISC uses (`time`,
//! `xid`) and a [`Body`] per message type, with a typed field for every option
//! ISC sends or accepts in that message.
//!
//! Every option field is an `Option` because the protocol makes nearly all of
//! them optional on the wire and the receiving state machine, not the codec,
//! decides what a missing option means (for example a BNDUPD without
//! assigned-IP is answered with reject reason 3, a CONNECT without MCLT with
//! reject reason 5). `None` means "option absent"; the encoder writes exactly
//! the options that are `Some`, in ISC's emission order.
//!
//! Options that are deliberately *not* modelled, and therefore can never be
//! sent: DDNS (9, breaks ISC's parser), message-digest (17, ISC discards it),
//! delayed-service-parameter (10) and vendor-specific-options (29) (ISC
//! accepts neither in any message). The decoder validates and skips them.

use std::borrow::Cow;
use std::net::Ipv4Addr;

use dhcp_core::lease::{BindingState, HwAddr, Lease, UnixTime};

use super::codes::{IpFlags, MessageType, RejectReason, ServerFlags, ServerState};

/// One failover message: the header fields that carry information, and the body.
///
/// The remaining header fields are implied: the length is computed by the
/// encoder, the type comes from the [`Body`] variant and the payload offset is
/// always sent as 12.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Sender's wall clock, seconds since the Unix epoch.
    pub time: UnixTime,
    /// Transaction id. Replies copy the request's xid.
    pub xid: u32,
    /// Type and options.
    pub body: Body,
}

impl Message {
    /// A message with the given header fields and body.
    pub fn new(time: UnixTime, xid: u32, body: Body) -> Self {
        Self { time, xid, body }
    }

    /// The message type of the body.
    pub fn message_type(&self) -> MessageType {
        self.body.message_type()
    }
}

/// The body of a failover message: one variant per message type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// POOLREQ (1): no options.
    PoolReq,
    /// POOLRESP (2).
    PoolResp(PoolResp),
    /// BNDUPD (3): one binding (ISC never batches).
    BndUpd(Binding),
    /// BNDACK (4).
    BndAck(BindingAck),
    /// CONNECT (5).
    Connect(Connect),
    /// CONNECTACK (6).
    ConnectAck(ConnectAck),
    /// UPDREQALL (7): no options.
    UpdReqAll,
    /// UPDDONE (8): no options; xid copies the request's.
    UpdDone,
    /// UPDREQ (9): no options.
    UpdReq,
    /// STATE (10).
    State(StateMsg),
    /// CONTACT (11): keep-alive, no options.
    Contact,
    /// DISCONNECT (12).
    Disconnect(Disconnect),
}

impl Body {
    /// The message type of this body.
    pub fn message_type(&self) -> MessageType {
        match self {
            Body::PoolReq => MessageType::PoolReq,
            Body::PoolResp(_) => MessageType::PoolResp,
            Body::BndUpd(_) => MessageType::BndUpd,
            Body::BndAck(_) => MessageType::BndAck,
            Body::Connect(_) => MessageType::Connect,
            Body::ConnectAck(_) => MessageType::ConnectAck,
            Body::UpdReqAll => MessageType::UpdReqAll,
            Body::UpdDone => MessageType::UpdDone,
            Body::UpdReq => MessageType::UpdReq,
            Body::State(_) => MessageType::State,
            Body::Contact => MessageType::Contact,
            Body::Disconnect(_) => MessageType::Disconnect,
        }
    }
}

/// POOLRESP options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolResp {
    /// addresses-transferred (1): how many leases were moved.
    pub addresses_transferred: Option<u32>,
}

/// The binding options of a BNDUPD (and, as ISC accepts them, of a BNDACK).
///
/// Encoded in ISC's order: assigned-IP, binding-status, client-id, chaddr,
/// lease-expiration, potential-expiration, STOS, CLTT, IP-flags, then
/// request-options and reply-options (never sent by ISC, accepted and ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Binding {
    /// assigned-IP-address (2). Mandatory for ISC (else reject 3).
    pub assigned_ip: Option<Ipv4Addr>,
    /// binding-status (3). Mandatory for ISC (else reject 3).
    pub binding_status: Option<BindingState>,
    /// client-identifier (4): raw option 61 data, including its type byte.
    pub client_id: Option<Vec<u8>>,
    /// client-hardware-address (5): htype byte then the address bytes.
    pub chaddr: Option<HwAddr>,
    /// lease-expiration-time (13).
    pub lease_expiration: Option<UnixTime>,
    /// potential-expiration-time (18).
    pub potential_expiration: Option<UnixTime>,
    /// start-time-of-state (25). ISC sends the lease's `starts`.
    pub start_time_of_state: Option<UnixTime>,
    /// client-last-transaction-time (6). ISC omits it when 0.
    pub cltt: Option<UnixTime>,
    /// IP-flags (12), length 2. ISC omits it when 0.
    pub ip_flags: Option<IpFlags>,
    /// client-request-options (8): ignored by ISC.
    pub request_options: Option<Vec<u8>>,
    /// client-reply-options (7): ignored by ISC.
    pub reply_options: Option<Vec<u8>>,
}

impl Binding {
    /// The BNDUPD options ISC sends for `lease`: assigned-IP and status always,
    /// client-id and chaddr when known, lease-expiration (`ends`),
    /// potential-expiration (`tstp`) and STOS (`starts`) always, CLTT and
    /// IP-flags only when non-zero.
    pub fn from_lease(lease: &Lease) -> Self {
        let flags = IpFlags::from(lease.flags);
        Self {
            assigned_ip: Some(lease.addr),
            binding_status: Some(lease.state),
            client_id: lease.client_id.clone(),
            chaddr: lease.hw.clone(),
            lease_expiration: Some(lease.ends),
            potential_expiration: Some(lease.tstp),
            start_time_of_state: Some(lease.starts),
            cltt: (lease.cltt != 0).then_some(lease.cltt),
            ip_flags: (flags.0 != 0).then_some(flags),
            request_options: None,
            reply_options: None,
        }
    }
}

/// BNDACK options.
///
/// Send only assigned-IP (plus reject-reason and message when rejecting):
/// a client-identifier in a BNDACK makes ISC record potential expiry 0 (ISC
/// bug, reference §2.2). The constructors build exactly that.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BindingAck {
    /// The binding options (normally only `assigned_ip`).
    pub binding: Binding,
    /// reject-reason (21); present means the update was rejected.
    pub reject_reason: Option<RejectReason>,
    /// message (16): human-readable text.
    pub message: Option<Vec<u8>>,
}

impl BindingAck {
    /// An acceptance of the update for `ip`, as ISC sends it.
    pub fn accept(ip: Ipv4Addr) -> Self {
        Self {
            binding: Binding {
                assigned_ip: Some(ip),
                ..Binding::default()
            },
            reject_reason: None,
            message: None,
        }
    }

    /// A rejection of the update for `ip` with `reason` and optional text.
    pub fn reject(ip: Ipv4Addr, reason: RejectReason, message: Option<&str>) -> Self {
        Self {
            reject_reason: Some(reason),
            message: message.map(|m| m.as_bytes().to_vec()),
            ..Self::accept(ip)
        }
    }
}

/// CONNECT options, in ISC's emission order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Connect {
    /// relationship-name (22): the `failover peer "NAME"` (no NUL).
    pub relationship_name: Option<Vec<u8>>,
    /// max-unacked-bndupd (14): the sender's receive window.
    pub max_unacked: Option<u32>,
    /// receive-timer (19): the sender's max-response-delay, seconds.
    pub receive_timer: Option<u32>,
    /// vendor-class-identifier (28), e.g. `isc-4.4.3-P1`.
    pub vendor_class: Option<Vec<u8>>,
    /// protocol-version (20): 1.
    pub protocol_version: Option<u8>,
    /// TLS-request (27): 0 none, 1 desired, 2 required. ISC sends 0.
    pub tls_request: Option<u8>,
    /// MCLT (15), seconds. ISC rejects a CONNECT without it (reason 5).
    pub mclt: Option<u32>,
    /// hash-bucket-assignment (11): exactly 32 bytes; a set bit means the
    /// primary serves (ISC polarity). The decoder treats an HBA of another
    /// length as absent, which the receiver answers with reject 18, as ISC does.
    pub hba: Option<[u8; 32]>,
}

impl Connect {
    /// The CONNECT a primary sends, with ISC's fixed values: protocol
    /// version 1 and TLS-request 0.
    ///
    /// `max_unacked` is this server's `max-unacked-updates` (the partner's
    /// send window), `receive_timer` its `max-response-delay`; `hba` is the
    /// configured assignment ([`dhcp_core::config::LoadBalance::hba`]).
    pub fn new(
        relationship_name: &str,
        max_unacked: u32,
        receive_timer: u32,
        vendor_class: &str,
        mclt: u32,
        hba: [u8; 32],
    ) -> Self {
        Self {
            relationship_name: Some(relationship_name.as_bytes().to_vec()),
            max_unacked: Some(max_unacked),
            receive_timer: Some(receive_timer),
            vendor_class: Some(vendor_class.as_bytes().to_vec()),
            protocol_version: Some(super::layout::PROTOCOL_VERSION),
            tls_request: Some(0),
            mclt: Some(mclt),
            hba: Some(hba),
        }
    }
}

/// CONNECTACK options, in ISC's emission order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectAck {
    /// relationship-name (22).
    pub relationship_name: Option<Vec<u8>>,
    /// max-unacked-bndupd (14).
    pub max_unacked: Option<u32>,
    /// receive-timer (19).
    pub receive_timer: Option<u32>,
    /// vendor-class-identifier (28).
    pub vendor_class: Option<Vec<u8>>,
    /// protocol-version (20).
    pub protocol_version: Option<u8>,
    /// TLS-reply (26): sent (as 0) only if the CONNECT had TLS-request.
    pub tls_reply: Option<u8>,
    /// reject-reason (21): present means the connection is refused.
    pub reject_reason: Option<RejectReason>,
    /// message (16).
    pub message: Option<Vec<u8>>,
}

impl ConnectAck {
    /// An accepting CONNECTACK as ISC sends it: protocol version 1, and
    /// TLS-reply 0 only when the CONNECT carried a TLS-request
    /// (`connect_had_tls_request`).
    pub fn accept(
        relationship_name: &str,
        max_unacked: u32,
        receive_timer: u32,
        vendor_class: &str,
        connect_had_tls_request: bool,
    ) -> Self {
        Self {
            relationship_name: Some(relationship_name.as_bytes().to_vec()),
            max_unacked: Some(max_unacked),
            receive_timer: Some(receive_timer),
            vendor_class: Some(vendor_class.as_bytes().to_vec()),
            protocol_version: Some(super::layout::PROTOCOL_VERSION),
            tls_reply: connect_had_tls_request.then_some(0),
            reject_reason: None,
            message: None,
        }
    }

    /// A refusing CONNECTACK: the accepting fields plus `reason` and optional
    /// text.
    pub fn reject(mut self, reason: RejectReason, message: Option<&str>) -> Self {
        self.reject_reason = Some(reason);
        self.message = message.map(|m| m.as_bytes().to_vec());
        self
    }
}

/// STATE options, in ISC's emission order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateMsg {
    /// server-state (24). In STARTUP ISC sends its saved state plus the
    /// STARTUP flag.
    pub server_state: Option<ServerState>,
    /// server-flags (23).
    pub server_flags: Option<ServerFlags>,
    /// start-time-of-state (25).
    pub start_time_of_state: Option<UnixTime>,
}

impl StateMsg {
    /// The STATE ISC sends: all three options. In STARTUP, pass the saved
    /// pre-startup state as `state` and `startup = true` (flag 0x01).
    pub fn new(state: ServerState, startup: bool, start_time_of_state: UnixTime) -> Self {
        Self {
            server_state: Some(state),
            server_flags: Some(ServerFlags(if startup { ServerFlags::STARTUP } else { 0 })),
            start_time_of_state: Some(start_time_of_state),
        }
    }
}

/// DISCONNECT options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Disconnect {
    /// reject-reason (21).
    pub reject_reason: Option<RejectReason>,
    /// message (16).
    pub message: Option<Vec<u8>>,
}

/// Renders a byte-string option (relationship name, vendor class, message)
/// for logs; invalid UTF-8 is replaced.
pub fn text(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// One-line summary for logs, e.g. `BNDUPD xid=7 10.99.0.100 active 1:52:54:00:12:34:56`.
impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} xid={}", self.message_type(), self.xid)?;
        let binding = |f: &mut std::fmt::Formatter<'_>, b: &Binding| -> std::fmt::Result {
            if let Some(ip) = b.assigned_ip {
                write!(f, " {ip}")?;
            }
            if let Some(s) = b.binding_status {
                write!(f, " {s}")?;
            }
            if let Some(hw) = &b.chaddr {
                write!(f, " {}:{hw}", hw.htype)?;
            }
            Ok(())
        };
        let reason = |f: &mut std::fmt::Formatter<'_>,
                      r: &Option<RejectReason>,
                      m: &Option<Vec<u8>>|
         -> std::fmt::Result {
            if let Some(r) = r {
                write!(f, " rejected: {r}")?;
            }
            if let Some(m) = m {
                write!(f, " ({})", text(m))?;
            }
            Ok(())
        };
        match &self.body {
            Body::BndUpd(b) => binding(f, b),
            Body::BndAck(a) => {
                binding(f, &a.binding)?;
                reason(f, &a.reject_reason, &a.message)
            }
            Body::Connect(c) => {
                if let Some(n) = &c.relationship_name {
                    write!(f, " \"{}\"", text(n))?;
                }
                Ok(())
            }
            Body::ConnectAck(c) => reason(f, &c.reject_reason, &c.message),
            Body::Disconnect(d) => reason(f, &d.reject_reason, &d.message),
            Body::State(s) => {
                if let Some(st) = s.server_state {
                    write!(f, " {st}")?;
                }
                if s.server_flags.is_some_and(|fl| fl.startup()) {
                    f.write_str(" (startup)")?;
                }
                Ok(())
            }
            Body::PoolResp(p) => match p.addresses_transferred {
                Some(n) => write!(f, " {n} transferred"),
                None => Ok(()),
            },
            Body::PoolReq | Body::UpdReqAll | Body::UpdDone | Body::UpdReq | Body::Contact => {
                Ok(())
            }
        }
    }
}
