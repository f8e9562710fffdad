//! The packets a scenario sends, described by field: every BOOTP field a
//! client or relay sets, the options as raw bytes (or as values taken from
//! earlier replies), and the framing quirks of real firmware (padding after
//! END, no END at all).

use std::net::Ipv4Addr;

use crate::probe::RawReply;

/// An address in a packet: fixed, or taken from the reply to an earlier
/// step of the same scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addr {
    /// 0.0.0.0.
    Zero,
    /// A fixed address.
    Lit(Ipv4Addr),
    /// `yiaddr` of the reply to step `n`.
    Yiaddr(usize),
    /// The server identifier (option 54) of the reply to step `n`.
    ServerId(usize),
}

impl Addr {
    /// The address, given the replies so far; `None` if the step it refers
    /// to got no reply.
    pub fn resolve(&self, replies: &[Option<RawReply>]) -> Option<Ipv4Addr> {
        match *self {
            Self::Zero => Some(Ipv4Addr::UNSPECIFIED),
            Self::Lit(a) => Some(a),
            Self::Yiaddr(n) => replies.get(n)?.as_ref().map(|r| r.yiaddr),
            Self::ServerId(n) => replies.get(n)?.as_ref()?.server_id(),
        }
    }
}

/// One option of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opt {
    /// Code and raw value.
    Raw(u8, Vec<u8>),
    /// An address-valued option (50, 54, 118, …).
    Addr(u8, Addr),
    /// Raw bytes copied into the options field as they are (a relay agent
    /// information option built by hand, a lone PAD, …).
    Bytes(Vec<u8>),
}

/// Where a request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dest {
    /// 255.255.255.255:67 from the client host (source 0.0.0.0, or the
    /// packet's `ciaddr` when it has one: a REBINDING client).
    Broadcast,
    /// Unicast to the server from the packet's `ciaddr`, configured on the
    /// client host for the step (a RENEWING client, a DHCPINFORM).
    Unicast,
    /// From the relay host's `giaddr`, unicast to the server (port 67 both
    /// ends), as a relay agent forwards.
    Relay,
}

/// A request, field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// `op` (1 = BOOTREQUEST).
    pub op: u8,
    /// `htype`.
    pub htype: u8,
    /// `hlen`.
    pub hlen: u8,
    /// `hops`.
    pub hops: u8,
    /// `secs`.
    pub secs: u16,
    /// `flags` (0x8000 = BROADCAST).
    pub flags: u16,
    /// `ciaddr`.
    pub ciaddr: Addr,
    /// `giaddr`.
    pub giaddr: Addr,
    /// Which of the scenario's clients sends it (0 = the first): chooses
    /// the `chaddr`.
    pub client: u8,
    /// Options in order (53 is not added by itself).
    pub options: Vec<Opt>,
    /// Whether END closes the options.
    pub end: bool,
    /// PAD bytes after END (or after the last option).
    pub trailing_pad: usize,
    /// Whether the magic cookie and options are sent at all (a BOOTP
    /// request has the cookie with no 53; a bare one has neither).
    pub cookie: bool,
    /// The `sname` field's bytes (options, with overload).
    pub sname: Vec<u8>,
    /// The `file` field's bytes (a name, or options with overload).
    pub file: Vec<u8>,
    /// Whether the message is padded to BOOTP's 300 bytes.
    pub pad_to_300: bool,
}

impl Packet {
    /// A BOOTREQUEST of client 0 with `op` 1, Ethernet, the BROADCAST flag
    /// clear, and no options.
    pub fn new() -> Self {
        Self {
            op: 1,
            htype: 1,
            hlen: 6,
            hops: 0,
            secs: 0,
            flags: 0,
            ciaddr: Addr::Zero,
            giaddr: Addr::Zero,
            client: 0,
            options: Vec::new(),
            end: true,
            trailing_pad: 0,
            cookie: true,
            sname: Vec::new(),
            file: Vec::new(),
            pad_to_300: true,
        }
    }

    /// A DHCP message of type `kind` (option 53 first).
    pub fn dhcp(kind: u8) -> Self {
        Self::new().raw(53, &[kind])
    }

    /// Adds option `code` with raw value `value`.
    pub fn raw(mut self, code: u8, value: &[u8]) -> Self {
        self.options.push(Opt::Raw(code, value.to_vec()));
        self
    }

    /// Adds an address-valued option.
    pub fn addr(mut self, code: u8, a: Addr) -> Self {
        self.options.push(Opt::Addr(code, a));
        self
    }

    /// Adds bytes to the options field as they are.
    pub fn bytes(mut self, b: &[u8]) -> Self {
        self.options.push(Opt::Bytes(b.to_vec()));
        self
    }

    /// Option 50 from the `yiaddr` of step `n`.
    pub fn requested_from(self, n: usize) -> Self {
        self.addr(50, Addr::Yiaddr(n))
    }

    /// Option 54 from the server identifier of step `n`.
    pub fn server_id_from(self, n: usize) -> Self {
        self.addr(54, Addr::ServerId(n))
    }

    /// Sets the BROADCAST flag.
    pub fn broadcast(mut self) -> Self {
        self.flags |= 0x8000;
        self
    }

    /// Sets `ciaddr`.
    pub fn ciaddr(mut self, a: Addr) -> Self {
        self.ciaddr = a;
        self
    }

    /// Sets `giaddr` (and `hops` 1).
    pub fn giaddr(mut self, a: Addr) -> Self {
        self.giaddr = a;
        self.hops = 1;
        self
    }

    /// Sent by the scenario's client `n`.
    pub fn client(mut self, n: u8) -> Self {
        self.client = n;
        self
    }

    /// Encodes the packet with transaction id `xid` and hardware address
    /// `chaddr`, resolving addresses from `replies`; `None` if one refers
    /// to a step that got no reply.
    pub fn encode(
        &self,
        xid: u32,
        chaddr: [u8; 6],
        replies: &[Option<RawReply>],
    ) -> Option<Vec<u8>> {
        let mut b = vec![0u8; 236];
        b[0] = self.op;
        b[1] = self.htype;
        b[2] = self.hlen;
        b[3] = self.hops;
        b[4..8].copy_from_slice(&xid.to_be_bytes());
        b[8..10].copy_from_slice(&self.secs.to_be_bytes());
        b[10..12].copy_from_slice(&self.flags.to_be_bytes());
        b[12..16].copy_from_slice(&self.ciaddr.resolve(replies)?.octets());
        b[24..28].copy_from_slice(&self.giaddr.resolve(replies)?.octets());
        b[28..34].copy_from_slice(&chaddr);
        let sname = &self.sname[..self.sname.len().min(64)];
        b[44..44 + sname.len()].copy_from_slice(sname);
        let file = &self.file[..self.file.len().min(128)];
        b[108..108 + file.len()].copy_from_slice(file);
        if self.cookie {
            b.extend_from_slice(&[99, 130, 83, 99]);
            for o in &self.options {
                match o {
                    Opt::Raw(code, v) => push_option(&mut b, *code, v),
                    Opt::Addr(code, a) => push_option(&mut b, *code, &a.resolve(replies)?.octets()),
                    Opt::Bytes(v) => b.extend_from_slice(v),
                }
            }
            if self.end {
                b.push(255);
            }
        }
        b.resize(b.len() + self.trailing_pad, 0);
        // BOOTP's minimum (RFC 951: a 300-byte message); most clients pad.
        if self.pad_to_300 && b.len() < 300 {
            b.resize(300, 0);
        }
        Some(b)
    }
}

impl Default for Packet {
    fn default() -> Self {
        Self::new()
    }
}

fn push_option(b: &mut Vec<u8>, code: u8, v: &[u8]) {
    // Values over 255 bytes are split into instances (RFC 3396).
    let mut chunks = v.chunks(255).peekable();
    if chunks.peek().is_none() {
        b.extend_from_slice(&[code, 0]);
    }
    for c in chunks {
        b.push(code);
        b.push(c.len() as u8);
        b.extend_from_slice(c);
    }
}

/// Relay agent information (option 82) with the given sub-options.
pub fn agent_info(subs: &[(u8, &[u8])]) -> Vec<u8> {
    let mut v = Vec::new();
    for (code, value) in subs {
        v.push(*code);
        v.push(value.len() as u8);
        v.extend_from_slice(value);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_fields_options_and_quirks() {
        let p = Packet::dhcp(3)
            .broadcast()
            .requested_from(0)
            .raw(12, b"h")
            .ciaddr(Addr::Lit(Ipv4Addr::new(10, 99, 0, 7)));
        let chaddr = [2, 0, 0, 0, 0, 1];
        assert!(
            p.encode(1, chaddr, &[None]).is_none(),
            "step 0 had no reply"
        );
        let mut reply = vec![0u8; 240];
        reply[0] = 2;
        reply[16..20].copy_from_slice(&[10, 99, 0, 20]);
        reply[236..240].copy_from_slice(&[99, 130, 83, 99]);
        reply.push(255);
        let r = RawReply::parse(&reply);
        let b = p.encode(7, chaddr, &[r]).unwrap();
        assert_eq!(b.len(), 300);
        assert_eq!(&b[10..16], &[0x80, 0, 10, 99, 0, 7]);
        assert_eq!(
            &b[236..253],
            &[
                99, 130, 83, 99, 53, 1, 3, 50, 4, 10, 99, 0, 20, 12, 1, b'h', 255
            ]
        );
        let mut q = Packet::dhcp(1);
        q.end = false;
        q.trailing_pad = 100;
        let b = q.encode(1, chaddr, &[]).unwrap();
        assert_eq!(b.len(), 343);
        assert!(!b.contains(&255));
    }
}
