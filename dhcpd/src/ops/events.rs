//! Lease events for MAAS: on every commit (ACK), release and expiry, the
//! datagram MAAS's rack listens for (`maas-integration.md` §7), sent to a unix
//! datagram socket and/or given as JSON on stdin to a command.
//!
//! Events are emitted only once the lease change they report is durable (the
//! engine task hands them over in the store commit's completion). They go
//! into a bounded queue per destination; a full queue, a missing socket, a
//! slow receiver or a failing command drop events (counted in
//! `Counters::events_dropped`) and never delay serving.
//!
//! A Kea file's `libdhcp_run_script.so` is one more destination: its
//! script runs like an ISC hook's program, with Kea's hook point names and
//! variables ([`crate::ops::kea_script`]).

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use dhcp_core::engine::{Outcome, Verdict};
use dhcp_core::lease::HwAddr;
use dhcp_core::packet::Request;
use dhcp_isc::Event;
use dhcp_isc::hooks::{self, HookContext};
use dhcproto::v4::MessageType;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::clock::unix_now;
use crate::failure_log::FailureLog;
use crate::ops::kea_script::{KeaEvent, KeaLease, KeaScript, Query, Via};
use crate::ops::programs::{self, Program};
use crate::serve::counters::Counters;

/// Default capacity of each destination's queue.
pub const DEFAULT_QUEUE: usize = 1024;
/// How long one datagram send may wait for room in the receiver's buffer.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(1);
pub use crate::ops::programs::{COMMAND_TIMEOUT, MAX_HOOK_PROGRAMS};

/// What happened to the lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A lease was granted or renewed (every DHCPACK to a DHCPREQUEST).
    Commit,
    /// A lease ran out.
    Expiry,
    /// A lease was released (by its client or an operator).
    Release,
    /// A client declined the address (only a Kea script hears of it).
    Decline,
}

impl Action {
    /// MAAS's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Commit => "commit",
            Self::Expiry => "expiry",
            Self::Release => "release",
            Self::Decline => "decline",
        }
    }
}

/// One lease event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseEvent {
    /// What happened.
    pub action: Action,
    /// The client's hardware address bytes.
    pub mac: Vec<u8>,
    /// The address.
    pub ip: Ipv4Addr,
    /// Unix time of the event (set when it is emitted, after the commit).
    pub timestamp: u64,
    /// Lease time granted (commit only).
    pub lease_time: Option<u32>,
    /// The client's host name (option 12) (commit only); `None` when it sent
    /// none, which MAAS receives as `"(none)"`.
    pub hostname: Option<String>,
    /// The hardware type (ISC's `hardware` is this byte, then `mac`).
    pub htype: u8,
    /// The options of the client's message (commit only), for ISC hooks'
    /// `option NAME`.
    pub options: Vec<(u8, Vec<u8>)>,
    /// What only a Kea script reads (set when one is configured).
    pub kea: Option<Box<KeaDetail>>,
}

/// The parts of an event only a Kea run_script reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeaDetail {
    /// The lease's client identifier.
    pub client_id: Option<Vec<u8>>,
    /// The lease's host name.
    pub hostname: Option<String>,
    /// The lease's valid lifetime.
    pub valid_lifetime: u32,
    /// The valid lifetime as written (a declined lease's probation).
    pub written_lifetime: u32,
    /// The client's last transaction time (unix).
    pub cltt: u32,
    /// The client's message, when there was one.
    pub query: Option<Query>,
    /// A commit renewed the client's ACTIVE lease (Kea: `lease4_renew`).
    pub renewed: bool,
}

impl KeaDetail {
    /// The detail of `lease` (as written), for the message `req` if any,
    /// which came in `via`.
    pub fn of(
        lease: &dhcp_core::lease::Lease,
        req: Option<&Request>,
        via: Option<Via>,
    ) -> Box<Self> {
        Box::new(Self {
            client_id: lease.client_id.clone(),
            hostname: lease.hostname.clone(),
            // An expired lease keeps its end and last transaction time.
            valid_lifetime: lease.ends.saturating_sub(lease.cltt),
            written_lifetime: lease.ends.saturating_sub(lease.cltt),
            cltt: lease.cltt,
            query: req.map(|r| Query::of(r, via)),
            renewed: false,
        })
    }
}

/// A MAC as ISC prints it in hooks: lowercase hex octets without zero
/// padding, joined with `:` (`52:54:0:0:0:7`).
pub fn isc_mac(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

impl LeaseEvent {
    /// A commit event.
    pub fn commit(hw: &HwAddr, ip: Ipv4Addr, lease_time: u32, hostname: Option<String>) -> Self {
        Self {
            action: Action::Commit,
            mac: hw.addr.clone(),
            ip,
            timestamp: 0,
            lease_time: Some(lease_time),
            hostname,
            htype: hw.htype,
            options: Vec::new(),
            kea: None,
        }
    }

    /// An expiry or release event.
    pub fn end(action: Action, hw: &HwAddr, ip: Ipv4Addr) -> Self {
        Self {
            action,
            mac: hw.addr.clone(),
            ip,
            timestamp: 0,
            lease_time: None,
            hostname: None,
            htype: hw.htype,
            options: Vec::new(),
            kea: None,
        }
    }

    /// The event for a transaction's outcome, if it is one MAAS hears about:
    /// an ACK to a REQUEST (commit) or a client's RELEASE (and, with
    /// `kea`, a DECLINE); a commit carries the request's options when
    /// `with_options`, every event the [`KeaDetail`] (with `via`, where the
    /// request came in) when `kea`.
    pub fn from_outcome(
        req: &Request,
        out: &Outcome,
        with_options: bool,
        kea: bool,
        via: impl FnOnce() -> Via,
    ) -> Option<Self> {
        let mut ev = Self::of_outcome(req, out, with_options, kea)?;
        if kea {
            let lease = out.writes.iter().find(|l| l.addr == ev.ip);
            ev.kea = lease.map(|l| {
                let mut d = KeaDetail::of(l, Some(req), Some(via()));
                if let Some(t) = ev.lease_time {
                    d.valid_lifetime = t;
                }
                d
            });
        }
        Some(ev)
    }

    fn of_outcome(req: &Request, out: &Outcome, with_options: bool, kea: bool) -> Option<Self> {
        let addr = out.addr?;
        match (&out.verdict, out.request_type) {
            (Verdict::Replied(MessageType::Ack), MessageType::Request) => {
                let hostname = req.raw(12).map(|h| String::from_utf8_lossy(h).into_owned());
                let mut ev = Self::commit(&out.hw, addr, out.lease_time.unwrap_or(0), hostname);
                if with_options {
                    ev.options = req.raw.iter().map(|(c, v)| (c, v.to_vec())).collect();
                }
                Some(ev)
            }
            (Verdict::Released, _) => Some(Self::end(Action::Release, &out.hw, addr)),
            (Verdict::Declined, _) if kea => Some(Self::end(Action::Decline, &out.hw, addr)),
            _ => None,
        }
    }

    /// The datagram: one JSON object, MAAS's key order and separators, no
    /// trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = format!(
            "{{\"action\": {}, \"mac\": {}, \"ip_family\": \"ipv4\", \"ip\": {}, \"timestamp\": {}",
            json_str(self.action.name()),
            json_str(&isc_mac(&self.mac)),
            json_str(&self.ip.to_string()),
            self.timestamp
        );
        if self.action == Action::Commit {
            s.push_str(&format!(
                ", \"lease_time\": {}",
                self.lease_time.unwrap_or(0)
            ));
            match self.hostname.as_deref() {
                None => s.push_str(", \"hostname\": \"(none)\""),
                Some(h) if h.trim().is_empty() => {}
                Some(h) => s.push_str(&format!(", \"hostname\": {}", json_str(h))),
            }
        }
        s.push('}');
        s
    }
}

/// Where events go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventSettings {
    /// A unix datagram socket to send each event to (MAAS:
    /// `/var/lib/maas/dhcpd.sock`).
    pub socket: Option<PathBuf>,
    /// A command run (by `/bin/sh -c`) once per event, the event JSON on stdin.
    pub command: Option<String>,
    /// An ISC file's `on commit/release/expiry` hooks: the programs their
    /// `execute(…)` names run with the evaluated arguments (MAAS's notify
    /// helper excepted: [`EventSettings::socket`] does its work).
    pub hooks: Vec<dhcp_isc::EventHook>,
    /// A Kea file's `libdhcp_run_script.so`.
    pub kea_script: Option<KeaScript>,
    /// Capacity of each destination's queue.
    pub queue: usize,
}

/// The producer side: cheap to clone, never blocks.
#[derive(Debug, Clone)]
pub struct EventSink {
    /// Each destination's queue, and whether it takes declines.
    queues: Vec<(mpsc::Sender<LeaseEvent>, bool)>,
    counters: Arc<Counters>,
    /// Whether a destination reads the client's options (ISC hooks).
    wants_options: bool,
    /// Whether a Kea script is configured (events carry [`KeaDetail`]).
    wants_kea: bool,
}

impl EventSink {
    /// A sink that sends nowhere.
    pub fn disabled(counters: Arc<Counters>) -> Self {
        Self {
            queues: Vec::new(),
            counters,
            wants_options: false,
            wants_kea: false,
        }
    }

    /// Whether any destination is configured.
    pub fn is_enabled(&self) -> bool {
        !self.queues.is_empty()
    }

    /// Whether events must carry the client's options (only ISC hooks read
    /// them; otherwise they are not copied on the reply path).
    pub fn wants_options(&self) -> bool {
        self.wants_options
    }

    /// Whether events must carry their [`KeaDetail`].
    pub fn wants_kea(&self) -> bool {
        self.wants_kea
    }

    /// Stamps the event with the current time and queues it for every
    /// destination; a full queue drops it (counted).
    pub fn emit(&self, mut ev: LeaseEvent) {
        ev.timestamp = unix_now();
        for (q, declines) in &self.queues {
            if ev.action == Action::Decline && !declines {
                continue;
            }
            match q.try_send(ev.clone()) {
                Ok(()) => self.counters.events_queued.fetch_add(1, Ordering::Relaxed),
                Err(_) => self.counters.events_dropped.fetch_add(1, Ordering::Relaxed),
            };
        }
    }

    /// Emits every event, in order.
    pub fn emit_all(&self, events: Vec<LeaseEvent>) {
        for ev in events {
            self.emit(ev);
        }
    }
}

/// Starts one delivery task per configured destination. The tasks end once
/// every [`EventSink`] clone is dropped and their queues are drained.
pub fn start(
    settings: &EventSettings,
    counters: Arc<Counters>,
) -> (EventSink, Vec<JoinHandle<()>>) {
    let cap = settings.queue.max(1);
    let mut queues = Vec::new();
    let mut tasks = Vec::new();
    if let Some(path) = &settings.socket {
        let (tx, rx) = mpsc::channel(cap);
        queues.push((tx, false));
        tasks.push(tokio::spawn(deliver_datagrams(
            path.clone(),
            rx,
            counters.clone(),
        )));
    }
    if let Some(cmd) = &settings.command {
        let (tx, rx) = mpsc::channel(cap);
        queues.push((tx, false));
        tasks.push(tokio::spawn(run_commands(
            cmd.clone(),
            rx,
            counters.clone(),
        )));
    }
    let wants_options = [Event::Commit, Event::Release, Event::Expiry]
        .into_iter()
        .any(|e| hooks::runs_programs(&settings.hooks, e));
    if wants_options {
        let (tx, rx) = mpsc::channel(cap);
        queues.push((tx, false));
        let hooks = settings.hooks.clone();
        tasks.push(tokio::spawn(programs::run(
            rx,
            counters.clone(),
            move |ev| hook_programs(&hooks, ev),
        )));
    }
    if let Some(script) = &settings.kea_script {
        let (tx, rx) = mpsc::channel(cap);
        queues.push((tx, true));
        let script = script.clone();
        tasks.push(tokio::spawn(programs::run(
            rx,
            counters.clone(),
            move |ev| kea_programs(&script, ev),
        )));
    }
    (
        EventSink {
            queues,
            counters,
            wants_options,
            wants_kea: settings.kea_script.is_some(),
        },
        tasks,
    )
}

async fn deliver_datagrams(
    path: PathBuf,
    mut rx: mpsc::Receiver<LeaseEvent>,
    counters: Arc<Counters>,
) {
    let sock = match tokio::net::UnixDatagram::unbound() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot create a datagram socket: lease events are dropped");
            while rx.recv().await.is_some() {
                counters.events_dropped.fetch_add(1, Ordering::Relaxed);
            }
            return;
        }
    };
    let log = FailureLog::default();
    while let Some(ev) = rx.recv().await {
        let json = ev.to_json();
        let sent = tokio::time::timeout(SEND_TIMEOUT, sock.send_to(json.as_bytes(), &path)).await;
        match sent {
            Ok(Ok(_)) => {
                counters.events_delivered.fetch_add(1, Ordering::Relaxed);
                log.ok("lease events are being delivered again");
            }
            Ok(Err(e)) => {
                counters.events_dropped.fetch_add(1, Ordering::Relaxed);
                log.failed(
                    &format!("cannot send a lease event to {}", path.display()),
                    &e,
                );
            }
            Err(_) => {
                counters.events_dropped.fetch_add(1, Ordering::Relaxed);
                log.failed(
                    &format!("lease event receiver {} is too slow", path.display()),
                    &"timed out",
                );
            }
        }
    }
}

async fn run_one(cmd: &str, ev: &LeaseEvent) -> Result<(), String> {
    let mut child = tokio::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .env("DHCPD_EVENT_ACTION", ev.action.name())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let mut json = ev.to_json();
    json.push('\n');
    let work = async {
        if let Some(mut stdin) = child.stdin.take() {
            // A command that ignores its input may close it early: not an error.
            let _ = stdin.write_all(json.as_bytes()).await;
        }
        child.wait().await
    };
    match tokio::time::timeout(COMMAND_TIMEOUT, work).await {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(format!("exited with {status}")),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("still running after {COMMAND_TIMEOUT:?}; killed")),
    }
}

async fn run_commands(cmd: String, mut rx: mpsc::Receiver<LeaseEvent>, counters: Arc<Counters>) {
    let log = FailureLog::default();
    while let Some(ev) = rx.recv().await {
        match run_one(&cmd, &ev).await {
            Ok(()) => {
                counters.events_delivered.fetch_add(1, Ordering::Relaxed);
                log.ok("the lease event command works again");
            }
            Err(e) => {
                counters.events_dropped.fetch_add(1, Ordering::Relaxed);
                log.failed("lease event command failed", &e);
            }
        }
    }
}

/// The programs of ISC hooks for one event.
fn hook_programs(hooks: &[dhcp_isc::EventHook], ev: &LeaseEvent) -> Vec<Program> {
    let event = match ev.action {
        Action::Commit => Event::Commit,
        Action::Release => Event::Release,
        Action::Expiry => Event::Expiry,
        Action::Decline => return Vec::new(),
    };
    let mut hardware = vec![ev.htype];
    hardware.extend_from_slice(&ev.mac);
    let ctx = HookContext {
        hardware: &hardware,
        leased_address: ev.ip,
        lease_time: ev.lease_time,
        options: &ev.options,
    };
    hooks::invocations(hooks, event, &ctx)
        .into_iter()
        .map(|inv| Program {
            program: inv.program.into(),
            args: inv.args,
            env: Vec::new(),
        })
        .collect()
}

/// The runs of a Kea file's run_script for one event, in Kea's order.
fn kea_programs(script: &KeaScript, ev: &LeaseEvent) -> Vec<Program> {
    let event = match ev.action {
        Action::Commit if ev.kea.as_ref().is_some_and(|d| d.renewed) => KeaEvent::Renew,
        Action::Commit => KeaEvent::Commit,
        Action::Release => KeaEvent::Release,
        Action::Expiry => KeaEvent::Expire,
        Action::Decline => KeaEvent::Decline,
    };
    let detail = ev.kea.as_deref();
    let lease = KeaLease {
        addr: ev.ip,
        htype: ev.htype,
        hwaddr: ev.mac.clone(),
        client_id: detail.and_then(|d| d.client_id.clone()),
        hostname: detail
            .and_then(|d| d.hostname.clone())
            .or(ev.hostname.clone()),
        valid_lifetime: detail.map_or(ev.lease_time.unwrap_or(0), |d| d.valid_lifetime),
        written_lifetime: detail.map_or(0, |d| d.written_lifetime),
        cltt: detail.map_or(ev.timestamp, |d| u64::from(d.cltt)),
    };
    let mut query = detail.and_then(|d| d.query.clone());
    if let Some(w) = query.as_mut().and_then(|q| q.via.as_mut()) {
        w.local_hwaddr = crate::ops::kea_script::local_hwaddr(&w.interface);
    }
    script
        .calls(event, &lease, query.as_ref())
        .into_iter()
        .map(|(hook, env)| Program {
            program: script.program.clone(),
            args: vec![hook.to_owned()],
            env,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datagrams_match_maas_examples() {
        let hw = HwAddr::ethernet([0x52, 0x54, 0, 0, 0, 7]);
        let ip = Ipv4Addr::new(10, 20, 0, 160);
        let mut c = LeaseEvent::commit(&hw, ip, 30, Some("pxe-client".into()));
        c.timestamp = 1795627749;
        assert_eq!(
            c.to_json(),
            r#"{"action": "commit", "mac": "52:54:0:0:0:7", "ip_family": "ipv4", "ip": "10.20.0.160", "timestamp": 1795627749, "lease_time": 30, "hostname": "pxe-client"}"#
        );
        let mut e = LeaseEvent::end(Action::Expiry, &hw, ip);
        e.timestamp = 1795627811;
        assert_eq!(
            e.to_json(),
            r#"{"action": "expiry", "mac": "52:54:0:0:0:7", "ip_family": "ipv4", "ip": "10.20.0.160", "timestamp": 1795627811}"#
        );
        let none = LeaseEvent::commit(&hw, ip, 600, None).to_json();
        assert!(
            none.ends_with(r#""lease_time": 600, "hostname": "(none)"}"#),
            "{none}"
        );
        let blank = LeaseEvent::commit(&hw, ip, 600, Some(" ".into())).to_json();
        assert!(!blank.contains("hostname"), "{blank}");
        let quoted = LeaseEvent::commit(&hw, ip, 1, Some("a\"b".into())).to_json();
        let v: serde_json::Value = serde_json::from_str(&quoted).unwrap();
        assert_eq!(v["hostname"], "a\"b");
        assert_eq!(isc_mac(&[0xaa, 0x0b, 0x00]), "aa:b:0");
    }

    #[tokio::test]
    async fn full_queue_drops_and_counts() {
        let counters = Arc::new(Counters::default());
        let (tx, mut rx) = mpsc::channel(1);
        let sink = EventSink {
            queues: vec![(tx, false)],
            counters: counters.clone(),
            wants_options: false,
            wants_kea: false,
        };
        let hw = HwAddr::ethernet([2, 0, 0, 0, 0, 1]);
        let ev = LeaseEvent::end(Action::Release, &hw, Ipv4Addr::new(10, 99, 0, 1));
        sink.emit(ev.clone());
        sink.emit(ev);
        assert_eq!(counters.events_queued.load(Ordering::Relaxed), 1);
        assert_eq!(counters.events_dropped.load(Ordering::Relaxed), 1);
        assert!(rx.recv().await.unwrap().timestamp > 0);
    }
}
