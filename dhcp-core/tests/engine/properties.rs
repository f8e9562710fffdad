//! Property tests over random sequences of client messages from many clients:
//! no address is ever bound to two clients, every ACKed address is inside a
//! configured range or reservation, and random bytes never panic the decoder.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use crate::common::*;
use dhcp_core::lease::BindingState;
use dhcp_core::packet::{MAGIC, decode_reply, decode_request};
use dhcp_core::policy::Standalone;
use dhcproto::v4::{DhcpOption, MessageType};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Step {
    Discover(u32),
    SelectOffered(u32),
    SelectRandom(u32, u8),
    InitReboot(u32, u8),
    Renew(u32),
    RenewRandom(u32, u8),
    Release(u32),
    Decline(u32),
    Advance(u32),
    Relayed(u32),
}

fn step() -> impl Strategy<Value = Step> {
    let c = 0u32..12;
    prop_oneof![
        4 => c.clone().prop_map(Step::Discover),
        4 => c.clone().prop_map(Step::SelectOffered),
        1 => (c.clone(), any::<u8>()).prop_map(|(c, a)| Step::SelectRandom(c, a)),
        1 => (c.clone(), any::<u8>()).prop_map(|(c, a)| Step::InitReboot(c, a)),
        2 => c.clone().prop_map(Step::Renew),
        1 => (c.clone(), any::<u8>()).prop_map(|(c, a)| Step::RenewRandom(c, a)),
        1 => c.clone().prop_map(Step::Release),
        1 => c.clone().prop_map(Step::Decline),
        2 => (1u32..400).prop_map(Step::Advance),
        2 => c.prop_map(Step::Relayed),
    ]
}

fn in_config(a: Ipv4Addr) -> bool {
    let o = a.octets();
    (o[..3] == [10, 99, 0] && (100..=109).contains(&o[3]))
        || (o[..3] == [10, 99, 1] && (100..=104).contains(&o[3]))
        || a == Ipv4Addr::new(10, 99, 0, 50)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn no_address_is_bound_to_two_clients(steps in proptest::collection::vec(step(), 1..120)) {
        let mut e = engine();
        let p = Standalone;
        let mut now = 1_800_000_000u32;
        let mut offered: HashMap<u32, Ipv4Addr> = HashMap::new();
        let mut acked: HashMap<u32, Ipv4Addr> = HashMap::new();
        // Address -> (client, expiry) as told to clients by ACKs.
        let mut told: HashMap<Ipv4Addr, (u32, u32)> = HashMap::new();
        for s in steps {
            let (client, m) = match s {
                Step::Discover(c) => (c, msg(MessageType::Discover, c)),
                Step::Relayed(c) => (c, relayed(msg(MessageType::Discover, c))),
                Step::SelectOffered(c) => match offered.get(&c) {
                    Some(a) => (c, selecting(c, *a, SERVER)),
                    None => continue,
                },
                Step::SelectRandom(c, a) => (c, selecting(c, Ipv4Addr::new(10, 99, 0, 95 + a % 20), SERVER)),
                Step::InitReboot(c, a) => (c, init_reboot(c, Ipv4Addr::new(10, 99, a % 2, 95 + a % 20))),
                Step::Renew(c) => match acked.get(&c) {
                    Some(a) => (c, renewing(c, *a)),
                    None => continue,
                },
                Step::RenewRandom(c, a) => (c, renewing(c, Ipv4Addr::new(10, 99, 0, 95 + a % 20))),
                Step::Release(c) => match acked.get(&c) {
                    Some(a) => {
                        let mut m = with(msg(MessageType::Release, c), DhcpOption::ServerIdentifier(SERVER));
                        m.set_ciaddr(*a);
                        (c, m)
                    }
                    None => continue,
                },
                Step::Decline(c) => match acked.get(&c) {
                    Some(a) => (c, with(with(msg(MessageType::Decline, c), DhcpOption::RequestedIpAddress(*a)), DhcpOption::ServerIdentifier(SERVER))),
                    None => continue,
                },
                Step::Advance(dt) => {
                    now += dt;
                    e.tick(&p, now);
                    continue;
                }
            };
            let o = run(&mut e, &m, now);
            match o.reply.as_ref().map(|r| (r.msg_type, r.msg.yiaddr())) {
                Some((MessageType::Offer, a)) => {
                    prop_assert!(in_config(a), "offered {a} outside the configuration");
                    offered.insert(client, a);
                }
                Some((MessageType::Ack, a)) if !a.is_unspecified() => {
                    prop_assert!(in_config(a), "acked {a} outside the configuration");
                    if let Some((other, until)) = told.get(&a) {
                        prop_assert!(*other == client || *until <= now,
                            "{a} acked to client {client} while client {other} holds it until {until} (now {now})");
                    }
                    let lt = o.lease_time.unwrap_or(0);
                    // A client that moves to a new address gives up its old one.
                    told.retain(|_, (c, _)| *c != client);
                    told.insert(a, (client, now + lt));
                    acked.insert(client, a);
                }
                _ => {}
            }
            if matches!(o.verdict, dhcp_core::engine::Verdict::Released | dhcp_core::engine::Verdict::Declined)
                && let Some(a) = acked.remove(&client) {
                    told.remove(&a);
                }
            // The table agrees: one active binding per address, one address per client.
            let mut owners: HashMap<_, Ipv4Addr> = HashMap::new();
            for l in e.table().iter().filter(|l| l.state == BindingState::Active && l.ends > now) {
                let k = l.client.clone().expect("active lease has a client");
                prop_assert!(owners.insert(k, l.addr).is_none(), "a client holds two active leases");
            }
        }
    }

    #[test]
    fn random_bytes_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = decode_request(&bytes);
    }

    /// Well-formed headers with random options, and random `sname`/`file`
    /// contents that option 52 may point the decoders at: requests and
    /// replies alike are refused or decoded, never a panic.
    #[test]
    fn random_options_and_overloaded_fields_never_panic_the_decoders(
        opts in proptest::collection::vec(any::<u8>(), 0..400),
        sname in proptest::collection::vec(any::<u8>(), 64),
        file in proptest::collection::vec(any::<u8>(), 128),
        overload in 0u8..=4,
    ) {
        let mut b = vec![0u8; 240];
        b[..3].copy_from_slice(&[2, 1, 6]);
        b[44..108].copy_from_slice(&sname);
        b[108..236].copy_from_slice(&file);
        b[236..240].copy_from_slice(&MAGIC);
        b.extend_from_slice(&[53, 1, 2, 52, 1, overload]);
        b.extend_from_slice(&opts);
        let _ = decode_reply(&b);
        b[0] = 1;
        b[242] = 1;
        let _ = decode_request(&b);
    }

    #[test]
    fn mutated_requests_never_panic(idx in 0usize..400, val in any::<u8>(), cut in 200usize..400) {
        let m = with(with(msg(MessageType::Request, 1), DhcpOption::RequestedIpAddress(Ipv4Addr::new(10, 99, 0, 100))),
            DhcpOption::Hostname("client-one".into()));
        let mut b = dhcproto::Encodable::to_vec(&m).unwrap();
        b.resize(400, 0);
        b[idx] = val;
        b.truncate(cut);
        if let Ok(req) = decode_request(&b) {
            let mut e = engine();
            let _ = e.handle(&Standalone, &req, &info(), 1_800_000_000);
        }
    }
}
