//! The failover wire format as ISC dhcpd 4.x speaks it: message model,
//! encoder, decoder and TCP stream framer.
//!
//! Header (all big-endian): `length u16` (total, including itself, 12..=2048),
//! `type u8`, `payload offset u8` (sent as 12, accepted if >= 12; extra header
//! bytes are skipped), `time u32`, `xid u32`, then options
//! `{code u16, length u16, data}` up to `length`.
//!
//! * [`Message`] / [`Body`]: the typed model, one struct per message type
//!   with an `Option` field per option ISC sends or accepts.
//! * [`encode`] / [`encode_into`]: always payload offset 12, options in ISC's
//!   emission order, one binding per BNDUPD; DDNS and message-digest cannot be
//!   expressed and so are never sent.
//! * [`decode()`]: ISC's parser rules (reference §1.3, listed below); errors
//!   are [`DecodeError`]s, never panics.
//! * [`FrameReader`]: splits a TCP byte stream into frames (max 2048 bytes by
//!   default) for the daemon's connection reader.
//!
//! `decode(&encode(m)?) == m` for every message, and `encode(&decode(b)?) == b`
//! for every frame that contains only modelled options, in ISC's order, with
//! payload offset 12 — which is every one of the 971 frames ISC sent in
//! `fixtures/isc-failover.pcap`. Frames that differ only in what ISC's parser
//! ignores (extra header bytes, option order, unknown or not-accepted options,
//! empty DDNS, trailing message-digest, an HBA that is not 32 bytes) decode
//! to the same message and re-encode canonically.
//!
//! Parser rules: unknown option codes (0, 30..) are skipped; options the
//! message type does not accept ([`MessageType::accepts`]) are skipped
//! unchecked; an accepted option that appears twice is an error; a fixed-size
//! option ([`OptionCode::fixed_len`]) with another length is an error; a
//! message-digest anywhere but last is an error and is otherwise dropped; an
//! unknown message type is an error. Where ISC defers a check to message
//! processing the decoder keeps the information the receiver needs (missing
//! mandatory options are `None`), except that an empty
//! client-hardware-address is an error and a non-32-byte HBA reads as absent.
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
mod layout;
pub mod message;

pub use codes::{IpFlags, MessageType, OptionCode, RejectReason, ServerFlags, ServerState};
pub use decode::decode;
pub use encode::{encode, encode_into};
pub use error::{DecodeError, EncodeError, FrameError, StreamError};
pub use framer::FrameReader;
pub use message::{
    Binding, BindingAck, Body, Connect, ConnectAck, Disconnect, Message, PoolResp, StateMsg, text,
};

pub use layout::{HEADER_LEN, MAX_MESSAGE_LEN, PROTOCOL_VERSION};
