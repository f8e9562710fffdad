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

#![warn(clippy::unwrap_used, clippy::expect_used)]

pub mod blocks;
mod group;
pub mod journal;
mod sled_store;

pub use group::{BatchStats, Completion, GroupCommit};
pub use sled_store::{SledStore, StoreOptions, WRITE_HEADROOM};

use dhcp_core::lease::{Lease, UnixTime};

/// Record format version byte, first byte of every stored lease value.
const FORMAT: u8 = 1;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error (I/O or corruption).
    #[error("lease database error: {0}")]
    Db(#[from] sled::Error),
    /// The commit journal could not be read or written.
    #[error("lease journal error: {0}")]
    Journal(#[from] journal::JournalError),
    /// A checkpoint (database flush) failed, so the journal cannot be reused.
    #[error("lease database checkpoint failed: {0}")]
    Checkpoint(String),
    /// A stored record could not be decoded.
    #[error("corrupt lease record for key {key:02x?}: {reason}")]
    Corrupt {
        /// The record's key.
        key: Vec<u8>,
        /// What was wrong.
        reason: String,
    },
    /// A record could not be encoded.
    #[error("cannot encode lease record: {0}")]
    Encode(String),
    /// The file system holding the store has too little room for a
    /// database write, which is not attempted (see [`WRITE_HEADROOM`]); it is
    /// retried later.
    #[error("too little free space for the lease database: {free} bytes free, {needed} needed")]
    NoSpace {
        /// Bytes free.
        free: u64,
        /// Bytes the write needs free.
        needed: u64,
    },
    /// The database reported an error earlier and is not used again until
    /// the process restarts; the journal keeps every record meanwhile.
    #[error("the lease database failed earlier ({0}); restart once the cause is fixed")]
    Failed(String),
    /// The group-commit worker has stopped.
    #[error("the store worker has stopped")]
    Closed,
}

/// What the server needs from durable storage.
pub trait LeaseStore: Send + Sync {
    /// Writes the records and returns only once they are durable.
    fn commit(&self, leases: &[Lease]) -> Result<(), StoreError>;
    /// Every stored record.
    fn load(&self) -> Result<Vec<Lease>, StoreError>;
    /// Stores a metadata value durably.
    fn put_meta(&self, name: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Reads a metadata value.
    fn get_meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Removes records that carry nothing worth keeping: free leases whose
    /// last use ended before `before`. Returns how many were removed.
    fn compact(&self, before: UnixTime) -> Result<usize, StoreError>;
    /// Background writes (checkpoints) that failed since the store was
    /// opened; each is retried, and commits stay durable meanwhile. A store
    /// without background writes reports 0.
    fn checkpoint_failures(&self) -> u64 {
        0
    }
}

/// Encodes a lease record (format byte + postcard).
pub fn encode_lease(l: &Lease) -> Result<Vec<u8>, StoreError> {
    let mut v = vec![FORMAT];
    let body = postcard::to_stdvec(l).map_err(|e| StoreError::Encode(e.to_string()))?;
    v.extend(body);
    Ok(v)
}

/// Decodes a lease record.
pub fn decode_lease(key: &[u8], v: &[u8]) -> Result<Lease, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        key: key.to_vec(),
        reason,
    };
    match v.split_first() {
        Some((&FORMAT, body)) => postcard::from_bytes(body).map_err(|e| corrupt(e.to_string())),
        Some((f, _)) => Err(corrupt(format!("unknown format {f}"))),
        None => Err(corrupt("empty record".into())),
    }
}

/// A lease for store tests: address 10.99.0.`i`, client 00:00:00:00:00:`i`.
#[cfg(test)]
fn test_lease(i: u8, state: dhcp_core::lease::BindingState, ends: u32) -> Lease {
    use dhcp_core::lease::{ClientKey, HwAddr};
    let mut l = Lease::new_free(std::net::Ipv4Addr::new(10, 99, 0, i), state);
    l.client = Some(ClientKey::Hw(HwAddr::ethernet([0, 0, 0, 0, 0, i])));
    l.ends = ends;
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_record_is_a_typed_error() {
        assert!(matches!(
            decode_lease(b"a", &[9, 1, 2]),
            Err(StoreError::Corrupt { .. })
        ));
        assert!(matches!(
            decode_lease(b"a", &[FORMAT, 0xff]),
            Err(StoreError::Corrupt { .. })
        ));
        assert!(matches!(
            decode_lease(b"a", &[]),
            Err(StoreError::Corrupt { .. })
        ));
    }
}
