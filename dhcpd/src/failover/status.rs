//! What operations (metrics, the control API, reload, systemd status) need
//! from failover, as a trait the failover side implements.
//!
//! Until failover runs in the daemon, [`NoFailover`] stands in: no
//! relationships ("standalone"), `partner-down` refused, and any reload
//! accepted. The failover implementation provides a [`FailoverOps`] (cheap,
//! thread-safe: `status` is called on every scrape and `status` request, so it
//! should read a snapshot, e.g. from a `watch` channel, not wait on a task) and
//! hands it to [`crate::ops::start::OpsContext::failover`].

use std::sync::Arc;

use dhcp_core::config::FailoverConfig;
use dhcp_failover::wire::ServerState;
use serde::{Deserialize, Serialize};

/// Every failover state, for the metrics state set (`state` label values).
pub const ALL_STATES: [ServerState; 13] = [
    ServerState::Unknown,
    ServerState::Startup,
    ServerState::Normal,
    ServerState::CommunicationsInterrupted,
    ServerState::PartnerDown,
    ServerState::PotentialConflict,
    ServerState::Recover,
    ServerState::Paused,
    ServerState::Shutdown,
    ServerState::RecoverDone,
    ServerState::ResolutionInterrupted,
    ServerState::ConflictDone,
    ServerState::RecoverWait,
];

/// The state of one failover relationship, as operators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelationshipStatus {
    /// The relationship's name (`failover peer` name).
    pub name: String,
    /// `primary` or `secondary`.
    pub role: String,
    /// Our state, ISC spelling (`normal`, `communications-interrupted`, …).
    pub local_state: String,
    /// The partner's last known state, if it ever told us.
    pub partner_state: Option<String>,
    /// Whether the failover connection is up (after CONNECT/CONNECTACK).
    pub connected: bool,
    /// Binding updates sent and not yet acknowledged.
    pub unacked_updates: u64,
    /// Binding updates waiting to be sent.
    pub pending_updates: u64,
    /// Unix time of the last message from the partner, if any.
    pub last_contact: Option<u64>,
    /// Unix time our state was entered.
    pub local_state_since: Option<u64>,
    /// What the failover port refused, by reason (`not_peer`, `bad_frame`,
    /// `connect_refused`, `rejected_by_partner`, `duplicate_connection`).
    #[serde(default)]
    pub refused: std::collections::BTreeMap<String, u64>,
    /// Fencing-aware partner-down figures, when `[failover.fencing]` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fencing: Option<crate::failover::FencingStatus>,
    /// Whether an operator announced the partner's maintenance
    /// (Kea's `ha-maintenance-start`): this server answers every client,
    /// and goes to PARTNER-DOWN when the partner closes the connection.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partner_maintenance: bool,
}

impl RelationshipStatus {
    /// A relationship with our state `local` (helper for implementations).
    pub fn new(name: &str, role: &str, local: ServerState) -> Self {
        Self {
            name: name.to_owned(),
            role: role.to_owned(),
            local_state: local.name().to_owned(),
            partner_state: None,
            connected: false,
            unacked_updates: 0,
            pending_updates: 0,
            last_contact: None,
            local_state_since: None,
            refused: Default::default(),
            fencing: None,
            partner_maintenance: false,
        }
    }
}

/// Why a failover operation was refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum FailoverOpsError {
    /// No failover relationship runs in this daemon.
    #[error("failover is not running in this daemon (standalone)")]
    Standalone,
    /// No relationship has that name.
    #[error("no failover relationship named {0:?}")]
    NoSuchRelationship(String),
    /// The operation is not allowed now (e.g. partner-down while connected).
    #[error("refused: {0}")]
    Refused(String),
}

/// The failover side's operations interface.
pub trait FailoverOps: Send + Sync {
    /// Every relationship's current status (empty when standalone).
    fn status(&self) -> Vec<RelationshipStatus>;

    /// Operator command: the partner is down (ISC `failover partner-down`).
    /// `relationship` `None` means every relationship. Returns a message for
    /// the operator.
    fn partner_down(&self, relationship: Option<&str>) -> Result<String, FailoverOpsError>;

    /// Operator command: the partner is about to be stopped for maintenance
    /// (`start`, Kea's `ha-maintenance-start`) or is back (`!start`,
    /// `ha-maintenance-cancel`). While announced, this server answers every
    /// client and goes to PARTNER-DOWN as soon as the partner closes the
    /// failover connection. `relationship` `None` means the only one.
    fn maintenance(
        &self,
        relationship: Option<&str>,
        start: bool,
    ) -> Result<String, FailoverOpsError>;

    /// Reload hook, called before a new configuration is applied, only when
    /// the failover relationships differ (`old != new`): restart or retune
    /// what changed, or refuse (the reload is then refused and the old
    /// configuration keeps serving). When they are equal it is not called and
    /// the connection is left alone.
    fn reconfigure(
        &self,
        old: &[FailoverConfig],
        new: &[FailoverConfig],
    ) -> Result<(), FailoverOpsError>;
}

/// The standalone stand-in.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFailover;

impl FailoverOps for NoFailover {
    fn status(&self) -> Vec<RelationshipStatus> {
        Vec::new()
    }

    fn partner_down(&self, _relationship: Option<&str>) -> Result<String, FailoverOpsError> {
        Err(FailoverOpsError::Standalone)
    }

    fn maintenance(
        &self,
        _relationship: Option<&str>,
        _start: bool,
    ) -> Result<String, FailoverOpsError> {
        Err(FailoverOpsError::Standalone)
    }

    /// A standalone daemon has no drivers to start: a configuration that
    /// adds relationships needs a restart (until then its pools would be
    /// served by nobody).
    fn reconfigure(
        &self,
        _old: &[FailoverConfig],
        new: &[FailoverConfig],
    ) -> Result<(), FailoverOpsError> {
        if new.is_empty() {
            Ok(())
        } else {
            Err(FailoverOpsError::Refused(
                "starting failover relationships needs a restart".to_owned(),
            ))
        }
    }
}

/// A shared handle.
pub type SharedFailoverOps = Arc<dyn FailoverOps>;
