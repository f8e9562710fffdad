//! Fencing-aware automatic partner-down: evidence from the client link.
//!
//! ISC's `auto-partner-down` takes over the partner's addresses once the
//! failover link has been silent for a while. A silent failover link does not
//! mean a dead partner: it may still be answering clients behind a broken
//! link, and then both servers hand out the same free addresses. With
//! `[failover.fencing]` configured, the server also asks the client link:
//! while in COMMUNICATIONS-INTERRUPTED it sends the partner a relayed
//! DHCPDISCOVER every `interval` seconds ([`probe_datagram`]), with our
//! client-link address as relay address (giaddr), so that the partner's
//! DHCPOFFER comes back to our own server port ([`is_probe_answer`]). Any
//! DHCP server that serves the subnet answers it: in
//! COMMUNICATIONS-INTERRUPTED neither ISC nor we apply load balancing, and
//! `secs` is set far above any `load balance max seconds`.
//!
//! [`Fence`] keeps the outcomes and decides, when the `auto_partner_down`
//! timer expires, whether the partner has been silent on the client link for
//! as long too ([`FenceVerdict`]). It is sans-IO: the driver sends the
//! probes, matches the answers and reports each outcome with the time.
//!
//! What it covers: a partner that is dead or cut from both links, and a
//! partner that is alive on the client link while the failover link is
//! broken (then no takeover, and an alert). What it does not: our own client
//! link being down (every probe is then silent, as it would be if the partner
//! were dead, and we would take over; but then we serve no client either
//! until the link is back), a partner whose pool for the subnet is exhausted
//! (it stays silent to a new client), and a partner alive on another
//! segment of a split client network that our probe cannot reach.

use std::net::Ipv4Addr;

use dhcp_core::lease::UnixTime;
use dhcproto::v4::{self, DhcpOption, Flags, Message, MessageType, Opcode, OptionCode};
use dhcproto::{Decodable, Decoder, Encodable, Encoder};

/// How many unanswered probes, after the last answer, a takeover needs.
pub const SILENT_PROBES_NEEDED: u32 = 2;

/// The `secs` field of a probe: far beyond any `load balance max seconds`,
/// so that a partner applying load balancing answers it all the same.
pub const PROBE_SECS: u16 = 3600;

/// The vendor class (option 60) a probe carries, to be recognisable in the
/// partner's logs.
pub const PROBE_VENDOR_CLASS: &[u8] = b"dhcpd-fencing-probe";

/// Why an automatic partner-down was withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Withheld {
    /// The partner answered a client-link probe less than
    /// `auto_partner_down` seconds ago: it is alive and serving.
    PartnerAnswersClients {
        /// When it last answered.
        last_answer: UnixTime,
    },
    /// Too few probes have gone unanswered since the last answer (or since
    /// the link went down) to call the partner silent: the probes are not
    /// getting out, or have only just started.
    NoProbeEvidence {
        /// Unanswered probes so far.
        silent_probes: u32,
    },
}

impl std::fmt::Display for Withheld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PartnerAnswersClients { .. } => {
                f.write_str("the partner still answers clients on the client link")
            }
            Self::NoProbeEvidence { silent_probes } => write!(
                f,
                "only {silent_probes} client-link probe(s) of the {SILENT_PROBES_NEEDED} needed have gone unanswered"
            ),
        }
    }
}

/// What to do when the `auto_partner_down` timer expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FenceVerdict {
    /// The partner has been silent on both links: go PARTNER-DOWN.
    TakeOver,
    /// Stay in COMMUNICATIONS-INTERRUPTED; decide again at `retry_at`.
    Withhold {
        /// Why.
        reason: Withheld,
        /// When to look again.
        retry_at: UnixTime,
    },
}

/// The client-link evidence of one relationship (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    interval: u32,
    last_answer: Option<UnixTime>,
    silent: u32,
    probes: u64,
    answers: u64,
}

impl Fence {
    /// Evidence for probes sent every `interval` seconds.
    pub fn new(interval: u32) -> Self {
        Self {
            interval: interval.max(1),
            last_answer: None,
            silent: 0,
            probes: 0,
            answers: 0,
        }
    }

    /// Starts a new watch (entering COMMUNICATIONS-INTERRUPTED): earlier
    /// outcomes no longer count.
    pub fn restart(&mut self) {
        self.last_answer = None;
        self.silent = 0;
    }

    /// One probe's outcome at `now`.
    pub fn record(&mut self, now: UnixTime, answered: bool) {
        self.probes += 1;
        if answered {
            self.answers += 1;
            self.last_answer = Some(now);
            self.silent = 0;
        } else {
            self.silent = self.silent.saturating_add(1);
        }
    }

    /// The decision at `now`, once the failover link has been silent for
    /// `after` seconds (`auto_partner_down`).
    pub fn verdict(&self, now: UnixTime, after: u32) -> FenceVerdict {
        if let Some(t) = self.last_answer
            && now < t.saturating_add(after)
        {
            return FenceVerdict::Withhold {
                reason: Withheld::PartnerAnswersClients { last_answer: t },
                retry_at: t.saturating_add(after),
            };
        }
        if self.silent < SILENT_PROBES_NEEDED {
            return FenceVerdict::Withhold {
                reason: Withheld::NoProbeEvidence {
                    silent_probes: self.silent,
                },
                retry_at: now.saturating_add(self.interval),
            };
        }
        FenceVerdict::TakeOver
    }

    /// When the partner last answered a probe in this watch.
    pub fn last_answer(&self) -> Option<UnixTime> {
        self.last_answer
    }

    /// Probes reported and probes answered since start.
    pub fn totals(&self) -> (u64, u64) {
        (self.probes, self.answers)
    }
}

/// The client hardware address of probes from `from`: locally administered
/// (`02:`), then `fd` and our address, so that it is the same for every
/// probe (the partner holds at most one offer for it) and tells which
/// server probed.
pub fn probe_chaddr(from: Ipv4Addr) -> [u8; 6] {
    let o = from.octets();
    [0x02, 0xfd, o[0], o[1], o[2], o[3]]
}

/// A relayed DHCPDISCOVER to the partner, as from a relay agent at `from`
/// (our client-link address), with transaction id `xid`.
pub fn probe_datagram(from: Ipv4Addr, xid: u32) -> Vec<u8> {
    let chaddr = probe_chaddr(from);
    let mut m = Message::new_with_id(
        xid,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        from,
        &chaddr,
    );
    m.set_opcode(Opcode::BootRequest)
        .set_flags(Flags::default())
        .set_secs(PROBE_SECS)
        .set_hops(1);
    let opts = m.opts_mut();
    opts.insert(DhcpOption::MessageType(MessageType::Discover));
    opts.insert(DhcpOption::ClassIdentifier(PROBE_VENDOR_CLASS.to_vec()));
    opts.insert(DhcpOption::ParameterRequestList(vec![
        OptionCode::SubnetMask,
        OptionCode::Router,
    ]));
    let mut buf = Vec::with_capacity(300);
    // Encoding a message built here from fixed fields cannot fail; an
    // empty datagram would only make the probe go unanswered.
    if m.encode(&mut Encoder::new(&mut buf)).is_err() {
        buf.clear();
    }
    buf
}

/// Whether `datagram` is a partner's answer to the probe `xid` sent from
/// `from`: a BOOTREPLY with that transaction id and our probe's hardware
/// address, an OFFER (or a NAK: a server that NAKs is alive too).
pub fn is_probe_answer(datagram: &[u8], xid: u32, from: Ipv4Addr) -> bool {
    // Cheap checks first: op (byte 0) and xid (bytes 4..8).
    if datagram.len() < 240 || datagram[0] != 2 || datagram[4..8] != xid.to_be_bytes() {
        return false;
    }
    let Ok(m) = v4::Message::decode(&mut Decoder::new(datagram)) else {
        return false;
    };
    m.chaddr().get(..6) == Some(&probe_chaddr(from)[..])
        && matches!(
            m.opts().msg_type(),
            Some(MessageType::Offer | MessageType::Nak | MessageType::Ack)
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    const FROM: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 1);

    #[test]
    fn an_answer_within_the_period_withholds_the_takeover() {
        let mut f = Fence::new(2);
        f.record(100, false);
        f.record(102, true);
        f.record(104, false);
        f.record(106, false);
        assert_eq!(
            f.verdict(110, 30),
            FenceVerdict::Withhold {
                reason: Withheld::PartnerAnswersClients { last_answer: 102 },
                retry_at: 132
            }
        );
        assert_eq!(f.verdict(132, 30), FenceVerdict::TakeOver);
    }

    #[test]
    fn silence_needs_probes_that_went_out() {
        let mut f = Fence::new(2);
        assert!(matches!(
            f.verdict(130, 30),
            FenceVerdict::Withhold {
                reason: Withheld::NoProbeEvidence { silent_probes: 0 },
                retry_at: 132
            }
        ));
        f.record(131, false);
        assert!(matches!(f.verdict(132, 30), FenceVerdict::Withhold { .. }));
        f.record(133, false);
        assert_eq!(f.verdict(134, 30), FenceVerdict::TakeOver);
        f.restart();
        assert!(matches!(f.verdict(135, 30), FenceVerdict::Withhold { .. }));
    }

    #[test]
    fn the_probe_is_a_relayed_discover_and_only_its_answer_matches() {
        let d = probe_datagram(FROM, 0xfeed_f00d);
        let m = v4::Message::decode(&mut Decoder::new(&d)).expect("decodes");
        assert_eq!(m.opcode(), Opcode::BootRequest);
        assert_eq!(m.giaddr(), FROM);
        assert_eq!(m.secs(), PROBE_SECS);
        assert_eq!(m.opts().msg_type(), Some(MessageType::Discover));
        assert!(
            !is_probe_answer(&d, 0xfeed_f00d, FROM),
            "a request is no answer"
        );

        let mut offer = m.clone();
        offer
            .set_opcode(Opcode::BootReply)
            .set_yiaddr(Ipv4Addr::new(10, 99, 0, 50));
        offer
            .opts_mut()
            .insert(DhcpOption::MessageType(MessageType::Offer));
        let mut buf = Vec::new();
        offer.encode(&mut Encoder::new(&mut buf)).expect("encodes");
        assert!(is_probe_answer(&buf, 0xfeed_f00d, FROM));
        assert!(!is_probe_answer(&buf, 0xfeed_f00e, FROM), "other xid");
        assert!(
            !is_probe_answer(&buf, 0xfeed_f00d, Ipv4Addr::new(10, 99, 0, 9)),
            "another server's probe"
        );
        assert!(!is_probe_answer(&buf[..100], 0xfeed_f00d, FROM));
    }
}
