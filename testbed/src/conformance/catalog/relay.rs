//! Relayed requests (RFC 2131 4.1 and 4.3.2, RFC 1542): `giaddr` picks the
//! subnet, option 82 is echoed (RFC 3046), link selection (RFC 3527,
//! sub-option 5) and subnet selection (RFC 3011, option 118) override it.

use std::net::Ipv4Addr;

use crate::conformance::catalog::build::*;
use crate::conformance::packet::{Addr, Dest, Packet, agent_info};
use crate::conformance::scenario::Scenario;
use crate::topology::RELAY_CLIENT_SIDE;

const R: Dest = Dest::Relay;

fn gi() -> Addr {
    Addr::Lit(RELAY_CLIENT_SIDE)
}

fn relayed(p: Packet) -> Packet {
    p.giaddr(gi())
}

fn agent(subs: &[(u8, &[u8])]) -> Vec<u8> {
    agent_info(subs)
}

const SELECT_NET: [u8; 4] = [10, 99, 2, 0];
const UNKNOWN_NET: [u8; 4] = [10, 99, 9, 0];

/// The scenarios of this subject.
pub fn scenarios() -> Vec<Scenario> {
    let circuit: &[(u8, &[u8])] = &[(1, b"eth7:vlan5"), (2, b"switch-a")];
    let a82 = agent(circuit);
    let link = agent(&[(1, b"port9"), (5, &SELECT_NET)]);
    let link_unknown = agent(&[(5, &UNKNOWN_NET)]);
    let vendor_sub = agent(&[(1, b"p"), (9, &[0, 0, 0x0d, 0xe9, 3, 1, 2, 3])]);
    let rdora = |name: &str, clause: &'static str, extra: &[(u8, &[u8])]| {
        let (mut d, mut r) = (relayed(discover()), relayed(select(0)));
        for (code, v) in extra {
            d = d.raw(*code, v);
            r = r.raw(*code, v);
        }
        Scenario::new(name, clause)
            .step(d, R, OFFER)
            .step(r, R, ACK)
    };
    let rbound = |name: &str, clause: &'static str| {
        bound_with(name, clause, relayed(discover()), relayed(select(0)), R)
    };
    vec![
        Scenario::new(
            "relay/discover",
            "RFC 2131 4.3.1 (subnet of giaddr), 4.1 (to giaddr:67)",
        )
        .step(relayed(discover()), R, OFFER),
        Scenario::new("relay/discover-no-broadcast-flag", "RFC 2131 4.1").step(
            relayed(msg(DISCOVER)),
            R,
            OFFER,
        ),
        rdora("relay/dora", "RFC 2131 4.3.2", &[]),
        Scenario::new("relay/hops-3", "RFC 1542 4.1").step(
            {
                let mut p = relayed(discover());
                p.hops = 3;
                p
            },
            R,
            OFFER,
        ),
        rdora(
            "relay/option-82-echo",
            "RFC 3046 2.2 (echoed in every reply)",
            &[(82, &a82)],
        ),
        Scenario::new("relay/option-82-echo-in-nak", "RFC 3046 2.2").step(
            relayed(init_reboot(Addr::Lit(FOREIGN))).raw(82, &a82),
            R,
            NAK,
        ),
        Scenario::new("relay/option-82-vendor-suboption", "RFC 3046 2.2, RFC 4243").step(
            relayed(discover()).raw(82, &vendor_sub),
            R,
            OFFER,
        ),
        Scenario::new(
            "relay/option-82-not-last",
            "RFC 3046 2.1 (SHOULD be last; echo anyway)",
        )
        .step(
            relayed(msg(DISCOVER).raw(82, &a82).raw(12, b"early82")),
            R,
            OFFER,
        ),
        Scenario::new(
            "relay/nak-broadcast-bit",
            "RFC 2131 4.3.2 (NAK via relay: broadcast bit)",
        )
        .step(relayed(msg(REQUEST).addr(50, Addr::Lit(FOREIGN))), R, NAK),
        Scenario::new(
            "relay/init-reboot-unknown",
            "RFC 2131 4.3.2 (no record: silent)",
        )
        .step(
            relayed(init_reboot(Addr::Lit(Ipv4Addr::new(10, 99, 1, 240)))),
            R,
            SILENCE,
        ),
        Scenario::new(
            "relay/init-reboot-server-segment-address",
            "RFC 2131 4.3.2 (wrong network)",
        )
        .step(relayed(init_reboot(Addr::Lit(net0(241)))), R, NAK),
        rbound("relay/init-reboot-known", "RFC 2131 4.3.2").step(
            relayed(init_reboot(Addr::Yiaddr(1))),
            R,
            ACK,
        ),
        rbound("relay/rebinding", "RFC 2131 4.3.2 REBINDING via relay").step(
            relayed(renew(Addr::Yiaddr(1))),
            R,
            ACK,
        ),
        Scenario::new("relay/request-wrong-server-id", "RFC 2131 4.3.2")
            .setup(relayed(discover()), R, OFFER)
            .step(
                relayed(
                    msg(REQUEST)
                        .broadcast()
                        .requested_from(0)
                        .addr(54, Addr::Lit(net0(99))),
                ),
                R,
                SILENCE,
            ),
        rbound("relay/release", "RFC 2131 4.3.4")
            .step(
                relayed(
                    Packet::dhcp(RELEASE)
                        .ciaddr(Addr::Yiaddr(1))
                        .server_id_from(1),
                ),
                R,
                SILENCE,
            )
            .step(relayed(discover()), R, OFFER),
        rbound("relay/decline", "RFC 2131 4.3.3")
            .step(
                relayed(Packet::dhcp(DECLINE).requested_from(1).server_id_from(1)),
                R,
                SILENCE,
            )
            .step(relayed(discover()), R, OFFER),
        Scenario::new("relay/inform", "RFC 2131 4.3.5 (to ciaddr, relayed or not)").step(
            relayed(msg(INFORM).ciaddr(Addr::Lit(Ipv4Addr::new(10, 99, 1, 7)))),
            R,
            ACK,
        ),
        Scenario::new(
            "relay/link-selection",
            "RFC 3527 (sub-option 5 selects the subnet)",
        )
        .step(relayed(discover()).raw(82, &link), R, OFFER),
        rdora("relay/link-selection-dora", "RFC 3527", &[(82, &link)]),
        Scenario::new(
            "relay/link-selection-unknown-subnet",
            "RFC 3527 (no such subnet: no address)",
        )
        .step(relayed(discover()).raw(82, &link_unknown), R, SILENCE),
        Scenario::new(
            "relay/subnet-selection-118",
            "RFC 3011 (option 118 selects the subnet)",
        )
        .step(relayed(discover()).raw(118, &SELECT_NET), R, OFFER),
        rdora(
            "relay/subnet-selection-118-dora",
            "RFC 3011",
            &[(118, &SELECT_NET)],
        ),
        Scenario::new(
            "relay/subnet-selection-118-unknown",
            "RFC 3011 (no such subnet: no address)",
        )
        .step(relayed(discover()).raw(118, &UNKNOWN_NET), R, SILENCE),
        Scenario::new(
            "relay/subnet-selection-and-link-selection",
            "RFC 3527 3 (link selection wins)",
        )
        .step(
            relayed(discover()).raw(118, &[10, 99, 1, 0]).raw(82, &link),
            R,
            OFFER,
        ),
        Scenario::new("relay/client-id-echo", "RFC 6842 3").step(
            relayed(discover()).raw(61, &[1, 2, 0x99, 1, 2, 3, 4]),
            R,
            OFFER,
        ),
        Scenario::new("relay/lease-time-300", "RFC 2131 3.5").step(
            relayed(discover()).raw(51, &300u32.to_be_bytes()),
            R,
            OFFER,
        ),
        Scenario::new("relay/prl-routers-dns", "RFC 2132 9.8").step(
            relayed(bare_discover()).raw(55, &[1, 3, 6, 15]),
            R,
            OFFER,
        ),
        Scenario::new(
            "direct/subnet-selection-118",
            "RFC 3011 (also for direct clients)",
        )
        .step(discover().raw(118, &[10, 99, 1, 0]), Dest::Broadcast, OFFER),
    ]
}
