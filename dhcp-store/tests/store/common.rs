//! Shared by the store tests.

use std::net::Ipv4Addr;

use dhcp_core::lease::{BindingState, ClientKey, HwAddr, Lease};

/// An active lease for store tests: client `02:00:` + the address, `ends`
/// and `cltt` set to `seq` (so a test can tell which write it sees).
pub fn active_lease(addr: Ipv4Addr, seq: u32) -> Lease {
    let mut l = Lease::new_free(addr, BindingState::Active);
    let o = addr.octets();
    l.client = Some(ClientKey::Hw(HwAddr::ethernet([
        2, 0, o[0], o[1], o[2], o[3],
    ])));
    l.ends = seq;
    l.cltt = seq;
    l
}
