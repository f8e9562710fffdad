//! Building replies: header fields, options by scope and parameter request
//! list, and the destination rules of RFC 2131 §4.1.

use std::net::Ipv4Addr;

use dhcproto::v4::{
    DhcpOption, Flags, HType, Message, MessageType, Opcode, OptionCode, UnknownOption,
};

use crate::config::{OptionSet, OptionValue, TIMER_CODES};
use crate::lease::HwAddr;
use crate::packet::{self, DEFAULT_MAX_REPLY_LEN, EncodeError};
use crate::pxe::BootSelection;

/// Where a reply goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// To the relay agent at `giaddr`, server port 67.
    Relay(Ipv4Addr),
    /// To the client's configured address (`ciaddr`), client port 68.
    Unicast(Ipv4Addr),
    /// Limited broadcast (255.255.255.255:68) on the receiving interface.
    Broadcast,
    /// To `ip`:68 at link-layer address `hw`: the client has no address yet and
    /// did not ask for broadcast. Needs a layer-2 send or an ARP entry.
    Hardware {
        /// The address being offered (`yiaddr`).
        ip: Ipv4Addr,
        /// The client's hardware address.
        hw: HwAddr,
    },
}

impl Destination {
    /// RFC 2131 §4.1 for OFFER and ACK.
    pub fn for_reply(req: &Message, yiaddr: Ipv4Addr) -> Self {
        if !req.giaddr().is_unspecified() {
            Destination::Relay(req.giaddr())
        } else if !req.ciaddr().is_unspecified() {
            Destination::Unicast(req.ciaddr())
        } else if req.flags().broadcast() || yiaddr.is_unspecified() {
            Destination::Broadcast
        } else {
            Destination::Hardware {
                ip: yiaddr,
                hw: HwAddr {
                    htype: u8::from(req.htype()),
                    addr: req.chaddr().to_vec(),
                },
            }
        }
    }

    /// RFC 2131 §4.1 for NAK: to the relay (with the broadcast bit set) or broadcast.
    pub fn for_nak(req: &Message) -> Self {
        if !req.giaddr().is_unspecified() {
            Destination::Relay(req.giaddr())
        } else {
            Destination::Broadcast
        }
    }
}

/// A reply ready to send.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The message as sent: every option it holds is in `bytes` (some
    /// perhaps in `file`/`sname`, option 52), optional ones that did not fit
    /// the client's size limit even so having been removed.
    pub msg: Message,
    /// The encoded datagram (at least 300 bytes).
    pub bytes: Vec<u8>,
    /// Where it goes.
    pub dest: Destination,
    /// Its DHCP message type.
    pub msg_type: MessageType,
}

/// The reply header: echoes the request's transaction fields.
pub fn header(req: &Message, yiaddr: Ipv4Addr, siaddr: Ipv4Addr) -> Message {
    let mut m = Message::new_with_id(
        req.xid(),
        Ipv4Addr::UNSPECIFIED,
        yiaddr,
        siaddr,
        req.giaddr(),
        req.chaddr(),
    );
    m.set_opcode(Opcode::BootReply)
        .set_htype(req.htype())
        .set_flags(req.flags())
        .set_hops(0);
    if u8::from(req.htype()) == 0 {
        m.set_htype(HType::Eth);
    }
    m
}

/// A DHCPNAK for `req` from `server_id`, explaining itself in option 56
/// (RFC 2131 table 3): to the relay, else broadcast.
pub fn nak(
    req: &Message,
    server_id: Ipv4Addr,
    message: &str,
    echo_client_id: bool,
) -> Result<Reply, EncodeError> {
    let m = header(req, Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED);
    let empty = OptionSet::default();
    let parts = ReplyParts {
        msg_type: MessageType::Nak,
        server_id,
        lease_time: None,
        options: &empty,
        boot: None,
        host_boot_file: None,
        message: Some(message),
        echo_client_id,
        always_send_timers: false,
    };
    finish(req, m, parts, Destination::for_nak(req))
}

/// What goes into a reply besides the header.
pub struct ReplyParts<'a> {
    /// The message type.
    pub msg_type: MessageType,
    /// Option 54.
    pub server_id: Ipv4Addr,
    /// Lease time (ACK/OFFER for a lease); T1/T2 derive from it.
    pub lease_time: Option<u32>,
    /// Options in scope for the client.
    pub options: &'a OptionSet,
    /// Boot selection, if any.
    pub boot: Option<&'a BootSelection>,
    /// Host-specific boot file (overrides `boot`).
    pub host_boot_file: Option<&'a str>,
    /// Error text for a NAK (option 56).
    pub message: Option<&'a str>,
    /// Return the client's option 61 (RFC 6842).
    pub echo_client_id: bool,
    /// Send configured T1/T2 whether or not the client asks for them.
    pub always_send_timers: bool,
}

/// The subnet selection option (RFC 3011).
pub const SUBNET_SELECTION: u8 = 118;

/// Adds options to `m` and encodes it within the client's size limit.
pub fn finish(
    req: &Message,
    mut m: Message,
    parts: ReplyParts<'_>,
    dest: Destination,
) -> Result<Reply, EncodeError> {
    // The parameter request list as bytes, on the stack (this runs for
    // every reply).
    let mut prl_buf = [0u8; 255];
    let prl: Option<&[u8]> = match req.opts().get(OptionCode::ParameterRequestList) {
        Some(DhcpOption::ParameterRequestList(codes)) => {
            let n = codes.len().min(prl_buf.len());
            for (slot, c) in prl_buf.iter_mut().zip(codes) {
                *slot = u8::from(*c);
            }
            Some(&prl_buf[..n])
        }
        _ => None,
    };
    let forced: &[u8] = parts.boot.map_or(&[], |b| b.force_options.as_slice());
    let timers = parts.always_send_timers;
    let wanted = |code: u8| {
        forced.contains(&code)
            || (timers && TIMER_CODES.contains(&code))
            || prl.is_none_or(|p| p.contains(&code))
    };
    let opts = m.opts_mut();
    opts.insert(DhcpOption::MessageType(parts.msg_type));
    opts.insert(DhcpOption::ServerIdentifier(parts.server_id));
    let mut droppable: Vec<OptionCode> = Vec::new();
    if parts.msg_type == MessageType::Nak {
        if let Some(text) = parts.message {
            opts.insert(DhcpOption::Message(text.to_owned()));
        }
    } else {
        if let Some(lt) = parts.lease_time {
            opts.insert(DhcpOption::AddressLeaseTime(lt));
            // T1 and T2 (58, 59) are not sent unless configured, as neither
            // ISC dhcpd nor Kea sends them unconfigured: the client then
            // uses the RFC 2131 §4.4.5 defaults (0.5 and 0.875 of the lease).
        }
        let o = parts.options;
        // The mask goes with every lease; without one (a DHCPINFORM
        // ACK) only when asked for, as ISC dhcpd and Kea do.
        if let Some(mask) = o.subnet_mask
            && (parts.lease_time.is_some() || wanted(1))
        {
            opts.insert(DhcpOption::SubnetMask(mask));
        }
        let mut add = |code: u8, opt: DhcpOption| {
            if wanted(code) {
                opts.insert(opt);
                droppable.push(OptionCode::from(code));
            }
        };
        if let Some(v) = &o.routers {
            add(3, DhcpOption::Router(v.clone()));
        }
        if let Some(v) = &o.dns_servers {
            add(6, DhcpOption::DomainNameServer(v.clone()));
        }
        if let Some(v) = &o.domain_name {
            add(15, DhcpOption::DomainName(v.clone()));
        }
        if let Some(v) = o.mtu {
            add(26, DhcpOption::InterfaceMtu(v));
        }
        if let Some(v) = o.broadcast_address {
            add(28, DhcpOption::BroadcastAddr(v));
        }
        if let Some(v) = &o.ntp_servers {
            add(42, DhcpOption::NtpServers(v.clone()));
        }
        if let Some(v) = &o.domain_search {
            let names: Vec<_> = v.iter().filter_map(|n| n.parse().ok()).collect();
            if !names.is_empty() {
                add(119, DhcpOption::DomainSearch(names));
            }
        }
        for c in &o.custom {
            // A configured T1 or T2 goes out only while shorter than the
            // lease (RFC 2131 §4.4.5: T1 < T2 < lease), e.g. not with a 30 s
            // PXE lease under a 300 s renewal time.
            if let OptionValue::U32(t) = c.value
                && TIMER_CODES.contains(&c.code)
                && parts.lease_time.is_none_or(|lt| t >= lt)
            {
                continue;
            }
            if let Some(data) = c.value.to_bytes() {
                add(
                    c.code,
                    DhcpOption::Unknown(UnknownOption::new(OptionCode::from(c.code), data)),
                );
            }
        }
        let boot_file = parts
            .host_boot_file
            .or_else(|| parts.boot.and_then(|b| b.filename.as_deref()));
        if let Some(file) = boot_file {
            if file.len() < 128 {
                m.set_fname_str(file);
            }
            // The boot file goes in the BOOTP `file` field; option 67 only
            // when it does not fit there (ISC dhcpd's `filename` and Kea's
            // `boot-file-name` behave alike; an explicit option 67 is a
            // configured option).
            if file.len() >= 128 {
                m.opts_mut()
                    .insert(DhcpOption::BootfileName(file.as_bytes().to_vec()));
            }
        }
        if let Some(b) = parts.boot {
            if let Some(prefix) = &b.path_prefix
                && wanted(210)
            {
                m.opts_mut().insert(DhcpOption::Unknown(UnknownOption::new(
                    OptionCode::from(210),
                    prefix.as_bytes().to_vec(),
                )));
            }
            if let Some(v) = &b.vendor_options
                && wanted(125)
            {
                m.opts_mut().insert(DhcpOption::Unknown(UnknownOption::new(
                    OptionCode::from(125),
                    v.clone(),
                )));
            }
            if let Some(vc) = &b.vendor_class {
                m.opts_mut()
                    .insert(DhcpOption::ClassIdentifier(vc.as_bytes().to_vec()));
            }
        }
    }
    if let Some(ri) = req.opts().get(OptionCode::RelayAgentInformation) {
        m.opts_mut().insert(ri.clone());
    }
    // RFC 3011 3: a subnet selection option comes back unaltered, asked
    // for or not.
    if let Some(sel) = req.opts().get(OptionCode::from(SUBNET_SELECTION)) {
        m.opts_mut().insert(sel.clone());
    }
    // RFC 6842: a client identifier comes back unaltered, NAKs included, so
    // that a client can tell its replies from those of another client with
    // the same hardware address (unless turned off, as ISC dhcpd's
    // `echo-client-id` is by default).
    if parts.echo_client_id
        && let Some(id) = req.opts().get(OptionCode::ClientIdentifier)
    {
        m.opts_mut().insert(id.clone());
    }
    if parts.msg_type == MessageType::Nak && !req.giaddr().is_unspecified() {
        m.set_flags(Flags::default().set_broadcast());
    }
    // Drop optional options from the end of the client's list first.
    if let Some(p) = &prl {
        droppable.sort_by_key(|c| {
            p.iter()
                .position(|x| *x == u8::from(*c))
                .unwrap_or(usize::MAX)
        });
    }
    let max_len = match req.opts().get(OptionCode::MaxMessageSize) {
        Some(DhcpOption::MaxMessageSize(n)) if usize::from(*n) >= 576 => {
            (usize::from(*n) - 28).min(1472)
        }
        _ => DEFAULT_MAX_REPLY_LEN,
    };
    let mut bytes = Vec::with_capacity(packet::MIN_REPLY_LEN);
    packet::encode_reply(&mut m, max_len, &droppable, &mut bytes)?;
    Ok(Reply {
        msg: m,
        bytes,
        dest,
        msg_type: parts.msg_type,
    })
}
