//! The programs lease events run (ISC hooks' `execute(…)`, a Kea file's
//! run_script): no shell, stdin and stdout closed, at most
//! [`MAX_HOOK_PROGRAMS`] at a time, each for at most [`COMMAND_TIMEOUT`].

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};

use crate::failure_log::FailureLog;
use crate::serve::counters::Counters;

/// How long the event command (or a hook's program) may run.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// How many programs of one destination may run at once; later events
/// wait in the queue (and are dropped, counted, when it is full).
pub const MAX_HOOK_PROGRAMS: usize = 8;

/// A program to run for an event: these arguments, and these variables
/// added to the server's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// The program (not a shell command).
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Variables set for it.
    pub env: Vec<(String, String)>,
}

/// Runs the programs `programs` gives for each event of `rx`, in order of
/// the events, at most [`MAX_HOOK_PROGRAMS`] at once. Each run counts as
/// one delivered or dropped event. Ends when `rx` closes and the programs
/// still running finished (bounded by their timeout).
pub async fn run<T>(
    mut rx: mpsc::Receiver<T>,
    counters: Arc<Counters>,
    programs: impl Fn(&T) -> Vec<Program>,
) {
    let slots = Arc::new(Semaphore::new(MAX_HOOK_PROGRAMS));
    let log = Arc::new(FailureLog::default());
    while let Some(ev) = rx.recv().await {
        for p in programs(&ev) {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            let (counters, log) = (counters.clone(), log.clone());
            tokio::spawn(async move {
                match run_program(&p).await {
                    Ok(()) => {
                        counters.events_delivered.fetch_add(1, Ordering::Relaxed);
                        log.ok("hook programs run again");
                    }
                    Err(e) => {
                        counters.events_dropped.fetch_add(1, Ordering::Relaxed);
                        log.failed(&format!("hook program {}", p.program.display()), &e);
                    }
                }
                drop(permit);
            });
        }
    }
    let _ = slots.acquire_many(MAX_HOOK_PROGRAMS as u32).await;
}

async fn run_program(p: &Program) -> Result<(), String> {
    let mut child = tokio::process::Command::new(&p.program)
        .args(&p.args)
        .envs(p.env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    match tokio::time::timeout(COMMAND_TIMEOUT, child.wait()).await {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(format!("exited with {status}")),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("still running after {COMMAND_TIMEOUT:?}; killed")),
    }
}
