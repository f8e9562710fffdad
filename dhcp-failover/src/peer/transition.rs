//! The transition tables of ISC's failover state machine (reference §4.3, §4.4
//! and §4.6) as pure functions. The peer applies their answers.

use dhcp_core::config::Role;
use dhcp_core::lease::UnixTime;

use super::state::FailoverState as S;

/// What to do in reaction to an input, according to the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaction {
    /// Nothing.
    Stay,
    /// Move to this state (and run its entry actions).
    GoTo(S),
    /// Ask the partner for every binding (UPDREQALL).
    SendUpdReqAll,
    /// Ask the partner for the bindings we have not acknowledged (UPDREQ).
    SendUpdReq,
    /// Check the pool balance.
    Rebalance,
    /// ISC would stop the process here (an impossible partner state while in
    /// CONFLICT-DONE). We move to SHUTDOWN and report it.
    Fatal,
}

/// Whether a STATE message repeating the partner's current state is processed
/// again in `mine` (otherwise it is ignored, §4.3).
pub fn reprocess_repeated_state(mine: S) -> bool {
    matches!(
        mine,
        S::PartnerDown
            | S::CommunicationsInterrupted
            | S::ResolutionInterrupted
            | S::Recover
            | S::ConflictDone
            | S::Startup
    )
}

/// Reference §4.3: the partner announced `partner` while our (saved, if in
/// STARTUP) state is `mine`. `starting` says we are in STARTUP;
/// `partner_starting` is the partner's STARTUP flag.
pub fn on_partner_state(mine: S, partner: S, starting: bool, partner_starting: bool) -> Reaction {
    use Reaction::*;
    match mine {
        S::Normal => match partner {
            S::Normal => Rebalance,
            S::PartnerDown if starting => GoTo(S::Recover),
            S::PartnerDown => GoTo(S::PotentialConflict),
            S::PotentialConflict | S::ResolutionInterrupted | S::ConflictDone => GoTo(S::Shutdown),
            S::Recover | S::Shutdown => GoTo(S::PartnerDown),
            S::Paused => GoTo(S::CommunicationsInterrupted),
            _ => Stay,
        },
        // A partner still in STARTUP announces only its saved state: a
        // recovering server waits for the state it resumes (ISC would take
        // a saved NORMAL for a live one and go POTENTIAL-CONFLICT, whose
        // resolution exchanges only unacknowledged updates, so an amnesic
        // server would enter NORMAL without the partner's bindings). The
        // partner, seeing our RECOVER, moves to PARTNER-DOWN, which gets
        // the UPDREQALL below.
        S::Recover if partner_starting => Stay,
        S::Recover => match partner {
            S::Recover | S::PartnerDown | S::CommunicationsInterrupted if !starting => {
                SendUpdReqAll
            }
            S::Recover | S::PartnerDown | S::CommunicationsInterrupted => Stay,
            S::PotentialConflict | S::ResolutionInterrupted | S::ConflictDone | S::Normal => {
                GoTo(S::PotentialConflict)
            }
            S::Shutdown => GoTo(S::PartnerDown),
            _ => Stay,
        },
        S::PotentialConflict => match partner {
            S::Normal => GoTo(S::Shutdown),
            S::ConflictDone => SendUpdReq,
            S::Recover => GoTo(S::Recover),
            S::Shutdown => GoTo(S::PartnerDown),
            _ => Stay,
        },
        S::ConflictDone => match partner {
            S::Normal => GoTo(S::Normal),
            S::Shutdown => GoTo(S::Shutdown),
            S::PotentialConflict | S::ResolutionInterrupted => Stay,
            _ => Fatal,
        },
        S::PartnerDown if partner_starting => Stay,
        S::PartnerDown => match partner {
            S::Recover | S::RecoverWait => Stay,
            S::RecoverDone => GoTo(S::Normal),
            S::Normal
            | S::PotentialConflict
            | S::PartnerDown
            | S::CommunicationsInterrupted
            | S::ResolutionInterrupted
            | S::ConflictDone => GoTo(S::PotentialConflict),
            _ => Stay,
        },
        S::CommunicationsInterrupted => match partner {
            S::Paused => Stay,
            S::Recover | S::Shutdown => GoTo(S::PartnerDown),
            S::Normal | S::CommunicationsInterrupted | S::RecoverDone | S::RecoverWait => {
                GoTo(S::Normal)
            }
            S::PotentialConflict | S::PartnerDown | S::ResolutionInterrupted | S::ConflictDone => {
                GoTo(S::PotentialConflict)
            }
            _ => Stay,
        },
        S::ResolutionInterrupted => match partner {
            S::Normal
            | S::Recover
            | S::PotentialConflict
            | S::PartnerDown
            | S::CommunicationsInterrupted
            | S::ResolutionInterrupted
            | S::ConflictDone
            | S::RecoverDone
            | S::RecoverWait => GoTo(S::PotentialConflict),
            S::Shutdown => GoTo(S::PartnerDown),
            _ => Stay,
        },
        S::RecoverWait => Stay,
        S::RecoverDone => match partner {
            S::Normal | S::RecoverDone => GoTo(S::Normal),
            S::Shutdown => GoTo(S::PartnerDown),
            _ => Stay,
        },
        S::Shutdown | S::Paused | S::Unknown | S::Startup => Stay,
    }
}

/// Reference §4.4: the state after losing the connection (or the STARTUP timer
/// firing) in `mine` (the saved state if in STARTUP).
pub fn on_disconnect(mine: S) -> S {
    match mine {
        S::Normal => S::CommunicationsInterrupted,
        S::PotentialConflict | S::Unknown => S::ResolutionInterrupted,
        other => other,
    }
}

/// Reference §4.6: the partner finished sending what we asked for (UPDDONE).
/// `stos` is our STOS and `mclt` the MCLT in force.
pub fn on_update_done(
    mine: S,
    role: Role,
    partner: S,
    now: UnixTime,
    stos: UnixTime,
    mclt: u32,
) -> Reaction {
    match mine {
        S::Recover => {
            let waiting = now < stos.saturating_add(mclt);
            if waiting && !matches!(partner, S::Recover | S::RecoverDone) {
                Reaction::GoTo(S::RecoverWait)
            } else {
                Reaction::GoTo(S::RecoverDone)
            }
        }
        S::PotentialConflict => match (role, partner) {
            (Role::Primary, S::ConflictDone) => Reaction::GoTo(S::Shutdown),
            (Role::Primary, _) => Reaction::GoTo(S::ConflictDone),
            (Role::Secondary, S::ConflictDone) => Reaction::GoTo(S::Normal),
            (Role::Secondary, _) => Reaction::Stay,
        },
        _ => Reaction::Stay,
    }
}

/// Whether entering `state` updates the start time of state (§4.1: not for
/// RECOVER-WAIT, and not when entering or leaving STARTUP).
pub fn updates_stos(from: S, to: S) -> bool {
    !(to == S::RecoverWait || to == S::Startup || from == S::Startup)
}
