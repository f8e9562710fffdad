//! A standalone DHCP server in a few lines: `dhcp-core`'s engine on a plain
//! UDP socket, every lease durable in `dhcp-store` before its reply leaves.
//! `standalone_server ADDR STORE_DIR [REQUESTS]`, e.g. `127.0.0.1:6767
//! /tmp/leases 4` (a real server binds `0.0.0.0:67` on its interface and
//! sends each reply where `reply.destination` says; this one answers the
//! sender, which is enough on loopback).

use std::net::{SocketAddr, UdpSocket};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use dhcp_core::config::Config;
use dhcp_core::engine::{Engine, RecvInfo};
use dhcp_core::packet::decode_request;
use dhcp_core::policy::Standalone;
use dhcp_store::{LeaseStore, SledStore};

/// The configuration: one subnet with a pool (see docs/configuration.md).
pub const CONFIG: &str = r#"
[[subnets]]
subnet = "127.0.0.0/8"
options = { routers = ["127.0.0.1"] }
[[subnets.pools]]
start = "127.0.0.100"
end = "127.0.0.199"
"#;

/// Serves `requests` requests (forever with `None`) on `socket`.
pub fn serve(socket: &UdpSocket, store: &SledStore, requests: Option<usize>) -> anyhow::Result<()> {
    let mut engine = Engine::new(Config::from_toml(CONFIG)?);
    engine.restore(store.load()?);
    let SocketAddr::V4(local) = socket.local_addr()? else {
        anyhow::bail!("IPv4 only")
    };
    let mut buf = [0u8; 1500];
    for _ in 0..requests.unwrap_or(usize::MAX) {
        let (n, SocketAddr::V4(src)) = socket.recv_from(&mut buf)? else {
            continue;
        };
        let Ok(request) = decode_request(&buf[..n]) else {
            continue;
        }; // counted drop in a real server
        let info = RecvInfo {
            interface: None,
            local_addr: *local.ip(),
            src,
        };
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as u32;
        let outcome = engine.handle(&Standalone, &request, &info, now);
        store.commit(&outcome.writes)?; // durable before the reply leaves
        if let Some(reply) = outcome.reply {
            socket.send_to(&reply.bytes, src)?;
        }
    }
    Ok(())
}

#[allow(dead_code)]
fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:6767".into());
    let dir = args
        .next()
        .context("usage: standalone_server ADDR STORE_DIR [REQUESTS]")?;
    let requests = args.next().map(|n| n.parse()).transpose()?;
    let store = SledStore::open(std::path::Path::new(&dir))?;
    serve(&UdpSocket::bind(&addr)?, &store, requests)
}
