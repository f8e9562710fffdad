//! The lease store on a disk that fills up and then has room again.
//!
//! `sled` turns an I/O error into a permanent failure of its handle, and a
//! failed checkpoint keeps a journal file retired; before the store handled
//! both, a full disk wedged every later commit for good (observed with the
//! daemon on a full tmpfs: OFFERs still went out, ACKs never again, even
//! after the disk had room, and SIGTERM hung).
//!
//! Here, on a small tmpfs: commits go on into the journal while it has room
//! (it needs no new disk space), then fail at once, never hang; once the
//! disk has room the checkpoint retry succeeds, commits succeed again and
//! checkpoints keep up; after reopening, every lease whose commit returned
//! success is there with its latest record; and the store opens on a full
//! disk.
//!
//! The tmpfs is mounted in a private mount namespace: the test re-runs
//! itself under `unshare --mount` (root only; SKIPPED otherwise).

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::common::active_lease;
use dhcp_core::lease::Lease;
use dhcp_store::{LeaseStore, SledStore, StoreOptions};

const INNER: &str = "STORE_DISK_FULL_INNER";
const TEST: &str = "disk_full::a_full_disk_fails_commits_at_once_and_recovers_when_space_returns";
const OPTIONS: StoreOptions = StoreOptions {
    journal_file_bytes: 64 << 10,
};

/// Commits a batch on a thread, failing the test if it has not returned
/// after `limit` (a hang is the failure this test is about); the error as
/// text.
fn commit(
    store: &std::sync::Arc<SledStore>,
    batch: &[Lease],
    limit: Duration,
) -> Result<(), String> {
    let (tx, rx) = mpsc::channel();
    let (s, b) = (store.clone(), batch.to_vec());
    std::thread::spawn(move || {
        let _ = tx.send(s.commit(&b).map_err(|e| e.to_string()));
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("a commit did not return within {limit:?}"))
}

/// Notes the leases of `batch` as acknowledged when its commit succeeded;
/// whether it did.
fn record(
    acked: &mut std::collections::HashMap<Ipv4Addr, u32>,
    batch: &[Lease],
    r: Result<(), String>,
) -> bool {
    let ok = r.is_ok();
    if let Err(e) = r {
        // The database is never written on a full disk, so never fails.
        assert!(e.contains("too little free space"), "{e}");
    }
    if ok {
        for l in batch {
            acked.insert(l.addr, l.ends);
        }
    }
    ok
}

/// Every acknowledged lease is in `store` with its latest expiry.
fn assert_all_acked(
    store: &SledStore,
    acked: &std::collections::HashMap<Ipv4Addr, u32>,
    when: &str,
) {
    let loaded: std::collections::HashMap<Ipv4Addr, u32> = store
        .load()
        .expect("load")
        .into_iter()
        .map(|l| (l.addr, l.ends))
        .collect();
    for (addr, ends) in acked {
        assert_eq!(loaded.get(addr), Some(ends), "lease {addr} {when}");
    }
}

fn fill(path: &Path) {
    // dd stops with "No space left on device"; its status says nothing more.
    let _ = Command::new("dd")
        .args(["if=/dev/zero", "bs=64k"])
        .arg(format!("of={}", path.display()))
        .stderr(std::process::Stdio::null())
        .status();
}

#[test]
fn a_full_disk_fails_commits_at_once_and_recovers_when_space_returns() {
    if std::env::var_os(INNER).is_some() {
        return inner();
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED {TEST}: needs root (a tmpfs in a private mount namespace)");
        return;
    }
    let exe = std::env::current_exe().expect("test executable");
    let status = Command::new("unshare")
        .args(["--mount", "--propagation", "private"])
        .arg(exe)
        .args(["--exact", TEST, "--nocapture", "--test-threads", "1"])
        .env(INNER, "1")
        .status()
        .expect("run unshare");
    assert!(status.success(), "inner run: {status}");
}

fn inner() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=32m", "tmpfs"])
        .arg(dir.path())
        .status()
        .expect("mount");
    assert!(mounted.success(), "mount tmpfs");
    let store_dir = dir.path().join("store");
    let filler = dir.path().join("filler");
    let store = std::sync::Arc::new(SledStore::open_with(&store_dir, OPTIONS).expect("open"));
    // The leases whose commits succeeded.
    let mut acked = std::collections::HashMap::new();
    let mut seq = 0u32;
    let next_batch = |seq: &mut u32| -> Vec<Lease> {
        (0..20)
            .map(|_| {
                *seq += 1;
                // One address per lease: a record lost anywhere shows.
                let addr = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 99, 0, 0)) + *seq);
                active_lease(addr, *seq)
            })
            .collect()
    };
    let limit = Duration::from_secs(20);

    // Room on the disk: checkpoints keep up.
    for _ in 0..200 {
        let b = next_batch(&mut seq);
        assert!(
            record(&mut acked, &b, commit(&store, &b, limit)),
            "commit with room"
        );
    }

    // Full: commits go on in the journal, then fail at once.
    fill(&filler);
    let (mut ok_while_full, mut failed) = (0, 0);
    let started = Instant::now();
    while failed < 50 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "commits never failed on a full disk"
        );
        let b = next_batch(&mut seq);
        let t = Instant::now();
        if record(&mut acked, &b, commit(&store, &b, limit)) {
            ok_while_full += 1;
        } else {
            failed += 1;
            assert!(
                t.elapsed() < Duration::from_secs(2),
                "a failing commit took {:?}",
                t.elapsed()
            );
        }
    }
    assert!(
        store.checkpoint_failures() > 0,
        "checkpoint failures counted"
    );
    eprintln!(
        "full disk: {ok_while_full} commits into the journal, then {failed} failed at once; {} checkpoint failures",
        store.checkpoint_failures()
    );

    // Room again: the retry (at most 10 s away) succeeds and commits work.
    std::fs::remove_file(&filler).expect("remove filler");
    let started = Instant::now();
    loop {
        let b = next_batch(&mut seq);
        if record(&mut acked, &b, commit(&store, &b, limit)) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "commits did not recover"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("recovered after {:?}", started.elapsed());
    // Several journal files' worth: checkpoints keep up again.
    for _ in 0..300 {
        let b = next_batch(&mut seq);
        assert!(
            record(&mut acked, &b, commit(&store, &b, limit)),
            "commit after recovery"
        );
    }

    // Shutdown checkpoint, reopen: every acknowledged lease is there.
    store.checkpoint().expect("shutdown checkpoint");
    drop(store);
    let reopened = SledStore::open_with(&store_dir, OPTIONS).expect("reopen");
    assert_all_acked(&reopened, &acked, "as last acknowledged");
    drop(reopened);

    // A start on a full disk (nothing to replay): the store opens, compaction
    // with nothing to remove writes nothing, and commits go to the journal.
    fill(&filler);
    let full = std::sync::Arc::new(
        SledStore::open_with(&store_dir, OPTIONS).expect("open on a full disk"),
    );
    assert_eq!(full.compact(0).expect("compact on a full disk"), 0);
    let b = next_batch(&mut seq);
    commit(&full, &b, limit).expect("commit on a full disk");
    record(&mut acked, &b, Ok(()));
    // A crash on the full disk (dropped without the shutdown checkpoint):
    // the journal holds records the database has not seen, and the next
    // start cannot write them there. It opens all the same, keeping them
    // in the journal, and takes commits; twice, so that the second start
    // finds both journal files holding records.
    drop(full);
    for crash in 0..2 {
        let store = std::sync::Arc::new(
            SledStore::open_with(&store_dir, OPTIONS)
                .unwrap_or_else(|e| panic!("open on a full disk after crash {crash}: {e}")),
        );
        assert_all_acked(
            &store,
            &acked,
            &format!("after crash {crash} on a full disk"),
        );
        let mut into_journal = 0;
        for _ in 0..40 {
            let b = next_batch(&mut seq);
            if !record(&mut acked, &b, commit(&store, &b, limit)) {
                break;
            }
            into_journal += 1;
        }
        assert!(into_journal > 0, "no commit after a start on a full disk");
        eprintln!("start {crash} on a full disk: {into_journal} commits into the journal");
    }
    // Room again: a start writes everything out, and every acknowledged
    // lease is there.
    std::fs::remove_file(&filler).expect("remove filler");
    let reopened = SledStore::open_with(&store_dir, OPTIONS).expect("open with room");
    assert_all_acked(&reopened, &acked, "after the full-disk crashes");
    reopened.checkpoint().expect("checkpoint with room");
    drop(reopened);
    let _ = Command::new("umount").arg(dir.path()).status();
}
