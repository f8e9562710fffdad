//! decode → engine → encode, per DISCOVER and per REQUEST (SELECTING), on a /16
//! pool. The store is not involved (see `store.rs`).

use std::hint::black_box;
use std::net::{Ipv4Addr, SocketAddrV4};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dhcp_core::config::Config;
use dhcp_core::engine::{Engine, RecvInfo};
use dhcp_core::packet::decode_request;
use dhcp_core::policy::Standalone;
use dhcproto::Encodable;
use dhcproto::v4::{Architecture, DhcpOption, Message, MessageType, OptionCode};

const CONFIG: &str = r#"
[lease_time]
default = 600
max = 600
[options]
dns_servers = ["10.99.0.1"]
domain_name = "bench.test"
[[subnets]]
subnet = "10.99.0.0/16"
interface = "eth0"
next_server = "10.99.0.1"
options = { routers = ["10.99.0.1"] }
[[subnets.pools]]
start = "10.99.1.0"
end = "10.99.255.254"
"#;

const CLIENTS: u32 = 60_000;

fn request(ty: MessageType, i: u32, select: Option<Ipv4Addr>) -> Vec<u8> {
    let b = i.to_be_bytes();
    let mut m = Message::new_with_id(
        i,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        &[2, 0, b[0], b[1], b[2], b[3]],
    );
    let o = m.opts_mut();
    o.insert(DhcpOption::MessageType(ty));
    o.insert(DhcpOption::ClientSystemArchitecture(Architecture::X64));
    o.insert(DhcpOption::ClassIdentifier(
        b"PXEClient:Arch:00007:UNDI:003016".to_vec(),
    ));
    o.insert(DhcpOption::ParameterRequestList(vec![
        OptionCode::SubnetMask,
        OptionCode::Router,
        OptionCode::DomainNameServer,
        OptionCode::DomainName,
    ]));
    if let Some(a) = select {
        o.insert(DhcpOption::RequestedIpAddress(a));
        o.insert(DhcpOption::ServerIdentifier(Ipv4Addr::new(10, 99, 0, 1)));
    }
    m.to_vec().expect("encodes")
}

fn info() -> RecvInfo<'static> {
    RecvInfo {
        interface: Some("eth0"),
        local_addr: Ipv4Addr::new(10, 99, 0, 1),
        src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
    }
}

fn bench(c: &mut Criterion) {
    let cfg = Config::from_toml(CONFIG).expect("bench config");
    let discovers: Vec<Vec<u8>> = (0..CLIENTS)
        .map(|i| request(MessageType::Discover, i, None))
        .collect();
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(1));
    {
        let mut e = Engine::new(cfg.clone());
        let mut i = 0usize;
        g.bench_function("discover_decode_handle_encode", |b| {
            b.iter(|| {
                let req = decode_request(&discovers[i % discovers.len()]).expect("valid");
                let out = e.handle(&Standalone, &req, &info(), 1_800_000_000);
                i += 1;
                black_box(out.reply.map(|r| r.bytes.len()))
            })
        });
    }
    {
        // Every client is offered an address first; the bench measures REQUESTs.
        let mut e = Engine::new(cfg.clone());
        let info = info();
        let requests: Vec<Vec<u8>> = (0..CLIENTS)
            .map(|i| {
                let req = decode_request(&discovers[i as usize]).expect("valid");
                let out = e.handle(&Standalone, &req, &info, 1_800_000_000);
                let a = out.reply.expect("offer").msg.yiaddr();
                request(MessageType::Request, i, Some(a))
            })
            .collect();
        let mut i = 0usize;
        g.bench_function("request_decode_handle_encode", |b| {
            b.iter(|| {
                let req = decode_request(&requests[i % requests.len()]).expect("valid");
                let out = e.handle(
                    &Standalone,
                    &req,
                    &info,
                    1_800_000_000 + (i / requests.len()) as u32,
                );
                i += 1;
                black_box((out.writes.len(), out.reply.map(|r| r.bytes.len())))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
