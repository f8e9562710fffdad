//! A flood of random and malformed DHCP packets to port 67 from a host in the
//! lab, to check that a server survives garbage and keeps serving.
//!
//! Every packet is one of a few kinds ([`GarbageKind`]): pure noise, a
//! DISCOVER cut short, a bad magic cookie, options whose lengths overrun the
//! packet, a BOOTREPLY, a hardware length over 16, an option-overload
//! pointing at garbage, and a REQUEST from a random MAC for a random address.
//! The sequence is seeded, so a failing run can be repeated.

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use socket2::{Domain, Protocol, Socket, Type};

use crate::error::{Error, Result};
use crate::netns;

/// The kinds of garbage sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GarbageKind {
    /// Random bytes of random length (0–1500).
    Noise,
    /// A well-formed DISCOVER cut at a random length below 240.
    Truncated,
    /// A DISCOVER whose magic cookie is wrong.
    BadCookie,
    /// A header followed by options with random codes and lengths that may
    /// run past the end.
    BadOptions,
    /// A BOOTREPLY (op 2), which a server must ignore.
    Reply,
    /// A DISCOVER with `hlen` above 16 and a random `htype`.
    BadHardware,
    /// Option 52 (overload) pointing at `sname`/`file` full of noise.
    Overload,
    /// A REQUEST for a random address from a random MAC, with random `ciaddr`.
    RandomRequest,
}

impl GarbageKind {
    /// All kinds, in the order they are counted.
    pub const ALL: [GarbageKind; 8] = [
        Self::Noise,
        Self::Truncated,
        Self::BadCookie,
        Self::BadOptions,
        Self::Reply,
        Self::BadHardware,
        Self::Overload,
        Self::RandomRequest,
    ];
}

/// Flood settings.
#[derive(Debug, Clone)]
pub struct FloodConfig {
    /// Packets to send.
    pub packets: u64,
    /// Destination (port 67): the limited broadcast or a server address.
    pub destination: Ipv4Addr,
    /// Interface in the sending namespace.
    pub interface: String,
    /// Seed of the packet generator.
    pub seed: u64,
    /// Packets per second; `None` sends as fast as the socket allows.
    pub rate: Option<u64>,
    /// Instead of garbage, a starvation attack: every packet a well-formed
    /// DISCOVER from a new random MAC, relayed through this relay address
    /// (giaddr), as a rogue relay or a flood behind one would send.
    pub random_mac_discovers_via: Option<Ipv4Addr>,
    /// Stop early at this moment, whatever is left of `packets`.
    pub stop_at: Option<Instant>,
}

impl FloodConfig {
    /// `packets` packets broadcast on `eth0`, unpaced.
    pub fn new(packets: u64) -> Self {
        Self {
            packets,
            destination: Ipv4Addr::BROADCAST,
            interface: "eth0".to_owned(),
            seed: 0x0f10_0d5e,
            rate: None,
            random_mac_discovers_via: None,
            stop_at: None,
        }
    }
}

/// What a flood did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FloodReport {
    /// Packets handed to the kernel.
    pub sent: u64,
    /// Sends that failed (after one retry on a full buffer).
    pub send_errors: u64,
    /// Packets per kind, in [`GarbageKind::ALL`] order.
    pub by_kind: [u64; 8],
    /// Wall time.
    pub elapsed: Duration,
}

/// Sends a flood from namespace `ns` and returns when done.
pub fn flood(ns: &str, config: &FloodConfig) -> Result<FloodReport> {
    let iface = config.interface.clone();
    let socket = netns::in_namespace(ns, move || flood_socket(&iface))?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let to = SocketAddrV4::new(config.destination, 67);
    let started = Instant::now();
    let mut report = FloodReport::default();
    let mut buf = Vec::with_capacity(1500);
    for i in 0..config.packets {
        if i % 256 == 0 && config.stop_at.is_some_and(|t| Instant::now() >= t) {
            break;
        }
        if let Some(rate) = config.rate.filter(|r| *r > 0) {
            let due = started + Duration::from_secs_f64(i as f64 / rate as f64);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        if let Some(giaddr) = config.random_mac_discovers_via {
            random_mac_discover(&mut rng, giaddr, &mut buf);
        } else {
            let k = rng.random_range(0..GarbageKind::ALL.len());
            garbage(&mut rng, GarbageKind::ALL[k], &mut buf);
            report.by_kind[k] += 1;
        }
        let ok = socket.send_to(&buf, to).is_ok() || {
            // A full send buffer (ENOBUFS/EAGAIN): let it drain, retry once.
            std::thread::sleep(Duration::from_micros(200));
            socket.send_to(&buf, to).is_ok()
        };
        if ok {
            report.sent += 1;
        } else {
            report.send_errors += 1;
        }
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

fn flood_socket(iface: &str) -> Result<UdpSocket> {
    let ctx = |what: &str| format!("flood socket on {iface}: {what}");
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))
        .map_err(|e| Error::io(ctx("socket"), e))?;
    s.set_broadcast(true)
        .map_err(|e| Error::io(ctx("SO_BROADCAST"), e))?;
    s.bind_device(Some(iface.as_bytes()))
        .map_err(|e| Error::io(ctx("SO_BINDTODEVICE"), e))?;
    let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0);
    s.bind(&any.into()).map_err(|e| Error::io(ctx("bind"), e))?;
    Ok(s.into())
}

const COOKIE: [u8; 4] = [99, 130, 83, 99];

/// How many distinct client MACs the flood uses.
pub const NOISE_MACS: u8 = 16;

/// A 236-byte BOOTP header (op, htype 1, hlen 6, random xid, one of the
/// noise MACs).
fn header(rng: &mut ChaCha8Rng, op: u8, buf: &mut Vec<u8>) {
    buf.clear();
    buf.extend_from_slice(&[op, 1, 6, 0]);
    buf.extend_from_slice(&rng.random::<u32>().to_be_bytes());
    buf.extend_from_slice(&[0; 4]); // secs, flags
    buf.extend_from_slice(&[0; 16]); // ciaddr yiaddr siaddr giaddr
    let mut chaddr = [0u8; 16];
    chaddr[..6].copy_from_slice(&[0x02, 0xee, 0, 0, 0, rng.random_range(0..NOISE_MACS)]);
    buf.extend_from_slice(&chaddr);
    buf.extend_from_slice(&[0; 64 + 128]); // sname, file
}

fn discover(rng: &mut ChaCha8Rng, buf: &mut Vec<u8>) {
    header(rng, 1, buf);
    buf.extend_from_slice(&COOKIE);
    buf.extend_from_slice(&[53, 1, 1, 255]);
}

/// A relayed DISCOVER from a random locally administered MAC (`02:ef:…`),
/// hops 1, `giaddr` set.
pub fn random_mac_discover(rng: &mut ChaCha8Rng, giaddr: Ipv4Addr, buf: &mut Vec<u8>) {
    discover(rng, buf);
    buf[3] = 1;
    buf[24..28].copy_from_slice(&giaddr.octets());
    let tail: [u8; 4] = rng.random();
    buf[28..34].copy_from_slice(&[0x02, 0xef, tail[0], tail[1], tail[2], tail[3]]);
}

/// Fills `buf` with one packet of `kind`.
pub fn garbage(rng: &mut ChaCha8Rng, kind: GarbageKind, buf: &mut Vec<u8>) {
    fill(rng, kind, buf);
    if kind != GarbageKind::Noise {
        // No byte of the options area may read as option 61 (client
        // identifier), even when a parser loses step after an overrunning
        // length: each random identifier would be a new client to the
        // server, and a few hundred of them exhaust a pool.
        for b in buf.iter_mut().skip(44) {
            if *b == 61 {
                *b = 62;
            }
        }
    }
}

fn fill(rng: &mut ChaCha8Rng, kind: GarbageKind, buf: &mut Vec<u8>) {
    match kind {
        GarbageKind::Noise => {
            let len = rng.random_range(0..=1500);
            buf.clear();
            buf.resize(len, 0);
            rng.fill(&mut buf[..]);
        }
        GarbageKind::Truncated => {
            discover(rng, buf);
            let len = rng.random_range(0..240);
            buf.truncate(len);
        }
        GarbageKind::BadCookie => {
            discover(rng, buf);
            let mut cookie = [0u8; 4];
            rng.fill(&mut cookie);
            buf[236..240].copy_from_slice(&cookie);
        }
        GarbageKind::BadOptions => {
            header(rng, 1, buf);
            buf.extend_from_slice(&COOKIE);
            buf.extend_from_slice(&[53, 1, 1]);
            for _ in 0..rng.random_range(1..40) {
                if buf.len() > 1500 - 2 - 255 {
                    break;
                }
                let code: u8 = rng.random();
                let len: u8 = rng.random();
                buf.push(code);
                buf.push(len);
                let actual = rng.random_range(0..=usize::from(len));
                for _ in 0..actual {
                    buf.push(rng.random());
                }
            }
            if rng.random_bool(0.5) {
                buf.push(255);
            }
        }
        GarbageKind::Reply => {
            header(rng, 2, buf);
            buf.extend_from_slice(&COOKIE);
            buf.extend_from_slice(&[53, 1, 2, 54, 4, 10, 99, 0, 1, 255]);
        }
        GarbageKind::BadHardware => {
            discover(rng, buf);
            buf[1] = rng.random();
            buf[2] = rng.random_range(17..=255);
        }
        GarbageKind::Overload => {
            discover(rng, buf);
            rng.fill(&mut buf[44..236]);
            buf.pop(); // the END of discover()
            buf.extend_from_slice(&[52, 1, rng.random_range(0..=4), 255]);
        }
        GarbageKind::RandomRequest => {
            header(rng, 1, buf);
            let ciaddr: [u8; 4] = [10, 99, rng.random(), rng.random()];
            buf[12..16].copy_from_slice(&ciaddr);
            buf.extend_from_slice(&COOKIE);
            buf.extend_from_slice(&[53, 1, 3, 50, 4, 10, 99, 0, rng.random()]);
            if rng.random_bool(0.5) {
                buf.extend_from_slice(&[54, 4, 10, 99, 0, rng.random()]);
            }
            buf.push(255);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_generated_within_size() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut buf = Vec::new();
        for _ in 0..200 {
            for kind in GarbageKind::ALL {
                garbage(&mut rng, kind, &mut buf);
                assert!(buf.len() <= 1500, "{kind:?} {}", buf.len());
            }
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_packets() {
        let gen_all = || {
            let mut rng = ChaCha8Rng::seed_from_u64(7);
            let mut out = Vec::new();
            let mut buf = Vec::new();
            for kind in GarbageKind::ALL {
                garbage(&mut rng, kind, &mut buf);
                out.push(buf.clone());
            }
            out
        };
        assert_eq!(gen_all(), gen_all());
    }
}
