//! The failover states (ISC numbering) and what each lets a server do.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A failover server state, with ISC's wire codes (draft-ietf-dhc-failover-12
/// §12.24; RECOVER-WAIT is ISC's 254).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(u8)]
pub enum FailoverState {
    /// ISC's internal "unknown-state" (a partner we have never heard from).
    Unknown = 0,
    /// Just started; waiting up to 15 s to hear from the partner.
    Startup = 1,
    /// In contact and in agreement; load-balanced service.
    Normal = 2,
    /// Out of contact; serving from our own free pool only.
    CommunicationsInterrupted = 3,
    /// The partner is known to be down; we may take its addresses after MCLT.
    PartnerDown = 4,
    /// Both may have served the same addresses; resynchronising.
    PotentialConflict = 5,
    /// Our lease data is not trustworthy; fetching everything from the partner.
    Recover = 6,
    /// Administratively paused.
    Paused = 7,
    /// Shutting down (or refused to continue after an illegal transition).
    Shutdown = 8,
    /// Recovery finished; waiting for the partner to agree to NORMAL.
    RecoverDone = 9,
    /// Lost contact during conflict resolution.
    ResolutionInterrupted = 10,
    /// The primary finished its side of conflict resolution.
    ConflictDone = 11,
    /// Recovery fetched everything; waiting out MCLT before serving.
    RecoverWait = 254,
}

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

    /// The wire code (server-state option).
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Parses a wire code; `None` for a value ISC does not know (ISC then shuts down).
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.code() == code)
    }

    /// ISC's lease-file spelling.
    pub fn name(self) -> &'static str {
        match self {
            Self::Unknown => "unknown-state",
            Self::Startup => "startup",
            Self::Normal => "normal",
            Self::CommunicationsInterrupted => "communications-interrupted",
            Self::PartnerDown => "partner-down",
            Self::PotentialConflict => "potential-conflict",
            Self::Recover => "recover",
            Self::Paused => "paused",
            Self::Shutdown => "shutdown",
            Self::RecoverDone => "recover-done",
            Self::ResolutionInterrupted => "resolution-interrupted",
            Self::ConflictDone => "conflict-done",
            Self::RecoverWait => "recover-wait",
        }
    }

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

impl fmt::Display for FailoverState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for s in FailoverState::ALL {
            assert_eq!(FailoverState::from_code(s.code()), Some(s));
        }
        assert_eq!(FailoverState::RecoverWait.code(), 254);
        assert_eq!(FailoverState::from_code(12), None);
        assert_eq!(FailoverState::from_code(253), None);
    }

    #[test]
    fn only_three_states_answer() {
        let answering: Vec<_> = FailoverState::ALL
            .into_iter()
            .filter(|s| s.service().responsive())
            .collect();
        assert_eq!(
            answering,
            vec![
                FailoverState::Normal,
                FailoverState::CommunicationsInterrupted,
                FailoverState::PartnerDown
            ]
        );
    }
}
