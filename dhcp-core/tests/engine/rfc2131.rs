//! RFC 2131 behaviour of the engine, path by path, including every NAK and
//! silence rule, relays, destinations, and time-scripted expiry and offer holds.

use std::net::Ipv4Addr;

use crate::common::*;
use dhcp_core::engine::{Destination, IgnoreReason, Verdict};
use dhcp_core::lease::{BindingState, HwAddr};
use dhcp_core::packet::MIN_REPLY_LEN;
use dhcproto::v4::relay::{RelayAgentInformation, RelayInfo};
use dhcproto::v4::{Architecture, DhcpOption, MessageType, OptionCode};
const T0: u32 = 1_800_000_000;

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

#[test]
fn discover_gets_offer_with_scoped_options_and_no_writes() {
    let mut e = engine();
    let o = run(&mut e, &msg(MessageType::Discover, 1), T0);
    assert_eq!(reply_type(&o), Some(MessageType::Offer));
    assert!(o.writes.is_empty(), "an OFFER commits nothing");
    let r = o.reply.as_ref().unwrap();
    assert_eq!(r.msg.yiaddr(), ip("10.99.0.100"));
    assert_eq!(r.msg.siaddr(), ip("10.99.0.1"));
    assert_eq!(r.msg.xid(), 0x1001);
    assert!(r.bytes.len() >= MIN_REPLY_LEN);
    assert_eq!(
        opt(&o, OptionCode::ServerIdentifier),
        Some(&DhcpOption::ServerIdentifier(SERVER))
    );
    assert_eq!(
        opt(&o, OptionCode::AddressLeaseTime),
        Some(&DhcpOption::AddressLeaseTime(600))
    );
    // T1/T2 are the defaults the client computes itself: not sent unless
    // configured, even when asked for (as ISC dhcpd and Kea).
    assert_eq!(opt(&o, OptionCode::Renewal), None);
    assert_eq!(opt(&o, OptionCode::Rebinding), None);
    let asks = with(
        msg(MessageType::Discover, 2),
        DhcpOption::ParameterRequestList(vec![OptionCode::Renewal, OptionCode::Rebinding]),
    );
    let o2 = run(&mut e, &asks, T0);
    assert_eq!(opt(&o2, OptionCode::Renewal), None);
    assert_eq!(opt(&o2, OptionCode::Rebinding), None);
    assert_eq!(
        opt(&o, OptionCode::SubnetMask),
        Some(&DhcpOption::SubnetMask(ip("255.255.255.0")))
    );
    assert_eq!(
        opt(&o, OptionCode::Router),
        Some(&DhcpOption::Router(vec![ip("10.99.0.254")]))
    );
    assert_eq!(
        opt(&o, OptionCode::DomainNameServer),
        Some(&DhcpOption::DomainNameServer(vec![SERVER]))
    );
    assert_eq!(
        opt(&o, OptionCode::DomainName),
        Some(&DhcpOption::DomainName("lab.test".into()))
    );
}

#[test]
fn offer_is_held_for_its_client_until_the_hold_expires() {
    let mut e = engine();
    let a = yiaddr(&run(&mut e, &msg(MessageType::Discover, 1), T0));
    // The same client asking again gets the same address.
    assert_eq!(
        yiaddr(&run(&mut e, &msg(MessageType::Discover, 1), T0 + 2)),
        a
    );
    // Another client is not offered it while held.
    let b = yiaddr(&run(&mut e, &msg(MessageType::Discover, 2), T0 + 5));
    assert_ne!(a, b);
    // After the 10 s hold a third client may be offered it.
    let c = yiaddr(&run(&mut e, &msg(MessageType::Discover, 3), T0 + 13));
    assert_eq!(c, a);
}

#[test]
fn selecting_request_binds_and_commits() {
    let mut e = engine();
    let a = yiaddr(&run(&mut e, &msg(MessageType::Discover, 1), T0));
    let o = run(&mut e, &selecting(1, a, SERVER), T0 + 1);
    assert_eq!(reply_type(&o), Some(MessageType::Ack));
    assert_eq!(o.writes.len(), 1);
    let l = &o.writes[0];
    assert_eq!(
        (l.addr, l.state, l.ends, l.cltt),
        (a, BindingState::Active, T0 + 601, T0 + 1)
    );
    assert_eq!(l.hw, Some(HwAddr::ethernet(mac(1))));
    assert_eq!(o.lease_time, Some(600));
    assert_eq!(e.table().get(a).unwrap().state, BindingState::Active);
}

#[test]
fn selecting_another_server_is_silent_and_frees_the_offer() {
    let mut e = engine();
    let a = yiaddr(&run(&mut e, &msg(MessageType::Discover, 1), T0));
    let o = run(&mut e, &selecting(1, a, OTHER_SERVER), T0 + 1);
    assert!(o.reply.is_none());
    assert_eq!(o.verdict, Verdict::Ignored(IgnoreReason::OtherServer));
    assert_eq!(
        yiaddr(&run(&mut e, &msg(MessageType::Discover, 2), T0 + 2)),
        a
    );
}

#[test]
fn selecting_an_address_in_use_is_nakked() {
    let mut e = engine();
    let a = dora(&mut e, 1, T0);
    let o = run(&mut e, &selecting(2, a, SERVER), T0 + 1);
    assert_eq!(reply_type(&o), Some(MessageType::Nak));
    assert!(o.writes.is_empty());
    let r = o.reply.unwrap();
    assert_eq!(r.dest, Destination::Broadcast);
    assert_eq!(r.msg.yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert!(r.msg.opts().get(OptionCode::AddressLeaseTime).is_none());
}

#[test]
fn selecting_an_address_offered_to_another_client_is_nakked() {
    let mut e = engine();
    let a = yiaddr(&run(&mut e, &msg(MessageType::Discover, 1), T0));
    let o = run(&mut e, &selecting(2, a, SERVER), T0 + 1);
    assert_eq!(reply_type(&o), Some(MessageType::Nak));
}

#[test]
fn selecting_without_requested_address_is_ignored() {
    let mut e = engine();
    let m = with(
        msg(MessageType::Request, 1),
        DhcpOption::ServerIdentifier(SERVER),
    );
    let o = run(&mut e, &m, T0);
    assert_eq!(o.verdict, Verdict::Ignored(IgnoreReason::Malformed));
}

#[test]
fn init_reboot_rules() {
    let mut e = engine();
    let a = dora(&mut e, 1, T0);
    // Same address: confirmed.
    let o = run(&mut e, &init_reboot(1, a), T0 + 10);
    assert_eq!(reply_type(&o), Some(MessageType::Ack));
    assert_eq!(o.writes[0].ends, T0 + 10 + 600);
    // Wrong network: NAK.
    assert_eq!(
        reply_type(&run(&mut e, &init_reboot(1, ip("10.99.7.7")), T0 + 11)),
        Some(MessageType::Nak)
    );
    // Someone else's address: NAK.
    assert_eq!(
        reply_type(&run(&mut e, &init_reboot(2, a), T0 + 12)),
        Some(MessageType::Nak)
    );
    // A client we have no record of, asking for a free address: silence.
    let o = run(&mut e, &init_reboot(3, ip("10.99.0.105")), T0 + 13);
    assert!(o.reply.is_none());
    assert_eq!(o.verdict, Verdict::Ignored(IgnoreReason::NoRecord));
    // Our client asking for an address it does not hold: NAK (rediscover).
    assert_eq!(
        reply_type(&run(&mut e, &init_reboot(1, ip("10.99.0.106")), T0 + 14)),
        Some(MessageType::Nak)
    );
    // An address on our network outside every pool and reservation: NAK.
    assert_eq!(
        reply_type(&run(&mut e, &init_reboot(1, ip("10.99.0.20")), T0 + 15)),
        Some(MessageType::Nak)
    );
}

#[test]
fn init_reboot_after_expiry_gets_the_old_address_back() {
    let mut e = engine();
    let a = dora(&mut e, 1, T0);
    let writes = e.tick(&dhcp_core::policy::Standalone, T0 + 700);
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].state, BindingState::Free);
    let o = run(&mut e, &init_reboot(1, a), T0 + 800);
    assert_eq!(reply_type(&o), Some(MessageType::Ack));
}

#[test]
fn renewing_and_rebinding() {
    let mut e = engine();
    let a = dora(&mut e, 1, T0);
    // RENEWING: unicast, ciaddr set, answered by unicast.
    let o = run(&mut e, &renewing(1, a), T0 + 300);
    assert_eq!(reply_type(&o), Some(MessageType::Ack));
    assert_eq!(o.reply.as_ref().unwrap().dest, Destination::Unicast(a));
    assert_eq!(o.reply.as_ref().unwrap().msg.ciaddr(), a);
    assert_eq!(o.writes[0].ends, T0 + 900);
    // REBINDING: broadcast, still answered to ciaddr.
    let o = run(&mut e, &broadcast(renewing(1, a)), T0 + 525);
    assert_eq!(reply_type(&o), Some(MessageType::Ack));
    assert_eq!(o.reply.unwrap().dest, Destination::Unicast(a));
    // Renewing someone else's address: NAK.
    assert_eq!(
        reply_type(&run(&mut e, &renewing(2, a), T0 + 530)),
        Some(MessageType::Nak)
    );
    // Renewing a free address we have no record of (a store lost): bound
    // to the client, as ISC and Kea do.
    let o = run(&mut e, &renewing(3, ip("10.99.0.107")), T0 + 531);
    assert_eq!(reply_type(&o), Some(MessageType::Ack));
    assert_eq!(o.writes[0].addr, ip("10.99.0.107"));
    // But not one bound to another client.
    assert_eq!(
        reply_type(&run(&mut e, &renewing(4, ip("10.99.0.107")), T0 + 532)),
        Some(MessageType::Nak)
    );
}

#[test]
fn reply_destinations_follow_rfc2131_4_1() {
    let mut e = engine();
    let o = run(&mut e, &broadcast(msg(MessageType::Discover, 1)), T0);
    assert_eq!(o.reply.unwrap().dest, Destination::Broadcast);
    let o = run(&mut e, &msg(MessageType::Discover, 2), T0);
    match o.reply.unwrap().dest {
        Destination::Hardware { ip, hw } => {
            assert!(ip.octets().starts_with(&[10, 99, 0]));
            assert_eq!(hw, HwAddr::ethernet(mac(2)));
        }
        d => panic!("expected a unicast to chaddr, got {d:?}"),
    }
}

#[test]
fn relayed_requests_use_the_relay_subnet_and_echo_option_82() {
    let mut e = engine();
    let mut ri = RelayAgentInformation::default();
    ri.insert(RelayInfo::AgentCircuitId(b"port7".to_vec()));
    let m = relayed(with(
        msg(MessageType::Discover, 1),
        DhcpOption::RelayAgentInformation(ri.clone()),
    ));
    let o = run(&mut e, &m, T0);
    let r = o.reply.as_ref().unwrap();
    assert_eq!(r.dest, Destination::Relay(RELAY));
    assert_eq!(r.msg.giaddr(), RELAY);
    let a = r.msg.yiaddr();
    assert!(
        (100..=104).contains(&a.octets()[3]) && a.octets()[2] == 1,
        "{a}"
    );
    assert_eq!(
        opt(&o, OptionCode::Router),
        Some(&DhcpOption::Router(vec![RELAY]))
    );
    assert_eq!(
        opt(&o, OptionCode::RelayAgentInformation),
        Some(&DhcpOption::RelayAgentInformation(ri))
    );
    // A relayed NAK goes to the relay with the broadcast bit set.
    let o = run(&mut e, &relayed(init_reboot(1, ip("10.99.0.100"))), T0);
    let r = o.reply.unwrap();
    assert_eq!(r.msg_type, MessageType::Nak);
    assert_eq!(r.dest, Destination::Relay(RELAY));
    assert!(r.msg.flags().broadcast());
}

#[test]
fn release_frees_and_only_for_the_holder() {
    let mut e = engine();
    let a = dora(&mut e, 1, T0);
    // Another client's RELEASE does nothing.
    let mut r2 = with(
        msg(MessageType::Release, 2),
        DhcpOption::ServerIdentifier(SERVER),
    );
    r2.set_ciaddr(a);
    assert_eq!(
        run(&mut e, &r2, T0 + 1).verdict,
        Verdict::Ignored(IgnoreReason::NotBound)
    );
    // A RELEASE to another server does nothing.
    let mut r1 = with(
        msg(MessageType::Release, 1),
        DhcpOption::ServerIdentifier(OTHER_SERVER),
    );
    r1.set_ciaddr(a);
    assert_eq!(
        run(&mut e, &r1, T0 + 1).verdict,
        Verdict::Ignored(IgnoreReason::OtherServer)
    );
    let mut r1 = with(
        msg(MessageType::Release, 1),
        DhcpOption::ServerIdentifier(SERVER),
    );
    r1.set_ciaddr(a);
    let o = run(&mut e, &r1, T0 + 2);
    assert_eq!(o.verdict, Verdict::Released);
    assert!(o.reply.is_none());
    assert_eq!(o.writes[0].state, BindingState::Free);
    // The released client still gets its address back first (stickiness).
    assert_eq!(
        yiaddr(&run(&mut e, &msg(MessageType::Discover, 1), T0 + 3)),
        a
    );
}

#[test]
fn decline_abandons_for_the_configured_time() {
    let mut e = engine();
    let a = dora(&mut e, 1, T0);
    // Without the server identifier (a MUST in RFC 2131 Table 5): dropped,
    // the address stays the client's.
    let bare = with(
        msg(MessageType::Decline, 1),
        DhcpOption::RequestedIpAddress(a),
    );
    let o = run(&mut e, &bare, T0 + 1);
    assert_eq!(o.verdict, Verdict::Ignored(IgnoreReason::Malformed));
    assert!(o.writes.is_empty());
    let m = with(
        with(
            msg(MessageType::Decline, 1),
            DhcpOption::RequestedIpAddress(a),
        ),
        DhcpOption::ServerIdentifier(SERVER),
    );
    let o = run(&mut e, &m, T0 + 1);
    assert_eq!(o.verdict, Verdict::Declined);
    assert_eq!(o.writes[0].state, BindingState::Abandoned);
    assert_eq!(o.writes[0].client, None);
    // The client gets another address now.
    assert_ne!(
        yiaddr(&run(&mut e, &msg(MessageType::Discover, 1), T0 + 2)),
        a
    );
    // After abandon_time the address returns to the pool.
    assert!(e.tick(&dhcp_core::policy::Standalone, T0 + 600).is_empty());
    let w = e.tick(&dhcp_core::policy::Standalone, T0 + 601);
    assert_eq!(w.len(), 1);
    assert_eq!((w[0].addr, w[0].state), (a, BindingState::Free));
}

#[test]
fn inform_gets_options_without_a_lease() {
    let mut e = engine();
    let mut m = msg(MessageType::Inform, 1);
    m.set_ciaddr(ip("10.99.0.30"));
    let o = run(&mut e, &m, T0);
    let r = o.reply.as_ref().unwrap();
    assert_eq!(r.msg_type, MessageType::Ack);
    assert_eq!(r.msg.yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(r.dest, Destination::Unicast(ip("10.99.0.30")));
    assert!(opt(&o, OptionCode::AddressLeaseTime).is_none());
    assert!(opt(&o, OptionCode::DomainNameServer).is_some());
    assert!(o.writes.is_empty());
}

#[test]
fn client_identifier_distinguishes_clients_unless_ignored() {
    let mut e = engine();
    let id = |b: u8| DhcpOption::ClientIdentifier(vec![0xff, b, 1, 2, 3]);
    let a = yiaddr(&run(
        &mut e,
        &with(msg(MessageType::Discover, 1), id(1)),
        T0,
    ));
    let b = yiaddr(&run(
        &mut e,
        &with(msg(MessageType::Discover, 1), id(2)),
        T0,
    ));
    assert_ne!(a, b, "same MAC, different client-id: different clients");
    let cfg = CONFIG.replace(
        "offer_hold = 10",
        "offer_hold = 10\nignore_client_uids = true",
    );
    let mut e = dhcp_core::engine::Engine::new(dhcp_core::config::Config::from_toml(&cfg).unwrap());
    let a = yiaddr(&run(
        &mut e,
        &with(msg(MessageType::Discover, 1), id(1)),
        T0,
    ));
    let b = yiaddr(&run(
        &mut e,
        &with(msg(MessageType::Discover, 1), id(2)),
        T0,
    ));
    assert_eq!(
        a, b,
        "ignore_client_uids: the MAC alone identifies the client"
    );
}

#[test]
fn reservations_win_and_are_protected() {
    let mut e = engine();
    let host = 0x0000_00ff;
    let o = run(&mut e, &msg(MessageType::Discover, host), T0);
    assert_eq!(yiaddr(&o), ip("10.99.0.50"));
    assert_eq!(
        o.reply.as_ref().unwrap().msg.fname(),
        Some(&b"special.efi"[..])
    );
    let o = run(&mut e, &selecting(host, ip("10.99.0.50"), SERVER), T0);
    assert_eq!(reply_type(&o), Some(MessageType::Ack));
    // Another client cannot take the reserved address.
    assert_eq!(
        reply_type(&run(&mut e, &selecting(1, ip("10.99.0.50"), SERVER), T0)),
        Some(MessageType::Nak)
    );
    // The reserved client asking for a pool address is told to use its own.
    assert_eq!(
        reply_type(&run(&mut e, &init_reboot(host, ip("10.99.0.101")), T0)),
        Some(MessageType::Nak)
    );
}

#[test]
fn runtime_hosts_take_effect_at_once() {
    let mut e = engine();
    let mut h = config().hosts[0].clone();
    h.name = "new".into();
    h.mac = Some(HwAddr::ethernet(mac(9)));
    h.address = ip("10.99.0.60");
    e.add_host(h);
    assert_eq!(
        yiaddr(&run(&mut e, &msg(MessageType::Discover, 9), T0)),
        ip("10.99.0.60")
    );
    assert!(e.remove_host("new"));
    assert_ne!(
        yiaddr(&run(&mut e, &msg(MessageType::Discover, 9), T0)),
        ip("10.99.0.60")
    );
}

#[test]
fn expiry_is_time_scripted() {
    let mut e = engine();
    let p = dhcp_core::policy::Standalone;
    let a = dora(&mut e, 1, T0);
    assert_eq!(e.next_wakeup(&p), Some(T0 + 600));
    assert!(e.tick(&p, T0 + 599).is_empty());
    assert_eq!(e.table().get(a).unwrap().state, BindingState::Active);
    let w = e.tick(&p, T0 + 600);
    assert_eq!(w.len(), 1);
    assert_eq!(e.table().get(a).unwrap().state, BindingState::Free);
    // Expired leases are not NAKed to others any more.
    assert_eq!(
        reply_type(&run(&mut e, &selecting(2, a, SERVER), T0 + 601)),
        Some(MessageType::Ack)
    );
}

#[test]
fn requested_lease_time_is_clamped() {
    let mut e = engine();
    let o = run(
        &mut e,
        &with(
            msg(MessageType::Discover, 1),
            DhcpOption::AddressLeaseTime(5000),
        ),
        T0,
    );
    assert_eq!(
        opt(&o, OptionCode::AddressLeaseTime),
        Some(&DhcpOption::AddressLeaseTime(1200))
    );
    let o = run(
        &mut e,
        &with(
            msg(MessageType::Discover, 2),
            DhcpOption::AddressLeaseTime(100),
        ),
        T0,
    );
    assert_eq!(
        opt(&o, OptionCode::AddressLeaseTime),
        Some(&DhcpOption::AddressLeaseTime(100))
    );
}

#[test]
fn pxe_clients_get_boot_file_and_short_lease() {
    let mut e = engine();
    let m = with(
        with(
            msg(MessageType::Discover, 1),
            DhcpOption::ClientSystemArchitecture(Architecture::X64),
        ),
        DhcpOption::ClassIdentifier(b"PXEClient:Arch:00007:UNDI:003016".to_vec()),
    );
    let o = run(&mut e, &m, T0);
    let r = o.reply.as_ref().unwrap();
    assert_eq!(r.msg.fname(), Some(&b"bootx64.efi"[..]));
    assert_eq!(r.msg.siaddr(), SERVER);
    assert_eq!(
        opt(&o, OptionCode::AddressLeaseTime),
        Some(&DhcpOption::AddressLeaseTime(30))
    );
    // BIOS: path prefix forced even though not requested.
    let m = with(
        with(
            msg(MessageType::Discover, 2),
            DhcpOption::ClientSystemArchitecture(Architecture::X86_Bios),
        ),
        DhcpOption::ParameterRequestList(vec![OptionCode::SubnetMask]),
    );
    let o = run(&mut e, &m, T0);
    let prefix = o
        .reply
        .as_ref()
        .unwrap()
        .msg
        .opts()
        .get(OptionCode::from(210))
        .cloned();
    match prefix {
        Some(DhcpOption::Unknown(u)) => assert_eq!(u.data(), b"http://10.99.0.1:5248/"),
        other => panic!("no path prefix: {other:?}"),
    }
    // UEFI HTTP boot: URL file name and vendor class echoed.
    let m = with(
        msg(MessageType::Discover, 3),
        DhcpOption::ClientSystemArchitecture(Architecture::X64_Http),
    );
    let o = run(&mut e, &m, T0);
    assert_eq!(
        o.reply.as_ref().unwrap().msg.fname(),
        Some(&b"http://10.99.0.1:5248/images/bootx64.efi"[..])
    );
    assert_eq!(
        opt(&o, OptionCode::ClassIdentifier),
        Some(&DhcpOption::ClassIdentifier(b"HTTPClient".to_vec()))
    );
}

#[test]
fn pool_exhaustion_is_silent() {
    let mut e = engine();
    for i in 0..5 {
        let mut m = relayed(msg(MessageType::Discover, i));
        m.set_xid(i);
        let o = run(&mut e, &m, T0);
        let a = yiaddr(&o);
        let ack = run(&mut e, &relayed(selecting(i, a, SERVER)), T0);
        assert_eq!(reply_type(&ack), Some(MessageType::Ack));
    }
    let o = run(&mut e, &relayed(msg(MessageType::Discover, 99)), T0);
    assert!(o.reply.is_none());
    assert_eq!(o.verdict, Verdict::Ignored(IgnoreReason::PoolExhausted));
}

#[test]
fn requests_from_unknown_links_are_ignored() {
    let mut e = engine();
    let bytes = dhcproto::Encodable::to_vec(&msg(MessageType::Discover, 1)).unwrap();
    let req = dhcp_core::packet::decode_request(&bytes).unwrap();
    let info = dhcp_core::engine::RecvInfo {
        interface: Some("eth9"),
        local_addr: ip("10.99.50.1"),
        src: "0.0.0.0:68".parse().unwrap(),
    };
    let o = e.handle(&dhcp_core::policy::Standalone, &req, &info, T0);
    assert_eq!(o.verdict, Verdict::Ignored(IgnoreReason::UnknownNetwork));
}

#[test]
fn restart_restores_bindings_from_records() {
    let mut e = engine();
    let a = dora(&mut e, 1, T0);
    let records: Vec<_> = e
        .table()
        .iter()
        .filter(|l| l.state != BindingState::Free)
        .cloned()
        .collect();
    let mut e2 = engine();
    let rep = e2.restore(records);
    assert_eq!(rep.restored, 1);
    // The restored binding is renewed, and not given to anyone else.
    assert_eq!(
        reply_type(&run(&mut e2, &renewing(1, a), T0 + 100)),
        Some(MessageType::Ack)
    );
    assert_ne!(
        yiaddr(&run(&mut e2, &msg(MessageType::Discover, 2), T0 + 100)),
        a
    );
}

#[test]
fn ignored_client_ids_are_not_recorded() {
    let cfg = CONFIG.replace(
        "offer_hold = 10",
        "offer_hold = 10\nignore_client_uids = true",
    );
    let mut e = dhcp_core::engine::Engine::new(dhcp_core::config::Config::from_toml(&cfg).unwrap());
    let id = DhcpOption::ClientIdentifier(vec![1, 2, 0, 0, 0, 0, 1]);
    let offer = run(&mut e, &with(msg(MessageType::Discover, 1), id.clone()), T0);
    let ack = run(&mut e, &with(selecting(1, yiaddr(&offer), SERVER), id), T0);
    assert_eq!(ack.writes[0].client_id, None);
    assert_eq!(
        ack.writes[0].client,
        Some(dhcp_core::lease::ClientKey::Hw(HwAddr::ethernet(mac(1))))
    );
}

/// A REBIND that arrives just after the lease ran out, before the timer has
/// moved the binding on, still finds the client's record and is ACKed with
/// the same address; so is the client's DISCOVER once the binding has
/// expired. (A standalone server always allowed this; the failover case,
/// where it was dropped as `no_record`, is the policy test
/// `a_client_gets_back_an_address_whose_change_the_partner_never_heard_of`
/// in dhcp-failover.)
#[test]
fn a_rebind_just_past_the_end_keeps_the_address() {
    let mut e = engine();
    let a = dora(&mut e, 1, T0);
    let o = run(&mut e, &broadcast(renewing(1, a)), T0 + 600);
    assert_eq!(reply_type(&o), Some(MessageType::Ack), "{:?}", o.verdict);
    assert_eq!(o.writes[0].addr, a);
    let b = dora(&mut e, 2, T0);
    assert_ne!(a, b);
    let _ = e.tick(&dhcp_core::policy::Standalone, T0 + 700);
    let o = run(&mut e, &msg(MessageType::Discover, 2), T0 + 701);
    assert_eq!(yiaddr(&o), b);
}

#[test]
fn decline_probation_can_be_set_per_subnet() {
    let text = CONFIG.replace(
        "next_server = \"10.99.0.1\"",
        "next_server = \"10.99.0.1\"\nabandon_time = 60",
    );
    let mut e =
        dhcp_core::engine::Engine::new(dhcp_core::config::Config::from_toml(&text).expect("valid"));
    let a = dora(&mut e, 1, T0);
    let decline = with(
        with(
            msg(MessageType::Decline, 1),
            DhcpOption::RequestedIpAddress(a),
        ),
        DhcpOption::ServerIdentifier(SERVER),
    );
    let o = run(&mut e, &decline, T0 + 1);
    assert_eq!(o.verdict, Verdict::Declined);
    assert_eq!(
        o.writes[0].ends,
        T0 + 61,
        "the subnet's 60 s, not the global 600 s"
    );
}
