//! RFC 2131 client states (SELECTING, INIT-REBOOT, RENEWING, REBINDING),
//! the server identifier and requested address rules, Table 3's fields and
//! the BROADCAST flag.

use crate::conformance::catalog::build::*;
use crate::conformance::packet::{Addr, Dest, Packet};
use crate::conformance::scenario::{Expect, Scenario};

const B: Dest = Dest::Broadcast;
const U: Dest = Dest::Unicast;

/// The scenarios of this subject.
pub fn scenarios() -> Vec<Scenario> {
    let mut v = selecting();
    v.extend(init_reboot_state());
    v.extend(renewing());
    v.extend(table3_and_flags());
    v
}

fn selecting() -> Vec<Scenario> {
    vec![
        Scenario::new("selecting/discover", "RFC 2131 4.3.1").step(discover(), B, OFFER),
        Scenario::new(
            "selecting/discover-no-broadcast-flag",
            "RFC 2131 4.1 (unicast to yiaddr)",
        )
        .step(msg(DISCOVER), B, OFFER),
        dora("selecting/dora", "RFC 2131 3.1, 4.3.2 SELECTING", &[]),
        Scenario::new("selecting/dora-no-broadcast-flag", "RFC 2131 4.1")
            .step(msg(DISCOVER), B, OFFER)
            .step(msg(REQUEST).requested_from(0).server_id_from(0), B, ACK),
        Scenario::new(
            "selecting/discover-requests-free-address",
            "RFC 2131 4.3.1 (requested address if valid and free)",
        )
        .step(discover().addr(50, lit(net0(250))), B, OFFER),
        Scenario::new(
            "selecting/discover-requests-foreign-address",
            "RFC 2131 4.3.1",
        )
        .step(discover().addr(50, lit(FOREIGN)), B, OFFER),
        Scenario::new(
            "selecting/discover-requests-reserved-address",
            "RFC 2131 4.3.1 (address of another client)",
        )
        .step(discover().addr(50, lit(RESERVED_ADDR)), B, OFFER),
        Scenario::new(
            "selecting/discover-requests-taken-address",
            "RFC 2131 4.3.1 (address of another client)",
        )
        .setup(discover().client(1), B, OFFER)
        .setup(select(0).client(1), B, ACK)
        .step(discover().addr(50, Addr::Yiaddr(1)), B, OFFER),
        Scenario::new(
            "selecting/discover-twice-same-offer",
            "RFC 2131 4.3.1 (the offered address again)",
        )
        .step(discover(), B, OFFER)
        .step(discover(), B, OFFER),
        Scenario::new(
            "selecting/request-wrong-server-id",
            "RFC 2131 4.3.2 (another server selected)",
        )
        .setup(discover(), B, OFFER)
        .step(
            msg(REQUEST)
                .broadcast()
                .requested_from(0)
                .addr(54, lit(net0(99))),
            B,
            SILENCE,
        ),
        Scenario::new(
            "selecting/request-wrong-server-id-then-discover",
            "RFC 2131 4.3.2 (offer withdrawn)",
        )
        .setup(discover(), B, OFFER)
        .step(
            msg(REQUEST)
                .broadcast()
                .requested_from(0)
                .addr(54, lit(net0(99))),
            B,
            SILENCE,
        )
        .step(discover(), B, OFFER),
        Scenario::new(
            "selecting/request-no-requested-address",
            "RFC 2131 Table 5 (50 MUST in SELECTING)",
        )
        .setup(discover(), B, OFFER)
        .step(msg(REQUEST).broadcast().server_id_from(0), B, NAK),
        Scenario::new(
            "selecting/request-other-free-address",
            "RFC 2131 4.3.2 (not the offered address)",
        )
        .setup(discover(), B, OFFER)
        .step(
            msg(REQUEST)
                .broadcast()
                .addr(50, lit(net0(249)))
                .server_id_from(0),
            B,
            NAK,
        ),
        Scenario::new("selecting/request-foreign-address", "RFC 2131 4.3.2")
            .setup(discover(), B, OFFER)
            .step(
                msg(REQUEST)
                    .broadcast()
                    .addr(50, lit(FOREIGN))
                    .server_id_from(0),
                B,
                NAK,
            ),
        Scenario::new(
            "selecting/request-without-discover",
            "RFC 2131 4.3.2 (no offer made)",
        )
        .step(
            msg(REQUEST)
                .broadcast()
                .addr(50, lit(net0(248)))
                .addr(54, lit(SERVER)),
            B,
            ACK,
        ),
        Scenario::new(
            "selecting/request-taken-address",
            "RFC 2131 4.3.2 (address of another client)",
        )
        .setup(discover().client(1), B, OFFER)
        .setup(select(0).client(1), B, ACK)
        .step(
            msg(REQUEST)
                .broadcast()
                .requested_from(1)
                .addr(54, lit(SERVER)),
            B,
            NAK,
        ),
        Scenario::new(
            "selecting/request-reserved-address-of-other",
            "RFC 2131 4.3.2",
        )
        .step(
            msg(REQUEST)
                .broadcast()
                .addr(50, lit(RESERVED_ADDR))
                .addr(54, lit(SERVER)),
            B,
            NAK,
        ),
        Scenario::new(
            "selecting/request-twice",
            "RFC 2131 4.3.2 (retransmitted REQUEST)",
        )
        .setup(discover(), B, OFFER)
        .step(select(0), B, ACK)
        .step(select(0), B, ACK),
        Scenario::new(
            "selecting/request-with-ciaddr",
            "RFC 2131 Table 5 (ciaddr 0 in SELECTING)",
        )
        .setup(discover(), B, OFFER)
        .step(select(0).ciaddr(lit(net0(247))), B, ACK),
    ]
}

fn init_reboot_state() -> Vec<Scenario> {
    vec![
        bound("init-reboot/known-address", "RFC 2131 4.3.2 INIT-REBOOT").step(
            init_reboot(Addr::Yiaddr(1)),
            B,
            ACK,
        ),
        bound(
            "init-reboot/known-address-no-broadcast-flag",
            "RFC 2131 4.1, 4.3.2",
        )
        .step(msg(REQUEST).addr(50, Addr::Yiaddr(1)), B, ACK),
        Scenario::new(
            "init-reboot/unknown-address",
            "RFC 2131 4.3.2 (no record: MUST remain silent)",
        )
        .step(init_reboot(lit(net0(246))), B, SILENCE),
        Scenario::new(
            "init-reboot/wrong-network",
            "RFC 2131 4.3.2 (wrong network: MUST NAK)",
        )
        .step(init_reboot(lit(FOREIGN)), B, NAK),
        Scenario::new(
            "init-reboot/other-subnet-of-server",
            "RFC 2131 4.3.2 (wrong network: MUST NAK)",
        )
        .step(
            init_reboot(lit(std::net::Ipv4Addr::new(10, 99, 1, 20))),
            B,
            NAK,
        ),
        Scenario::new(
            "init-reboot/address-of-other-client",
            "RFC 2131 4.3.2 (MUST NAK an incorrect address)",
        )
        .setup(discover().client(1), B, OFFER)
        .setup(select(0).client(1), B, ACK)
        .step(init_reboot(Addr::Yiaddr(1)), B, NAK),
        Scenario::new("init-reboot/reserved-host-own-address", "RFC 2131 4.3.2")
            .mac(RESERVED_MAC)
            .step(init_reboot(lit(RESERVED_ADDR)), B, ACK),
        Scenario::new(
            "init-reboot/reserved-host-other-address",
            "RFC 2131 4.3.2 (incorrect address)",
        )
        .mac(RESERVED_MAC)
        .step(init_reboot(lit(net0(245))), B, NAK),
        Scenario::new("init-reboot/subnet-broadcast-address", "RFC 2131 4.3.2").step(
            init_reboot(lit(net0(255))),
            B,
            NAK,
        ),
        Scenario::new("init-reboot/network-address", "RFC 2131 4.3.2").step(
            init_reboot(lit(net0(0))),
            B,
            NAK,
        ),
        Scenario::new("init-reboot/server-own-address", "RFC 2131 4.3.2").step(
            init_reboot(lit(SERVER)),
            B,
            NAK,
        ),
        bound("init-reboot/after-release", "RFC 2131 4.3.4, 4.3.2")
            .step(
                Packet::dhcp(RELEASE)
                    .ciaddr(Addr::Yiaddr(1))
                    .server_id_from(1),
                U,
                SILENCE,
            )
            .step(init_reboot(Addr::Yiaddr(1)), B, ACK),
        bound(
            "init-reboot/with-server-id",
            "RFC 2131 Table 5 (54 MUST NOT in INIT-REBOOT)",
        )
        .step(init_reboot(Addr::Yiaddr(1)).addr(54, lit(SERVER)), B, ACK),
    ]
}

fn renewing() -> Vec<Scenario> {
    vec![
        bound(
            "renewing/unicast",
            "RFC 2131 4.3.2 RENEWING (ACK to ciaddr)",
        )
        .step(renew(Addr::Yiaddr(1)), U, ACK),
        bound(
            "renewing/unicast-broadcast-flag",
            "RFC 2131 4.1 (ciaddr set: to ciaddr)",
        )
        .step(renew(Addr::Yiaddr(1)).broadcast(), U, ACK),
        bound("renewing/twice", "RFC 2131 4.3.2")
            .step(renew(Addr::Yiaddr(1)), U, ACK)
            .step(renew(Addr::Yiaddr(1)), U, ACK),
        Scenario::new(
            "renewing/unknown-address",
            "RFC 2131 4.3.2 (no lease; RFC silent)",
        )
        .step(renew(lit(net0(244))), U, NAK),
        Scenario::new("renewing/address-of-other-client", "RFC 2131 4.3.2")
            .setup(discover().client(1), B, OFFER)
            .setup(select(0).client(1), B, ACK)
            .step(renew(Addr::Yiaddr(1)), U, NAK),
        bound(
            "renewing/with-requested-address",
            "RFC 2131 Table 5 (50 MUST NOT in RENEWING)",
        )
        .step(renew(Addr::Yiaddr(1)).addr(50, Addr::Yiaddr(1)), U, ACK),
        bound(
            "renewing/with-server-id",
            "RFC 2131 Table 5 (54 MUST NOT in RENEWING)",
        )
        .step(renew(Addr::Yiaddr(1)).server_id_from(1), U, ACK),
        bound("renewing/lease-time-300", "RFC 2131 4.3.2, 3.5").step(
            renew(Addr::Yiaddr(1)).raw(51, &300u32.to_be_bytes()),
            U,
            ACK,
        ),
        Scenario::new("renewing/reserved-host", "RFC 2131 4.3.2")
            .mac(RESERVED_MAC)
            .step(renew(lit(RESERVED_ADDR)), U, ACK),
        bound(
            "rebinding/broadcast",
            "RFC 2131 4.3.2 REBINDING (ACK to ciaddr)",
        )
        .step(renew(Addr::Yiaddr(1)), B, ACK),
        bound("rebinding/broadcast-flag", "RFC 2131 4.1").step(
            renew(Addr::Yiaddr(1)).broadcast(),
            B,
            ACK,
        ),
        Scenario::new(
            "rebinding/unknown-address",
            "RFC 2131 4.3.2 (no lease; RFC silent)",
        )
        .step(renew(lit(net0(243))), B, NAK),
        Scenario::new("rebinding/address-of-other-client", "RFC 2131 4.3.2")
            .setup(discover().client(1), B, OFFER)
            .setup(select(0).client(1), B, ACK)
            .step(renew(Addr::Yiaddr(1)), B, NAK),
        bound("rebinding/after-release", "RFC 2131 4.3.4")
            .step(
                Packet::dhcp(RELEASE)
                    .ciaddr(Addr::Yiaddr(1))
                    .server_id_from(1),
                U,
                SILENCE,
            )
            .step(renew(Addr::Yiaddr(1)), B, ACK),
    ]
}

fn table3_and_flags() -> Vec<Scenario> {
    let odd = |name: &str, htype: u8, hlen: u8, expect: Expect| {
        let mut p = discover().raw(61, &[0xff, 0, 0, 0, 1, 0, 4, 0, 1, 2, 3]);
        p.htype = htype;
        p.hlen = hlen;
        Scenario::new(name.to_owned(), "RFC 2131 4.1, RFC 4390").step(p, B, expect)
    };
    vec![
        Scenario::new(
            "table3/discover-with-ciaddr",
            "RFC 2131 Table 3 (ciaddr 0 in OFFER)",
        )
        .step(discover().ciaddr(lit(net0(242))), B, OFFER),
        Scenario::new("table3/discover-with-hops-and-secs", "RFC 2131 Table 3").step(
            {
                let mut p = discover();
                p.secs = 30;
                p
            },
            B,
            OFFER,
        ),
        Scenario::new(
            "table3/nak-fields",
            "RFC 2131 Table 3 (NAK: yiaddr 0, no 51)",
        )
        .step(
            init_reboot(lit(FOREIGN)).raw(51, &300u32.to_be_bytes()),
            B,
            NAK,
        ),
        Scenario::new("flags/request-no-flag-after-flagged-offer", "RFC 2131 4.1")
            .setup(discover(), B, OFFER)
            .step(msg(REQUEST).requested_from(0).server_id_from(0), B, ACK),
        Scenario::new("flags/reserved-flag-bits", "RFC 2131 2 (MBZ bits ignored)").step(
            {
                let mut p = discover();
                p.flags = 0x8001;
                p
            },
            B,
            OFFER,
        ),
        odd("flags/hlen-zero-broadcast", 1, 0, OFFER),
        odd("flags/infiniband-htype-32", 32, 0, OFFER),
        odd("flags/ieee802-htype-6", 6, 6, OFFER),
        odd("flags/hlen-17", 1, 17, SILENCE),
        Scenario::new(
            "flags/discover-op-2",
            "RFC 2131 4.1 (server drops BOOTREPLY)",
        )
        .step(
            {
                let mut p = discover();
                p.op = 2;
                p
            },
            B,
            SILENCE,
        ),
    ]
}
