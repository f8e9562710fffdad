//! One simulated PXE client as a sans-IO state machine: the caller feeds it
//! the time and the replies addressed to it, and asks it what to send and when
//! it next needs to run. No sockets, no clock of its own.
//!
//! Behaviour (RFC 2131 §4.1, §4.4): broadcast DISCOVER, first OFFER wins,
//! broadcast REQUEST (options 50 and 54), retransmissions with exponential
//! backoff (initial timeout, doubling up to a maximum, randomised by up to
//! ±1 s), back to DISCOVER after too many unanswered REQUESTs or on NAK;
//! once bound, unicast renewal at T1, broadcast rebinding at T2, back to
//! DISCOVER at expiry. Every message carries the PXE options a BIOS PXE ROM
//! sends: 60 `PXEClient:Arch:00000:UNDI:002001`, 93, 94 and 97.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use dhcproto::v4::{Architecture, DhcpOption, Flags, Message, MessageType, Opcode, OptionCode};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Timers and identity of a simulated client.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// First retransmission timeout (RFC 2131: 4 s).
    pub initial_timeout: Duration,
    /// Cap of the doubling timeout (RFC 2131: 64 s).
    pub max_timeout: Duration,
    /// Largest random offset added to or removed from each timeout (RFC 2131: 1 s).
    pub jitter: Duration,
    /// REQUEST retransmissions before starting over with DISCOVER.
    pub request_retries: u32,
    /// Whether to renew at T1 (and rebind at T2). If false the client stays
    /// bound, silent, until expiry.
    pub renew: bool,
    /// Set the BROADCAST flag (so replies come by broadcast; the simulated
    /// clients share one interface whose MAC is not theirs, so they need it).
    pub broadcast_flag: bool,
    /// Option 93 value (0 = x86 BIOS).
    pub arch: u16,
    /// Option 60 text.
    pub vendor_class: String,
    /// Send option 61 (type 1 + MAC), as iPXE does; BIOS PXE ROMs do not.
    pub client_id: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            initial_timeout: Duration::from_secs(4),
            max_timeout: Duration::from_secs(64),
            jitter: Duration::from_secs(1),
            request_retries: 4,
            renew: true,
            broadcast_flag: true,
            arch: 0,
            vendor_class: "PXEClient:Arch:00000:UNDI:002001".to_owned(),
            client_id: false,
        }
    }
}

/// Where a message goes.
#[derive(Debug, Clone, PartialEq)]
pub struct Transmit {
    /// The message.
    pub message: Message,
    /// Destination address (port 67): 255.255.255.255 or the server.
    pub destination: Ipv4Addr,
    /// Source address to use, once the client has one (renewing, rebinding).
    pub source: Option<Ipv4Addr>,
}

/// Something that happened to a client, reported by [`SimClient::handle`]
/// and [`SimClient::poll_transmit`].
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// First lease (or a new one after starting over).
    Bound {
        /// The address.
        address: Ipv4Addr,
        /// The server (option 54).
        server: Ipv4Addr,
        /// Time since the acquisition started.
        waited: Duration,
        /// Option 51 of the ACK, seconds.
        lease_time: u32,
    },
    /// A renewal or rebinding was acknowledged.
    Renewed {
        /// The address.
        address: Ipv4Addr,
        /// The server that acknowledged.
        server: Ipv4Addr,
        /// Time since the first renewal REQUEST of this round (T1).
        waited: Duration,
        /// Option 51 of the ACK, seconds.
        lease_time: u32,
    },
    /// A NAK arrived; the client starts over.
    Nak {
        /// The server that sent it.
        server: Ipv4Addr,
    },
    /// The lease ran out without renewal; the client starts over.
    Expired {
        /// The address given up.
        address: Ipv4Addr,
    },
    /// Too many unanswered REQUESTs; the client starts over.
    RequestTimeout,
}

/// A lease as the client holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    /// `yiaddr`.
    pub address: Ipv4Addr,
    /// Option 54.
    pub server: Ipv4Addr,
    /// `siaddr`.
    pub next_server: Ipv4Addr,
    /// `file` (or option 67).
    pub boot_file: Option<String>,
    /// Option 1.
    pub subnet_mask: Option<Ipv4Addr>,
    /// First address of option 3.
    pub router: Option<Ipv4Addr>,
    /// Option 51, seconds.
    pub lease_time: u32,
    /// When the ACK arrived.
    pub acked_at: Instant,
    /// T1.
    pub renew_at: Instant,
    /// T2.
    pub rebind_at: Instant,
    /// Expiry.
    pub expires_at: Instant,
}

#[derive(Debug, Clone)]
enum State {
    /// Not started yet; DISCOVER at `start_at`.
    Init { start_at: Instant },
    /// DISCOVER sent, waiting for an OFFER.
    Selecting { attempt: u32, next_tx: Instant },
    /// REQUEST sent, waiting for an ACK.
    Requesting {
        offered: Ipv4Addr,
        server: Ipv4Addr,
        attempt: u32,
        next_tx: Instant,
    },
    /// Holding a lease.
    Bound,
    /// Unicasting renewals to the server.
    Renewing { next_tx: Instant, since: Instant },
    /// Broadcasting rebinds.
    Rebinding { next_tx: Instant, since: Instant },
}

/// Counters kept by a client.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ClientCounters {
    /// DISCOVERs sent.
    pub discovers: u32,
    /// REQUESTs sent in the selecting phase.
    pub requests: u32,
    /// OFFERs received.
    pub offers: u32,
    /// NAKs received.
    pub naks: u32,
    /// Renewal or rebinding REQUESTs sent.
    pub renew_requests: u32,
    /// Successful renewals or rebinds.
    pub renewals: u32,
    /// Times the client had to start over (NAK, expiry, request timeout).
    pub restarts: u32,
}

/// One simulated client. See the module documentation.
#[derive(Debug, Clone)]
pub struct SimClient {
    mac: [u8; 6],
    uuid: [u8; 16],
    config: ClientConfig,
    rng: ChaCha8Rng,
    xid: u32,
    state: State,
    lease: Option<Lease>,
    acquisition_started: Option<Instant>,
    first_lease_after: Option<Duration>,
    counters: ClientCounters,
}

impl SimClient {
    /// A client with hardware address `mac`, starting its first DISCOVER at
    /// `start_at`. `seed` drives its xids and jitter (so runs are repeatable).
    pub fn new(mac: [u8; 6], config: ClientConfig, seed: u64, start_at: Instant) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut uuid = [0u8; 16];
        rng.fill(&mut uuid);
        let xid = rng.random();
        Self {
            mac,
            uuid,
            config,
            rng,
            xid,
            state: State::Init { start_at },
            lease: None,
            acquisition_started: None,
            first_lease_after: None,
            counters: ClientCounters::default(),
        }
    }

    /// The hardware address.
    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    /// The current transaction id.
    pub fn xid(&self) -> u32 {
        self.xid
    }

    /// The lease held, if bound (or renewing/rebinding).
    pub fn lease(&self) -> Option<&Lease> {
        self.lease.as_ref()
    }

    /// Time from the first DISCOVER to the first ACK, once bound.
    pub fn time_to_first_lease(&self) -> Option<Duration> {
        self.first_lease_after
    }

    /// The counters.
    pub fn counters(&self) -> &ClientCounters {
        &self.counters
    }

    /// A short name of the current state.
    pub fn state_name(&self) -> &'static str {
        match self.state {
            State::Init { .. } => "init",
            State::Selecting { .. } => "selecting",
            State::Requesting { .. } => "requesting",
            State::Bound => "bound",
            State::Renewing { .. } => "renewing",
            State::Rebinding { .. } => "rebinding",
        }
    }

    /// When the client next needs [`SimClient::poll_transmit`] to be called.
    pub fn poll_timeout(&self) -> Instant {
        match &self.state {
            State::Init { start_at } => *start_at,
            State::Selecting { next_tx, .. } | State::Requesting { next_tx, .. } => *next_tx,
            State::Bound => match &self.lease {
                Some(l) if self.config.renew => l.renew_at,
                Some(l) => l.expires_at,
                None => Instant::now() + Duration::from_secs(3600),
            },
            State::Renewing { next_tx, .. } | State::Rebinding { next_tx, .. } => {
                let cap = self.lease.as_ref().map(|l| {
                    if matches!(self.state, State::Renewing { .. }) {
                        l.rebind_at
                    } else {
                        l.expires_at
                    }
                });
                cap.map_or(*next_tx, |c| (*next_tx).min(c))
            }
        }
    }

    /// Advances timers to `now` and returns the message to send, if any,
    /// together with an event if the timers caused one (expiry, request
    /// timeout). Call repeatedly until it returns `(None, None)`.
    pub fn poll_transmit(&mut self, now: Instant) -> (Option<Transmit>, Option<ClientEvent>) {
        match self.state.clone() {
            State::Init { start_at } => {
                if now < start_at {
                    return (None, None);
                }
                self.new_xid();
                self.acquisition_started.get_or_insert(now);
                self.state = State::Selecting {
                    attempt: 0,
                    next_tx: now,
                };
                self.poll_transmit(now)
            }
            State::Selecting { attempt, next_tx } => {
                if now < next_tx {
                    return (None, None);
                }
                let next = now + self.backoff(attempt);
                self.state = State::Selecting {
                    attempt: attempt + 1,
                    next_tx: next,
                };
                self.counters.discovers += 1;
                let msg = self.discover(now);
                (Some(broadcast(msg)), None)
            }
            State::Requesting {
                offered,
                server,
                attempt,
                next_tx,
            } => {
                if now < next_tx {
                    return (None, None);
                }
                if attempt > self.config.request_retries {
                    self.restart(now);
                    return (None, Some(ClientEvent::RequestTimeout));
                }
                let next = now + self.backoff(attempt);
                self.state = State::Requesting {
                    offered,
                    server,
                    attempt: attempt + 1,
                    next_tx: next,
                };
                self.counters.requests += 1;
                let msg = self.request(now, offered, server);
                (Some(broadcast(msg)), None)
            }
            State::Bound => {
                let Some(lease) = self.lease.clone() else {
                    self.restart(now);
                    return (None, None);
                };
                if now >= lease.expires_at {
                    return self.expire(now, lease.address);
                }
                if self.config.renew && now >= lease.renew_at {
                    self.new_xid();
                    self.state = State::Renewing {
                        next_tx: now,
                        since: now,
                    };
                    return self.poll_transmit(now);
                }
                (None, None)
            }
            State::Renewing { next_tx, since } => {
                let Some(lease) = self.lease.clone() else {
                    self.restart(now);
                    return (None, None);
                };
                if now >= lease.rebind_at {
                    self.state = State::Rebinding {
                        next_tx: now,
                        since,
                    };
                    return self.poll_transmit(now);
                }
                if now < next_tx {
                    return (None, None);
                }
                let wait = retry_wait(lease.rebind_at.saturating_duration_since(now));
                self.state = State::Renewing {
                    next_tx: now + wait,
                    since,
                };
                self.counters.renew_requests += 1;
                let msg = self.renewal(now, since, lease.address);
                (
                    Some(Transmit {
                        message: msg,
                        destination: lease.server,
                        source: Some(lease.address),
                    }),
                    None,
                )
            }
            State::Rebinding { next_tx, since } => {
                let Some(lease) = self.lease.clone() else {
                    self.restart(now);
                    return (None, None);
                };
                if now >= lease.expires_at {
                    return self.expire(now, lease.address);
                }
                if now < next_tx {
                    return (None, None);
                }
                let wait = retry_wait(lease.expires_at.saturating_duration_since(now));
                self.state = State::Rebinding {
                    next_tx: now + wait,
                    since,
                };
                self.counters.renew_requests += 1;
                let msg = self.renewal(now, since, lease.address);
                let mut tx = broadcast(msg);
                tx.source = Some(lease.address);
                (Some(tx), None)
            }
        }
    }

    /// Whether `msg` is a reply meant for this client (xid and chaddr match).
    pub fn accepts(&self, msg: &Message) -> bool {
        msg.opcode() == Opcode::BootReply
            && msg.xid() == self.xid
            && msg.chaddr().get(..6) == Some(&self.mac[..])
    }

    /// Handles a reply received at `now`.
    pub fn handle(&mut self, now: Instant, msg: &Message) -> Option<ClientEvent> {
        if !self.accepts(msg) {
            return None;
        }
        let kind = msg.opts().msg_type()?;
        let server = match msg.opts().get(OptionCode::ServerIdentifier) {
            Some(DhcpOption::ServerIdentifier(a)) => *a,
            _ => msg.siaddr(),
        };
        match (self.state.clone(), kind) {
            (State::Selecting { .. }, MessageType::Offer) => {
                self.counters.offers += 1;
                self.state = State::Requesting {
                    offered: msg.yiaddr(),
                    server,
                    attempt: 0,
                    next_tx: now,
                };
                None
            }
            (State::Requesting { .. }, MessageType::Offer) => {
                self.counters.offers += 1;
                None
            }
            (State::Requesting { .. }, MessageType::Ack) => {
                let lease = self.lease_from(now, msg, server);
                let (address, lease_time) = (lease.address, lease.lease_time);
                self.lease = Some(lease);
                self.state = State::Bound;
                let waited = self
                    .acquisition_started
                    .map_or(Duration::ZERO, |t| now.saturating_duration_since(t));
                self.acquisition_started = None;
                self.first_lease_after.get_or_insert(waited);
                Some(ClientEvent::Bound {
                    address,
                    server,
                    waited,
                    lease_time,
                })
            }
            (State::Renewing { since, .. } | State::Rebinding { since, .. }, MessageType::Ack) => {
                let lease = self.lease_from(now, msg, server);
                let (address, lease_time) = (lease.address, lease.lease_time);
                self.lease = Some(lease);
                self.state = State::Bound;
                self.counters.renewals += 1;
                Some(ClientEvent::Renewed {
                    address,
                    server,
                    waited: now.saturating_duration_since(since),
                    lease_time,
                })
            }
            (
                State::Requesting { .. } | State::Renewing { .. } | State::Rebinding { .. },
                MessageType::Nak,
            ) => {
                self.counters.naks += 1;
                self.restart(now);
                Some(ClientEvent::Nak { server })
            }
            _ => None,
        }
    }

    fn expire(
        &mut self,
        now: Instant,
        address: Ipv4Addr,
    ) -> (Option<Transmit>, Option<ClientEvent>) {
        self.restart(now);
        (None, Some(ClientEvent::Expired { address }))
    }

    fn restart(&mut self, now: Instant) {
        self.counters.restarts += 1;
        self.lease = None;
        self.state = State::Init { start_at: now };
    }

    fn new_xid(&mut self) {
        self.xid = self.rng.random();
    }

    /// Timeout before retransmission number `attempt + 1`.
    fn backoff(&mut self, attempt: u32) -> Duration {
        let base = self
            .config
            .initial_timeout
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.config.max_timeout);
        let jitter = self.config.jitter.min(base / 2);
        let j = jitter.as_secs_f64();
        if j <= 0.0 {
            return base;
        }
        let offset = self.rng.random_range(-j..=j);
        Duration::from_secs_f64((base.as_secs_f64() + offset).max(0.001))
    }

    fn secs(&self, now: Instant, since: Option<Instant>) -> u16 {
        since
            .map(|t| now.saturating_duration_since(t).as_secs())
            .unwrap_or(0)
            .min(u64::from(u16::MAX)) as u16
    }

    fn base_message(&self, now: Instant, since: Option<Instant>, ciaddr: Ipv4Addr) -> Message {
        let zero = Ipv4Addr::UNSPECIFIED;
        let mut msg = Message::new_with_id(self.xid, ciaddr, zero, zero, zero, &self.mac);
        msg.set_opcode(Opcode::BootRequest);
        msg.set_secs(self.secs(now, since));
        // RFC 2131 §4.1: the flag is for clients that cannot yet receive
        // unicast; a client renewing from its own address clears it.
        if self.config.broadcast_flag && ciaddr.is_unspecified() {
            msg.set_flags(Flags::default().set_broadcast());
        }
        let opts = msg.opts_mut();
        opts.insert(DhcpOption::MaxMessageSize(1472));
        opts.insert(DhcpOption::ClassIdentifier(
            self.config.vendor_class.as_bytes().to_vec(),
        ));
        opts.insert(DhcpOption::ClientSystemArchitecture(Architecture(
            self.config.arch,
        )));
        opts.insert(DhcpOption::ClientNetworkInterface(1, 2, 1));
        let mut machine_id = vec![0u8];
        machine_id.extend_from_slice(&self.uuid);
        opts.insert(DhcpOption::ClientMachineIdentifier(machine_id));
        if self.config.client_id {
            let mut id = vec![1u8];
            id.extend_from_slice(&self.mac);
            opts.insert(DhcpOption::ClientIdentifier(id));
        }
        opts.insert(DhcpOption::ParameterRequestList(vec![
            OptionCode::SubnetMask,
            OptionCode::Router,
            OptionCode::DomainNameServer,
            OptionCode::DomainName,
            OptionCode::VendorExtensions,
            OptionCode::ClassIdentifier,
            OptionCode::TFTPServerName,
            OptionCode::BootfileName,
        ]));
        msg
    }

    fn discover(&self, now: Instant) -> Message {
        let mut msg = self.base_message(now, self.acquisition_started, Ipv4Addr::UNSPECIFIED);
        msg.opts_mut()
            .insert(DhcpOption::MessageType(MessageType::Discover));
        msg
    }

    fn request(&self, now: Instant, offered: Ipv4Addr, server: Ipv4Addr) -> Message {
        let mut msg = self.base_message(now, self.acquisition_started, Ipv4Addr::UNSPECIFIED);
        let opts = msg.opts_mut();
        opts.insert(DhcpOption::MessageType(MessageType::Request));
        opts.insert(DhcpOption::RequestedIpAddress(offered));
        opts.insert(DhcpOption::ServerIdentifier(server));
        msg
    }

    fn renewal(&self, now: Instant, since: Instant, address: Ipv4Addr) -> Message {
        let mut msg = self.base_message(now, Some(since), address);
        msg.opts_mut()
            .insert(DhcpOption::MessageType(MessageType::Request));
        msg
    }

    fn lease_from(&self, now: Instant, msg: &Message, server: Ipv4Addr) -> Lease {
        let opts = msg.opts();
        let lease_time = match opts.get(OptionCode::AddressLeaseTime) {
            Some(DhcpOption::AddressLeaseTime(t)) => *t,
            _ => 3600,
        };
        let t1 = match opts.get(OptionCode::Renewal) {
            Some(DhcpOption::Renewal(t)) => Duration::from_secs(u64::from(*t)),
            _ => Duration::from_secs_f64(f64::from(lease_time) * 0.5),
        };
        let t2 = match opts.get(OptionCode::Rebinding) {
            Some(DhcpOption::Rebinding(t)) => Duration::from_secs(u64::from(*t)),
            _ => Duration::from_secs_f64(f64::from(lease_time) * 0.875),
        };
        let boot_file = match opts.get(OptionCode::BootfileName) {
            Some(DhcpOption::BootfileName(b)) => Some(text(b)),
            _ => msg.fname().map(text).filter(|s| !s.is_empty()),
        };
        Lease {
            address: msg.yiaddr(),
            server,
            next_server: msg.siaddr(),
            boot_file,
            subnet_mask: match opts.get(OptionCode::SubnetMask) {
                Some(DhcpOption::SubnetMask(m)) => Some(*m),
                _ => None,
            },
            router: match opts.get(OptionCode::Router) {
                Some(DhcpOption::Router(r)) => r.first().copied(),
                _ => None,
            },
            lease_time,
            acked_at: now,
            renew_at: now + t1,
            rebind_at: now + t2,
            expires_at: now + Duration::from_secs(u64::from(lease_time)),
        }
    }
}

fn broadcast(message: Message) -> Transmit {
    Transmit {
        message,
        destination: Ipv4Addr::BROADCAST,
        source: None,
    }
}

/// RFC 2131 §4.4.5: wait half the remaining time, but at least a second
/// (RFC: 60 s; shortened for the lab's short leases).
fn retry_wait(remaining: Duration) -> Duration {
    (remaining / 2).max(Duration::from_secs(1))
}

fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer_or_ack(c: &SimClient, kind: MessageType, yiaddr: Ipv4Addr, lease: u32) -> Message {
        let zero = Ipv4Addr::UNSPECIFIED;
        let server = Ipv4Addr::new(10, 99, 0, 1);
        let mut m = Message::new_with_id(c.xid(), zero, yiaddr, server, zero, &c.mac());
        m.set_opcode(Opcode::BootReply);
        m.set_fname_str("pxelinux.0");
        m.opts_mut().insert(DhcpOption::MessageType(kind));
        m.opts_mut().insert(DhcpOption::ServerIdentifier(server));
        m.opts_mut().insert(DhcpOption::AddressLeaseTime(lease));
        m
    }

    fn cfg() -> ClientConfig {
        ClientConfig {
            initial_timeout: Duration::from_secs(4),
            jitter: Duration::ZERO,
            ..ClientConfig::default()
        }
    }

    #[test]
    fn dora_then_renew() {
        let t0 = Instant::now();
        let mut c = SimClient::new([2, 0, 0, 0, 0, 1], cfg(), 1, t0);
        let (tx, _) = c.poll_transmit(t0);
        let tx = tx.unwrap();
        assert_eq!(tx.destination, Ipv4Addr::BROADCAST);
        assert_eq!(tx.message.opts().msg_type(), Some(MessageType::Discover));
        assert!(tx.message.flags().broadcast());
        assert!(matches!(
            tx.message.opts().get(OptionCode::ClassIdentifier),
            Some(DhcpOption::ClassIdentifier(v)) if v == b"PXEClient:Arch:00000:UNDI:002001"
        ));
        assert!(
            tx.message
                .opts()
                .get(OptionCode::ClientNetworkInterface)
                .is_some()
        );
        assert!(
            tx.message
                .opts()
                .get(OptionCode::ClientMachineIdentifier)
                .is_some()
        );
        assert!(
            tx.message
                .opts()
                .get(OptionCode::ClientSystemArchitecture)
                .is_some()
        );
        assert_eq!(c.poll_transmit(t0), (None, None));

        let addr = Ipv4Addr::new(10, 99, 0, 100);
        let t1 = t0 + Duration::from_millis(10);
        assert_eq!(
            c.handle(t1, &offer_or_ack(&c, MessageType::Offer, addr, 0)),
            None
        );
        let (tx, _) = c.poll_transmit(t1);
        let req = tx.unwrap().message;
        assert_eq!(req.opts().msg_type(), Some(MessageType::Request));
        assert!(matches!(
            req.opts().get(OptionCode::RequestedIpAddress),
            Some(DhcpOption::RequestedIpAddress(a)) if *a == addr
        ));
        let t2 = t1 + Duration::from_millis(10);
        let ev = c.handle(t2, &offer_or_ack(&c, MessageType::Ack, addr, 100));
        assert!(matches!(ev, Some(ClientEvent::Bound { address, .. }) if address == addr));
        assert_eq!(c.time_to_first_lease(), Some(Duration::from_millis(20)));
        assert_eq!(c.lease().unwrap().boot_file.as_deref(), Some("pxelinux.0"));
        assert_eq!(c.poll_timeout(), t2 + Duration::from_secs(50));

        // T1: unicast renewal with ciaddr.
        let t3 = t2 + Duration::from_secs(50);
        let (tx, _) = c.poll_transmit(t3);
        let tx = tx.unwrap();
        assert_eq!(tx.destination, Ipv4Addr::new(10, 99, 0, 1));
        assert_eq!(tx.message.ciaddr(), addr);
        assert_eq!(tx.source, Some(addr));
        assert!(!tx.message.flags().broadcast());
        let ev = c.handle(t3, &offer_or_ack(&c, MessageType::Ack, addr, 100));
        assert!(matches!(ev, Some(ClientEvent::Renewed { .. })));
        assert_eq!(c.counters().renewals, 1);
    }

    #[test]
    fn discover_backoff_doubles() {
        let t0 = Instant::now();
        let mut c = SimClient::new([2, 0, 0, 0, 0, 2], cfg(), 2, t0);
        let mut sent = Vec::new();
        let mut t = t0;
        while t < t0 + Duration::from_secs(61) {
            if let (Some(_), _) = c.poll_transmit(t) {
                sent.push((t - t0).as_secs());
            }
            t += Duration::from_secs(1);
        }
        assert_eq!(sent, vec![0, 4, 12, 28, 60]);
    }

    #[test]
    fn ignores_foreign_replies_and_restarts_on_nak() {
        let t0 = Instant::now();
        let mut c = SimClient::new([2, 0, 0, 0, 0, 3], cfg(), 3, t0);
        let _ = c.poll_transmit(t0);
        let other = SimClient::new([2, 0, 0, 0, 0, 4], cfg(), 4, t0);
        let addr = Ipv4Addr::new(10, 99, 0, 100);
        assert_eq!(
            c.handle(t0, &offer_or_ack(&other, MessageType::Offer, addr, 0)),
            None
        );
        assert_eq!(c.state_name(), "selecting");
        c.handle(t0, &offer_or_ack(&c, MessageType::Offer, addr, 0));
        let _ = c.poll_transmit(t0);
        let ev = c.handle(t0, &offer_or_ack(&c, MessageType::Nak, addr, 0));
        assert!(matches!(ev, Some(ClientEvent::Nak { .. })));
        assert_eq!(c.state_name(), "init");
    }
}
