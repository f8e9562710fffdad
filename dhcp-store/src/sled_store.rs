//! [`SledStore`]: the lease store on `sled`, made durable by the commit
//! journal.
//!
//! The `sled` tree holds, under distinct key prefixes, the lease records in
//! /24 blocks ([`super::blocks`], `b` + 3 octets) and metadata such as the
//! failover state (`m` + name). Stores written by earlier versions held one
//! key per lease (`a` + 4 octets) and a client index (`c`); opening such a
//! store moves its records into blocks and removes those keys.
//!
//! A commit writes its records to the [`Journal`] (one `write` + `fdatasync`)
//! and into the in-memory block map; nothing touches `sled` then. Each time a
//! journal file fills, a background checkpoint writes the changed blocks to
//! `sled` and flushes it, which frees that journal file for reuse. Opening the
//! store replays the journal, and [`SledStore::checkpoint`] (at shutdown)
//! leaves nothing to replay. Metadata writes flush `sled` directly.
//!
//! A full disk never reaches `sled`: a database write is attempted only
//! while the file system has room for it and [`WRITE_HEADROOM`] besides.
//! Otherwise the checkpoint fails without touching the database, the blocks
//! it took are marked changed again, the journal file stays retired, and the
//! checkpoint is retried with a growing delay (1 s, doubling, at most 10 s).
//! Commits go on into the active journal file, which needs no new disk space
//! (its blocks were written when it was created); once that file is full
//! too, commits fail at once with the checkpoint's error, until a retry
//! succeeds. Any error `sled` itself reports stops this process from using
//! the database again (a `sled` handle that has seen an I/O error fails
//! every later operation, and hangs when dropped): commits go on into the
//! journal as above, and a restart replays it. A start on a full disk
//! whose journal holds records (a crash while full) cannot write them to
//! `sled` either: the store opens all the same, keeps them in the journal
//! ([`Journal::resume`]) and hands the checkpoint thread their file, so the
//! daemon serves again at once and the records reach `sled` once there is
//! room.
//!
//! Locks, always taken in this order: the journal (one commit at a time, in
//! journal order), then `writer` (one writer of blocks to `sled` at a time,
//! so an older snapshot never lands after a newer one), then the block map.
//! The database handle's lock is only ever held alone, for a moment.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, mpsc};
use std::thread;
use std::time::Duration;

use super::blocks::{self, BlockMap};
use super::journal::{self, Journal, JournalError, Retired};
use crate::error::StoreError;
use crate::lease_store::LeaseStore;
use crate::record::{decode_lease, encode_lease};
use dhcp_core::lease::{Lease, UnixTime};

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
    /// Why the last checkpoint failed; `None` once one succeeds.
    error: Option<String>,
    /// Checkpoints that failed since the store was opened.
    failures: u64,
}

/// First delay before a failed checkpoint is tried again; it doubles with
/// each failure up to [`CHECKPOINT_RETRY_MAX`].
const CHECKPOINT_RETRY_FIRST: Duration = Duration::from_secs(1);
/// Longest delay between checkpoint retries.
const CHECKPOINT_RETRY_MAX: Duration = Duration::from_secs(10);

type Shared = Arc<(Mutex<CheckpointState>, Condvar)>;

/// Free space the store's file system must keep, besides twice the size of
/// the write itself, for a database write to be attempted: `sled` appends to
/// its log and grows its file by whole segments, and an I/O error such as a
/// full disk leaves its handle failing every later operation (and hanging
/// when dropped) until the process restarts.
pub const WRITE_HEADROOM: u64 = 8 << 20;

/// What the commit path and the checkpoint thread share.
struct State {
    path: PathBuf,
    /// The database; taken out (and leaked) on drop after a failure, whose
    /// handle would hang in its final flush.
    db: Mutex<Option<sled::Db>>,
    /// The first error `sled` reported: the database is not used again in
    /// this process (the journal keeps every record for the next start).
    failed: Mutex<Option<String>>,
    /// One writer of blocks to `sled` at a time.
    writer: Mutex<()>,
    blocks: Mutex<BlockMap>,
}

impl State {
    /// Runs `f` on the database, unless it failed before.
    fn with_db<T>(&self, f: impl FnOnce(&sled::Db) -> sled::Result<T>) -> Result<T, StoreError> {
        if let Some(e) = &*lock(&self.failed) {
            return Err(StoreError::Failed(e.clone()));
        }
        let Some(db) = lock(&self.db).clone() else {
            return Err(StoreError::Closed);
        };
        f(&db).map_err(|e| {
            tracing::error!(
                store = %self.path.display(),
                error = %e,
                "lease database failed: not used again until a restart; leases stay durable in the journal while it has room"
            );
            lock(&self.failed).get_or_insert_with(|| e.to_string());
            StoreError::Db(e)
        })
    }

    /// [`State::with_db`] for a write of about `bytes`, refused while the
    /// file system has less than twice that plus [`WRITE_HEADROOM`] free:
    /// `sled` never meets a full disk, so the write can be retried once
    /// there is room.
    fn with_db_write<T>(
        &self,
        bytes: u64,
        f: impl FnOnce(&sled::Db) -> sled::Result<T>,
    ) -> Result<T, StoreError> {
        let needed = bytes.saturating_mul(2).saturating_add(WRITE_HEADROOM);
        // A file system that cannot say is written to as before.
        if let Ok(free) = free_bytes(&self.path)
            && free < needed
        {
            return Err(StoreError::NoSpace { free, needed });
        }
        self.with_db(f)
    }

    /// Writes the changed blocks (and `also` removals) to `sled` and flushes.
    /// Call with `writer` held. On failure the blocks count as changed
    /// still, for the next attempt.
    fn write_changed(&self, also_remove: Vec<sled::IVec>) -> Result<(), StoreError> {
        let changed = lock(&self.blocks).take_changed();
        let mut batch = sled::Batch::default();
        let mut bytes = 0u64;
        for &block in &changed {
            // One block per lock: commits are never held up for long. A block
            // encoded after later commits carries newer records, which is
            // as good (the journal replays them in order anyway).
            let (k, v) = lock(&self.blocks).encode_block(block);
            bytes += (k.len() + v.as_ref().map_or(0, Vec::len)) as u64;
            match v {
                Some(v) => batch.insert(&k[..], v),
                None => batch.remove(&k[..]),
            }
        }
        for k in also_remove {
            bytes += k.len() as u64;
            batch.remove(k);
        }
        let written = self.with_db_write(bytes, |db| {
            db.apply_batch(batch)?;
            db.flush().map(drop)
        });
        if written.is_err() {
            lock(&self.blocks).mark_changed(&changed);
        }
        written
    }
}

impl Drop for State {
    fn drop(&mut self) {
        if lock(&self.failed).is_some()
            && let Some(db) = lock(&self.db).take()
        {
            // Its final flush would wait forever for a write that failed.
            std::mem::forget(db);
        }
    }
}

/// Bytes available to unprivileged writers on the file system holding
/// `path`.
fn free_bytes(path: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    // SAFETY: `c` is a NUL-terminated path and `st` a valid, writable
    // statvfs that the call fills in.
    let (r, st) = unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        (libc::statvfs(c.as_ptr(), &mut st), st)
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(st.f_bavail.saturating_mul(st.f_frsize))
}

/// The `sled` implementation.
pub struct SledStore {
    state: Arc<State>,
    journal: Mutex<Journal>,
    checkpoints: Option<mpsc::Sender<Retired>>,
    checkpointed: Shared,
    checkpointer: Option<thread::JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves the data consistent
    // (every update is a single assignment or a completed write).
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn corrupt(key: &[u8], e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        key: key.to_vec(),
        reason: e.to_string(),
    }
}

/// Niceness of the checkpoint thread: checkpoints are background work and
/// yield the CPU to serving (the commit path never waits for them unless both
/// journal files are full).
pub const CHECKPOINT_NICE: i32 = 10;

/// Lowers the calling thread's scheduling priority to [`CHECKPOINT_NICE`]
/// (Linux: `setpriority` on a thread id affects that thread only); a
/// failure is logged and otherwise ignored.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid and setpriority have no memory-safety preconditions.
        let r = unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, CHECKPOINT_NICE)
        };
        if r != 0 {
            tracing::debug!(
                error = %std::io::Error::last_os_error(),
                "cannot lower the checkpoint thread's priority"
            );
        }
    }
}

/// How long [`open_db`] waits for the database lock: sled's background
/// threads release it a moment after the previous handle (in this process,
/// or one that is exiting) is dropped.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

fn open_db(path: &Path) -> Result<sled::Db, StoreError> {
    let config = sled::Config::new()
        .path(path)
        .flush_every_ms(None)
        .mode(sled::Mode::HighThroughput);
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    loop {
        match config.open() {
            Err(sled::Error::Io(e))
                if e.to_string().contains("lock") && std::time::Instant::now() < deadline =>
            {
                thread::sleep(std::time::Duration::from_millis(20));
            }
            r => return Ok(r?),
        }
    }
}

/// Reads every block, and the records of the one-key-per-lease layout,
/// into a block map; returns the legacy keys to remove.
fn read_tree(db: &sled::Db) -> Result<(BlockMap, Vec<sled::IVec>), StoreError> {
    let mut map = BlockMap::default();
    for item in db.scan_prefix([blocks::PREFIX]) {
        let (k, v) = item?;
        map.load(&k, &v).map_err(|e| corrupt(&k, e))?;
    }
    let mut legacy = Vec::new();
    for item in db.scan_prefix(b"a") {
        let (k, v) = item?;
        let l = decode_lease(&k, &v)?;
        map.insert(l.addr, v.to_vec());
        legacy.push(k);
    }
    for item in db.scan_prefix(b"c") {
        legacy.push(item?.0);
    }
    Ok((map, legacy))
}

impl SledStore {
    /// Opens (or creates) the store in directory `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, StoreOptions::default())
    }

    /// Opens (or creates) the store in directory `path` with `options`.
    ///
    /// Records left in the journal by a crash are written to the database
    /// and flushed before this returns.
    pub fn open_with(path: &Path, options: StoreOptions) -> Result<Self, StoreError> {
        let db = open_db(path)?;
        let (mut map, legacy) = read_tree(&db)?;
        let (mut journal, replay) = Journal::open(path, options.journal_file_bytes)?;
        for bytes in replay.records {
            let l = decode_lease(b"journal", &bytes)?;
            map.insert(l.addr, bytes);
        }
        let state = Arc::new(State {
            path: path.to_owned(),
            db: Mutex::new(Some(db)),
            failed: Mutex::new(None),
            writer: Mutex::new(()),
            blocks: Mutex::new(map),
        });
        let replayed = if lock(&state.blocks).has_changes() || !legacy.is_empty() {
            let _w = lock(&state.writer);
            state.write_changed(legacy)
        } else {
            Ok(())
        };
        // On a full disk the replay cannot reach the database yet: the
        // journal keeps it and goes on taking commits, and the checkpoint
        // thread writes it out once there is room.
        let kept = match replayed {
            Ok(()) => {
                journal.reset()?;
                None
            }
            Err(StoreError::NoSpace { free, needed }) => {
                tracing::warn!(
                    store = %path.display(),
                    free,
                    needed,
                    "too little free space to write the journal's records to the lease database; they stay in the journal, which takes new commits until it is full, and are written out once there is room"
                );
                journal.resume()?
            }
            Err(e) => return Err(e),
        };
        let checkpointed: Shared = Arc::default();
        let (tx, rx) = mpsc::channel::<Retired>();
        let (st, shared) = (state.clone(), checkpointed.clone());
        let checkpointer = thread::Builder::new()
            .name("lease-checkpoint".into())
            .spawn(move || run_checkpoints(&st, &shared, &rx))
            .map_err(|e| {
                StoreError::Checkpoint(format!("cannot start the checkpoint thread: {e}"))
            })?;
        if let Some(retired) = kept {
            // The receiver is alive: the thread was just started.
            let _ = tx.send(retired);
        }
        Ok(Self {
            state,
            journal: Mutex::new(journal),
            checkpoints: Some(tx),
            checkpointed,
            checkpointer: Some(checkpointer),
        })
    }

    /// Writes every changed block to the database, flushes it and empties
    /// the journal (at shutdown, so that the next start has nothing to
    /// replay).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        let mut j = lock(&self.journal);
        {
            let _w = lock(&self.state.writer);
            self.state.write_changed(Vec::new())?;
        }
        // Checkpoints already requested may still report; their releases
        // are stale after the reset and ignored.
        j.reset()?;
        Ok(())
    }

    /// Size of the database files on disk, in bytes.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.state.with_db(|db| db.size_on_disk())
    }

    /// Releases the journal files whose checkpoints completed.
    fn absorb_checkpoints(&self, j: &mut Journal) {
        for f in lock(&self.checkpointed.0).released.drain(..) {
            j.release(f);
        }
    }

    /// With both journal files full: waits until a checkpoint frees one.
    /// Fails at once while checkpoints are failing (the database cannot be
    /// written, a full disk typically; the retries go on in the background),
    /// and when the checkpoint thread is gone.
    fn wait_for_checkpoint(&self, j: &mut Journal) -> Result<(), StoreError> {
        let (m, cv) = &*self.checkpointed;
        let mut st = lock(m);
        loop {
            if !st.released.is_empty() {
                for f in st.released.drain(..) {
                    j.release(f);
                }
                return Ok(());
            }
            if let Some(e) = &st.error {
                return Err(StoreError::Checkpoint(e.clone()));
            }
            if self.checkpointer.as_ref().is_none_or(|t| t.is_finished()) {
                return Err(StoreError::Checkpoint("checkpoint thread gone".into()));
            }
            st = match cv.wait_timeout(st, Duration::from_secs(1)) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }

    /// Appends one chunk to the journal, waiting for a checkpoint when both
    /// files are full, and requests a checkpoint when a file is retired.
    fn journal_chunk(
        &self,
        j: &mut Journal,
        chunk: &[(Ipv4Addr, Vec<u8>)],
    ) -> Result<(), StoreError> {
        loop {
            match j.append(chunk.iter().map(|(_, v)| v.as_slice())) {
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
                Err(JournalError::Full) => self.wait_for_checkpoint(j)?,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// The checkpoint thread: for each retired journal file, writes the changed
/// blocks to `sled` and reports the file free; a failed checkpoint is
/// retried, with a growing delay, until one succeeds.
fn run_checkpoints(st: &State, shared: &Shared, rx: &mpsc::Receiver<Retired>) {
    lower_priority();
    let mut pending: Vec<Retired> = Vec::new();
    let mut retry = CHECKPOINT_RETRY_FIRST;
    loop {
        let next = if pending.is_empty() {
            rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected)
        } else {
            rx.recv_timeout(retry)
        };
        match next {
            Ok(retired) => pending.push(retired),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        pending.extend(rx.try_iter());
        let written = {
            let _w = lock(&st.writer);
            st.write_changed(Vec::new())
        };
        let (m, cv) = &**shared;
        let mut report = lock(m);
        match written {
            Ok(()) => {
                if report.error.take().is_some() {
                    tracing::info!(store = %st.path.display(), "lease database checkpoint succeeded again");
                }
                report.released.append(&mut pending);
                retry = CHECKPOINT_RETRY_FIRST;
            }
            Err(e) => {
                report.failures += 1;
                tracing::warn!(
                    store = %st.path.display(),
                    error = %e,
                    retry_in_s = retry.as_secs(),
                    "lease database checkpoint failed; leases stay durable in the journal while it has room"
                );
                report.error = Some(e.to_string());
                retry = (retry * 2).min(CHECKPOINT_RETRY_MAX);
            }
        }
        cv.notify_all();
    }
}

impl LeaseStore for SledStore {
    fn commit(&self, leases: &[Lease]) -> Result<(), StoreError> {
        if leases.is_empty() {
            return Ok(());
        }
        let mut rest: Vec<(Ipv4Addr, Vec<u8>)> = leases
            .iter()
            .map(|l| Ok((l.addr, encode_lease(l)?)))
            .collect::<Result<_, StoreError>>()?;
        let mut j = lock(&self.journal);
        self.absorb_checkpoints(&mut j);
        // Chunks of at most half a file, so a chunk always fits a fresh file.
        let limit = (j.capacity() / 2) as usize;
        while !rest.is_empty() {
            let mut size = 0;
            let cut = rest
                .iter()
                .position(|(_, e)| {
                    size += e.len() + 16;
                    size > limit
                })
                .unwrap_or(rest.len())
                .max(1);
            let tail = rest.split_off(cut);
            self.journal_chunk(&mut j, &rest)?;
            // Into the block map before the next chunk is journaled: that
            // one may retire the file holding this one, and the checkpoint
            // it starts must find these records in the map. (The journal
            // stays locked, so the map sees commits in journal order.)
            let mut map = lock(&self.state.blocks);
            for (addr, e) in rest {
                map.insert(addr, e);
            }
            drop(map);
            rest = tail;
        }
        Ok(())
    }

    fn load(&self) -> Result<Vec<Lease>, StoreError> {
        let map = lock(&self.state.blocks);
        let mut out = Vec::with_capacity(map.len());
        for (addr, r) in map.records() {
            out.push(decode_lease(&addr.octets(), r)?);
        }
        Ok(out)
    }

    fn put_meta(&self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        let mut k = vec![b'm'];
        k.extend_from_slice(name.as_bytes());
        let bytes = (k.len() + value.len()) as u64;
        self.state.with_db_write(bytes, |db| {
            db.insert(k, value)?;
            db.flush().map(drop)
        })
    }

    fn get_meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut k = vec![b'm'];
        k.extend_from_slice(name.as_bytes());
        Ok(self.state.with_db(|db| db.get(k))?.map(|v| v.to_vec()))
    }

    fn compact(&self, before: UnixTime) -> Result<usize, StoreError> {
        // Removals are not journaled: write them out now, with everything
        // else, and empty the journal (replaying it could bring back a
        // removed record).
        let mut j = lock(&self.journal);
        let _w = lock(&self.state.writer);
        let n = {
            let mut map = lock(&self.state.blocks);
            let mut idle: Vec<Ipv4Addr> = Vec::new();
            for (addr, r) in map.records() {
                let l = decode_lease(&addr.octets(), r)?;
                if l.state == dhcp_core::lease::BindingState::Free
                    && l.ends < before
                    && l.rewind_state.is_none()
                {
                    idle.push(addr);
                }
            }
            for a in &idle {
                map.remove(*a);
            }
            idle.len()
        };
        if n == 0 {
            return Ok(0);
        }
        self.state.write_changed(Vec::new())?;
        j.reset()?;
        Ok(n)
    }

    fn checkpoint_failures(&self) -> u64 {
        lock(&self.checkpointed.0).failures
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
mod tests;
