//! What the soak checks: every DHCPACK the simulated clients receive,
//! recorded on the client side ([`Ack`], [`AckTap`]); the lease store read
//! from a copy while the daemon is down ([`read_store_copy`]); the check that
//! every acknowledged lease is in it ([`Ledger`]).
//!
//! The contract checked is the daemon's: no DHCPACK leaves before its lease
//! is durable. So once the daemon is dead, every ACK a client received must
//! be in the store, bound to that client, with an expiry no earlier than the
//! ACK promised. The client measures the promise from when the ACK arrived
//! (`received + lease_time`); the daemon counts whole seconds from when it
//! decided, a moment earlier, so a record may end up to one second before
//! the client's figure (see [`Ack::satisfied_by`]).

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use dhcp_core::lease::{BindingState, ClientKey, HwAddr, Lease};
use dhcp_store::{LeaseStore, SledStore};

use crate::error::{Error, Result};
use crate::sim::{ClientEvent, SwarmConfig, SwarmHandle};

/// One DHCPACK as a client received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// Which [`AckTap`] (swarm) it came from.
    pub swarm: usize,
    /// Client index within that swarm.
    pub client: usize,
    /// The client's `chaddr`.
    pub mac: [u8; 6],
    /// The client identifier (option 61) it sent, if any.
    pub client_id: Option<Vec<u8>>,
    /// `yiaddr`.
    pub address: Ipv4Addr,
    /// The server that sent it (option 54).
    pub server: Ipv4Addr,
    /// Option 51, seconds.
    pub lease_time: u32,
    /// When it arrived (wall clock).
    pub received: SystemTime,
    /// Whether it answered a renewal or rebinding (not a first binding).
    pub renewal: bool,
}

impl Ack {
    /// The key the server files this client under: option 61 when sent,
    /// otherwise the Ethernet address.
    pub fn client_key(&self) -> ClientKey {
        match &self.client_id {
            Some(id) => ClientKey::ClientId(id.clone()),
            None => ClientKey::Hw(HwAddr::ethernet(self.mac)),
        }
    }

    /// The arrival time in whole seconds since the epoch.
    pub fn received_secs(&self) -> u64 {
        unix_secs(self.received)
    }

    /// The expiry the client was promised, in whole seconds since the epoch
    /// (arrival, rounded down, plus the lease time).
    pub fn promised_end(&self) -> u64 {
        self.received_secs() + u64::from(self.lease_time)
    }

    /// Whether `lease` keeps this ACK's promise: active, the same client
    /// (key and hardware address), and an expiry at least
    /// [`Ack::promised_end`] less one second (the daemon's clock rounding).
    pub fn satisfied_by(&self, lease: &Lease) -> bool {
        lease.addr == self.address
            && lease.state == BindingState::Active
            && lease.client.as_ref() == Some(&self.client_key())
            && lease.hw.as_ref().is_none_or(|hw| hw.addr == self.mac)
            && u64::from(lease.ends) + 1 >= self.promised_end()
    }
}

/// Whole seconds since the epoch (0 before it).
pub fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Reads the ACKs (and NAKs) of one running swarm as they come.
#[derive(Debug)]
pub struct AckTap {
    index: usize,
    config: SwarmConfig,
    /// Wall-clock time of the swarm's start, to which event times are added.
    wall_start: SystemTime,
    seen: usize,
    naks: u64,
}

impl AckTap {
    /// A tap on `handle`, a swarm started with `config`; `index` tells its
    /// ACKs apart from other swarms'. Call right after [`crate::sim::Swarm::spawn`].
    pub fn new(index: usize, handle: &SwarmHandle, config: &SwarmConfig) -> Self {
        let wall_start = SystemTime::now()
            .checked_sub(handle.started().elapsed())
            .unwrap_or(UNIX_EPOCH);
        Self {
            index,
            config: config.clone(),
            wall_start,
            seen: 0,
            naks: 0,
        }
    }

    /// The ACKs received since the last call, in order.
    pub fn take(&mut self, handle: &SwarmHandle) -> Vec<Ack> {
        let events = handle.events_since(self.seen);
        self.seen += events.len();
        let mut out = Vec::new();
        for e in events {
            let (address, server, lease_time, renewal) = match e.event {
                ClientEvent::Bound {
                    address,
                    server,
                    lease_time,
                    ..
                } => (address, server, lease_time, false),
                ClientEvent::Renewed {
                    address,
                    server,
                    lease_time,
                    ..
                } => (address, server, lease_time, true),
                ClientEvent::Nak { .. } => {
                    self.naks += 1;
                    continue;
                }
                _ => continue,
            };
            let mac = self.config.mac(e.client);
            out.push(Ack {
                swarm: self.index,
                client: e.client,
                mac,
                client_id: self.config.client.client_id.then(|| {
                    let mut id = vec![1u8];
                    id.extend_from_slice(&mac);
                    id
                }),
                address,
                server,
                lease_time,
                received: self.wall_start + e.at,
                renewal,
            });
        }
        out
    }

    /// NAKs seen so far.
    pub fn naks(&self) -> u64 {
        self.naks
    }
}

/// Copies the store directory `store` (the daemon must be dead or stopped)
/// to `scratch`, opens the copy as the daemon would (replaying its journal)
/// and returns every record; the copy is removed. Opening a copy leaves the
/// daemon's own files, journal included, exactly as the kill left them.
pub fn read_store_copy(store: &Path, scratch: &Path) -> Result<Vec<Lease>> {
    if scratch.exists() {
        std::fs::remove_dir_all(scratch)
            .map_err(|e| Error::io(format!("remove {}", scratch.display()), e))?;
    }
    copy_dir(store, scratch)?;
    let leases = SledStore::open(scratch)
        .and_then(|s| s.load())
        .map_err(|e| Error::NoResult(format!("reopen the store copy: {e}")));
    let _ = std::fs::remove_dir_all(scratch);
    leases
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| Error::io(format!("create {}", to.display()), e))?;
    let entries =
        std::fs::read_dir(from).map_err(|e| Error::io(format!("read {}", from.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("read {}", from.display()), e))?;
        let path = entry.path();
        let target = to.join(entry.file_name());
        let kind = entry
            .file_type()
            .map_err(|e| Error::io(format!("stat {}", path.display()), e))?;
        if kind.is_dir() {
            copy_dir(&path, &target)?;
        } else {
            std::fs::copy(&path, &target)
                .map_err(|e| Error::io(format!("copy {}", path.display()), e))?;
        }
    }
    Ok(())
}

/// An acknowledged lease the store did not keep.
#[derive(Debug, Clone)]
pub struct Lost {
    /// The ACK.
    pub ack: Ack,
    /// What the store held for that address instead, if anything.
    pub found: Option<Lease>,
    /// The check (cycle) that found it.
    pub check: usize,
}

impl std::fmt::Display for Lost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "check {}: {} acked by {} to {} (swarm {} client {}, {}) at unix {:.3} for {} s \
             (promised end {}): ",
            self.check,
            self.ack.address,
            self.ack.server,
            HwAddr::ethernet(self.ack.mac),
            self.ack.swarm,
            self.ack.client,
            if self.ack.renewal {
                "renewal"
            } else {
                "binding"
            },
            self.ack
                .received
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
            self.ack.lease_time,
            self.ack.promised_end(),
        )?;
        match &self.found {
            None => write!(f, "no record"),
            Some(l) => write!(
                f,
                "store has {} client {:?} ends {}",
                l.state.name(),
                l.client,
                l.ends
            ),
        }
    }
}

/// What one check found.
#[derive(Debug, Clone, Default)]
pub struct CheckOutcome {
    /// New ACKs (received since the previous check) found in the store.
    pub checked: u64,
    /// Earlier ACKs (each client's latest) found in the store again.
    pub rechecked: u64,
    /// New ACKs not checked because the same client was later given a
    /// different address (its old binding was legitimately released).
    pub superseded: u64,
    /// New ACKs not checked because their promised expiry had passed.
    pub expired: u64,
    /// ACKs the store did not keep.
    pub lost: Vec<Lost>,
}

/// Every ACK of the run, and the check of them against the store.
///
/// Each check verifies every ACK received since the previous one, then each
/// client's latest ACK again (so a record lost on a later restart is found
/// too). An ACK whose promise has run out is no longer required: the address
/// may since have gone to another client.
#[derive(Debug, Default)]
pub struct Ledger {
    pending: Vec<Ack>,
    latest: HashMap<(usize, usize), Ack>,
    checks: usize,
    totals: CheckOutcome,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds ACKs received since the last call.
    pub fn record(&mut self, acks: Vec<Ack>) {
        self.pending.extend(acks);
    }

    /// Checks against `leases` (the store, read while the daemon is down) at
    /// wall-clock time `now`; returns this check's outcome and adds it to
    /// the totals.
    pub fn check(&mut self, leases: &[Lease], now: SystemTime) -> CheckOutcome {
        self.checks += 1;
        let by_addr: HashMap<Ipv4Addr, &Lease> = leases.iter().map(|l| (l.addr, l)).collect();
        let now_secs = unix_secs(now);
        let mut out = CheckOutcome::default();
        let pending = std::mem::take(&mut self.pending);
        // The address each client holds last, counting this batch.
        let mut last_addr: HashMap<(usize, usize), Ipv4Addr> =
            self.latest.iter().map(|(k, a)| (*k, a.address)).collect();
        for a in &pending {
            last_addr.insert((a.swarm, a.client), a.address);
        }
        let check = self.checks;
        let verify = |a: &Ack, out: &mut CheckOutcome| -> bool {
            let found = by_addr.get(&a.address).copied();
            if found.is_some_and(|l| a.satisfied_by(l)) {
                true
            } else {
                out.lost.push(Lost {
                    ack: a.clone(),
                    found: found.cloned(),
                    check,
                });
                false
            }
        };
        for a in &pending {
            if last_addr.get(&(a.swarm, a.client)) != Some(&a.address) {
                out.superseded += 1;
            } else if a.promised_end() <= now_secs + 1 {
                out.expired += 1;
            } else if verify(a, &mut out) {
                out.checked += 1;
            }
        }
        let lost_before = out.lost.len();
        for a in self.latest.values() {
            let replaced = pending
                .iter()
                .any(|p| (p.swarm, p.client) == (a.swarm, a.client));
            if !replaced && a.promised_end() > now_secs + 1 && verify(a, &mut out) {
                out.rechecked += 1;
            }
        }
        // A client's latest ACK lost again at a later check counts once.
        let known: Vec<Ack> = self.totals.lost.iter().map(|l| l.ack.clone()).collect();
        let mut fresh: Vec<Lost> = out.lost.drain(..lost_before).collect();
        fresh.extend(out.lost.drain(..).filter(|l| !known.contains(&l.ack)));
        out.lost = fresh;
        for a in pending {
            self.latest.insert((a.swarm, a.client), a);
        }
        self.totals.checked += out.checked;
        self.totals.rechecked += out.rechecked;
        self.totals.superseded += out.superseded;
        self.totals.expired += out.expired;
        self.totals.lost.extend(out.lost.iter().cloned());
        out
    }

    /// The sum of every check so far.
    pub fn totals(&self) -> &CheckOutcome {
        &self.totals
    }

    /// ACKs recorded but not yet checked.
    pub fn unchecked(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::Duration;

    fn ack(client: usize, last: u8, at: u64, lease_time: u32) -> Ack {
        Ack {
            swarm: 0,
            client,
            mac: [2, 0x99, 0, 0, 0, client as u8],
            client_id: None,
            address: Ipv4Addr::new(10, 99, 16, last),
            server: Ipv4Addr::new(10, 99, 0, 1),
            lease_time,
            received: UNIX_EPOCH + Duration::from_millis(at * 1000 + 700),
            renewal: false,
        }
    }

    fn lease_for(a: &Ack, ends: u32) -> Lease {
        let mut l = Lease::new_free(a.address, BindingState::Active);
        l.client = Some(a.client_key());
        l.hw = Some(HwAddr::ethernet(a.mac));
        l.ends = ends;
        l
    }

    #[test]
    fn a_second_of_rounding_is_allowed_and_no_more() {
        let a = ack(1, 10, 1000, 30);
        assert!(a.satisfied_by(&lease_for(&a, 1030)));
        assert!(a.satisfied_by(&lease_for(&a, 1029)));
        assert!(!a.satisfied_by(&lease_for(&a, 1028)));
        let mut other = lease_for(&a, 1030);
        other.client = Some(ClientKey::Hw(HwAddr::ethernet([2, 0, 0, 0, 0, 9])));
        assert!(!a.satisfied_by(&other));
        let mut freed = lease_for(&a, 1030);
        freed.state = BindingState::Free;
        assert!(!a.satisfied_by(&freed));
    }

    #[test]
    fn ledger_counts_lost_superseded_and_expired() {
        let now = UNIX_EPOCH + Duration::from_secs(1005);
        let mut ledger = Ledger::new();
        let kept = ack(1, 10, 1000, 30);
        let lost = ack(2, 11, 1001, 30);
        let moved = ack(3, 12, 1000, 30);
        let moved_to = ack(3, 13, 1002, 30);
        let old = ack(4, 14, 900, 30);
        ledger.record(vec![
            kept.clone(),
            lost.clone(),
            moved,
            moved_to.clone(),
            old,
        ]);
        let store = vec![lease_for(&kept, 1030), lease_for(&moved_to, 1032)];
        let out = ledger.check(&store, now);
        assert_eq!(
            (out.checked, out.superseded, out.expired, out.lost.len()),
            (2, 1, 1, 1)
        );
        assert_eq!(out.lost[0].ack, lost);
        // The next check verifies the latest ACKs again; the lost one is not
        // counted twice.
        let out = ledger.check(&store, now);
        assert_eq!((out.checked, out.rechecked, out.lost.len()), (0, 2, 0));
        assert_eq!(ledger.totals().lost.len(), 1);
    }
}
