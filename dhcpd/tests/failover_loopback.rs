//! Two daemons in a failover pair on loopback (127.0.0.1 primary, 127.0.0.2
//! secondary, free TCP ports, unprivileged UDP ports; no root needed): they
//! reach NORMAL over TCP, split relayed clients by the hash, exchange binding
//! updates, and their stores agree; the secondary holds BACKUP leases. And
//! the same two daemons with two relationships at once (one per subnet, as
//! MAAS configures one per VLAN), each primary for one of them. And the
//! failover-state object over OMAPI (read, then partner-down).

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, TcpListener, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use dhcp_core::lease::BindingState;
use dhcp_store::{LeaseStore, SledStore};
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

/// A `[[failover]]` block (split 128 and MCLT 60 on the primary).
fn relationship(name: &str, role: &str, me: (Ipv4Addr, u16), peer: (Ipv4Addr, u16)) -> String {
    let primary_only = if role == "primary" {
        "mclt = 60\nsplit = 128\n"
    } else {
        ""
    };
    format!(
        r#"
[[failover]]
name = "{name}"
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

/// A /24 subnet `127.0.N.0` with pool .100–.199 shared by relationship `peer`.
fn subnet(n: u8, peer: &str) -> String {
    format!(
        r#"
[[subnets]]
subnet = "127.0.{n}.0/24"
next_server = "127.0.0.1"
[[subnets.pools]]
start = "127.0.{n}.100"
end = "127.0.{n}.199"
failover_peer = "{peer}"
"#
    )
}

const HEAD: &str = "[server]\nignore_client_uids = true\n\n[lease_time]\ndefault = 600\n";

fn config(role: &str, me: (Ipv4Addr, u16), peer: (Ipv4Addr, u16)) -> String {
    format!(
        "{HEAD}{}{}",
        subnet(0, "fo"),
        relationship("fo", role, me, peer)
    )
}

/// The control socket of the daemon whose store is `store`.
fn control_socket(store: &Path) -> std::path::PathBuf {
    let mut s = store.as_os_str().to_owned();
    s.push(".ctl");
    s.into()
}

/// Starts one daemon per configuration text in `dir`, each with its own
/// store (`store-N`) and control socket, answering relays on `relay_port`.
fn start_pair(
    dir: &Path,
    configs: [String; 2],
    relay_port: u16,
) -> [(Daemon, std::path::PathBuf); 2] {
    let mut n = 0;
    configs.map(|text| {
        n += 1;
        let cfg = write(dir, &format!("d{n}.toml"), &text);
        let store = dir.join(format!("store-{n}"));
        let ctl = control_socket(&store);
        let d = Daemon::start(
            dir,
            &cfg,
            &store,
            relay_port,
            &["--control-socket", ctl.to_str().unwrap()],
        );
        (d, store)
    })
}

/// The daemon's failover relationships, through its control socket.
fn statuses(store: &Path) -> Vec<dhcpd::failover::status::RelationshipStatus> {
    use dhcpd::ops::control::{Reply, Request, client};
    match client::call(&control_socket(store), &Request::FailoverStatus).unwrap() {
        Reply::Failover { relationships } => relationships,
        other => panic!("unexpected reply {other:?}"),
    }
}

/// The daemon's (first) failover relationship.
fn status(store: &Path) -> dhcpd::failover::status::RelationshipStatus {
    statuses(store).remove(0)
}

/// Waits until every relationship of the daemons with stores `stores` has
/// no update queued or unacknowledged.
fn wait_settled(stores: &[&Path]) {
    let end = Instant::now() + Duration::from_secs(20);
    for s in stores {
        loop {
            let st = statuses(s);
            if st
                .iter()
                .all(|r| r.pending_updates == 0 && r.unacked_updates == 0)
            {
                break;
            }
            assert!(Instant::now() < end, "updates not settled: {st:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Runs DISCOVER/REQUEST for `clients` relayed from `relay` (its address is
/// the giaddr) to both daemons: exactly one server must offer, and it must
/// ACK. Returns (address → MAC, address → index of the server that bound
/// it, leases served per server).
#[allow(clippy::type_complexity)]
fn bind_clients(
    relay: &UdpSocket,
    ports: [u16; 2],
    clients: std::ops::Range<u8>,
) -> (
    BTreeMap<Ipv4Addr, Vec<u8>>,
    BTreeMap<Ipv4Addr, usize>,
    [usize; 2],
) {
    let giaddr = match relay.local_addr().unwrap().ip() {
        std::net::IpAddr::V4(a) => a,
        other => panic!("relay on {other}"),
    };
    let mut served = [0usize; 2];
    let mut bound = BTreeMap::new();
    let mut bound_by = BTreeMap::new();
    for i in clients {
        let xid = 0x4000 + u32::from(i);
        let offers: Vec<(usize, Message)> = ports
            .iter()
            .enumerate()
            .filter_map(|(k, port)| {
                ask(
                    relay,
                    *port,
                    &discover(mac(i), giaddr, xid),
                    Duration::from_millis(300),
                )
                .map(|m| (k, m))
            })
            .collect();
        assert_eq!(offers.len(), 1, "client {i}: exactly one server offers");
        let (k, offer) = &offers[0];
        assert_eq!(msg_type(offer), MessageType::Offer);
        let req = request_selecting(
            mac(i),
            giaddr,
            xid + 0x100,
            offer.yiaddr(),
            server_id(offer),
        );
        let ack = ask(relay, ports[*k], &req, Duration::from_secs(3)).unwrap();
        assert_eq!(msg_type(&ack), MessageType::Ack);
        served[*k] += 1;
        bound.insert(ack.yiaddr(), mac(i).to_vec());
        bound_by.insert(ack.yiaddr(), *k);
    }
    (bound, bound_by, served)
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
    use dhcpd::ops::control::{Reply, Request, client};
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
    let relay = UdpSocket::bind((GIADDR, 0)).unwrap();
    let relay_port = relay.local_addr().unwrap().port();
    let [(d1, s1), (d2, s2)] = start_pair(
        dir.path(),
        [
            config("primary", (a1, p1), (a2, p2)),
            config("secondary", (a2, p2), (a1, p1)),
        ],
        relay_port,
    );
    let normal = "failover status: state=normal partner=normal";
    d1.wait_log(normal, Duration::from_secs(30));
    d2.wait_log(normal, Duration::from_secs(30));
    assert!(status(&s1).connected);
    assert_eq!(status(&s2).role, "secondary");

    let (mut bound, bound_by, served) = bind_clients(&relay, [d1.port, d2.port], 0..16);
    assert!(served[0] > 0 && served[1] > 0, "both serve: {served:?}");
    wait_settled(&[&s1, &s2]);
    // An operator's release on the server that bound the lease reaches the
    // partner at once (a binding update), not at the lease's end.
    let (&released, &k) = bound_by.iter().next().unwrap();
    let (owner, partner) = if k == 0 { (&s1, &s2) } else { (&s2, &s1) };
    assert_eq!(lease_state(partner, released), "active");
    let r = dhcpd::ops::control::client::call(
        &control_socket(owner),
        &dhcpd::ops::control::Request::LeasesRelease {
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

/// The leases of `store` in state `state` whose address is in `127.0.N.0/24`.
fn count_in(store: &Path, state: BindingState, n: u8) -> usize {
    SledStore::open(store)
        .unwrap()
        .load()
        .unwrap()
        .iter()
        .filter(|l| l.state == state && l.addr.octets()[..3] == [127, 0, n])
        .count()
}

/// Two relationships between the same two daemons, one per subnet: daemon 1
/// is primary of "vlan-a" (127.0.0.0/24) and secondary of "vlan-b"
/// (127.0.1.0/24), daemon 2 the reverse. Both relationships reach NORMAL,
/// clients of each subnet are split by that relationship's hash and get
/// addresses of their own subnet, every binding reaches the partner, and
/// both pools were balanced (BACKUP leases in each, on both daemons).
#[test]
fn two_relationships_per_daemon_each_run_their_own_pools() {
    let dir = tempfile::tempdir().unwrap();
    let ip = |n: u8| Ipv4Addr::new(127, 0, 0, n);
    let (a1, a2, b1, b2) = (ip(1), ip(2), ip(3), ip(4));
    let (pa1, pa2) = (free_tcp_port(a1), free_tcp_port(a2));
    let (pb1, pb2) = (free_tcp_port(b1), free_tcp_port(b2));
    let d1_cfg = format!(
        "{HEAD}{}{}{}{}",
        subnet(0, "vlan-a"),
        subnet(1, "vlan-b"),
        relationship("vlan-a", "primary", (a1, pa1), (a2, pa2)),
        relationship("vlan-b", "secondary", (b1, pb1), (b2, pb2)),
    );
    let d2_cfg = format!(
        "{HEAD}{}{}{}{}",
        subnet(0, "vlan-a"),
        subnet(1, "vlan-b"),
        relationship("vlan-a", "secondary", (a2, pa2), (a1, pa1)),
        relationship("vlan-b", "primary", (b2, pb2), (b1, pb1)),
    );
    // One relay per subnet, on the same port (replies go to giaddr:port).
    let relay_a = UdpSocket::bind((GIADDR, 0)).unwrap();
    let relay_port = relay_a.local_addr().unwrap().port();
    let relay_b = UdpSocket::bind((Ipv4Addr::new(127, 0, 1, 1), relay_port)).unwrap();
    let [(d1, s1), (d2, s2)] = start_pair(dir.path(), [d1_cfg, d2_cfg], relay_port);
    let c1 = control_socket(&s1);
    for d in [&d1, &d2] {
        for name in ["vlan-a", "vlan-b"] {
            d.wait_log(
                &format!("state=normal partner=normal connected=true relationship={name}"),
                Duration::from_secs(30),
            );
        }
    }
    let roles = |store: &Path| -> Vec<(String, String)> {
        statuses(store)
            .into_iter()
            .map(|r| (r.name, r.role))
            .collect()
    };
    let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        roles(&s1),
        [pair("vlan-a", "primary"), pair("vlan-b", "secondary")]
    );
    assert_eq!(
        roles(&s2),
        [pair("vlan-a", "secondary"), pair("vlan-b", "primary")]
    );
    // With several relationships, partner-down must name one.
    let r = dhcpd::ops::control::client::call(
        &c1,
        &dhcpd::ops::control::Request::FailoverPartnerDown { relationship: None },
    );
    assert!(
        format!("{r:?}").contains("name one"),
        "partner-down without a name: {r:?}"
    );

    let ports = [d1.port, d2.port];
    let (mut bound, _, served_a) = bind_clients(&relay_a, ports, 0..16);
    let (bound_b, _, served_b) = bind_clients(&relay_b, ports, 16..32);
    assert!(
        served_a.iter().all(|n| *n > 0) && served_b.iter().all(|n| *n > 0),
        "both serve on both subnets: {served_a:?} {served_b:?}"
    );
    assert!(bound.keys().all(|a| a.octets()[..3] == [127, 0, 0]));
    assert!(bound_b.keys().all(|a| a.octets()[..3] == [127, 0, 1]));
    bound.extend(bound_b);
    wait_settled(&[&s1, &s2]);

    std::thread::sleep(Duration::from_millis(500));
    let (st1, log1) = d1.terminate();
    let (st2, log2) = d2.terminate();
    assert!(st1.success(), "{log1}");
    assert!(st2.success(), "{log2}");
    assert_eq!(active(&s1).0, bound, "daemon 1's store");
    assert_eq!(active(&s2).0, bound, "daemon 2's store");
    // Each relationship's primary balanced its own pool: both daemons record
    // BACKUP leases (the secondary's share) in both subnets.
    for (store, name) in [(&s1, "daemon 1"), (&s2, "daemon 2")] {
        for n in [0, 1] {
            assert!(
                count_in(store, BindingState::Backup, n) > 0,
                "{name}: no BACKUP lease in 127.0.{n}.0/24"
            );
        }
    }
}

/// One signed OMAPI request on `stream`; its reply.
fn omapi_call(
    stream: &mut std::net::TcpStream,
    client: &mut omapi::client::Client,
    (bytes, id): (Vec<u8>, u32),
) -> omapi::Message {
    use std::io::{Read, Write};
    stream.write_all(&bytes).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "OMAPI connection closed");
        if let Some((m, _)) = client.receive(&buf[..n]).unwrap().pop() {
            assert_eq!(m.rid, id);
            return m;
        }
    }
}

const OMAPI_SECRET: &str = "c2VjcmV0LWtleS1mb3ItdGhlLWZhaWxvdmVyLXRlc3Q=";

/// A loopback pair (relationship "fo") whose primary serves OMAPI with key
/// `omapi_key`, in NORMAL: (primary, secondary, OMAPI port).
fn omapi_pair(dir: &Path) -> (Daemon, Daemon, u16) {
    let (a1, a2) = (Ipv4Addr::new(127, 0, 0, 1), Ipv4Addr::new(127, 0, 0, 2));
    let (p1, p2) = (free_tcp_port(a1), free_tcp_port(a2));
    let relay = UdpSocket::bind((GIADDR, 0)).unwrap();
    let relay_port = relay.local_addr().unwrap().port();
    let key_file = write(
        dir,
        "omapi.key",
        &format!("key omapi_key {{ algorithm hmac-md5; secret \"{OMAPI_SECRET}\"; }};"),
    );
    let omapi_port = free_tcp_port(a1);
    let listen = format!("127.0.0.1:{omapi_port}");
    let cfg1 = write(dir, "d1.toml", &config("primary", (a1, p1), (a2, p2)));
    let cfg2 = write(dir, "d2.toml", &config("secondary", (a2, p2), (a1, p1)));
    let args = [
        "--omapi-listen",
        &listen,
        "--omapi-key-file",
        key_file.to_str().unwrap(),
    ];
    let d1 = Daemon::start(dir, &cfg1, &dir.join("store-1"), relay_port, &args);
    let d2 = Daemon::start(dir, &cfg2, &dir.join("store-2"), relay_port, &[]);
    let normal = "failover status: state=normal partner=normal";
    d1.wait_log(normal, Duration::from_secs(30));
    (d1, d2, omapi_port)
}

/// The failover-state object over OMAPI: read in NORMAL, then, with the
/// partner gone, set to partner-down (ISC's `local-state 4`).
#[test]
fn omapi_failover_state_reads_and_sets_partner_down() {
    use omapi::client::{Client, Open};
    use std::io::Write;
    const SECRET: &str = OMAPI_SECRET;
    let dir = tempfile::tempdir().unwrap();
    let a1 = Ipv4Addr::new(127, 0, 0, 1);
    let (d1, d2, omapi_port) = omapi_pair(dir.path());

    let mut stream = std::net::TcpStream::connect((a1, omapi_port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut client = Client::new(Some(omapi::Key::new("omapi_key", SECRET).unwrap()));
    stream.write_all(&client.startup()).unwrap();
    let auth = client.open_authenticator();
    let r = omapi_call(&mut stream, &mut client, auth);
    client.set_authid(r.handle);
    let open = client.open(
        "failover-state",
        Open::default().with("name", b"fo".to_vec()),
    );
    let r = omapi_call(&mut stream, &mut client, open);
    assert_eq!(r.object.get_uint("local-state"), Some(Ok(2)), "{r:?}");
    assert_eq!(r.object.get_uint("partner-state"), Some(Ok(2)), "{r:?}");
    assert_eq!(r.object.get("partner-address"), Some(&[127, 0, 0, 2][..]));
    let handle = r.handle;

    let (st2, log2) = d2.terminate();
    assert!(st2.success(), "{log2}");
    d1.wait_log("state=communications-interrupted", Duration::from_secs(30));
    let mut down = omapi::Values::new();
    down.push_u32("local-state", 4);
    let update = client.update(handle, down);
    let r = omapi_call(&mut stream, &mut client, update);
    assert_eq!(r.object.get_uint("local-state"), Some(Ok(4)), "{r:?}");
    d1.wait_log("partner-down requested over OMAPI", Duration::from_secs(5));
}

/// ISC's own `omshell` (isc-dhcp-server) forcing partner-down on the running
/// daemon, as ISC documents it: open the failover-state by name, set
/// `local-state = 4`, update. The primary then reports PARTNER-DOWN.
/// Skipped, with the reason, when omshell is not installed.
#[test]
fn omshell_forces_partner_down_on_the_daemon() {
    let Some(omshell) = omshell() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (d1, d2, port) = omapi_pair(dir.path());
    let run = |tail: &str| {
        let script = format!(
            "server 127.0.0.1\nport {port}\nkey omapi_key {OMAPI_SECRET}\nconnect\n\
             new failover-state\nset name = \"fo\"\nopen\n{tail}"
        );
        run_omshell(omshell, &script)
    };
    let out = run("");
    assert!(out.contains("local-state = 00:00:00:02"), "{out}");
    let (st2, log2) = d2.terminate();
    assert!(st2.success(), "{log2}");
    d1.wait_log("state=communications-interrupted", Duration::from_secs(30));
    let out = run("set local-state = 4\nupdate\n");
    assert!(!out.contains("can't"), "{out}");
    assert!(out.contains("local-state = 00:00:00:04"), "{out}");
    d1.wait_log("state=partner-down", Duration::from_secs(10));
    let out = run("");
    assert!(out.contains("local-state = 00:00:00:04"), "{out}");
}

/// The failover port under hostile input (issue 16): 200 connections from
/// an address that is not the partner, 20 garbage frames from the primary's
/// address to the secondary and 20 spare connections to the primary are
/// refused and counted by reason, the first logged once (rate-limited), and
/// the established relationship stays up through it.
#[test]
fn hostile_failover_connections_are_counted_and_logged_once() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let (a1, a2) = (Ipv4Addr::new(127, 0, 0, 1), Ipv4Addr::new(127, 0, 0, 2));
    let (p1, p2) = (free_tcp_port(a1), free_tcp_port(a2));
    let relay = UdpSocket::bind((GIADDR, 0)).unwrap();
    let [(d1, s1), (d2, s2)] = start_pair(
        dir.path(),
        [
            config("primary", (a1, p1), (a2, p2)),
            config("secondary", (a2, p2), (a1, p1)),
        ],
        relay.local_addr().unwrap().port(),
    );
    let normal = "failover status: state=normal partner=normal";
    d1.wait_log(normal, Duration::from_secs(30));
    d2.wait_log(normal, Duration::from_secs(30));
    let connect = |src: Ipv4Addr, dst: (Ipv4Addr, u16)| {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        s.bind(&std::net::SocketAddrV4::new(src, 0).into()).unwrap();
        s.connect(&std::net::SocketAddrV4::new(dst.0, dst.1).into())
            .unwrap();
        std::net::TcpStream::from(s)
    };
    let send_and_wait_close = |mut c: std::net::TcpStream, bytes: &[u8]| {
        let _ = c.write_all(bytes);
        let mut buf = [0u8; 64];
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        while matches!(std::io::Read::read(&mut c, &mut buf), Ok(n) if n > 0) {}
    };
    for _ in 0..200 {
        let c = connect(Ipv4Addr::new(127, 0, 0, 3), (a1, p1));
        send_and_wait_close(c, b"not a failover message");
    }
    // A length of 1 is below the 12-byte header: a bad frame.
    let garbage = [0, 1, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0];
    for _ in 0..20 {
        // To the secondary from the primary's address: read, then refused.
        send_and_wait_close(connect(a1, (a2, p2)), &garbage);
        // To the primary from the secondary's: a second connection, closed.
        send_and_wait_close(connect(a2, (a1, p1)), &garbage);
    }
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let (r1, r2) = (status(&s1).refused, status(&s2).refused);
        if r1.get("not_peer") == Some(&200)
            && r1.get("duplicate_connection") == Some(&20)
            && r2.get("bad_frame") == Some(&20)
        {
            assert_eq!(r1.get("connect_refused"), Some(&0), "{r1:?}");
            break;
        }
        assert!(
            Instant::now() < end,
            "refusals counted: {r1:?} {r2:?}\n{}",
            d2.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = d1.log_text();
    let lines = log
        .lines()
        .filter(|l| l.contains("not the partner closed"))
        .count();
    assert_eq!(lines, 1, "rate-limited to one line a minute:\n{log}");
    // The relationship stayed up through it.
    for s in [&s1, &s2] {
        let st = status(s);
        assert!(st.connected, "{st:?}");
        assert_eq!(st.local_state, "normal");
    }
}
