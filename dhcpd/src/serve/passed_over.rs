//! Requests passed over for the failover partner, kept a moment in case the
//! partner dies before answering them.
//!
//! In NORMAL, load balancing leaves about half the clients to the partner:
//! this server ignores their DISCOVERs (and their other requests the
//! partner answers), and every REQUEST naming the partner. A client whose DISCOVER reached the partner just
//! before it was killed gets no answer from either server and waits for its
//! own retransmission, 4 s or more with RFC 2131's timers. So the engine
//! task keeps the requests it passed over for [`KEEP`]; when a relationship
//! loses its partner (NORMAL to COMMUNICATIONS-INTERRUPTED or PARTNER-DOWN,
//! where this server answers every client), it answers the ones still
//! kept at once: a REQUEST naming the partner (its client took the
//! partner's OFFER) with a DHCPNAK, so that the client starts over now
//! rather than after its retransmission, and the rest by running them
//! through the engine again. A request the partner did answer is harmless
//! to answer again: the client takes one OFFER, and a client the partner
//! acknowledged is BOUND and ignores a NAK.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::serve::transaction::Inbound;

/// How long a passed-over request is kept: longer than the partner takes to
/// answer, far shorter than a client's retransmission.
pub const KEEP: Duration = Duration::from_millis(1500);
/// At most this many are kept (the oldest go first).
pub const MAX_KEPT: usize = 8192;

/// The requests passed over for the partner, oldest first.
#[derive(Debug, Default)]
pub struct PassedOver {
    kept: VecDeque<(Instant, Inbound)>,
    due: bool,
}

impl PassedOver {
    /// Notes that a relationship lost its partner: the kept requests are
    /// to run again ([`Self::take_due`]).
    pub fn partner_lost(&mut self) {
        self.due = true;
    }

    /// The kept requests to run again, once after [`Self::partner_lost`].
    pub fn take_due(&mut self, now: Instant) -> Option<Vec<Inbound>> {
        if !std::mem::take(&mut self.due) {
            return None;
        }
        Some(self.take(now))
    }

    /// Keeps `req`, passed over at `now`.
    pub fn keep(&mut self, now: Instant, req: Inbound) {
        self.expire(now);
        if self.kept.len() >= MAX_KEPT {
            self.kept.pop_front();
        }
        self.kept.push_back((now, req));
    }

    /// Drops what is older than [`KEEP`].
    fn expire(&mut self, now: Instant) {
        while self
            .kept
            .front()
            .is_some_and(|(t, _)| now.saturating_duration_since(*t) > KEEP)
        {
            self.kept.pop_front();
        }
    }

    /// The requests kept, no older than [`KEEP`], oldest first; none are
    /// kept after.
    pub fn take(&mut self, now: Instant) -> Vec<Inbound> {
        self.expire(now);
        self.kept.drain(..).map(|(_, r)| r).collect()
    }

    /// How many are kept.
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    /// Whether none are kept.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::transaction::Origin;
    use dhcproto::v4::{Message, MessageType, Opcode};
    use std::net::{Ipv4Addr, SocketAddrV4};

    fn inbound(xid: u32, received: Instant) -> Inbound {
        let mut m = Message::new_with_id(
            xid,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            &[0x52, 0x54, 0, 0, 0, 1],
        );
        m.set_opcode(Opcode::BootRequest);
        m.opts_mut()
            .insert(dhcproto::v4::DhcpOption::MessageType(MessageType::Discover));
        let bytes = dhcproto::Encodable::to_vec(&m).expect("encodes");
        Inbound {
            request: dhcp_core::packet::decode_request(&bytes).expect("a DISCOVER"),
            origin: Origin {
                socket: 0,
                ifindex: 1,
                interface: "eth0".into(),
                local_addr: Ipv4Addr::new(10, 99, 0, 2),
                src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
                received,
            },
        }
    }

    #[test]
    fn kept_requests_run_again_once_the_partner_is_lost_and_only_recent_ones() {
        let t0 = Instant::now();
        let mut p = PassedOver::default();
        p.keep(t0, inbound(1, t0));
        p.keep(t0 + Duration::from_millis(900), inbound(2, t0));
        assert_eq!(p.len(), 2);
        // Nothing is due before a partner is lost.
        assert!(p.take_due(t0 + Duration::from_secs(1)).is_none());
        p.partner_lost();
        let again = p.take_due(t0 + Duration::from_millis(2000)).expect("due");
        // The first is older than KEEP by then.
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].request.msg.xid(), 2);
        assert!(p.is_empty());
        assert!(
            p.take_due(t0 + Duration::from_millis(2000)).is_none(),
            "once"
        );
    }

    #[test]
    fn at_most_max_kept_are_kept() {
        let t0 = Instant::now();
        let mut p = PassedOver::default();
        for i in 0..(MAX_KEPT as u32 + 10) {
            p.keep(t0, inbound(i, t0));
        }
        assert_eq!(p.len(), MAX_KEPT);
    }
}
