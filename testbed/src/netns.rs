//! Thin helpers over `ip(8)` and `setns(2)`: running commands, entering a
//! network namespace from a thread, listing namespaces.

use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// Runs a program to completion, returning its stdout; a non-zero exit is an error.
pub fn run<I, S>(program: &str, args: I) -> Result<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let line = command_line(program, &args);
    let out = Command::new(program)
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| Error::Spawn {
            command: line.clone(),
            source,
        })?;
    if !out.status.success() {
        return Err(Error::Command {
            command: line,
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `ip ARGS...`.
pub fn ip<I, S>(args: I) -> Result<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run("ip", args)
}

/// Runs `ip -n NS ARGS...`.
pub fn ip_in(ns: &str, args: &[&str]) -> Result<String> {
    let mut all = vec!["-n", ns];
    all.extend_from_slice(args);
    ip(all)
}

/// Runs several `ip` commands (one per line, without the leading `ip`) in one
/// `ip -n NS -force -batch -` process (which goes on past failing lines).
pub fn ip_batch(ns: &str, lines: &[String]) -> Result<()> {
    use std::io::Write;
    if lines.is_empty() {
        return Ok(());
    }
    let line = format!("ip -n {ns} -force -batch -");
    let mut child = Command::new("ip")
        .args(["-n", ns, "-force", "-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::Spawn {
            command: line.clone(),
            source,
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let text = lines.join("\n") + "\n";
        stdin
            .write_all(text.as_bytes())
            .map_err(|e| Error::io("writing to ip -batch", e))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Error::io("waiting for ip -batch", e))?;
    if !out.status.success() {
        return Err(Error::Command {
            command: line,
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(())
}

/// The names of all network namespaces known to `ip netns`.
pub fn list() -> Result<Vec<String>> {
    let out = ip(["netns", "list"])?;
    Ok(out
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect())
}

/// PIDs of the processes whose network namespace is `ns`.
pub fn pids(ns: &str) -> Vec<i32> {
    match ip(["netns", "pids", ns]) {
        Ok(out) => out.lines().filter_map(|l| l.trim().parse().ok()).collect(),
        Err(_) => Vec::new(),
    }
}

/// Moves the *calling thread* into network namespace `ns` (only this thread:
/// network namespaces are per thread). Sockets created afterwards belong to
/// `ns` for their whole life, whichever thread uses them.
pub fn enter(ns: &str) -> Result<()> {
    let path = Path::new("/run/netns").join(ns);
    let file = File::open(&path).map_err(|e| Error::io(format!("open {}", path.display()), e))?;
    // SAFETY: setns on a valid, open namespace file descriptor; affects only this thread.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc != 0 {
        return Err(Error::io(
            format!("setns({ns})"),
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

/// Runs `f` on a fresh thread that has entered namespace `ns`, and returns its
/// result. Use it to create sockets inside a namespace.
pub fn in_namespace<T, F>(ns: &str, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    let ns = ns.to_owned();
    std::thread::spawn(move || {
        enter(&ns)?;
        f()
    })
    .join()
    .map_err(|_| Error::NoResult("namespace worker thread panicked".into()))?
}

/// Whether a program is on `PATH` (or is an existing path).
pub fn have_program(program: &str) -> bool {
    if program.contains('/') {
        return Path::new(program).exists();
    }
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
        || ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
            .iter()
            .any(|d| Path::new(d).join(program).is_file())
}

/// Finds a program, or explains which Debian package provides it.
pub fn require_program(program: &str, package: &str) -> Result<()> {
    if have_program(program) {
        Ok(())
    } else {
        Err(Error::MissingProgram {
            program: program.to_owned(),
            package: package.to_owned(),
        })
    }
}

fn command_line(program: &str, args: &[std::ffi::OsString]) -> String {
    let mut s = program.to_owned();
    for a in args {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}
