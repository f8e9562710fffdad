//! `stateless-responder`: the ceiling row of the load benchmark.
//!
//! A minimal DHCPv4 responder with no state and no disk: every DISCOVER gets
//! an OFFER and every REQUEST an ACK, for an address derived from the
//! client's hardware address. Relayed requests are answered to `giaddr:67`,
//! others by broadcast to port 68. It measures how fast the load generator
//! and the kernel can go when the server does (almost) nothing.
//!
//! ```text
//! stateless-responder SERVER-ADDRESS [PORT]
//! ```

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::process::ExitCode;

use benches::load::responder::answer;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(server) = args.next().and_then(|a| a.parse::<Ipv4Addr>().ok()) else {
        eprintln!("usage: stateless-responder SERVER-ADDRESS [PORT]");
        return ExitCode::FAILURE;
    };
    let port = args.next().and_then(|p| p.parse().ok()).unwrap_or(67);
    match serve(server, port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stateless-responder: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(server: Ipv4Addr, port: u16) -> std::io::Result<()> {
    let socket = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port))?;
    socket.set_broadcast(true)?;
    eprintln!("stateless-responder: serving on port {port} as {server}");
    let mut buf = [0u8; 1500];
    let mut reply = Vec::with_capacity(400);
    loop {
        let (n, _from) = socket.recv_from(&mut buf)?;
        let Some(to) = buf.get(..n).and_then(|req| answer(req, server, &mut reply)) else {
            continue;
        };
        let to = if to.ip().is_broadcast() {
            SocketAddrV4::new(*to.ip(), 68)
        } else {
            SocketAddrV4::new(*to.ip(), port)
        };
        // A full send buffer loses this reply; the client retries or the
        // load generator counts a drop, as with any server.
        let _ = socket.send_to(&reply, to);
    }
}
