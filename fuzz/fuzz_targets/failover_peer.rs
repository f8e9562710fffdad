//! The failover peer state machine driven by an arbitrary script: the first
//! byte picks the role (primary or secondary), then each step is one
//! opcode byte and its operands:
//!
//! | op % 8 | step |
//! | --- | --- |
//! | 0 | advance the virtual clock by the next byte (seconds), then answer the timer if due |
//! | 1 | the connection comes up |
//! | 2 | the connection drops |
//! | 3 | the operator declares PARTNER-DOWN |
//! | 4, 5 | a frame: a 2-byte big-endian length, then that many bytes, decoded and handed to the peer when they decode |
//! | 6 | a local lease change: the lease at the next byte's index in the table |
//! | 7 | advance the clock by the next two bytes (seconds) |
//!
//! After every step the driver does what the daemon does: acknowledges
//! every commit, and encodes every transmit (which must encode).

#![no_main]

use std::sync::OnceLock;

use dhcp_core::config::Config;
use dhcp_core::engine::Engine;
use dhcp_failover::peer::{Event, Peer};
use dhcp_failover::wire::decode;
use libfuzzer_sys::fuzz_target;

const START: u32 = 1_700_000_000;

fn config(role: &str) -> Config {
    let primary_only = if role == "primary" {
        "mclt = 60\nsplit = 128\nauto_partner_down = 30\n"
    } else {
        ""
    };
    let text = format!(
        r#"
[[subnets]]
subnet = "10.99.0.0/24"
[[subnets.pools]]
start = "10.99.0.100"
end = "10.99.0.107"
failover_peer = "fuzz"
[[failover]]
name = "fuzz"
role = "{role}"
address = "10.99.0.1"
peer_address = "10.99.0.2"
max_response_delay = 30
max_unacked_updates = 4
{primary_only}"#
    );
    Config::from_toml(&text).expect("the fuzz target's config is valid")
}

fn configs() -> &'static [Config; 2] {
    static CFG: OnceLock<[Config; 2]> = OnceLock::new();
    CFG.get_or_init(|| [config("primary"), config("secondary")])
}

/// Reads the script.
struct Script<'a>(&'a [u8]);

impl<'a> Script<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*b)
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
}

fuzz_target!(|data: &[u8]| {
    let mut script = Script(data);
    let Some(role) = script.byte() else { return };
    let cfg = configs()[usize::from(role & 1)].clone();
    let fo = cfg.failover[0].clone();
    let mut engine = Engine::new(cfg);
    let mut now = START;
    let Ok(mut peer) = Peer::new(fo, None, now) else {
        return;
    };
    while let Some(op) = script.byte() {
        match op % 8 {
            0 => {
                now = now.saturating_add(u32::from(script.byte().unwrap_or(1)));
                if peer.poll_timeout().is_some_and(|t| t <= now) {
                    peer.handle_timeout(now, engine.table_mut());
                }
            }
            1 => peer.handle_connected(now),
            2 => peer.handle_disconnected(now, engine.table_mut()),
            3 => peer.partner_down(now, engine.table_mut()),
            4 | 5 => {
                let len = script.take(2);
                let len = match *len {
                    [hi, lo] => usize::from(u16::from_be_bytes([hi, lo])),
                    _ => 0,
                };
                if let Ok(msg) = decode(script.take(len)) {
                    peer.handle_message(now, msg, engine.table_mut());
                }
            }
            6 => {
                let i = usize::from(script.byte().unwrap_or(0));
                let lease = engine.table().iter().nth(i).cloned();
                if let Some(lease) = lease {
                    peer.local_lease_changed(now, &lease);
                }
            }
            _ => {
                let s = script.take(2);
                if let [hi, lo] = *s {
                    now = now.saturating_add(u32::from(u16::from_be_bytes([hi, lo])));
                }
            }
        }
        while let Some(event) = peer.poll_event() {
            if let Event::Commit { token, .. } = event {
                peer.handle_committed(token);
            }
        }
        while let Some(msg) = peer.poll_transmit() {
            let bytes = msg.encode().expect("the peer's own message encodes");
            assert_eq!(decode(&bytes).as_ref(), Ok(&msg), "own message round trip");
        }
        let _ = peer.policy();
    }
});
