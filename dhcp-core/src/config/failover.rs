//! The `failover` relationship, with ISC's parameter names and defaults.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

/// Which side of the relationship this server is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Holds the MCLT and the hash bucket assignment; owns FREE addresses.
    Primary,
    /// Learns MCLT and HBA from the primary; owns BACKUP addresses.
    Secondary,
}

/// How the hash buckets are split between the peers (primary only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadBalance {
    /// `split N`: buckets `0..N` are served by the primary (0..=256).
    Split(u16),
    /// `hba`: an explicit 32-byte bitmap; a set bit means the primary serves.
    Hba([u8; 32]),
}

impl LoadBalance {
    /// The 32-byte hash bucket assignment bitmap (bucket `b` is bit `1 << (b & 7)`
    /// of byte `b >> 3`; set means the primary serves).
    pub fn hba(&self) -> [u8; 32] {
        match self {
            Self::Hba(h) => *h,
            Self::Split(n) => {
                let mut h = [0u8; 32];
                for b in 0..usize::from((*n).min(256)) {
                    h[b >> 3] |= 1 << (b & 7);
                }
                h
            }
        }
    }
}

/// A failover relationship (ISC `failover peer "NAME" { ... }`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct FailoverConfig {
    /// Relationship name; must be identical on both peers.
    pub name: String,
    /// This server's role.
    pub role: Role,
    /// Local address: listen here and connect from here.
    pub address: Ipv4Addr,
    /// Local listen port.
    #[serde(default = "default_port")]
    pub port: u16,
    /// The partner's address.
    pub peer_address: Ipv4Addr,
    /// The partner's port.
    #[serde(default = "default_port")]
    pub peer_port: u16,
    /// Seconds without a message from the partner before the link is declared down.
    #[serde(default = "default_max_response_delay")]
    pub max_response_delay: u32,
    /// How many binding updates the partner may send us before waiting for acks.
    #[serde(default = "default_max_unacked_updates")]
    pub max_unacked_updates: u32,
    /// Maximum client lead time in seconds (primary only; the secondary learns it).
    #[serde(default)]
    pub mclt: Option<u32>,
    /// `split N` (primary only).
    #[serde(default)]
    pub split: Option<u16>,
    /// `hba` as 32 colon-separated hex bytes (primary only).
    #[serde(default)]
    pub hba: Option<String>,
    /// `load balance max seconds`: clients whose `secs` exceed this are answered by
    /// both peers. 0 disables load balancing.
    #[serde(default)]
    pub load_balance_max_seconds: u32,
    /// Seconds in COMMUNICATIONS-INTERRUPTED before going PARTNER-DOWN by itself. 0 = never.
    #[serde(default)]
    pub auto_partner_down: u32,
    /// Pool balance: tolerated misbalance, percent.
    #[serde(default = "default_max_lease_misbalance")]
    pub max_lease_misbalance: u32,
    /// Pool balance: share a server may keep beyond its half, percent.
    #[serde(default = "default_max_lease_ownership")]
    pub max_lease_ownership: u32,
    /// Pool balance: minimum seconds between balance runs.
    #[serde(default = "default_min_balance")]
    pub min_balance: u32,
    /// Pool balance: maximum seconds between balance runs.
    #[serde(default = "default_max_balance")]
    pub max_balance: u32,
    /// Fencing-aware automatic partner-down (`[failover.fencing]`; needs
    /// `auto_partner_down`): before taking over, check on the client link
    /// that the partner no longer answers clients.
    #[serde(default)]
    pub fencing: Option<FencingConfig>,
}

/// Fencing-aware partner-down: while the failover link is down, this server
/// sends the partner a relayed DHCPDISCOVER on the client link every
/// `interval` seconds and enters PARTNER-DOWN automatically only once the
/// partner has been silent on the failover link **and** to these probes for
/// `auto_partner_down` seconds. While the partner still answers, the server
/// stays in COMMUNICATIONS-INTERRUPTED and raises an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct FencingConfig {
    /// Our address on the client link: the probe's relay address (giaddr),
    /// where the partner sends its answer. Default: `address`. Set it when
    /// the failover link is a network of its own, or the answer would be
    /// routed over the broken link.
    #[serde(default)]
    pub probe_from: Option<Ipv4Addr>,
    /// The partner's address on the client link. Default: `peer_address`.
    #[serde(default)]
    pub probe_to: Option<Ipv4Addr>,
    /// Seconds between probes (and the wait for each answer).
    #[serde(default = "default_probe_interval")]
    pub interval: u32,
}

fn default_probe_interval() -> u32 {
    2
}

fn default_port() -> u16 {
    647
}
fn default_max_response_delay() -> u32 {
    20
}
fn default_max_unacked_updates() -> u32 {
    100
}
fn default_max_lease_misbalance() -> u32 {
    15
}
fn default_max_lease_ownership() -> u32 {
    10
}
fn default_min_balance() -> u32 {
    60
}
fn default_max_balance() -> u32 {
    3600
}

impl FailoverConfig {
    /// The load-balance assignment configured on a primary, if any.
    /// (Validation guarantees a primary has exactly one and a secondary none.)
    pub fn load_balance(&self) -> Option<LoadBalance> {
        if let Some(n) = self.split {
            return Some(LoadBalance::Split(n));
        }
        let text = self.hba.as_deref()?;
        let bytes = super::hex::parse_hex_bytes(text)?;
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(LoadBalance::Hba(arr))
    }

    /// Where the fencing probes go from and to (our client-link address,
    /// the partner's), if fencing is configured.
    pub fn fencing_probe(&self) -> Option<(Ipv4Addr, Ipv4Addr)> {
        let f = self.fencing.as_ref()?;
        Some((
            f.probe_from.unwrap_or(self.address),
            f.probe_to.unwrap_or(self.peer_address),
        ))
    }

    /// Whether this is the primary.
    pub fn is_primary(&self) -> bool {
        self.role == Role::Primary
    }
}
