//! What a peer reports to its driver (the daemon or the simulator).

use std::net::Ipv4Addr;

use dhcp_core::lease::Lease;

use super::persist::PersistedState;
use super::state::FailoverState;
use crate::fencing::Withheld;
use crate::wire::RejectReason;

/// Identifies a batch of lease changes the driver must make durable; pass it to
/// [`super::Peer::handle_committed`] once it is. Tokens increase; committing a
/// token commits every earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CommitToken(pub u64);

/// Why the peer wants the connection closed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// Nothing received for `max-response-delay` seconds.
    ReceiveTimeout,
    /// The CONNECT/CONNECTACK exchange did not finish within 15 s.
    StartupTimeout,
    /// We refused the partner's CONNECT or CONNECTACK (the reply carrying the
    /// reason is the last message to send).
    Refused(RejectReason),
    /// The partner refused our CONNECT.
    RejectedByPartner(RejectReason),
    /// The partner sent DISCONNECT.
    PartnerDisconnected(Option<RejectReason>),
    /// The peer is shutting the relationship down.
    Shutdown,
}

/// An event for the driver. Apply events **in order**: a
/// [`Event::Commit`] before a later [`Event::Persist`] means the leases must be
/// durable before the state that depends on them.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// My failover state changed.
    StateChanged {
        /// The previous state.
        from: FailoverState,
        /// The new state.
        to: FailoverState,
    },
    /// The partner announced a new state.
    PartnerStateChanged {
        /// The previous partner state.
        from: FailoverState,
        /// The new partner state.
        to: FailoverState,
    },
    /// The persisted state changed; store it durably.
    Persist(PersistedState),
    /// The peer changed these lease records in the table (partner updates,
    /// acknowledgements, pool balancing). Make them durable, then call
    /// [`super::Peer::handle_committed`] with `token`: binding acknowledgements
    /// that depend on them are held back until then.
    Commit {
        /// The batch id.
        token: CommitToken,
        /// The new records.
        leases: Vec<Lease>,
        /// The partner has as many binding updates outstanding as we allow
        /// (our max-unacked-updates) and can send no more until these are
        /// durable and acknowledged: commit at once, without lingering to
        /// gather more.
        urgent: bool,
    },
    /// Close the connection after transmitting everything
    /// [`super::Peer::poll_transmit`] yields. The peer already considers the
    /// link down; [`super::Peer::handle_disconnected`] need not be called.
    Close(CloseReason),
    /// A binding update was rejected (by the partner, or by us).
    UpdateRejected {
        /// The address.
        addr: Ipv4Addr,
        /// The reason.
        reason: RejectReason,
        /// True when the partner rejected our update, false when we rejected theirs.
        by_partner: bool,
    },
    /// The automatic partner-down timer expired but the client-link
    /// evidence withholds the takeover ([`crate::fencing`]): the server
    /// stays in COMMUNICATIONS-INTERRUPTED and looks again later. Raise an
    /// alert: the failover link is down while the partner may be serving.
    PartnerDownWithheld(Withheld),
    /// ISC would have stopped the process here (an impossible partner state in
    /// CONFLICT-DONE, §4.3). The peer moved to SHUTDOWN instead.
    Fatal(String),
}
