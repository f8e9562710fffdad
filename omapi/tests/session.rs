//! The session state machine against `MemoryBackend`, driven by the crate's
//! client helper: every object and operation, and every refusal.

use std::net::Ipv4Addr;
use std::sync::Arc;

use omapi::client::{Client, Open, status_of};
use omapi::{
    Config, FailoverState, FailoverStateCode, HardwareAddress, HostStatement, Key, KeyRing, Lease,
    LeaseState, MemoryBackend, Message, Op, Session, Stats, Status, Values,
};

const SECRET: &str = "c2VjcmV0LWtleS1vZi02NC1ieXRlcy1ub3QtcmVhbGx5LWJ1dC1sb25nLWVub3VnaA==";
const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01];
const MAC2: [u8; 6] = [0x52, 0x54, 0x00, 0xaa, 0xbb, 0x02];

fn key() -> Key {
    Key::new("omapi_key", SECRET).unwrap()
}

fn config(with_key: bool) -> Arc<Config> {
    let mut ring = KeyRing::new();
    if with_key {
        ring.add(key());
    }
    Arc::new(Config::new(ring))
}

struct Harness {
    session: Session,
    client: Client,
    backend: MemoryBackend,
}

impl Harness {
    /// Connected, and authenticated with `client_key` when given.
    fn new(server_key: bool, client_key: Option<Key>) -> Self {
        let mut h = Harness {
            session: Session::new(config(server_key)),
            client: Client::new(client_key),
            backend: sample_backend(),
        };
        let startup = h.client.startup();
        assert!(h.exchange(&startup).is_empty());
        if h.client_has_key() {
            let (bytes, id) = h.client.open_authenticator();
            let r = h.one(&bytes, id);
            assert_eq!(r.op, Op::UPDATE.0, "{r:?}");
            assert_eq!(r.authid, 0, "the authenticator's reply is unsigned");
            assert_ne!(r.handle, 0);
            h.client.set_authid(r.handle);
        }
        h
    }

    fn client_has_key(&self) -> bool {
        format!("{:?}", self.client).contains("Some(Key")
    }

    fn exchange(&mut self, bytes: &[u8]) -> Vec<(Message, bool)> {
        self.session.handle_input(bytes, &mut self.backend);
        let out = self.session.poll_transmit().unwrap_or_default();
        self.client.receive(&out).unwrap()
    }

    /// Send one request; its one reply, checked to answer it and, when the
    /// client signs, to be signed under the same key.
    fn one(&mut self, bytes: &[u8], id: u32) -> Message {
        let mut replies = self.exchange(bytes);
        assert_eq!(replies.len(), 1, "{replies:?}");
        let (m, verified) = replies.remove(0);
        assert_eq!(m.rid, id);
        if self.client.authid() != 0 && m.authid != 0 {
            assert!(verified, "reply signature must verify");
        }
        m
    }

    fn call(&mut self, request: impl FnOnce(&mut Client) -> (Vec<u8>, u32)) -> Message {
        let (bytes, id) = request(&mut self.client);
        let m = self.one(&bytes, id);
        if self.client.authid() != 0 && status_of(&m).is_none_or(|s| s.is_success()) {
            assert_eq!(
                m.authid,
                self.client.authid(),
                "answers to signed requests are signed"
            );
        }
        m
    }

    fn stats(&self) -> Stats {
        *self.session.stats()
    }
}

fn sample_backend() -> MemoryBackend {
    let mut b = MemoryBackend::new();
    b.leases.insert(
        Ipv4Addr::new(10, 20, 0, 100),
        Lease {
            ip_address: Ipv4Addr::new(10, 20, 0, 100),
            state: LeaseState::Active,
            hardware: Some(HardwareAddress {
                htype: 1,
                addr: MAC2.to_vec(),
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
    b.failover.insert(
        "failover-partner".into(),
        FailoverState {
            name: "failover-partner".into(),
            local_state: FailoverStateCode::COMMUNICATIONS_INTERRUPTED,
            partner_state: FailoverStateCode::NORMAL,
            local_address: Some(Ipv4Addr::new(10, 99, 0, 1)),
            local_port: Some(647),
            partner_address: Some(Ipv4Addr::new(10, 99, 0, 2)),
            partner_port: Some(647),
            mclt: Some(3600),
        },
    );
    b
}

fn status(m: &Message) -> Status {
    status_of(m).unwrap_or_else(|| panic!("not a status: {m:?}"))
}

fn text(m: &Message) -> String {
    String::from_utf8_lossy(m.message.get("message").unwrap_or_default()).into_owned()
}

fn ip(a: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 20, 0, a)
}

fn signed() -> Harness {
    Harness::new(true, Some(key()))
}

#[test]
fn server_sends_its_startup_first() {
    let mut s = Session::new(config(true));
    assert_eq!(s.poll_transmit().unwrap(), [0, 0, 0, 100, 0, 0, 0, 24]);
    assert!(s.poll_transmit().is_none());
}

#[test]
fn host_create_with_name_and_statements_as_add_host_supersede_name() {
    let mut h = signed();
    let open = Open::create(true)
        .with_mac(MAC)
        .with_ip(ip(70))
        .with("name", b"node01".to_vec())
        .with("statements", b"supersede host-name \"node01\";".to_vec());
    let r = h.call(|c| c.open("host", open));
    assert_eq!(r.op, Op::UPDATE.0, "{r:?}");
    assert_ne!(r.handle, 0);
    assert_eq!(r.object.get("name"), Some(&b"node01"[..]));
    assert_eq!(r.object.get("hardware-address"), Some(&MAC[..]));
    assert_eq!(r.object.get_uint("hardware-type"), Some(Ok(1)));
    assert_eq!(r.object.get("ip-address"), Some(&[10, 20, 0, 70][..]));
    let host = h.backend.hosts().next().unwrap().clone();
    assert_eq!(
        host.statements,
        vec![HostStatement::HostName("node01".into())]
    );
    assert_eq!(host.ip_address, Some(ip(70)));
}

#[test]
fn host_create_without_name_then_duplicate_is_already_exists() {
    let mut h = signed();
    // MAAS 3.6+: hardware-address, hardware-type, ip-address, no name.
    let open = || Open::create(true).with_mac(MAC).with_ip(ip(71));
    let r = h.call(|c| c.open("host", open()));
    assert_eq!(r.op, Op::UPDATE.0, "{r:?}");
    assert!(r.object.get("name").is_some(), "the backend names it");
    let r = h.call(|c| c.open("host", open()));
    assert_eq!(status(&r), Status::EXISTS);
    assert_eq!(text(&r), "specified object already exists");
    assert_eq!(Status::EXISTS.to_string(), "already exists");
    assert_eq!(h.backend.host_count(), 1);
    // Without `exclusive`, create opens the existing host.
    let r = h.call(|c| c.open("host", Open::create(false).with_mac(MAC)));
    assert_eq!(r.op, Op::UPDATE.0);
    assert_eq!(h.backend.host_count(), 1);
    // A second host may not take the first one's name.
    let name = r.object.get("name").unwrap().to_vec();
    let r = h.call(|c| c.open("host", Open::create(true).with_mac(MAC2).with("name", name)));
    assert_eq!(status(&r), Status::EXISTS);
    assert_eq!(h.backend.host_count(), 1);
    assert_eq!(h.stats().failed, 2);
}

#[test]
fn host_open_by_name_by_hardware_by_ip_and_misses() {
    let mut h = signed();
    let r = h.call(|c| {
        c.open(
            "host",
            Open::create(true)
                .with_mac(MAC)
                .with_ip(ip(72))
                .with("name", b"n1".to_vec()),
        )
    });
    let handle = r.handle;
    for open in [
        Open::default().with("name", b"n1".to_vec()),
        Open::default().with_mac(MAC),
        Open::default().with_ip(ip(72)),
        Open::default().with("name", b"n1".to_vec()).with_mac(MAC),
    ] {
        let r = h.call(|c| c.open("host", open));
        assert_eq!(r.op, Op::UPDATE.0, "{r:?}");
        assert_eq!(r.handle, handle, "the same host has the same handle");
        assert_eq!(r.object.get("ip-address"), Some(&[10, 20, 0, 72][..]));
    }
    let r = h.call(|c| c.open("host", Open::default().with("name", b"nope".to_vec())));
    assert_eq!(status(&r), Status::NOTFOUND);
    let r = h.call(|c| c.open("host", Open::default().with_mac(MAC2)));
    assert_eq!(status(&r), Status::NOTFOUND);
    let r = h.call(|c| c.open("host", Open::default()));
    assert_eq!(status(&r), Status::NOKEYS);
    h.call(|c| {
        c.open(
            "host",
            Open::create(true)
                .with_mac(MAC2)
                .with("name", b"n2".to_vec()),
        )
    });
    let r = h.call(|c| {
        c.open(
            "host",
            Open::default().with("name", b"n2".to_vec()).with_mac(MAC),
        )
    });
    assert_eq!(status(&r), Status::KEYCONFLICT);
    let r = h.call(|c| c.open("host", Open::default().with("ip-address", vec![1, 2, 3])));
    assert_eq!(status(&r), Status::INVALIDARG);
}

#[test]
fn host_update_ip_address_by_handle() {
    let mut h = signed();
    h.call(|c| {
        c.open(
            "host",
            Open::create(true)
                .with_mac(MAC)
                .with_ip(ip(73))
                .with("name", b"52-54-00-aa-bb-01".to_vec()),
        )
    });
    // MAAS <= 3.5: open by name, then UPDATE ip-address on the handle.
    let r = h.call(|c| {
        c.open(
            "host",
            Open::default().with("name", b"52-54-00-aa-bb-01".to_vec()),
        )
    });
    let mut change = Values::new();
    change.push("ip-address", vec![10, 20, 0, 74]);
    let r = h.call(|c| c.update(r.handle, change));
    assert_eq!(r.op, Op::UPDATE.0, "{r:?}");
    assert_eq!(r.object.get("ip-address"), Some(&[10, 20, 0, 74][..]));
    assert_eq!(h.backend.hosts().next().unwrap().ip_address, Some(ip(74)));
    let r = h.call(|c| c.open("host", Open::default().with_ip(ip(73))));
    assert_eq!(status(&r), Status::NOTFOUND);
    // A bad value changes nothing.
    let mut bad = Values::new();
    bad.push("ip-address", vec![10, 20]);
    let handle = h
        .call(|c| c.open("host", Open::default().with_mac(MAC)))
        .handle;
    assert_eq!(
        status(&h.call(|c| c.update(handle, bad))),
        Status::INVALIDARG
    );
    let mut unknown = Values::new();
    unknown.push("colour", b"red".to_vec());
    assert_eq!(
        status(&h.call(|c| c.update(handle, unknown))),
        Status::UNKNOWNATTRIBUTE
    );
    assert_eq!(h.backend.hosts().next().unwrap().ip_address, Some(ip(74)));
    assert_eq!(
        status(&h.call(|c| c.update(999, Values::new()))),
        Status::NOTFOUND
    );
    // OPEN with `update` applies the object values to the host it finds.
    let mut open = Open::default().with_mac(MAC).with_ip(ip(75));
    open.message.push_u32("update", 1);
    let r = h.call(|c| c.open("host", open));
    assert_eq!(r.object.get("ip-address"), Some(&[10, 20, 0, 75][..]));
}

#[test]
fn host_delete_by_handle() {
    let mut h = signed();
    h.call(|c| c.open("host", Open::create(true).with_mac(MAC).with_ip(ip(76))));
    // MAAS <= 3.5 and pypureomapi's del_host: open by hardware address, delete the handle.
    let r = h.call(|c| c.open("host", Open::default().with_mac(MAC)));
    let handle = r.handle;
    let r = h.call(|c| c.delete(handle));
    assert_eq!(status(&r), Status::SUCCESS);
    assert_eq!(h.backend.host_count(), 0);
    assert_eq!(status(&h.call(|c| c.refresh(handle))), Status::NOTFOUND);
    assert_eq!(status(&h.call(|c| c.delete(handle))), Status::NOTFOUND);
    assert_eq!(
        status(&h.call(|c| c.open("host", Open::default().with_mac(MAC)))),
        Status::NOTFOUND
    );
    // And it can be created again.
    let r = h.call(|c| c.open("host", Open::create(true).with_mac(MAC).with_ip(ip(76))));
    assert_eq!(r.op, Op::UPDATE.0);
}

#[test]
fn lease_open_by_ip_and_by_hardware_address() {
    let mut h = signed();
    for open in [
        Open::default().with_ip(ip(100)),
        Open::default().with_mac(MAC2),
    ] {
        let r = h.call(|c| c.open("lease", open));
        assert_eq!(r.op, Op::UPDATE.0, "{r:?}");
        assert_eq!(r.object.get_uint("state"), Some(Ok(2)), "active");
        assert_eq!(r.object.get("ip-address"), Some(&[10, 20, 0, 100][..]));
        assert_eq!(r.object.get("hardware-address"), Some(&MAC2[..]));
        assert_eq!(r.object.get_uint("hardware-type"), Some(Ok(1)));
        assert_eq!(r.object.get("client-hostname"), Some(&b"node02"[..]));
        assert_eq!(
            r.object.get("ends"),
            Some(&1_800_000_600u32.to_be_bytes()[..])
        );
        assert_eq!(
            r.object.get("starts"),
            Some(&1_800_000_000u32.to_be_bytes()[..])
        );
        let again = h.call(|c| c.refresh(r.handle));
        assert_eq!(again.object, r.object);
    }
    assert_eq!(
        status(&h.call(|c| c.open("lease", Open::default().with_ip(ip(101))))),
        Status::NOTFOUND
    );
    assert_eq!(
        status(&h.call(|c| c.open("lease", Open::default().with_mac(MAC)))),
        Status::NOTFOUND
    );
    assert_eq!(
        status(&h.call(|c| c.open("lease", Open::default().with_ip(ip(100)).with_mac(MAC)))),
        Status::NOTFOUND
    );
    assert_eq!(
        status(&h.call(|c| c.open("lease", Open::create(false).with_ip(ip(100))))),
        Status::NOTIMPLEMENTED
    );
    let handle = h
        .call(|c| c.open("lease", Open::default().with_ip(ip(100))))
        .handle;
    assert_eq!(
        status(&h.call(|c| c.update(handle, Values::new()))),
        Status::NOTIMPLEMENTED
    );
    assert_eq!(
        status(&h.call(|c| c.delete(handle))),
        Status::NOTIMPLEMENTED
    );
}

#[test]
fn failover_state_read_and_set_partner_down() {
    let mut h = signed();
    let r = h.call(|c| {
        c.open(
            "failover-state",
            Open::default().with("name", b"failover-partner".to_vec()),
        )
    });
    assert_eq!(r.op, Op::UPDATE.0, "{r:?}");
    assert_eq!(r.object.get_uint("local-state"), Some(Ok(3)));
    assert_eq!(r.object.get_uint("partner-state"), Some(Ok(2)));
    assert_eq!(r.object.get("partner-address"), Some(&[10, 99, 0, 2][..]));
    assert_eq!(r.object.get_uint("mclt"), Some(Ok(3600)));
    let handle = r.handle;
    // Only partner-down may be set, and only local-state.
    let mut normal = Values::new();
    normal.push_u32("local-state", 2);
    assert_eq!(
        status(&h.call(|c| c.update(handle, normal))),
        Status::INVALIDARG
    );
    let mut other = Values::new();
    other.push_u32("mclt", 1);
    assert_eq!(
        status(&h.call(|c| c.update(handle, other))),
        Status::INVALIDARG
    );
    assert_eq!(
        h.backend.failover["failover-partner"].local_state,
        FailoverStateCode::COMMUNICATIONS_INTERRUPTED
    );
    let mut down = Values::new();
    down.push_u32("local-state", 4);
    let r = h.call(|c| c.update(handle, down));
    assert_eq!(r.object.get_uint("local-state"), Some(Ok(4)), "{r:?}");
    assert_eq!(
        h.backend.failover["failover-partner"].local_state,
        FailoverStateCode::PARTNER_DOWN
    );
    assert_eq!(
        status(&h.call(|c| c.open(
            "failover-state",
            Open::default().with("name", b"x".to_vec())
        ))),
        Status::NOTFOUND
    );
    assert_eq!(
        status(&h.call(|c| c.open("failover-state", Open::default()))),
        Status::NOKEYS
    );
}

#[test]
fn unsupported_types_and_operations() {
    let mut h = signed();
    assert_eq!(
        status(&h.call(|c| c.open("group", Open::create(false)))),
        Status::NOTIMPLEMENTED
    );
    assert_eq!(
        status(&h.call(|c| c.open("spaceship", Open::default()))),
        Status::NOTFOUND
    );
    let r = h.call(|c| {
        c.request(Message {
            op: Op::NOTIFY.0,
            ..Default::default()
        })
    });
    assert_eq!(status(&r), Status::NOTIMPLEMENTED);
    let r = h.call(|c| {
        c.request(Message {
            op: 77,
            ..Default::default()
        })
    });
    assert_eq!(status(&r), Status::NOTIMPLEMENTED);
    let r = h.call(|c| {
        c.request(Message {
            op: Op::OPEN.0,
            ..Default::default()
        })
    });
    assert_eq!(status(&r), Status::INVALIDARG, "no type");
    let mut bad_flag = Open::default().with_mac(MAC);
    bad_flag.message.push("create", vec![0; 8]);
    assert_eq!(
        status(&h.call(|c| c.open("host", bad_flag))),
        Status::INVALIDARG
    );
    let bad_statements = Open::create(true)
        .with_mac(MAC)
        .with("statements", b"deny booting;".to_vec());
    assert_eq!(
        status(&h.call(|c| c.open("host", bad_statements))),
        Status::BADPARSE
    );
    assert_eq!(h.backend.host_count(), 0);
}

#[test]
fn messages_split_at_every_byte_are_answered_alike() {
    let mut h = signed();
    let (bytes, id) = h
        .client
        .open("host", Open::create(true).with_mac(MAC).with_ip(ip(77)));
    let mut replies = Vec::new();
    for b in &bytes {
        replies.extend(h.exchange(std::slice::from_ref(b)));
    }
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].0.rid, id);
    assert!(replies[0].1);
    // Two requests in one read.
    let (mut both, _) = h.client.open("host", Open::default().with_mac(MAC));
    let (second, _) = h.client.open("host", Open::default().with_ip(ip(77)));
    both.extend_from_slice(&second);
    assert_eq!(h.exchange(&both).len(), 2);
}

#[test]
fn handles_are_bounded() {
    let mut ring = KeyRing::new();
    ring.add(key());
    let mut cfg = Config::new(ring);
    cfg.max_handles = 2;
    let mut h = signed();
    h.session = Session::new(Arc::new(cfg));
    h.client = Client::new(Some(key()));
    let startup = h.client.startup();
    h.exchange(&startup);
    let (b, id) = h.client.open_authenticator();
    let auth = h.one(&b, id).handle;
    h.client.set_authid(auth);
    let mut handles = Vec::new();
    for (i, mac) in [[2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 3]]
        .into_iter()
        .enumerate()
    {
        let r = h.call(|c| {
            c.open(
                "host",
                Open::create(true).with_mac(mac).with_ip(ip(80 + i as u8)),
            )
        });
        handles.push(r.handle);
    }
    assert_eq!(
        status(&h.call(|c| c.refresh(handles[0]))),
        Status::NOTFOUND,
        "oldest forgotten"
    );
    assert_eq!(h.call(|c| c.refresh(handles[2])).op, Op::UPDATE.0);
    // The authenticator is not among the bounded handles.
    assert_eq!(h.call(|c| c.refresh(handles[1])).authid, auth);
}

// ---- refusals: nothing changes, and each is counted ----

#[test]
fn wrong_key_is_refused_and_the_session_closed() {
    let wrong = Key::new("omapi_key", "d3Jvbmcgc2VjcmV0").unwrap();
    let mut h = Harness::new(true, Some(wrong));
    let r = h.call(|c| c.open("host", Open::create(true).with_mac(MAC).with_ip(ip(90))));
    assert_eq!(status(&r), Status::INVALIDKEY);
    assert_eq!(r.authid, 0, "refusals are unsigned");
    assert!(h.session.is_closed());
    assert_eq!(h.backend.host_count(), 0);
    assert_eq!(h.stats().refused_bad_signature, 1);
    // Input after the close is ignored.
    let (bytes, _) = h.client.open("host", Open::create(true).with_mac(MAC));
    assert!(h.exchange(&bytes).is_empty());
    assert_eq!(h.backend.host_count(), 0);
}

#[test]
fn tampered_or_misattributed_messages_are_refused() {
    // A byte changed in the signed part.
    let mut h = signed();
    let (mut bytes, _) = h
        .client
        .open("host", Open::create(true).with_mac(MAC).with_ip(ip(91)));
    let n = bytes.len();
    bytes[n - 19] ^= 1; // the last byte of ip-address
    let r = h.exchange(&bytes);
    assert_eq!(status(&r[0].0), Status::INVALIDKEY);
    assert!(h.session.is_closed());
    assert_eq!(h.backend.host_count(), 0);
    // A signature under an authenticator id the session never gave.
    let mut h = signed();
    h.client.set_authid(h.client.authid() + 5);
    let r = h.call(|c| c.open("host", Open::create(true).with_mac(MAC)));
    assert_eq!(status(&r), Status::INVALIDKEY);
    assert_eq!(h.stats().refused_bad_signature, 1);
    assert_eq!(h.backend.host_count(), 0);
}

#[test]
fn unsigned_requests_are_refused_when_a_key_is_required() {
    let mut h = Harness::new(true, None);
    let r = h.call(|c| c.open("host", Open::create(true).with_mac(MAC).with_ip(ip(92))));
    assert_eq!(status(&r), Status::NOPERM);
    let r = h.call(|c| c.open("host", Open::default().with_mac(MAC)));
    assert_eq!(status(&r), Status::NOPERM, "lookups too");
    let r = h.call(|c| c.delete(1));
    assert_eq!(status(&r), Status::NOPERM);
    assert_eq!(h.backend.host_count(), 0);
    assert_eq!(h.stats().refused_unsigned, 3);
    assert!(!h.session.is_closed());
}

#[test]
fn unknown_key_or_algorithm_is_refused() {
    let mut s = Session::new(config(true));
    let mut b = MemoryBackend::new();
    let mut c = Client::new(Some(Key::new("other_key", SECRET).unwrap()));
    s.handle_input(&c.startup(), &mut b);
    let (bytes, _) = c.open_authenticator();
    s.handle_input(&bytes, &mut b);
    let replies = c.receive(&s.poll_transmit().unwrap()).unwrap();
    assert_eq!(status(&replies.last().unwrap().0), Status::KEY_UNKNOWN);
    let mut m = Message {
        op: Op::OPEN.0,
        ..Default::default()
    };
    m.message.push("type", b"authenticator".to_vec());
    m.object.push("name", b"omapi_key".to_vec());
    m.object.push("algorithm", b"hmac-sha256".to_vec());
    let (bytes, _) = c.request(m);
    s.handle_input(&bytes, &mut b);
    let replies = c.receive(&s.poll_transmit().unwrap()).unwrap();
    assert_eq!(status(&replies[0].0), Status::KEY_UNKNOWN);
    assert_eq!(s.stats().refused_unknown_key, 2);
}

#[test]
fn garbage_is_refused_and_the_session_closed() {
    // Not OMAPI at all.
    let mut s = Session::new(config(true));
    let mut b = MemoryBackend::new();
    s.poll_transmit();
    s.handle_input(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", &mut b);
    assert!(s.is_closed());
    assert!(s.poll_transmit().is_none());
    assert_eq!(s.stats().malformed, 1);
    // A good startup, then an unsupported signature length.
    let mut h = signed();
    let mut header = vec![0u8; 24];
    header[4..8].copy_from_slice(&7u32.to_be_bytes());
    assert!(h.exchange(&header).is_empty());
    assert!(h.session.is_closed());
    assert_eq!(h.stats().malformed, 1);
    // A value over the limit is refused from its length alone.
    let mut h = signed();
    let mut m = Message {
        op: Op::OPEN.0,
        ..Default::default()
    };
    m.message.push("type", b"host".to_vec());
    m.object.push("statements", vec![b' '; 1 << 20]);
    let (bytes, _) = h.client.request(m);
    assert!(h.exchange(&bytes[..64]).is_empty());
    assert!(h.session.is_closed());
    assert_eq!(h.stats().malformed, 1);
    assert_eq!(h.backend.host_count(), 0);
}

#[test]
fn truncated_message_changes_nothing_and_is_counted() {
    let mut h = signed();
    let (bytes, _) = h
        .client
        .open("host", Open::create(true).with_mac(MAC).with_ip(ip(93)));
    assert!(h.exchange(&bytes[..bytes.len() - 3]).is_empty());
    h.session.handle_eof();
    assert!(h.session.is_closed());
    assert_eq!(h.backend.host_count(), 0);
    assert_eq!(h.stats().truncated, 1);
    // A clean end counts nothing.
    let mut h = signed();
    h.session.handle_eof();
    assert_eq!(h.stats().truncated, 0);
}

#[test]
fn without_keys_unsigned_requests_are_served() {
    let mut h = Harness::new(false, None);
    let r = h.call(|c| c.open("host", Open::create(true).with_mac(MAC).with_ip(ip(94))));
    assert_eq!(r.op, Op::UPDATE.0);
    assert_eq!(r.authid, 0);
    assert_eq!(h.backend.host_count(), 1);
}

#[test]
fn stats_add_up() {
    let mut h = signed();
    h.call(|c| c.open("host", Open::create(true).with_mac(MAC)));
    h.call(|c| c.open("host", Open::create(true).with_mac(MAC)));
    let s = h.session.take_stats();
    assert_eq!(
        (s.messages, s.succeeded, s.failed),
        (3, 2, 1),
        "authenticator, create, duplicate"
    );
    assert_eq!(h.stats(), Stats::default());
    let mut total = Stats::default();
    total.add(&s);
    total.add(&s);
    assert_eq!(total.messages, 6);
}
