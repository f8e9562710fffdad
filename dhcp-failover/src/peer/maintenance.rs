//! The partner's planned maintenance, Kea's `ha-maintenance-start` mapped
//! onto ISC failover.
//!
//! ISC's protocol has no message that asks the partner to stop serving, so
//! the announcement is local to the server that stays up: while it is
//! [`Maintenance::Announced`] this server answers every client (in NORMAL it
//! allocates only its own free addresses, so answering the partner's hash
//! clients too is safe), and when the partner then *closes* the failover
//! connection (it was stopped: a FIN, a reset or a DISCONNECT, or a STATE
//! of SHUTDOWN) this server goes straight to PARTNER-DOWN instead of
//! COMMUNICATIONS-INTERRUPTED. A receive timeout is not taken as the
//! partner's departure: a partition looks like that, and the partner may
//! still be serving on the other side of it; the server then waits in
//! COMMUNICATIONS-INTERRUPTED as usual. PARTNER-DOWN still waits MCLT
//! before it hands out the partner's free addresses.

/// Where a relationship is in the partner's maintenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Maintenance {
    /// Nothing announced.
    #[default]
    Off,
    /// The operator announced the partner's maintenance (in NORMAL, with the
    /// partner connected); the partner has not left yet.
    Announced,
    /// The partner left during its announced maintenance and this server
    /// went to PARTNER-DOWN; ends when the pair is back in NORMAL (or the
    /// operator cancels).
    PartnerGone,
}

impl Maintenance {
    /// Kea's name for the local state this stands for, if any.
    pub fn kea_state(self) -> Option<&'static str> {
        match self {
            Self::Off => None,
            Self::Announced => Some("partner-in-maintenance"),
            Self::PartnerGone => Some("partner-down"),
        }
    }
}

/// Why a maintenance command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MaintenanceError {
    /// `ha-maintenance-start` outside NORMAL or without the partner.
    #[error(
        "the partner's maintenance can only be announced in NORMAL with the partner connected \
         (this server is {state}{link}); when the partner is already down, use partner-down"
    )]
    NotNormal {
        /// Our state.
        state: super::state::FailoverState,
        /// ", partner not connected" or empty.
        link: &'static str,
    },
    /// Announced twice.
    #[error("the partner's maintenance is already announced")]
    AlreadyAnnounced,
    /// `ha-maintenance-cancel` with nothing announced.
    #[error("no maintenance of the partner is in progress")]
    NotInMaintenance,
}
