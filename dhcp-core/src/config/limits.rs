//! `[limits]`: starvation limits on new clients (ISC and Kea have none).
//!
//! A flood of DISCOVERs from random MAC addresses makes every one a new
//! client: without limits each gets an offer that holds an address for
//! `offer_hold` seconds, and a few hundred drain a subnet. Limits apply only
//! to **new** clients (no lease record and no live offer): renewals, clients
//! coming back for their address and reserved hosts are never limited. Each
//! source kind has its own table:
//!
//! * `per_relay`: the relay agent (giaddr) a request came through;
//! * `per_link`: the shared network (link) it is for;
//! * `per_mac`: the client hardware address (one device cycling client
//!   identifiers).
//!
//! Each can cap the rate of new allocations (a token bucket:
//! `new_per_second`, `burst`) and the share of the link's dynamic addresses
//! that the new clients of one source may hold at once, offered or bound
//! (`max_share_percent`). What is refused is not answered and is counted
//! (`rate_limited`, `share_limited`).

use serde::{Deserialize, Serialize};

/// The `[limits]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Per relay agent address (giaddr); direct clients are not counted here.
    #[serde(default)]
    pub per_relay: Option<SourceLimit>,
    /// Per link (shared network).
    #[serde(default)]
    pub per_link: Option<SourceLimit>,
    /// Per client hardware address.
    #[serde(default)]
    pub per_mac: Option<SourceLimit>,
}

/// The limits for one kind of source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceLimit {
    /// New allocations per second one source may start (0: no rate limit).
    #[serde(default)]
    pub new_per_second: u32,
    /// How many it may start at once after a quiet spell (default: twice
    /// the rate, at least 1).
    #[serde(default)]
    pub burst: Option<u32>,
    /// Percent (1–100) of the link's dynamic addresses the new clients of
    /// one source may hold at once (none: no share limit).
    #[serde(default)]
    pub max_share_percent: Option<u8>,
}

impl SourceLimit {
    /// The token bucket size.
    pub fn bucket(&self) -> u32 {
        self.burst
            .unwrap_or(self.new_per_second.saturating_mul(2))
            .max(1)
    }
}

impl LimitsConfig {
    /// Whether any limit is configured.
    pub fn any(&self) -> bool {
        self.per_relay.is_some() || self.per_link.is_some() || self.per_mac.is_some()
    }

    /// Whether none is (the table is then left out when written).
    pub fn is_unset(&self) -> bool {
        !self.any()
    }
}
