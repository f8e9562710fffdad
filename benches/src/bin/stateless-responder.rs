//! `stateless-responder`: the ceiling row of the load benchmark.
//!
//! A minimal DHCPv4 responder with no state and no disk: every DISCOVER gets
//! an OFFER and every REQUEST an ACK, for an address derived from the
//! client's hardware address. Relayed requests are answered to `giaddr:67`,
//! others by broadcast to port 68. It measures how fast the load generator
//! and the kernel can go when the server does (almost) nothing.
//!
//! ```text
//! stateless-responder SERVER-ADDRESS [PORT] [--like-ours] [--hold-acks-us=N]
//! ```
//!
//! Two diagnostic variants (off by default; the investigations in
//! docs/benchmarks.md's run history, kept in git, use them to explain what
//! the load generator pays for): `--like-ours` shapes replies
//! like our daemon's in the benchmark lab (boot file, option 28, 300 bytes),
//! `--hold-acks-us=N` holds ACKs back and sends them together once the
//! oldest has waited N µs, as a group commit does.

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use benches::load::responder::{HeldAcks, answer};

/// The responder's settings.
struct Options {
    server: Ipv4Addr,
    port: u16,
    like_ours: bool,
    hold_acks: Option<Duration>,
}

const USAGE: &str =
    "usage: stateless-responder SERVER-ADDRESS [PORT] [--like-ours] [--hold-acks-us=N]";

fn parse(args: impl Iterator<Item = String>) -> Option<Options> {
    let mut positional = Vec::new();
    let mut like_ours = false;
    let mut hold_acks = None;
    for a in args {
        if a == "--like-ours" {
            like_ours = true;
        } else if let Some(us) = a.strip_prefix("--hold-acks-us=") {
            hold_acks = Some(Duration::from_micros(us.parse().ok()?));
        } else if a.starts_with("--") {
            return None;
        } else {
            positional.push(a);
        }
    }
    let mut positional = positional.into_iter();
    let server = positional.next()?.parse().ok()?;
    let port = match positional.next() {
        Some(p) => p.parse().ok()?,
        None => 67,
    };
    Some(Options {
        server,
        port,
        like_ours,
        hold_acks,
    })
}

fn main() -> ExitCode {
    let Some(options) = parse(std::env::args().skip(1)) else {
        eprintln!("{USAGE}");
        return ExitCode::FAILURE;
    };
    match serve(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stateless-responder: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(o: &Options) -> std::io::Result<()> {
    let socket = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, o.port))?;
    socket.set_broadcast(true)?;
    let mut held = o.hold_acks.map(HeldAcks::new);
    if held.is_some() {
        // Wake up now and then to release held ACKs when no request comes.
        socket.set_read_timeout(Some(Duration::from_micros(500)))?;
    }
    eprintln!(
        "stateless-responder: serving on port {} as {}",
        o.port, o.server
    );
    let mut buf = [0u8; 1500];
    let mut reply = Vec::with_capacity(400);
    loop {
        if let Some(h) = &mut held {
            for (r, to) in h.take_due(Instant::now()) {
                let _ = socket.send_to(&r, to);
            }
        }
        let n = match socket.recv_from(&mut buf) {
            Ok((n, _from)) => n,
            Err(e)
                if held.is_some()
                    && matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
            {
                continue;
            }
            Err(e) => return Err(e),
        };
        let Some(to) = buf
            .get(..n)
            .and_then(|req| answer(req, o.server, o.like_ours, &mut reply))
        else {
            continue;
        };
        let to = if to.ip().is_broadcast() {
            SocketAddrV4::new(*to.ip(), 68)
        } else {
            SocketAddrV4::new(*to.ip(), o.port)
        };
        if let Some(h) = &mut held
            && HeldAcks::is_ack(&reply)
        {
            h.push(&reply, to, Instant::now());
            continue;
        }
        // A full send buffer loses this reply; the client retries or the
        // load generator counts a drop, as with any server.
        let _ = socket.send_to(&reply, to);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> impl Iterator<Item = String> {
        s.split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn options_parse() {
        let o = parse(args("10.99.0.1")).unwrap();
        assert_eq!((o.port, o.like_ours, o.hold_acks), (67, false, None));
        let o = parse(args("10.99.0.1 6767 --like-ours --hold-acks-us=3300")).unwrap();
        assert_eq!(o.port, 6767);
        assert!(o.like_ours);
        assert_eq!(o.hold_acks, Some(Duration::from_micros(3300)));
        assert!(parse(args("")).is_none());
        assert!(parse(args("10.99.0.1 --hold-acks-us")).is_none());
        assert!(parse(args("10.99.0.1 --hold-acks-us=x")).is_none());
        assert!(parse(args("nonsense")).is_none());
    }
}
