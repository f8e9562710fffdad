//! The durable lease store.
//!
//! [`LeaseStore`] is the small interface the server needs; [`SledStore`] is the
//! implementation on `sled`. One tree holds, under distinct key prefixes, the
//! lease records keyed by address (`a` + 4 address bytes), the client index
//! (`c` + client key → address) and metadata such as the failover state
//! (`m` + name). A commit writes one atomic batch and then fsyncs.
//!
//! [`GroupCommit`] batches commits from many transactions into one flush (group
//! commit): a worker thread takes everything queued while the previous flush
//! ran, writes it as one batch, flushes once, and then completes every waiter.

use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::lease::{Lease, UnixTime};

/// Record format version byte, first byte of every stored lease value.
const FORMAT: u8 = 1;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error (I/O or corruption).
    #[error("lease database error: {0}")]
    Db(#[from] sled::Error),
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
}

/// The `sled` implementation.
pub struct SledStore {
    db: sled::Db,
}

fn addr_key(a: Ipv4Addr) -> [u8; 5] {
    let o = a.octets();
    [b'a', o[0], o[1], o[2], o[3]]
}

fn client_index_key(l: &Lease) -> Option<Vec<u8>> {
    l.client.as_ref().map(|k| {
        let mut v = vec![b'c'];
        v.extend(k.index_bytes());
        v
    })
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

impl SledStore {
    /// Opens (or creates) the store in directory `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(path)
            .flush_every_ms(None)
            .mode(sled::Mode::HighThroughput)
            .open()?;
        Ok(Self { db })
    }

    /// The address a client key was last bound to, from the on-disk index.
    pub fn address_of(
        &self,
        key: &crate::lease::ClientKey,
    ) -> Result<Option<Ipv4Addr>, StoreError> {
        let mut k = vec![b'c'];
        k.extend(key.index_bytes());
        Ok(self
            .db
            .get(k)?
            .and_then(|v| <[u8; 4]>::try_from(v.as_ref()).ok())
            .map(Ipv4Addr::from))
    }

    /// Size of the database files on disk, in bytes.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }
}

impl LeaseStore for SledStore {
    fn commit(&self, leases: &[Lease]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for l in leases {
            batch.insert(&addr_key(l.addr)[..], encode_lease(l)?);
            if let Some(k) = client_index_key(l) {
                batch.insert(k, &l.addr.octets()[..]);
            }
        }
        self.db.apply_batch(batch)?;
        self.db.flush()?;
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
                if let Some(ck) = client_index_key(&l)
                    && self.db.get(&ck)?.as_deref() == Some(&l.addr.octets()[..])
                {
                    batch.remove(ck);
                }
                n += 1;
            }
        }
        self.db.apply_batch(batch)?;
        self.db.flush()?;
        Ok(n)
    }
}

/// A completion callback for a queued commit.
pub type Completion = Box<dyn FnOnce(Result<(), std::sync::Arc<StoreError>>) + Send>;

/// Statistics of one group commit, for metrics.
#[derive(Debug, Clone, Copy)]
pub struct BatchStats {
    /// Number of transactions in the batch.
    pub transactions: usize,
    /// Number of lease records written.
    pub records: usize,
    /// Time spent writing and flushing.
    pub duration: Duration,
}

struct Job {
    leases: Vec<Lease>,
    done: Completion,
}

/// Group commit in front of a [`LeaseStore`].
pub struct GroupCommit {
    tx: Option<mpsc::Sender<Job>>,
    worker: Option<thread::JoinHandle<()>>,
}

impl GroupCommit {
    /// Starts the worker thread. `max_batch` caps the transactions per flush;
    /// `on_batch` is called after each flush (for metrics).
    pub fn start<S: LeaseStore + 'static>(
        store: std::sync::Arc<S>,
        max_batch: usize,
        on_batch: impl Fn(BatchStats) + Send + 'static,
    ) -> Self {
        Self::start_with_linger(store, max_batch, Duration::ZERO, on_batch)
    }

    /// Like [`Self::start`], but after the first queued transaction the worker
    /// waits up to `linger` for more before flushing (ISC's delayed-ack idea):
    /// fewer fsyncs per transaction at moderate rates, for at most `linger`
    /// of added reply latency.
    pub fn start_with_linger<S: LeaseStore + 'static>(
        store: std::sync::Arc<S>,
        max_batch: usize,
        linger: Duration,
        on_batch: impl Fn(BatchStats) + Send + 'static,
    ) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let worker = thread::Builder::new()
            .name("lease-commit".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut jobs = vec![first];
                    let until = Instant::now() + linger;
                    while jobs.len() < max_batch.max(1) {
                        let next = match until.checked_duration_since(Instant::now()) {
                            Some(left) if !left.is_zero() => rx.recv_timeout(left).ok(),
                            _ => rx.try_recv().ok(),
                        };
                        match next {
                            Some(j) => jobs.push(j),
                            None => break,
                        }
                    }
                    let records: Vec<Lease> =
                        jobs.iter().flat_map(|j| j.leases.iter().cloned()).collect();
                    let start = Instant::now();
                    let result = store.commit(&records).map_err(std::sync::Arc::new);
                    on_batch(BatchStats {
                        transactions: jobs.len(),
                        records: records.len(),
                        duration: start.elapsed(),
                    });
                    for j in jobs {
                        (j.done)(result.clone());
                    }
                }
            })
            .ok();
        Self {
            tx: Some(tx),
            worker,
        }
    }

    /// Queues records; `done` runs on the worker thread once they are durable
    /// (or the commit failed). With nothing to write, `done` runs at once.
    pub fn submit(&self, leases: Vec<Lease>, done: Completion) {
        let job = Job { leases, done };
        match &self.tx {
            Some(tx) if self.worker.is_some() => {
                if let Err(mpsc::SendError(job)) = tx.send(job) {
                    (job.done)(Err(std::sync::Arc::new(StoreError::Closed)));
                }
            }
            _ => (job.done)(Err(std::sync::Arc::new(StoreError::Closed))),
        }
    }

    /// Queues records and blocks until they are durable.
    pub fn commit_blocking(&self, leases: Vec<Lease>) -> Result<(), std::sync::Arc<StoreError>> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.submit(
            leases,
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        );
        rx.recv()
            .unwrap_or(Err(std::sync::Arc::new(StoreError::Closed)))
    }
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::{BindingState, ClientKey, HwAddr};
    use std::sync::Arc;

    fn lease(i: u8, state: BindingState, ends: u32) -> Lease {
        let mut l = Lease::new_free(Ipv4Addr::new(10, 99, 0, i), state);
        l.client = Some(ClientKey::Hw(HwAddr::ethernet([0, 0, 0, 0, 0, i])));
        l.ends = ends;
        l
    }

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
        let key = lease(1, BindingState::Active, 0).client.unwrap();
        assert_eq!(
            s.address_of(&key).unwrap(),
            Some(Ipv4Addr::new(10, 99, 0, 1))
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

    #[test]
    fn lingering_group_commit_gathers_a_burst_into_one_flush() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SledStore::open(dir.path()).unwrap());
        let batches = Arc::new(std::sync::Mutex::new(Vec::new()));
        let b2 = batches.clone();
        let gc = GroupCommit::start_with_linger(store, 256, Duration::from_millis(200), move |s| {
            b2.lock().unwrap().push(s.transactions)
        });
        let (tx, rx) = mpsc::channel();
        for i in 1..=10u8 {
            let tx = tx.clone();
            gc.submit(
                vec![lease(i, BindingState::Active, 50)],
                Box::new(move |r| tx.send(r.is_ok()).unwrap()),
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        for _ in 0..10 {
            assert!(rx.recv().unwrap());
        }
        assert_eq!(
            *batches.lock().unwrap(),
            vec![10],
            "one flush for the whole burst"
        );
    }

    #[test]
    fn group_commit_batches_and_completes_everyone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SledStore::open(dir.path()).unwrap());
        let batches = Arc::new(std::sync::Mutex::new(Vec::new()));
        let b2 = batches.clone();
        let gc = GroupCommit::start(store.clone(), 256, move |s| {
            b2.lock().unwrap().push(s.transactions)
        });
        let (tx, rx) = mpsc::channel();
        for i in 1..=100u8 {
            let tx = tx.clone();
            gc.submit(
                vec![lease(i, BindingState::Active, 50)],
                Box::new(move |r| tx.send(r.is_ok()).unwrap()),
            );
        }
        for _ in 0..100 {
            assert!(rx.recv().unwrap());
        }
        drop(gc);
        assert_eq!(store.load().unwrap().len(), 100);
        assert_eq!(batches.lock().unwrap().iter().sum::<usize>(), 100);
    }
}
