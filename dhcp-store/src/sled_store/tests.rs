//! Unit tests of the sled store: round trips, replay, checkpoints.

use super::*;
use crate::test_lease as lease;
use dhcp_core::lease::BindingState;

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
    assert_holds(
        &s,
        &[
            lease(1, BindingState::Active, 100),
            lease(2, BindingState::Free, 5),
        ],
        ("failover/x", b"state"),
    );
}

/// Nice values of this process's checkpoint threads.
#[cfg(target_os = "linux")]
fn checkpoint_thread_nices() -> Vec<i32> {
    let mut out = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.starts_with("lease-checkpoin") {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // Fields after the parenthesised name; nice is field 19 overall.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        if let Some(nice) = rest.split_whitespace().nth(16) {
            out.push(nice.parse().unwrap());
        }
    }
    out
}

#[cfg(target_os = "linux")]
#[test]
fn the_checkpoint_thread_runs_at_lower_priority() {
    let dir = tempfile::tempdir().unwrap();
    let _s = SledStore::open(dir.path()).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let nices = checkpoint_thread_nices();
        // Other tests' stores may be starting too: wait until every
        // checkpoint thread has lowered itself.
        if !nices.is_empty() && nices.iter().all(|n| *n == CHECKPOINT_NICE) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "checkpoint threads' nice values: {nices:?}"
        );
        thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Asserts the store's records (in address order) and one metadata value.
fn assert_holds(s: &SledStore, leases: &[Lease], (name, value): (&str, &[u8])) {
    let mut all = s.load().unwrap();
    all.sort_by_key(|l| l.addr);
    assert_eq!(all, leases);
    assert_eq!(s.get_meta(name).unwrap().as_deref(), Some(value));
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

#[test]
fn a_store_with_one_key_per_lease_is_moved_into_blocks() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = sled::open(dir.path()).unwrap();
        for i in [1u8, 2] {
            let l = lease(i, BindingState::Active, 100 + u32::from(i));
            db.insert([b'a', 10, 99, 0, i], encode_lease(&l).unwrap())
                .unwrap();
        }
        db.insert(b"cxyz", &[10, 99, 0, 1][..]).unwrap();
        db.insert(b"mfailover/x", &b"kept"[..]).unwrap();
        db.flush().unwrap();
    }
    {
        let s = SledStore::open(dir.path()).unwrap();
        assert_holds(
            &s,
            &[
                lease(1, BindingState::Active, 101),
                lease(2, BindingState::Active, 102),
            ],
            ("failover/x", b"kept"),
        );
        let left = |p: &'static [u8]| s.state.with_db(|db| Ok(db.scan_prefix(p).count()));
        assert_eq!(left(b"a").unwrap(), 0);
        assert_eq!(left(b"c").unwrap(), 0);
    }
    let s = SledStore::open(dir.path()).unwrap();
    assert_eq!(s.load().unwrap().len(), 2);
}
