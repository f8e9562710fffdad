//! What the engine task hands a control request's handler
//! ([`EngineContext`]), and the control API's view of a lease
//! ([`lease_info`]); shared by [`super::engine`] and [`super::lease_edit`].

use std::sync::Arc;

use dhcp_core::config::format_hex;
use dhcp_core::engine::Engine;
use dhcp_core::lease::Lease;
use dhcp_core::policy::Policies;
use dhcp_store::{GroupCommit, LeaseStore};

use super::protocol::LeaseInfo;
use crate::failover::driver::DurableNotifier;
use crate::ops::events::EventSink;
use crate::ops::omapi::backend::OmapiHosts;
use crate::serve::pool_stats::PoolGauges;

/// What a handler may use.
pub struct EngineContext<'a> {
    /// The engine.
    pub engine: &'a mut Engine,
    /// The lease policies (each relationship's, standalone for the rest).
    pub policies: &'a dyn Policies,
    /// The group commit in front of the store.
    pub commit: &'a GroupCommit,
    /// The store (for metadata).
    pub store: &'a Arc<dyn LeaseStore>,
    /// Lease events.
    pub events: &'a EventSink,
    /// Pool figures to refresh after changes.
    pub pools: &'a PoolGauges,
    /// The failover relationships, told of lease changes once they are
    /// durable (so that the partner hears of them at once); empty
    /// standalone.
    pub failover: Vec<DurableNotifier>,
    /// The hosts OMAPI created: in force, but never stored.
    pub omapi_hosts: &'a mut OmapiHosts,
}

/// A lease as the control API shows it.
pub fn lease_info(l: &Lease) -> LeaseInfo {
    LeaseInfo {
        ip: l.addr,
        state: l.state.name().to_owned(),
        mac: l.hw.as_ref().map(|h| format_hex(&h.addr)),
        client_id: l.client_id.as_deref().map(format_hex),
        hostname: l.hostname.clone(),
        starts: l.starts,
        ends: l.ends,
        cltt: l.cltt,
    }
}
