//! Helpers shared by the operations tests (`tests/ops/`): the control CLI,
//! metrics scrapes and a DORA shortcut, on top of `tests/common`.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use dhcproto::v4::{DhcpOption, Message, MessageType};

use crate::common::*;

/// The relay / giaddr / server identifier used by the tests.
pub const RELAY: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);

/// The output of a CLI run.
pub struct CliRun {
    /// Exit status was 0.
    pub ok: bool,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `dhcpd ARGS… --socket SOCKET`.
pub fn ctl(socket: &Path, args: &[&str]) -> CliRun {
    let out = Command::new(BIN)
        .args(args)
        .arg("--socket")
        .arg(socket)
        .output()
        .unwrap();
    CliRun {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs a CLI command with `--json` and parses its output; panics on failure.
pub fn ctl_json(socket: &Path, args: &[&str]) -> serde_json::Value {
    let mut a = args.to_vec();
    a.push("--json");
    let r = ctl(socket, &a);
    assert!(r.ok, "dhcpd {args:?} failed: {}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

/// A free TCP port on 127.0.0.1.
pub fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET path` on 127.0.0.1:port; returns (status line, body).
pub fn http_get(port: u16, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}

/// The value of the sample `series` (`name` or `name{labels}`, exactly as
/// exported) in a scrape.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

/// Polls `f` every 50 ms until it returns true or `timeout` passes.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// DISCOVER/OFFER/REQUEST/ACK for `mac` through `relay`; returns the ACK.
pub fn dora(d: &Daemon, relay: &Relay, mac: [u8; 6], xid: u32) -> Message {
    let offer = d.exchange(relay, &discover(mac, relay.addr, xid));
    assert_eq!(msg_type(&offer), MessageType::Offer);
    let ack = d.exchange(
        relay,
        &request_selecting(mac, relay.addr, xid + 1, offer.yiaddr(), server_id(&offer)),
    );
    assert_eq!(msg_type(&ack), MessageType::Ack, "{ack:?}");
    ack
}

/// A relayed DHCPRELEASE of `addr` by `mac`.
pub fn release(mac: [u8; 6], giaddr: Ipv4Addr, xid: u32, addr: Ipv4Addr) -> Message {
    let mut m = request_init_reboot(mac, giaddr, xid, addr);
    m.set_ciaddr(addr);
    m.opts_mut()
        .remove(dhcproto::v4::OptionCode::RequestedIpAddress);
    m.opts_mut()
        .insert(DhcpOption::MessageType(MessageType::Release));
    m.opts_mut().insert(DhcpOption::ServerIdentifier(RELAY));
    m
}

/// Sends `msg` without waiting for a reply (RELEASE has none).
pub fn send_only(d: &Daemon, relay: &Relay, msg: &Message) {
    use dhcproto::{Encodable, Encoder};
    let mut bytes = Vec::new();
    msg.encode(&mut Encoder::new(&mut bytes)).unwrap();
    relay.send_raw(d.port, &bytes);
}

/// Adds `opt` to a message.
pub fn with(mut m: Message, opt: DhcpOption) -> Message {
    m.opts_mut().insert(opt);
    m
}
