//! The store's error type.

use crate::journal;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    /// database write, which is not attempted (see [`crate::WRITE_HEADROOM`]); it is
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
