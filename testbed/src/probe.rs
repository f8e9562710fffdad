//! Scripted single-client exchanges for differential tests: one DISCOVER
//! with exactly the options a given firmware sends, the OFFER, a selecting
//! REQUEST, the ACK, each reply kept as raw fields and raw option bytes so
//! that two servers' answers can be compared byte for byte.
//!
//! A probe runs either on a client host of the server segment (broadcast
//! with the BROADCAST flag, replies read from port 68) or in the relay host
//! as a relay agent would (unicast to the server from port 67 with `giaddr`
//! set, replies read on port 67).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use dhcproto::v4::{DhcpOption, Flags, Message, MessageType, Opcode, OptionCode, UnknownOption};
use dhcproto::{Encodable, Encoder};
use socket2::{Domain, Protocol, Socket, Type};

use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::netns;
use crate::sim::ReceivePath;
use crate::sim::sockets::SwarmSockets;

/// One simulated client: its identity and the options it sends.
#[derive(Debug, Clone)]
pub struct Probe {
    /// A short name for tables.
    pub name: String,
    /// The client's MAC (`chaddr`).
    pub mac: [u8; 6],
    /// Options in the DISCOVER and REQUEST besides 53, 50, 54, in the order
    /// given (code, raw value).
    pub options: Vec<(u8, Vec<u8>)>,
    /// Set: the probe acts as a relay agent with this `giaddr` and
    /// unicasts to the server; unset: it broadcasts on the segment.
    pub giaddr: Option<Ipv4Addr>,
}

impl Probe {
    /// A probe named `name` for `mac` with no options yet.
    pub fn new(name: &str, mac: [u8; 6]) -> Self {
        Self {
            name: name.to_owned(),
            mac,
            options: Vec::new(),
            giaddr: None,
        }
    }

    /// Adds option `code` with raw value `value`.
    pub fn option(mut self, code: u8, value: &[u8]) -> Self {
        self.options.push((code, value.to_vec()));
        self
    }

    /// Sends through a relay agent with this `giaddr`.
    pub fn relayed(mut self, giaddr: Ipv4Addr) -> Self {
        self.giaddr = Some(giaddr);
        self
    }

    fn message(&self, xid: u32, kind: MessageType, offer: Option<&RawReply>) -> Message {
        let mut m = Message::new_with_id(
            xid,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            self.giaddr.unwrap_or(Ipv4Addr::UNSPECIFIED),
            &self.mac,
        );
        m.set_opcode(Opcode::BootRequest)
            .set_flags(Flags::default().set_broadcast());
        if self.giaddr.is_some() {
            m.set_hops(1);
        }
        let o = m.opts_mut();
        o.insert(DhcpOption::MessageType(kind));
        if let Some(offer) = offer {
            o.insert(DhcpOption::RequestedIpAddress(offer.yiaddr));
            if let Some(id) = offer.server_id() {
                o.insert(DhcpOption::ServerIdentifier(id));
            }
        }
        for (code, value) in &self.options {
            o.insert(DhcpOption::Unknown(UnknownOption::new(
                OptionCode::from(*code),
                value.clone(),
            )));
        }
        m
    }
}

/// A reply as it came off the wire: the BOOTP fields and every option's
/// bytes (repeated instances concatenated, RFC 3396).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawReply {
    /// `op`.
    pub op: u8,
    /// `flags`.
    pub flags: u16,
    /// `ciaddr`.
    pub ciaddr: Ipv4Addr,
    /// `yiaddr`.
    pub yiaddr: Ipv4Addr,
    /// `siaddr`.
    pub siaddr: Ipv4Addr,
    /// `giaddr`.
    pub giaddr: Ipv4Addr,
    /// `sname` up to its first NUL (empty if overloaded with options).
    pub sname: String,
    /// `file` up to its first NUL (empty if overloaded with options).
    pub file: String,
    /// Options by code.
    pub options: BTreeMap<u8, Vec<u8>>,
}

impl RawReply {
    /// Parses a BOOTREPLY; `None` if it is not a well-formed DHCP message.
    pub fn parse(b: &[u8]) -> Option<Self> {
        if b.len() < 240 || b[236..240] != [99, 130, 83, 99] {
            return None;
        }
        let ip = |at: usize| Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3]);
        let text = |f: &[u8]| {
            let end = f.iter().position(|&c| c == 0).unwrap_or(f.len());
            String::from_utf8_lossy(&f[..end]).into_owned()
        };
        let mut options = BTreeMap::new();
        parse_options(&b[240..], &mut options)?;
        let overload = options
            .get(&52)
            .and_then(|v| v.first())
            .copied()
            .unwrap_or(0);
        let (mut sname, mut file) = (text(&b[44..108]), text(&b[108..236]));
        if overload & 1 != 0 {
            parse_options(&b[108..236], &mut options)?;
            file.clear();
        }
        if overload & 2 != 0 {
            parse_options(&b[44..108], &mut options)?;
            sname.clear();
        }
        Some(Self {
            op: b[0],
            flags: u16::from_be_bytes([b[10], b[11]]),
            ciaddr: ip(12),
            yiaddr: ip(16),
            siaddr: ip(20),
            giaddr: ip(24),
            sname,
            file,
            options,
        })
    }

    /// The message type (option 53).
    pub fn message_type(&self) -> Option<u8> {
        self.options.get(&53).and_then(|v| v.first()).copied()
    }

    /// The server identifier (option 54).
    pub fn server_id(&self) -> Option<Ipv4Addr> {
        let v = self.options.get(&54)?;
        (v.len() == 4).then(|| Ipv4Addr::new(v[0], v[1], v[2], v[3]))
    }

    /// The lease time (option 51).
    pub fn lease_time(&self) -> Option<u32> {
        let v = self.options.get(&51)?;
        (v.len() == 4).then(|| u32::from_be_bytes([v[0], v[1], v[2], v[3]]))
    }
}

fn parse_options(mut b: &[u8], out: &mut BTreeMap<u8, Vec<u8>>) -> Option<()> {
    while let Some((&code, rest)) = b.split_first() {
        match code {
            0 => b = rest,
            255 => return Some(()),
            _ => {
                let (&len, rest) = rest.split_first()?;
                let len = usize::from(len);
                if rest.len() < len {
                    return None;
                }
                out.entry(code).or_default().extend_from_slice(&rest[..len]);
                b = &rest[len..];
            }
        }
    }
    Some(())
}

/// What a probe got: the OFFER, and the ACK (or NAK) to its REQUEST.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The first OFFER.
    pub offer: Option<RawReply>,
    /// The reply to the selecting REQUEST.
    pub ack: Option<RawReply>,
}

/// Runs `probe` from `host` (interface `iface` for broadcasts) against
/// `server`: a relayed probe unicasts to it, and only replies whose server
/// identifier is `server` are taken (a failover partner may answer too).
/// Waits up to `timeout` for each reply (the DISCOVER and REQUEST are sent
/// again every second meanwhile).
pub fn exchange(
    lab: &Lab,
    host: &str,
    iface: &str,
    server: Ipv4Addr,
    probe: &Probe,
    timeout: Duration,
) -> Result<Outcome> {
    let ns = lab.namespace(host)?.to_owned();
    let iface = iface.to_owned();
    let probe = probe.clone();
    netns::in_namespace(&ns, move || {
        let mut link = Link::open(&iface, &probe, server)?;
        let xid = u32::from_be_bytes([probe.mac[2], probe.mac[3], probe.mac[4], probe.mac[5]]);
        let mut out = Outcome::default();
        let discover = probe.message(xid, MessageType::Discover, None);
        out.offer = link.ask(&discover, xid, 2, server, timeout)?;
        if let Some(offer) = &out.offer {
            let request = probe.message(xid, MessageType::Request, Some(offer));
            out.ack = link.ask(&request, xid, 5, server, timeout)?;
        }
        Ok(out)
    })
}

/// Sends one DHCPRELEASE (`ciaddr` = `addr`) or DHCPDECLINE (option 50 =
/// `addr`), `kind`, for a relayed `probe` (its options, client identifier
/// included, as in its DISCOVER) to `server`, from the relay host `host`;
/// no reply is expected.
pub fn send_final(
    lab: &Lab,
    host: &str,
    server: Ipv4Addr,
    probe: &Probe,
    addr: Ipv4Addr,
    kind: MessageType,
) -> Result<()> {
    let Some(giaddr) = probe.giaddr else {
        return Err(Error::NoResult(format!(
            "{kind:?}: only relayed probes send it"
        )));
    };
    let ns = lab.namespace(host)?.to_owned();
    let probe = probe.clone();
    netns::in_namespace(&ns, move || {
        let xid = u32::from_be_bytes([probe.mac[2], probe.mac[3], probe.mac[4], probe.mac[5]]) ^ 1;
        let mut m = probe.message(xid, kind, None);
        m.set_flags(Flags::default());
        if kind == MessageType::Release {
            m.set_ciaddr(addr);
        } else {
            m.opts_mut().insert(DhcpOption::RequestedIpAddress(addr));
        }
        m.opts_mut().insert(DhcpOption::ServerIdentifier(server));
        let mut bytes = Vec::new();
        m.encode(&mut Encoder::new(&mut bytes))
            .map_err(|e| Error::NoResult(format!("encode: {e}")))?;
        relay_socket(giaddr)?
            .send_to(&bytes, SocketAddrV4::new(server, 67))
            .map(drop)
            .map_err(|e| Error::io(format!("unicast to {server}"), e))
    })
}

/// The sockets of one probe.
enum Link {
    Direct(SwarmSockets),
    Relayed(UdpSocket, SocketAddrV4),
}

impl Link {
    fn open(iface: &str, probe: &Probe, server: Ipv4Addr) -> Result<Self> {
        match probe.giaddr {
            None => Ok(Self::Direct(SwarmSockets::open(iface, ReceivePath::Udp)?)),
            Some(giaddr) => Ok(Self::Relayed(
                relay_socket(giaddr)?,
                SocketAddrV4::new(server, 67),
            )),
        }
    }

    /// Sends `m` (again every second) until a reply from `server` of one of
    /// the awaited types (`want`: 2 = OFFER; 5 = ACK, also taking NAK) for
    /// `xid` comes.
    fn ask(
        &mut self,
        m: &Message,
        xid: u32,
        want: u8,
        server: Ipv4Addr,
        timeout: Duration,
    ) -> Result<Option<RawReply>> {
        let mut bytes = Vec::new();
        m.encode(&mut Encoder::new(&mut bytes))
            .map_err(|e| Error::NoResult(format!("encode: {e}")))?;
        let deadline = Instant::now() + timeout;
        let mut next_send = Instant::now();
        let mut buf = [0u8; 1500];
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            if now >= next_send {
                self.send(&bytes)?;
                next_send = now + Duration::from_secs(1);
            }
            let wait = next_send.min(deadline).saturating_duration_since(now);
            let Some(n) = self.recv(&mut buf, wait)? else {
                continue;
            };
            let Some(reply) = RawReply::parse(&buf[..n]) else {
                continue;
            };
            let this_xid = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
            let kind = reply.message_type();
            let wanted = kind == Some(want) || (want == 5 && kind == Some(6));
            if this_xid == xid && reply.op == 2 && wanted && reply.server_id() == Some(server) {
                return Ok(Some(reply));
            }
        }
    }

    fn send(&self, bytes: &[u8]) -> Result<()> {
        match self {
            Self::Direct(s) => s
                .send
                .send_to(bytes, SocketAddrV4::new(Ipv4Addr::BROADCAST, 67))
                .map(drop)
                .map_err(|e| Error::io("broadcast to port 67", e)),
            Self::Relayed(s, server) => s
                .send_to(bytes, server)
                .map(drop)
                .map_err(|e| Error::io(format!("unicast to {server}"), e)),
        }
    }

    fn recv(&mut self, buf: &mut [u8], wait: Duration) -> Result<Option<usize>> {
        match self {
            Self::Direct(s) => s.recv(buf, wait),
            Self::Relayed(s, _) => recv_udp(s, buf, wait),
        }
    }
}

/// A relay agent's socket: UDP on `giaddr`:67, where servers send their
/// replies to relayed requests. Must be called inside the relay's namespace.
pub(crate) fn relay_socket(giaddr: Ipv4Addr) -> Result<UdpSocket> {
    let ctx = |what: &str| format!("relay socket {giaddr}:67: {what}");
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))
        .map_err(|e| Error::io(ctx("socket"), e))?;
    s.set_reuse_address(true)
        .map_err(|e| Error::io(ctx("SO_REUSEADDR"), e))?;
    s.bind(&SocketAddrV4::new(giaddr, 67).into())
        .map_err(|e| Error::io(ctx("bind"), e))?;
    Ok(s.into())
}

/// One datagram from `s` within `wait`: its length, or `None` on timeout.
pub(crate) fn recv_udp(s: &UdpSocket, buf: &mut [u8], wait: Duration) -> Result<Option<usize>> {
    s.set_read_timeout(Some(wait.max(Duration::from_millis(1))))
        .map_err(|e| Error::io("set_read_timeout", e))?;
    match s.recv_from(buf) {
        Ok((n, _)) => Ok(Some(n)),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(Error::io("recv on port 67", e)),
    }
}

/// Hex bytes, `01:02:ff`.
pub fn hex(v: &[u8]) -> String {
    let mut s = String::new();
    for (i, b) in v.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// An option value for a table: text when it is printable, hex otherwise.
pub fn show_value(v: &[u8]) -> String {
    if !v.is_empty() && v.iter().all(|&c| (0x20..0x7f).contains(&c)) {
        format!("\"{}\"", String::from_utf8_lossy(v))
    } else {
        hex(v)
    }
}

/// The differences between two replies, one line each (empty: the same).
/// `yiaddr` is compared only when `same_address` (a reservation); the
/// option codes in `skip` are not compared.
pub fn differences(a: &RawReply, b: &RawReply, same_address: bool, skip: &[u8]) -> Vec<String> {
    let mut d = Vec::new();
    let mut field = |name: &str, x: String, y: String| {
        if x != y {
            d.push(format!("{name}: {x} | {y}"));
        }
    };
    field("op", a.op.to_string(), b.op.to_string());
    field(
        "flags",
        format!("{:#06x}", a.flags),
        format!("{:#06x}", b.flags),
    );
    field("ciaddr", a.ciaddr.to_string(), b.ciaddr.to_string());
    if same_address {
        field("yiaddr", a.yiaddr.to_string(), b.yiaddr.to_string());
    }
    field("siaddr", a.siaddr.to_string(), b.siaddr.to_string());
    field("giaddr", a.giaddr.to_string(), b.giaddr.to_string());
    field("sname", a.sname.clone(), b.sname.clone());
    field("file", a.file.clone(), b.file.clone());
    let codes: std::collections::BTreeSet<u8> =
        a.options.keys().chain(b.options.keys()).copied().collect();
    for code in codes {
        if skip.contains(&code) {
            continue;
        }
        let show = |r: &RawReply| r.options.get(&code).map_or("-".into(), |v| show_value(v));
        field(&format!("option {code}"), show(a), show(b));
    }
    d
}

/// One line of a comparison table: the address, siaddr, file, lease time
/// and option codes of the ACK (or the OFFER when there was no ACK).
pub fn summary(o: &Outcome) -> String {
    let Some(a) = o.ack.as_ref().or(o.offer.as_ref()) else {
        return "(silent)".into();
    };
    let codes: Vec<String> = a.options.keys().map(u8::to_string).collect();
    format!(
        "{} siaddr={} file={:?} lease={:?} opts={}",
        a.yiaddr,
        a.siaddr,
        a.file,
        a.lease_time(),
        codes.join(",")
    )
}

/// The reference server's and ours answers to the same clients, compared:
/// `clients` gives each client's name and whether its address is reserved
/// (then `yiaddr` counts too), `reference` names the other server, `skip`
/// the option codes left out. Returns the table (one row per client:
/// both summaries and the differences, or "same") and the names of the
/// clients whose answers differ (or whose reference gave no ACK, so that
/// the row tests nothing).
pub fn comparison(
    clients: &[(String, bool)],
    reference: (&str, &[Outcome]),
    ours: &[Outcome],
    skip: &[u8],
) -> (String, Vec<String>) {
    let (label, theirs) = reference;
    let mut table = format!("client | {label} | ours | differences\n");
    let mut failures = Vec::new();
    for (((name, reserved), r), o) in clients.iter().zip(theirs).zip(ours) {
        let mut diffs = Vec::new();
        for (what, a, b) in [("OFFER", &r.offer, &o.offer), ("ACK", &r.ack, &o.ack)] {
            match (a, b) {
                (Some(a), Some(b)) => {
                    for d in differences(a, b, *reserved, skip) {
                        diffs.push(format!("{what} {d}"));
                    }
                }
                (None, None) => {}
                (a, b) => diffs.push(format!(
                    "{what}: {label} {} | ours {}",
                    if a.is_some() { "answered" } else { "silent" },
                    if b.is_some() { "answered" } else { "silent" }
                )),
            }
        }
        if r.ack.is_none() {
            diffs.push(format!("{label} gave no ACK (the scenario tests nothing)"));
        }
        let verdict = if diffs.is_empty() {
            "same".to_owned()
        } else {
            diffs.join("; ")
        };
        let _ = writeln!(
            table,
            "{name} | {} | {} | {verdict}",
            summary(r),
            summary(o)
        );
        if !diffs.is_empty() {
            failures.push(name.clone());
        }
    }
    (table, failures)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply_bytes() -> Vec<u8> {
        let mut b = vec![0u8; 240];
        b[0] = 2;
        b[16..20].copy_from_slice(&[10, 99, 0, 100]);
        b[108..113].copy_from_slice(b"a.efi");
        b[236..240].copy_from_slice(&[99, 130, 83, 99]);
        // 53 = OFFER, a pad, 51 = 30, option 15 split in two (RFC 3396), end.
        b.extend_from_slice(&[53, 1, 2, 0, 51, 4, 0, 0, 0, 30, 15, 2, b'a', b'b']);
        b.extend_from_slice(&[15, 1, b'c', 255]);
        b
    }

    #[test]
    fn parses_fields_and_concatenates_split_options() {
        let r = RawReply::parse(&reply_bytes()).unwrap();
        assert_eq!(r.message_type(), Some(2));
        assert_eq!(r.lease_time(), Some(30));
        assert_eq!(r.yiaddr, Ipv4Addr::new(10, 99, 0, 100));
        assert_eq!(r.file, "a.efi");
        assert_eq!(r.options[&15], b"abc");
    }

    #[test]
    fn refuses_truncated_options_and_short_packets() {
        let mut b = reply_bytes();
        b.truncate(b.len() - 3);
        b.push(60);
        b.push(9);
        assert!(RawReply::parse(&b).is_none());
        assert!(RawReply::parse(&[2; 100]).is_none());
    }

    #[test]
    fn differences_name_each_field_and_option() {
        let a = RawReply::parse(&reply_bytes()).unwrap();
        let mut b = a.clone();
        b.file = "b.efi".into();
        b.options.insert(210, b"x/".to_vec());
        b.yiaddr = Ipv4Addr::new(10, 99, 0, 101);
        let d = differences(&a, &b, false, &[]);
        assert_eq!(d, ["file: a.efi | b.efi", "option 210: - | \"x/\""]);
        assert_eq!(differences(&a, &b, true, &[210]).len(), 2);
    }
}
