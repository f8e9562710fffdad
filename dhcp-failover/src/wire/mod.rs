//! The failover wire format as ISC dhcpd 4.x speaks it: message model,
//! encoder, decoder and TCP stream framer.
//!
//! Header (all big-endian): `length u16` (total, including itself, 12..=2048),
//! `type u8`, `payload offset u8` (sent as 12, accepted if >= 12; extra header
//! bytes are skipped), `time u32`, `xid u32`, then options
//! `{code u16, length u16, data}` up to `length`.
//!
//! ```
//! use dhcp_failover::wire::{Body, Message, decode, encode};
//! let contact = Message::new(0x6500_0002, 8, Body::Contact);
//! let bytes = encode(&contact).unwrap();
//! assert_eq!(bytes, [0, 12, 11, 12, 0x65, 0, 0, 2, 0, 0, 0, 8]);
//! assert_eq!(decode(&bytes).unwrap(), contact);
//! ```

pub mod codes;
mod decode;
mod encode;
mod error;
mod framer;
pub mod message;

pub use codes::{IpFlags, MessageType, OptionCode, RejectReason, ServerFlags, ServerState};
pub use decode::decode;
pub use encode::{encode, encode_into};
pub use error::{DecodeError, EncodeError, FrameError, StreamError};
pub use framer::FrameReader;
pub use message::{
    Binding, BindingAck, Body, Connect, ConnectAck, Disconnect, Message, PoolResp, StateMsg, text,
};

/// Length of the fixed header; ISC always sends this as the payload offset.
pub const HEADER_LEN: usize = 12;

/// Largest message ISC sends or accepts (`DHCP_FAILOVER_MAX_MESSAGE_SIZE`).
pub const MAX_MESSAGE_LEN: usize = 2048;

/// Protocol version sent in CONNECT/CONNECTACK (`DHCP_FAILOVER_VERSION`).
pub const PROTOCOL_VERSION: u8 = 1;
