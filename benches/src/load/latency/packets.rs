//! The load client's packets: DISCOVER and REQUEST as a relay sends them
//! (built with dhcproto), and the few fields of a reply the client needs
//! (read with dhcproto's zero-copy decoder, never trusting the input).

use std::net::Ipv4Addr;

use dhcproto::v4::borrowed;
use dhcproto::v4::{DhcpOption, Message, MessageType, Opcode, OptionCode};
use dhcproto::{Encodable, Encoder};

/// The hardware address of simulated client `n`: locally administered
/// (`02:`), the client number in the low four bytes.
pub fn mac(n: u32) -> [u8; 6] {
    let b = n.to_be_bytes();
    [0x02, 0x4c, b[0], b[1], b[2], b[3]]
}

/// A message encoded once with dhcproto, then copied and patched for
/// each exchange (the transaction id, the hardware address and, in a
/// REQUEST, the requested address and the server identifier), so that
/// the client spends little CPU of the machine it shares with the server.
#[derive(Debug, Clone)]
pub struct Template {
    bytes: Vec<u8>,
    requested_at: Option<usize>,
    server_at: Option<usize>,
}

const XID_AT: usize = 4;
const CHADDR_AT: usize = 28;

impl Template {
    /// A relayed DISCOVER, as a relay at `giaddr` forwards it (hops 1).
    pub fn discover(giaddr: Ipv4Addr) -> Self {
        let mut msg = base(giaddr);
        msg.opts_mut()
            .insert(DhcpOption::MessageType(MessageType::Discover));
        Self::of(&msg)
    }

    /// A relayed REQUEST in SELECTING state (options 50 and 54 filled in
    /// by [`Template::fill`]).
    pub fn request(giaddr: Ipv4Addr) -> Self {
        let mut msg = base(giaddr);
        let opts = msg.opts_mut();
        opts.insert(DhcpOption::MessageType(MessageType::Request));
        opts.insert(DhcpOption::RequestedIpAddress(Ipv4Addr::UNSPECIFIED));
        opts.insert(DhcpOption::ServerIdentifier(Ipv4Addr::UNSPECIFIED));
        Self::of(&msg)
    }

    fn of(msg: &Message) -> Self {
        let mut bytes = Vec::new();
        let mut encoder = Encoder::new(&mut bytes);
        // Encoding into a Vec fails only on values dhcproto cannot
        // represent, which these fixed messages never hold; an empty
        // template then sends nothing but empty datagrams, counted lost.
        if msg.encode(&mut encoder).is_err() {
            bytes.clear();
        }
        let requested_at = option_data_at(&bytes, 50, 4);
        let server_at = option_data_at(&bytes, 54, 4);
        Self {
            bytes,
            requested_at,
            server_at,
        }
    }

    /// Writes the message for `xid` from client `mac` into `out`, with
    /// `offered` and `server` in a REQUEST.
    pub fn fill(
        &self,
        xid: u32,
        mac: &[u8; 6],
        offered: Ipv4Addr,
        server: Ipv4Addr,
        out: &mut Vec<u8>,
    ) {
        out.clear();
        out.extend_from_slice(&self.bytes);
        let mut put = |at: Option<usize>, value: &[u8]| {
            if let Some(slot) = at.and_then(|at| out.get_mut(at..at + value.len())) {
                slot.copy_from_slice(value);
            }
        };
        put(Some(XID_AT), &xid.to_be_bytes());
        put(Some(CHADDR_AT), mac);
        put(self.requested_at, &offered.octets());
        put(self.server_at, &server.octets());
    }
}

/// Where the data of option `code` (of length `len`) starts in an encoded
/// message.
fn option_data_at(msg: &[u8], code: u8, len: u8) -> Option<usize> {
    let mut at = 240;
    while let Some(&c) = msg.get(at) {
        match c {
            0 => at += 1,
            255 => return None,
            _ => {
                let l = *msg.get(at + 1)?;
                if c == code && l == len {
                    return Some(at + 2);
                }
                at += 2 + usize::from(l);
            }
        }
    }
    None
}

fn base(giaddr: Ipv4Addr) -> Message {
    let zero = Ipv4Addr::UNSPECIFIED;
    let mut msg = Message::new_with_id(0, zero, zero, zero, giaddr, &[0; 6]);
    msg.set_opcode(Opcode::BootRequest);
    msg.set_hops(1);
    msg.opts_mut().insert(DhcpOption::ParameterRequestList(vec![
        OptionCode::SubnetMask,
        OptionCode::Router,
        OptionCode::DomainNameServer,
    ]));
    msg
}

/// The kinds of reply the client tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// DHCPOFFER.
    Offer,
    /// DHCPACK.
    Ack,
    /// DHCPNAK.
    Nak,
}

/// What the client reads from a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// Transaction id.
    pub xid: u32,
    /// OFFER, ACK or NAK.
    pub kind: ReplyKind,
    /// The offered or acknowledged address.
    pub yiaddr: Ipv4Addr,
    /// Option 54, if present.
    pub server: Option<Ipv4Addr>,
    /// The first six bytes of `chaddr`.
    pub mac: [u8; 6],
}

/// Reads a reply, or `None` for anything that is not a well-formed
/// BOOTREPLY OFFER, ACK or NAK.
pub fn parse_reply(buf: &[u8]) -> Option<Reply> {
    let msg = borrowed::Message::new(buf).ok()?;
    if msg.opcode() != Opcode::BootReply {
        return None;
    }
    let mut kind = None;
    let mut server = None;
    for opt in msg.opts() {
        match opt.code() {
            OptionCode::MessageType => {
                kind = match opt.data() {
                    [2] => Some(ReplyKind::Offer),
                    [5] => Some(ReplyKind::Ack),
                    [6] => Some(ReplyKind::Nak),
                    _ => None,
                };
            }
            OptionCode::ServerIdentifier => {
                if let Ok(octets) = <[u8; 4]>::try_from(opt.data()) {
                    server = Some(Ipv4Addr::from(octets));
                }
            }
            _ => {}
        }
    }
    let mac = <[u8; 6]>::try_from(msg.chaddr().get(..6)?).ok()?;
    Some(Reply {
        xid: msg.xid(),
        kind: kind?,
        yiaddr: msg.yiaddr(),
        server,
        mac,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dhcproto::Decodable;

    const GIADDR: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 10);

    #[test]
    fn discover_is_relayed_and_decodes() {
        let mut buf = Vec::new();
        let zero = Ipv4Addr::UNSPECIFIED;
        Template::discover(GIADDR).fill(7, &mac(300), zero, zero, &mut buf);
        let msg = Message::from_bytes(&buf).unwrap();
        assert_eq!(msg.xid(), 7);
        assert_eq!(msg.giaddr(), GIADDR);
        assert_eq!(msg.hops(), 1);
        assert_eq!(&msg.chaddr()[..6], &mac(300));
        assert_eq!(msg.opts().msg_type(), Some(MessageType::Discover));
    }

    #[test]
    fn request_names_the_offer() {
        let mut buf = Vec::new();
        let (offered, server) = (Ipv4Addr::new(10, 99, 16, 5), Ipv4Addr::new(10, 99, 0, 1));
        Template::request(GIADDR).fill(9, &mac(1), offered, server, &mut buf);
        let msg = Message::from_bytes(&buf).unwrap();
        assert_eq!(msg.xid(), 9);
        assert_eq!(&msg.chaddr()[..6], &mac(1));
        assert_eq!(msg.opts().msg_type(), Some(MessageType::Request));
        assert_eq!(
            msg.opts().get(OptionCode::RequestedIpAddress),
            Some(&DhcpOption::RequestedIpAddress(offered))
        );
        assert_eq!(
            msg.opts().get(OptionCode::ServerIdentifier),
            Some(&DhcpOption::ServerIdentifier(server))
        );
    }

    #[test]
    fn replies_are_read_and_garbage_refused() {
        let server = Ipv4Addr::new(10, 99, 0, 1);
        let yiaddr = Ipv4Addr::new(10, 99, 16, 9);
        let mut msg =
            Message::new_with_id(42, Ipv4Addr::UNSPECIFIED, yiaddr, server, GIADDR, &mac(5));
        msg.set_opcode(Opcode::BootReply);
        msg.opts_mut()
            .insert(DhcpOption::MessageType(MessageType::Offer));
        msg.opts_mut().insert(DhcpOption::ServerIdentifier(server));
        let buf = Template::of(&msg).bytes;
        let reply = parse_reply(&buf).unwrap();
        assert_eq!(reply.xid, 42);
        assert_eq!(reply.kind, ReplyKind::Offer);
        assert_eq!(reply.yiaddr, yiaddr);
        assert_eq!(reply.server, Some(server));
        assert_eq!(reply.mac, mac(5));
        // Truncated, a request, or no message type: refused.
        assert_eq!(parse_reply(&buf[..200]), None);
        let req = Template::discover(GIADDR).bytes;
        assert_eq!(parse_reply(&req), None);
        let mut bad = buf.clone();
        bad[236] = 0;
        assert_eq!(parse_reply(&bad), None);
        for len in 0..buf.len() {
            let _ = parse_reply(&buf[..len]);
        }
    }
}
