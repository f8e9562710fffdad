//! Reply encoding: padded to the BOOTP minimum, fitted to the client's maximum
//! message size, with the unused `file` and `sname` fields taking options
//! (RFC 2131 option 52, overload) before any optional option is left out.
//!
//! `dhcproto` writes every option into the `options` field. When that makes
//! the reply too long, some of the encoded options are moved, each whole,
//! into whichever of `file` (127 bytes of options) and `sname` (63) the reply
//! does not use for a boot file or server name, and option 52 says which. Only when they do not
//! fit even then are optional options dropped, least important first, and the
//! packing is tried again.

use std::cmp::Reverse;
use std::ops::Range;

use dhcproto::v4::{Message, OptionCode};
use dhcproto::{Encodable, Encoder};

use super::layout::{FILE, HEADER_LEN, MIN_REPLY_LEN, SNAME};

/// Why a reply could not be encoded.
#[derive(Debug, thiserror::Error)]
#[error("cannot encode reply: {0}")]
pub struct EncodeError(String);

/// Encodes a reply into `out` (cleared first) within `max_len` bytes, and pads
/// it to the 300-byte BOOTP minimum.
///
/// Options that do not fit in the `options` field go into `file` and `sname`
/// when the reply leaves them empty (option overload). When they still do not
/// fit, options are removed from `msg` from the back of `droppable` (least
/// important last) until they do, so `msg` ends up holding exactly the
/// options sent.
pub fn encode_reply(
    msg: &mut Message,
    max_len: usize,
    droppable: &[OptionCode],
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let max_len = max_len.max(MIN_REPLY_LEN);
    let mut drop = droppable.iter().rev();
    loop {
        out.clear();
        msg.encode(&mut Encoder::new(out))
            .map_err(|e| EncodeError(e.to_string()))?;
        if out.len() <= max_len || overload(out, max_len) {
            break;
        }
        match drop.next() {
            Some(code) => {
                msg.opts_mut().remove(*code);
            }
            None => {
                return Err(EncodeError(format!(
                    "{} bytes exceed the limit {max_len}",
                    out.len()
                )));
            }
        }
    }
    if out.len() < MIN_REPLY_LEN {
        out.resize(MIN_REPLY_LEN, 0);
    }
    Ok(())
}

/// Options that stay in the `options` field whatever their size: what a
/// client that ignores option 52 still needs to take the lease (message type,
/// server identifier, lease time, T1/T2, mask, routers) and to boot (vendor
/// class, vendor options, TFTP server and boot file names, PXELINUX config
/// file and path prefix: a PXE ROM is the client most likely to be old), the
/// client identifier it may check the reply against (RFC 6842), and the relay
/// agent information a relay looks for there to route the reply and then
/// strips (RFC 3046).
const PINNED: [u8; 16] = [
    53, 54, 51, 58, 59, 1, 3, 60, 43, 66, 67, 209, 210, 61, 82, 52,
];

/// The option areas of a reply, in RFC 3396 order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    Options,
    File,
    Sname,
}

/// One encoded option (with the continuations `dhcproto` writes after it when
/// its value passes 255 bytes): its bytes in the encoding and where it goes.
struct Unit {
    bytes: Range<usize>,
    pinned: bool,
    area: Area,
}

/// Rewrites the encoded reply `out` so that its options fit in `max_len`
/// bytes by moving some of them into the empty `file` and `sname` fields.
/// Returns false, leaving `out` as it was, when they do not fit.
fn overload(out: &mut Vec<u8>, max_len: usize) -> bool {
    let file_free = out.get(FILE).is_some_and(|f| f.iter().all(|&b| b == 0));
    let sname_free = out.get(SNAME).is_some_and(|f| f.iter().all(|&b| b == 0));
    if !(file_free || sname_free) {
        return false;
    }
    let Some(mut units) = encoded_units(out) else {
        return false;
    };
    // Room in `options` once option 52 (3 bytes) and the end mark are in.
    let Some(mut options_room) = max_len.checked_sub(HEADER_LEN + 3 + 1) else {
        return false;
    };
    for u in units.iter().filter(|u| u.pinned) {
        match options_room.checked_sub(u.bytes.len()) {
            Some(left) => options_room = left,
            None => return false,
        }
    }
    // Each field ends with an end mark of its own.
    let mut file_room = if file_free { FILE.len() - 1 } else { 0 };
    let mut sname_room = if sname_free { SNAME.len() - 1 } else { 0 };
    // First fit, largest first: the big options claim the `options` field
    // and the small ones fill the fields around them.
    let mut movable: Vec<usize> = (0..units.len()).filter(|&k| !units[k].pinned).collect();
    movable.sort_by_key(|&k| Reverse(units[k].bytes.len()));
    for k in movable {
        let len = units[k].bytes.len();
        let rooms = [
            (Area::Options, &mut options_room),
            (Area::File, &mut file_room),
            (Area::Sname, &mut sname_room),
        ];
        let Some((area, room)) = rooms.into_iter().find(|(_, room)| **room >= len) else {
            return false;
        };
        *room -= len;
        units[k].area = area;
    }
    let in_file = units.iter().any(|u| u.area == Area::File);
    let in_sname = units.iter().any(|u| u.area == Area::Sname);
    let encoded = std::mem::take(out);
    out.extend_from_slice(&encoded[..HEADER_LEN]);
    let area_bytes = |area: Area| {
        units
            .iter()
            .filter(move |u| u.area == area)
            .flat_map(|u| &encoded[u.bytes.clone()])
    };
    // Option 52 first: the relay agent information stays last (RFC 3046).
    if in_file || in_sname {
        out.extend_from_slice(&[52, 1, u8::from(in_file) | (u8::from(in_sname) << 1)]);
    }
    out.extend(area_bytes(Area::Options));
    out.push(255);
    for (area, range, used) in [(Area::File, FILE, in_file), (Area::Sname, SNAME, in_sname)] {
        if used {
            let field = &mut out[range.clone()];
            let mut n = 0;
            for (slot, b) in field.iter_mut().zip(area_bytes(area)) {
                *slot = *b;
                n += 1;
            }
            // Room was checked above, so the end mark fits; the rest stays
            // zero, which is padding.
            if let Some(end) = field.get_mut(n) {
                *end = 255;
            }
        }
    }
    true
}

/// The options `dhcproto` wrote after the header, each with its
/// continuations; `None` if the encoding is not the plain option list this
/// module expects (it then is left as it is).
fn encoded_units(out: &[u8]) -> Option<Vec<Unit>> {
    let mut units: Vec<Unit> = Vec::new();
    let mut i = HEADER_LEN;
    while let Some(&code) = out.get(i) {
        match code {
            0 => {
                i += 1;
                continue;
            }
            255 => return Some(units),
            _ => {}
        }
        let len = usize::from(*out.get(i + 1)?);
        let end = i + 2 + len;
        if end > out.len() {
            return None;
        }
        match units.last_mut() {
            // A continuation (RFC 3396): the parts stay together, and in
            // `options`, where a long value has to be anyway.
            Some(last) if last.bytes.end == i && out[last.bytes.start] == code => {
                last.bytes.end = end;
                last.pinned = true;
            }
            _ => units.push(Unit {
                bytes: i..end,
                pinned: PINNED.contains(&code),
                area: Area::Options,
            }),
        }
        i = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{RawOptions, walk};
    use dhcproto::v4::relay::{RelayAgentInformation, RelayInfo};
    use dhcproto::v4::{DhcpOption, MessageType, Opcode, UnknownOption};
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    /// Every option in an encoded reply, from all three areas as option 52
    /// says, as sorted (code, value) pairs; and the codes in `options`.
    fn sent_options(bytes: &[u8]) -> (Vec<(u8, Vec<u8>)>, Vec<u8>) {
        let mut main = RawOptions::default();
        walk(&bytes[HEADER_LEN..], &mut main).unwrap();
        let overload = main.get(52).map_or(0, |v| v[0]);
        let mut all = main.clone();
        for (bit, range) in [(1, FILE), (2, SNAME)] {
            if overload & bit != 0 {
                let mut extra = RawOptions::default();
                walk(&bytes[range], &mut extra).unwrap();
                for (code, data) in extra.iter() {
                    assert!(!all.contains(code), "option {code} sent twice");
                    all.put(code, data, false);
                }
            }
        }
        let mut pairs: Vec<(u8, Vec<u8>)> = all
            .iter()
            .filter(|(c, _)| *c != 52)
            .map(|(c, d)| (c, d.to_vec()))
            .collect();
        pairs.sort();
        (pairs, main.iter().map(|(c, _)| c).collect())
    }

    /// What `msg` holds, encoded plainly.
    fn held_options(msg: &Message) -> Vec<(u8, Vec<u8>)> {
        let mut plain = Vec::new();
        msg.encode(&mut Encoder::new(&mut plain)).unwrap();
        sent_options(&plain).0
    }

    fn offer() -> Message {
        let mut m = Message::default();
        m.set_opcode(Opcode::BootReply);
        m.opts_mut()
            .insert(DhcpOption::MessageType(MessageType::Offer));
        m.opts_mut()
            .insert(DhcpOption::ServerIdentifier(Ipv4Addr::new(10, 99, 0, 1)));
        m.opts_mut().insert(DhcpOption::AddressLeaseTime(3600));
        m
    }

    fn custom(code: u8, len: usize) -> DhcpOption {
        DhcpOption::Unknown(UnknownOption::new(OptionCode::from(code), vec![code; len]))
    }

    /// The offer's options, all sent and none dropped: (values by code,
    /// codes in `options`, option 52's value).
    fn encode_all(m: &mut Message, max_len: usize) -> (Vec<u8>, Vec<u8>, u8) {
        let before = held_options(m);
        let droppable: Vec<OptionCode> = before.iter().map(|(c, _)| OptionCode::from(*c)).collect();
        let mut out = Vec::new();
        encode_reply(m, max_len, &droppable, &mut out).unwrap();
        assert!(
            out.len() <= max_len.max(MIN_REPLY_LEN),
            "{} bytes",
            out.len()
        );
        let (sent, main) = sent_options(&out);
        assert_eq!(sent, before, "every option sent, unchanged");
        assert_eq!(held_options(m), before, "none dropped");
        // A client decoding the reply sees every option.
        let seen = crate::packet::decode_reply(&out).unwrap();
        for (code, opt) in m.opts().iter() {
            assert_eq!(seen.opts().get(*code), Some(opt), "option {code:?}");
        }
        let overload = main
            .contains(&52)
            .then(|| out[HEADER_LEN..].windows(2).position(|w| w == [52, 1]))
            .flatten()
            .map_or(0, |p| out[HEADER_LEN + p + 2]);
        (out, main, overload)
    }

    #[test]
    fn padded_to_the_bootp_minimum() {
        let mut m = offer();
        let (out, main, overload) = encode_all(&mut m, 1500);
        assert_eq!(out.len(), MIN_REPLY_LEN);
        let mut main = main;
        main.sort();
        assert_eq!(main, [51, 53, 54]);
        assert_eq!(overload, 0);
    }

    #[test]
    fn options_overflow_into_file_then_sname_instead_of_being_dropped() {
        let mut m = offer();
        for (code, len) in [(224, 200), (225, 100), (226, 60), (227, 40)] {
            m.opts_mut().insert(custom(code, len));
        }
        let (out, main, overload) = encode_all(&mut m, 576 - 28);
        assert_eq!(overload, 3, "file and sname both used");
        // The largest option and the next that fits stay in `options`; the
        // 100-byte one goes to `file`, the 40-byte one to `sname`.
        assert!(main.contains(&224) && main.contains(&226), "{main:?}");
        assert_eq!(out[FILE.start], 225);
        assert_eq!(out[SNAME.start], 227);
        for code in [53, 54, 51] {
            assert!(main.contains(&code), "option {code} stays in options");
        }
    }

    #[test]
    fn a_boot_file_leaves_only_sname() {
        let mut m = offer();
        m.set_fname_str("pxelinux.0");
        for (code, len) in [(224, 250), (225, 40)] {
            m.opts_mut().insert(custom(code, len));
        }
        let (out, _, overload) = encode_all(&mut m, 576 - 28);
        assert_eq!(overload, 2);
        assert_eq!(&out[FILE.start..FILE.start + 11], b"pxelinux.0\0");
        assert_eq!(out[SNAME.start], 225);
    }

    #[test]
    fn relay_agent_information_and_client_id_stay_in_options() {
        let mut m = offer();
        let mut agent = RelayAgentInformation::default();
        agent.insert(RelayInfo::AgentCircuitId(vec![7; 28]));
        m.opts_mut()
            .insert(DhcpOption::RelayAgentInformation(agent));
        m.opts_mut()
            .insert(DhcpOption::ClientIdentifier(vec![1, 2, 3, 4, 5, 6, 7]));
        m.opts_mut().insert(custom(224, 100));
        let (_, main, overload) = encode_all(&mut m, 300);
        assert_eq!(overload, 1);
        assert!(main.contains(&61), "{main:?}");
        assert_eq!(main.last(), Some(&82), "relay agent information last");
        assert!(!main.contains(&224));
    }

    #[test]
    fn boot_options_stay_in_options() {
        let mut m = offer();
        m.set_fname_str("lpxelinux.0");
        m.opts_mut()
            .insert(DhcpOption::ClassIdentifier(b"PXEClient".to_vec()));
        m.opts_mut().insert(custom(210, 30));
        m.opts_mut().insert(custom(224, 220));
        m.opts_mut().insert(custom(225, 40));
        let (out, main, overload) = encode_all(&mut m, 576 - 28);
        assert_eq!(overload, 2);
        assert!(main.contains(&60) && main.contains(&210), "{main:?}");
        assert_eq!(out[SNAME.start], 225);
    }

    #[test]
    fn drops_the_least_important_only_when_overload_is_not_enough() {
        let mut m = offer();
        m.opts_mut().insert(DhcpOption::DomainName("x".repeat(250)));
        m.opts_mut().insert(DhcpOption::Hostname("y".repeat(250)));
        let mut out = Vec::new();
        encode_reply(
            &mut m,
            576 - 28,
            &[OptionCode::DomainName, OptionCode::Hostname],
            &mut out,
        )
        .unwrap();
        assert!(out.len() <= 548);
        assert!(m.opts().get(OptionCode::DomainName).is_some());
        assert!(m.opts().get(OptionCode::Hostname).is_none());
        assert_eq!(sent_options(&out).0, held_options(&m));
    }

    #[test]
    fn too_big_with_nothing_droppable_is_an_error() {
        let mut m = offer();
        m.opts_mut().insert(custom(1, 4));
        m.opts_mut().insert(custom(3, 255));
        m.opts_mut().insert(custom(61, 255));
        assert!(encode_reply(&mut m, 300, &[], &mut Vec::new()).is_err());
    }

    proptest! {
        /// Whatever the options and the limit: the reply fits, is at least
        /// the BOOTP minimum, says each option once, and carries exactly what
        /// `msg` holds afterwards, and a boot file in `file` is left alone.
        #[test]
        fn replies_fit_and_carry_exactly_the_kept_options(
            sizes in proptest::collection::vec((200u8..=254, 0usize..=300), 0..8),
            max_len in 300usize..=1500,
            boot_file in any::<bool>(),
        ) {
            let mut m = offer();
            if boot_file {
                m.set_fname_str("ipxe.efi");
            }
            let mut droppable = Vec::new();
            for (code, len) in sizes {
                m.opts_mut().insert(custom(code, len));
                if !droppable.contains(&OptionCode::from(code)) {
                    droppable.push(OptionCode::from(code));
                }
            }
            let mut out = Vec::new();
            encode_reply(&mut m, max_len, &droppable, &mut out).unwrap();
            prop_assert!(out.len() <= max_len.max(MIN_REPLY_LEN));
            prop_assert!(out.len() >= MIN_REPLY_LEN);
            prop_assert_eq!(sent_options(&out).0, held_options(&m));
            if boot_file {
                prop_assert_eq!(&out[FILE.start..FILE.start + 9], b"ipxe.efi\0");
            }
        }
    }
}
