//! The swarm's sockets: a UDP socket on port 68 to send from, and where
//! replies are read from.
//!
//! Replies are read, by default, from a promiscuous `AF_PACKET` socket on the
//! interface, as real DHCP clients do: the simulated clients share one
//! interface whose MAC is not theirs, and a server that answers by unicast to
//! `chaddr` (no BROADCAST flag), or that keeps an ARP entry for `yiaddr` →
//! `chaddr` and later unicasts a renewal ACK, sends frames the kernel's IP
//! stack would drop as not for this host. The UDP socket's own receive path is
//! then shut off with a reject-all BPF filter so nothing is read twice.
//! [`ReceivePath::Udp`] reads from the UDP socket instead (broadcast replies
//! and unicast to addresses configured in the namespace only).

use std::fs::File;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use socket2::{Domain, Protocol, SockFilter, Socket, Type};

use crate::error::{Error, Result};

/// Where the swarm reads replies from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceivePath {
    /// A promiscuous packet socket on the interface (every frame, including
    /// unicast to the simulated clients' own MACs).
    Packet,
    /// The UDP socket on port 68 (broadcasts, and unicast to addresses
    /// configured in the namespace).
    Udp,
}

/// The swarm's sockets.
#[derive(Debug)]
pub struct SwarmSockets {
    /// The socket sends go out on (0.0.0.0:68, bound to the interface).
    pub send: UdpSocket,
    /// The packet socket, with [`ReceivePath::Packet`].
    packet: Option<File>,
}

impl SwarmSockets {
    /// Opens the sockets for `iface`. Must run on a thread inside the client
    /// namespace (see [`crate::netns::in_namespace`]).
    pub fn open(iface: &str, path: ReceivePath) -> Result<Self> {
        let send = client_socket(iface, path == ReceivePath::Packet)?;
        let packet = match path {
            ReceivePath::Packet => Some(packet_socket(iface)?),
            ReceivePath::Udp => None,
        };
        Ok(Self { send, packet })
    }

    /// Waits up to `timeout` for one datagram to port 68 and copies its UDP
    /// payload into `buf`; returns its length, or `None` on timeout.
    pub fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> Result<Option<usize>> {
        Ok(self.recv_to(buf, timeout)?.map(|(n, _)| n))
    }

    /// As [`Self::recv`], also giving the IPv4 destination the datagram was
    /// sent to (with [`ReceivePath::Packet`]; 0.0.0.0 on the UDP path).
    pub fn recv_to(
        &mut self,
        buf: &mut [u8],
        timeout: Duration,
    ) -> Result<Option<(usize, Ipv4Addr)>> {
        let timeout = timeout.max(Duration::from_millis(1));
        match &mut self.packet {
            None => {
                self.send
                    .set_read_timeout(Some(timeout))
                    .map_err(|e| Error::io("set_read_timeout", e))?;
                match self.send.recv_from(buf) {
                    Ok((n, _)) => Ok(Some((n, Ipv4Addr::UNSPECIFIED))),
                    Err(e) if transient(&e) => Ok(None),
                    Err(e) => Err(Error::io("recv on port 68", e)),
                }
            }
            Some(file) => {
                let deadline = std::time::Instant::now() + timeout;
                let mut frame = [0u8; 2048];
                loop {
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        return Ok(None);
                    }
                    socket2::SockRef::from(&*file)
                        .set_read_timeout(Some(left))
                        .map_err(|e| Error::io("set_read_timeout (packet)", e))?;
                    let n = match file.read(&mut frame) {
                        Ok(n) => n,
                        Err(e) if transient(&e) => return Ok(None),
                        Err(e) => return Err(Error::io("recv on packet socket", e)),
                    };
                    if let Some(payload) = udp_to_port(&frame[..n], 68) {
                        let len = payload.len().min(buf.len());
                        buf[..len].copy_from_slice(&payload[..len]);
                        let to = Ipv4Addr::new(frame[16], frame[17], frame[18], frame[19]);
                        return Ok(Some((len, to)));
                    }
                    // Not for port 68 (the filter lets few through): keep
                    // reading until the deadline.
                }
            }
        }
    }
}

fn transient(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock
            | std::io::ErrorKind::TimedOut
            | std::io::ErrorKind::Interrupted
    )
}

/// The UDP payload of an IPv4 packet (starting at the IP header) if it is an
/// unfragmented UDP datagram to `port`.
pub fn udp_to_port(ip: &[u8], port: u16) -> Option<&[u8]> {
    let first = *ip.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(first & 0x0f) * 4;
    if ihl < 20 || ip.len() < ihl + 8 || ip[9] != 17 {
        return None;
    }
    let frag = u16::from_be_bytes([ip[6], ip[7]]);
    if frag & 0x3fff != 0 {
        return None; // a fragment
    }
    let udp = &ip[ihl..];
    if u16::from_be_bytes([udp[2], udp[3]]) != port {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([udp[4], udp[5]]));
    if len < 8 || len > udp.len() {
        return None;
    }
    Some(&udp[8..len])
}

/// A UDP socket on 0.0.0.0:68 bound to `iface`, with broadcast allowed
/// (and, with `reject_all`, a filter that drops everything it would receive).
/// Must be called from a thread inside the client namespace.
fn client_socket(iface: &str, reject_all: bool) -> Result<UdpSocket> {
    let ctx = |what: &str| format!("client socket on {iface}: {what}");
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))
        .map_err(|e| Error::io(ctx("socket"), e))?;
    s.set_reuse_address(true)
        .map_err(|e| Error::io(ctx("SO_REUSEADDR"), e))?;
    s.set_broadcast(true)
        .map_err(|e| Error::io(ctx("SO_BROADCAST"), e))?;
    s.bind_device(Some(iface.as_bytes()))
        .map_err(|e| Error::io(ctx("SO_BINDTODEVICE"), e))?;
    let _ = s.set_recv_buffer_size(4 << 20);
    let _ = s.set_send_buffer_size(1 << 20);
    let addr = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68);
    s.bind(&addr.into())
        .map_err(|e| Error::io(ctx("bind 0.0.0.0:68"), e))?;
    if reject_all {
        // Replies are read from the packet socket; drop everything here
        // (BPF: return 0).
        s.attach_filter(&[SockFilter::new(0x06, 0, 0, 0)])
            .map_err(|e| Error::io(ctx("SO_ATTACH_FILTER"), e))?;
    }
    Ok(s.into())
}

/// A promiscuous `AF_PACKET`/`SOCK_DGRAM` socket for IPv4 on `iface`.
fn packet_socket(iface: &str) -> Result<File> {
    let ctx = |what: &str| format!("packet socket on {iface}: {what}");
    let name = std::ffi::CString::new(iface).map_err(|_| Error::BadName(iface.to_owned()))?;
    // SAFETY: if_nametoindex reads a valid NUL-terminated string.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if index == 0 {
        return Err(Error::io(
            ctx("if_nametoindex"),
            std::io::Error::last_os_error(),
        ));
    }
    let proto = (libc::ETH_P_IP as u16).to_be();
    // SAFETY: plain socket(2) call; the descriptor is owned right away.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_DGRAM, i32::from(proto)) };
    if fd < 0 {
        return Err(Error::io(ctx("socket"), std::io::Error::last_os_error()));
    }
    // SAFETY: fd is a fresh descriptor we own.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: sockaddr_ll is plain data, fully initialised before bind reads it.
    let rc = unsafe {
        let mut addr: libc::sockaddr_ll = std::mem::zeroed();
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = proto;
        addr.sll_ifindex = index as i32;
        libc::bind(
            owned.as_raw_fd(),
            (&addr as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(Error::io(ctx("bind"), std::io::Error::last_os_error()));
    }
    // SAFETY: packet_mreq is plain data passed by pointer with its size.
    let rc = unsafe {
        let mut mreq: libc::packet_mreq = std::mem::zeroed();
        mreq.mr_ifindex = index as i32;
        mreq.mr_type = libc::PACKET_MR_PROMISC as u16;
        libc::setsockopt(
            owned.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_ADD_MEMBERSHIP,
            (&mreq as *const libc::packet_mreq).cast(),
            std::mem::size_of::<libc::packet_mreq>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(Error::io(
            ctx("PACKET_MR_PROMISC"),
            std::io::Error::last_os_error(),
        ));
    }
    let sock = socket2::SockRef::from(&owned);
    sock.attach_filter(&UDP_TO_PORT_68)
        .map_err(|e| Error::io(ctx("SO_ATTACH_FILTER"), e))?;
    let _ = sock.set_recv_buffer_size(4 << 20);
    Ok(File::from(owned))
}

/// Classic BPF over the IPv4 header (a `SOCK_DGRAM` packet socket's data
/// starts there): accept unfragmented UDP to port 68, drop the rest.
const UDP_TO_PORT_68: [SockFilter; 9] = [
    SockFilter::new(0x30, 0, 0, 9),      // 0: ldb [9]           protocol
    SockFilter::new(0x15, 0, 6, 17),     // 1: jeq #17 ? 2 : 8   UDP
    SockFilter::new(0x28, 0, 0, 6),      // 2: ldh [6]           flags+offset
    SockFilter::new(0x45, 4, 0, 0x3fff), // 3: jset #0x3fff ? 8 : 4  fragment
    SockFilter::new(0xb1, 0, 0, 0),      // 4: ldxb 4*([0]&0xf)  header length
    SockFilter::new(0x48, 0, 0, 2),      // 5: ldh [x+2]         UDP dst port
    SockFilter::new(0x15, 0, 1, 68),     // 6: jeq #68 ? 7 : 8
    SockFilter::new(0x06, 0, 0, 0xffff), // 7: ret #65535        accept
    SockFilter::new(0x06, 0, 0, 0),      // 8: ret #0            drop
];

/// `sendmsg` with an `IP_PKTINFO` control message choosing the source
/// address `src` (which must be configured in the namespace).
pub(crate) fn send_from(
    socket: &UdpSocket,
    data: &[u8],
    to: SocketAddrV4,
    src: Ipv4Addr,
) -> std::io::Result<usize> {
    use std::os::fd::AsRawFd;
    let dst = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: to.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*to.ip()).to_be(),
        },
        sin_zero: [0; 8],
    };
    let info = libc::in_pktinfo {
        ipi_ifindex: 0,
        ipi_spec_dst: libc::in_addr {
            s_addr: u32::from(src).to_be(),
        },
        ipi_addr: libc::in_addr { s_addr: 0 },
    };
    // Room for one cmsghdr carrying an in_pktinfo, 8-byte aligned.
    let mut control = [0u64; 8];
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // SAFETY: msghdr is plain data; every pointer placed in it refers to a
    // local that outlives the sendmsg call, and the control buffer is large
    // and aligned enough for one cmsghdr with an in_pktinfo (checked below).
    unsafe {
        let space = libc::CMSG_SPACE(std::mem::size_of::<libc::in_pktinfo>() as u32) as usize;
        if space > std::mem::size_of_val(&control) {
            return Err(std::io::Error::other("control buffer too small"));
        }
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_name = &dst as *const libc::sockaddr_in as *mut libc::c_void;
        msg.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = space as _;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if cmsg.is_null() {
            return Err(std::io::Error::other("no room for IP_PKTINFO"));
        }
        (*cmsg).cmsg_level = libc::IPPROTO_IP;
        (*cmsg).cmsg_type = libc::IP_PKTINFO;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<libc::in_pktinfo>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::in_pktinfo>(), info);
        let n = libc::sendmsg(socket.as_raw_fd(), &msg, 0);
        if n < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::udp_to_port;

    #[test]
    fn extracts_udp_payload() {
        let mut p = vec![
            0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 99, 0, 1, 255, 255, 255, 255,
        ];
        p.extend_from_slice(&[0, 67, 0, 68, 0, 11, 0, 0, b'a', b'b', b'c']);
        assert_eq!(udp_to_port(&p, 68), Some(&b"abc"[..]));
        assert_eq!(udp_to_port(&p, 67), None);
        p[9] = 6; // TCP
        assert_eq!(udp_to_port(&p, 68), None);
        assert_eq!(udp_to_port(&[0x45, 0], 68), None);
        assert_eq!(udp_to_port(&[], 68), None);
    }
}
