//! The OMAPI wire format (protocol version 100): the startup message and the
//! framed messages, decoded within size limits and encoded.
//!
//! A message is a 24-byte header (six big-endian 32-bit fields: authid,
//! authlen, op, handle, id, rid), then the message's name-value list, then the
//! object's name-value list, then `authlen` bytes of signature. In a list each
//! entry is a 16-bit name length, the name, a 32-bit value length and the
//! value; a zero-length name ends the list.

use thiserror::Error;

/// The protocol version both ends send in the startup message.
pub const PROTOCOL_VERSION: u32 = 100;
/// The header size both ends send in the startup message.
pub const HEADER_SIZE: u32 = 24;
/// Length of an HMAC-MD5 signature, the only signature this crate verifies.
pub const SIGNATURE_LEN: usize = 16;
/// Length of the startup message (version and header size).
pub const STARTUP_LEN: usize = 8;

/// An OMAPI operation code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Op(pub u32);

impl Op {
    /// Look up (and optionally create) an object; answered by UPDATE or STATUS.
    pub const OPEN: Op = Op(1);
    /// Read an open object again by handle.
    pub const REFRESH: Op = Op(2);
    /// Change an object's values (client to server), or carry an object's
    /// values (server to client).
    pub const UPDATE: Op = Op(3);
    /// Unsolicited notification.
    pub const NOTIFY: Op = Op(4);
    /// The result of a request: values `result` (integer) and `message` (text).
    pub const STATUS: Op = Op(5);
    /// Delete the object behind a handle.
    pub const DELETE: Op = Op(6);
}

/// Size limits applied while decoding, before anything is allocated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest whole message (header, both lists, signature), in bytes.
    pub max_message: usize,
    /// Largest single value, in bytes.
    pub max_value: usize,
    /// Most entries in one name-value list.
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // Far above anything a host, lease or failover-state object needs
        // (statements are the largest value), far below what would matter.
        Limits {
            max_message: 64 * 1024,
            max_value: 16 * 1024,
            max_entries: 64,
        }
    }
}

/// Why bytes could not be decoded. After any of these the stream has lost
/// its framing.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum WireError {
    /// The startup message named another protocol version or header size.
    #[error(
        "startup message: protocol version {version}, header size {header_size} (expected 100, 24)"
    )]
    Startup {
        /// Protocol version received.
        version: u32,
        /// Header size received.
        header_size: u32,
    },
    /// The message would exceed [`Limits::max_message`].
    #[error("message longer than {0} bytes")]
    MessageTooLong(usize),
    /// A value exceeds [`Limits::max_value`].
    #[error("value of {0} bytes exceeds the limit")]
    ValueTooLong(usize),
    /// A list has more than [`Limits::max_entries`] entries.
    #[error("more than {0} entries in a list")]
    TooManyEntries(usize),
    /// The signature length is not one this server can verify (0 or 16).
    #[error("unsupported signature length {0}")]
    AuthLen(u32),
}

/// An integer value of a size other than 1 to 4 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[error("integer value of {0} bytes (expected 1 to 4)")]
pub struct BadInteger(pub usize);

/// A name-value list, in wire order. Names are compared exactly (ISC's are
/// lower case with dashes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Values(pub Vec<(Vec<u8>, Vec<u8>)>);

impl Values {
    /// An empty list.
    pub fn new() -> Self {
        Values(Vec::new())
    }

    /// The first value named `name`.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|(n, _)| n == name.as_bytes())
            .map(|(_, v)| v.as_slice())
    }

    /// Append a value.
    pub fn push(&mut self, name: &str, value: impl Into<Vec<u8>>) {
        self.0.push((name.as_bytes().to_vec(), value.into()));
    }

    /// Append a 32-bit integer value (network order), as ISC sends integers.
    pub fn push_u32(&mut self, name: &str, value: u32) {
        self.push(name, value.to_be_bytes().to_vec());
    }

    /// A value read as an integer: 1 to 4 bytes, big-endian. `None` when
    /// absent; `Some(Err(_))` when present but of another size.
    pub fn get_uint(&self, name: &str) -> Option<Result<u32, BadInteger>> {
        self.get(name).map(be_uint)
    }

    /// A value read as a boolean: absent is false; a nonzero integer is true.
    pub fn get_bool(&self, name: &str) -> Result<bool, BadInteger> {
        match self.get_uint(name) {
            None => Ok(false),
            Some(v) => v.map(|v| v != 0),
        }
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    fn encoded_len(&self) -> usize {
        self.0
            .iter()
            .map(|(n, v)| 2 + n.len() + 4 + v.len())
            .sum::<usize>()
            + 2
    }

    fn encode(&self, out: &mut Vec<u8>) {
        for (n, v) in &self.0 {
            // Names are ours or were decoded within u16; values within u32.
            let nlen = u16::try_from(n.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&nlen.to_be_bytes());
            out.extend_from_slice(&n[..usize::from(nlen)]);
            let vlen = u32::try_from(v.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&vlen.to_be_bytes());
            out.extend_from_slice(&v[..vlen as usize]);
        }
        out.extend_from_slice(&0u16.to_be_bytes());
    }
}

/// Read 1 to 4 big-endian bytes as an integer.
pub fn be_uint(b: &[u8]) -> Result<u32, BadInteger> {
    if b.is_empty() || b.len() > 4 {
        return Err(BadInteger(b.len()));
    }
    Ok(b.iter().fold(0u32, |acc, &x| (acc << 8) | u32::from(x)))
}

/// One OMAPI message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// Authenticator handle the message is signed under (0: unsigned).
    pub authid: u32,
    /// Operation.
    pub op: u32,
    /// Object handle the operation applies to (0: none).
    pub handle: u32,
    /// Transaction id chosen by the sender.
    pub id: u32,
    /// For a reply, the id of the message it answers.
    pub rid: u32,
    /// Message values (`type`, `create`, `exclusive`, `result`, ...).
    pub message: Values,
    /// Object values (the object's attributes).
    pub object: Values,
    /// Signature, `authlen` bytes.
    pub signature: Vec<u8>,
}

/// A decoded message with where its signed bytes lie in the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The message.
    pub message: Message,
    /// Bytes of input it took.
    pub len: usize,
    /// Length of the prefix of those bytes, after the 4-byte authid, that the
    /// signature covers: the signed range is `input[4..4 + signed_len]`.
    pub signed_len: usize,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Decode a startup message. `Ok(None)`: fewer than 8 bytes so far.
pub fn decode_startup(buf: &[u8]) -> Result<Option<()>, WireError> {
    let mut r = Reader { buf, pos: 0 };
    let (Some(version), Some(header_size)) = (r.u32(), r.u32()) else {
        return Ok(None);
    };
    if version != PROTOCOL_VERSION || header_size != HEADER_SIZE {
        return Err(WireError::Startup {
            version,
            header_size,
        });
    }
    Ok(Some(()))
}

/// Encode the startup message.
pub fn encode_startup(out: &mut Vec<u8>) {
    out.extend_from_slice(&PROTOCOL_VERSION.to_be_bytes());
    out.extend_from_slice(&HEADER_SIZE.to_be_bytes());
}

/// Decode one message from the front of `buf`. `Ok(None)`: the message is
/// not complete yet (and nothing seen so far breaks a limit). Never panics.
pub fn decode(buf: &[u8], limits: &Limits) -> Result<Option<Decoded>, WireError> {
    let mut r = Reader { buf, pos: 0 };
    let check_len = |pos: usize| {
        if pos > limits.max_message {
            Err(WireError::MessageTooLong(limits.max_message))
        } else {
            Ok(())
        }
    };
    let header = (r.u32(), r.u32(), r.u32(), r.u32(), r.u32(), r.u32());
    let (Some(authid), Some(authlen), Some(op), Some(handle), Some(id), Some(rid)) = header else {
        return Ok(None);
    };
    if authlen != 0 && authlen != SIGNATURE_LEN as u32 {
        return Err(WireError::AuthLen(authlen));
    }
    let mut lists = [Values::new(), Values::new()];
    for list in &mut lists {
        loop {
            let Some(nlen) = r.u16() else { return Ok(None) };
            if nlen == 0 {
                break;
            }
            check_len(r.pos + usize::from(nlen))?;
            let Some(name) = r.take(usize::from(nlen)) else {
                return Ok(None);
            };
            let Some(vlen) = r.u32() else { return Ok(None) };
            let vlen = vlen as usize;
            if vlen > limits.max_value {
                return Err(WireError::ValueTooLong(vlen));
            }
            check_len(r.pos.saturating_add(vlen))?;
            let Some(value) = r.take(vlen) else {
                return Ok(None);
            };
            if list.len() >= limits.max_entries {
                return Err(WireError::TooManyEntries(limits.max_entries));
            }
            list.0.push((name.to_vec(), value.to_vec()));
        }
        check_len(r.pos)?;
    }
    let signed_len = r.pos - 4;
    check_len(r.pos + authlen as usize)?;
    let Some(signature) = r.take(authlen as usize) else {
        return Ok(None);
    };
    let [message, object] = lists;
    Ok(Some(Decoded {
        message: Message {
            authid,
            op,
            handle,
            id,
            rid,
            message,
            object,
            signature: signature.to_vec(),
        },
        len: r.pos,
        signed_len,
    }))
}

impl Message {
    /// Encode the message with an `authlen` of `signature.len()`. The signed
    /// range of the output is everything after the first 4 bytes and before
    /// the signature (see [`crate::auth::encode_signed`]).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.reserve(
            24 + self.message.encoded_len() + self.object.encoded_len() + self.signature.len(),
        );
        for v in [
            self.authid,
            u32::try_from(self.signature.len()).unwrap_or(u32::MAX),
            self.op,
            self.handle,
            self.id,
            self.rid,
        ] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        self.message.encode(out);
        self.object.encode(out);
        out.extend_from_slice(&self.signature);
    }

    /// The message encoded into a new buffer.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(&mut v);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Message {
        let mut m = Message {
            authid: 7,
            op: Op::OPEN.0,
            handle: 0,
            id: 42,
            rid: 0,
            ..Default::default()
        };
        m.message.push("type", b"host".to_vec());
        m.message.push_u32("create", 1);
        m.object.push("name", b"n1".to_vec());
        m.object
            .push("hardware-address", vec![0x52, 0x54, 0, 0xaa, 0xbb, 1]);
        m.signature = vec![9; 16];
        m
    }

    #[test]
    fn round_trip_and_partial_input() {
        let m = sample();
        let bytes = m.to_vec();
        let d = decode(&bytes, &Limits::default()).unwrap().unwrap();
        assert_eq!(d.message, m);
        assert_eq!(d.len, bytes.len());
        assert_eq!(d.signed_len, bytes.len() - 4 - 16);
        for cut in 0..bytes.len() {
            assert_eq!(
                decode(&bytes[..cut], &Limits::default()),
                Ok(None),
                "cut at {cut}"
            );
        }
        // Trailing bytes belong to the next message.
        let mut two = bytes.clone();
        two.extend_from_slice(&bytes);
        assert_eq!(
            decode(&two, &Limits::default()).unwrap().unwrap().len,
            bytes.len()
        );
    }

    #[test]
    fn limits_are_enforced_before_the_bytes_arrive() {
        let limits = Limits {
            max_message: 100,
            max_value: 10,
            max_entries: 1,
        };
        let mut m = sample();
        m.signature.clear();
        m.message = Values::new();
        m.object = Values::new();
        m.object.push("v", vec![0; 11]);
        let bytes = m.to_vec();
        // Only the header and the length are needed to refuse it.
        assert_eq!(
            decode(&bytes[..24 + 2 + 2 + 1 + 4], &limits),
            Err(WireError::ValueTooLong(11))
        );
        m.object = Values::new();
        m.object.push("a", vec![]);
        m.object.push("b", vec![]);
        assert_eq!(
            decode(&m.to_vec(), &limits),
            Err(WireError::TooManyEntries(1))
        );
        let mut header = vec![0u8; 24];
        header[4..8].copy_from_slice(&5u32.to_be_bytes());
        assert_eq!(decode(&header, &limits), Err(WireError::AuthLen(5)));
        let big = Limits {
            max_message: 40,
            max_value: 1000,
            max_entries: 10,
        };
        m.object = Values::new();
        m.object.push("v", vec![0; 20]);
        assert_eq!(
            decode(&m.to_vec(), &big),
            Err(WireError::MessageTooLong(40))
        );
    }

    #[test]
    fn startup() {
        let mut b = Vec::new();
        encode_startup(&mut b);
        assert_eq!(b, [0, 0, 0, 100, 0, 0, 0, 24]);
        assert_eq!(decode_startup(&b), Ok(Some(())));
        assert_eq!(decode_startup(&b[..7]), Ok(None));
        assert_eq!(
            decode_startup(&[0, 0, 0, 99, 0, 0, 0, 24]),
            Err(WireError::Startup {
                version: 99,
                header_size: 24
            })
        );
    }

    #[test]
    fn integers() {
        assert_eq!(be_uint(&[1]), Ok(1));
        assert_eq!(be_uint(&[0, 0, 1, 2]), Ok(258));
        assert_eq!(be_uint(&[]), Err(BadInteger(0)));
        assert_eq!(be_uint(&[0; 5]), Err(BadInteger(5)));
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = decode(&bytes, &Limits::default());
            let _ = decode(&bytes, &Limits { max_message: 64, max_value: 8, max_entries: 2 });
            let _ = decode_startup(&bytes);
        }

        #[test]
        fn decode_of_a_mutated_message_never_panics(pos in 0usize..80, byte in proptest::prelude::any::<u8>()) {
            let mut bytes = sample().to_vec();
            let i = pos % bytes.len();
            bytes[i] = byte;
            let _ = decode(&bytes, &Limits::default());
        }
    }
}
