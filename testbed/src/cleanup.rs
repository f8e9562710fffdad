//! Process-wide record of what the harness created (namespaces, scratch
//! directories, processes), so that it can all be removed on Ctrl-C as well as
//! by the owners' `Drop`.
//!
//! Owners register what they create and unregister it when they remove it
//! themselves. [`install_signal_handler`] (called by the `testbed` binary)
//! removes whatever is still registered when SIGINT, SIGTERM or SIGHUP arrives,
//! then exits with status 130.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::netns;

#[derive(Default)]
struct Registry {
    namespaces: Vec<String>,
    dirs: Vec<PathBuf>,
    pids: Vec<i32>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    namespaces: Vec::new(),
    dirs: Vec::new(),
    pids: Vec::new(),
});

fn with<R>(f: impl FnOnce(&mut Registry) -> R) -> R {
    let mut guard = match REGISTRY.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    f(&mut guard)
}

/// Records a namespace the harness created.
pub fn register_namespace(ns: &str) {
    with(|r| r.namespaces.push(ns.to_owned()));
}

/// Forgets a namespace (it was removed by its owner).
pub fn unregister_namespace(ns: &str) {
    with(|r| r.namespaces.retain(|n| n != ns));
}

/// Records a scratch directory the harness created.
pub fn register_dir(dir: &Path) {
    with(|r| r.dirs.push(dir.to_owned()));
}

/// Forgets a scratch directory.
pub fn unregister_dir(dir: &Path) {
    with(|r| r.dirs.retain(|d| d != dir));
}

/// Records a process the harness started.
pub fn register_pid(pid: i32) {
    with(|r| r.pids.push(pid));
}

/// Forgets a process (it was reaped by its owner).
pub fn unregister_pid(pid: i32) {
    with(|r| r.pids.retain(|p| *p != pid));
}

/// Sends `signal` to `pid` (never to a group, never by name). Errors such as
/// "no such process" are ignored.
pub fn kill_pid(pid: i32, signal: i32) {
    if pid > 0 {
        // SAFETY: kill(2) with a positive PID affects only that process.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

/// Kills (SIGKILL, by PID) every process inside namespace `ns`, waits up to
/// two seconds for them to go, then deletes the namespace.
pub fn remove_namespace(ns: &str) {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let pids = netns::pids(ns);
        if pids.is_empty() || Instant::now() > deadline {
            break;
        }
        for pid in pids {
            kill_pid(pid, libc::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = netns::ip(["netns", "del", ns]);
}

/// Removes everything still registered: processes, then namespaces, then
/// directories. Safe to call more than once.
pub fn teardown_all() {
    let (pids, namespaces, dirs) = with(|r| {
        (
            std::mem::take(&mut r.pids),
            std::mem::take(&mut r.namespaces),
            std::mem::take(&mut r.dirs),
        )
    });
    for pid in pids {
        kill_pid(pid, libc::SIGKILL);
    }
    for ns in namespaces.iter().rev() {
        remove_namespace(ns);
    }
    for dir in dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Installs the Ctrl-C handler: SIGINT, SIGTERM and SIGHUP are blocked in the
/// calling thread (and so in every thread it starts afterwards) and a
/// dedicated thread waits for them, tears everything down and exits with 130.
///
/// Call it first thing in `main`, before any other thread is started.
pub fn install_signal_handler() -> std::io::Result<()> {
    // SAFETY: plain libc signal-set manipulation on a local, initialised set.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGHUP);
        let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        if rc != 0 {
            return Err(std::io::Error::from_raw_os_error(rc));
        }
        set
    };
    std::thread::Builder::new()
        .name("testbed-signals".into())
        .spawn(move || {
            let mut sig: libc::c_int = 0;
            // SAFETY: `set` is a valid signal set; `sig` is a valid out pointer.
            let rc = unsafe { libc::sigwait(&set, &mut sig) };
            if rc == 0 {
                eprintln!("testbed: signal {sig} received, removing the lab");
                teardown_all();
                std::process::exit(130);
            }
        })?;
    Ok(())
}
