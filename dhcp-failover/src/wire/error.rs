//! Typed errors of the codec and the stream framer.

use super::codes::OptionCode;

/// Why a byte string is not a valid failover message. Every variant is a
/// protocol error on which ISC drops the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer bytes than the header or the declared message length requires.
    #[error("message truncated: {available} bytes, {needed} needed")]
    Truncated {
        /// Bytes required.
        needed: usize,
        /// Bytes present.
        available: usize,
    },
    /// More bytes than the declared message length.
    #[error("{extra} bytes after the end of the message")]
    TrailingData {
        /// Bytes beyond the declared length.
        extra: usize,
    },
    /// Declared message length outside 12..=2048.
    #[error("message length {0} outside 12..=2048")]
    BadMessageLength(u16),
    /// Payload offset below 12 or beyond the message length.
    #[error("payload offset {offset} invalid for a {length}-byte message")]
    BadPayloadOffset {
        /// The payload offset byte.
        offset: u8,
        /// The declared message length.
        length: u16,
    },
    /// Message type outside 1..=12.
    #[error("unknown message type {0}")]
    UnknownMessageType(u8),
    /// An option's code/length header or data runs past the end of the message.
    #[error("option at offset {offset} runs past the end of the message")]
    OptionOverrun {
        /// Offset of the option's code field within the message.
        offset: usize,
    },
    /// A known option with a length its type does not allow.
    #[error("option {code:?} has invalid length {len}")]
    BadOptionLength {
        /// The option.
        code: OptionCode,
        /// Its length field.
        len: u16,
    },
    /// The same option twice in one message (ISC: protocol error).
    #[error("duplicate option {0:?}")]
    DuplicateOption(OptionCode),
    /// A message-digest option that is not the last option (ISC requires last).
    #[error("message-digest option is not the last option")]
    DigestNotLast,
    /// A value outside the option's code space (binding status, server state).
    #[error("option {code:?} has invalid value {value}")]
    InvalidValue {
        /// The option.
        code: OptionCode,
        /// The value found.
        value: u8,
    },
}

/// Why a [`super::Message`] cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The encoded message would exceed 2048 bytes.
    #[error("encoded message would be {0} bytes, more than 2048")]
    TooLong(usize),
}

/// Why a TCP byte stream cannot be split into messages. The connection must
/// be closed: the stream cannot be resynchronised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A length prefix below the 12-byte header size.
    #[error("frame length {0} is shorter than the 12-byte header")]
    TooShort(u16),
    /// A length prefix above the configured maximum.
    #[error("frame length {len} exceeds the maximum of {max}")]
    TooLong {
        /// The length prefix.
        len: u16,
        /// The configured maximum.
        max: usize,
    },
}

/// An error reading messages from a stream: framing or decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// The stream could not be split into frames.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A complete frame did not decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}
