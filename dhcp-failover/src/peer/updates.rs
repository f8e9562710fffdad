//! The lazy binding-update queue: leases waiting to be sent, updates sent but
//! not yet acknowledged (bounded by the partner's max-unacked-bndupd), and the
//! partner's outstanding UPDREQ/UPDREQALL.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::Ipv4Addr;

use dhcp_core::lease::Lease;

/// An update that was sent and awaits its BNDACK.
#[derive(Debug, Clone)]
pub(crate) struct Unacked {
    /// The xid it was sent with.
    pub xid: u32,
    /// The record as sent.
    pub lease: Lease,
}

/// The partner's UPDREQ/UPDREQALL being answered.
#[derive(Debug, Clone)]
struct Request {
    xid: u32,
    remaining: BTreeSet<Ipv4Addr>,
}

/// Outgoing binding updates.
#[derive(Debug, Default)]
pub(crate) struct UpdateQueue {
    order: VecDeque<Ipv4Addr>,
    queued: BTreeMap<Ipv4Addr, Lease>,
    unacked: BTreeMap<Ipv4Addr, Unacked>,
    request: Option<Request>,
}

impl UpdateQueue {
    /// Queues (or refreshes) the update for `lease`. An update of the same
    /// address that was sent but not acknowledged is forgotten: its BNDACK
    /// will not match and is ignored (reference §6.3).
    pub fn push(&mut self, lease: Lease) {
        let addr = lease.addr;
        self.unacked.remove(&addr);
        if self.queued.insert(addr, lease).is_none() {
            self.order.push_back(addr);
        }
    }

    /// The next update to send, if the window allows; `solicited_only` limits
    /// it to addresses of the partner's outstanding request.
    pub fn next(&mut self, window: u32, solicited_only: bool) -> Option<Lease> {
        if self.unacked.len() >= window.max(1) as usize {
            return None;
        }
        let pos = if solicited_only {
            let req = self.request.as_ref()?;
            self.order.iter().position(|a| req.remaining.contains(a))?
        } else {
            if self.order.is_empty() {
                return None;
            }
            0
        };
        let addr = self.order.remove(pos)?;
        self.queued.remove(&addr)
    }

    /// Records that `lease` went out with `xid`.
    pub fn sent(&mut self, lease: Lease, xid: u32) {
        self.unacked.insert(lease.addr, Unacked { xid, lease });
    }

    /// The record sent for `addr` if `xid` matches the outstanding update.
    pub fn take_acked(&mut self, addr: Ipv4Addr, xid: u32) -> Option<Lease> {
        match self.unacked.get(&addr) {
            Some(u) if u.xid == xid => self.unacked.remove(&addr).map(|u| u.lease),
            _ => None,
        }
    }

    /// Our latest update for `addr` that the partner has not acknowledged:
    /// queued (newest) or, unless `sent_only`, sent.
    pub fn outstanding(&self, addr: Ipv4Addr, sent_only: bool) -> Option<&Lease> {
        let sent = || self.unacked.get(&addr).map(|u| &u.lease);
        if sent_only {
            sent()
        } else {
            self.queued.get(&addr).or_else(sent)
        }
    }

    /// Drops every update for `addr` (the partner's dueling update won, or
    /// its update replaced our record).
    pub fn forget(&mut self, addr: Ipv4Addr) {
        self.unacked.remove(&addr);
        if self.queued.remove(&addr).is_some() {
            self.order.retain(|a| *a != addr);
        }
    }

    /// Whether `addr` is queued or awaiting acknowledgement.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        self.queued.contains_key(&addr) || self.unacked.contains_key(&addr)
    }

    /// Moves every unacknowledged update back to the front of the queue (they
    /// are re-sent with new xids).
    pub fn requeue_unacked(&mut self) {
        let unacked = std::mem::take(&mut self.unacked);
        for (addr, u) in unacked.into_iter().rev() {
            if let std::collections::btree_map::Entry::Vacant(e) = self.queued.entry(addr) {
                e.insert(u.lease);
                self.order.push_front(addr);
            }
        }
    }

    /// The link went down: unacknowledged updates go back on the queue and the
    /// partner's request is abandoned (it asks again).
    pub fn link_lost(&mut self) {
        self.requeue_unacked();
        self.request = None;
    }

    /// Starts answering the partner's request `xid` covering `addrs` (which the
    /// caller has queued). Returns true if nothing is pending, i.e. UPDDONE is due now.
    pub fn start_request(&mut self, xid: u32, addrs: BTreeSet<Ipv4Addr>) -> bool {
        if addrs.is_empty() {
            self.request = None;
            return true;
        }
        self.request = Some(Request {
            xid,
            remaining: addrs,
        });
        false
    }

    /// `addr` was acknowledged or rejected. Returns the request xid if that
    /// finished the partner's request (UPDDONE is due).
    pub fn settled(&mut self, addr: Ipv4Addr) -> Option<u32> {
        let req = self.request.as_mut()?;
        req.remaining.remove(&addr);
        if req.remaining.is_empty() {
            self.request.take().map(|r| r.xid)
        } else {
            None
        }
    }

    /// Whether the partner's outstanding request still waits for `addr`.
    pub fn requested(&self, addr: Ipv4Addr) -> bool {
        self.request
            .as_ref()
            .is_some_and(|r| r.remaining.contains(&addr))
    }

    /// Every address queued or unacknowledged, in address order.
    pub fn pending(&self) -> Vec<Ipv4Addr> {
        let set: BTreeSet<Ipv4Addr> = self
            .queued
            .keys()
            .chain(self.unacked.keys())
            .copied()
            .collect();
        set.into_iter().collect()
    }

    /// Number of queued (unsent) updates.
    pub fn queued_len(&self) -> usize {
        self.queued.len()
    }

    /// Number of unacknowledged updates.
    pub fn unacked_len(&self) -> usize {
        self.unacked.len()
    }
}
