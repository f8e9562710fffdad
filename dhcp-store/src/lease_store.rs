//! The interface between the server and its durable storage.

use dhcp_core::lease::{Lease, UnixTime};

use crate::error::StoreError;

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
