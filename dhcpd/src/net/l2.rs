//! Layer-2 unicast to clients that have no IP address yet.
//!
//! RFC 2131 §4.1: a reply to a client with no address that did not set the
//! broadcast flag goes to `yiaddr` at the client's hardware address. The kernel
//! cannot route that (it would ARP for an address nobody holds yet), so there
//! are two ways: put a neighbour entry into the ARP cache with `SIOCSARP` and
//! send normally, or build the IPv4 and UDP headers ourselves and hand the
//! packet to an `AF_PACKET` socket with the client's MAC as link destination.
//!
//! **We use the `AF_PACKET` socket**, as ISC dhcpd does with its raw sockets,
//! because:
//! - it needs `CAP_NET_RAW`, which the daemon gets anyway; `SIOCSARP` needs
//!   `CAP_NET_ADMIN`, which the shipped systemd unit does not grant (it runs
//!   with `CAP_NET_BIND_SERVICE CAP_NET_RAW` only);
//! - it leaves no state behind: ARP injection adds neighbour entries that stay
//!   after the client has moved on, and can race with real ARP traffic or
//!   overwrite an entry another process relies on;
//! - it is one `sendto` per reply instead of an ioctl plus a send.
//!
//! The socket is `SOCK_DGRAM` ("cooked"): the kernel writes the Ethernet
//! header from the `sockaddr_ll` destination, so we only build IPv4 + UDP, with
//! both checksums. It is opened with protocol 0, so it never receives anything.
//! Without the capability the daemon falls back to broadcasting such replies
//! (which every client accepts) and counts the fallbacks.

use std::io;
use std::net::SocketAddrV4;
use std::os::fd::AsRawFd;

use socket2::{Domain, Socket, Type};

/// EtherType of IPv4.
const ETH_P_IP: u16 = 0x0800;
/// IPv4 header length (no options).
const IPV4_HEADER: usize = 20;
/// UDP header length.
const UDP_HEADER: usize = 8;
/// Time to live of the frames we build.
const TTL: u8 = 64;

/// The Internet checksum (RFC 1071) of `data`, continuing from `sum`.
fn sum16(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Builds an IPv4 packet carrying one UDP datagram from `src` to `dst`, with
/// correct IP header and UDP checksums.
pub fn ipv4_udp(src: SocketAddrV4, dst: SocketAddrV4, payload: &[u8]) -> io::Result<Vec<u8>> {
    let udp_len = u16::try_from(UDP_HEADER + payload.len())
        .ok()
        .filter(|l| usize::from(*l) + IPV4_HEADER <= usize::from(u16::MAX))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "payload too large"))?;
    let total = udp_len + IPV4_HEADER as u16;
    let mut p = Vec::with_capacity(usize::from(total));
    // IPv4 header.
    p.extend_from_slice(&[0x45, 0x00]);
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0]); // identification, flags, fragment offset
    p.extend_from_slice(&[TTL, 17, 0, 0]); // TTL, protocol UDP, checksum placeholder
    p.extend_from_slice(&src.ip().octets());
    p.extend_from_slice(&dst.ip().octets());
    let ip_sum = fold(sum16(0, &p[..IPV4_HEADER]));
    p[10..12].copy_from_slice(&ip_sum.to_be_bytes());
    // UDP header and payload.
    p.extend_from_slice(&src.port().to_be_bytes());
    p.extend_from_slice(&dst.port().to_be_bytes());
    p.extend_from_slice(&udp_len.to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(payload);
    // Pseudo-header: source, destination, zero, protocol, UDP length.
    let mut pseudo = [0u8; 12];
    pseudo[..4].copy_from_slice(&src.ip().octets());
    pseudo[4..8].copy_from_slice(&dst.ip().octets());
    pseudo[9] = 17;
    pseudo[10..12].copy_from_slice(&udp_len.to_be_bytes());
    let mut udp_sum = fold(sum16(sum16(0, &pseudo), &p[IPV4_HEADER..]));
    if udp_sum == 0 {
        udp_sum = 0xffff;
    }
    p[IPV4_HEADER + 6..IPV4_HEADER + 8].copy_from_slice(&udp_sum.to_be_bytes());
    Ok(p)
}

/// A send-only `AF_PACKET` socket.
#[derive(Debug)]
pub struct L2Sender {
    sock: Socket,
}

impl L2Sender {
    /// Opens the socket (needs `CAP_NET_RAW`).
    pub fn open() -> io::Result<Self> {
        let sock = Socket::new(Domain::PACKET, Type::DGRAM, None)?;
        sock.set_nonblocking(true)?;
        Ok(Self { sock })
    }

    /// Sends a UDP datagram from `src` to `dst` as an IPv4 frame addressed to
    /// `mac` out of interface `ifindex`.
    pub fn send(
        &self,
        ifindex: u32,
        mac: [u8; 6],
        src: SocketAddrV4,
        dst: SocketAddrV4,
        payload: &[u8],
    ) -> io::Result<()> {
        let packet = ipv4_udp(src, dst, payload)?;
        let mut addr_bytes = [0u8; 8];
        addr_bytes[..6].copy_from_slice(&mac);
        let sll = libc::sockaddr_ll {
            sll_family: libc::AF_PACKET as u16,
            sll_protocol: ETH_P_IP.to_be(),
            sll_ifindex: i32::try_from(ifindex)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "bad ifindex"))?,
            sll_hatype: 0,
            sll_pkttype: 0,
            sll_halen: 6,
            sll_addr: addr_bytes,
        };
        // SAFETY: `packet` is a live buffer of the given length; `sll` is a
        // fully initialised `sockaddr_ll` whose exact size is passed, and the
        // kernel only reads both for the duration of the call.
        let n = unsafe {
            libc::sendto(
                self.sock.as_raw_fd(),
                packet.as_ptr().cast(),
                packet.len(),
                0,
                (&raw const sll).cast::<libc::sockaddr>(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

/// The destination MAC for a layer-2 send, if the hardware address is Ethernet.
pub fn ethernet_mac(htype: u8, addr: &[u8]) -> Option<[u8; 6]> {
    if htype != 1 {
        return None;
    }
    <[u8; 6]>::try_from(addr).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn verify(data: &[u8]) -> u16 {
        fold(sum16(0, data))
    }

    #[test]
    fn checksums_verify() {
        let src = SocketAddrV4::new(Ipv4Addr::new(10, 99, 0, 1), 67);
        let dst = SocketAddrV4::new(Ipv4Addr::new(10, 99, 0, 100), 68);
        for len in [0usize, 1, 300, 301, 548] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let p = ipv4_udp(src, dst, &payload).unwrap();
            assert_eq!(p.len(), 28 + len);
            assert_eq!(p[0], 0x45);
            assert_eq!(u16::from_be_bytes([p[2], p[3]]) as usize, 28 + len);
            // A header with a correct checksum sums to 0xffff (folds to 0).
            assert_eq!(verify(&p[..20]), 0);
            let mut pseudo = Vec::new();
            pseudo.extend_from_slice(&p[12..20]);
            pseudo.extend_from_slice(&[0, 17]);
            pseudo.extend_from_slice(&p[24..26]);
            pseudo.extend_from_slice(&p[20..]);
            assert_eq!(verify(&pseudo), 0);
            assert_eq!(&p[20..22], &67u16.to_be_bytes());
            assert_eq!(&p[22..24], &68u16.to_be_bytes());
            assert_eq!(&p[28..], &payload[..]);
        }
    }

    #[test]
    fn known_header_checksum() {
        // Header from RFC 1071-style worked example (Wikipedia's IPv4 checksum
        // example): 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7.
        let h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(verify(&h), 0xb861);
    }

    #[test]
    fn ethernet_only() {
        assert_eq!(
            ethernet_mac(1, &[1, 2, 3, 4, 5, 6]),
            Some([1, 2, 3, 4, 5, 6])
        );
        assert_eq!(ethernet_mac(6, &[1, 2, 3, 4, 5, 6]), None);
        assert_eq!(ethernet_mac(1, &[1, 2, 3]), None);
    }

    /// Checksums computed independently (a few lines of Python's `struct`)
    /// for the same packet.
    #[test]
    fn known_answer_checksums() {
        let src = SocketAddrV4::new(Ipv4Addr::new(10, 99, 0, 1), 67);
        let dst = SocketAddrV4::new(Ipv4Addr::new(10, 99, 0, 100), 68);
        let payload: Vec<u8> = (0..301usize).map(|i| (i * 7 + 3) as u8).collect();
        let p = ipv4_udp(src, dst, &payload).unwrap();
        assert_eq!(u16::from_be_bytes([p[10], p[11]]), 0x647a);
        assert_eq!(u16::from_be_bytes([p[26], p[27]]), 0x838a);
    }

    #[test]
    fn open_needs_no_more_than_net_raw() {
        // With CAP_NET_RAW it opens; without, it fails cleanly (no panic).
        let _ = L2Sender::open();
    }

    #[test]
    fn oversized_payload_refused() {
        let a = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 1);
        assert!(ipv4_udp(a, a, &vec![0; 70_000]).is_err());
    }
}
