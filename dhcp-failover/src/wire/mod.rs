//! The failover wire format as ISC dhcpd 4.x speaks it: message model,
//! encoder, decoder and TCP stream framer.
//!
//! Header (all big-endian): `length u16` (total, including itself, 12..=2048),
//! `type u8`, `payload offset u8` (sent as 12, accepted if >= 12), `time u32`,
//! `xid u32`, then options `{code u16, length u16, data}` up to `length`.

pub mod codes;
pub mod message;

pub use codes::{IpFlags, MessageType, OptionCode, RejectReason, ServerFlags, ServerState};
pub use message::{
    Binding, BindingAck, Body, Connect, ConnectAck, Disconnect, Message, PoolResp, StateMsg,
};

/// Length of the fixed header; ISC always sends this as the payload offset.
pub const HEADER_LEN: usize = 12;

/// Largest message ISC sends or accepts (`DHCP_FAILOVER_MAX_MESSAGE_SIZE`).
pub const MAX_MESSAGE_LEN: usize = 2048;

/// Protocol version sent in CONNECT/CONNECTACK (`DHCP_FAILOVER_VERSION`).
pub const PROTOCOL_VERSION: u8 = 1;
