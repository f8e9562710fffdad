//! Building blocks of the catalog: message types, the usual requests of
//! each client state, and a scenario that starts from a bound lease.

use std::net::Ipv4Addr;

use crate::conformance::packet::{Addr, Dest, Packet};
use crate::conformance::scenario::{Expect, Scenario};

/// DHCPDISCOVER.
pub const DISCOVER: u8 = 1;
/// DHCPREQUEST.
pub const REQUEST: u8 = 3;
/// DHCPDECLINE.
pub const DECLINE: u8 = 4;
/// DHCPRELEASE.
pub const RELEASE: u8 = 7;
/// DHCPINFORM.
pub const INFORM: u8 = 8;

/// Expect an OFFER.
pub const OFFER: Expect = Expect::Kind(2);
/// Expect an ACK.
pub const ACK: Expect = Expect::Kind(5);
/// Expect a NAK.
pub const NAK: Expect = Expect::Kind(6);
/// Expect nothing.
pub const SILENCE: Expect = Expect::Silence;

/// The server's address (all three run on it, one at a time).
pub const SERVER: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 1);
/// A reserved host's MAC and address (fixtures: host `reserved`).
pub const RESERVED_MAC: [u8; 6] = [0x02, 0x99, 0xee, 0, 0, 1];
/// The address reserved for [`RESERVED_MAC`].
pub const RESERVED_ADDR: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 5);
/// The BOOTP host's MAC (fixtures: host `bootp-reserved`, file `bootp.img`).
pub const BOOTP_MAC: [u8; 6] = [0x02, 0x99, 0xee, 0, 0, 2];
/// An address on no configured network.
pub const FOREIGN: Ipv4Addr = Ipv4Addr::new(10, 99, 5, 5);

/// A fixed address literal.
pub fn lit(a: Ipv4Addr) -> Addr {
    Addr::Lit(a)
}

/// An address of the server segment, `10.99.0.n`.
pub fn net0(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 99, 0, n)
}

/// The parameter request list most requests carry (as real clients do;
/// what a server sends without one is its own choice, RFC 2131 4.3.1, and
/// `prl/none` covers it).
pub const PRL: [u8; 5] = [1, 3, 6, 15, 28];

/// A DHCP message of type `kind` with [`PRL`].
pub fn msg(kind: u8) -> Packet {
    Packet::dhcp(kind).raw(55, &PRL)
}

/// A DISCOVER with the BROADCAST flag and [`PRL`].
pub fn discover() -> Packet {
    msg(DISCOVER).broadcast()
}

/// A DISCOVER with the BROADCAST flag and no parameter request list.
pub fn bare_discover() -> Packet {
    Packet::dhcp(DISCOVER).broadcast()
}

/// The SELECTING REQUEST for the OFFER of step `n` (50 and 54 from it).
pub fn select(n: usize) -> Packet {
    msg(REQUEST).broadcast().requested_from(n).server_id_from(n)
}

/// An INIT-REBOOT REQUEST for `a` (50, no 54, ciaddr 0).
pub fn init_reboot(a: Addr) -> Packet {
    msg(REQUEST).broadcast().addr(50, a)
}

/// A RENEWING/REBINDING REQUEST from `a` (ciaddr, no 50, no 54).
pub fn renew(a: Addr) -> Packet {
    msg(REQUEST).ciaddr(a)
}

/// [`discover`] and [`select`] of step 0, without [`PRL`] when `extra`
/// brings its own list, with `extra` added to both.
fn pair_with(extra: &[(u8, &[u8])]) -> (Packet, Packet) {
    let own_list = extra.iter().any(|(c, _)| *c == 55);
    let (mut d, mut r) = if own_list {
        (
            Packet::dhcp(DISCOVER).broadcast(),
            Packet::dhcp(REQUEST)
                .broadcast()
                .requested_from(0)
                .server_id_from(0),
        )
    } else {
        (discover(), select(0))
    };
    for (code, v) in extra {
        d = d.raw(*code, v);
        r = r.raw(*code, v);
    }
    (d, r)
}

/// A scenario whose client 0 first gets a lease by DISCOVER and REQUEST
/// (steps 0 and 1, not compared): later steps use `Addr::Yiaddr(1)`.
pub fn bound(name: &str, clause: &'static str) -> Scenario {
    bound_with(name, clause, discover(), select(0), Dest::Broadcast)
}

/// As [`bound`] with the given DISCOVER and REQUEST (for options that
/// must be in both) and path.
pub fn bound_with(name: &str, clause: &'static str, d: Packet, r: Packet, dest: Dest) -> Scenario {
    Scenario::new(name, clause)
        .setup(d, dest, OFFER)
        .setup(r, dest, ACK)
}

/// A DISCOVER/REQUEST exchange, both compared, with `extra` options in both.
pub fn dora(name: &str, clause: &'static str, extra: &[(u8, &[u8])]) -> Scenario {
    let (d, r) = pair_with(extra);
    Scenario::new(name, clause)
        .step(d, Dest::Broadcast, OFFER)
        .step(r, Dest::Broadcast, ACK)
}

/// A DISCOVER with `extra` options, compared.
pub fn offer_with(name: &str, clause: &'static str, extra: &[(u8, &[u8])]) -> Scenario {
    let (d, _) = pair_with(extra);
    Scenario::new(name, clause).step(d, Dest::Broadcast, OFFER)
}
