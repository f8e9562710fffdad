//! The UDP server socket, with the arrival interface and local address of every
//! datagram.
//!
//! Sockets are made with `socket2` (`SO_REUSEADDR`, `SO_BROADCAST`,
//! `SO_BINDTODEVICE`, bound to `0.0.0.0:port`) and driven by tokio's
//! readiness (`AsyncFd`). Tokio's `UdpSocket` does not expose `IP_PKTINFO`,
//! so datagrams go through the `nix` crate in batches: `recvmmsg(2)` takes
//! every queued datagram (up to a batch) per wake-up, and `sendmmsg(2)` sends
//! a run of replies that share source address and interface in one call (a
//! lone reply: `sendmsg(2)`). A batch that comes back short means the queue
//! is empty, so readiness is cleared then without a further `recvmmsg(2)`
//! that would only say `EAGAIN` (tokio keeps any readiness that arrived
//! meanwhile). Within a run, consecutive replies of the same length to the
//! same unicast destination (a relay's ACKs after a group commit) go as one
//! UDP GSO send (`UDP_SEGMENT`, Linux 4.18): one trip down the stack for up
//! to `GSO_MAX_SEGMENTS` (16) datagrams, which the kernel splits at the device
//! (or at the receiving socket). Broadcasts are not batched this way: every
//! host on the link receives each of them, and in the lab's flood test
//! clients whose sockets took runs of broadcasts at once lost their own
//! replies and fell back to retransmission. A socket whose kernel
//! or route refuses GSO stops using it and sends those runs with
//! `sendmmsg(2)`.
//!
//! `nix` was chosen over `quinn-udp` because the latter also turns on
//! QUIC-specific socket options (ECN, don't-fragment, GRO) that a DHCP server
//! does not want, and over raw `libc` calls because it keeps the
//! control-message parsing safe.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, MultiHeaders, RecvMsg, SockaddrIn, recvmmsg,
    sendmmsg, sendmsg, setsockopt, sockopt,
};
use socket2::{Domain, Protocol, SockRef, Socket, Type};
use tokio::io::unix::AsyncFd;

/// Requested socket receive buffer size.
pub const RECV_BUFFER_BYTES: usize = 4 << 20;

/// What `IP_PKTINFO` and the socket told about a received datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvMeta {
    /// Bytes received (at most the buffer size).
    pub len: usize,
    /// Whether the datagram was larger than the buffer.
    pub truncated: bool,
    /// The sender.
    pub src: SocketAddrV4,
    /// Index of the interface it arrived on (0 if unknown).
    pub ifindex: u32,
    /// The local address the kernel would answer from (`ipi_spec_dst`), if known.
    pub local: Option<Ipv4Addr>,
    /// The destination address in the IP header (`ipi_addr`), if known.
    pub dst: Option<Ipv4Addr>,
    /// The socket's count of datagrams the kernel dropped for want of
    /// receive buffer (`SO_RXQ_OVFL`), as of this datagram.
    pub overflows: Option<u32>,
}

/// A UDP socket on the server port, optionally bound to one interface.
#[derive(Debug)]
pub struct ServerSocket {
    sock: AsyncFd<std::net::UdpSocket>,
    device: Option<Arc<str>>,
    /// The kernel index `device` had when the socket was bound to it (0: not
    /// bound, or the interface has gone): the socket hears that index only.
    bound_index: AtomicU32,
    /// Whether runs of equal replies go as UDP GSO sends.
    gso: AtomicBool,
    /// UDP GSO sends made.
    gso_sends: AtomicU64,
    /// The kernel's drop count last seen (`SO_RXQ_OVFL`).
    overflows_seen: AtomicU32,
}

/// What [`ServerSocket::follow_device`] did.
#[derive(Debug)]
pub enum DeviceChange {
    /// Nothing: the socket is bound to the device's current index (or has
    /// no device).
    Same,
    /// The device has gone; the socket hears nothing until it returns.
    Gone,
    /// The device has a new index and the socket is bound to it now.
    Rebound {
        /// The index the socket was bound to (0: the device had gone).
        from: u32,
        /// The device's index now.
        to: u32,
    },
    /// Binding to the device's new index failed.
    Failed(io::Error),
}

fn nix_err(e: nix::Error) -> io::Error {
    io::Error::from(e)
}

impl ServerSocket {
    /// Opens the socket on `0.0.0.0:port`, bound to `device` if given (every
    /// interface otherwise). Must be called inside a tokio runtime.
    pub fn bind(device: Option<&str>, port: u16) -> io::Result<Self> {
        let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        s.set_reuse_address(true)?;
        s.set_broadcast(true)?;
        let mut bound_index = 0;
        if let Some(d) = device {
            s.bind_device(Some(d.as_bytes()))?;
            bound_index = nix::net::if_::if_nametoindex(d).unwrap_or(0);
        }
        setsockopt(&s, sockopt::Ipv4PacketInfo, &true).map_err(nix_err)?;
        // Every received datagram then carries the socket's count of
        // datagrams dropped on a full receive buffer.
        if let Err(e) = setsockopt(&s, sockopt::RxqOvfl, &1) {
            tracing::debug!(error = %e, "SO_RXQ_OVFL unavailable: kernel receive drops not counted");
        }
        // A large receive buffer absorbs bursts (and floods) while the engine
        // catches up; the kernel caps it at `net.core.rmem_max`.
        if let Err(e) = s.set_recv_buffer_size(RECV_BUFFER_BYTES) {
            tracing::debug!(error = %e, "cannot enlarge the socket receive buffer");
        }
        s.set_nonblocking(true)?;
        s.bind(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port).into())?;
        // SAFETY: the std socket owns its descriptor: it stays open, and is
        // the one `as_raw_fd` returns, for as long as the `AsyncFd` holds it.
        let sock =
            unsafe { AsyncFd::register(std::net::UdpSocket::from(s)) }.map_err(io::Error::from)?;
        Ok(Self {
            sock,
            device: device.map(Arc::from),
            bound_index: AtomicU32::new(bound_index),
            gso: AtomicBool::new(true),
            gso_sends: AtomicU64::new(0),
            overflows_seen: AtomicU32::new(0),
        })
    }

    /// Turns UDP GSO sends on or off (on by default).
    pub fn set_gso(&self, on: bool) {
        self.gso.store(on, Ordering::Relaxed);
    }

    /// UDP GSO sends made so far (each carried two or more datagrams).
    pub fn gso_sends(&self) -> u64 {
        self.gso_sends.load(Ordering::Relaxed)
    }

    /// How many more datagrams the kernel dropped on this socket's full
    /// receive buffer since the last call, as told by `metas` (the batch
    /// just received; the count rides on every datagram).
    pub fn new_overflows(&self, metas: &[RecvMeta]) -> u64 {
        let Some(now) = metas.iter().filter_map(|m| m.overflows).max() else {
            return 0;
        };
        let before = self.overflows_seen.fetch_max(now, Ordering::Relaxed);
        u64::from(now.saturating_sub(before))
    }

    /// The interface the socket is bound to, if any.
    pub fn device(&self) -> Option<&str> {
        self.device.as_deref()
    }

    /// Keeps the socket on its device when that interface is deleted and
    /// created again (a VLAN or bridge recreated by the network
    /// configuration): the kernel binds a socket to an interface *index*, so
    /// it would hear nothing on the new interface of the same name. `index`
    /// is the device's current index, `None` if it does not exist now.
    pub fn follow_device(&self, index: Option<u32>) -> DeviceChange {
        let Some(device) = &self.device else {
            return DeviceChange::Same;
        };
        let bound = self.bound_index.load(Ordering::Relaxed);
        match index {
            Some(i) if i == bound => DeviceChange::Same,
            None if bound == 0 => DeviceChange::Same,
            None => {
                self.bound_index.store(0, Ordering::Relaxed);
                DeviceChange::Gone
            }
            Some(i) => {
                match SockRef::from(self.sock.get_ref()).bind_device(Some(device.as_bytes())) {
                    Ok(()) => {
                        self.bound_index.store(i, Ordering::Relaxed);
                        DeviceChange::Rebound { from: bound, to: i }
                    }
                    Err(e) => DeviceChange::Failed(e),
                }
            }
        }
    }

    /// The local port.
    pub fn port(&self) -> io::Result<u16> {
        Ok(self.sock.get_ref().local_addr()?.port())
    }

    /// Receives up to `bufs.len()` datagrams, one into each buffer, waiting
    /// only if none is queued; `metas` is cleared and gets one entry per
    /// datagram, in order.
    pub async fn recv_batch(
        &self,
        bufs: &mut [Vec<u8>],
        metas: &mut Vec<RecvMeta>,
    ) -> io::Result<()> {
        let fd = self.sock.as_raw_fd();
        loop {
            metas.clear();
            let mut ready = self.sock.readable().await?;
            if let Ok(r) = ready.try_io(|_| recv_many(fd, bufs, metas)) {
                if r.is_ok() && metas.len() < bufs.len() {
                    ready.clear_ready();
                }
                return r;
            }
        }
    }

    /// Sends each of `datas` to the matching entry of `dsts`, all from address
    /// `src` out of interface `ifindex` (0: let routing choose), in order, in
    /// as few system calls as the socket buffer allows: runs of equal-length
    /// datagrams to one destination as UDP GSO sends, the rest with
    /// `sendmmsg(2)`. Returns one result per datagram.
    pub async fn send_batch(
        &self,
        datas: &[&[u8]],
        dsts: &[SocketAddrV4],
        src: Ipv4Addr,
        ifindex: u32,
    ) -> Vec<io::Result<()>> {
        let fd = self.sock.as_raw_fd();
        let info = pktinfo(src, ifindex);
        let n = datas.len().min(dsts.len());
        let mut results = Vec::with_capacity(n);
        while results.len() < n {
            let at = results.len();
            let gso = self.gso.load(Ordering::Relaxed);
            let group = gso_run(&datas[at..n], &dsts[at..n]);
            let end = if gso && group >= 2 {
                let sent = self
                    .when_writable(|| send_segments(fd, &datas[at..at + group], dsts[at], &info))
                    .await;
                match sent {
                    Ok(()) => {
                        self.gso_sends.fetch_add(1, Ordering::Relaxed);
                        results.extend((0..group).map(|_| Ok(())));
                        continue;
                    }
                    Err(e) => {
                        if gso_unsupported(&e) {
                            self.gso.store(false, Ordering::Relaxed);
                            tracing::warn!(error = %e, device = ?self.device,
                                "UDP GSO refused: sending replies one datagram at a time");
                        }
                        // This group one datagram at a time, so that each
                        // gets its own result.
                        at + group
                    }
                }
            } else if gso {
                // Up to where the next GSO run starts.
                (at + 1..n)
                    .find(|&i| gso_run(&datas[i..n], &dsts[i..n]) >= 2)
                    .unwrap_or(n)
            } else {
                n
            };
            let sent = self
                .when_writable(|| send_many(fd, &datas[at..end], &dsts[at..end], &info))
                .await;
            match sent {
                Ok(0) => results.push(Err(io::Error::other("sendmmsg sent nothing"))),
                Ok(k) => results.extend((0..k).map(|_| Ok(()))),
                // The first datagram of the run failed: report it, go on
                // with the next.
                Err(e) => results.push(Err(e)),
            }
        }
        results
    }

    /// Runs `f` once the socket is writable, again after each `EAGAIN`.
    async fn when_writable<R>(&self, mut f: impl FnMut() -> io::Result<R>) -> io::Result<R> {
        loop {
            let mut ready = self.sock.writable().await?;
            if let Ok(r) = ready.try_io(|_| f()) {
                return r;
            }
        }
    }
}

/// Most datagrams one `sendmmsg(2)` call takes.
const SEND_BATCH: usize = 64;

/// Most datagrams one UDP GSO send carries. The kernel takes 64; with 64 a
/// load generator on the same host lost more replies (the whole run lands in
/// its socket at once), while 8 and 16 saved as much CPU as 64 and lost no
/// more than plain `sendmmsg(2)` (docs/benchmarks.md, "UDP GSO").
const GSO_MAX_SEGMENTS: usize = 16;

/// Most payload bytes one UDP GSO send carries (below the 64 KiB limit of
/// one IP packet).
const GSO_MAX_BYTES: usize = 60_000;

/// How many datagrams from the start of `datas` can go as one UDP GSO send:
/// the same length and the same unicast destination (1 for a broadcast).
fn gso_run(datas: &[&[u8]], dsts: &[SocketAddrV4]) -> usize {
    let (Some(first), Some(dst)) = (datas.first(), dsts.first()) else {
        return 0;
    };
    if dst.ip().is_broadcast() {
        return 1;
    }
    let len = first.len();
    let cap = GSO_MAX_SEGMENTS.min(GSO_MAX_BYTES / len.max(1)).max(1);
    datas
        .iter()
        .zip(dsts)
        .take(cap)
        .take_while(|(d, t)| d.len() == len && *t == dst)
        .count()
}

/// Whether a failed GSO send means the socket cannot use GSO at all (old
/// kernel, or a route through IPsec), rather than a failure of this send.
fn gso_unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EIO | libc::EINVAL | libc::ENOPROTOOPT | libc::EOPNOTSUPP)
    )
}

/// One `sendmsg(2)` carrying `datas` (all the same length) to `dst` as
/// segments of one UDP GSO send.
fn send_segments(
    fd: i32,
    datas: &[&[u8]],
    dst: SocketAddrV4,
    info: &libc::in_pktinfo,
) -> io::Result<()> {
    let segment = datas
        .first()
        .and_then(|d| u16::try_from(d.len()).ok())
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    // On the stack: a run never exceeds GSO_MAX_SEGMENTS (see `gso_run`).
    let mut iov = [io::IoSlice::new(&[]); GSO_MAX_SEGMENTS];
    let n = datas.len().min(GSO_MAX_SEGMENTS);
    for (slot, d) in iov.iter_mut().zip(datas) {
        *slot = io::IoSlice::new(d);
    }
    let iov = &iov[..n];
    let cmsgs = [
        ControlMessage::Ipv4PacketInfo(info),
        ControlMessage::UdpGsoSegments(&segment),
    ];
    let addr = SockaddrIn::from(dst);
    sendmsg(fd, iov, &cmsgs, MsgFlags::empty(), Some(&addr)).map_err(nix_err)?;
    Ok(())
}

fn pktinfo(src: Ipv4Addr, ifindex: u32) -> libc::in_pktinfo {
    libc::in_pktinfo {
        ipi_ifindex: i32::try_from(ifindex).unwrap_or(0),
        ipi_spec_dst: libc::in_addr {
            s_addr: u32::from(src).to_be(),
        },
        ipi_addr: libc::in_addr { s_addr: 0 },
    }
}

/// One `sendmmsg(2)` of up to [`SEND_BATCH`] datagrams (a lone datagram:
/// one `sendmsg(2)`, which needs no header arrays); how many were sent.
fn send_many(
    fd: i32,
    datas: &[&[u8]],
    dsts: &[SocketAddrV4],
    info: &libc::in_pktinfo,
) -> io::Result<usize> {
    let n = datas.len().min(dsts.len()).min(SEND_BATCH);
    if let ([data, ..], [dst, ..], 1) = (datas, dsts, n) {
        let iov = [io::IoSlice::new(data)];
        let cmsgs = [ControlMessage::Ipv4PacketInfo(info)];
        let addr = SockaddrIn::from(*dst);
        sendmsg(fd, &iov, &cmsgs, MsgFlags::empty(), Some(&addr)).map_err(nix_err)?;
        return Ok(1);
    }
    let iovs: Vec<[io::IoSlice<'_>; 1]> =
        datas[..n].iter().map(|d| [io::IoSlice::new(d)]).collect();
    let addrs: Vec<Option<SockaddrIn>> = dsts[..n]
        .iter()
        .map(|d| Some(SockaddrIn::from(*d)))
        .collect();
    let cmsgs = [ControlMessage::Ipv4PacketInfo(info)];
    let mut headers =
        MultiHeaders::<SockaddrIn>::preallocate(n, Some(nix::cmsg_space!(libc::in_pktinfo)));
    let sent =
        sendmmsg(fd, &mut headers, &iovs, &addrs, cmsgs, MsgFlags::empty()).map_err(nix_err)?;
    Ok(sent.count())
}

/// One `recvmmsg(2)` into `bufs`, appending a [`RecvMeta`] per datagram.
fn recv_many(fd: i32, bufs: &mut [Vec<u8>], metas: &mut Vec<RecvMeta>) -> io::Result<()> {
    // Fresh headers per call: the kernel rewrites their control lengths.
    let mut headers = MultiHeaders::<SockaddrIn>::preallocate(
        bufs.len(),
        Some(nix::cmsg_space!(libc::in_pktinfo, u32)),
    );
    let mut iovs: Vec<[io::IoSliceMut<'_>; 1]> = bufs
        .iter_mut()
        .map(|b| [io::IoSliceMut::new(b.as_mut_slice())])
        .collect();
    let received = recvmmsg(
        fd,
        &mut headers,
        iovs.iter_mut(),
        MsgFlags::MSG_DONTWAIT,
        None,
    )
    .map_err(nix_err)?;
    metas.extend(received.map(|m| meta_of(&m)));
    Ok(())
}

fn meta_of(msg: &RecvMsg<'_, '_, SockaddrIn>) -> RecvMeta {
    let src = msg
        .address
        .map(|a| SocketAddrV4::new(a.ip(), a.port()))
        .unwrap_or_else(|| SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
    let mut meta = RecvMeta {
        len: msg.bytes,
        truncated: msg.flags.contains(MsgFlags::MSG_TRUNC),
        src,
        ifindex: 0,
        local: None,
        dst: None,
        overflows: None,
    };
    if let Ok(cmsgs) = msg.cmsgs() {
        for c in cmsgs {
            if let ControlMessageOwned::Ipv4PacketInfo(info) = c {
                meta.ifindex = u32::try_from(info.ipi_ifindex).unwrap_or(0);
                meta.local = Some(Ipv4Addr::from(u32::from_be(info.ipi_spec_dst.s_addr)));
                meta.dst = Some(Ipv4Addr::from(u32::from_be(info.ipi_addr.s_addr)));
            } else if let ControlMessageOwned::RxqOvfl(n) = c {
                meta.overflows = Some(n);
            }
        }
    }
    meta
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn follows_its_device_when_it_goes_and_returns() {
        let s = ServerSocket::bind(Some("lo"), 0).unwrap();
        let lo = nix::net::if_::if_nametoindex("lo").unwrap();
        assert!(matches!(s.follow_device(Some(lo)), DeviceChange::Same));
        assert!(matches!(s.follow_device(None), DeviceChange::Gone));
        assert!(
            matches!(s.follow_device(None), DeviceChange::Same),
            "reported once"
        );
        assert!(matches!(
            s.follow_device(Some(lo)),
            DeviceChange::Rebound { from: 0, to } if to == lo
        ));
        // Bound again, it hears the device.
        let (_, m, _) = one_from_loopback(&s, b"again", 8).await;
        assert_eq!(m.ifindex, lo);
        // A socket on every interface has nothing to follow.
        let any = ServerSocket::bind(None, 0).unwrap();
        assert!(matches!(any.follow_device(None), DeviceChange::Same));
    }

    /// Sends `payload` to `s` from a new loopback socket and receives it into
    /// a buffer of `room` bytes; returns it, its metadata and the sender.
    async fn one_from_loopback(
        s: &ServerSocket,
        payload: &[u8],
        room: usize,
    ) -> (Vec<u8>, RecvMeta, std::net::UdpSocket) {
        let c = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        c.send_to(payload, ("127.0.0.1", s.port().unwrap()))
            .unwrap();
        let mut bufs = vec![vec![0u8; room]];
        let mut metas = Vec::new();
        s.recv_batch(&mut bufs, &mut metas).await.unwrap();
        (bufs.swap_remove(0), metas[0], c)
    }

    #[tokio::test]
    async fn datagrams_lost_on_a_full_receive_buffer_are_counted() {
        let s = ServerSocket::bind(Some("lo"), 0).unwrap();
        let c = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        // Far more than the receive buffer holds (net.core.rmem_max caps it).
        let payload = [0u8; 1400];
        for _ in 0..20_000 {
            let _ = c.send_to(&payload, ("127.0.0.1", s.port().unwrap()));
        }
        // The kernel stamps the drop count on datagrams queued after the
        // drops: drain the buffer, then one more arrives carrying it.
        let mut bufs = vec![vec![0u8; 1500]; 16];
        let mut metas = Vec::new();
        let mut lost = 0;
        let mut sent_after = false;
        for _ in 0..10_000 {
            let got = tokio::time::timeout(
                Duration::from_millis(50),
                s.recv_batch(&mut bufs, &mut metas),
            )
            .await;
            match got {
                Ok(r) => {
                    r.unwrap();
                    lost += s.new_overflows(&metas);
                    if lost > 0 {
                        break;
                    }
                }
                Err(_) if !sent_after => {
                    c.send_to(b"after", ("127.0.0.1", s.port().unwrap()))
                        .unwrap();
                    sent_after = true;
                }
                Err(_) => break,
            }
        }
        assert!(lost > 0, "no drop counted");
        assert_eq!(s.new_overflows(&metas), 0, "counted once");
    }

    #[tokio::test]
    async fn pktinfo_on_loopback() {
        let s = ServerSocket::bind(Some("lo"), 0).unwrap();
        let (buf, m, c) = one_from_loopback(&s, b"hello", 3).await;
        let port = s.port().unwrap();
        assert_eq!(m.len, 3);
        assert!(m.truncated);
        assert_eq!(&buf[..], b"hel");
        let lo = nix::net::if_::if_nametoindex("lo").unwrap();
        assert_eq!(m.ifindex, lo);
        assert_eq!(m.dst, Some(Ipv4Addr::LOCALHOST));
        assert_eq!(m.local, Some(Ipv4Addr::LOCALHOST));
        assert_eq!(m.src.port(), c.local_addr().unwrap().port());
        let to = v4(c.local_addr().unwrap());
        let sent = s
            .send_batch(&[b"back"], &[to], Ipv4Addr::LOCALHOST, lo)
            .await;
        assert!(sent.iter().all(|r| r.is_ok()));
        let mut r = [0u8; 16];
        let (n, from) = c.recv_from(&mut r).unwrap();
        assert_eq!(&r[..n], b"back");
        assert_eq!(from.port(), port);
    }

    #[tokio::test]
    async fn batches_in_and_out_on_loopback() {
        let s = ServerSocket::bind(Some("lo"), 0).unwrap();
        let port = s.port().unwrap();
        let c = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for i in 0..5u8 {
            c.send_to(&[i; 10], ("127.0.0.1", port)).unwrap();
        }
        // Four buffers: the first batch takes four, the next the fifth.
        let mut bufs = vec![vec![0u8; 8]; 4];
        let mut metas = Vec::new();
        s.recv_batch(&mut bufs, &mut metas).await.unwrap();
        assert_eq!(metas.len(), 4);
        for (i, (m, b)) in metas.iter().zip(&bufs).enumerate() {
            assert_eq!((m.len, m.truncated), (8, true));
            assert_eq!(b[..], [i as u8; 8]);
            assert_eq!(m.dst, Some(Ipv4Addr::LOCALHOST));
            assert!(m.ifindex > 0);
        }
        s.recv_batch(&mut bufs, &mut metas).await.unwrap();
        assert_eq!(metas.len(), 1);
        assert_eq!(bufs[0][..], [4; 8]);
        let to = v4(c.local_addr().unwrap());
        // More replies than one sendmmsg call takes (GSO off: these would
        // otherwise go as GSO sends, tested below).
        s.set_gso(false);
        let payloads: Vec<Vec<u8>> = (0..(SEND_BATCH + 6) as u32)
            .map(|i| i.to_be_bytes().to_vec())
            .collect();
        let datas: Vec<&[u8]> = payloads.iter().map(|p| p.as_slice()).collect();
        let dsts = vec![to; datas.len()];
        let results = s.send_batch(&datas, &dsts, Ipv4Addr::LOCALHOST, 0).await;
        assert_eq!(results.len(), datas.len());
        assert!(results.iter().all(|r| r.is_ok()));
        for p in &payloads {
            let mut r = [0u8; 16];
            let (n, _) = c.recv_from(&mut r).unwrap();
            assert_eq!(&r[..n], p.as_slice());
        }
        assert_eq!(s.gso_sends(), 0);
    }

    fn v4(a: std::net::SocketAddr) -> SocketAddrV4 {
        match a {
            std::net::SocketAddr::V4(a) => a,
            std::net::SocketAddr::V6(_) => unreachable!(),
        }
    }

    #[test]
    fn gso_runs_are_equal_length_to_one_destination_and_capped() {
        let (a, b) = (
            SocketAddrV4::new(Ipv4Addr::LOCALHOST, 1000),
            SocketAddrV4::new(Ipv4Addr::LOCALHOST, 1001),
        );
        let (x, y) = ([1u8; 300], [2u8; 301]);
        assert_eq!(gso_run(&[&x, &x, &x, &y], &[a, a, a, a]), 3);
        assert_eq!(gso_run(&[&x, &x, &x], &[a, a, b]), 2);
        assert_eq!(gso_run(&[&y, &x], &[a, a]), 1);
        assert_eq!(gso_run(&[], &[]), 0);
        let bcast = SocketAddrV4::new(Ipv4Addr::BROADCAST, 68);
        assert_eq!(gso_run(&[&x, &x, &x], &[bcast; 3]), 1);
        let many = vec![&x[..]; 100];
        assert_eq!(gso_run(&many, &[a; 100]), GSO_MAX_SEGMENTS);
        // Large datagrams: capped by bytes.
        let big = [0u8; 1400];
        let bigs = vec![&big[..]; 100];
        assert_eq!(
            gso_run(&bigs, &[a; 100]),
            GSO_MAX_SEGMENTS.min(GSO_MAX_BYTES / 1400)
        );
    }

    /// A mixed batch (runs of equal replies to one destination, replies of
    /// other lengths, another destination) arrives complete, in order and
    /// intact, with GSO on (some of it as GSO sends) and off.
    #[tokio::test]
    async fn gso_sends_arrive_as_separate_datagrams_in_order() {
        let s = ServerSocket::bind(Some("lo"), 0).unwrap();
        let c1 = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let c2 = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let (to1, to2) = (v4(c1.local_addr().unwrap()), v4(c2.local_addr().unwrap()));
        for gso in [true, false] {
            s.set_gso(gso);
            let before = s.gso_sends();
            // 40 × 300 bytes to c1 (three GSO sends), one 301-byte reply,
            // 3 × 300 to c2, 5 × 300 to c1 again.
            let mut plan: Vec<(usize, SocketAddrV4)> = vec![(300, to1); 40];
            plan.push((301, to1));
            plan.extend([(300, to2); 3]);
            plan.extend([(300, to1); 5]);
            let payloads: Vec<Vec<u8>> = plan
                .iter()
                .enumerate()
                .map(|(i, (len, _))| {
                    let mut p = vec![i as u8; *len];
                    p[..4].copy_from_slice(&(i as u32).to_be_bytes());
                    p
                })
                .collect();
            let datas: Vec<&[u8]> = payloads.iter().map(|p| p.as_slice()).collect();
            let dsts: Vec<SocketAddrV4> = plan.iter().map(|(_, d)| *d).collect();
            let results = s.send_batch(&datas, &dsts, Ipv4Addr::LOCALHOST, 0).await;
            assert_eq!(results.len(), datas.len());
            assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
            for (i, (_, dst)) in plan.iter().enumerate() {
                let c = if *dst == to1 { &c1 } else { &c2 };
                c.set_read_timeout(Some(std::time::Duration::from_secs(2)))
                    .unwrap();
                let mut r = [0u8; 2048];
                let (n, from) = c.recv_from(&mut r).unwrap();
                assert_eq!(&r[..n], payloads[i].as_slice(), "datagram {i} (gso {gso})");
                assert_eq!(from.port(), s.port().unwrap());
            }
            let gso_sends = s.gso_sends() - before;
            if gso {
                // The 40 in runs of at most GSO_MAX_SEGMENTS, the 3 to c2,
                // the last 5 (the lone 301-byte reply goes alone).
                let expected = 40usize.div_ceil(GSO_MAX_SEGMENTS) + 2;
                assert_eq!(gso_sends, expected as u64, "GSO sends");
            } else {
                assert_eq!(gso_sends, 0);
            }
        }
    }
}
