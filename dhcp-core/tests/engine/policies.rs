//! The engine under several failover relationships: each pool follows the
//! policy of the relationship it names, pools naming none are standalone,
//! and a relationship without a policy serves nothing and expires nothing.

use crate::common::*;
use dhcp_core::config::Config;
use dhcp_core::engine::{Engine, IgnoreReason, Outcome, Verdict};
use dhcp_core::lease::BindingState;
use dhcp_core::policy::{ByRelationship, Standalone};
use dhcproto::v4::MessageType;

const T0: u32 = 1_800_000_000;

/// The common test configuration with the local network's pool shared by
/// relationship "a"; the relayed subnet's pool names none.
fn engine_with_relationship() -> Engine {
    let text = CONFIG.replace(
        "end = \"10.99.0.109\"",
        "end = \"10.99.0.109\"\nfailover_peer = \"a\"",
    ) + "\n[[failover]]\nname = \"a\"\nrole = \"secondary\"\naddress = \"10.99.0.1\"\npeer_address = \"10.99.0.2\"\n";
    Engine::new(Config::from_toml(&text).expect("valid"))
}

/// DISCOVER then REQUEST for client `i`, relayed or local, under `p`.
fn bind(e: &mut Engine, p: &ByRelationship<Standalone>, i: u32, relay: bool) -> Outcome {
    let via = |m| if relay { relayed(m) } else { m };
    let offer = run_with(e, p, &via(msg(MessageType::Discover, i)), T0);
    if reply_type(&offer) != Some(MessageType::Offer) {
        return offer;
    }
    run_with(e, p, &via(selecting(i, yiaddr(&offer), SERVER)), T0)
}

#[test]
fn each_pool_follows_its_relationships_policy() {
    let mut e = engine_with_relationship();
    assert_eq!(e.relationship_of("10.99.0.100".parse().unwrap()), Some("a"));
    assert_eq!(e.relationship_of("10.99.1.100".parse().unwrap()), None);
    assert_eq!(e.relationship_of("10.99.0.50".parse().unwrap()), None);

    // "a" not running: its network is not served, the standalone one is.
    let none = ByRelationship::<Standalone>::new();
    let o = bind(&mut e, &none, 1, false);
    assert_eq!(o.verdict, Verdict::Ignored(IgnoreReason::NotOurs));
    assert!(o.reply.is_none() && o.writes.is_empty());
    let relayed_ack = bind(&mut e, &none, 2, true);
    assert_eq!(reply_type(&relayed_ack), Some(MessageType::Ack));
    let relayed_addr = yiaddr(&relayed_ack);
    assert_eq!(e.relationship_of(relayed_addr), None);

    // "a" running (here with standalone rules): its network is served.
    let mut with_a = ByRelationship::new();
    with_a.set("a", Standalone);
    let ack = bind(&mut e, &with_a, 1, false);
    assert_eq!(reply_type(&ack), Some(MessageType::Ack));
    let local_addr = yiaddr(&ack);
    assert_eq!(e.relationship_of(local_addr), Some("a"));

    // Expiry follows each lease's own pool: without "a" only the standalone
    // pool's lease runs out; with it, both do.
    let end = T0 + 600;
    assert_eq!(e.next_wakeup(&none), Some(end));
    let w = e.tick(&none, end);
    assert_eq!(w.iter().map(|l| l.addr).collect::<Vec<_>>(), [relayed_addr]);
    assert_eq!(
        e.table().get(relayed_addr).unwrap().state,
        BindingState::Free
    );
    assert_eq!(
        e.table().get(local_addr).unwrap().state,
        BindingState::Active
    );
    let w = e.tick(&with_a, end + 1);
    assert_eq!(w.iter().map(|l| l.addr).collect::<Vec<_>>(), [local_addr]);
    assert_eq!(e.table().get(local_addr).unwrap().state, BindingState::Free);
}
