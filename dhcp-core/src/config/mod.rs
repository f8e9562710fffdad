//! The configuration model (TOML, via serde) and its validation.
//!
//! A [`Config`] is only ever obtained through [`Config::from_toml`] (or
//! [`Config::load`]), which parses and then validates it: overlapping ranges,
//! ranges outside their subnet, duplicate reservations, failover parameters ISC
//! would reject and the like are refused with a [`ConfigError`] naming the key
//! path and the reason. `docs/config-example.toml` is an annotated example.

mod failover;
mod hex;
mod limits;
mod options;
mod pxe;
mod rfc2132;
mod validate;

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

pub use failover::{FailoverConfig, FencingConfig, LoadBalance, Role};
pub use hex::{format_hex, parse_hex_bytes, parse_mac};
use hex::{hex_serde, mac_serde};
pub use limits::{LimitsConfig, SourceLimit};
pub use options::{CustomOption, OptionSet, OptionValue, RESERVED_CODES, TIMER_CODES};
pub use pxe::{PxeConfig, PxeMatch, PxeRule, VendorOptions, VendorSuboption, maas_rules};

use crate::lease::HwAddr;

/// A configuration error: the key path where it was found and why it is wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The text is not valid TOML for this model.
    #[error("parse error: {0}")]
    Parse(#[from] toml::de::Error),
    /// The model is well formed but not acceptable.
    #[error("{path}: {reason}")]
    Invalid {
        /// Key path, such as `shared_networks[0].subnets[1].pools[0]`.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

impl ConfigError {
    pub(crate) fn invalid(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// For a model error found by a reader of another format: of `places`
    /// (model key paths, each with where it came from in the source), the
    /// one with the longest key path that contains the error's path, with
    /// the error's path and reason.
    pub fn locate<'a, T>(&self, places: &'a [(String, T)]) -> Option<(&'a T, &str, &str)> {
        let Self::Invalid { path, reason } = self else {
            return None;
        };
        places
            .iter()
            .filter(|(p, _)| {
                path.strip_prefix(p.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
            })
            .max_by_key(|(p, _)| p.len())
            .map(|(_, at)| (at, path.as_str(), reason.as_str()))
    }
}

/// The whole server configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Server-wide settings.
    #[serde(default)]
    pub server: ServerConfig,
    /// Global lease times (overridable per class, shared network, subnet and host).
    #[serde(default)]
    pub lease_time: LeaseTimes,
    /// Global options.
    #[serde(default)]
    pub options: OptionSet,
    /// Client classes.
    #[serde(default)]
    pub classes: Vec<ClassConfig>,
    /// Shared networks (groups of subnets on one link).
    #[serde(default)]
    pub shared_networks: Vec<SharedNetworkConfig>,
    /// Subnets that are alone on their link (each its own shared network).
    #[serde(default)]
    pub subnets: Vec<SubnetConfig>,
    /// Host reservations.
    #[serde(default)]
    pub hosts: Vec<HostConfig>,
    /// PXE boot-file selection.
    #[serde(default)]
    pub pxe: PxeConfig,
    /// Failover relationships.
    #[serde(default)]
    pub failover: Vec<FailoverConfig>,
    /// Starvation limits on new clients.
    #[serde(default, skip_serializing_if = "LimitsConfig::is_unset")]
    pub limits: LimitsConfig,
}

/// Server-wide settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Directory of the lease store.
    #[serde(default = "default_store")]
    pub store: PathBuf,
    /// Interfaces to serve (names). Empty means: those named by shared networks.
    #[serde(default)]
    pub interfaces: Vec<String>,
    /// Identify clients by hardware address only, ignoring option 61 (MAAS sets this).
    #[serde(default)]
    pub ignore_client_uids: bool,
    /// Seconds an offered address stays reserved for the client it was offered to.
    #[serde(default = "default_offer_hold")]
    pub offer_hold: u32,
    /// Seconds a declined address stays abandoned (ISC `abandon-lease-time`).
    #[serde(default = "default_abandon_time")]
    pub abandon_time: u32,
    /// Answer REQUESTs for addresses we do not know with a NAK (ISC `authoritative`).
    #[serde(default = "default_true")]
    pub authoritative: bool,
    /// Log level of the daemon (`error`, `warn`, `info`, `debug` or `trace`);
    /// the `--log-level` flag overrides it.
    #[serde(default)]
    pub log_level: Option<String>,
    /// Where to keep a view of the leases in ISC's dhcpd.leases(5) format
    /// (ISC's `-lf`), for tools that read ISC's file; none by default. The
    /// store stays the only record that counts.
    #[serde(default)]
    pub lease_file: Option<PathBuf>,
    /// Return a client's identifier (option 61) in every reply, as RFC 6842
    /// asks and Kea does; ISC dhcpd does so only with `echo-client-id true`.
    #[serde(default = "default_true")]
    pub echo_client_id: bool,
    /// Send a subnet's broadcast address (option 28, when requested)
    /// derived from the subnet when none is configured, as ISC dhcpd does;
    /// Kea sends it only when configured (a Kea file read by `dhcp-kea`
    /// sets `false`).
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub derive_broadcast_address: bool,
    /// Send configured T1 and T2 (options 58 and 59) even to clients whose
    /// parameter request list does not ask for them, as Kea does (a Kea
    /// file read by `dhcp-kea` sets `true`); by default they go, like any
    /// option, only to clients that ask.
    #[serde(default, skip_serializing_if = "is_false")]
    pub always_send_timers: bool,
}

fn default_store() -> PathBuf {
    PathBuf::from("/var/lib/dhcpd/leases")
}
fn default_offer_hold() -> u32 {
    30
}
fn default_abandon_time() -> u32 {
    86_400
}
fn default_true() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}
fn is_false(b: &bool) -> bool {
    !*b
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            store: default_store(),
            interfaces: Vec::new(),
            ignore_client_uids: false,
            offer_hold: default_offer_hold(),
            abandon_time: default_abandon_time(),
            authoritative: true,
            log_level: None,
            lease_file: None,
            echo_client_id: true,
            derive_broadcast_address: true,
            always_send_timers: false,
        }
    }
}

/// Lease times in seconds. Unset fields inherit from the enclosing scope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaseTimes {
    /// Granted when the client asks for no particular time.
    pub default: Option<u32>,
    /// Upper bound on what a client may ask for.
    pub max: Option<u32>,
    /// Lower bound on what a client may ask for.
    pub min: Option<u32>,
}

impl LeaseTimes {
    /// `self` with unset fields taken from `outer`.
    pub fn or(self, outer: LeaseTimes) -> LeaseTimes {
        LeaseTimes {
            default: self.default.or(outer.default),
            max: self.max.or(outer.max),
            min: self.min.or(outer.min),
        }
    }

    /// The lease time for a client that asked for `requested` seconds (option 51).
    pub fn choose(&self, requested: Option<u32>) -> u32 {
        let default = self.default.unwrap_or(DEFAULT_LEASE_TIME);
        let max = self.max.unwrap_or(default.max(DEFAULT_MAX_LEASE_TIME));
        let min = self.min.unwrap_or(0).min(max);
        match requested {
            Some(r) => r.clamp(min, max),
            None => default.clamp(min, max),
        }
    }
}

/// ISC's default `default-lease-time`.
pub const DEFAULT_LEASE_TIME: u32 = 43_200;
/// ISC's default `max-lease-time`.
pub const DEFAULT_MAX_LEASE_TIME: u32 = 86_400;

/// A client class, matched on what the client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassConfig {
    /// Class name (for logs).
    pub name: String,
    /// Matches clients whose vendor class (option 60) starts with this text.
    #[serde(default)]
    pub vendor_class_prefix: Option<String>,
    /// Matches clients whose user class (option 77) equals this text.
    #[serde(default)]
    pub user_class: Option<String>,
    /// Lease times for members.
    #[serde(default)]
    pub lease_time: LeaseTimes,
    /// Options for members.
    #[serde(default)]
    pub options: OptionSet,
}

/// A shared network: the subnets on one link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedNetworkConfig {
    /// Name (for logs).
    pub name: String,
    /// The local interface on this link, if the link is directly attached.
    #[serde(default)]
    pub interface: Option<String>,
    /// Lease times for the whole network.
    #[serde(default)]
    pub lease_time: LeaseTimes,
    /// Options for the whole network.
    #[serde(default)]
    pub options: OptionSet,
    /// The subnets.
    pub subnets: Vec<SubnetConfig>,
}

/// A subnet and its pools.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubnetConfig {
    /// The network, e.g. `10.99.0.0/24`.
    pub subnet: Ipv4Net,
    /// The local interface, for a subnet alone on its link.
    #[serde(default)]
    pub interface: Option<String>,
    /// BOOTP `siaddr` (next server); also substituted for `{server}` in PXE rules.
    #[serde(default)]
    pub next_server: Option<Ipv4Addr>,
    /// Override of `server.ignore_client_uids` for this subnet.
    #[serde(default)]
    pub ignore_client_uids: Option<bool>,
    /// Lease times for the subnet.
    #[serde(default)]
    pub lease_time: LeaseTimes,
    /// Options for the subnet. The subnet mask and broadcast address are
    /// derived from `subnet` unless set.
    #[serde(default)]
    pub options: OptionSet,
    /// Apply the PXE boot policy to clients of this subnet.
    #[serde(default = "default_true")]
    pub pxe: bool,
    /// Seconds a declined address of this subnet stays abandoned (the
    /// decline probation period; default `server.abandon_time`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abandon_time: Option<u32>,
    /// Dynamic ranges.
    #[serde(default)]
    pub pools: Vec<PoolConfig>,
}

/// A dynamic range of addresses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolConfig {
    /// First address.
    pub start: Ipv4Addr,
    /// Last address (inclusive).
    pub end: Ipv4Addr,
    /// The failover relationship that shares this pool, by name.
    #[serde(default)]
    pub failover_peer: Option<String>,
}

impl PoolConfig {
    /// Number of addresses in the range.
    pub fn len(&self) -> u64 {
        u64::from(u32::from(self.end)).saturating_sub(u64::from(u32::from(self.start))) + 1
    }

    /// Whether the range is empty (never, once validated).
    pub fn is_empty(&self) -> bool {
        u32::from(self.end) < u32::from(self.start)
    }

    /// Whether `addr` is in the range.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        (u32::from(self.start)..=u32::from(self.end)).contains(&u32::from(addr))
    }

    /// The addresses of the range.
    pub fn addresses(&self) -> impl Iterator<Item = Ipv4Addr> + use<> {
        (u32::from(self.start)..=u32::from(self.end)).map(Ipv4Addr::from)
    }
}

/// A host reservation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// Name (for logs and the control API).
    pub name: String,
    /// Ethernet address, `aa:bb:cc:dd:ee:ff`.
    #[serde(default, with = "mac_serde", skip_serializing_if = "Option::is_none")]
    pub mac: Option<HwAddr>,
    /// Client identifier (option 61) as hex bytes, `01:aa:bb:...`.
    #[serde(default, with = "hex_serde", skip_serializing_if = "Option::is_none")]
    pub client_id: Option<Vec<u8>>,
    /// The fixed address.
    pub address: Ipv4Addr,
    /// Boot file for this host (overrides the PXE policy).
    #[serde(default)]
    pub boot_file: Option<String>,
    /// Next server for this host.
    #[serde(default)]
    pub next_server: Option<Ipv4Addr>,
    /// Lease times for this host.
    #[serde(default)]
    pub lease_time: LeaseTimes,
    /// Options for this host.
    #[serde(default)]
    pub options: OptionSet,
}

impl Config {
    /// Parses and validates TOML text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let cfg: Config = toml::from_str(text)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Reads, parses and validates a file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// Validates the model (called by the constructors; public for configs built in code).
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate::validate(self)
    }

    /// All subnets with their shared-network index and key path, in order.
    pub fn all_subnets(&self) -> Vec<SubnetRef<'_>> {
        let mut out = Vec::new();
        for (ni, net) in self.shared_networks.iter().enumerate() {
            for (si, s) in net.subnets.iter().enumerate() {
                out.push(SubnetRef {
                    network: Some(net),
                    network_index: ni,
                    subnet: s,
                    path: format!("shared_networks[{ni}].subnets[{si}]"),
                });
            }
        }
        let base = self.shared_networks.len();
        for (si, s) in self.subnets.iter().enumerate() {
            out.push(SubnetRef {
                network: None,
                network_index: base + si,
                subnet: s,
                path: format!("subnets[{si}]"),
            });
        }
        out
    }

    /// The failover relationship named `name`.
    pub fn failover_peer(&self, name: &str) -> Option<&FailoverConfig> {
        self.failover.iter().find(|f| f.name == name)
    }
}

/// A subnet as found in the configuration, with its context.
#[derive(Debug, Clone)]
pub struct SubnetRef<'a> {
    /// The shared network it belongs to (`None` for a top-level subnet).
    pub network: Option<&'a SharedNetworkConfig>,
    /// Index of its shared network (top-level subnets get indexes after the
    /// configured shared networks).
    pub network_index: usize,
    /// The subnet.
    pub subnet: &'a SubnetConfig,
    /// Its key path.
    pub path: String,
}
