//! Lease records: one per address, with the binding states and timestamps ISC keeps.
//!
//! Every address in every configured pool has exactly one [`Lease`], whether it is
//! bound or not. The timestamps are the ones the failover protocol needs from day
//! one (`ends`, `tstp`, `tsfp`, `atsfp`, `cltt`); all are Unix seconds, `0` meaning
//! "unset", as on the failover wire.

use std::fmt;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

/// Unix time in whole seconds, as the failover protocol and ISC lease files use it.
pub type UnixTime = u32;

/// ISC's "infinite" lease expiry (`MAX_TIME`).
pub const INFINITE: UnixTime = 0x7fff_ffff;

/// The binding state of an address. The discriminants are the failover
/// protocol's binding-status codes (draft-ietf-dhc-failover-12 §12.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(u8)]
pub enum BindingState {
    /// Available; in a failover pair, owned by the primary.
    Free = 1,
    /// Bound to a client.
    Active = 2,
    /// The lease ran out and awaits the partner's agreement before reuse.
    Expired = 3,
    /// The client released the lease; awaits the partner's agreement.
    Released = 4,
    /// Unusable for a while (DECLINE or address conflict).
    Abandoned = 5,
    /// Freed administratively; awaits the partner's agreement.
    Reset = 6,
    /// Available; in a failover pair, owned by the secondary.
    Backup = 7,
}

impl BindingState {
    /// Every state, in wire-code order.
    pub const ALL: [BindingState; 7] = [
        Self::Free,
        Self::Active,
        Self::Expired,
        Self::Released,
        Self::Abandoned,
        Self::Reset,
        Self::Backup,
    ];

    /// The failover wire code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Parses a failover wire code.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => Self::Free,
            2 => Self::Active,
            3 => Self::Expired,
            4 => Self::Released,
            5 => Self::Abandoned,
            6 => Self::Reset,
            7 => Self::Backup,
            _ => return None,
        })
    }

    /// ISC's lease-file spelling.
    pub fn name(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Released => "released",
            Self::Abandoned => "abandoned",
            Self::Reset => "reset",
            Self::Backup => "backup",
        }
    }

    /// Whether an address in this state is available for allocation (by someone).
    pub fn is_free(self) -> bool {
        matches!(self, Self::Free | Self::Backup)
    }
}

impl fmt::Display for BindingState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A client hardware address: the BOOTP `htype` and `chaddr[..hlen]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HwAddr {
    /// ARP hardware type (1 = Ethernet).
    pub htype: u8,
    /// The address bytes (at most 16).
    pub addr: Vec<u8>,
}

impl HwAddr {
    /// An Ethernet (htype 1) address.
    pub fn ethernet(mac: [u8; 6]) -> Self {
        Self {
            htype: 1,
            addr: mac.to_vec(),
        }
    }
}

impl fmt::Display for HwAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.addr.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// How the server recognises a client: by option 61 when it sends one (and
/// `ignore-client-uids` is off), otherwise by its hardware address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ClientKey {
    /// The client identifier (option 61), complete with its type byte.
    ClientId(Vec<u8>),
    /// The hardware address.
    Hw(HwAddr),
}

impl ClientKey {
    /// Bytes that identify the key uniquely (used as a store index key).
    pub fn index_bytes(&self) -> Vec<u8> {
        match self {
            Self::ClientId(id) => {
                let mut v = Vec::with_capacity(id.len() + 1);
                v.push(b'i');
                v.extend_from_slice(id);
                v
            }
            Self::Hw(hw) => {
                let mut v = Vec::with_capacity(hw.addr.len() + 2);
                v.push(b'h');
                v.push(hw.htype);
                v.extend_from_slice(&hw.addr);
                v
            }
        }
    }
}

/// Lease flags carried in the failover protocol's IP-flags option.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LeaseFlags {
    /// The address is reserved (a pseudo-static lease).
    pub reserved: bool,
    /// The lease was given to a BOOTP client.
    pub bootp: bool,
}

/// The record of one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The address.
    pub addr: Ipv4Addr,
    /// Current binding state.
    pub state: BindingState,
    /// The client bound to it now, or the last one (kept for stickiness after expiry).
    pub client: Option<ClientKey>,
    /// The client's hardware address, if known.
    pub hw: Option<HwAddr>,
    /// The client's identifier (option 61), if it sent one.
    pub client_id: Option<Vec<u8>>,
    /// The client's host name (option 12), if it sent one.
    pub hostname: Option<String>,
    /// When the binding entered its current state (failover STOS).
    pub starts: UnixTime,
    /// Expiry told to the client.
    pub ends: UnixTime,
    /// Potential expiry last sent to the failover partner.
    pub tstp: UnixTime,
    /// Potential expiry the partner is known to hold.
    pub tsfp: UnixTime,
    /// Potential expiry the partner last acknowledged.
    pub atsfp: UnixTime,
    /// Last time the client talked to us.
    pub cltt: UnixTime,
    /// The last state the failover partner is known to have accepted.
    pub rewind_state: Option<BindingState>,
    /// Flags (reserved, BOOTP).
    pub flags: LeaseFlags,
}

impl Lease {
    /// A never-used address in `state` (all times zero, as ISC sends them).
    pub fn new_free(addr: Ipv4Addr, state: BindingState) -> Self {
        Self {
            addr,
            state,
            client: None,
            hw: None,
            client_id: None,
            hostname: None,
            starts: 0,
            ends: 0,
            tstp: 0,
            tsfp: 0,
            atsfp: 0,
            cltt: 0,
            rewind_state: None,
            flags: LeaseFlags::default(),
        }
    }

    /// Whether the lease is bound to `key` and still running at `now`.
    pub fn is_active_for(&self, key: &ClientKey, now: UnixTime) -> bool {
        self.state == BindingState::Active && self.client.as_ref() == Some(key) && self.ends > now
    }

    /// Seconds left until `ends`, saturating at zero.
    pub fn remaining(&self, now: UnixTime) -> u32 {
        self.ends.saturating_sub(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_states_are_listed_once_in_code_order() {
        for (i, s) in BindingState::ALL.iter().enumerate() {
            assert_eq!(usize::from(s.code()), i + 1);
            assert_eq!(BindingState::from_code(s.code()), Some(*s));
        }
        assert_eq!(BindingState::from_code(8), None);
    }
}
