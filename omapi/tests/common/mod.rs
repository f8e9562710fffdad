//! A server on loopback for the interoperability tests.

#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use omapi::server::Server;
use omapi::{
    Config, FailoverState, FailoverStateCode, HardwareAddress, Key, KeyRing, Lease, LeaseState,
    MemoryBackend,
};

/// The MAAS-style key: `omapi_key`, base64 of 64 bytes.
pub const SECRET: &str =
    "q2lqQ0ZsbGJvQ3dKd1dHaGtVcmRpd3RnWlVMdUtJV3hqbmhUTFdvZnVYQVRsZ1pZb2lLcmJ3UU9wU3ZrcmVGQg==";
/// Another secret under the same name.
pub const WRONG_SECRET: &str =
    "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC13cm9uZy1zZWNyZXQtd3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA==";

pub struct Running {
    pub port: u16,
    pub server: Server<MemoryBackend>,
    _runtime: tokio::runtime::Runtime,
}

impl Running {
    pub fn backend(&self) -> std::sync::MutexGuard<'_, MemoryBackend> {
        self.server.backend().lock().unwrap()
    }
}

/// A server with the MAAS key on 127.0.0.1 (an ephemeral port), with one
/// lease (10.20.0.100, 52:54:00:aa:bb:02, "node02") and one failover
/// relationship ("failover-partner", communications-interrupted).
pub fn start() -> Running {
    let mut ring = KeyRing::new();
    ring.add(Key::new("omapi_key", SECRET).unwrap());
    let mut backend = MemoryBackend::new();
    backend.leases.insert(
        Ipv4Addr::new(10, 20, 0, 100),
        Lease {
            ip_address: Ipv4Addr::new(10, 20, 0, 100),
            state: LeaseState::Active,
            hardware: Some(HardwareAddress {
                htype: 1,
                addr: vec![0x52, 0x54, 0, 0xaa, 0xbb, 0x02],
            }),
            client_id: None,
            client_hostname: Some("node02".into()),
            starts: Some(1_800_000_000),
            ends: Some(1_800_000_600),
            tstp: None,
            tsfp: None,
            cltt: Some(1_800_000_000),
        },
    );
    backend.failover.insert(
        "failover-partner".into(),
        FailoverState {
            name: "failover-partner".into(),
            local_state: FailoverStateCode::COMMUNICATIONS_INTERRUPTED,
            partner_state: FailoverStateCode::NORMAL,
            local_address: Some(Ipv4Addr::LOCALHOST),
            local_port: Some(647),
            partner_address: Some(Ipv4Addr::new(127, 0, 0, 2)),
            partner_port: Some(647),
            mclt: Some(3600),
        },
    );
    let server = Server::new(Config::new(ring), backend);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(SocketAddr::from((
            Ipv4Addr::LOCALHOST,
            0,
        ))))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    runtime.spawn(server.clone().run(listener));
    Running {
        port,
        server,
        _runtime: runtime,
    }
}

pub type Shared = Arc<Mutex<MemoryBackend>>;
