//! DHCPINFORM (RFC 2131 4.3.5), DHCPDECLINE (4.3.3), DHCPRELEASE (4.3.4),
//! reserved hosts, and BOOTP clients (RFC 951, RFC 1542, RFC 1497).

use crate::conformance::catalog::build::*;
use crate::conformance::packet::{Addr, Dest, Packet};
use crate::conformance::scenario::{Expect, Scenario};

const B: Dest = Dest::Broadcast;
const U: Dest = Dest::Unicast;

/// The scenarios of this subject.
pub fn scenarios() -> Vec<Scenario> {
    let mut v = inform();
    v.extend(decline());
    v.extend(release());
    v.extend(reserved_and_bootp());
    v
}

fn inform() -> Vec<Scenario> {
    let inf = |n: u8| msg(INFORM).ciaddr(lit(net0(n)));
    vec![
        Scenario::new(
            "inform/unicast-from-ciaddr",
            "RFC 2131 4.3.5 (ACK to ciaddr, no 51, yiaddr 0)",
        )
        .step(inf(7), U, ACK),
        Scenario::new("inform/broadcast-with-ciaddr", "RFC 2131 4.3.5").step(inf(8), B, ACK),
        Scenario::new("inform/broadcast-flag", "RFC 2131 4.3.5, 4.1").step(
            inf(9).broadcast(),
            U,
            ACK,
        ),
        Scenario::new(
            "inform/ciaddr-zero",
            "RFC 2131 4.3.5 (ACK goes to ciaddr: none to send to)",
        )
        .step(msg(INFORM).broadcast(), B, SILENCE),
        Scenario::new("inform/prl", "RFC 2131 4.3.5, RFC 2132 9.8").step(
            Packet::dhcp(INFORM)
                .ciaddr(lit(net0(11)))
                .raw(55, &[6, 15, 3]),
            U,
            ACK,
        ),
        Scenario::new(
            "inform/requests-lease-time",
            "RFC 2131 4.3.5 (MUST NOT send 51)",
        )
        .step(inf(12).raw(51, &300u32.to_be_bytes()), U, ACK),
        Scenario::new(
            "inform/with-requested-address",
            "RFC 2131 Table 5 (50 MUST NOT)",
        )
        .step(inf(13).addr(50, lit(net0(13))), U, ACK),
        Scenario::new("inform/with-server-id", "RFC 2131 Table 5 (54 MUST NOT)").step(
            inf(14).addr(54, lit(SERVER)),
            U,
            ACK,
        ),
        bound("inform/bound-client", "RFC 2131 4.3.5").step(
            msg(INFORM).ciaddr(Addr::Yiaddr(1)),
            U,
            ACK,
        ),
        Scenario::new("inform/client-id-echo", "RFC 6842 3").step(
            inf(15).raw(61, &[1, 2, 0x99, 0, 0, 0, 15]),
            U,
            ACK,
        ),
        Scenario::new(
            "inform/reserved-address-of-other",
            "RFC 2131 4.3.5 (no check of ownership)",
        )
        .step(msg(INFORM).ciaddr(lit(RESERVED_ADDR)), U, ACK),
    ]
}

fn decline() -> Vec<Scenario> {
    let decline_of = |n: usize| Packet::dhcp(DECLINE).requested_from(n).server_id_from(n);
    vec![
        bound(
            "decline/then-discover",
            "RFC 2131 4.3.3 (address set aside; another offered)",
        )
        .step(decline_of(1), B, SILENCE)
        .step(discover(), B, OFFER),
        bound("decline/then-init-reboot", "RFC 2131 4.3.3")
            .step(decline_of(1), B, SILENCE)
            .step(init_reboot(Addr::Yiaddr(1)), B, NAK),
        bound(
            "decline/without-server-id",
            "RFC 2131 Table 5 (54 MUST in DECLINE: dropped)",
        )
        .step(Packet::dhcp(DECLINE).requested_from(1), B, SILENCE)
        .step(discover(), B, OFFER),
        bound(
            "decline/wrong-server-id",
            "RFC 2131 4.3.3 (not for this server)",
        )
        .step(
            Packet::dhcp(DECLINE)
                .requested_from(1)
                .addr(54, lit(net0(99))),
            B,
            SILENCE,
        )
        .step(discover(), B, OFFER),
        bound(
            "decline/without-requested-address",
            "RFC 2131 Table 5 (50 MUST in DECLINE)",
        )
        .step(Packet::dhcp(DECLINE).server_id_from(1), B, SILENCE)
        .step(discover(), B, OFFER),
        Scenario::new("decline/unknown-address", "RFC 2131 4.3.3")
            .step(
                Packet::dhcp(DECLINE)
                    .addr(50, lit(net0(229)))
                    .addr(54, lit(SERVER)),
                B,
                SILENCE,
            )
            .step(discover().addr(50, lit(net0(229))), B, OFFER),
        bound(
            "decline/by-other-client",
            "RFC 2131 4.3.3 (not the client's lease)",
        )
        .step(
            Packet::dhcp(DECLINE)
                .client(1)
                .requested_from(1)
                .server_id_from(1),
            B,
            SILENCE,
        )
        .step(renew(Addr::Yiaddr(1)), U, ACK),
    ]
}

fn release() -> Vec<Scenario> {
    let rel = |sid: Addr| Packet::dhcp(RELEASE).ciaddr(Addr::Yiaddr(1)).addr(54, sid);
    vec![
        bound(
            "release/right-server-id-then-discover",
            "RFC 2131 4.3.4, 4.3.1 (previous address preferred)",
        )
        .step(rel(Addr::ServerId(1)), U, SILENCE)
        .step(discover(), B, OFFER),
        bound("release/right-server-id-then-renew", "RFC 2131 4.3.4")
            .step(rel(Addr::ServerId(1)), U, SILENCE)
            .step(renew(Addr::Yiaddr(1)), U, NAK),
        bound(
            "release/wrong-server-id-then-renew",
            "RFC 2131 4.3.4 (not for this server: lease kept)",
        )
        .step(rel(lit(net0(99))), U, SILENCE)
        .step(renew(Addr::Yiaddr(1)), U, ACK),
        bound(
            "release/without-server-id",
            "RFC 2131 Table 5 (54 MUST in RELEASE)",
        )
        .step(Packet::dhcp(RELEASE).ciaddr(Addr::Yiaddr(1)), U, SILENCE)
        .step(renew(Addr::Yiaddr(1)), U, ACK),
        bound(
            "release/by-other-client",
            "RFC 2131 4.3.4 (not the client's lease)",
        )
        .step(rel(Addr::ServerId(1)).client(1), U, SILENCE)
        .step(renew(Addr::Yiaddr(1)), U, ACK),
        bound(
            "release/broadcast",
            "RFC 2131 4.4.6 (RELEASE is unicast; broadcast accepted)",
        )
        .step(rel(Addr::ServerId(1)), B, SILENCE)
        .step(discover(), B, OFFER),
        bound("release/twice", "RFC 2131 4.3.4")
            .step(rel(Addr::ServerId(1)), U, SILENCE)
            .step(rel(Addr::ServerId(1)), U, SILENCE)
            .step(discover(), B, OFFER),
    ]
}

fn reserved_and_bootp() -> Vec<Scenario> {
    let bootp = || {
        let mut p = Packet::new();
        p.flags = 0x8000;
        p
    };
    let bootp_host = |name: &str, clause: &'static str, p: Packet, expect: Expect| {
        Scenario::new(name, clause)
            .mac(BOOTP_MAC)
            .step(p, B, expect)
    };
    vec![
        Scenario::new("reserved/discover", "RFC 2131 4.3.1 (the client's binding)")
            .mac(RESERVED_MAC)
            .step(discover(), B, OFFER),
        Scenario::new("reserved/dora", "RFC 2131 4.3.2")
            .mac(RESERVED_MAC)
            .step(discover(), B, OFFER)
            .step(select(0), B, ACK),
        Scenario::new("reserved/discover-requests-other", "RFC 2131 4.3.1")
            .mac(RESERVED_MAC)
            .step(discover().addr(50, lit(net0(228))), B, OFFER),
        Scenario::new(
            "reserved/client-id-differs",
            "RFC 2131 4.2 (hardware address reservation)",
        )
        .mac(RESERVED_MAC)
        .step(discover().raw(61, &[0xff, 1, 2, 3, 4, 0, 1]), B, OFFER),
        bootp_host(
            "bootp/reserved-host",
            "RFC 951, RFC 1542 (reserved host answered)",
            bootp(),
            Expect::Bootp,
        ),
        bootp_host(
            "bootp/reserved-host-no-broadcast-flag",
            "RFC 1542 5.4",
            Packet::new(),
            Expect::Bootp,
        ),
        bootp_host(
            "bootp/reserved-host-vendor-prl",
            "RFC 1497, RFC 2132 9.8",
            bootp().raw(55, &[1, 3, 6]),
            Expect::Bootp,
        ),
        bootp_host(
            "bootp/reserved-host-dhcp",
            "RFC 2131 4.3.1 (the same host by DHCP)",
            discover(),
            OFFER,
        ),
        Scenario::new(
            "bootp/unknown-client",
            "RFC 1534 (dynamic BOOTP only when allowed)",
        )
        .step(bootp(), B, Expect::Silence),
        Scenario::new("bootp/unknown-client-relayed", "RFC 1542, RFC 1534").step(
            bootp().giaddr(lit(crate::topology::RELAY_CLIENT_SIDE)),
            Dest::Relay,
            Expect::Silence,
        ),
        Scenario::new(
            "bootp/dhcp-reserved-host-via-bootp-after-dhcp",
            "RFC 1534 2",
        )
        .mac(RESERVED_MAC)
        .step(bootp(), B, Expect::Bootp),
    ]
}
