//! The part of a peer's state that must survive a restart (issue 5 item 1).

use std::net::Ipv4Addr;

use dhcp_core::lease::UnixTime;
use serde::{Deserialize, Serialize};

use super::state::FailoverState;

/// What a peer needs after a restart, as ISC keeps it in its lease file
/// (`failover peer "NAME" state { my state ...; partner state ...; mclt ...; }`)
/// plus the addresses whose binding updates the partner has not acknowledged.
///
/// The daemon stores the latest value from [`super::Event::Persist`] (or
/// [`super::Peer::persisted`]) durably and hands it back to
/// [`super::Peer::new`] after a restart. Lease records themselves live in the
/// lease store; a lease whose `tstp > atsfp` is re-sent in any case when the
/// pair next enters NORMAL, so `pending_updates` is a hint that speeds that up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersistedState {
    /// My state (never STARTUP: the state to resume after STARTUP).
    pub my_state: FailoverState,
    /// When I entered `my_state` (STOS).
    pub my_stos: UnixTime,
    /// The partner's last known state.
    pub partner_state: FailoverState,
    /// When we learnt the partner's state (our clock, as ISC records it).
    pub partner_stos: UnixTime,
    /// The MCLT learnt from the primary's CONNECT (secondary only).
    pub mclt: Option<u32>,
    /// The hash bucket assignment learnt from the primary's CONNECT
    /// (secondary only).
    pub hba: Option<[u8; 32]>,
    /// Addresses with a binding update queued or sent but not acknowledged.
    pub pending_updates: Vec<Ipv4Addr>,
}

impl PersistedState {
    /// The lease store metadata key under which a daemon keeps the state of
    /// `relationship` (as JSON): `failover/NAME`.
    pub fn meta_key(relationship: &str) -> String {
        format!("failover/{relationship}")
    }

    /// The state of a relationship this server has never run before: RECOVER
    /// since `now`, partner unknown (reference §4.1). Such a server stays
    /// silent until it has synchronised with its partner.
    pub fn new_relationship(now: UnixTime) -> Self {
        Self {
            my_state: FailoverState::Recover,
            my_stos: now,
            partner_state: FailoverState::Unknown,
            partner_stos: now,
            mclt: None,
            hba: None,
            pending_updates: Vec::new(),
        }
    }
}
