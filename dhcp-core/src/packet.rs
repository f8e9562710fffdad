//! DHCPv4 wire handling on top of `dhcproto`: strict validation of untrusted
//! input, option overload (RFC 2131 option 52) on the way in, and (in its
//! `encode` module) reply encoding within the BOOTP minimum size and the
//! client's maximum message size, overloading `file` and `sname` when options
//! need the room.
//!
//! `dhcproto` decodes leniently: it stops at the first bad option without an
//! error, and a few malformed options trip its debug assertions. So every
//! request is first walked here, byte by byte, and refused with a typed
//! [`PacketError`] if anything is out of shape; only then is it handed to
//! `dhcproto`.

use dhcproto::v4::{DhcpOptions, Message, MessageType, Opcode, OptionCode};
use dhcproto::{Decodable, Decoder};

mod encode;
mod layout;
pub use encode::{EncodeError, encode_reply};
pub use layout::{DEFAULT_MAX_REPLY_LEN, HEADER_LEN, MAGIC, MIN_REPLY_LEN};
use layout::{FILE, SNAME};

/// Why a datagram was not accepted as a DHCP request. Each variant is a drop
/// reason the daemon counts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// Shorter than the fixed header and cookie.
    #[error("truncated packet: {0} bytes, need at least 240")]
    Truncated(usize),
    /// The magic cookie is missing or wrong.
    #[error("missing or bad magic cookie")]
    BadMagic,
    /// `op` is not BOOTREQUEST.
    #[error("op {0} is not BOOTREQUEST")]
    NotRequest(u8),
    /// `op` is not BOOTREPLY (from [`decode_reply`]).
    #[error("op {0} is not BOOTREPLY")]
    NotReply(u8),
    /// `hlen` is larger than the 16-byte `chaddr` field.
    #[error("hardware address length {0} exceeds 16")]
    BadHlen(u8),
    /// An option's length runs past the end of its area.
    #[error("option {code} length {len} runs past the end of the packet")]
    OptionOverrun {
        /// Option code.
        code: u8,
        /// Stated length.
        len: usize,
    },
    /// An option has a length its type does not allow.
    #[error("option {code} has invalid length {len}")]
    BadOptionLength {
        /// Option code.
        code: u8,
        /// Length found (after RFC 3396 concatenation).
        len: usize,
    },
    /// Option 52 has a value other than 1, 2 or 3.
    #[error("invalid option overload value {0}")]
    BadOverload(u8),
    /// No DHCP message type option (a plain BOOTP request; not served).
    #[error("no DHCP message type (BOOTP is not served)")]
    NoMessageType,
    /// A message type a server does not receive.
    #[error("message type {0:?} is not a client request")]
    UnexpectedType(MessageType),
    /// `dhcproto` refused the message.
    #[error("undecodable: {0}")]
    Decode(String),
    /// `dhcproto` skipped an option it could not parse.
    #[error("option {0} could not be parsed")]
    BadOption(u8),
}

/// Minimum and maximum lengths of options whose shape we rely on (or that
/// `dhcproto` asserts on).
fn length_rule(code: u8) -> Option<(usize, usize)> {
    Some(match code {
        1 | 16 | 28 | 32 | 50 | 54 | 118 => (4, 4),
        51 | 58 | 59 | 152..=155 | 91 => (4, 4),
        13 | 22 | 26 | 57 => (2, 2),
        19 | 20 | 23 | 27 | 29..=31 | 34 | 36 | 37 | 39 | 46 | 52 | 53 | 156 | 157 => (1, 1),
        80 => (0, 0),
        94 => (3, 3),
        81 => (3, 255 * 4),
        151 => (1, 255 * 4),
        93 => (2, 255 * 4),
        12 | 55 | 61 | 60 | 77 => (1, 255 * 4),
        _ => return None,
    })
}

/// Raw option payloads by code, after RFC 3396 concatenation: one buffer of
/// values and a small index (a request carries a handful of options, so a
/// linear search beats a map and costs two allocations instead of one per
/// option).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawOptions {
    data: Vec<u8>,
    /// (code, start, length) into `data`, in order of first appearance.
    index: Vec<(u8, u32, u32)>,
}

impl RawOptions {
    fn with_capacity(bytes: usize) -> Self {
        Self {
            data: Vec::with_capacity(bytes),
            index: Vec::with_capacity(16),
        }
    }

    /// The payload of option `code`.
    pub fn get(&self, code: u8) -> Option<&[u8]> {
        let &(_, start, len) = self.index.iter().find(|(c, _, _)| *c == code)?;
        self.data.get(start as usize..(start + len) as usize)
    }

    /// Whether option `code` is present.
    pub fn contains(&self, code: u8) -> bool {
        self.index.iter().any(|(c, _, _)| *c == code)
    }

    /// Every option, in order of first appearance.
    pub fn iter(&self) -> impl Iterator<Item = (u8, &[u8])> {
        self.index.iter().map(|&(code, start, len)| {
            (
                code,
                self.data
                    .get(start as usize..(start + len) as usize)
                    .unwrap_or_default(),
            )
        })
    }

    /// Whether no option is present.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Sets option `code` to `value`, or, with `append`, adds `value` to the
    /// end of its payload, which must be the last one stored (RFC 3396: a
    /// repeat directly after the option continues it).
    fn put(&mut self, code: u8, value: &[u8], append: bool) {
        let start = self.data.len() as u32;
        self.data.extend_from_slice(value);
        let added = value.len() as u32;
        match self.index.iter_mut().find(|(c, _, _)| *c == code) {
            Some(entry) if append => entry.2 += added,
            // A later, separate occurrence replaces the earlier value (its
            // bytes stay behind in `data`, unused).
            Some(entry) => *entry = (code, start, added),
            None => self.index.push((code, start, added)),
        }
    }
}

/// One option area walked: options in order, consecutive repeats concatenated
/// (RFC 3396). Every run of an option is length-checked as it ends, not only
/// the one kept: a later, separate occurrence replaces an earlier one here,
/// but `dhcproto` decodes each of them.
fn walk(area: &[u8], out: &mut RawOptions) -> Result<(), PacketError> {
    let mut i = 0;
    // The current run: its code and its concatenated length so far.
    let mut run: Option<(u8, usize)> = None;
    let end_run = |run: &mut Option<(u8, usize)>| match run.take() {
        Some((code, len)) => check_len(code, len),
        None => Ok(()),
    };
    while i < area.len() {
        let code = area[i];
        match code {
            0 => {
                i += 1;
                end_run(&mut run)?;
                continue;
            }
            255 => break,
            _ => {}
        }
        let len = *area
            .get(i + 1)
            .ok_or(PacketError::OptionOverrun { code, len: 0 })? as usize;
        let data = area
            .get(i + 2..i + 2 + len)
            .ok_or(PacketError::OptionOverrun { code, len })?;
        match &mut run {
            Some((c, run_len)) if *c == code => {
                out.put(code, data, true);
                *run_len += len;
            }
            _ => {
                end_run(&mut run)?;
                out.put(code, data, false);
                run = Some((code, len));
            }
        }
        i += 2 + len;
    }
    end_run(&mut run)
}

/// A validated request: the `dhcproto` message plus the raw option values
/// (including those from overloaded `sname`/`file` fields).
#[derive(Debug, Clone)]
pub struct Request {
    /// The decoded message.
    pub msg: Message,
    /// The message type.
    pub msg_type: MessageType,
    /// Raw option payloads by code (after RFC 3396 concatenation).
    pub raw: RawOptions,
}

impl Request {
    /// Raw payload of option `code`.
    pub fn raw(&self, code: u8) -> Option<&[u8]> {
        self.raw.get(code)
    }
}

/// Validates and decodes a datagram received on the server port.
pub fn decode_request(buf: &[u8]) -> Result<Request, PacketError> {
    let (msg, raw) = decode(buf, Opcode::BootRequest)?;
    let msg_type = msg.opts().msg_type().ok_or(PacketError::NoMessageType)?;
    match msg_type {
        MessageType::Discover
        | MessageType::Request
        | MessageType::Decline
        | MessageType::Release
        | MessageType::Inform => {}
        other => return Err(PacketError::UnexpectedType(other)),
    }
    Ok(Request { msg, msg_type, raw })
}

/// Validates and decodes a server's reply (OFFER, ACK or NAK) as a client
/// sees it, with the options of overloaded `file` and `sname` fields in the
/// message's options and those fields then empty: for clients, relays and
/// tests built on this crate.
pub fn decode_reply(buf: &[u8]) -> Result<Message, PacketError> {
    let (msg, _) = decode(buf, Opcode::BootReply)?;
    match msg.opts().msg_type().ok_or(PacketError::NoMessageType)? {
        MessageType::Offer | MessageType::Ack | MessageType::Nak => Ok(msg),
        other => Err(PacketError::UnexpectedType(other)),
    }
}

/// The checks and the decoding common to requests and replies: the fixed
/// header, every option walked and checked, option overload resolved.
fn decode(buf: &[u8], op: Opcode) -> Result<(Message, RawOptions), PacketError> {
    let wrong_op = |b: u8| match op {
        Opcode::BootRequest => PacketError::NotRequest(b),
        _ => PacketError::NotReply(b),
    };
    if buf.len() < HEADER_LEN {
        return Err(PacketError::Truncated(buf.len()));
    }
    if buf[236..240] != MAGIC {
        return Err(PacketError::BadMagic);
    }
    if buf[0] != u8::from(op) {
        return Err(wrong_op(buf[0]));
    }
    if buf[2] > 16 {
        return Err(PacketError::BadHlen(buf[2]));
    }
    let mut raw = RawOptions::with_capacity(buf.len() - HEADER_LEN);
    walk(&buf[HEADER_LEN..], &mut raw)?;
    let overload = match raw.get(52) {
        None => 0,
        Some([v @ 1..=3]) => *v,
        Some([v]) => return Err(PacketError::BadOverload(*v)),
        Some(o) => {
            return Err(PacketError::BadOptionLength {
                code: 52,
                len: o.len(),
            });
        }
    };
    let mut extra = RawOptions::default();
    if overload & 1 != 0 {
        walk(&buf[FILE], &mut extra)?;
    }
    if overload & 2 != 0 {
        walk(&buf[SNAME], &mut extra)?;
    }
    for (code, data) in raw.iter().chain(extra.iter()) {
        check_len(code, data.len())?;
    }
    let mut msg =
        Message::decode(&mut Decoder::new(buf)).map_err(|e| PacketError::Decode(e.to_string()))?;
    // Every option we walked must have come through dhcproto: it silently stops
    // at the first option it cannot parse.
    for (code, _) in raw.iter() {
        if !msg.opts().contains(OptionCode::from(code)) {
            return Err(PacketError::BadOption(code));
        }
    }
    if !extra.is_empty() {
        for (code, data) in extra.iter() {
            let mut one = vec![code, data.len().min(255) as u8];
            one.extend_from_slice(&data[..data.len().min(255)]);
            let opts = DhcpOptions::decode(&mut Decoder::new(&one))
                .map_err(|e| PacketError::Decode(e.to_string()))?;
            match opts.get(OptionCode::from(code)) {
                Some(o) if !msg.opts().contains(OptionCode::from(code)) => {
                    msg.opts_mut().insert(o.clone());
                }
                Some(_) => {}
                None => return Err(PacketError::BadOption(code)),
            }
            if !raw.contains(code) {
                raw.put(code, data, false);
            }
        }
        if overload & 1 != 0 {
            msg.clear_fname();
        }
        if overload & 2 != 0 {
            msg.clear_sname();
        }
    }
    if msg.opcode() != op {
        return Err(wrong_op(buf[0]));
    }
    Ok((msg, raw))
}

fn check_len(code: u8, len: usize) -> Result<(), PacketError> {
    if let Some((min, max)) = length_rule(code)
        && (len < min || len > max)
    {
        return Err(PacketError::BadOptionLength { code, len });
    }
    // Lists of addresses must be whole addresses.
    if matches!(code, 3..=11 | 41..=45 | 48 | 49 | 65 | 68..=76 | 89 | 92 | 150)
        && !len.is_multiple_of(4)
    {
        return Err(PacketError::BadOptionLength { code, len });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dhcproto::Encodable;
    use dhcproto::v4::DhcpOption;
    use std::net::Ipv4Addr;

    fn discover_bytes() -> Vec<u8> {
        let mut m = Message::new(
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            &[1, 2, 3, 4, 5, 6],
        );
        m.opts_mut()
            .insert(DhcpOption::MessageType(MessageType::Discover));
        m.to_vec().unwrap()
    }

    #[test]
    fn accepts_plain_discover() {
        let r = decode_request(&discover_bytes()).unwrap();
        assert_eq!(r.msg_type, MessageType::Discover);
    }

    #[test]
    fn rejects_each_malformation() {
        let good = discover_bytes();
        assert_eq!(
            decode_request(&good[..100]).unwrap_err(),
            PacketError::Truncated(100)
        );
        let mut b = good.clone();
        b[236] = 0;
        assert_eq!(decode_request(&b).unwrap_err(), PacketError::BadMagic);
        let mut b = good.clone();
        b[2] = 200;
        assert_eq!(decode_request(&b).unwrap_err(), PacketError::BadHlen(200));
        let mut b = good.clone();
        b[0] = 2;
        assert_eq!(decode_request(&b).unwrap_err(), PacketError::NotRequest(2));
        assert_eq!(decode_reply(&good).unwrap_err(), PacketError::NotReply(1));
        // Option 53 with a length running off the end.
        let mut b = good[..240].to_vec();
        b.extend_from_slice(&[53, 9, 1]);
        assert!(matches!(
            decode_request(&b),
            Err(PacketError::OptionOverrun { code: 53, .. })
        ));
        // Option 53 with a wrong length.
        let mut b = good[..240].to_vec();
        b.extend_from_slice(&[53, 2, 1, 1, 255]);
        assert_eq!(
            decode_request(&b).unwrap_err(),
            PacketError::BadOptionLength { code: 53, len: 2 }
        );
        // No message type at all: BOOTP.
        let mut b = good[..240].to_vec();
        b.push(255);
        assert_eq!(decode_request(&b).unwrap_err(), PacketError::NoMessageType);
        // Rapid commit with a payload (a dhcproto debug assertion).
        let mut b = good[..240].to_vec();
        b.extend_from_slice(&[53, 1, 1, 80, 1, 0, 255]);
        assert_eq!(
            decode_request(&b).unwrap_err(),
            PacketError::BadOptionLength { code: 80, len: 1 }
        );
        // A server message type from a client.
        let mut b = good[..240].to_vec();
        b.extend_from_slice(&[53, 1, 2, 255]);
        assert!(matches!(
            decode_request(&b),
            Err(PacketError::UnexpectedType(_))
        ));
    }

    #[test]
    fn split_options_are_joined_and_later_repeats_replace() {
        let mut b = discover_bytes()[..240].to_vec();
        // Client id in two consecutive parts (RFC 3396), then a host name
        // given twice with another option in between: the last one counts.
        b.extend_from_slice(&[53, 1, 1, 61, 3, 1, 2, 3, 61, 2, 4, 5]);
        b.extend_from_slice(&[12, 2, b'a', b'b', 60, 1, b'x', 12, 1, b'c', 255]);
        let r = decode_request(&b).unwrap();
        assert_eq!(r.raw(61), Some(&[1, 2, 3, 4, 5][..]));
        assert_eq!(r.raw(12), Some(&b"c"[..]));
        assert_eq!(r.raw(60), Some(&b"x"[..]));
        assert_eq!(r.raw(53), Some(&[1][..]));
        assert_eq!(r.raw(55), None);
        let codes: Vec<u8> = r.raw.iter().map(|(c, _)| c).collect();
        assert_eq!(codes, [53, 61, 12, 60]);
    }

    #[test]
    fn every_separate_occurrence_is_length_checked() {
        // Found by the dhcp_engine fuzz target: option 94 (3 bytes) first
        // empty, then, separately, well formed. Only the later one was kept
        // and checked, and dhcproto's decoder of the empty one asserted.
        let mut b = discover_bytes()[..240].to_vec();
        b.extend_from_slice(&[53, 1, 1, 94, 0, 0, 94, 3, 1, 2, 1, 255]);
        assert_eq!(
            decode_request(&b).unwrap_err(),
            PacketError::BadOptionLength { code: 94, len: 0 }
        );
        // The same in the overloaded file field.
        let mut b = discover_bytes()[..240].to_vec();
        b.extend_from_slice(&[53, 1, 1, 52, 1, 1, 255]);
        b[FILE.start..FILE.start + 10].copy_from_slice(&[80, 1, 0, 0, 80, 0, 0, 0, 0, 255]);
        assert_eq!(
            decode_request(&b).unwrap_err(),
            PacketError::BadOptionLength { code: 80, len: 1 }
        );
    }

    #[test]
    fn options_from_overloaded_file_field() {
        let mut b = discover_bytes()[..240].to_vec();
        b.extend_from_slice(&[53, 1, 1, 52, 1, 1, 255]);
        // Hostname in the file field.
        b[FILE.start..FILE.start + 6].copy_from_slice(&[12, 3, b'a', b'b', b'c', 255]);
        let r = decode_request(&b).unwrap();
        assert_eq!(r.raw(12), Some(&b"abc"[..]));
        assert!(r.msg.opts().get(OptionCode::Hostname).is_some());
        assert!(r.msg.fname().is_none());
    }
}
