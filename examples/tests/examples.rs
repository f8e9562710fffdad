//! Runs the examples' code: the standalone server answers a DISCOVER and a
//! REQUEST on loopback and keeps the lease in its store, which the offline
//! reader then lists; the failover pair reaches NORMAL.

#![allow(missing_docs)]

#[path = "../failover_peer.rs"]
mod failover_peer;
#[path = "../read_store.rs"]
mod read_store;
#[path = "../standalone_server.rs"]
mod standalone_server;

use std::net::{Ipv4Addr, UdpSocket};

use dhcproto::v4::{DhcpOption, Message, MessageType};
use dhcproto::{Decodable, Decoder, Encodable};

fn exchange(client: &UdpSocket, ty: MessageType, requested: Option<Ipv4Addr>) -> Message {
    let z = Ipv4Addr::UNSPECIFIED;
    let mut m = Message::new_with_id(7, z, z, z, z, &[2, 0, 0, 0, 0, 1]);
    m.opts_mut().insert(DhcpOption::MessageType(ty));
    if let Some(a) = requested {
        m.opts_mut().insert(DhcpOption::RequestedIpAddress(a));
        m.opts_mut()
            .insert(DhcpOption::ServerIdentifier(Ipv4Addr::LOCALHOST));
    }
    client.send(&m.to_vec().expect("encode")).expect("send");
    let mut buf = [0u8; 1500];
    let n = client.recv(&mut buf).expect("reply");
    Message::decode(&mut Decoder::new(&buf[..n])).expect("decode reply")
}

#[test]
fn standalone_server_leases_an_address_and_the_reader_finds_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = server.local_addr().expect("addr");
    let path = dir.path().join("store");
    let p2 = path.clone();
    let t = std::thread::spawn(move || {
        let store = dhcp_store::SledStore::open(&p2).expect("open store");
        standalone_server::serve(&server, &store, Some(2))
    });
    let client = UdpSocket::bind("127.0.0.1:0").expect("client");
    client
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    client.connect(addr).expect("connect");
    let offer = exchange(&client, MessageType::Discover, None);
    assert_eq!(offer.opts().msg_type(), Some(MessageType::Offer));
    let ack = exchange(&client, MessageType::Request, Some(offer.yiaddr()));
    assert_eq!(ack.opts().msg_type(), Some(MessageType::Ack));
    t.join().expect("server thread").expect("server");
    let lines = read_store::read(&path).expect("read store");
    let expected = format!("{} active 02:00:00:00:00:01", ack.yiaddr());
    assert!(lines.iter().any(|l| l.starts_with(&expected)), "{lines:?}");
}

#[test]
fn failover_pair_reaches_normal() {
    let secs = failover_peer::run_pair(1_700_000_000).expect("pair");
    assert!(secs < 600);
}
