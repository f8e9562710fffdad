//! Two daemons in a failover pair on loopback (127.0.0.1 primary, 127.0.0.2
//! secondary, free TCP ports, unprivileged UDP ports; no root needed): they
//! reach NORMAL over TCP, split relayed clients by the hash, exchange binding
//! updates, and their stores agree; the secondary holds BACKUP leases.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use dhcp_core::lease::BindingState;
use dhcp_core::store::{LeaseStore, SledStore};
use dhcproto::v4::{Message, MessageType};
use dhcproto::{Decodable, Decoder, Encodable, Encoder};

const GIADDR: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);

fn free_tcp_port(addr: Ipv4Addr) -> u16 {
    TcpListener::bind((addr, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn config(role: &str, me: (Ipv4Addr, u16), peer: (Ipv4Addr, u16)) -> String {
    let primary_only = if role == "primary" {
        "mclt = 60\nsplit = 128\n"
    } else {
        ""
    };
    format!(
        r#"
[server]
ignore_client_uids = true

[lease_time]
default = 600

[[subnets]]
subnet = "127.0.0.0/24"
next_server = "127.0.0.1"
[[subnets.pools]]
start = "127.0.0.100"
end = "127.0.0.199"
failover_peer = "fo"

[[failover]]
name = "fo"
role = "{role}"
address = "{}"
port = {}
peer_address = "{}"
peer_port = {}
max_response_delay = 6
max_unacked_updates = 10
load_balance_max_seconds = 3
{primary_only}"#,
        me.0, me.1, peer.0, peer.1
    )
}

fn wait_log(d: &Daemon, needle: &str, timeout: Duration) {
    let end = Instant::now() + timeout;
    while !d.log_text().contains(needle) {
        assert!(
            Instant::now() < end,
            "no {needle:?} in the log:\n{}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The control socket of the daemon whose store is `store`.
fn control_socket(store: &Path) -> std::path::PathBuf {
    let mut s = store.as_os_str().to_owned();
    s.push(".ctl");
    s.into()
}

/// The daemon's failover relationship, through its control socket.
fn status(store: &Path) -> dhcpd::failover_ops::RelationshipStatus {
    use dhcpd::control::{Reply, Request, client};
    match client::call(&control_socket(store), &Request::FailoverStatus).unwrap() {
        Reply::Failover { mut relationships } => relationships.remove(0),
        other => panic!("unexpected reply {other:?}"),
    }
}

/// Sends `msg` to `port` and returns the replies that arrive within `wait`.
fn ask(sock: &UdpSocket, port: u16, msg: &Message, wait: Duration) -> Option<Message> {
    let mut bytes = Vec::new();
    msg.encode(&mut Encoder::new(&mut bytes)).unwrap();
    sock.send_to(&bytes, ("127.0.0.1", port)).unwrap();
    let end = Instant::now() + wait;
    let mut buf = [0u8; 1500];
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        sock.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        let Ok((n, from)) = sock.recv_from(&mut buf) else {
            break;
        };
        let r = Message::decode(&mut Decoder::new(&buf[..n])).unwrap();
        if r.xid() == msg.xid() && from.port() == port {
            return Some(r);
        }
    }
    None
}

/// The binding state of `ip` as the daemon whose store is `store` sees it.
fn lease_state(store: &Path, ip: Ipv4Addr) -> String {
    use dhcpd::control::{Reply, Request, client};
    let req = Request::LeasesShow {
        key: ip.to_string(),
    };
    match client::call(&control_socket(store), &req).unwrap() {
        Reply::Lease { lease } => lease.state,
        other => panic!("unexpected reply {other:?}"),
    }
}

fn active(store: &Path) -> (BTreeMap<Ipv4Addr, Vec<u8>>, usize) {
    let leases = SledStore::open(store).unwrap().load().unwrap();
    let backups = leases
        .iter()
        .filter(|l| l.state == BindingState::Backup)
        .count();
    let act = leases
        .into_iter()
        .filter(|l| l.state == BindingState::Active)
        .map(|l| (l.addr, l.hw.map(|h| h.addr).unwrap_or_default()))
        .collect();
    (act, backups)
}

#[test]
fn loopback_pair_reaches_normal_splits_clients_and_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let (a1, a2) = (Ipv4Addr::new(127, 0, 0, 1), Ipv4Addr::new(127, 0, 0, 2));
    let (p1, p2) = (free_tcp_port(a1), free_tcp_port(a2));
    let cfg1 = write(dir.path(), "p.toml", &config("primary", (a1, p1), (a2, p2)));
    let cfg2 = write(
        dir.path(),
        "s.toml",
        &config("secondary", (a2, p2), (a1, p1)),
    );
    let relay = UdpSocket::bind((GIADDR, 0)).unwrap();
    let relay_port = relay.local_addr().unwrap().port();
    let (s1, s2) = (dir.path().join("store-p"), dir.path().join("store-s"));
    let (c1, c2) = (control_socket(&s1), control_socket(&s2));
    let d1 = Daemon::start(
        dir.path(),
        &cfg1,
        &s1,
        relay_port,
        &["--control-socket", c1.to_str().unwrap()],
    );
    let d2 = Daemon::start(
        dir.path(),
        &cfg2,
        &s2,
        relay_port,
        &["--control-socket", c2.to_str().unwrap()],
    );
    let normal = "failover status: state=normal partner=normal";
    wait_log(&d1, normal, Duration::from_secs(30));
    wait_log(&d2, normal, Duration::from_secs(30));
    assert!(status(&s1).connected);
    assert_eq!(status(&s2).role, "secondary");

    let mut served = [0usize; 2];
    let mut bound = BTreeMap::new();
    let mut bound_by = BTreeMap::new();
    for i in 0..16u8 {
        let xid = 0x4000 + u32::from(i);
        let offers: Vec<(usize, Message)> = [d1.port, d2.port]
            .iter()
            .enumerate()
            .filter_map(|(k, port)| {
                ask(
                    &relay,
                    *port,
                    &discover(mac(i), GIADDR, xid),
                    Duration::from_millis(300),
                )
                .map(|m| (k, m))
            })
            .collect();
        assert_eq!(offers.len(), 1, "client {i}: exactly one server offers");
        let (k, offer) = &offers[0];
        assert_eq!(msg_type(offer), MessageType::Offer);
        let port = [d1.port, d2.port][*k];
        let req = request_selecting(
            mac(i),
            GIADDR,
            xid + 0x100,
            offer.yiaddr(),
            server_id(offer),
        );
        let ack = ask(&relay, port, &req, Duration::from_secs(3)).unwrap();
        assert_eq!(msg_type(&ack), MessageType::Ack);
        served[*k] += 1;
        bound.insert(ack.yiaddr(), mac(i).to_vec());
        bound_by.insert(ack.yiaddr(), *k);
    }
    assert!(served[0] > 0 && served[1] > 0, "both serve: {served:?}");

    let end = Instant::now() + Duration::from_secs(20);
    for s in [&s1, &s2] {
        loop {
            let st = status(s);
            if st.pending_updates == 0 && st.unacked_updates == 0 {
                break;
            }
            assert!(Instant::now() < end, "updates not settled: {st:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    // An operator's release on the server that bound the lease reaches the
    // partner at once (a binding update), not at the lease's end.
    let (&released, &k) = bound_by.iter().next().unwrap();
    let (owner, partner) = if k == 0 { (&s1, &s2) } else { (&s2, &s1) };
    assert_eq!(lease_state(partner, released), "active");
    let r = dhcpd::control::client::call(
        &control_socket(owner),
        &dhcpd::control::Request::LeasesRelease {
            key: released.to_string(),
        },
    );
    assert!(r.is_ok(), "{r:?}");
    let end = Instant::now() + Duration::from_secs(10);
    while lease_state(partner, released) == "active" {
        assert!(
            Instant::now() < end,
            "the partner still holds {released} active after the release"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    bound.remove(&released);

    std::thread::sleep(Duration::from_millis(500));
    let (st1, log1) = d1.terminate();
    let (st2, log2) = d2.terminate();
    assert!(st1.success(), "{log1}");
    assert!(st2.success(), "{log2}");
    let (act1, _) = active(&s1);
    let (act2, backups) = active(&s2);
    assert_eq!(act1, bound, "primary store");
    assert_eq!(act2, bound, "secondary store");
    assert!(backups > 0, "the secondary holds BACKUP leases");
}
