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

/// A relayed DISCOVER from client `mac` with transaction id `xid`, as a
/// relay at `giaddr` forwards it (hops 1).
pub fn discover(xid: u32, mac: &[u8; 6], giaddr: Ipv4Addr, out: &mut Vec<u8>) {
    let mut msg = base(xid, mac, giaddr);
    msg.opts_mut()
        .insert(DhcpOption::MessageType(MessageType::Discover));
    encode(&msg, out);
}

/// A relayed REQUEST (SELECTING state) for `offered`, from `server`'s
/// OFFER.
pub fn request(
    xid: u32,
    mac: &[u8; 6],
    giaddr: Ipv4Addr,
    offered: Ipv4Addr,
    server: Ipv4Addr,
    out: &mut Vec<u8>,
) {
    let mut msg = base(xid, mac, giaddr);
    let opts = msg.opts_mut();
    opts.insert(DhcpOption::MessageType(MessageType::Request));
    opts.insert(DhcpOption::RequestedIpAddress(offered));
    opts.insert(DhcpOption::ServerIdentifier(server));
    encode(&msg, out);
}

fn base(xid: u32, mac: &[u8; 6], giaddr: Ipv4Addr) -> Message {
    let zero = Ipv4Addr::UNSPECIFIED;
    let mut msg = Message::new_with_id(xid, zero, zero, zero, giaddr, mac);
    msg.set_opcode(Opcode::BootRequest);
    msg.set_hops(1);
    msg.opts_mut().insert(DhcpOption::ParameterRequestList(vec![
        OptionCode::SubnetMask,
        OptionCode::Router,
        OptionCode::DomainNameServer,
    ]));
    msg
}

fn encode(msg: &Message, out: &mut Vec<u8>) {
    out.clear();
    let mut encoder = Encoder::new(out);
    // Encoding into a Vec fails only on values dhcproto cannot represent,
    // which these fixed messages never hold; an empty buffer is then sent
    // and counted as lost, not hidden.
    if msg.encode(&mut encoder).is_err() {
        out.clear();
    }
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
        discover(7, &mac(300), GIADDR, &mut buf);
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
        request(9, &mac(1), GIADDR, offered, server, &mut buf);
        let msg = Message::from_bytes(&buf).unwrap();
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
        let mut buf = Vec::new();
        encode(&msg, &mut buf);
        let reply = parse_reply(&buf).unwrap();
        assert_eq!(reply.xid, 42);
        assert_eq!(reply.kind, ReplyKind::Offer);
        assert_eq!(reply.yiaddr, yiaddr);
        assert_eq!(reply.server, Some(server));
        assert_eq!(reply.mac, mac(5));
        // Truncated, a request, or no message type: refused.
        assert_eq!(parse_reply(&buf[..200]), None);
        let mut req = Vec::new();
        discover(1, &mac(1), GIADDR, &mut req);
        assert_eq!(parse_reply(&req), None);
        let mut bad = buf.clone();
        bad[236] = 0;
        assert_eq!(parse_reply(&bad), None);
        for len in 0..buf.len() {
            let _ = parse_reply(&buf[..len]);
        }
    }
}
