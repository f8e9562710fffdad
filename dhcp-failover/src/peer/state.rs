//! The failover states (ISC numbering) and what each lets a server do.

/// A failover server state: the wire type, shared by the codec and the peer
/// (ISC numbering; RECOVER-WAIT is ISC's 254).
pub use crate::wire::ServerState as FailoverState;

/// What a server in a given state does for clients (ISC "service state", §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceState {
    /// NORMAL: load-balanced DISCOVERs, own free pool only.
    Cooperating,
    /// COMMUNICATIONS-INTERRUPTED: answer everyone, own free pool only.
    NotCooperating,
    /// PARTNER-DOWN: answer everyone; may take the partner's pool after MCLT.
    PartnerDown,
    /// STARTUP: silent.
    Startup,
    /// Every other state: silent.
    NotResponding,
}

impl ServiceState {
    /// Whether the server answers clients at all.
    pub fn responsive(self) -> bool {
        matches!(
            self,
            Self::Cooperating | Self::NotCooperating | Self::PartnerDown
        )
    }
}

impl FailoverState {
    /// Every state, in wire-code order.
    pub const ALL: [FailoverState; 13] = [
        Self::Unknown,
        Self::Startup,
        Self::Normal,
        Self::CommunicationsInterrupted,
        Self::PartnerDown,
        Self::PotentialConflict,
        Self::Recover,
        Self::Paused,
        Self::Shutdown,
        Self::RecoverDone,
        Self::ResolutionInterrupted,
        Self::ConflictDone,
        Self::RecoverWait,
    ];

    /// The service state (reference §4.2).
    pub fn service(self) -> ServiceState {
        match self {
            Self::Normal => ServiceState::Cooperating,
            Self::CommunicationsInterrupted => ServiceState::NotCooperating,
            Self::PartnerDown => ServiceState::PartnerDown,
            Self::Startup => ServiceState::Startup,
            _ => ServiceState::NotResponding,
        }
    }

    /// Whether a partner in this state makes us silent even when our own state
    /// would answer ("peer demands: recovering / resolving conflicts", §4.2).
    pub fn silences_partner(self) -> bool {
        matches!(
            self,
            Self::PartnerDown
                | Self::PotentialConflict
                | Self::ConflictDone
                | Self::ResolutionInterrupted
        )
    }
}
