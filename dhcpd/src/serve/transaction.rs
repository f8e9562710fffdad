//! What travels between the receive loops, the engine task and the sender:
//! a request with where it came from, and a reply with where it goes; plus the
//! one-line transaction log.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;

use dhcp_core::config::format_hex;
use dhcp_core::engine::{Outcome, Reply, Verdict};
use dhcp_core::packet::Request;
use dhcproto::v4::MessageType;

/// The `tracing` target of the per-transaction log lines (`--quiet` turns it off).
pub const LOG_TARGET: &str = "dhcpd::transaction";

/// Where a request came in.
#[derive(Debug, Clone)]
pub struct Origin {
    /// Index of the receiving socket.
    pub socket: usize,
    /// Kernel index of the receiving interface.
    pub ifindex: u32,
    /// Name of the receiving interface.
    pub interface: Arc<str>,
    /// Our address on that interface (the server identifier).
    pub local_addr: Ipv4Addr,
    /// The datagram's source.
    pub src: SocketAddrV4,
    /// When it was received (for the request→reply latency metric).
    pub received: std::time::Instant,
}

/// A validated request on its way to the engine.
#[derive(Debug)]
pub struct Inbound {
    /// The request.
    pub request: Request,
    /// Where it came from.
    pub origin: Origin,
}

/// A reply on its way out.
#[derive(Debug)]
pub struct Outgoing {
    /// The reply.
    pub reply: Reply,
    /// Where its request came from (decides the socket and source address).
    pub origin: Origin,
    /// The transaction's log line, for a reply that waits for its commit:
    /// logged by the sender once the commit's outcome is known (with the
    /// transaction log enabled; `None` otherwise).
    pub log: Option<String>,
}

/// The DHCP name of a message type (`DHCPDISCOVER`, …).
pub fn type_name(t: MessageType) -> String {
    match t {
        MessageType::Discover => "DHCPDISCOVER".into(),
        MessageType::Offer => "DHCPOFFER".into(),
        MessageType::Request => "DHCPREQUEST".into(),
        MessageType::Decline => "DHCPDECLINE".into(),
        MessageType::Ack => "DHCPACK".into(),
        MessageType::Nak => "DHCPNAK".into(),
        MessageType::Release => "DHCPRELEASE".into(),
        MessageType::Inform => "DHCPINFORM".into(),
        other => format!("DHCP{other:?}").to_uppercase(),
    }
}

/// The transaction log line, e.g. `DHCPDISCOVER from 02:00:00:00:00:01 via
/// eth1 relay 10.99.2.1: DHCPOFFER 10.99.2.100 (600s)`.
pub fn describe(req: &Request, origin: &Origin, out: &Outcome) -> String {
    let mut s = format!(
        "{} from {} via {}",
        type_name(out.request_type),
        format_hex(&out.hw.addr),
        origin.interface
    );
    let giaddr = req.msg.giaddr();
    if !giaddr.is_unspecified() {
        let _ = write!(s, " relay {giaddr}");
    }
    s.push_str(": ");
    match &out.verdict {
        Verdict::Replied(t) => s.push_str(&type_name(*t)),
        Verdict::Released => s.push_str("released"),
        Verdict::Declined => s.push_str("declined, abandoned"),
        Verdict::Ignored(r) => {
            let _ = write!(s, "ignored ({})", r.label());
        }
    }
    if let Some(a) = out.addr.or_else(|| {
        out.reply
            .as_ref()
            .map(|r| r.msg.yiaddr())
            .filter(|a| !a.is_unspecified())
    }) {
        let _ = write!(s, " {a}");
    }
    if let Some(t) = out.lease_time {
        let _ = write!(s, " ({t}s)");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names() {
        assert_eq!(type_name(MessageType::Discover), "DHCPDISCOVER");
        assert_eq!(type_name(MessageType::Nak), "DHCPNAK");
    }
}
