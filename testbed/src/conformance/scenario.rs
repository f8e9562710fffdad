//! A scenario: a name, the RFC clause of the answer expected, and a script
//! of steps, each a request and what should come back.

use std::time::Duration;

use crate::conformance::packet::{Dest, Packet};

/// What a step expects back (the RFC's answer; the suite compares servers
/// with each other, and shows this next to the comparison).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A reply of this DHCP message type (2 OFFER, 5 ACK, 6 NAK).
    Kind(u8),
    /// A BOOTREPLY without option 53 (BOOTP).
    Bootp,
    /// Nothing.
    Silence,
}

impl Expect {
    /// A short name for tables.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Kind(2) => "OFFER",
            Self::Kind(5) => "ACK",
            Self::Kind(6) => "NAK",
            Self::Kind(_) => "reply",
            Self::Bootp => "BOOTREPLY",
            Self::Silence => "silence",
        }
    }
}

/// One request and how long to wait for its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The request.
    pub packet: Packet,
    /// Where it goes.
    pub dest: Dest,
    /// The answer the RFC expects.
    pub expect: Expect,
    /// Whether the reply is part of the comparison (a setup step that only
    /// obtains a lease is not).
    pub compared: bool,
}

/// How long a step waits for a reply that should come.
pub const REPLY_WAIT: Duration = Duration::from_millis(1500);
/// How long a step waits to call a server silent (every server answers in
/// milliseconds in the lab; this is only the bound).
pub const SILENCE_WAIT: Duration = Duration::from_millis(500);

/// A named, scripted exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// Unique name (the key of the documented differences).
    pub name: String,
    /// The clause that says what the answer should be.
    pub clause: &'static str,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The `chaddr` of client 0 when it must be a given one (a reserved
    /// host); otherwise every scenario's clients get their own.
    pub mac: Option<[u8; 6]>,
}

impl Scenario {
    /// A scenario with no steps yet.
    pub fn new(name: impl Into<String>, clause: &'static str) -> Self {
        Self {
            name: name.into(),
            clause,
            steps: Vec::new(),
            mac: None,
        }
    }

    /// Adds a compared step.
    pub fn step(mut self, packet: Packet, dest: Dest, expect: Expect) -> Self {
        self.steps.push(Step {
            packet,
            dest,
            expect,
            compared: true,
        });
        self
    }

    /// Adds a step whose reply is used by later steps but not compared.
    pub fn setup(mut self, packet: Packet, dest: Dest, expect: Expect) -> Self {
        self.steps.push(Step {
            packet,
            dest,
            expect,
            compared: false,
        });
        self
    }

    /// Client 0 uses `mac` (a reserved host).
    pub fn mac(mut self, mac: [u8; 6]) -> Self {
        self.mac = Some(mac);
        self
    }

    /// The `chaddr` of client `n` in the scenario numbered `index`.
    pub fn chaddr(&self, index: usize, n: u8) -> [u8; 6] {
        match self.mac {
            Some(m) if n == 0 => m,
            _ => [0x02, 0x99, (index >> 8) as u8, index as u8, 0x00, n],
        }
    }

    /// Whether any step goes through the relay.
    pub fn relayed(&self) -> bool {
        self.steps.iter().any(|s| s.dest == Dest::Relay)
    }
}
