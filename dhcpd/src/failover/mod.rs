//! Failover in the daemon: the TCP transport to the partner and the driver
//! that runs the sans-IO [`dhcp_failover::peer::Peer`] inside the engine task.
//!
//! * [`transport`]: per relationship, a listener on `address:port` (accepting
//!   only `peer_address`) and a dialer to `peer_address:peer_port` whose socket
//!   is bound to `address` (ISC drops other sources), retrying every
//!   [`transport::RETRY`] while no connection is in use, as ISC does. Each TCP
//!   connection runs in its own task: frames in through
//!   [`dhcp_failover::wire::FrameReader`], messages out from a channel.
//! * [`driver`]: owns the [`dhcp_failover::peer::Peer`]; the engine task
//!   ([`crate::serve::service`]) feeds it link events, commit completions, durable
//!   engine writes (→ [`dhcp_failover::peer::Peer::local_lease_changed`]),
//!   operator commands and timer ticks, and takes the
//!   [`dhcp_failover::policy::FailoverPolicy`] for the engine after each.
//!   Peer `Commit` events go through the group commit before
//!   `handle_committed`; `Persist` events are written to the store's metadata
//!   ([`meta_key`]) after every earlier commit is durable, and loaded at start.
//! * [`partner_requests`]: while the partner is out of contact, the
//!   retransmitted REQUESTs of clients that had selected it get a DHCPNAK so
//!   they start over with us at once instead of backing off for seconds.
//! * [`fencing`]: the client-link probes of a fencing-aware automatic
//!   partner-down (`[failover.fencing]`), and the board on which the receive
//!   loops hand over the partner's answers.
//! * [`ops`]: [`crate::failover::status::FailoverOps`] for [`FailoverHandle`]
//!   and for [`ops::Relationships`] (all of them), which is what metrics,
//!   reload and the control API (`dhcpd failover status|partner-down
//!   --socket CONTROL`) use.
//!
//! Every configured relationship gets its own driver, transport and
//! persisted state (MAAS configures one per VLAN). The engine task holds
//! them all and a [`dhcp_core::policy::ByRelationship`] of their policies:
//! each pool follows the relationship it names, pools naming none are
//! standalone, and every pool of a shared network names the same one (the
//! configuration check enforces it). Durable writes go to every driver; each
//! keeps the records of its own pools.
//!
//! [`FailoverStatus`] is the small status snapshot (state, partner state,
//! connection, pending updates, last contact) published through a
//! [`FailoverHandle`] for metrics and the control command.

pub mod driver;
pub mod fencing;
pub mod guard;
pub mod ops;
pub mod partner_requests;
pub mod status;
pub mod transport;

use dhcp_core::config::Role;
use dhcp_core::lease::UnixTime;
use dhcp_failover::peer::{FailoverState, Maintenance};
use tokio::sync::{mpsc, oneshot, watch};

/// The log target of the driver's state lines (`failover status: ...`).
pub const LOG_TARGET: &str = "dhcpd::failover";

/// The store metadata key holding a relationship's persisted state (JSON of
/// [`dhcp_failover::peer::PersistedState`]).
pub fn meta_key(relationship: &str) -> String {
    dhcp_failover::peer::PersistedState::meta_key(relationship)
}

/// A snapshot of one relationship, for metrics and `dhcpd failover status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailoverStatus {
    /// Relationship name.
    pub name: String,
    /// This server's role.
    pub role: Role,
    /// My failover state.
    pub state: FailoverState,
    /// When I entered it (STOS).
    pub stos: UnixTime,
    /// The partner's last known state.
    pub partner_state: FailoverState,
    /// Whether the CONNECT/CONNECTACK handshake is done on a live connection.
    pub connected: bool,
    /// Binding updates queued, not yet sent.
    pub queued_updates: usize,
    /// Binding updates sent and not yet acknowledged.
    pub unacked_updates: usize,
    /// When the partner last sent us anything.
    pub last_contact: Option<UnixTime>,
    /// The MCLT in force.
    pub mclt: u32,
    /// What the failover port refused, by [`guard::Refusal::ALL`] order.
    pub refused: [u64; 5],
    /// The client-link evidence, when fencing is configured.
    pub fencing: Option<FencingStatus>,
    /// Where the partner's announced maintenance stands.
    pub maintenance: Maintenance,
}

/// Fencing-aware partner-down figures of one relationship.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct FencingStatus {
    /// Client-link probes made.
    pub probes: u64,
    /// Probes the partner answered.
    pub answers: u64,
    /// When the partner last answered, in the current watch.
    pub last_answer: Option<UnixTime>,
    /// Times the automatic partner-down was withheld.
    pub withheld: u64,
}

/// An operator command for the driver.
#[derive(Debug)]
pub enum Command {
    /// Move to PARTNER-DOWN (ISC OMAPI `local-state 4`); answers the state
    /// reached.
    PartnerDown(oneshot::Sender<FailoverState>),
    /// Announce (`true`) or cancel (`false`) the partner's maintenance
    /// (Kea's `ha-maintenance-start`/`-cancel`); answers the peer's verdict.
    Maintenance(
        bool,
        oneshot::Sender<Result<Maintenance, dhcp_failover::peer::MaintenanceError>>,
    ),
}

/// What other parts of the daemon (metrics, control) hold: the latest status
/// and a way to send commands to the driver.
#[derive(Debug, Clone)]
pub struct FailoverHandle {
    /// The latest status (updated after every peer input).
    pub status: watch::Receiver<FailoverStatus>,
    /// Commands to the driver.
    pub commands: mpsc::Sender<Command>,
}

impl FailoverHandle {
    /// The current status.
    pub fn current(&self) -> FailoverStatus {
        self.status.borrow().clone()
    }

    /// Asks the driver to go PARTNER-DOWN; returns the state it is in
    /// afterwards, or `None` when the driver has stopped.
    pub async fn partner_down(&self) -> Option<FailoverState> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(Command::PartnerDown(tx)).await.ok()?;
        rx.await.ok()
    }
}
