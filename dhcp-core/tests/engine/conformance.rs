//! Behaviour the differential suite against ISC dhcpd and Kea showed (issue
//! 17, docs/conformance.md): DHCPINFORM's destination and options, link
//! selection (RFC 3527) and subnet selection (RFC 3011).

use crate::common::*;
use dhcp_core::engine::{Destination, IgnoreReason, Verdict};
use dhcproto::v4::relay::{RelayAgentInformation, RelayInfo};
use dhcproto::v4::{DhcpOption, MessageType, OptionCode, UnknownOption};
use std::net::Ipv4Addr;

const T0: u32 = 1_800_000_000;

/// A DHCPINFORM from `ciaddr` asking for routers only.
fn inform(i: u32, ciaddr: Ipv4Addr) -> dhcproto::v4::Message {
    let mut m = with(
        msg(MessageType::Inform, i),
        DhcpOption::ParameterRequestList(vec![OptionCode::Router]),
    );
    m.set_ciaddr(ciaddr);
    m
}

fn subnet_selection(m: dhcproto::v4::Message, net: [u8; 4]) -> dhcproto::v4::Message {
    with(
        m,
        DhcpOption::Unknown(UnknownOption::new(OptionCode::from(118), net.to_vec())),
    )
}

#[test]
fn inform_without_ciaddr_is_dropped() {
    // RFC 2131 4.3.5: the ACK goes to ciaddr; ISC dhcpd and Kea drop it too.
    let mut e = engine();
    let o = run(&mut e, &broadcast(msg(MessageType::Inform, 1)), T0);
    assert!(o.reply.is_none());
    assert_eq!(o.verdict, Verdict::Ignored(IgnoreReason::Malformed));
}

#[test]
fn inform_ack_goes_to_ciaddr_without_lease_or_unrequested_mask() {
    let mut e = engine();
    let a = Ipv4Addr::new(10, 99, 0, 7);
    for m in [inform(1, a), relayed(inform(2, a))] {
        let o = run(&mut e, &m, T0);
        let r = o.reply.as_ref().unwrap();
        assert_eq!(r.msg_type, MessageType::Ack);
        assert_eq!(r.dest, Destination::Unicast(a), "relayed or not");
        assert_eq!(r.msg.yiaddr(), Ipv4Addr::UNSPECIFIED);
        assert_eq!(opt(&o, OptionCode::AddressLeaseTime), None);
        assert_eq!(opt(&o, OptionCode::SubnetMask), None, "not asked for");
    }
    let mut asked = with(
        msg(MessageType::Inform, 3),
        DhcpOption::ParameterRequestList(vec![OptionCode::SubnetMask, OptionCode::Router]),
    );
    asked.set_ciaddr(a);
    let o = run(&mut e, &asked, T0);
    assert!(opt(&o, OptionCode::SubnetMask).is_some());
    assert!(opt(&o, OptionCode::Router).is_some());
    // A lease's mask goes out whether asked for or not.
    let o = run(
        &mut e,
        &with(
            msg(MessageType::Discover, 4),
            DhcpOption::ParameterRequestList(vec![OptionCode::Router]),
        ),
        T0,
    );
    assert!(opt(&o, OptionCode::SubnetMask).is_some());
}

#[test]
fn link_selection_names_the_subnet_of_a_relayed_request() {
    let mut e = engine();
    let mut ri = RelayAgentInformation::default();
    ri.insert(RelayInfo::AgentCircuitId(b"p1".to_vec()));
    ri.insert(RelayInfo::LinkSelection(Ipv4Addr::new(10, 99, 0, 0)));
    let m = relayed(with(
        msg(MessageType::Discover, 1),
        DhcpOption::RelayAgentInformation(ri),
    ));
    let o = run(&mut e, &m, T0);
    let r = o.reply.as_ref().unwrap();
    assert_eq!(r.dest, Destination::Relay(RELAY), "still via the relay");
    assert_eq!(yiaddr(&o).octets()[..3], [10, 99, 0], "not giaddr's subnet");
    // A link with no subnet here gets no answer.
    let mut ri = RelayAgentInformation::default();
    ri.insert(RelayInfo::LinkSelection(Ipv4Addr::new(10, 99, 9, 0)));
    let m = relayed(with(
        msg(MessageType::Discover, 2),
        DhcpOption::RelayAgentInformation(ri),
    ));
    let o = run(&mut e, &m, T0);
    assert!(o.reply.is_none());
    assert_eq!(o.verdict, Verdict::Ignored(IgnoreReason::UnknownNetwork));
}

#[test]
fn subnet_selection_names_the_subnet_and_is_echoed() {
    let mut e = engine();
    let o = run(
        &mut e,
        &subnet_selection(msg(MessageType::Discover, 1), [10, 99, 1, 0]),
        T0,
    );
    assert_eq!(yiaddr(&o).octets()[..3], [10, 99, 1]);
    let echoed = o
        .reply
        .as_ref()
        .unwrap()
        .msg
        .opts()
        .get(OptionCode::from(118));
    assert!(echoed.is_some(), "RFC 3011 3: returned unasked");
    // Link selection wins over subnet selection (RFC 3527 3).
    let mut ri = RelayAgentInformation::default();
    ri.insert(RelayInfo::LinkSelection(Ipv4Addr::new(10, 99, 0, 0)));
    let m = relayed(with(
        subnet_selection(msg(MessageType::Discover, 2), [10, 99, 1, 0]),
        DhcpOption::RelayAgentInformation(ri),
    ));
    assert_eq!(yiaddr(&run(&mut e, &m, T0)).octets()[..3], [10, 99, 0]);
    let o = run(
        &mut e,
        &subnet_selection(msg(MessageType::Discover, 3), [10, 99, 9, 0]),
        T0,
    );
    assert!(o.reply.is_none());
}
