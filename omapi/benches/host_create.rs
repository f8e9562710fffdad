//! Host creates per second over one OMAPI connection, as MAAS adds hosts:
//! one signed OPEN (create, exclusive; hardware-address, hardware-type,
//! ip-address) at a time, each waiting for its reply, over TCP on loopback
//! to the tokio server with a `MemoryBackend`. Also the session alone (no
//! socket), for the protocol's own cost.
//!
//! `cargo bench -p omapi` (optional: `OMAPI_BENCH_CREATES=N` per round).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use omapi::client::{Client, Open};
use omapi::server::Server;
use omapi::{Config, Key, KeyRing, MemoryBackend, Op, Session};

const SECRET: &str =
    "q2lqQ0ZsbGJvQ3dKd1dHaGtVcmRpd3RnWlVMdUtJV3hqbmhUTFdvZnVYQVRsZ1pZb2lLcmJ3UU9wU3ZrcmVGQg==";
const ROUNDS: u32 = 5;

fn key() -> Key {
    Key::new("omapi_key", SECRET).expect("valid key")
}

fn config() -> Config {
    let mut ring = KeyRing::new();
    ring.add(key());
    Config::new(ring)
}

fn create(client: &mut Client, n: u32) -> Vec<u8> {
    let b = n.to_be_bytes();
    let open = Open::create(true)
        .with_mac([0x52, 0x54, b[0], b[1], b[2], b[3]])
        .with_ip(Ipv4Addr::from(0x0a00_0000 | n));
    client.open("host", open).0
}

/// Read from `stream` until `client` has `want` replies; they must be objects.
fn replies(stream: &mut TcpStream, client: &mut Client, buf: &mut [u8]) -> u32 {
    loop {
        let n = stream.read(buf).expect("read");
        assert!(n > 0, "server closed the connection");
        let got = client.receive(&buf[..n]).expect("well-formed replies");
        if let Some((m, verified)) = got.last() {
            assert_eq!(m.op, Op::UPDATE.0, "{m:?}");
            assert!(*verified || m.authid == 0);
            return m.handle;
        }
    }
}

fn over_tcp(addr: SocketAddr, first: u32, creates: u32) -> Duration {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut client = Client::new(Some(key()));
    let mut buf = vec![0u8; 64 * 1024];
    stream.write_all(&client.startup()).expect("write");
    let (auth, _) = client.open_authenticator();
    stream.write_all(&auth).expect("write");
    let handle = replies(&mut stream, &mut client, &mut buf);
    client.set_authid(handle);
    let start = Instant::now();
    for n in first..first + creates {
        stream.write_all(&create(&mut client, n)).expect("write");
        replies(&mut stream, &mut client, &mut buf);
    }
    start.elapsed()
}

fn session_only(first: u32, creates: u32) -> Duration {
    let mut backend = MemoryBackend::new();
    let mut session = Session::new(Arc::new(config()));
    let mut client = Client::new(Some(key()));
    session.handle_input(&client.startup(), &mut backend);
    let (auth, _) = client.open_authenticator();
    session.handle_input(&auth, &mut backend);
    let out = session.poll_transmit().expect("reply");
    let handle = client
        .receive(&out)
        .expect("reply")
        .last()
        .expect("reply")
        .0
        .handle;
    client.set_authid(handle);
    let start = Instant::now();
    for n in first..first + creates {
        session.handle_input(&create(&mut client, n), &mut backend);
        let out = session.poll_transmit().expect("reply");
        let got = client.receive(&out).expect("reply");
        assert_eq!(got.last().expect("reply").0.op, Op::UPDATE.0);
    }
    start.elapsed()
}

fn report(what: &str, creates: u32, mut times: Vec<Duration>) {
    times.sort();
    let rate = |d: Duration| f64::from(creates) / d.as_secs_f64();
    let median = times[times.len() / 2];
    println!(
        "{what}: {:.0} host creates/s (median of {} rounds of {creates}; min {:.0}, max {:.0})",
        rate(median),
        times.len(),
        rate(times[times.len() - 1]),
        rate(times[0]),
    );
}

fn main() {
    let creates: u32 = std::env::var("OMAPI_BENCH_CREATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let server = Server::new(config(), MemoryBackend::new());
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(SocketAddr::from((
            Ipv4Addr::LOCALHOST,
            0,
        ))))
        .expect("bind loopback");
    let addr = listener.local_addr().expect("address");
    runtime.spawn(server.clone().run(listener));

    // Warm-up, then rounds on fresh address ranges (the backend keeps growing).
    over_tcp(addr, 0, creates / 10);
    let tcp = (1..=ROUNDS)
        .map(|r| over_tcp(addr, r * 1_000_000, creates))
        .collect();
    report(
        "one TCP connection on loopback (tokio server, MemoryBackend)",
        creates,
        tcp,
    );
    let hosts = server.backend().lock().map(|b| b.host_count()).unwrap_or(0);
    assert_eq!(
        hosts as u32,
        creates / 10 + ROUNDS * creates,
        "every create made a host"
    );
    let alone = (1..=ROUNDS)
        .map(|r| session_only(r * 1_000_000, creates))
        .collect();
    report("session alone (no socket)", creates, alone);
}
