//! DHCP options as configured: the common ones typed, any other by code.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

/// Options at one scope (global, shared network, subnet, class or host).
/// Unset fields inherit from the enclosing scope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionSet {
    /// Option 1.
    #[serde(default)]
    pub subnet_mask: Option<Ipv4Addr>,
    /// Option 3.
    #[serde(default)]
    pub routers: Option<Vec<Ipv4Addr>>,
    /// Option 6.
    #[serde(default)]
    pub dns_servers: Option<Vec<Ipv4Addr>>,
    /// Option 15.
    #[serde(default)]
    pub domain_name: Option<String>,
    /// Option 119.
    #[serde(default)]
    pub domain_search: Option<Vec<String>>,
    /// Option 42.
    #[serde(default)]
    pub ntp_servers: Option<Vec<Ipv4Addr>>,
    /// Option 28.
    #[serde(default)]
    pub broadcast_address: Option<Ipv4Addr>,
    /// Option 26.
    #[serde(default)]
    pub mtu: Option<u16>,
    /// Any other option, by code.
    #[serde(default)]
    pub custom: Vec<CustomOption>,
}

/// An option given by code with a typed value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomOption {
    /// The option code (1..=254, excluding the ones the server controls).
    pub code: u8,
    /// The value.
    #[serde(flatten)]
    pub value: OptionValue,
}

/// A typed option value; `type` selects the encoding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
pub enum OptionValue {
    /// UTF-8 text, sent without a terminating NUL.
    Text(String),
    /// One IPv4 address.
    Ip(Ipv4Addr),
    /// A list of IPv4 addresses.
    Ips(Vec<Ipv4Addr>),
    /// One byte.
    U8(u8),
    /// Two bytes, big-endian.
    U16(u16),
    /// Four bytes, big-endian.
    U32(u32),
    /// One byte, 0 or 1.
    Bool(bool),
    /// Raw bytes written as hex (`01:02:0a` or `01020a`).
    Hex(String),
    /// Classless static routes (option 121, RFC 3442), each
    /// `"DEST/WIDTH via ROUTER"`.
    Routes(Vec<String>),
}

impl OptionValue {
    /// The option payload bytes, or `None` for malformed hex.
    pub fn to_bytes(&self) -> Option<Vec<u8>> {
        Some(match self {
            Self::Text(s) => s.as_bytes().to_vec(),
            Self::Ip(a) => a.octets().to_vec(),
            Self::Ips(v) => v.iter().flat_map(|a| a.octets()).collect(),
            Self::U8(b) => vec![*b],
            Self::U16(v) => v.to_be_bytes().to_vec(),
            Self::U32(v) => v.to_be_bytes().to_vec(),
            Self::Bool(b) => vec![u8::from(*b)],
            Self::Hex(h) => super::hex::parse_hex_bytes(h)?,
            Self::Routes(r) => super::rfc2132::encode_classless_routes(r)?,
        })
    }
}

/// Option codes the server sets itself; configuring them is an error.
pub const RESERVED_CODES: &[u8] = &[0, 50, 51, 52, 53, 54, 55, 57, 61, 82, 255];

/// The renewal (T1) and rebinding (T2) time options: configurable as `u32`
/// seconds, sent only while shorter than the lease they go with.
pub const TIMER_CODES: [u8; 2] = [58, 59];

impl OptionSet {
    /// `self` with unset options taken from `outer`. Custom options with the
    /// same code: the inner one wins.
    pub fn or(&self, outer: &OptionSet) -> OptionSet {
        let mut custom = self.custom.clone();
        for c in &outer.custom {
            if !custom.iter().any(|i| i.code == c.code) {
                custom.push(c.clone());
            }
        }
        OptionSet {
            subnet_mask: self.subnet_mask.or(outer.subnet_mask),
            routers: self.routers.clone().or_else(|| outer.routers.clone()),
            dns_servers: self
                .dns_servers
                .clone()
                .or_else(|| outer.dns_servers.clone()),
            domain_name: self
                .domain_name
                .clone()
                .or_else(|| outer.domain_name.clone()),
            domain_search: self
                .domain_search
                .clone()
                .or_else(|| outer.domain_search.clone()),
            ntp_servers: self
                .ntp_servers
                .clone()
                .or_else(|| outer.ntp_servers.clone()),
            broadcast_address: self.broadcast_address.or(outer.broadcast_address),
            mtu: self.mtu.or(outer.mtu),
            custom,
        }
    }
}
