//! Packet and transaction counters.
//!
//! One [`Counters`] is shared (behind an `Arc`) by every task of the daemon.
//! All fields are relaxed atomics: they are statistics, not synchronisation.
//! [`Counters::snapshot`] gives stable `name → value` pairs, logged at
//! shutdown and written to the stats file; [`crate::ops::metrics`] exports the same
//! counters (and the [`Timings`] histograms) to Prometheus.

use std::sync::atomic::{AtomicU64, Ordering};

use dhcp_core::engine::{IgnoreReason, Verdict};
use dhcp_core::packet::PacketError;
use dhcproto::v4::MessageType;

use crate::serve::histogram::Timings;

/// Why a received datagram was dropped before reaching the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// [`PacketError::Truncated`].
    Truncated,
    /// [`PacketError::BadMagic`].
    BadMagic,
    /// [`PacketError::NotRequest`].
    NotRequest,
    /// [`PacketError::BadHlen`].
    BadHlen,
    /// [`PacketError::OptionOverrun`].
    OptionOverrun,
    /// [`PacketError::BadOptionLength`].
    BadOptionLength,
    /// [`PacketError::BadOverload`].
    BadOverload,
    /// [`PacketError::NoMessageType`].
    NoMessageType,
    /// [`PacketError::UnexpectedType`].
    UnexpectedType,
    /// [`PacketError::Decode`].
    Undecodable,
    /// [`PacketError::BadOption`].
    BadOption,
    /// Larger than the receive buffer (truncated by the kernel).
    Oversize,
    /// Arrived on an interface with no IPv4 address to answer from.
    NoLocalAddress,
    /// The engine's queue was full (overload).
    QueueFull,
}

impl DropReason {
    /// Every reason, in counter order.
    pub const ALL: [DropReason; 14] = [
        Self::Truncated,
        Self::BadMagic,
        Self::NotRequest,
        Self::BadHlen,
        Self::OptionOverrun,
        Self::BadOptionLength,
        Self::BadOverload,
        Self::NoMessageType,
        Self::UnexpectedType,
        Self::Undecodable,
        Self::BadOption,
        Self::Oversize,
        Self::NoLocalAddress,
        Self::QueueFull,
    ];

    /// A short label for logs and metrics.
    pub fn label(self) -> &'static str {
        match self {
            Self::Truncated => "truncated",
            Self::BadMagic => "bad_magic",
            Self::NotRequest => "not_request",
            Self::BadHlen => "bad_hlen",
            Self::OptionOverrun => "option_overrun",
            Self::BadOptionLength => "bad_option_length",
            Self::BadOverload => "bad_overload",
            Self::NoMessageType => "no_message_type",
            Self::UnexpectedType => "unexpected_type",
            Self::Undecodable => "undecodable",
            Self::BadOption => "bad_option",
            Self::Oversize => "oversize",
            Self::NoLocalAddress => "no_local_address",
            Self::QueueFull => "queue_full",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl From<&PacketError> for DropReason {
    fn from(e: &PacketError) -> Self {
        match e {
            PacketError::Truncated(_) => Self::Truncated,
            PacketError::BadMagic => Self::BadMagic,
            PacketError::NotRequest(_) | PacketError::NotReply(_) => Self::NotRequest,
            PacketError::BadHlen(_) => Self::BadHlen,
            PacketError::OptionOverrun { .. } => Self::OptionOverrun,
            PacketError::BadOptionLength { .. } => Self::BadOptionLength,
            PacketError::BadOverload(_) => Self::BadOverload,
            PacketError::NoMessageType => Self::NoMessageType,
            PacketError::UnexpectedType(_) => Self::UnexpectedType,
            PacketError::Decode(_) => Self::Undecodable,
            PacketError::BadOption(_) => Self::BadOption,
        }
    }
}

/// Every [`IgnoreReason`], in counter order.
const IGNORE_REASONS: [IgnoreReason; 10] = [
    IgnoreReason::UnknownNetwork,
    IgnoreReason::NotOurs,
    IgnoreReason::OtherServer,
    IgnoreReason::NoRecord,
    IgnoreReason::PoolExhausted,
    IgnoreReason::Malformed,
    IgnoreReason::NotBound,
    IgnoreReason::EncodeFailed,
    IgnoreReason::RateLimited,
    IgnoreReason::ShareLimited,
];

fn ignore_index(r: IgnoreReason) -> usize {
    match r {
        IgnoreReason::UnknownNetwork => 0,
        IgnoreReason::NotOurs => 1,
        IgnoreReason::OtherServer => 2,
        IgnoreReason::NoRecord => 3,
        IgnoreReason::PoolExhausted => 4,
        IgnoreReason::Malformed => 5,
        IgnoreReason::NotBound => 6,
        IgnoreReason::EncodeFailed => 7,
        IgnoreReason::RateLimited => 8,
        IgnoreReason::ShareLimited => 9,
    }
}

/// Request message types counted (index order).
const REQUEST_TYPES: [(MessageType, &str); 5] = [
    (MessageType::Discover, "discover"),
    (MessageType::Request, "request"),
    (MessageType::Decline, "decline"),
    (MessageType::Release, "release"),
    (MessageType::Inform, "inform"),
];

/// Reply message types counted (index order); anything else counts as `other`.
const REPLY_TYPES: [(MessageType, &str); 3] = [
    (MessageType::Offer, "offer"),
    (MessageType::Ack, "ack"),
    (MessageType::Nak, "nak"),
];

fn type_index(table: &[(MessageType, &str)], t: MessageType) -> usize {
    table
        .iter()
        .position(|(m, _)| *m == t)
        .unwrap_or(table.len())
}

/// Why OMAPI input was refused, as counted (label `reason`).
pub const OMAPI_REFUSALS: [&str; 5] = [
    "bad_signature",
    "unsigned",
    "unknown_key",
    "malformed",
    "truncated",
];

/// The daemon's counters.
#[derive(Debug, Default)]
pub struct Counters {
    /// Datagrams received on the server port.
    pub received: AtomicU64,
    /// Receive errors reported by the socket.
    pub recv_errors: AtomicU64,
    /// Datagrams the kernel dropped because a server socket's receive
    /// buffer was full (`SO_RXQ_OVFL`): lost before the daemon saw them.
    pub kernel_receive_drops: AtomicU64,
    /// Partner answers to fencing probes (BOOTREPLYs claimed by a probe,
    /// neither dropped nor handled as requests).
    pub probe_answers: AtomicU64,
    drops: [AtomicU64; DropReason::ALL.len()],
    /// Requests by type (`REQUEST_TYPES` order, then other).
    requests: [AtomicU64; REQUEST_TYPES.len() + 1],
    ignored: [AtomicU64; IGNORE_REASONS.len()],
    /// Leases released by clients.
    pub released: AtomicU64,
    /// Addresses declined by clients.
    pub declined: AtomicU64,
    /// Replies sent by type (`REPLY_TYPES` order, then other).
    sent: [AtomicU64; REPLY_TYPES.len() + 1],
    /// Replies that could not be sent.
    pub send_errors: AtomicU64,
    /// Replies sent by broadcast because a layer-2 unicast was not possible.
    pub l2_fallbacks: AtomicU64,
    /// Store commits (batches) completed.
    pub commits: AtomicU64,
    /// Lease records written by those commits.
    pub committed_records: AtomicU64,
    /// Commits that failed (their replies were not sent).
    pub commit_errors: AtomicU64,
    /// Lease records written by the expiry timer.
    pub expiry_writes: AtomicU64,
    /// Lease events queued for delivery ([`crate::ops::events`]).
    pub events_queued: AtomicU64,
    /// Lease events delivered (datagram sent or command run).
    pub events_delivered: AtomicU64,
    /// Lease events dropped (queue full, receiver missing or too slow).
    pub events_dropped: AtomicU64,
    /// OMAPI requests answered with an object or success.
    pub omapi_succeeded: AtomicU64,
    /// OMAPI requests answered with an error status (refusals included).
    pub omapi_failed: AtomicU64,
    /// OMAPI input refused, by reason ([`OMAPI_REFUSALS`] order).
    pub omapi_refused: [AtomicU64; OMAPI_REFUSALS.len()],
    /// Latency and size histograms (for the metrics exporter).
    pub timings: Timings,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    /// Counts a dropped datagram.
    pub fn dropped(&self, reason: DropReason) {
        if let Some(c) = self.drops.get(reason.index()) {
            bump(c);
        }
    }

    /// Dropped datagrams for one reason.
    pub fn drops(&self, reason: DropReason) -> u64 {
        self.drops
            .get(reason.index())
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Counts a request handed to the engine and what the engine decided.
    pub fn transaction(&self, request: MessageType, verdict: &Verdict) {
        if let Some(c) = self.requests.get(type_index(&REQUEST_TYPES, request)) {
            bump(c);
        }
        match verdict {
            Verdict::Ignored(r) => {
                if let Some(c) = self.ignored.get(ignore_index(*r)) {
                    bump(c);
                }
            }
            Verdict::Released => bump(&self.released),
            Verdict::Declined => bump(&self.declined),
            Verdict::Replied(_) => {}
        }
    }

    /// Counts a reply sent.
    pub fn sent(&self, reply: MessageType) {
        if let Some(c) = self.sent.get(type_index(&REPLY_TYPES, reply)) {
            bump(c);
        }
    }

    /// Requests by message type label (`discover`, …, `other`).
    pub fn requests_by_type(&self) -> Vec<(&'static str, u64)> {
        labelled(&self.requests, REQUEST_TYPES.iter().map(|(_, n)| *n))
    }

    /// Replies sent by message type label (`offer`, `ack`, `nak`, `other`).
    pub fn sent_by_type(&self) -> Vec<(&'static str, u64)> {
        labelled(&self.sent, REPLY_TYPES.iter().map(|(_, n)| *n))
    }

    /// Requests deliberately not answered, by reason label.
    pub fn ignored_by_reason(&self) -> Vec<(&'static str, u64)> {
        IGNORE_REASONS
            .iter()
            .zip(&self.ignored)
            .map(|(r, c)| (r.label(), c.load(Ordering::Relaxed)))
            .collect()
    }

    /// Every counter as `(name, value)`, in a stable order.
    pub fn snapshot(&self) -> Vec<(String, u64)> {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = vec![
            ("received".to_owned(), get(&self.received)),
            ("recv_errors".to_owned(), get(&self.recv_errors)),
            ("probe_answers".to_owned(), get(&self.probe_answers)),
            (
                "kernel_receive_drops".to_owned(),
                get(&self.kernel_receive_drops),
            ),
        ];
        let mut dropped = 0;
        for r in DropReason::ALL {
            let v = self.drops(r);
            dropped += v;
            out.push((format!("drop.{}", r.label()), v));
        }
        out.push(("dropped".to_owned(), dropped));
        for (i, (_, name)) in REQUEST_TYPES.iter().enumerate() {
            out.push((
                format!("request.{name}"),
                self.requests.get(i).map_or(0, get),
            ));
        }
        out.push((
            "request.other".to_owned(),
            self.requests.get(REQUEST_TYPES.len()).map_or(0, get),
        ));
        for (i, r) in IGNORE_REASONS.iter().enumerate() {
            out.push((
                format!("ignored.{}", r.label()),
                self.ignored.get(i).map_or(0, get),
            ));
        }
        out.push(("released".to_owned(), get(&self.released)));
        out.push(("declined".to_owned(), get(&self.declined)));
        for (i, (_, name)) in REPLY_TYPES.iter().enumerate() {
            out.push((format!("sent.{name}"), self.sent.get(i).map_or(0, get)));
        }
        out.push((
            "sent.other".to_owned(),
            self.sent.get(REPLY_TYPES.len()).map_or(0, get),
        ));
        out.push(("send_errors".to_owned(), get(&self.send_errors)));
        out.push(("l2_fallbacks".to_owned(), get(&self.l2_fallbacks)));
        out.push(("commits".to_owned(), get(&self.commits)));
        out.push(("committed_records".to_owned(), get(&self.committed_records)));
        out.push(("commit_errors".to_owned(), get(&self.commit_errors)));
        out.push(("expiry_writes".to_owned(), get(&self.expiry_writes)));
        out.push(("events_queued".to_owned(), get(&self.events_queued)));
        out.push(("events_delivered".to_owned(), get(&self.events_delivered)));
        out.push(("events_dropped".to_owned(), get(&self.events_dropped)));
        out.push(("omapi_succeeded".to_owned(), get(&self.omapi_succeeded)));
        out.push(("omapi_failed".to_owned(), get(&self.omapi_failed)));
        for (name, c) in OMAPI_REFUSALS.iter().zip(&self.omapi_refused) {
            out.push((format!("omapi_refused.{name}"), get(c)));
        }
        out
    }

    /// Adds one OMAPI session's counts.
    pub fn add_omapi(&self, s: &omapi::Stats) {
        let add = |c: &AtomicU64, n: u64| {
            if n > 0 {
                c.fetch_add(n, Ordering::Relaxed);
            }
        };
        add(&self.omapi_succeeded, s.succeeded);
        add(&self.omapi_failed, s.failed);
        let refused = [
            s.refused_bad_signature,
            s.refused_unsigned,
            s.refused_unknown_key,
            s.malformed,
            s.truncated,
        ];
        for (c, n) in self.omapi_refused.iter().zip(refused) {
            add(c, n);
        }
    }

    /// The snapshot as one `name=value` line (for the shutdown log).
    pub fn summary_line(&self) -> String {
        self.snapshot()
            .iter()
            .filter(|(_, v)| *v != 0)
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The snapshot as `name value` lines (the stats file format).
    pub fn render(&self) -> String {
        let mut s = String::new();
        for (k, v) in self.snapshot() {
            s.push_str(&k);
            s.push(' ');
            s.push_str(&v.to_string());
            s.push('\n');
        }
        s
    }
}

/// `names` paired with `counts`, the last count labelled `other`.
fn labelled(
    counts: &[AtomicU64],
    names: impl Iterator<Item = &'static str>,
) -> Vec<(&'static str, u64)> {
    names
        .chain(std::iter::once("other"))
        .zip(counts)
        .map(|(n, c)| (n, c.load(Ordering::Relaxed)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_reasons_index_matches_all() {
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
        for (i, r) in IGNORE_REASONS.iter().enumerate() {
            assert_eq!(ignore_index(*r), i);
        }
    }

    #[test]
    fn snapshot_counts() {
        let c = Counters::default();
        c.dropped(DropReason::from(&PacketError::BadMagic));
        c.dropped(DropReason::Truncated);
        c.dropped(DropReason::Truncated);
        c.transaction(
            MessageType::Discover,
            &Verdict::Ignored(IgnoreReason::PoolExhausted),
        );
        c.sent(MessageType::Offer);
        let snap: std::collections::HashMap<_, _> = c.snapshot().into_iter().collect();
        assert_eq!(snap["drop.truncated"], 2);
        assert_eq!(snap["drop.bad_magic"], 1);
        assert_eq!(snap["dropped"], 3);
        assert_eq!(snap["request.discover"], 1);
        assert_eq!(snap["ignored.pool_exhausted"], 1);
        assert_eq!(snap["sent.offer"], 1);
        assert!(c.render().contains("drop.truncated 2\n"));
        assert!(c.summary_line().contains("dropped=3"));
    }
}
