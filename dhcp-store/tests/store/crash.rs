//! Crash test of the durability contract: a child process commits leases
//! through the real store (group commit on sled) and reports each one as soon
//! as the store says it is durable; the parent SIGKILLs the child at a random
//! moment, reopens the store and checks that every reported lease is there.
//!
//! The child is this same test binary, re-executed with `CRASH_CHILD_DIR` set.
//! Its journal files are small (16 KiB) so that within each cycle the journal
//! retires and reuses files and waits for checkpoints many times: a kill
//! lands at every stage of that cycle.

use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::active_lease;
use dhcp_core::lease::Lease;
use dhcp_store::{GroupCommit, LeaseStore, SledStore, StoreOptions};
use rand::Rng;

const CYCLES: usize = 50;
const WRITERS: u32 = 4;
const OPTIONS: StoreOptions = StoreOptions {
    journal_file_bytes: 16 << 10,
};

/// Child mode: commit forever, printing `ACK a.b.c.d seq` after durability.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var("CRASH_CHILD_DIR") else {
        return;
    };
    let base: u32 = std::env::var("CRASH_CHILD_BASE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let store = Arc::new(SledStore::open_with(dir.as_ref(), OPTIONS).expect("open store"));
    let gc = Arc::new(GroupCommit::start(store, 256, |_| {}));
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let mut handles = Vec::new();
    for w in 0..WRITERS {
        let gc = gc.clone();
        let out = out.clone();
        handles.push(std::thread::spawn(move || {
            let mut seq = base;
            loop {
                seq += 1;
                let addr = Ipv4Addr::new(10, 99, w as u8, (seq % 200) as u8 + 1);
                let (tx, rx) = std::sync::mpsc::sync_channel(1);
                gc.submit(
                    vec![active_lease(addr, seq)],
                    Box::new(move |r| {
                        let _ = tx.send(r.is_ok());
                    }),
                );
                if rx.recv() == Ok(true) {
                    use std::io::Write;
                    let mut o = out.lock().expect("stdout lock");
                    let _ = writeln!(o, "ACK {addr} {seq}");
                    let _ = o.flush();
                }
            }
        }));
    }
    for h in handles {
        let _ = h.join();
    }
}

#[test]
fn acknowledged_leases_survive_sigkill() {
    if std::env::var("CRASH_CHILD_DIR").is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut rng = rand::rng();
    let (mut acked_total, mut lost) = (0usize, 0usize);
    let started = Instant::now();
    for cycle in 0..CYCLES {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash::crash_child",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("CRASH_CHILD_DIR", dir.path())
            .env(
                "CRASH_CHILD_BASE",
                ((cycle as u32 + 1) * 1_000_000).to_string(),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let acks = Arc::new(Mutex::new(Vec::new()));
        let acks2 = acks.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut parts = line.split_whitespace();
                if parts.next() == Some("ACK") {
                    let addr: Ipv4Addr = parts.next().unwrap().parse().unwrap();
                    let seq: u32 = parts.next().unwrap().parse().unwrap();
                    acks2.lock().unwrap().push((addr, seq));
                }
            }
        });
        // Let it get going, then kill at a random moment.
        let deadline = Instant::now() + Duration::from_secs(10);
        while acks.lock().unwrap().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(rng.random_range(1..80)));
        // SIGKILL by PID.
        // SAFETY: kill has no memory-safety preconditions; the PID is our
        // own child, not yet reaped (wait follows).
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let _ = child.wait();
        reader.join().unwrap();
        let acks = acks.lock().unwrap().clone();
        assert!(
            !acks.is_empty(),
            "cycle {cycle}: child acknowledged nothing"
        );
        let store = SledStore::open_with(dir.path(), OPTIONS).expect("reopen after SIGKILL");
        let stored: std::collections::HashMap<Ipv4Addr, Lease> = store
            .load()
            .expect("load after SIGKILL")
            .into_iter()
            .map(|l| (l.addr, l))
            .collect();
        for (addr, seq) in &acks {
            match stored.get(addr) {
                Some(l) if l.ends >= *seq => {}
                _ => lost += 1,
            }
        }
        acked_total += acks.len();
    }
    eprintln!(
        "crash test: {CYCLES} SIGKILL cycles, {acked_total} acknowledged leases, {lost} lost ({:.1?})",
        started.elapsed()
    );
    assert_eq!(lost, 0, "acknowledged leases lost after SIGKILL");
}
