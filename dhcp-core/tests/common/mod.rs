//! Shared helpers for the engine tests (a small config, request builders and a
//! way to run one request through the engine).
#![allow(dead_code, missing_docs)]

use std::net::{Ipv4Addr, SocketAddrV4};

use dhcp_core::config::Config;
use dhcp_core::engine::{Engine, Outcome, RecvInfo};
use dhcp_core::packet::decode_request;
use dhcp_core::policy::{Policies, Standalone};
use dhcproto::Encodable;
use dhcproto::v4::{DhcpOption, Flags, Message, MessageType, OptionCode};

pub const SERVER: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 1);
pub const OTHER_SERVER: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 2);
pub const RELAY: Ipv4Addr = Ipv4Addr::new(10, 99, 1, 1);

pub const CONFIG: &str = r#"
[server]
offer_hold = 10
abandon_time = 600

[lease_time]
default = 600
max = 1200

[options]
dns_servers = ["10.99.0.1"]
domain_name = "lab.test"

[[shared_networks]]
name = "local"
interface = "eth0"
[[shared_networks.subnets]]
subnet = "10.99.0.0/24"
next_server = "10.99.0.1"
options = { routers = ["10.99.0.254"] }
[[shared_networks.subnets.pools]]
start = "10.99.0.100"
end = "10.99.0.109"

[[subnets]]
subnet = "10.99.1.0/24"
options = { routers = ["10.99.1.1"] }
[[subnets.pools]]
start = "10.99.1.100"
end = "10.99.1.104"

[[hosts]]
name = "fixed"
mac = "02:00:00:00:00:ff"
address = "10.99.0.50"
boot_file = "special.efi"
"#;

pub fn config() -> Config {
    Config::from_toml(CONFIG).expect("test config is valid")
}

pub fn engine() -> Engine {
    Engine::new(config())
}

pub fn mac(i: u32) -> [u8; 6] {
    let b = i.to_be_bytes();
    [2, 0, b[0], b[1], b[2], b[3]]
}

/// A request from client `i`.
pub fn msg(ty: MessageType, i: u32) -> Message {
    let mut m = Message::new_with_id(
        0x1000 + i,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        &mac(i),
    );
    m.opts_mut().insert(DhcpOption::MessageType(ty));
    m
}

pub fn with(mut m: Message, opt: DhcpOption) -> Message {
    m.opts_mut().insert(opt);
    m
}

pub fn selecting(i: u32, addr: Ipv4Addr, server: Ipv4Addr) -> Message {
    let m = with(
        msg(MessageType::Request, i),
        DhcpOption::RequestedIpAddress(addr),
    );
    with(m, DhcpOption::ServerIdentifier(server))
}

pub fn init_reboot(i: u32, addr: Ipv4Addr) -> Message {
    with(
        msg(MessageType::Request, i),
        DhcpOption::RequestedIpAddress(addr),
    )
}

pub fn renewing(i: u32, addr: Ipv4Addr) -> Message {
    let mut m = msg(MessageType::Request, i);
    m.set_ciaddr(addr);
    m
}

pub fn relayed(mut m: Message) -> Message {
    m.set_giaddr(RELAY);
    m.set_hops(1);
    m
}

pub fn broadcast(mut m: Message) -> Message {
    m.set_flags(Flags::default().set_broadcast());
    m
}

pub fn info() -> RecvInfo<'static> {
    RecvInfo {
        interface: Some("eth0"),
        local_addr: SERVER,
        src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
    }
}

/// Encodes, validates and handles `m` as the daemon would.
pub fn run_with<P: Policies + ?Sized>(e: &mut Engine, p: &P, m: &Message, now: u32) -> Outcome {
    let bytes = m.to_vec().expect("encodes");
    let req = decode_request(&bytes).expect("valid request");
    e.handle(p, &req, &info(), now)
}

pub fn run(e: &mut Engine, m: &Message, now: u32) -> Outcome {
    run_with(e, &Standalone, m, now)
}

pub fn reply_type(o: &Outcome) -> Option<MessageType> {
    o.reply.as_ref().map(|r| r.msg_type)
}

pub fn yiaddr(o: &Outcome) -> Ipv4Addr {
    o.reply
        .as_ref()
        .map(|r| r.msg.yiaddr())
        .unwrap_or(Ipv4Addr::UNSPECIFIED)
}

pub fn opt(o: &Outcome, code: OptionCode) -> Option<&DhcpOption> {
    o.reply.as_ref().and_then(|r| r.msg.opts().get(code))
}

/// Full DORA for client `i` at `now`; returns the bound address.
pub fn dora(e: &mut Engine, i: u32, now: u32) -> Ipv4Addr {
    let offer = run(e, &msg(MessageType::Discover, i), now);
    assert_eq!(
        reply_type(&offer),
        Some(MessageType::Offer),
        "{:?}",
        offer.verdict
    );
    let addr = yiaddr(&offer);
    let ack = run(e, &selecting(i, addr, SERVER), now);
    assert_eq!(
        reply_type(&ack),
        Some(MessageType::Ack),
        "{:?}",
        ack.verdict
    );
    assert_eq!(yiaddr(&ack), addr);
    addr
}
