//! [`SledStore`]: the lease store on `sled`, made durable by the commit
//! journal.
//!
//! One `sled` tree holds, under distinct key prefixes, the lease records keyed
//! by address (`a` + 4 address bytes) and metadata such as the failover state
//! (`m` + name). (Stores written by earlier versions also hold a client index
//! under `c`; nothing reads it, and compaction removes it.)
//!
//! A commit writes its records to the [`Journal`] (one `write` + `fdatasync`)
//! and applies them to `sled` in memory; `sled` is flushed only at
//! checkpoints, on a background thread, each time a journal file fills up.
//! Opening the store replays the journal into `sled`, flushes, and starts the
//! journal afresh. Metadata writes and compaction flush `sled` directly.

use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, mpsc};
use std::thread;

use super::journal::{self, Journal, JournalError, Retired};
use super::{LeaseStore, StoreError, decode_lease, encode_lease};
use crate::lease::{Lease, UnixTime};

/// Tuning of a [`SledStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// Size of each of the two journal files, in bytes; a checkpoint runs
    /// each time one fills.
    pub journal_file_bytes: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            journal_file_bytes: journal::DEFAULT_FILE_BYTES,
        }
    }
}

/// What the checkpoint thread reports back.
#[derive(Default)]
struct CheckpointState {
    /// Journal files whose records are now durable in `sled`.
    released: Vec<Retired>,
    /// The last checkpoint failure, if any.
    failed: Option<String>,
}

type Shared = Arc<(Mutex<CheckpointState>, Condvar)>;

/// The `sled` implementation.
pub struct SledStore {
    db: sled::Db,
    journal: Mutex<Journal>,
    checkpoints: Option<mpsc::Sender<Retired>>,
    checkpointed: Shared,
    checkpointer: Option<thread::JoinHandle<()>>,
}

fn addr_key(a: Ipv4Addr) -> [u8; 5] {
    let o = a.octets();
    [b'a', o[0], o[1], o[2], o[3]]
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves the data consistent
    // (every update is a single assignment or a completed write).
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Adds one encoded record to a `sled` batch.
fn stage(batch: &mut sled::Batch, l: &Lease, encoded: Vec<u8>) {
    batch.insert(&addr_key(l.addr)[..], encoded);
}

impl SledStore {
    /// Opens (or creates) the store in directory `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, StoreOptions::default())
    }

    /// Opens (or creates) the store in directory `path` with `options`.
    ///
    /// Records left in the journal by a crash are applied to the database
    /// and flushed before this returns.
    pub fn open_with(path: &Path, options: StoreOptions) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(path)
            .flush_every_ms(None)
            .mode(sled::Mode::HighThroughput)
            .open()?;
        let (mut journal, replay) = Journal::open(path, options.journal_file_bytes)?;
        if !replay.records.is_empty() {
            let mut batch = sled::Batch::default();
            for bytes in replay.records {
                let l = decode_lease(b"journal", &bytes)?;
                stage(&mut batch, &l, bytes);
            }
            db.apply_batch(batch)?;
        }
        db.flush()?;
        journal.reset()?;
        let checkpointed: Shared = Arc::default();
        let (tx, rx) = mpsc::channel::<Retired>();
        let (db2, shared) = (db.clone(), checkpointed.clone());
        let checkpointer = thread::Builder::new()
            .name("lease-checkpoint".into())
            .spawn(move || {
                while let Ok(file) = rx.recv() {
                    let r = db2.flush();
                    let (m, cv) = &*shared;
                    let mut st = lock(m);
                    match r {
                        Ok(_) => st.released.push(file),
                        Err(e) => st.failed = Some(e.to_string()),
                    }
                    cv.notify_all();
                }
            })
            .map_err(|e| {
                StoreError::Checkpoint(format!("cannot start the checkpoint thread: {e}"))
            })?;
        Ok(Self {
            db,
            journal: Mutex::new(journal),
            checkpoints: Some(tx),
            checkpointed,
            checkpointer: Some(checkpointer),
        })
    }

    /// Flushes the database and empties the journal (at shutdown, so that
    /// the next start has nothing to replay).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        let mut j = lock(&self.journal);
        self.db.flush()?;
        // Checkpoints already requested may still report; they only
        // release files, which the reset has released anyway.
        j.reset()?;
        Ok(())
    }

    /// Size of the database files on disk, in bytes.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }

    /// Releases the journal files whose checkpoints completed; with `wait`,
    /// first blocks until at least one checkpoint reports.
    fn absorb_checkpoints(&self, j: &mut Journal, wait: bool) -> Result<(), StoreError> {
        let (m, cv) = &*self.checkpointed;
        let mut st = lock(m);
        if wait {
            while st.released.is_empty() && st.failed.is_none() {
                st = cv.wait(st).unwrap_or_else(|p| p.into_inner());
            }
        }
        if let Some(e) = st.failed.take() {
            return Err(StoreError::Checkpoint(e));
        }
        for f in st.released.drain(..) {
            j.release(f);
        }
        Ok(())
    }

    /// Appends one chunk to the journal, waiting for a checkpoint when both
    /// files are full, and requests a checkpoint when a file is retired.
    fn journal_chunk(&self, j: &mut Journal, chunk: &[Vec<u8>]) -> Result<(), StoreError> {
        loop {
            match j.append(chunk.iter().map(|v| v.as_slice())) {
                Ok(None) => return Ok(()),
                Ok(Some(retired)) => {
                    let sent = self
                        .checkpoints
                        .as_ref()
                        .is_some_and(|tx| tx.send(retired).is_ok());
                    if !sent {
                        return Err(StoreError::Checkpoint("checkpoint thread gone".into()));
                    }
                    return Ok(());
                }
                Err(JournalError::Full) => self.absorb_checkpoints(j, true)?,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

impl LeaseStore for SledStore {
    fn commit(&self, leases: &[Lease]) -> Result<(), StoreError> {
        if leases.is_empty() {
            return Ok(());
        }
        let encoded = leases
            .iter()
            .map(encode_lease)
            .collect::<Result<Vec<_>, _>>()?;
        let mut j = lock(&self.journal);
        self.absorb_checkpoints(&mut j, false)?;
        // Chunks of at most half a file, so a chunk always fits a fresh file.
        let limit = (j.capacity() / 2) as usize;
        let mut start = 0;
        let mut size = 0;
        for (i, e) in encoded.iter().enumerate() {
            let framed = e.len() + 16;
            if size + framed > limit && i > start {
                self.journal_chunk(&mut j, &encoded[start..i])?;
                start = i;
                size = 0;
            }
            size += framed;
        }
        self.journal_chunk(&mut j, &encoded[start..])?;
        // Applied while the journal is still locked, so the database sees
        // commits in journal order.
        let mut batch = sled::Batch::default();
        for (l, e) in leases.iter().zip(encoded) {
            stage(&mut batch, l, e);
        }
        self.db.apply_batch(batch)?;
        Ok(())
    }

    fn load(&self) -> Result<Vec<Lease>, StoreError> {
        let mut out = Vec::new();
        for item in self.db.scan_prefix(b"a") {
            let (k, v) = item?;
            out.push(decode_lease(&k, &v)?);
        }
        Ok(out)
    }

    fn put_meta(&self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        let mut k = vec![b'm'];
        k.extend_from_slice(name.as_bytes());
        self.db.insert(k, value)?;
        self.db.flush()?;
        Ok(())
    }

    fn get_meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut k = vec![b'm'];
        k.extend_from_slice(name.as_bytes());
        Ok(self.db.get(k)?.map(|v| v.to_vec()))
    }

    fn compact(&self, before: UnixTime) -> Result<usize, StoreError> {
        // Removals are not journaled: hold the journal so no commit runs in
        // between, and flush (which also covers everything journaled so far,
        // so the journal is emptied too: replaying it could bring back a
        // removed record).
        let mut j = lock(&self.journal);
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for item in self.db.scan_prefix(b"a") {
            let (k, v) = item?;
            let l = decode_lease(&k, &v)?;
            if l.state == crate::lease::BindingState::Free
                && l.ends < before
                && l.rewind_state.is_none()
            {
                batch.remove(k);
                n += 1;
            }
        }
        for item in self.db.scan_prefix(b"c") {
            batch.remove(item?.0);
        }
        self.db.apply_batch(batch)?;
        self.db.flush()?;
        j.reset()?;
        Ok(n)
    }
}

impl Drop for SledStore {
    fn drop(&mut self) {
        self.checkpoints.take();
        if let Some(t) = self.checkpointer.take() {
            let _ = t.join();
        }
    }
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::BindingState;
    use crate::store::test_lease as lease;

    #[test]
    fn commit_load_roundtrip_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = SledStore::open(dir.path()).unwrap();
            s.commit(&[
                lease(1, BindingState::Active, 100),
                lease(2, BindingState::Free, 5),
            ])
            .unwrap();
            s.put_meta("failover/x", b"state").unwrap();
        }
        let s = SledStore::open(dir.path()).unwrap();
        let mut all = s.load().unwrap();
        all.sort_by_key(|l| l.addr);
        assert_eq!(
            all,
            vec![
                lease(1, BindingState::Active, 100),
                lease(2, BindingState::Free, 5)
            ]
        );
        assert_eq!(
            s.get_meta("failover/x").unwrap().as_deref(),
            Some(&b"state"[..])
        );
    }

    #[test]
    fn compaction_drops_only_old_free_records() {
        let dir = tempfile::tempdir().unwrap();
        let s = SledStore::open(dir.path()).unwrap();
        s.commit(&[
            lease(1, BindingState::Free, 10),
            lease(2, BindingState::Free, 1000),
            lease(3, BindingState::Backup, 10),
            lease(4, BindingState::Active, 10),
        ])
        .unwrap();
        assert_eq!(s.compact(100).unwrap(), 1);
        let addrs: Vec<_> = s
            .load()
            .unwrap()
            .iter()
            .map(|l| l.addr.octets()[3])
            .collect();
        assert_eq!(addrs, vec![2, 3, 4]);
    }

    #[test]
    fn many_checkpoints_keep_every_record_and_the_latest_version() {
        let dir = tempfile::tempdir().unwrap();
        let small = StoreOptions {
            journal_file_bytes: 4096,
        };
        {
            let s = SledStore::open_with(dir.path(), small).unwrap();
            // Far more than two 4 KiB files hold: the journal retires and
            // reuses its files many times, waiting for checkpoints.
            for round in 0..40u32 {
                let batch: Vec<Lease> = (1..=20u8)
                    .map(|i| lease(i, BindingState::Active, round * 100 + u32::from(i)))
                    .collect();
                s.commit(&batch).unwrap();
            }
            // One batch larger than a whole file goes in chunks.
            let big: Vec<Lease> = (1..=200u8)
                .map(|i| lease(i, BindingState::Active, 9000 + u32::from(i)))
                .collect();
            s.commit(&big).unwrap();
        }
        let s = SledStore::open_with(dir.path(), small).unwrap();
        let mut all = s.load().unwrap();
        all.sort_by_key(|l| l.addr);
        assert_eq!(all.len(), 200);
        assert!(
            all.iter()
                .all(|l| l.ends == 9000 + u32::from(l.addr.octets()[3]))
        );
    }

    #[test]
    fn journaled_records_are_replayed_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let opts = StoreOptions::default();
        // Write the journal the way a commit does, without touching sled,
        // as if the process died right after the fdatasync.
        {
            let s = SledStore::open_with(dir.path(), opts).unwrap();
            let mut j = lock(&s.journal);
            let recs: Vec<Vec<u8>> = [lease(7, BindingState::Active, 77)]
                .iter()
                .map(|l| encode_lease(l).unwrap())
                .collect();
            j.append(recs.iter().map(|v| v.as_slice())).unwrap();
        }
        let s = SledStore::open_with(dir.path(), opts).unwrap();
        assert_eq!(s.load().unwrap(), vec![lease(7, BindingState::Active, 77)]);
        drop(s);
        // Replayed once, then the journal starts afresh.
        let (_, replay) = Journal::open(dir.path(), opts.journal_file_bytes).unwrap();
        assert!(replay.records.is_empty());
    }
}
