//! The manual: how the store keeps leases, what it promises, how to embed it.
//!
//! This module has no code.
//!
//! # Concepts
//!
//! * **Records**: a lease is encoded once ([`crate::encode_lease`]: a format
//!   byte, then postcard); the same bytes go to the journal and to the blocks.
//! * **Journal** ([`crate::journal`]): two fixed-size, zero-filled files
//!   overwritten in place; a commit is one `write` and one `fdatasync` of
//!   framed records (length, CRC-32, sequence number). Replay at open stops at
//!   the first frame that does not check, so a torn write is a clean end.
//! * **Blocks** ([`crate::blocks`]): the records grouped by /24, kept in
//!   memory and written to `sled` (one value per /24) at checkpoints; a
//!   checkpoint runs in the background whenever a journal file fills, and
//!   frees that file once sled is flushed.
//! * **Group commit** ([`crate::GroupCommit`]): a worker thread that turns the
//!   commits of many transactions into one journal write; each submitter
//!   gets its [`Completion`](crate::Completion) once its records are durable.
//!
//! # Invariants
//!
//! * A [`LeaseStore::commit`](crate::LeaseStore::commit) that returned `Ok`
//!   survives a crash, a power cut (given a disk that honours `fdatasync`) and
//!   a restart; `fsync` is never skipped or deferred.
//! * The latest committed record of an address wins at load; records are
//!   never lost by a checkpoint, even one interrupted by a crash.
//! * A full disk never half-writes: sled is written only with
//!   [`WRITE_HEADROOM`](crate::WRITE_HEADROOM) free, commits go on into the
//!   journal while a checkpoint waits for room, and only when both journal
//!   files are full do commits fail, at once, with
//!   [`StoreError`](crate::StoreError). A store also opens on a full disk
//!   after a crash, keeping the records it could not replay into `sled` in
//!   the journal until there is room.
//! * One process opens a store directory at a time (sled's lock).
//!
//! # Embedding
//!
//! ```
//! use dhcp_core::lease::{BindingState, Lease};
//! use dhcp_store::{LeaseStore, SledStore};
//!
//! let dir = std::env::temp_dir().join(format!("dhcp-store-manual-{}", std::process::id()));
//! let store = SledStore::open(&dir)?;
//! let lease = Lease::new_free("10.99.0.10".parse().unwrap(), BindingState::Free);
//! store.commit(&[lease])?; // durable when this returns
//! assert_eq!(store.load()?.len(), 1);
//! drop(store);
//! std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! In a server, put a [`GroupCommit`](crate::GroupCommit) in front of the
//! store and send each reply from its completion.
