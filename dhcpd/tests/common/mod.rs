//! Test harness: the daemon binary on loopback with unprivileged ports, and a
//! fake relay agent speaking DHCP built with dhcproto.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::Read;
use std::net::{Ipv4Addr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use dhcproto::v4::{Architecture, DhcpOption, Flags, Message, MessageType, Opcode, OptionCode};
use dhcproto::{Decodable, Decoder, Encodable, Encoder};

/// The daemon binary.
pub const BIN: &str = env!("CARGO_BIN_EXE_dhcpd");

/// A free UDP port on 127.0.0.1 (released at once; races are unlikely).
pub fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running daemon.
pub struct Daemon {
    child: Option<Child>,
    /// Server port.
    pub port: u16,
    /// Where its stderr goes.
    pub log: PathBuf,
    /// Stats file written at shutdown.
    pub stats: PathBuf,
}

impl Daemon {
    /// Starts `dhcpd run` with `config` and `store` on `lo`, replies to relays
    /// going to `relay_port`; waits until it serves.
    pub fn start(dir: &Path, config: &Path, store: &Path, relay_port: u16, extra: &[&str]) -> Self {
        let port = free_port();
        let log = dir.join(format!("dhcpd-{port}.log"));
        let stats = dir.join(format!("stats-{port}"));
        let child = Command::new(BIN)
            .args(["run", "--config"])
            .arg(config)
            .arg("--store")
            .arg(store)
            .args(["--interface", "lo", "--log-level", "debug"])
            .args(["--server-port", &port.to_string()])
            .args(["--client-port", &free_port().to_string()])
            .args(["--relay-port", &relay_port.to_string()])
            .arg("--stats-file")
            .arg(&stats)
            .args(extra)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut d = Daemon {
            child: Some(child),
            port,
            log,
            stats,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !d.log_text().contains("serving") {
            if let Some(c) = d.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                panic!("dhcpd exited early ({status}):\n{}", d.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "dhcpd did not start:\n{}",
                d.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        d
    }

    /// Sends `msg` through `relay` and returns the reply; panics with the
    /// daemon's log if none comes.
    pub fn exchange(&self, relay: &Relay, msg: &Message) -> Message {
        relay
            .try_exchange(self.port, msg)
            .unwrap_or_else(|| panic!("no reply from dhcpd; its log:\n{}", self.log_text()))
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    /// Waits until the log contains `needle`; panics with the log after
    /// `timeout`.
    pub fn wait_log(&self, needle: &str, timeout: Duration) {
        let end = Instant::now() + timeout;
        while !self.log_text().contains(needle) {
            assert!(
                Instant::now() < end,
                "no {needle:?} in the log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The process id.
    pub fn pid(&self) -> i32 {
        self.child.as_ref().map(|c| c.id() as i32).unwrap()
    }

    /// SIGTERM, then wait (at most 20 s) for the exit status.
    pub fn terminate(self) -> (ExitStatus, String) {
        self.stop_with(libc::SIGTERM)
    }

    /// Sends `signal`, then waits (at most 20 s) for the exit status.
    pub fn stop_with(mut self, signal: i32) -> (ExitStatus, String) {
        let mut child = self.child.take().unwrap();
        // SAFETY: signalling our own child by its PID.
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return (status, self.log_text());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("dhcpd did not stop on SIGTERM:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The stats file as `(name, value)` pairs (after [`Daemon::terminate`]).
    pub fn read_stats(path: &Path) -> std::collections::HashMap<String, u64> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter_map(|l| {
                let (k, v) = l.split_once(' ')?;
                Some((k.to_owned(), v.parse().ok()?))
            })
            .collect()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A fake relay agent: a UDP socket at `addr:port` that forwards requests
/// with `giaddr = addr` and receives the replies.
pub struct Relay {
    sock: UdpSocket,
    /// Its address (the giaddr).
    pub addr: Ipv4Addr,
}

impl Relay {
    /// Binds `addr` on a free port.
    pub fn bind(addr: Ipv4Addr) -> Self {
        let sock = UdpSocket::bind((addr, 0)).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        Self { sock, addr }
    }

    /// Binds `addr` on `port`.
    pub fn bind_port(addr: Ipv4Addr, port: u16) -> Self {
        let sock = UdpSocket::bind((addr, port)).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        Self { sock, addr }
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.sock.local_addr().unwrap().port()
    }

    /// Sends raw bytes to the server.
    pub fn send_raw(&self, server_port: u16, bytes: &[u8]) {
        self.sock
            .send_to(bytes, ("127.0.0.1", server_port))
            .unwrap();
    }

    /// Sends `msg` and returns the reply with the same xid, retransmitting
    /// every second (as clients and relays do) for up to five tries.
    pub fn try_exchange(&self, server_port: u16, msg: &Message) -> Option<Message> {
        let mut bytes = Vec::new();
        msg.encode(&mut Encoder::new(&mut bytes)).unwrap();
        let mut buf = [0u8; 1500];
        for _ in 0..5 {
            self.send_raw(server_port, &bytes);
            let deadline = Instant::now() + Duration::from_secs(1);
            while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                self.sock
                    .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                    .unwrap();
                let Ok((n, from)) = self.sock.recv_from(&mut buf) else {
                    break;
                };
                assert_eq!(from.port(), server_port, "reply not from the server port");
                let reply = Message::decode(&mut Decoder::new(&buf[..n])).unwrap();
                assert!(n >= 300, "reply shorter than the BOOTP minimum: {n}");
                if reply.xid() == msg.xid() {
                    return Some(reply);
                }
            }
        }
        None
    }
}

/// A Ethernet MAC for client `i`.
pub fn mac(i: u8) -> [u8; 6] {
    [0x02, 0x00, 0x00, 0x99, 0x00, i]
}

fn base(mac: [u8; 6], giaddr: Ipv4Addr, xid: u32, t: MessageType) -> Message {
    let mut m = Message::new_with_id(
        xid,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::UNSPECIFIED,
        giaddr,
        &mac,
    );
    m.set_opcode(Opcode::BootRequest)
        .set_hops(1)
        .set_flags(Flags::default());
    let o = m.opts_mut();
    o.insert(DhcpOption::MessageType(t));
    o.insert(DhcpOption::ParameterRequestList(vec![
        OptionCode::SubnetMask,
        OptionCode::Router,
        OptionCode::DomainNameServer,
        OptionCode::DomainName,
        OptionCode::BootfileName,
        OptionCode::TFTPServerName,
    ]));
    // A UEFI x64 PXE ROM.
    o.insert(DhcpOption::ClientSystemArchitecture(Architecture::X64));
    o.insert(DhcpOption::ClientNetworkInterface(1, 3, 16));
    o.insert(DhcpOption::ClassIdentifier(
        b"PXEClient:Arch:00007:UNDI:003016".to_vec(),
    ));
    m
}

/// A relayed DHCPDISCOVER from a UEFI PXE client.
pub fn discover(mac: [u8; 6], giaddr: Ipv4Addr, xid: u32) -> Message {
    base(mac, giaddr, xid, MessageType::Discover)
}

/// A relayed DHCPREQUEST in SELECTING state.
pub fn request_selecting(
    mac: [u8; 6],
    giaddr: Ipv4Addr,
    xid: u32,
    addr: Ipv4Addr,
    server: Ipv4Addr,
) -> Message {
    let mut m = base(mac, giaddr, xid, MessageType::Request);
    m.opts_mut().insert(DhcpOption::RequestedIpAddress(addr));
    m.opts_mut().insert(DhcpOption::ServerIdentifier(server));
    m
}

/// A relayed DHCPREQUEST in INIT-REBOOT state.
pub fn request_init_reboot(mac: [u8; 6], giaddr: Ipv4Addr, xid: u32, addr: Ipv4Addr) -> Message {
    let mut m = base(mac, giaddr, xid, MessageType::Request);
    m.opts_mut().insert(DhcpOption::RequestedIpAddress(addr));
    m
}

/// The message type of a reply.
pub fn msg_type(m: &Message) -> MessageType {
    m.opts().msg_type().unwrap()
}

/// Option 54 of a reply.
pub fn server_id(m: &Message) -> Ipv4Addr {
    match m.opts().get(OptionCode::ServerIdentifier) {
        Some(DhcpOption::ServerIdentifier(a)) => *a,
        other => panic!("no server identifier: {other:?}"),
    }
}

/// The BOOTP `file` field without NUL padding.
pub fn boot_file(m: &Message) -> String {
    let f = m.fname().unwrap_or_default();
    let end = f.iter().position(|b| *b == 0).unwrap_or(f.len());
    String::from_utf8_lossy(&f[..end]).into_owned()
}

/// A test configuration: two relayed subnets on loopback addresses.
pub const CONFIG: &str = r#"
[server]
ignore_client_uids = true

[lease_time]
default = 600

[[subnets]]
subnet = "127.0.0.0/24"
next_server = "127.0.0.1"
[subnets.options]
routers = ["127.0.0.1"]
dns_servers = ["127.0.0.53"]
domain_name = "maas.test"
[[subnets.pools]]
start = "127.0.0.100"
end = "127.0.0.199"

[[subnets]]
subnet = "127.0.1.0/24"
[[subnets.pools]]
start = "127.0.1.10"
end = "127.0.1.20"
"#;

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// ISC's omshell (Debian's isc-dhcp-server), if installed; prints why not.
pub fn omshell() -> Option<&'static str> {
    let path = "/usr/bin/omshell";
    if Path::new(path).exists() {
        Some(path)
    } else {
        println!("SKIPPED: {path} not found (Debian ships it in isc-dhcp-server)");
        None
    }
}

/// Runs an omshell script; its standard output.
pub fn run_omshell(omshell: &str, script: &str) -> String {
    use std::io::Write;
    let mut child = Command::new(omshell)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    String::from_utf8_lossy(&child.wait_with_output().unwrap().stdout).into_owned()
}
