//! Acceptance of the partner's binding updates (reference §6.4 and §6.5).

use dhcp_core::config::Role;
use dhcp_core::lease::{BindingState, ClientKey, Lease, LeaseFlags, UnixTime};

use crate::wire::{Binding, RejectReason};

/// Tolerance, in seconds, when the partner expires a lease we think is still
/// running (clock skew between the peers).
///
/// **Deliberate deviation from ISC**, which uses 65 s ("60 s maximum skew plus
/// a fudge"): with leases renewed within their last 65 s (short lease times,
/// or a renewal we made while out of contact) ISC's value lets the partner's
/// stale expiry free an address a client still holds, and the simulator finds
/// that double allocation. Peers must keep their clocks within this bound
/// (ISC's own advice is NTP); an expiry refused because of larger skew is
/// rejected (reason 2) and the lease is resent on the next update request.
pub const EXPIRY_FUDGE: u32 = 5;

/// ISC's longest client hardware address in a BNDUPD (htype byte included).
const MAX_CHADDR: usize = 21;

/// A refused update: reason and message text.
pub type Refusal = (RejectReason, String);

/// Reference §6.4 steps 3–8 for an update whose address and status are known:
/// validates the update against `local` and builds the record to install.
/// `normal` selects the NORMAL transition table (else the conflict table).
pub fn accept(
    b: &Binding,
    status: BindingState,
    local: &Lease,
    role: Role,
    normal: bool,
    now: UnixTime,
) -> Result<Lease, Refusal> {
    let ip = local.addr;
    let misc = |why: &str| (RejectReason::Misc, format!("{ip}: {why}"));
    if let Some(hw) = &b.chaddr {
        if status == BindingState::Abandoned {
            return Err(misc("hardware address on an abandoned lease"));
        }
        if hw.addr.len() + 1 > MAX_CHADDR {
            return Err(misc("hardware address too long"));
        }
    } else if matches!(
        status,
        BindingState::Active | BindingState::Expired | BindingState::Released
    ) {
        return Err((
            RejectReason::MissingBindingInfo,
            format!("{ip}: no hardware address"),
        ));
    }
    if b.client_id.is_some() && status == BindingState::Abandoned {
        return Err(misc("client identifier on an abandoned lease"));
    }
    // A change older than our running binding (the partner's RELEASED or
    // EXPIRED from before we bound the address again) is stale: taking it
    // would drop a binding we have acknowledged to a client; ours reaches
    // the partner in our own update (found by the simulator, seed 12268).
    if local.state == BindingState::Active
        && status != BindingState::Active
        && b.start_time_of_state.is_some_and(|t| t < local.starts)
    {
        return Err(misc(&format!(
            "outdated: a change to {status} at {} is older than our binding (since {})",
            b.start_time_of_state.unwrap_or(0),
            local.starts
        )));
    }
    let potential = b.potential_expiration.unwrap_or(0);
    let allowed = superseding_free(b, status, local)
        || if normal {
            normal_transition_ok(local, status, potential, role, now)
        } else {
            conflict_transition_ok(local, status, now)
        };
    if !allowed {
        return Err((
            RejectReason::FatalConflict,
            format!(
                "{ip}: invalid state transition: {} to {}",
                local.state, status
            ),
        ));
    }
    let flags: LeaseFlags = b.ip_flags.map(LeaseFlags::from).unwrap_or_default();
    let own_free = if role == Role::Primary {
        BindingState::Free
    } else {
        BindingState::Backup
    };
    if flags.reserved && local.state == own_free && !local.flags.reserved {
        return Err((
            RejectReason::IpNotReserved,
            format!("{ip}: not reserved on this server"),
        ));
    }

    let mut l = local.clone();
    l.state = status;
    if status == BindingState::Abandoned {
        l.hw = None;
        l.client_id = None;
    } else {
        if let Some(hw) = &b.chaddr {
            l.hw = Some(hw.clone());
        }
        match &b.client_id {
            Some(id) => l.client_id = Some(id.clone()),
            None if !matches!(
                status,
                BindingState::Reset | BindingState::Free | BindingState::Backup
            ) =>
            {
                l.client_id = None
            }
            None => {}
        }
    }
    l.client = l
        .client_id
        .clone()
        .map(ClientKey::ClientId)
        .or_else(|| l.hw.clone().map(ClientKey::Hw));
    l.starts = b.start_time_of_state.unwrap_or(now);
    l.ends = b.lease_expiration.unwrap_or(0);
    l.tsfp = potential;
    l.atsfp = potential;
    l.tstp = potential;
    l.flags = flags;
    l.rewind_state = Some(status);
    // Step 8: ISC does not keep the partner's transitional states.
    if matches!(
        status,
        BindingState::Expired | BindingState::Released | BindingState::Reset
    ) {
        l.state = BindingState::Free;
        l.rewind_state = Some(BindingState::Free);
    }
    Ok(l)
}

/// Whether `b` frees an address we hold ACTIVE for the same client, with a
/// start time of state no older than our binding's. The partner then knows
/// more than we do: the client released it (or it expired) and the partner
/// reclaimed it, typically in PARTNER-DOWN while our RELEASED update was never
/// delivered. **Deviation from ISC**, which refuses FREE/BACKUP over ACTIVE
/// and so keeps a stale ACTIVE record that could later be renewed to the old
/// client while the partner has given the address to another (found by the
/// simulator).
fn superseding_free(b: &Binding, status: BindingState, local: &Lease) -> bool {
    if local.state != BindingState::Active
        || !matches!(status, BindingState::Free | BindingState::Backup)
    {
        return false;
    }
    let theirs = b
        .client_id
        .clone()
        .map(ClientKey::ClientId)
        .or_else(|| b.chaddr.clone().map(ClientKey::Hw));
    theirs.is_some()
        && theirs == local.client
        && b.start_time_of_state.is_some_and(|t| t >= local.starts)
}

/// The NORMAL-state table (reference §6.4).
pub fn normal_transition_ok(
    local: &Lease,
    new: BindingState,
    potential: UnixTime,
    role: Role,
    now: UnixTime,
) -> bool {
    use BindingState::*;
    match local.state {
        Free | Abandoned | Released | Backup => true,
        Active if new == Active => true,
        Active => match role {
            Role::Primary => matches!(new, Released | Abandoned),
            Role::Secondary => match new {
                Free | Backup => potential <= now,
                Expired => local.ends <= now.saturating_add(EXPIRY_FUDGE),
                _ => true,
            },
        },
        Expired | Reset => match new {
            Free | Backup => potential <= now,
            _ => true,
        },
    }
}

/// The conflict table, used in every state but NORMAL (reference §6.4).
pub fn conflict_transition_ok(local: &Lease, new: BindingState, now: UnixTime) -> bool {
    use BindingState::*;
    if local.state != Active {
        return true;
    }
    match new {
        Free | Backup => false,
        Expired => local.ends <= now.saturating_add(EXPIRY_FUDGE),
        _ => true,
    }
}

/// The fields of an incoming update that decide a duel.
#[derive(Debug, Clone, Copy)]
pub struct Contender {
    /// Its binding status.
    pub state: BindingState,
    /// Its CLTT (0 if absent).
    pub cltt: UnixTime,
    /// Its start time of state.
    pub stos: UnixTime,
    /// Its lease-expiration time (0 if absent).
    pub ends: UnixTime,
}

/// Reference §6.5: whether the partner's update `theirs` beats our
/// unacknowledged update `mine` for the same address ("dueling updates").
///
/// * Both ACTIVE: the later CLTT wins, a tie goes to the primary (as ISC).
/// * ACTIVE against EXPIRED: the expiry wins only if it happened after the
///   ACTIVE binding's end; otherwise the ACTIVE one is a renewal the expiring
///   side did not know of.
/// * Otherwise the binding that entered its state later wins; a tie goes to
///   the primary.
///
/// **This differs from ISC**, which lets an incoming ACTIVE (or an incoming
/// EXPIRED against our ACTIVE) win and otherwise the primary's. When both
/// peers changed the address while out of contact and their updates cross,
/// ISC's rule can make *both* accept the other's update, leaving the tables
/// disagreeing; the simulator finds the resulting double allocations and lost
/// leases. This rule is symmetric (both peers pick the same winner) and agrees
/// with ISC in the common cases (FREE against FREE at start-up: the primary's;
/// a fresh ACTIVE against an older state: the ACTIVE).
pub fn incoming_wins(mine: &Lease, theirs: Contender, role: Role) -> bool {
    use BindingState::*;
    let partner_is_primary = role == Role::Secondary;
    match (mine.state, theirs.state) {
        (Active, Active) if theirs.cltt != mine.cltt => theirs.cltt > mine.cltt,
        (Active, Active) => partner_is_primary,
        (Active, Expired) => mine.ends <= theirs.stos,
        (Expired, Active) => theirs.ends > mine.starts,
        _ if theirs.stos != mine.starts => theirs.stos > mine.starts,
        _ => partner_is_primary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dhcp_core::lease::HwAddr;
    use std::net::Ipv4Addr;

    fn lease(state: BindingState, ends: UnixTime) -> Lease {
        let mut l = Lease::new_free(Ipv4Addr::new(10, 99, 0, 5), state);
        l.ends = ends;
        l
    }

    fn upd(status: BindingState) -> Binding {
        Binding {
            assigned_ip: Some(Ipv4Addr::new(10, 99, 0, 5)),
            binding_status: Some(status),
            chaddr: Some(HwAddr::ethernet([1, 2, 3, 4, 5, 6])),
            lease_expiration: Some(500),
            potential_expiration: Some(600),
            start_time_of_state: Some(100),
            ..Binding::default()
        }
    }

    #[test]
    fn active_without_chaddr_is_missing_information() {
        let mut b = upd(BindingState::Active);
        b.chaddr = None;
        let r = accept(
            &b,
            BindingState::Active,
            &lease(BindingState::Free, 0),
            Role::Primary,
            true,
            100,
        );
        assert_eq!(r.unwrap_err().0, RejectReason::MissingBindingInfo);
    }

    #[test]
    fn abandoned_with_chaddr_is_misc() {
        let b = upd(BindingState::Abandoned);
        let r = accept(
            &b,
            BindingState::Abandoned,
            &lease(BindingState::Free, 0),
            Role::Primary,
            true,
            100,
        );
        assert_eq!(r.unwrap_err().0, RejectReason::Misc);
    }

    #[test]
    fn expired_update_is_installed_as_free() {
        let b = upd(BindingState::Expired);
        let l = accept(
            &b,
            BindingState::Expired,
            &lease(BindingState::Active, 100),
            Role::Secondary,
            true,
            100,
        )
        .unwrap();
        assert_eq!(l.state, BindingState::Free);
        assert_eq!((l.tsfp, l.atsfp, l.ends, l.starts), (600, 600, 500, 100));
    }

    /// The partner's RELEASED from before we bound the address again
    /// (simulator seed 12268): refused, our binding stands.
    #[test]
    fn a_change_older_than_our_binding_is_refused() {
        let b = upd(BindingState::Released);
        let mut ours = lease(BindingState::Active, 900);
        ours.starts = 150;
        let r = accept(
            &b,
            BindingState::Released,
            &ours,
            Role::Secondary,
            true,
            160,
        );
        let (reason, text) = r.unwrap_err();
        assert_eq!(reason, RejectReason::Misc);
        assert!(text.contains("outdated"), "{text}");
        // A release after our binding began is taken.
        ours.starts = 90;
        assert!(
            accept(
                &b,
                BindingState::Released,
                &ours,
                Role::Secondary,
                true,
                160
            )
            .is_ok()
        );
    }

    #[test]
    fn secondary_refuses_early_expiry() {
        let b = upd(BindingState::Expired);
        let r = accept(
            &b,
            BindingState::Expired,
            &lease(BindingState::Active, 1000),
            Role::Secondary,
            true,
            100,
        );
        assert_eq!(r.unwrap_err().0, RejectReason::FatalConflict);
        // Within the skew tolerance it is accepted, beyond it refused.
        let at = |ends| {
            accept(
                &b,
                BindingState::Expired,
                &lease(BindingState::Active, ends),
                Role::Secondary,
                true,
                100,
            )
        };
        assert!(at(100 + EXPIRY_FUDGE).is_ok());
        assert!(at(101 + EXPIRY_FUDGE).is_err());
    }

    #[test]
    fn primary_active_accepts_only_release_abandon_or_active() {
        let l = lease(BindingState::Active, 1000);
        for (s, ok) in [
            (BindingState::Free, false),
            (BindingState::Backup, false),
            (BindingState::Expired, false),
            (BindingState::Reset, false),
            (BindingState::Released, true),
            (BindingState::Abandoned, true),
            (BindingState::Active, true),
        ] {
            assert_eq!(
                normal_transition_ok(&l, s, 0, Role::Primary, 100),
                ok,
                "{s}"
            );
        }
    }

    #[test]
    fn conflict_table_protects_active() {
        let l = lease(BindingState::Active, 1000);
        assert!(!conflict_transition_ok(&l, BindingState::Free, 100));
        assert!(!conflict_transition_ok(&l, BindingState::Backup, 100));
        assert!(!conflict_transition_ok(&l, BindingState::Expired, 100));
        assert!(conflict_transition_ok(&l, BindingState::Expired, 1000));
        assert!(conflict_transition_ok(&l, BindingState::Released, 100));
        assert!(conflict_transition_ok(
            &lease(BindingState::Free, 0),
            BindingState::Active,
            100
        ));
    }

    #[test]
    fn dueling_rules() {
        use BindingState::*;
        let mut mine = lease(Active, 1000);
        mine.cltt = 50;
        mine.starts = 50;
        let c = |state, cltt, stos, ends| Contender {
            state,
            cltt,
            stos,
            ends,
        };
        assert!(incoming_wins(&mine, c(Active, 60, 60, 900), Role::Primary));
        assert!(!incoming_wins(&mine, c(Active, 40, 40, 900), Role::Primary));
        assert!(!incoming_wins(&mine, c(Active, 50, 50, 900), Role::Primary));
        assert!(incoming_wins(
            &mine,
            c(Active, 50, 50, 900),
            Role::Secondary
        ));
        // An expiry after our lease's end wins; before it, our lease wins.
        assert!(incoming_wins(
            &mine,
            c(Expired, 0, 1000, 1000),
            Role::Primary
        ));
        assert!(!incoming_wins(
            &mine,
            c(Expired, 0, 999, 999),
            Role::Primary
        ));
        // A release after our grant wins; before it, ours.
        assert!(incoming_wins(
            &mine,
            c(Released, 0, 60, 60),
            Role::Secondary
        ));
        assert!(!incoming_wins(
            &mine,
            c(Released, 0, 40, 40),
            Role::Secondary
        ));
        // Start-up: FREE against FREE, never used: the primary's.
        let free = lease(Free, 0);
        assert!(incoming_wins(&free, c(Active, 10, 10, 100), Role::Primary));
        assert!(!incoming_wins(&free, c(Free, 0, 0, 0), Role::Primary));
        assert!(incoming_wins(&free, c(Free, 0, 0, 0), Role::Secondary));
        // Symmetry: exactly one side wins.
        let mut expired = lease(Expired, 999);
        expired.starts = 999;
        assert_ne!(
            incoming_wins(&mine, c(Expired, 0, 999, 999), Role::Secondary),
            incoming_wins(&expired, c(Active, 50, 50, 1000), Role::Primary)
        );
    }
}
