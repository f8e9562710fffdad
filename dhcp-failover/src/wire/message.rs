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
