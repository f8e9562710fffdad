//! The durable lease store of the DHCP server: the one part of the server's
//! state handling that touches the disk, threads and `unsafe` (`statvfs`), kept
//! apart from `dhcp-core`, which stays sans-IO.
//!
//! [`LeaseStore`] is the small interface the server needs; [`SledStore`] is the
//! implementation on `sled`, made durable per commit by a write-ahead
//! [`journal`] (one `write` + `fdatasync` per batch), with the records kept in
//! /24 [`blocks`] that are written to `sled` at checkpoints. [`GroupCommit`]
//! batches the commits of many transactions into one journal write (group
//! commit).
//!
//! Records are encoded once ([`encode_lease`]: a format byte, then postcard)
//! and the same bytes go to the journal and into the blocks.
//!
//! Start with the [`manual`]: concepts, invariants and how to embed.

#![warn(clippy::unwrap_used, clippy::expect_used)]

pub mod blocks;
mod error;
mod group;
pub mod journal;
mod lease_store;
pub mod manual;
mod record;
mod sled_store;

pub use error::StoreError;
pub use group::{BatchStats, Completion, GroupCommit};
pub use lease_store::LeaseStore;
pub use record::{decode_lease, encode_lease};
pub use sled_store::{SledStore, StoreOptions, WRITE_HEADROOM};

/// A lease for store tests: address 10.99.0.`i`, client 00:00:00:00:00:`i`.
#[cfg(test)]
fn test_lease(i: u8, state: dhcp_core::lease::BindingState, ends: u32) -> dhcp_core::lease::Lease {
    use dhcp_core::lease::{ClientKey, HwAddr, Lease};
    let mut l = Lease::new_free(std::net::Ipv4Addr::new(10, 99, 0, i), state);
    l.client = Some(ClientKey::Hw(HwAddr::ethernet([0, 0, 0, 0, 0, i])));
    l.ends = ends;
    l
}
