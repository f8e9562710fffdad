//! Numeric code spaces of the failover wire: message types, option codes,
//! server states, reject reasons and the two flag words.
//!
//! Values are ISC dhcpd 4.x's (`includes/failover.h`), which follow
//! draft-ietf-dhc-failover-12 except where noted (RECOVER-WAIT = 254).

use std::fmt;

/// The message type byte of the 12-byte header (draft §6.1; ISC `FTM_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum MessageType {
    /// Ask the partner to rebalance its free pool toward the sender.
    PoolReq = 1,
    /// Answer to POOLREQ: how many addresses were moved.
    PoolResp = 2,
    /// Binding update for one address.
    BndUpd = 3,
    /// Accept or reject a binding update.
    BndAck = 4,
    /// First message on a link, sent by the primary.
    Connect = 5,
    /// The secondary's answer to CONNECT.
    ConnectAck = 6,
    /// "Send me all bindings."
    UpdReqAll = 7,
    /// All requested binding updates were sent and acknowledged.
    UpdDone = 8,
    /// "Send me the bindings I have not acknowledged."
    UpdReq = 9,
    /// The sender's failover state (changed or initial).
    State = 10,
    /// Keep-alive.
    Contact = 11,
    /// Last message before closing the connection.
    Disconnect = 12,
}

impl MessageType {
    /// All twelve message types, in code order.
    pub const ALL: [MessageType; 12] = [
        Self::PoolReq,
        Self::PoolResp,
        Self::BndUpd,
        Self::BndAck,
        Self::Connect,
        Self::ConnectAck,
        Self::UpdReqAll,
        Self::UpdDone,
        Self::UpdReq,
        Self::State,
        Self::Contact,
        Self::Disconnect,
    ];

    /// The wire code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Parses a wire code (1..=12).
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code).checked_sub(1)?).copied()
    }

    /// The protocol's upper-case name (e.g. `"BNDUPD"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::PoolReq => "POOLREQ",
            Self::PoolResp => "POOLRESP",
            Self::BndUpd => "BNDUPD",
            Self::BndAck => "BNDACK",
            Self::Connect => "CONNECT",
            Self::ConnectAck => "CONNECTACK",
            Self::UpdReqAll => "UPDREQALL",
            Self::UpdDone => "UPDDONE",
            Self::UpdReq => "UPDREQ",
            Self::State => "STATE",
            Self::Contact => "CONTACT",
            Self::Disconnect => "DISCONNECT",
        }
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Failover option codes 1..=29 (draft §12; ISC `FTO_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u16)]
pub enum OptionCode {
    /// u32: addresses moved by a POOLRESP.
    AddressesTransferred = 1,
    /// IPv4: the address a binding is about.
    AssignedIpAddress = 2,
    /// u8: binding status (see [`dhcp_core::lease::BindingState`]).
    BindingStatus = 3,
    /// bytes: DHCP option 61 data, including its type byte.
    ClientIdentifier = 4,
    /// bytes: htype followed by the hardware address.
    ClientHardwareAddress = 5,
    /// u32 time: client last transaction time.
    ClientLastTransactionTime = 6,
    /// bytes: client reply options (ISC ignores them).
    ClientReplyOptions = 7,
    /// bytes: client request options (ISC ignores them).
    ClientRequestOptions = 8,
    /// DDNS flags and name. Breaks ISC; never sent.
    Ddns = 9,
    /// u8: delayed service parameter (ISC parses, never uses).
    DelayedServiceParameter = 10,
    /// 32 bytes: hash bucket assignment.
    HashBucketAssignment = 11,
    /// u16: IP flags (RESERVED, BOOTP).
    IpFlags = 12,
    /// u32 time: lease expiration time.
    LeaseExpirationTime = 13,
    /// u32: max unacked binding updates.
    MaxUnackedBndupd = 14,
    /// u32 seconds: maximum client lead time.
    Mclt = 15,
    /// text: human readable message.
    Message = 16,
    /// message digest. ISC discards it; never sent.
    MessageDigest = 17,
    /// u32 time: potential expiration time.
    PotentialExpirationTime = 18,
    /// u32 seconds: receive timer.
    ReceiveTimer = 19,
    /// u8: protocol version (1).
    ProtocolVersion = 20,
    /// u8: reject reason.
    RejectReason = 21,
    /// bytes: relationship name.
    RelationshipName = 22,
    /// u8: server flags.
    ServerFlags = 23,
    /// u8: server state.
    ServerState = 24,
    /// u32 time: start time of state.
    StartTimeOfState = 25,
    /// u8: TLS reply.
    TlsReply = 26,
    /// u8: TLS request.
    TlsRequest = 27,
    /// bytes: vendor class identifier (ISC sends `isc-<version>`).
    VendorClassIdentifier = 28,
    /// bytes: vendor specific options (ignored).
    VendorSpecificOptions = 29,
}

impl OptionCode {
    /// The wire code.
    pub fn code(self) -> u16 {
        self as u16
    }

    /// Parses a wire code (1..=29).
    pub fn from_code(code: u16) -> Option<Self> {
        use OptionCode::*;
        Some(match code {
            1 => AddressesTransferred,
            2 => AssignedIpAddress,
            3 => BindingStatus,
            4 => ClientIdentifier,
            5 => ClientHardwareAddress,
            6 => ClientLastTransactionTime,
            7 => ClientReplyOptions,
            8 => ClientRequestOptions,
            9 => Ddns,
            10 => DelayedServiceParameter,
            11 => HashBucketAssignment,
            12 => IpFlags,
            13 => LeaseExpirationTime,
            14 => MaxUnackedBndupd,
            15 => Mclt,
            16 => Message,
            17 => MessageDigest,
            18 => PotentialExpirationTime,
            19 => ReceiveTimer,
            20 => ProtocolVersion,
            21 => RejectReason,
            22 => RelationshipName,
            23 => ServerFlags,
            24 => ServerState,
            25 => StartTimeOfState,
            26 => TlsReply,
            27 => TlsRequest,
            28 => VendorClassIdentifier,
            29 => VendorSpecificOptions,
            _ => return None,
        })
    }
}

/// A failover server state as carried in the server-state option
/// (draft §12.24; ISC `enum failover_state`).
///
/// [ISC≠draft] RECOVER-WAIT has no number in the draft; ISC sends 254.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[repr(u8)]
pub enum ServerState {
    /// ISC's internal "unknown-state"; never sent intentionally but accepted.
    Unknown = 0,
    /// STARTUP (ISC signals it with the STARTUP server flag instead).
    Startup = 1,
    /// NORMAL: both peers up, load balanced.
    Normal = 2,
    /// COMMUNICATIONS-INTERRUPTED: partner unreachable, own pool only.
    CommunicationsInterrupted = 3,
    /// PARTNER-DOWN: partner known down; may take its pool after MCLT.
    PartnerDown = 4,
    /// POTENTIAL-CONFLICT: both may have served; resolving.
    PotentialConflict = 5,
    /// RECOVER: lost its database; relearning from the partner.
    Recover = 6,
    /// PAUSED: briefly out of service.
    Paused = 7,
    /// SHUTDOWN: going out of service.
    Shutdown = 8,
    /// RECOVER-DONE: recovery finished, waiting for the partner.
    RecoverDone = 9,
    /// RESOLUTION-INTERRUPTED: link lost during conflict resolution.
    ResolutionInterrupted = 10,
    /// CONFLICT-DONE: this side finished conflict resolution.
    ConflictDone = 11,
    /// RECOVER-WAIT: waiting out the MCLT after RECOVER (ISC: 254).
    RecoverWait = 254,
}

impl ServerState {
    /// The wire code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Parses a wire code: 0..=11 or 254, the thirteen values ISC accepts.
    pub fn from_code(code: u8) -> Option<Self> {
        use ServerState::*;
        Some(match code {
            0 => Unknown,
            1 => Startup,
            2 => Normal,
            3 => CommunicationsInterrupted,
            4 => PartnerDown,
            5 => PotentialConflict,
            6 => Recover,
            7 => Paused,
            8 => Shutdown,
            9 => RecoverDone,
            10 => ResolutionInterrupted,
            11 => ConflictDone,
            254 => RecoverWait,
            _ => return None,
        })
    }

    /// ISC's lease-file spelling (e.g. `"communications-interrupted"`).
    pub fn name(self) -> &'static str {
        use ServerState::*;
        match self {
            Unknown => "unknown-state",
            Startup => "startup",
            Normal => "normal",
            CommunicationsInterrupted => "communications-interrupted",
            PartnerDown => "partner-down",
            PotentialConflict => "potential-conflict",
            Recover => "recover",
            Paused => "paused",
            Shutdown => "shutdown",
            RecoverDone => "recover-done",
            ResolutionInterrupted => "resolution-interrupted",
            ConflictDone => "conflict-done",
            RecoverWait => "recover-wait",
        }
    }
}

impl fmt::Display for ServerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A reject reason (draft §12.21; ISC `FTR_*`). Values this crate does not
/// name are kept as [`RejectReason::Other`] so that decoding stays total
/// (ISC only logs the reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// 1: address not part of any pool of this relationship.
    IllegalIpAddress,
    /// 2: fatal conflict, address in use by another client.
    FatalConflict,
    /// 3: missing binding information.
    MissingBindingInfo,
    /// 4: time mismatch too great (> 60 s in ISC).
    TimeMismatch,
    /// 5: invalid or missing MCLT.
    InvalidMclt,
    /// 6: unknown / miscellaneous reason.
    Misc,
    /// 7: duplicate connection.
    DuplicateConnection,
    /// 8: invalid failover partner (relationship name).
    InvalidPartner,
    /// 9: TLS not supported.
    TlsUnsupported,
    /// 10: TLS supported but not configured.
    TlsUnconfigured,
    /// 11: TLS required but not supported by the partner.
    TlsRequired,
    /// 12: message digest not supported.
    DigestUnsupported,
    /// 13: message digest not configured.
    DigestUnconfigured,
    /// 14: protocol version mismatch.
    VersionMismatch,
    /// 15: outdated binding information.
    OutdatedBindingInfo,
    /// 16: less critical binding information ("dueling updates").
    LessCriticalBindingInfo,
    /// 17: no traffic within sufficient time.
    NoTraffic,
    /// 18: hash bucket assignment conflict.
    HbaConflict,
    /// 19: IP not reserved on this server.
    IpNotReserved,
    /// 20: message digest failed to compare.
    DigestMismatch,
    /// 21: missing message digest.
    MissingDigest,
    /// 254: unknown.
    Unknown,
    /// Any other value (0, 22..=253, 255).
    Other(u8),
}

impl RejectReason {
    /// The wire code.
    pub fn code(self) -> u8 {
        use RejectReason::*;
        match self {
            IllegalIpAddress => 1,
            FatalConflict => 2,
            MissingBindingInfo => 3,
            TimeMismatch => 4,
            InvalidMclt => 5,
            Misc => 6,
            DuplicateConnection => 7,
            InvalidPartner => 8,
            TlsUnsupported => 9,
            TlsUnconfigured => 10,
            TlsRequired => 11,
            DigestUnsupported => 12,
            DigestUnconfigured => 13,
            VersionMismatch => 14,
            OutdatedBindingInfo => 15,
            LessCriticalBindingInfo => 16,
            NoTraffic => 17,
            HbaConflict => 18,
            IpNotReserved => 19,
            DigestMismatch => 20,
            MissingDigest => 21,
            Unknown => 254,
            Other(c) => c,
        }
    }

    /// Parses a wire code (total: unnamed values become [`RejectReason::Other`]).
    pub fn from_code(code: u8) -> Self {
        use RejectReason::*;
        match code {
            1 => IllegalIpAddress,
            2 => FatalConflict,
            3 => MissingBindingInfo,
            4 => TimeMismatch,
            5 => InvalidMclt,
            6 => Misc,
            7 => DuplicateConnection,
            8 => InvalidPartner,
            9 => TlsUnsupported,
            10 => TlsUnconfigured,
            11 => TlsRequired,
            12 => DigestUnsupported,
            13 => DigestUnconfigured,
            14 => VersionMismatch,
            15 => OutdatedBindingInfo,
            16 => LessCriticalBindingInfo,
            17 => NoTraffic,
            18 => HbaConflict,
            19 => IpNotReserved,
            20 => DigestMismatch,
            21 => MissingDigest,
            254 => Unknown,
            c => Other(c),
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use RejectReason::*;
        let s = match self {
            IllegalIpAddress => "illegal IP address",
            FatalConflict => "fatal conflict with another client",
            MissingBindingInfo => "missing binding information",
            TimeMismatch => "time mismatch too great",
            InvalidMclt => "invalid MCLT",
            Misc => "unknown reason",
            DuplicateConnection => "duplicate connection",
            InvalidPartner => "invalid failover partner",
            TlsUnsupported => "TLS not supported",
            TlsUnconfigured => "TLS supported but not configured",
            TlsRequired => "TLS required but not supported by partner",
            DigestUnsupported => "message digest not supported",
            DigestUnconfigured => "message digest not configured",
            VersionMismatch => "protocol version mismatch",
            OutdatedBindingInfo => "outdated binding information",
            LessCriticalBindingInfo => "less critical binding information",
            NoTraffic => "no traffic within sufficient time",
            HbaConflict => "hash bucket assignment conflict",
            IpNotReserved => "IP not reserved on this server",
            DigestMismatch => "message digest failed to compare",
            MissingDigest => "missing message digest",
            Unknown => "unknown",
            Other(c) => return write!(f, "reject reason {c}"),
        };
        f.write_str(s)
    }
}

/// The server-flags option (u8). Only bit 0x01 (STARTUP) is defined.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ServerFlags(pub u8);

impl ServerFlags {
    /// The sender is in STARTUP; server-state then holds its saved state.
    pub const STARTUP: u8 = 0x01;

    /// Whether the STARTUP bit is set.
    pub fn startup(self) -> bool {
        self.0 & Self::STARTUP != 0
    }
}

/// The IP-flags option (u16 on the wire, length 2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct IpFlags(pub u16);

impl IpFlags {
    /// The address is reserved (a pseudo-static lease).
    pub const RESERVED: u16 = 0x0001;
    /// The lease is a dynamic BOOTP lease.
    pub const BOOTP: u16 = 0x0002;

    /// Whether the RESERVED bit is set.
    pub fn reserved(self) -> bool {
        self.0 & Self::RESERVED != 0
    }

    /// Whether the BOOTP bit is set.
    pub fn bootp(self) -> bool {
        self.0 & Self::BOOTP != 0
    }
}

impl From<dhcp_core::lease::LeaseFlags> for IpFlags {
    fn from(f: dhcp_core::lease::LeaseFlags) -> Self {
        let mut v = 0;
        if f.reserved {
            v |= Self::RESERVED;
        }
        if f.bootp {
            v |= Self::BOOTP;
        }
        IpFlags(v)
    }
}

impl From<IpFlags> for dhcp_core::lease::LeaseFlags {
    fn from(f: IpFlags) -> Self {
        dhcp_core::lease::LeaseFlags {
            reserved: f.reserved(),
            bootp: f.bootp(),
        }
    }
}

impl OptionCode {
    /// The exact length ISC requires for a fixed-size option, or `None` for a
    /// variable-length one. (DDNS is fixed at 0 in ISC's table, which is why
    /// any real DDNS option breaks ISC.)
    pub fn fixed_len(self) -> Option<usize> {
        use OptionCode::*;
        match self {
            BindingStatus
            | DelayedServiceParameter
            | ProtocolVersion
            | RejectReason
            | ServerFlags
            | ServerState
            | TlsReply
            | TlsRequest => Some(1),
            IpFlags => Some(2),
            AssignedIpAddress
            | AddressesTransferred
            | ClientLastTransactionTime
            | LeaseExpirationTime
            | MaxUnackedBndupd
            | Mclt
            | PotentialExpirationTime
            | ReceiveTimer
            | StartTimeOfState => Some(4),
            Ddns => Some(0),
            ClientIdentifier
            | ClientHardwareAddress
            | ClientReplyOptions
            | ClientRequestOptions
            | HashBucketAssignment
            | Message
            | MessageDigest
            | RelationshipName
            | VendorClassIdentifier
            | VendorSpecificOptions => None,
        }
    }
}

impl MessageType {
    /// Whether ISC parses `option` in this message type (ISC's `fto_allowed`
    /// table). Options it does not parse are skipped without any check.
    pub fn accepts(self, option: OptionCode) -> bool {
        use OptionCode as O;
        const BINDING: &[OptionCode] = &[
            O::AssignedIpAddress,
            O::BindingStatus,
            O::ClientIdentifier,
            O::ClientHardwareAddress,
            O::Ddns,
            O::IpFlags,
            O::LeaseExpirationTime,
            O::PotentialExpirationTime,
            O::StartTimeOfState,
            O::ClientLastTransactionTime,
            O::ClientRequestOptions,
            O::ClientReplyOptions,
        ];
        let list: &[OptionCode] = match self {
            Self::PoolReq | Self::UpdReqAll | Self::UpdDone | Self::UpdReq | Self::Contact => &[],
            Self::PoolResp => &[O::AddressesTransferred],
            Self::BndUpd => BINDING,
            Self::BndAck => {
                return BINDING.contains(&option) || matches!(option, O::RejectReason | O::Message);
            }
            Self::Connect => &[
                O::RelationshipName,
                O::MaxUnackedBndupd,
                O::ReceiveTimer,
                O::VendorClassIdentifier,
                O::ProtocolVersion,
                O::TlsRequest,
                O::Mclt,
                O::HashBucketAssignment,
            ],
            Self::ConnectAck => &[
                O::RelationshipName,
                O::MaxUnackedBndupd,
                O::ReceiveTimer,
                O::VendorClassIdentifier,
                O::ProtocolVersion,
                O::TlsReply,
                O::RejectReason,
                O::Message,
            ],
            Self::State => &[O::ServerState, O::ServerFlags, O::StartTimeOfState],
            Self::Disconnect => &[O::RejectReason, O::Message],
        };
        list.contains(&option)
    }
}
