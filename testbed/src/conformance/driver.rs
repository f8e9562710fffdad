//! Runs scenarios against the one server serving the lab: a client on the
//! server's segment (replies read from a promiscuous packet socket, so
//! unicast to `chaddr` is seen, with the address each was sent to) or the
//! relay host (replies read on `giaddr`:67, and, from a packet socket on its
//! server-side link, replies a server sends past the relay straight to a
//! client's `ciaddr`, as to a relayed DHCPINFORM).

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use crate::conformance::packet::Dest;
use crate::conformance::scenario::{Expect, REPLY_WAIT, SILENCE_WAIT, Scenario};
use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::netns;
use crate::probe::{RawReply, recv_udp, relay_socket};
use crate::sim::ReceivePath;
use crate::sim::sockets::{SwarmSockets, send_from};
use crate::topology::RELAY_CLIENT_SIDE;

/// What one step got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepResult {
    /// A reply, and the IPv4 destination it was sent to.
    Reply(Box<RawReply>, Ipv4Addr),
    /// Nothing within the wait.
    Silent,
    /// Not sent: it needed a value from a step that got no reply.
    NotSent,
}

impl StepResult {
    /// The reply, if any.
    pub fn reply(&self) -> Option<&RawReply> {
        match self {
            Self::Reply(r, _) => Some(r),
            _ => None,
        }
    }
}

/// Where the scenarios run.
#[derive(Debug, Clone)]
pub struct Site {
    /// The namespace of the client host on the server segment.
    pub client_ns: String,
    /// Its interface.
    pub iface: String,
    /// The namespace of the relay host.
    pub relay_ns: String,
    /// The server's address.
    pub server: Ipv4Addr,
}

impl Site {
    /// The lab's hosts `client` (interface `eth0`) and the relay, against
    /// `server`.
    pub fn new(lab: &Lab, client: &str, server: Ipv4Addr) -> Result<Self> {
        Ok(Self {
            client_ns: lab.namespace(client)?.to_owned(),
            iface: "eth0".to_owned(),
            relay_ns: lab.namespace(crate::topology::RELAY_HOST)?.to_owned(),
            server,
        })
    }
}

/// Runs scenario number `index` (its clients' `chaddr`s and xids follow
/// from it) and returns one result per step.
pub fn run(site: &Site, index: usize, scenario: &Scenario) -> Result<Vec<StepResult>> {
    let site = site.clone();
    let scenario = scenario.clone();
    let ns = if scenario.relayed() {
        site.relay_ns.clone()
    } else {
        site.client_ns.clone()
    };
    netns::in_namespace(&ns, move || {
        let mut link = if scenario.relayed() {
            Link::Relay(
                relay_socket(RELAY_CLIENT_SIDE)?,
                SwarmSockets::open(&site.iface, ReceivePath::Packet)?,
            )
        } else {
            Link::Direct(SwarmSockets::open(&site.iface, ReceivePath::Packet)?)
        };
        let mut replies: Vec<Option<RawReply>> = Vec::new();
        let mut out = Vec::new();
        for (n, step) in scenario.steps.iter().enumerate() {
            let xid = 0x5c00_0000 | ((index as u32) << 8) | n as u32;
            let chaddr = scenario.chaddr(index, step.packet.client);
            let Some(bytes) = step.packet.encode(xid, chaddr, &replies) else {
                replies.push(None);
                out.push(StepResult::NotSent);
                continue;
            };
            let ciaddr = Ipv4Addr::new(bytes[12], bytes[13], bytes[14], bytes[15]);
            let wait = if step.expect == Expect::Silence {
                SILENCE_WAIT
            } else {
                REPLY_WAIT
            };
            let configured = !ciaddr.is_unspecified() && step.dest != Dest::Relay;
            if configured {
                set_address(&site, Some(ciaddr))?;
            }
            let got = link.exchange(&site, step.dest, ciaddr, &bytes, xid, wait);
            if configured {
                set_address(&site, None)?;
            }
            let got = got?;
            replies.push(got.as_ref().map(|(r, _)| r.clone()));
            out.push(match got {
                Some((r, to)) => StepResult::Reply(Box::new(r), to),
                None => StepResult::Silent,
            });
        }
        Ok(out)
    })
}

/// Gives the client host `addr` (/24) for a step that sends from it, or
/// takes every address away again.
fn set_address(site: &Site, addr: Option<Ipv4Addr>) -> Result<()> {
    match addr {
        Some(a) => netns::ip_in(
            &site.client_ns,
            &["addr", "add", &format!("{a}/24"), "dev", &site.iface],
        ),
        None => netns::ip_in(&site.client_ns, &["addr", "flush", "dev", &site.iface]),
    }
    .map(drop)
}

enum Link {
    Direct(SwarmSockets),
    /// The relay's port 67, and port 68 as seen on its server-side link.
    Relay(UdpSocket, SwarmSockets),
}

impl Link {
    /// Sends `bytes` once and waits up to `wait` for a BOOTREPLY for `xid`.
    fn exchange(
        &mut self,
        site: &Site,
        dest: Dest,
        ciaddr: Ipv4Addr,
        bytes: &[u8],
        xid: u32,
        wait: Duration,
    ) -> Result<Option<(RawReply, Ipv4Addr)>> {
        let server = SocketAddrV4::new(site.server, 67);
        let broadcast = SocketAddrV4::new(Ipv4Addr::BROADCAST, 67);
        let sent = match (&*self, dest) {
            (Self::Relay(s, _), _) => s.send_to(bytes, server),
            (Self::Direct(s), Dest::Unicast) => send_from(&s.send, bytes, server, ciaddr),
            (Self::Direct(s), _) if !ciaddr.is_unspecified() => {
                send_from(&s.send, bytes, broadcast, ciaddr)
            }
            (Self::Direct(s), _) => s.send.send_to(bytes, broadcast),
        };
        sent.map_err(|e| Error::io(format!("send ({dest:?})"), e))?;
        let deadline = Instant::now() + wait;
        let mut buf = [0u8; 1500];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let got = match self {
                Self::Relay(s, past) => {
                    let slice = left.min(Duration::from_millis(20));
                    match recv_udp(s, &mut buf, slice)? {
                        Some(n) => Some((n, RELAY_CLIENT_SIDE)),
                        None => past.recv_to(&mut buf, slice)?,
                    }
                }
                Self::Direct(s) => s.recv_to(&mut buf, left)?,
            };
            let Some((n, to)) = got else {
                continue;
            };
            if n < 8 || buf[4..8] != xid.to_be_bytes() {
                continue;
            }
            if let Some(r) = RawReply::parse(&buf[..n]).filter(|r| r.op == 2) {
                return Ok(Some((r, to)));
            }
        }
    }
}
