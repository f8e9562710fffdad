//! `[limits]`: starvation limits on new clients, per relay, link and MAC.
//! The local network has 10 dynamic addresses; a second relay agent on that
//! link (10.99.0.254) floods it with random clients.

use std::net::Ipv4Addr;

use crate::common::*;
use dhcp_core::config::Config;
use dhcp_core::engine::{Engine, IgnoreReason, Verdict};
use dhcp_core::policy::Standalone;
use dhcproto::v4::{DhcpOption, MessageType};

const T0: u32 = 1_800_000_000;
const LINK_RELAY: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 254);

fn engine_with(limits: &str) -> Engine {
    Engine::new(Config::from_toml(&format!("{CONFIG}\n{limits}")).expect("valid"))
}

fn via_link_relay(i: u32) -> dhcproto::v4::Message {
    let mut m = msg(MessageType::Discover, i);
    m.set_giaddr(LINK_RELAY);
    m
}

#[test]
fn one_relays_new_clients_hold_at_most_their_share() {
    let mut e = engine_with("[limits.per_relay]\nmax_share_percent = 50\n");
    let mut verdicts = Vec::new();
    for i in 0..20 {
        verdicts.push(run(&mut e, &via_link_relay(1000 + i), T0).verdict);
    }
    let offered = verdicts
        .iter()
        .filter(|v| **v == Verdict::Replied(MessageType::Offer))
        .count();
    assert_eq!(offered, 5, "{verdicts:?}");
    assert!(
        verdicts[5..]
            .iter()
            .all(|v| *v == Verdict::Ignored(IgnoreReason::ShareLimited))
    );
    // Clients on the link itself still get the other half.
    for i in 0..5 {
        dora(&mut e, i, T0);
    }
    // A flooding client that retransmits keeps its offer (not a new client).
    let again = run(&mut e, &via_link_relay(1000), T0);
    assert_eq!(again.verdict, Verdict::Replied(MessageType::Offer));
    // Once the relay's offers have lapsed, its share is free again.
    e.tick(&Standalone, T0 + 11);
    let later = run(&mut e, &via_link_relay(2000), T0 + 11);
    assert_eq!(later.verdict, Verdict::Replied(MessageType::Offer));
}

#[test]
fn new_clients_per_second_per_relay() {
    let mut e = engine_with("[limits.per_relay]\nnew_per_second = 2\nburst = 3\n");
    let v: Vec<_> = (0..5)
        .map(|i| run(&mut e, &via_link_relay(100 + i), T0).verdict)
        .collect();
    assert_eq!(
        v.iter()
            .filter(|v| **v == Verdict::Ignored(IgnoreReason::RateLimited))
            .count(),
        2,
        "burst of 3: {v:?}"
    );
    // Direct clients are no relay's: not limited.
    for i in 0..3 {
        assert_eq!(
            run(&mut e, &msg(MessageType::Discover, i), T0).verdict,
            Verdict::Replied(MessageType::Offer)
        );
    }
    // One second later: 2 more.
    let v: Vec<_> = (10..13)
        .map(|i| run(&mut e, &via_link_relay(100 + i), T0 + 1).verdict)
        .collect();
    assert_eq!(
        v,
        [
            Verdict::Replied(MessageType::Offer),
            Verdict::Replied(MessageType::Offer),
            Verdict::Ignored(IgnoreReason::RateLimited)
        ]
    );
}

#[test]
fn bound_clients_renew_whatever_the_limits() {
    let mut e = engine_with("[limits.per_link]\nnew_per_second = 1\nburst = 1\n");
    let a = dora(&mut e, 1, T0);
    let limited = run(&mut e, &msg(MessageType::Discover, 2), T0);
    assert_eq!(limited.verdict, Verdict::Ignored(IgnoreReason::RateLimited));
    let renew = run(&mut e, &renewing(1, a), T0 + 5);
    assert_eq!(reply_type(&renew), Some(MessageType::Ack));
    let rediscover = run(&mut e, &msg(MessageType::Discover, 1), T0);
    assert_eq!(yiaddr(&rediscover), a, "a known client is not new");
}

#[test]
fn one_mac_cycling_client_identifiers_is_limited() {
    let mut e = engine_with("[limits.per_mac]\nnew_per_second = 1\nburst = 2\n");
    let v: Vec<_> = (0u8..4)
        .map(|k| {
            let m = with(
                msg(MessageType::Discover, 7),
                DhcpOption::ClientIdentifier(vec![0xff, k]),
            );
            run(&mut e, &m, T0).verdict
        })
        .collect();
    assert_eq!(
        v.iter()
            .filter(|v| **v == Verdict::Replied(MessageType::Offer))
            .count(),
        2,
        "{v:?}"
    );
    // Another MAC is another source.
    assert_eq!(
        run(&mut e, &msg(MessageType::Discover, 8), T0).verdict,
        Verdict::Replied(MessageType::Offer)
    );
}

#[test]
fn limits_are_validated() {
    for (bad, path) in [
        (
            "[limits.per_relay]\nmax_share_percent = 0\n",
            "limits.per_relay.max_share_percent",
        ),
        ("[limits.per_link]\nburst = 3\n", "limits.per_link.burst"),
        ("[limits.per_mac]\n", "limits.per_mac"),
    ] {
        match Config::from_toml(&format!("{CONFIG}\n{bad}")) {
            Err(dhcp_core::config::ConfigError::Invalid { path: p, .. }) => assert_eq!(p, path),
            other => panic!("{bad}: {other:?}"),
        }
    }
}
