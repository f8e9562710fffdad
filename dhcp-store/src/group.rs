//! Group commit: one journal write for the commits of many transactions.
//!
//! A worker thread takes everything queued while the previous commit ran,
//! writes it as one batch, and then completes every waiter. With a linger, it
//! first sleeps a little after the first job arrives so that more can gather
//! (fewer fsyncs per transaction, at the price of that much reply latency);
//! the submitters do not wake it while it sleeps.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::error::StoreError;
use crate::lease_store::LeaseStore;
use dhcp_core::lease::Lease;

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
    /// Written without the linger when it is the first of a batch.
    urgent: bool,
}

/// Group commit in front of a [`LeaseStore`].
pub struct GroupCommit {
    tx: Option<mpsc::Sender<Job>>,
    worker: Option<thread::JoinHandle<()>>,
    /// Set by [`GroupCommit::submit_now`]: cut the current linger short.
    hurry: std::sync::Arc<AtomicBool>,
}

/// How often a lingering worker looks whether an urgent job came.
const LINGER_SLICE: Duration = Duration::from_micros(100);

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
    /// sleeps for `linger` so that more can gather before it writes (ISC's
    /// delayed-ack idea): fewer fsyncs per transaction, for at most `linger`
    /// of added reply latency.
    pub fn start_with_linger<S: LeaseStore + 'static>(
        store: std::sync::Arc<S>,
        max_batch: usize,
        linger: Duration,
        on_batch: impl Fn(BatchStats) + Send + 'static,
    ) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let hurry = std::sync::Arc::new(AtomicBool::new(false));
        let hurried = hurry.clone();
        let worker = thread::Builder::new()
            .name("lease-commit".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    if !linger.is_zero() && !first.urgent {
                        // Sleep rather than wait on the queue: submitters
                        // then never have to wake this thread mid-linger.
                        // It sleeps in slices, to stop when an urgent job
                        // has come meanwhile.
                        let until = Instant::now() + linger;
                        loop {
                            let now = Instant::now();
                            if now >= until || hurried.load(Ordering::Acquire) {
                                break;
                            }
                            thread::sleep(LINGER_SLICE.min(until - now));
                        }
                    }
                    hurried.store(false, Ordering::Release);
                    let mut jobs = vec![first];
                    while jobs.len() < max_batch.max(1) {
                        match rx.try_recv() {
                            Ok(j) => jobs.push(j),
                            Err(_) => break,
                        }
                    }
                    let mut records: Vec<Lease> =
                        Vec::with_capacity(jobs.iter().map(|j| j.leases.len()).sum());
                    let mut waiters = Vec::with_capacity(jobs.len());
                    for j in jobs {
                        records.extend(j.leases);
                        waiters.push(j.done);
                    }
                    let start = Instant::now();
                    let result = store.commit(&records).map_err(std::sync::Arc::new);
                    on_batch(BatchStats {
                        transactions: waiters.len(),
                        records: records.len(),
                        duration: start.elapsed(),
                    });
                    for done in waiters {
                        done(result.clone());
                    }
                }
            })
            .ok();
        Self {
            tx: Some(tx),
            worker,
            hurry,
        }
    }

    /// Queues records; `done` runs on the worker thread once they are durable
    /// (or the commit failed). With nothing to write, `done` runs at once.
    pub fn submit(&self, leases: Vec<Lease>, done: Completion) {
        self.enqueue(Job {
            leases,
            done,
            urgent: false,
        });
    }

    /// Like [`Self::submit`], but written without the linger (a linger under
    /// way for earlier jobs is cut short): for a writer that can send nothing more until
    /// this is durable (a failover partner whose update window is full).
    pub fn submit_now(&self, leases: Vec<Lease>, done: Completion) {
        self.hurry.store(true, Ordering::Release);
        self.enqueue(Job {
            leases,
            done,
            urgent: true,
        });
    }

    fn enqueue(&self, job: Job) {
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
    use crate::SledStore;
    use crate::test_lease as lease;
    use dhcp_core::lease::BindingState;
    use std::sync::Arc;

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
    fn an_urgent_commit_skips_the_linger() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SledStore::open(dir.path()).unwrap());
        // A linger far longer than any flush: an urgent job must not wait it.
        let gc = GroupCommit::start_with_linger(store, 256, Duration::from_secs(30), |_| {});
        let (tx, rx) = mpsc::channel();
        gc.submit_now(
            vec![lease(1, BindingState::Active, 50)],
            Box::new(move |r| tx.send(r.is_ok()).unwrap()),
        );
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(true));
        // Nor may one that comes while the worker lingers over another.
        let (tx, rx) = mpsc::channel();
        let tx2 = tx.clone();
        gc.submit(
            vec![lease(2, BindingState::Active, 50)],
            Box::new(move |r| tx.send(r.is_ok()).unwrap()),
        );
        std::thread::sleep(Duration::from_millis(20));
        gc.submit_now(
            vec![lease(3, BindingState::Active, 50)],
            Box::new(move |r| tx2.send(r.is_ok()).unwrap()),
        );
        for _ in 0..2 {
            assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(true));
        }
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
