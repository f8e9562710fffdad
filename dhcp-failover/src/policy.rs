//! The engine's view of a failover relationship: [`FailoverPolicy`], a cheap
//! snapshot of a [`crate::peer::Peer`] implementing
//! [`dhcp_core::policy::LeasePolicy`] (reference §4.2, §6.2, §6.8).
//!
//! Two deliberate differences from ISC:
//! * ISC's "rewind" optimisation (reusing an EXPIRED/RELEASED address at once
//!   when the partner last accepted it in our free state) is **not applied**:
//!   it is only safe if the rewind state is made durable before the binding
//!   update is sent (ISC updates it right before transmitting), and after a
//!   crash a stale rewind state frees an address the partner has since renewed
//!   to its client (found by the simulator). Such addresses wait for the
//!   partner's acknowledgement or PARTNER-DOWN, as before ISC 4.3.
//! * In PARTNER-DOWN an address in transition is reclaimed at
//!   `max(ends, STOS + MCLT, tsfp + MCLT)` instead of ISC's "tsfp := STOS +
//!   MCLT on entry": a partner's client may hold a lease up to MCLT past the
//!   potential expiry we acknowledged.

use dhcp_core::config::Role;
use dhcp_core::lease::{BindingState, INFINITE, Lease, UnixTime};
use dhcp_core::policy::{LeasePolicy, QueryKind, ServeQuery};

use crate::hash::LoadBalancer;
use crate::peer::balance::{own_free, peer_free};
use crate::peer::state::FailoverState;

/// A snapshot of the failover facts the engine's decisions depend on. Take a
/// new one from [`crate::peer::Peer::policy`] after every peer event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailoverPolicy {
    /// This server's role.
    pub role: Role,
    /// My failover state.
    pub state: FailoverState,
    /// The partner's last known state.
    pub partner_state: FailoverState,
    /// The start time of my state.
    pub stos: UnixTime,
    /// The MCLT in force.
    pub mclt: u32,
    /// The load-balancing decision for DISCOVERs in NORMAL.
    pub balancer: LoadBalancer,
    /// Since when no binding update can have reached the partner: the
    /// failover link has been down since then (or since this peer started), so
    /// no update of a change made after it has been sent;
    /// `None` while it is up.
    pub unsent_since: Option<UnixTime>,
    /// Until when the partner is short of free addresses by its own word
    /// (it sent POOLREQ, and has not yet acknowledged every address we gave
    /// it since): the hash's clients of the partner are answered here
    /// meanwhile, as ISC answers them when it sees the partner without free
    /// leases.
    pub partner_short_until: Option<UnixTime>,
    /// The operator announced the partner's maintenance (Kea's
    /// `ha-maintenance-start`): every client is answered here.
    pub partner_maintenance: bool,
}

impl FailoverPolicy {
    /// Whether this server answers clients at all in its current state and
    /// the partner's (reference §4.2, including "peer demands: recovering").
    pub fn responsive(&self) -> bool {
        self.state.service().responsive() && !self.partner_state.silences_partner()
    }

    /// When, in PARTNER-DOWN, the partner's free address `lease` (or an
    /// address in transition) can no longer be in use by a partner's client:
    /// its lease ends at most MCLT after the potential expiry we know, and the
    /// partner cannot have handed out anything more than MCLT past our STOS.
    fn partner_down_safe_at(&self, lease: &Lease) -> UnixTime {
        lease
            .ends
            .max(self.stos.saturating_add(self.mclt))
            .max(lease.tsfp.saturating_add(self.mclt))
    }
}

impl LeasePolicy for FailoverPolicy {
    fn should_serve(&self, q: &ServeQuery<'_>) -> bool {
        if !self.responsive() {
            return false;
        }
        match (self.state, q.kind) {
            // The hash gives the client to the partner, unless the partner
            // has nothing to offer on its network (ISC: "cancel load balance
            // to peer - no free leases"; also while it says it is short,
            // before its updates have shown us), or the client has a
            // reservation.
            (FailoverState::Normal, QueryKind::Discover) => {
                q.reserved
                    || self.balancer.is_mine(q.hash_key, q.secs)
                    || q.network_counts.get(peer_free(self.role)) == 0
                    || self.partner_short_until.is_some_and(|t| q.now < t)
                    || self.partner_maintenance
            }
            _ => true,
        }
    }

    fn may_allocate(&self, lease: &Lease, now: UnixTime) -> bool {
        let pd = self.state == FailoverState::PartnerDown;
        let own = own_free(self.role);
        let theirs = peer_free(self.role);
        match lease.state {
            BindingState::Active => false,
            // A declined address stays out of use until its abandon time ends.
            BindingState::Abandoned if lease.ends > now => false,
            s if s == own => true,
            BindingState::Abandoned if self.role == Role::Primary => true,
            s if s == theirs || s == BindingState::Abandoned => {
                pd && now > lease.tsfp.max(self.stos).saturating_add(self.mclt)
            }
            _ => pd && now >= self.partner_down_safe_at(lease),
        }
    }

    /// The asking client's own binding (running or lapsed), or its EXPIRED
    /// or RELEASED address when the update that announced the change cannot
    /// have been sent: the change (`ends`) came after the link went down and
    /// it has stayed down since (draft-12 §5.2.2: "MAY reallocate … to the
    /// same client … provided it has not sent a BNDUPD"). The partner cannot
    /// have freed the address without that update, so the client keeps its
    /// address instead of being renumbered while its partner is away (as
    /// ISC's secondary keeps it).
    ///
    /// A binding made again this way does not lean on the potential expiry
    /// the partner acknowledged for the old one: the engine clears `tsfp`
    /// on a binding made anew, and [`LeasePolicy::grant_time`] gives a
    /// lapsed or new binding at most MCLT.
    fn may_return(&self, lease: &Lease, now: UnixTime) -> bool {
        match lease.state {
            BindingState::Active => true,
            BindingState::Expired | BindingState::Released => {
                self.unsent_since.is_some_and(|t| lease.ends > t) || self.may_allocate(lease, now)
            }
            _ => self.may_allocate(lease, now),
        }
    }

    fn own_free_state(&self) -> BindingState {
        own_free(self.role)
    }

    fn grant_time(&self, lease: &Lease, desired: u32, now: UnixTime) -> u32 {
        let m = self.mclt;
        if desired <= m {
            return desired;
        }
        // Only a running binding may lean on the partner's acknowledged
        // potential expiry: once it has ended, the partner may have retracted
        // it (a release it saw while we did not), so a lapsed or new binding
        // gets MCLT, never more (stricter than ISC; found by the simulator).
        // What the partner acknowledged for this binding: `tsfp`, unless the
        // binding was made anew and not acknowledged yet (`atsfp` cleared).
        let acked = lease.tsfp.min(lease.atsfp);
        if acked <= now || lease.state != BindingState::Active || lease.ends <= now {
            m
        } else if u64::from(now) + u64::from(desired) > u64::from(acked) + u64::from(m) {
            (acked - now).saturating_add(m)
        } else {
            desired
        }
    }

    fn on_ack(&self, lease: &mut Lease, desired: u32, granted: u32, now: UnixTime) {
        let tstp = if desired >= INFINITE || lease.ends >= INFINITE {
            INFINITE
        } else {
            let t = u64::from(now) + u64::from(desired) + u64::from(granted / 2);
            t.min(u64::from(INFINITE)) as UnixTime
        };
        lease.tstp = tstp;
        if tstp < lease.tsfp {
            lease.tsfp = tstp;
        }
    }

    fn expiry_state(&self, _lease: &Lease, _now: UnixTime) -> Option<BindingState> {
        match self.state {
            FailoverState::Normal if self.role == Role::Secondary => None,
            // Until we know where we stand, keep what the partner may have
            // renewed meanwhile (and the potential expiry it relies on).
            FailoverState::Startup => None,
            _ => Some(BindingState::Expired),
        }
    }

    fn release_state(&self, _lease: &Lease) -> BindingState {
        BindingState::Released
    }

    fn reclaim_at(&self, lease: &Lease) -> Option<UnixTime> {
        match self.state {
            FailoverState::PartnerDown => Some(self.partner_down_safe_at(lease)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dhcp_core::table::StateCounts;
    use std::net::Ipv4Addr;

    fn policy(role: Role, state: FailoverState) -> FailoverPolicy {
        let mut hba = [0u8; 32];
        hba[..16].fill(0xff);
        FailoverPolicy {
            role,
            state,
            partner_state: FailoverState::Normal,
            stos: 1000,
            mclt: 3600,
            balancer: LoadBalancer::new(role, Some(hba), 3),
            unsent_since: None,
            partner_short_until: None,
            partner_maintenance: false,
        }
    }

    fn lease(state: BindingState, tsfp: UnixTime) -> Lease {
        let mut l = Lease::new_free(Ipv4Addr::new(10, 99, 0, 1), state);
        l.tsfp = tsfp;
        l.atsfp = tsfp;
        l
    }

    #[test]
    fn mclt_clamp_is_isc_formula() {
        let p = policy(Role::Primary, FailoverState::Normal);
        // Short leases are never clamped.
        assert_eq!(p.grant_time(&lease(BindingState::Free, 0), 600, 2000), 600);
        // Nothing acked: MCLT.
        assert_eq!(
            p.grant_time(&lease(BindingState::Free, 0), 7200, 2000),
            3600
        );
        // Acked potential expiry far enough: the full time.
        let mut running = lease(BindingState::Active, 9000);
        running.ends = 2500;
        assert_eq!(p.grant_time(&running, 7200, 2000), 7200);
        // Acked potential expiry close: tsfp - now + MCLT.
        running.tsfp = 3000;
        assert_eq!(p.grant_time(&running, 7200, 2000), 4600);
        // A lapsed binding does not lean on its old potential expiry.
        running.ends = 2000;
        assert_eq!(p.grant_time(&running, 7200, 2000), 3600);
    }

    #[test]
    fn on_ack_sets_tstp_and_lowers_tsfp() {
        let p = policy(Role::Primary, FailoverState::Normal);
        let mut l = lease(BindingState::Active, 100_000);
        p.on_ack(&mut l, 7200, 3600, 2000);
        assert_eq!(l.tstp, 2000 + 7200 + 1800);
        assert_eq!(l.tsfp, l.tstp);
    }

    #[test]
    fn a_client_gets_back_an_address_whose_change_the_partner_never_heard_of() {
        // The secondary lost its link at 2000 and has been out of contact since.
        let mut p = policy(Role::Secondary, FailoverState::CommunicationsInterrupted);
        p.unsent_since = Some(2000);
        let mut expired = lease(BindingState::Expired, 2100);
        expired.ends = 2050; // expired here after the link went down
        // Even while the potential expiry the partner acknowledged runs (the
        // engine makes the binding anew, without it).
        assert!(p.may_return(&expired, 2060));
        assert!(p.may_return(&expired, 2100));
        // Never to another client: that is may_allocate's question.
        assert!(!p.may_allocate(&expired, 2100));
        // Changed before the link went down: the update may have been sent
        // and acknowledged, so the partner may have freed the address.
        expired.ends = 1990;
        assert!(!p.may_return(&expired, 5000));
        // In contact again: every change may have reached the partner.
        expired.ends = 2050;
        p.unsent_since = None;
        assert!(!p.may_return(&expired, 5000));
        // The client's own binding, just past its end and not yet expired by
        // the timer; and a lapsed binding gets MCLT at most.
        let mut lapsed = lease(BindingState::Active, 9000);
        lapsed.ends = 2050;
        assert!(p.may_return(&lapsed, 2060));
        assert_eq!(p.grant_time(&lapsed, 7200, 2060), 3600);
    }

    #[test]
    fn ownership_table() {
        let normal = policy(Role::Primary, FailoverState::Normal);
        let sec = policy(Role::Secondary, FailoverState::Normal);
        let pd = policy(Role::Secondary, FailoverState::PartnerDown);
        assert!(normal.may_allocate(&lease(BindingState::Free, 0), 2000));
        assert!(!normal.may_allocate(&lease(BindingState::Backup, 0), 2000));
        assert!(sec.may_allocate(&lease(BindingState::Backup, 0), 2000));
        assert!(!sec.may_allocate(&lease(BindingState::Free, 0), 2000));
        // Secondary in PARTNER-DOWN takes FREE only after STOS + MCLT.
        assert!(!pd.may_allocate(&lease(BindingState::Free, 0), 4600));
        assert!(pd.may_allocate(&lease(BindingState::Free, 0), 4601));
        assert!(!pd.may_allocate(&lease(BindingState::Free, 5000), 8600));
        assert!(pd.may_allocate(&lease(BindingState::Free, 5000), 8601));
        // No rewind: an expired address waits for the partner (or PARTNER-DOWN).
        let mut e = lease(BindingState::Expired, 0);
        e.rewind_state = Some(BindingState::Free);
        assert!(!normal.may_allocate(&e, 2000));
        assert!(!normal.may_allocate(&lease(BindingState::Active, 0), 2000));
    }

    #[test]
    fn answers_for_the_partner_only_when_the_partner_has_nothing_free() {
        // Bucket 254 (the all-zero MAC) is the secondary's under this split.
        let query = |counts: StateCounts| ServeQuery {
            kind: QueryKind::Discover,
            hash_key: &[0, 0, 0, 0, 0, 0],
            secs: 0,
            now: 0,
            network_counts: counts,
            reserved: false,
        };
        let primary = policy(Role::Primary, FailoverState::Normal);
        let secondary = policy(Role::Secondary, FailoverState::Normal);
        let both = StateCounts {
            free: 10,
            backup: 10,
            ..Default::default()
        };
        assert!(!primary.should_serve(&query(both)));
        assert!(secondary.should_serve(&query(both)));
        // The secondary has no BACKUP leases left: the primary answers.
        let no_backup = StateCounts {
            free: 10,
            ..Default::default()
        };
        assert!(primary.should_serve(&query(no_backup)));
        // A client of the primary's, and the primary has FREE leases: the
        // secondary stays silent; with none left it answers.
        let mine = |counts| ServeQuery {
            hash_key: &[0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff],
            ..query(counts)
        };
        assert!(!secondary.should_serve(&mine(both)));
        let no_free = StateCounts {
            backup: 10,
            ..Default::default()
        };
        assert!(secondary.should_serve(&mine(no_free)));
        // A client with a reservation is answered by both.
        let reserved = ServeQuery {
            reserved: true,
            ..mine(both)
        };
        assert!(secondary.should_serve(&reserved));
        assert!(primary.should_serve(&reserved));
        // Only DISCOVERs are balanced; outside NORMAL nothing is.
        let cint = policy(Role::Primary, FailoverState::CommunicationsInterrupted);
        assert!(cint.should_serve(&query(both)));
        // The partner said it is short (POOLREQ): its clients are answered
        // here until then, whatever our counts say.
        let told = FailoverPolicy {
            partner_short_until: Some(10),
            ..primary.clone()
        };
        assert!(told.should_serve(&ServeQuery {
            now: 9,
            ..query(both)
        }));
        assert!(!told.should_serve(&ServeQuery {
            now: 10,
            ..query(both)
        }));
        // The partner's maintenance was announced: every client is answered.
        assert!(!secondary.should_serve(&mine(both)));
        let maint = FailoverPolicy {
            partner_maintenance: true,
            ..secondary.clone()
        };
        assert!(maint.should_serve(&mine(both)));
    }

    #[test]
    fn silent_states() {
        for s in FailoverState::ALL {
            let p = policy(Role::Primary, s);
            let q = ServeQuery {
                kind: QueryKind::RequestNoServerId,
                hash_key: b"x",
                secs: 0,
                now: 0,
                network_counts: Default::default(),
                reserved: true,
            };
            assert_eq!(p.should_serve(&q), s.service().responsive(), "{s}");
        }
        let mut p = policy(Role::Primary, FailoverState::Normal);
        p.partner_state = FailoverState::PotentialConflict;
        assert!(!p.responsive());
    }

    #[test]
    fn secondary_in_normal_leaves_expiry_to_the_primary() {
        let l = lease(BindingState::Active, 0);
        assert_eq!(
            policy(Role::Secondary, FailoverState::Normal).expiry_state(&l, 0),
            None
        );
        assert_eq!(
            policy(Role::Primary, FailoverState::Normal).expiry_state(&l, 0),
            Some(BindingState::Expired)
        );
    }
}
