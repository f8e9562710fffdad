//! REQUESTs stranded on a dead partner.
//!
//! A client that took the partner's OFFER broadcasts a SELECTING REQUEST
//! naming the partner (option 54). If the partner dies before its ACK, RFC
//! 2131 has every other server ignore the client's retransmissions, so the
//! client retries the REQUEST with back-off (about 15 s with a 1 s first
//! timeout) before it starts over with DISCOVER — a boot gap for exactly the
//! clients that were mid-exchange at the crash.
//!
//! When this server knows its partner serves no client ([`partner_silent`]:
//! out of contact in COMMUNICATIONS-INTERRUPTED, or PARTNER-DOWN, where a
//! partner that is back is recovering and answers nobody), it answers the
//! *retransmission* of such a REQUEST (same client, same xid, seen at least
//! [`MIN_RETRANSMIT`] earlier) with a DHCPNAK, so the client starts over at
//! once and is served by this server. The first transmission is never
//! NAKed: a live partner (a mere partition) answers that one within
//! milliseconds, and its client then never retransmits.
//!
//! The partner's DHCP server identifier is taken to be its failover address
//! (`peer_address`), as on a rack controller whose failover and DHCP
//! addresses are the same.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use dhcp_core::engine::Reply;
use dhcp_failover::peer::FailoverState;
use dhcproto::v4::{DhcpOption, Message, MessageType, OptionCode};

/// Whether the partner answers no client, so that a REQUEST naming it is
/// stranded: this server in PARTNER-DOWN (the partner is down, or back and
/// recovering: RECOVER and RECOVER-WAIT serve nobody, which is why a
/// partner that lost its disk strands its clients too), or in
/// COMMUNICATIONS-INTERRUPTED with the connection down (`linked` false).
pub fn partner_silent(state: FailoverState, linked: bool) -> bool {
    match state {
        FailoverState::PartnerDown => true,
        FailoverState::CommunicationsInterrupted => !linked,
        _ => false,
    }
}

/// How much later a REQUEST with the same xid counts as a retransmission.
pub const MIN_RETRANSMIT: Duration = Duration::from_millis(500);
/// How long a REQUEST is remembered.
pub const MEMORY: Duration = Duration::from_secs(120);
/// Most REQUESTs remembered (older ones are dropped beyond it).
pub const MAX_REMEMBERED: usize = 16_384;

/// The REQUESTs naming the partner seen recently.
#[derive(Debug)]
pub struct PartnerRequests {
    partner: Ipv4Addr,
    seen: HashMap<(Vec<u8>, u32), Instant>,
}

impl PartnerRequests {
    /// Whether `msg` is a REQUEST naming the partner (option 54).
    pub fn names_partner(&self, msg: &Message) -> bool {
        let is_request = matches!(
            msg.opts().get(OptionCode::MessageType),
            Some(DhcpOption::MessageType(MessageType::Request))
        );
        is_request
            && matches!(
                msg.opts().get(OptionCode::ServerIdentifier),
                Some(DhcpOption::ServerIdentifier(s)) if *s == self.partner
            )
    }

    /// Watches REQUESTs naming `partner`.
    pub fn new(partner: Ipv4Addr) -> Self {
        Self {
            partner,
            seen: HashMap::new(),
        }
    }

    /// Records `msg` if it is a REQUEST naming the partner; returns true when
    /// it is a retransmission that should be NAKed because the partner is
    /// out of contact (`partner_unreachable`).
    pub fn should_nak(&mut self, msg: &Message, partner_unreachable: bool, now: Instant) -> bool {
        if !self.names_partner(msg) {
            return false;
        }
        if self.seen.len() >= MAX_REMEMBERED {
            self.seen
                .retain(|_, t| now.saturating_duration_since(*t) < MEMORY);
            if self.seen.len() >= MAX_REMEMBERED {
                self.seen.clear();
            }
        }
        let key = (msg.chaddr().to_vec(), msg.xid());
        match self.seen.get(&key) {
            Some(first) => {
                partner_unreachable && now.saturating_duration_since(*first) >= MIN_RETRANSMIT
            }
            None => {
                self.seen.insert(key, now);
                false
            }
        }
    }
}

/// A DHCPNAK for `req` from `server_id` (RFC 2131 table 3), or `None` if it
/// cannot be encoded; option 61 returned with `echo_client_id`.
pub fn nak(req: &Message, server_id: Ipv4Addr, echo_client_id: bool) -> Option<Reply> {
    dhcp_core::engine::nak(
        req,
        server_id,
        "the server you selected is down; start over",
        echo_client_id,
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dhcp_core::engine::Destination;
    use dhcproto::v4::Opcode;

    fn request(server: Ipv4Addr, xid: u32) -> Message {
        let mut m = Message::new_with_id(
            xid,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            &[2, 0, 0, 0, 0, 1],
        );
        m.opts_mut()
            .insert(DhcpOption::MessageType(MessageType::Request));
        m.opts_mut().insert(DhcpOption::ServerIdentifier(server));
        m
    }

    #[test]
    fn the_partner_is_silent_out_of_contact_or_when_we_are_partner_down() {
        use FailoverState as S;
        assert!(partner_silent(S::PartnerDown, false));
        // Back with an empty store, in RECOVER: connected, answering nobody.
        assert!(partner_silent(S::PartnerDown, true));
        assert!(partner_silent(S::CommunicationsInterrupted, false));
        assert!(!partner_silent(S::CommunicationsInterrupted, true));
        assert!(!partner_silent(S::Normal, true));
        assert!(!partner_silent(S::Recover, false));
    }

    #[test]
    fn only_retransmissions_to_an_unreachable_partner_are_naked() {
        let partner = Ipv4Addr::new(10, 99, 0, 1);
        let mut w = PartnerRequests::new(partner);
        let t0 = Instant::now();
        let r = request(partner, 7);
        assert!(!w.should_nak(&r, true, t0), "first transmission");
        assert!(!w.should_nak(&r, true, t0 + Duration::from_millis(100)));
        assert!(
            !w.should_nak(&r, false, t0 + Duration::from_secs(2)),
            "partner reachable"
        );
        assert!(w.should_nak(&r, true, t0 + Duration::from_secs(2)));
        let other = request(Ipv4Addr::new(10, 99, 0, 9), 7);
        assert!(!w.should_nak(&other, true, t0));
        assert!(!w.should_nak(&other, true, t0 + Duration::from_secs(2)));
        let fresh = request(partner, 8);
        assert!(!w.should_nak(&fresh, true, t0 + Duration::from_secs(2)));
    }

    #[test]
    fn nak_is_a_broadcast_bootreply() {
        let r = nak(
            &request(Ipv4Addr::new(10, 99, 0, 1), 9),
            Ipv4Addr::new(10, 99, 0, 2),
            true,
        )
        .unwrap();
        assert_eq!(r.msg_type, MessageType::Nak);
        assert_eq!(r.dest, Destination::Broadcast);
        assert!(r.bytes.len() >= 300);
        assert_eq!(r.msg.xid(), 9);
        assert_eq!(r.msg.opcode(), Opcode::BootReply);
    }
}
