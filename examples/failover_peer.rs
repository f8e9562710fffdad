//! Two failover peers of `dhcp-failover`, driven by the embedder's own TCP
//! stream and clock: the peer is sans-IO, so the driver feeds it bytes and
//! time and carries out what it returns. Here both peers run in one thread
//! over a loopback TCP connection and a virtual clock (one second per idle
//! turn), until both are NORMAL. The configured addresses (10.99.0.1/2) are
//! what the partners would announce; the stream itself is the caller's.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};

use dhcp_core::config::Config;
use dhcp_core::engine::Engine;
use dhcp_core::lease::UnixTime;
use dhcp_failover::peer::{Event, FailoverState, Peer};
use dhcp_failover::wire::FrameReader;

/// One side: the peer, the engine whose lease table it shares, its stream.
struct Side {
    peer: Peer,
    engine: Engine,
    stream: TcpStream,
    frames: FrameReader,
}

fn config(role: &str, me: u8, partner: u8) -> anyhow::Result<Config> {
    let primary_only = if role == "primary" {
        "mclt = 60\nsplit = 128\n"
    } else {
        ""
    };
    Ok(Config::from_toml(&format!(
        r#"
[[subnets]]
subnet = "10.99.0.0/24"
[[subnets.pools]]
start = "10.99.0.100"
end = "10.99.0.199"
failover_peer = "example"
[[failover]]
name = "example"
role = "{role}"
address = "10.99.0.{me}"
peer_address = "10.99.0.{partner}"
{primary_only}"#
    ))?)
}

impl Side {
    fn new(cfg: Config, stream: TcpStream, now: UnixTime) -> anyhow::Result<Self> {
        let fo = cfg
            .failover
            .first()
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no [[failover]]"))?;
        stream.set_nonblocking(true)?;
        let mut peer = Peer::new(fo, None, now)?;
        peer.handle_connected(now);
        Ok(Self {
            peer,
            engine: Engine::new(cfg),
            stream,
            frames: FrameReader::default(),
        })
    }

    /// Feeds what arrived, answers timers, carries out events and sends what
    /// the peer queued. Returns whether anything happened.
    fn turn(&mut self, now: UnixTime) -> anyhow::Result<bool> {
        let mut busy = false;
        let mut buf = [0u8; 4096];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => anyhow::bail!("partner closed the connection"),
                Ok(n) => self.frames.push(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => return Err(e.into()),
            }
        }
        while let Some(msg) = self.frames.next_message()? {
            self.peer.handle_message(now, msg, self.engine.table_mut());
            busy = true;
        }
        if self.peer.poll_timeout().is_some_and(|t| t <= now) {
            self.peer.handle_timeout(now, self.engine.table_mut());
        }
        while let Some(event) = self.peer.poll_event() {
            match event {
                // A real driver makes these leases durable first (dhcp-store).
                Event::Commit { token, .. } => self.peer.handle_committed(token),
                Event::StateChanged { from, to } => {
                    println!("{:?}: {from:?} -> {to:?}", self.peer.role())
                }
                _ => {}
            }
            busy = true;
        }
        while let Some(msg) = self.peer.poll_transmit() {
            self.stream.set_nonblocking(false)?;
            self.stream.write_all(&msg.encode()?)?;
            self.stream.set_nonblocking(true)?;
            busy = true;
        }
        Ok(busy)
    }
}

/// Runs the pair until both peers are NORMAL; returns the virtual seconds taken.
pub fn run_pair(start: UnixTime) -> anyhow::Result<u32> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let dialled = TcpStream::connect(listener.local_addr()?)?;
    let (accepted, _) = listener.accept()?;
    let mut primary = Side::new(config("primary", 1, 2)?, accepted, start)?;
    let mut secondary = Side::new(config("secondary", 2, 1)?, dialled, start)?;
    let mut now = start;
    while now - start < 600 {
        let normal = |s: &Side| s.peer.state() == FailoverState::Normal;
        if normal(&primary) && normal(&secondary) {
            return Ok(now - start);
        }
        let busy = primary.turn(now)? | secondary.turn(now)?;
        if !busy {
            std::thread::sleep(std::time::Duration::from_millis(1));
            now += 1; // the caller's clock: here virtual, one second per idle turn
        }
    }
    anyhow::bail!("not NORMAL after 600 virtual seconds")
}

#[allow(dead_code)]
fn main() -> anyhow::Result<()> {
    let secs = run_pair(1_700_000_000)?;
    println!("both peers NORMAL after {secs} s of the driver's clock");
    Ok(())
}
