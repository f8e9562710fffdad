//! Supervised processes: a program started inside a host's namespace
//! (`ip netns exec NS PROGRAM ARGS…`, which execs, so the PID we hold is the
//! program's own), its stdout and stderr captured line by line with
//! timestamps into a log file (and kept in memory for waiting on), killed and
//! restarted by PID, and always reaped.
//!
//! Children are put in their own process group (a terminal Ctrl-C reaches only
//! the harness, whose handler cleans up) and get `PR_SET_PDEATHSIG = SIGKILL`,
//! so they die with the thread that started them if the harness itself is
//! killed.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::cleanup;
use crate::error::{Error, Result};

/// The captured output of a process (across restarts).
#[derive(Debug)]
struct LogSink {
    file: Mutex<File>,
    lines: Mutex<Vec<String>>,
    changed: Condvar,
}

impl LogSink {
    fn push(&self, stream: &str, started: Instant, text: &str) {
        let line = format!(
            "{} +{:>9.3}s {stream}| {text}",
            wall_clock(),
            started.elapsed().as_secs_f64()
        );
        if let Ok(mut f) = self.file.lock() {
            let _ = writeln!(f, "{line}");
        }
        let mut lines = match self.lines.lock() {
            Ok(l) => l,
            Err(p) => p.into_inner(),
        };
        lines.push(line);
        self.changed.notify_all();
    }
}

/// A supervised process. Dropping it kills it (SIGKILL) and reaps it.
#[derive(Debug)]
pub struct Process {
    name: String,
    namespace: Option<String>,
    program: String,
    args: Vec<String>,
    log_path: PathBuf,
    sink: Arc<LogSink>,
    child: Option<Child>,
    started: Instant,
    last_status: Option<ExitStatus>,
    restarts: u32,
    /// Extra environment of the next starts.
    env: Vec<(String, String)>,
}

impl Process {
    /// Starts `program args…`, inside namespace `namespace` when given, with
    /// output logged to `log` (appended to).
    pub fn spawn(
        name: &str,
        namespace: Option<&str>,
        program: &str,
        args: &[&str],
        log: &Path,
    ) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| Error::io(format!("open {}", log.display()), e))?;
        let mut p = Process {
            name: name.to_owned(),
            namespace: namespace.map(str::to_owned),
            program: program.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            log_path: log.to_owned(),
            sink: Arc::new(LogSink {
                file: Mutex::new(file),
                lines: Mutex::new(Vec::new()),
                changed: Condvar::new(),
            }),
            child: None,
            started: Instant::now(),
            last_status: None,
            restarts: 0,
            env: Vec::new(),
        };
        p.start()?;
        Ok(p)
    }

    fn start(&mut self) -> Result<()> {
        let mut cmd = match &self.namespace {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, &self.program]);
                c
            }
            None => Command::new(&self.program),
        };
        cmd.args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe and touches no
        // memory of the parent.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
                Ok(())
            });
        }
        unblock_signals_in_child(&mut cmd);
        let line = self.command_line();
        let mut child = cmd.spawn().map_err(|source| Error::Spawn {
            command: line.clone(),
            source,
        })?;
        let pid = child.id() as i32;
        cleanup::register_pid(pid);
        self.sink.push(
            "harness",
            self.started,
            &format!("started pid {pid}: {line}"),
        );
        if let Some(out) = child.stdout.take() {
            pump(out, "out", self.sink.clone(), self.started);
        }
        if let Some(err) = child.stderr.take() {
            pump(err, "err", self.sink.clone(), self.started);
        }
        self.child = Some(child);
        self.last_status = None;
        Ok(())
    }

    /// The process's name (also its log file's stem).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The PID of the running process (`None` once it has been reaped).
    pub fn pid(&self) -> Option<i32> {
        self.child.as_ref().map(|c| c.id() as i32)
    }

    /// The log file.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// How many times [`Process::restart`] was called.
    pub fn restarts(&self) -> u32 {
        self.restarts
    }

    /// The captured (timestamped) log lines so far.
    pub fn log_lines(&self) -> Vec<String> {
        match self.sink.lines.lock() {
            Ok(l) => l.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Whether the process is still running (reaps it if it has exited).
    pub fn is_running(&mut self) -> bool {
        matches!(self.try_wait(), Ok(None))
    }

    /// The exit status if the process has exited (it is then reaped), `None`
    /// while it runs.
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        let Some(child) = self.child.as_mut() else {
            return Ok(self.last_status);
        };
        match child.try_wait() {
            Ok(Some(status)) => {
                self.reaped(status);
                Ok(Some(status))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(Error::io(format!("wait for {}", self.name), e)),
        }
    }

    /// Waits up to `timeout` for the process to exit by itself.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<Option<ExitStatus>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.try_wait()? {
                return Ok(Some(s));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends `signal` to the process (by PID).
    pub fn signal(&self, signal: i32) {
        if let Some(pid) = self.pid() {
            cleanup::kill_pid(pid, signal);
        }
    }

    /// SIGKILLs the process and reaps it.
    pub fn kill(&mut self) -> Result<Option<ExitStatus>> {
        if self.try_wait()?.is_some() {
            return Ok(self.last_status);
        }
        self.signal(libc::SIGKILL);
        self.wait_timeout(Duration::from_secs(5))
    }

    /// SIGTERMs the process, waits up to `grace` for it to exit, then
    /// SIGKILLs it; always reaps it.
    pub fn terminate(&mut self, grace: Duration) -> Result<Option<ExitStatus>> {
        if self.try_wait()?.is_some() {
            return Ok(self.last_status);
        }
        self.signal(libc::SIGTERM);
        if let Some(s) = self.wait_timeout(grace)? {
            return Ok(Some(s));
        }
        self.kill()
    }

    /// Stops the process if it is running (SIGTERM, then SIGKILL after two
    /// seconds) and starts the same command again, logging to the same file.
    pub fn restart(&mut self) -> Result<()> {
        self.terminate(Duration::from_secs(2))?;
        self.restarts += 1;
        self.start()
    }

    /// Sets the extra environment variables of the next starts (replacing
    /// those set before; empty: none).
    pub fn set_env(&mut self, env: &[(&str, &str)]) {
        self.env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
    }

    /// Starts the same command again after the process was killed (no stop first).
    pub fn start_again(&mut self) -> Result<()> {
        if self.is_running() {
            return Err(Error::NoResult(format!("{} is still running", self.name)));
        }
        self.restarts += 1;
        self.start()
    }

    /// Waits until a log line contains `needle` and returns that line. Fails
    /// if the process exits first or `timeout` passes.
    pub fn wait_for_log(&mut self, needle: &str, timeout: Duration) -> Result<String> {
        self.wait_for_log_from(0, needle, timeout)
    }

    /// Like [`Process::wait_for_log`], looking only at lines with index ≥ `from`
    /// (see [`Process::log_len`]).
    pub fn wait_for_log_from(
        &mut self,
        from: usize,
        needle: &str,
        timeout: Duration,
    ) -> Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let lines = match self.sink.lines.lock() {
                    Ok(l) => l,
                    Err(p) => p.into_inner(),
                };
                if let Some(l) = lines.iter().skip(from).find(|l| l.contains(needle)) {
                    return Ok(l.clone());
                }
                let now = Instant::now();
                if now >= deadline {
                    return Err(Error::Timeout {
                        what: format!("{needle:?} in {}", self.log_path.display()),
                        seconds: timeout.as_secs_f64(),
                    });
                }
                let wait = (deadline - now).min(Duration::from_millis(50));
                drop(self.sink.changed.wait_timeout(lines, wait));
            }
            if let Some(status) = self.try_wait()? {
                // Give the pumps a moment to deliver the last lines.
                std::thread::sleep(Duration::from_millis(50));
                let lines = self.log_lines();
                if let Some(l) = lines.iter().skip(from).find(|l| l.contains(needle)) {
                    return Ok(l.clone());
                }
                return Err(Error::Exited {
                    what: self.name.clone(),
                    status: describe(status),
                    log: self.log_path.clone(),
                });
            }
        }
    }

    /// Number of log lines captured so far.
    pub fn log_len(&self) -> usize {
        match self.sink.lines.lock() {
            Ok(l) => l.len(),
            Err(p) => p.into_inner().len(),
        }
    }

    fn reaped(&mut self, status: ExitStatus) {
        if let Some(child) = self.child.take() {
            cleanup::unregister_pid(child.id() as i32);
        }
        self.last_status = Some(status);
        self.sink.push(
            "harness",
            self.started,
            &format!("exited: {}", describe(status)),
        );
    }

    fn command_line(&self) -> String {
        let mut s = String::new();
        if let Some(ns) = &self.namespace {
            s.push_str(&format!("ip netns exec {ns} "));
        }
        s.push_str(&self.program);
        for a in &self.args {
            s.push(' ');
            s.push_str(a);
        }
        s
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// Describes an exit status ("exit 1", "signal 9").
pub fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit {c}"),
        (None, Some(s)) => format!("signal {s}"),
        _ => status.to_string(),
    }
}

fn pump<R: Read + Send + 'static>(src: R, stream: &'static str, sink: Arc<LogSink>, t0: Instant) {
    let _ = std::thread::Builder::new()
        .name(format!("log-{stream}"))
        .spawn(move || {
            let mut reader = BufReader::new(src);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let text = String::from_utf8_lossy(&buf);
                        sink.push(stream, t0, text.trim_end_matches(['\n', '\r']));
                    }
                }
            }
        });
}

/// Wall-clock time of day, UTC, `HH:MM:SS.mmm`.
pub fn wall_clock() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60,
        now.subsec_millis()
    )
}

/// Makes `cmd`'s child start with no blocked signals. The signal mask
/// survives `exec`: a parent that blocks SIGTERM (as the Ctrl-C handler of
/// [`crate::cleanup`] does) would otherwise pass that on, and the child could
/// never be stopped gracefully (nor by `timeout`).
pub fn unblock_signals_in_child(cmd: &mut Command) {
    // SAFETY: sigemptyset and sigprocmask are async-signal-safe and touch
    // only the child's own state.
    unsafe {
        cmd.pre_exec(|| {
            let mut empty: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut empty);
            libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
            Ok(())
        });
    }
}
