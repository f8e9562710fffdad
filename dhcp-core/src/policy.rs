//! The seam between the DHCP engine and a failover relationship.
//!
//! The engine asks a [`LeasePolicy`] every question whose answer depends on the
//! failover state: whether to answer a client at all, which free addresses it may
//! allocate, how long a lease may run, and what state a lease moves to on expiry or
//! release. [`Standalone`] answers as a server with no partner does. The
//! `dhcp-failover` crate provides the implementation for a failover peer.

use crate::lease::{BindingState, Lease, UnixTime};
use crate::table::StateCounts;

/// What kind of client message a [`ServeQuery`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    /// DHCPDISCOVER (load balanced in failover NORMAL).
    Discover,
    /// DHCPREQUEST without a server identifier (INIT-REBOOT, RENEWING, REBINDING).
    RequestNoServerId,
    /// DHCPREQUEST in SELECTING, naming a server identifier.
    RequestSelecting,
    /// DHCPRELEASE, DHCPDECLINE or DHCPINFORM.
    Other,
}

/// The facts about an incoming message that decide whether this server answers it.
#[derive(Debug, Clone, Copy)]
pub struct ServeQuery<'a> {
    /// The message kind.
    pub kind: QueryKind,
    /// The load-balancing hash key: option 61 data if present, else `chaddr[..hlen]`.
    pub hash_key: &'a [u8],
    /// The BOOTP `secs` field as received (network byte order already decoded).
    pub secs: u16,
    /// Current time.
    pub now: UnixTime,
    /// Leases by binding state across the pools of the client's shared
    /// network (filled in for DISCOVERs only; zero otherwise): a failover
    /// peer answers a client the hash gives to its partner when the partner
    /// has no free leases there, as ISC does.
    pub network_counts: StateCounts,
    /// The client has a host reservation on its network. A reserved address
    /// lies outside every dynamic range, so no failover pool owns it and
    /// load balancing does not apply: both peers answer, as ISC's do for
    /// `fixed-address` hosts.
    pub reserved: bool,
}

/// The decisions a failover relationship makes for the engine.
///
/// Implementations must be cheap: the engine calls them on the per-packet path.
pub trait LeasePolicy {
    /// Whether this server answers the message at all (service state and load
    /// balancing).
    fn should_serve(&self, q: &ServeQuery<'_>) -> bool;

    /// Whether this server may hand `lease` (not currently bound to the asking
    /// client) to a client at `now`.
    fn may_allocate(&self, lease: &Lease, now: UnixTime) -> bool;

    /// Whether `lease`, whose record names the asking client, may go back to
    /// that client at `now`. By default: its own binding, even one just past
    /// its end that the timer has not moved on yet (a REBIND arriving at the
    /// lease's last moment), or whatever [`LeasePolicy::may_allocate`] allows.
    /// A failover policy also allows an EXPIRED or RELEASED address whose
    /// update the partner cannot have received (draft-ietf-dhc-failover-12
    /// §5.2.2), so that a client is not renumbered while the partner is away.
    fn may_return(&self, lease: &Lease, now: UnixTime) -> bool {
        lease.state == BindingState::Active || self.may_allocate(lease, now)
    }

    /// Whether the address is in this server's own free state (FREE for a
    /// primary or standalone server, BACKUP for a secondary). The allocator
    /// prefers these.
    fn own_free_state(&self) -> BindingState;

    /// The lease time to grant when `desired` seconds are wanted for `lease`
    /// (the MCLT clamp). `lease` is the record before this transaction.
    fn grant_time(&self, lease: &Lease, desired: u32, now: UnixTime) -> u32;

    /// Fills in the failover timestamps of a lease just acknowledged to a client
    /// for `granted` seconds out of `desired`.
    fn on_ack(&self, lease: &mut Lease, desired: u32, granted: u32, now: UnixTime);

    /// The state an ACTIVE lease moves to when it runs out, or `None` to leave it
    /// (a failover secondary in NORMAL waits for the primary).
    fn expiry_state(&self, lease: &Lease, now: UnixTime) -> Option<BindingState>;

    /// The state a lease moves to when its client releases it.
    fn release_state(&self, lease: &Lease) -> BindingState;

    /// When an EXPIRED, RELEASED or RESET lease may become free again without
    /// the partner's acknowledgement, or `None` if it must wait for one.
    fn reclaim_at(&self, lease: &Lease) -> Option<UnixTime>;
}

/// The policy of a server with no failover partner: it answers everyone, owns
/// every address, and frees leases as soon as they expire.
#[derive(Debug, Clone, Copy, Default)]
pub struct Standalone;

impl LeasePolicy for Standalone {
    fn should_serve(&self, _q: &ServeQuery<'_>) -> bool {
        true
    }

    fn may_allocate(&self, lease: &Lease, now: UnixTime) -> bool {
        match lease.state {
            BindingState::Free | BindingState::Backup => true,
            BindingState::Expired | BindingState::Released | BindingState::Reset => true,
            BindingState::Active => lease.ends <= now,
            BindingState::Abandoned => false,
        }
    }

    fn own_free_state(&self) -> BindingState {
        BindingState::Free
    }

    fn grant_time(&self, _lease: &Lease, desired: u32, _now: UnixTime) -> u32 {
        desired
    }

    fn on_ack(&self, lease: &mut Lease, _desired: u32, _granted: u32, _now: UnixTime) {
        lease.tstp = lease.ends;
        lease.tsfp = lease.ends;
        lease.atsfp = lease.ends;
    }

    fn expiry_state(&self, _lease: &Lease, _now: UnixTime) -> Option<BindingState> {
        Some(BindingState::Free)
    }

    fn release_state(&self, _lease: &Lease) -> BindingState {
        BindingState::Free
    }

    fn reclaim_at(&self, lease: &Lease) -> Option<UnixTime> {
        Some(lease.ends)
    }
}

/// The lease policies of a server, by failover relationship: the addresses of
/// a pool follow the policy of the relationship the pool names
/// (`failover_peer`), and pools naming none follow [`Standalone`] rules.
///
/// Any single [`LeasePolicy`] is a `Policies` that governs every pool alike;
/// [`ByRelationship`] holds one policy per relationship.
pub trait Policies {
    /// The policy for the pools of `relationship` (`None`: pools that name
    /// none, and addresses outside every pool).
    fn policy(&self, relationship: Option<&str>) -> &dyn LeasePolicy;
}

impl<P: LeasePolicy> Policies for P {
    fn policy(&self, _relationship: Option<&str>) -> &dyn LeasePolicy {
        self
    }
}

/// A policy behind a trait object (e.g. a `Box<dyn LeasePolicy>` an
/// embedder chooses at run time) governs every pool alike, as before
/// `Policies` existed.
impl Policies for dyn LeasePolicy + '_ {
    fn policy(&self, _relationship: Option<&str>) -> &dyn LeasePolicy {
        self
    }
}

/// One policy per failover relationship, by name; [`Standalone`] for pools
/// without one (what a server with several relationships, e.g. one per VLAN,
/// uses). A relationship it has no policy for gets [`Withheld`].
#[derive(Debug, Clone)]
pub struct ByRelationship<P> {
    relationships: Vec<(String, P)>,
}

impl<P> Default for ByRelationship<P> {
    fn default() -> Self {
        Self {
            relationships: Vec::new(),
        }
    }
}

impl<P: LeasePolicy> ByRelationship<P> {
    /// No relationships: every pool is standalone.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets (or replaces) the policy of relationship `name`.
    pub fn set(&mut self, name: &str, policy: P) {
        match self.relationships.iter_mut().find(|(n, _)| n == name) {
            Some((_, p)) => *p = policy,
            None => self.relationships.push((name.to_owned(), policy)),
        }
    }
}

impl<P: LeasePolicy> Policies for ByRelationship<P> {
    fn policy(&self, relationship: Option<&str>) -> &dyn LeasePolicy {
        match relationship {
            None => &Standalone,
            Some(name) => self
                .relationships
                .iter()
                .find(|(n, _)| n == name)
                .map_or(&Withheld as &dyn LeasePolicy, |(_, p)| p),
        }
    }
}

/// The policy of pools whose failover relationship is not running: nothing
/// is served from them and no lease in them expires, since without the
/// relationship this server cannot know which addresses are its own. (The
/// configuration check makes sure every relationship a pool names exists, so
/// this only guards against a caller that did not set one.)
#[derive(Debug, Clone, Copy, Default)]
pub struct Withheld;

impl LeasePolicy for Withheld {
    fn should_serve(&self, _q: &ServeQuery<'_>) -> bool {
        false
    }

    fn may_allocate(&self, _lease: &Lease, _now: UnixTime) -> bool {
        false
    }

    fn own_free_state(&self) -> BindingState {
        BindingState::Free
    }

    fn grant_time(&self, _lease: &Lease, _desired: u32, _now: UnixTime) -> u32 {
        0
    }

    fn on_ack(&self, _lease: &mut Lease, _desired: u32, _granted: u32, _now: UnixTime) {}

    fn expiry_state(&self, _lease: &Lease, _now: UnixTime) -> Option<BindingState> {
        None
    }

    fn release_state(&self, lease: &Lease) -> BindingState {
        lease.state
    }

    fn reclaim_at(&self, _lease: &Lease) -> Option<UnixTime> {
        None
    }
}
