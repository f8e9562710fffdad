//! The stateless responder's whole logic (see the `stateless-responder`
//! binary): one request in, one reply out, no state; plus two diagnostic
//! variants used to explain the benchmark (in the investigations of
//! docs/benchmarks.md's run history, kept in git): replies shaped like our
//! daemon's, and ACKs held back as a group commit would.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

const COOKIE: [u8; 4] = [99, 130, 83, 99];
/// The first address handed out (the benchmark's pool starts here).
const POOL_START: u32 = u32::from_be_bytes([10, 99, 16, 0]);
/// Addresses in the pool (10.99.16.0 onwards).
const POOL_SIZE: u32 = 60_000;

/// Builds the reply to `request` into `reply` and returns where it goes
/// (`giaddr:67` for relayed requests, `255.255.255.255` otherwise), or
/// `None` for anything but a well-formed DISCOVER or REQUEST.
/// With `like_ours`, the reply also carries the boot file, option 28 and
/// padding to 300 bytes, as our daemon's do in the benchmark lab.
pub fn answer(
    request: &[u8],
    server: Ipv4Addr,
    like_ours: bool,
    reply: &mut Vec<u8>,
) -> Option<SocketAddrV4> {
    let header = request.get(..236)?;
    if header.first() != Some(&1) || request.get(236..240)? != COOKIE {
        return None;
    }
    let reply_type = match message_type(request.get(240..)?)? {
        1 => 2, // DISCOVER → OFFER
        3 => 5, // REQUEST → ACK
        _ => return None,
    };
    let chaddr = header.get(28..44)?;
    let hash = chaddr.iter().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    });
    let yiaddr = POOL_START + hash % POOL_SIZE;
    reply.clear();
    reply.extend_from_slice(header);
    reply[0] = 2; // BOOTREPLY
    reply[16..20].copy_from_slice(&yiaddr.to_be_bytes());
    reply[20..24].copy_from_slice(&server.octets());
    reply.extend_from_slice(&COOKIE);
    reply.extend_from_slice(&[53, 1, reply_type, 54, 4]);
    reply.extend_from_slice(&server.octets());
    reply.extend_from_slice(&[51, 4, 0, 0, 0x0e, 0x10, 1, 4, 255, 255, 0, 0, 3, 4]);
    reply.extend_from_slice(&server.octets());
    if like_ours {
        reply[108..118].copy_from_slice(b"pxelinux.0");
        reply.extend_from_slice(&[28, 4, 10, 99, 255, 255]);
    }
    reply.push(255);
    if like_ours {
        reply.resize(300, 0);
    }
    let giaddr = Ipv4Addr::new(header[24], header[25], header[26], header[27]);
    Some(if giaddr.is_unspecified() {
        SocketAddrV4::new(Ipv4Addr::BROADCAST, 68)
    } else {
        SocketAddrV4::new(giaddr, 67)
    })
}

/// ACKs held back and released together once the oldest has waited `hold`
/// (what a group commit does to a durable server's ACKs).
#[derive(Debug)]
pub struct HeldAcks {
    hold: Duration,
    since: Option<Instant>,
    queue: Vec<(Vec<u8>, SocketAddrV4)>,
}

impl HeldAcks {
    /// Holds for `hold`.
    pub fn new(hold: Duration) -> Self {
        Self {
            hold,
            since: None,
            queue: Vec::new(),
        }
    }

    /// Whether `reply` (an encoded reply) is an ACK.
    pub fn is_ack(reply: &[u8]) -> bool {
        reply.get(240..243) == Some(&[53, 1, 5])
    }

    /// Queues a reply at `now`.
    pub fn push(&mut self, reply: &[u8], to: SocketAddrV4, now: Instant) {
        self.since.get_or_insert(now);
        self.queue.push((reply.to_vec(), to));
    }

    /// The held replies if the oldest has waited long enough at `now`.
    pub fn take_due(&mut self, now: Instant) -> Vec<(Vec<u8>, SocketAddrV4)> {
        match self.since {
            Some(t) if now.duration_since(t) >= self.hold => {
                self.since = None;
                std::mem::take(&mut self.queue)
            }
            _ => Vec::new(),
        }
    }
}

/// Option 53 from an options field, stopping at END or at a malformed option.
fn message_type(mut options: &[u8]) -> Option<u8> {
    loop {
        match *options.first()? {
            0 => options = options.get(1..)?,
            255 => return None,
            code => {
                let len = usize::from(*options.get(1)?);
                let value = options.get(2..2 + len)?;
                if code == 53 && len == 1 {
                    return value.first().copied();
                }
                options = options.get(2 + len..)?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(kind: u8, giaddr: [u8; 4]) -> Vec<u8> {
        let mut p = vec![0u8; 236];
        p[0] = 1;
        p[1] = 1;
        p[2] = 6;
        p[4..8].copy_from_slice(&[1, 2, 3, 4]);
        p[24..28].copy_from_slice(&giaddr);
        p[28..34].copy_from_slice(&[2, 0, 0, 0, 0, 7]);
        p.extend_from_slice(&COOKIE);
        p.extend_from_slice(&[0, 53, 1, kind, 255]);
        p
    }

    #[test]
    fn offers_and_acks_to_the_relay() {
        let server = Ipv4Addr::new(10, 99, 0, 1);
        let mut out = Vec::new();
        let to = answer(&request(1, [10, 99, 0, 10]), server, false, &mut out).unwrap();
        assert_eq!(to, SocketAddrV4::new(Ipv4Addr::new(10, 99, 0, 10), 67));
        assert_eq!(out[0], 2);
        assert_eq!(&out[4..8], &[1, 2, 3, 4]);
        assert_eq!(&out[240..243], &[53, 1, 2]);
        let offered = out[16..20].to_vec();
        answer(&request(3, [10, 99, 0, 10]), server, false, &mut out).unwrap();
        assert_eq!(&out[240..243], &[53, 1, 5]);
        assert_eq!(out[16..20], offered[..], "same address every time");
        let to = answer(&request(1, [0; 4]), server, false, &mut out).unwrap();
        assert!(to.ip().is_broadcast());
    }

    #[test]
    fn ignores_everything_else() {
        let server = Ipv4Addr::new(10, 99, 0, 1);
        let mut out = Vec::new();
        assert!(answer(&request(7, [0; 4]), server, false, &mut out).is_none());
        assert!(answer(&[1, 2, 3], server, false, &mut out).is_none());
        let mut reply = request(1, [0; 4]);
        reply[0] = 2;
        assert!(answer(&reply, server, false, &mut out).is_none());
        let mut bad = request(1, [0; 4]);
        bad.truncate(243);
        assert!(answer(&bad, server, false, &mut out).is_none());
    }

    #[test]
    fn replies_like_ours_carry_the_boot_file_and_broadcast_option() {
        let server = Ipv4Addr::new(10, 99, 0, 1);
        let mut out = Vec::new();
        answer(&request(1, [10, 99, 0, 10]), server, true, &mut out).unwrap();
        assert_eq!(out.len(), 300);
        assert_eq!(&out[108..119], b"pxelinux.0\0");
        assert!(out.windows(6).any(|w| w == [28, 4, 10, 99, 255, 255]));
        assert_eq!(&out[240..243], &[53, 1, 2]);
    }

    #[test]
    fn held_acks_leave_together_once_the_oldest_has_waited() {
        let t0 = Instant::now();
        let to = SocketAddrV4::new(Ipv4Addr::new(10, 99, 0, 10), 67);
        let mut h = HeldAcks::new(Duration::from_millis(3));
        assert!(h.take_due(t0).is_empty());
        h.push(b"a", to, t0);
        h.push(b"b", to, t0 + Duration::from_millis(2));
        assert!(h.take_due(t0 + Duration::from_millis(2)).is_empty());
        let out = h.take_due(t0 + Duration::from_millis(3));
        assert_eq!(out.len(), 2);
        assert!(h.take_due(t0 + Duration::from_millis(10)).is_empty());
        let mut ack = vec![0u8; 240];
        ack.extend_from_slice(&[53, 1, 5]);
        assert!(HeldAcks::is_ack(&ack));
        ack[242] = 2;
        assert!(!HeldAcks::is_ack(&ack));
    }
}
