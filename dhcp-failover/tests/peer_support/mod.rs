//! Shared harness for the time-scripted peer tests: one [`Peer`] driven by
//! hand, with `send!` (a message from the partner at a time) and `recv!` (what
//! the peer transmits at a time) macros in the style of smoltcp's tests.
//! Every message the peer sends is passed through the wire codec.

#![allow(dead_code, unused_macros, clippy::unwrap_used)]

use std::net::Ipv4Addr;

use dhcp_core::config::{FailoverConfig, Role};
use dhcp_core::lease::{BindingState, HwAddr, Lease};
use dhcp_core::table::{LeaseTable, PoolSpec};
use dhcp_failover::peer::{Event, FailoverState, Peer, PersistedState};
use dhcp_failover::wire::{self, Binding, Body, Connect, ConnectAck, Message, StateMsg};

pub const NAME: &str = "fo";
pub const MCLT: u32 = 60;
pub const MRD: u32 = 30;
pub const T0: u32 = 1_700_000_000;

pub fn cfg(role: Role) -> FailoverConfig {
    let primary = role == Role::Primary;
    FailoverConfig {
        name: NAME.into(),
        role,
        address: Ipv4Addr::new(10, 99, 0, 1),
        port: 647,
        peer_address: Ipv4Addr::new(10, 99, 0, 2),
        peer_port: 647,
        max_response_delay: MRD,
        max_unacked_updates: 10,
        mclt: primary.then_some(MCLT),
        split: primary.then_some(128),
        hba: None,
        load_balance_max_seconds: 3,
        auto_partner_down: 0,
        max_lease_misbalance: 15,
        max_lease_ownership: 10,
        min_balance: 60,
        max_balance: 3600,
        fencing: None,
    }
}

pub fn pool() -> Vec<PoolSpec> {
    vec![PoolSpec {
        start: ip(10),
        end: ip(19),
        network: 0,
        failover_peer: Some(NAME.into()),
    }]
}

pub fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 99, 0, last)
}

pub fn hba128() -> [u8; 32] {
    let mut h = [0u8; 32];
    h[..16].fill(0xff);
    h
}

/// A peer, its lease table, and everything it produced.
pub struct H {
    pub peer: Peer,
    pub table: LeaseTable,
    pub now: u32,
    pub events: Vec<Event>,
    /// Commit automatically (the default); when false, commits wait for [`H::commit_all`].
    pub auto_commit: bool,
    pub pending_tokens: Vec<dhcp_failover::peer::CommitToken>,
    pub xid: u32,
}

impl H {
    pub fn new(role: Role, persisted: Option<PersistedState>) -> Self {
        let peer = Peer::new(cfg(role), persisted, T0).unwrap();
        Self::with_peer(peer)
    }

    pub fn with_peer(peer: Peer) -> Self {
        let mut h = H {
            peer,
            table: LeaseTable::new(pool()),
            now: T0,
            events: Vec::new(),
            auto_commit: true,
            pending_tokens: Vec::new(),
            xid: 1000,
        };
        h.pump_events();
        h
    }

    pub fn saved(my: FailoverState, partner: FailoverState) -> PersistedState {
        PersistedState {
            my_state: my,
            my_stos: T0,
            partner_state: partner,
            partner_stos: T0,
            mclt: Some(MCLT),
            hba: Some(hba128()),
            pending_updates: vec![],
        }
    }

    pub fn role(&self) -> Role {
        self.peer.role()
    }

    pub fn state(&self) -> FailoverState {
        self.peer.state()
    }

    pub fn pump_events(&mut self) {
        while let Some(e) = self.peer.poll_event() {
            if let Event::Commit { token, .. } = &e {
                if self.auto_commit {
                    self.peer.handle_committed(*token);
                } else {
                    self.pending_tokens.push(*token);
                }
            }
            self.events.push(e);
        }
    }

    pub fn commit_all(&mut self) {
        for t in self.pending_tokens.drain(..) {
            self.peer.handle_committed(t);
        }
    }

    /// Delivers `body` from the partner at `t` (the partner's clock equals ours).
    pub fn input(&mut self, t: u32, xid: Option<u32>, body: Body) {
        self.advance(t);
        let xid = xid.unwrap_or_else(|| {
            self.xid += 1;
            self.xid
        });
        self.peer
            .handle_message(t, Message::new(t, xid, body), &mut self.table);
        self.pump_events();
    }

    /// Advances the clock to `t`, running timers on the way.
    pub fn advance(&mut self, t: u32) {
        assert!(t >= self.now, "time goes forward");
        while let Some(w) = self.peer.poll_timeout() {
            if w >= t || w < self.now {
                break;
            }
            self.now = w;
            self.peer.handle_timeout(w, &mut self.table);
            self.pump_events();
            // Whatever the timer produced before `t` goes out at once (and is
            // checked by the codec).
            let _ = self.transmit_at_now();
        }
        self.now = t;
        self.peer.handle_timeout(t, &mut self.table);
        self.pump_events();
    }

    fn transmit_at_now(&mut self) -> Vec<Message> {
        let mut out = Vec::new();
        while let Some(m) = self.peer.poll_transmit() {
            let bytes = wire::encode(&m).expect("peer messages encode");
            let back = wire::decode(&bytes).expect("peer messages decode");
            assert_eq!(back, m, "codec round trip");
            out.push(m);
        }
        self.pump_events();
        out
    }

    /// Everything the peer transmits at `t`.
    pub fn output(&mut self, t: u32) -> Vec<Message> {
        self.advance(t);
        self.transmit_at_now()
    }

    pub fn connect(&mut self, t: u32) {
        self.advance(t);
        self.peer.handle_connected(t);
        self.pump_events();
    }

    pub fn disconnect(&mut self, t: u32) {
        self.advance(t);
        self.peer.handle_disconnected(t, &mut self.table);
        self.pump_events();
    }

    /// Runs the handshake at `t` (the partner's side is played by the test) and
    /// returns what the peer sent.
    pub fn handshake(&mut self, t: u32) -> Vec<Message> {
        self.connect(t);
        match self.role() {
            Role::Primary => {
                let out = self.output(t);
                assert!(matches!(out[0].body, Body::Connect(_)), "{out:?}");
                self.input(t, Some(out[0].xid), Body::ConnectAck(connect_ack()));
            }
            Role::Secondary => self.input(t, Some(0), Body::Connect(connect())),
        }
        self.output(t)
    }

    /// Sends a STATE from the partner.
    pub fn partner_state(&mut self, t: u32, s: FailoverState, startup: bool) {
        self.input(t, None, Body::State(StateMsg::new(s, startup, t)));
    }

    /// A peer linked and settled in `state` (resumed from a saved `state`
    /// through STARTUP with a partner STATE that keeps it there).
    pub fn linked_in(role: Role, state: FailoverState) -> Self {
        let mut h = H::new(role, Some(H::saved(state, FailoverState::Unknown)));
        h.handshake(T0);
        let z = if state == FailoverState::ConflictDone {
            FailoverState::PotentialConflict
        } else {
            FailoverState::Unknown
        };
        h.partner_state(T0, z, false);
        let _ = h.output(T0);
        assert_eq!(h.state(), state, "setting up {state}");
        h.events.clear();
        h
    }

    pub fn lease(&self, last: u8) -> Lease {
        self.table.get(ip(last)).cloned().unwrap()
    }

    pub fn set_lease(&mut self, l: Lease) {
        self.table.upsert(l).unwrap();
    }

    pub fn state_changes(&self) -> Vec<FailoverState> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::StateChanged { to, .. } => Some(*to),
                _ => None,
            })
            .collect()
    }
}

pub fn connect() -> Connect {
    Connect::new(NAME, 10, MRD, "isc-4.4.3-P1", MCLT, hba128())
}

pub fn connect_ack() -> ConnectAck {
    ConnectAck::accept(NAME, 10, MRD, "isc-4.4.3-P1", true)
}

pub fn active(last: u8, mac: u8, ends: u32, potential: u32, stos: u32) -> Binding {
    Binding {
        assigned_ip: Some(ip(last)),
        binding_status: Some(BindingState::Active),
        chaddr: Some(HwAddr::ethernet([2, 0, 0, 0, 0, mac])),
        lease_expiration: Some(ends),
        potential_expiration: Some(potential),
        start_time_of_state: Some(stos),
        cltt: Some(stos),
        ..Binding::default()
    }
}

/// Whether `m` is a STATE announcing `s`.
pub fn is_state(m: &Message, s: FailoverState) -> bool {
    matches!(&m.body, Body::State(st) if st.server_state == Some(s))
}

/// `send!(h, t, body)` / `send!(h, t, xid, body)`: the partner sends `body` at `t`.
#[macro_export]
macro_rules! send {
    ($h:expr, $t:expr, xid $xid:expr, $body:expr) => {
        $h.input($t, Some($xid), $body)
    };
    ($h:expr, $t:expr, $body:expr) => {
        $h.input($t, None, $body)
    };
}

/// `recv!(h, t, [pat, ...])`: at `t` the peer transmits exactly messages whose
/// bodies match the patterns, in order. Returns the messages.
#[macro_export]
macro_rules! recv {
    ($h:expr, $t:expr, [$($p:pat),* $(,)?]) => {{
        let out = $h.output($t);
        let pats: &[&str] = &[$(stringify!($p)),*];
        assert_eq!(out.len(), pats.len(), "at t={}: expected {:?}, got {:?}", $t, pats, out);
        #[allow(unused_mut, unused_variables)]
        let mut it = out.iter();
        $(
            let m = it.next().unwrap();
            assert!(matches!(&m.body, $p), "at t={}: expected {}, got {:?}", $t, stringify!($p), m);
        )*
        out
    }};
}
