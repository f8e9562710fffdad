//! Running `perfdhcp` (Kea 2.2, package `kea-admin`) in a lab host and
//! reading its report.
//!
//! perfdhcp acts as a relay: it sends unicast from port 67 with `giaddr` set
//! to its own address, so the figures measure a server's relayed path.
//!
//! perfdhcp runs with jemalloc preloaded unless told otherwise: under glibc's
//! malloc its own work per exchange grows with the server's reply latency
//! (it keeps every outstanding exchange on the heap), so against a server
//! that holds each ACK for a disk flush perfdhcp, not the server, becomes
//! the limit well below the rate it drives against an instant responder.
//! `docs/benchmarks.md` has the measurements.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::load::error::{Error, Result};

/// One perfdhcp run's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct PerfArgs {
    /// New DORA exchanges started per second (`-r`).
    pub rate: u32,
    /// Distinct simulated clients (`-R`).
    pub clients: u32,
    /// Test period (`-p`).
    pub seconds: u32,
    /// Local interface in the client namespace (`-l`).
    pub interface: String,
    /// The server (relay destination).
    pub server: std::net::Ipv4Addr,
    /// A heap allocator preloaded into perfdhcp (`LD_PRELOAD`, perfdhcp's
    /// process only); `None`: glibc's malloc.
    pub preload: Option<PathBuf>,
}

impl PerfArgs {
    /// The command-line arguments: `-4 -g single -l IF -R N -r RATE -p S SERVER`.
    pub fn args(&self) -> Vec<String> {
        vec![
            "-4".into(),
            "-g".into(),
            "single".into(),
            "-l".into(),
            self.interface.clone(),
            "-R".into(),
            self.clients.to_string(),
            "-r".into(),
            self.rate.to_string(),
            "-p".into(),
            self.seconds.to_string(),
            self.server.to_string(),
        ]
    }
}

/// Counters of one exchange type (DISCOVER-OFFER or REQUEST-ACK).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Exchange {
    /// Requests sent.
    pub sent: u64,
    /// Replies received.
    pub received: u64,
    /// Requests without a reply.
    pub drops: u64,
    /// Mean request-to-reply delay, milliseconds.
    pub avg_delay_ms: f64,
}

/// What perfdhcp reported.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PerfReport {
    /// Completed 4-way exchanges per second.
    pub rate: f64,
    /// DISCOVER → OFFER.
    pub discover: Exchange,
    /// REQUEST → ACK.
    pub request: Exchange,
}

impl PerfReport {
    /// Completed DORA exchanges (ACKs received).
    pub fn exchanges(&self) -> u64 {
        self.request.received
    }

    /// The share of started exchanges that did not complete
    /// (1 − ACKs / DISCOVERs sent).
    pub fn drop_ratio(&self) -> f64 {
        if self.discover.sent == 0 {
            return 1.0;
        }
        1.0 - self.request.received as f64 / self.discover.sent as f64
    }

    /// Parses perfdhcp's text output.
    pub fn parse(text: &str) -> Result<Self> {
        let mut report = Self::default();
        let mut section: Option<&mut Exchange> = None;
        let mut saw_rate = false;
        for line in text.lines() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("Rate:") {
                report.rate = first_number(rest)?;
                saw_rate = true;
                continue;
            }
            if line.starts_with("***Statistics for: DISCOVER-OFFER") {
                section = Some(&mut report.discover);
                continue;
            }
            if line.starts_with("***Statistics for: REQUEST-ACK") {
                section = Some(&mut report.request);
                continue;
            }
            if line.starts_with("***") {
                section = None;
                continue;
            }
            let Some(ex) = section.as_deref_mut() else {
                continue;
            };
            if let Some(v) = line.strip_prefix("sent packets:") {
                ex.sent = first_number(v)? as u64;
            } else if let Some(v) = line.strip_prefix("received packets:") {
                ex.received = first_number(v)? as u64;
            } else if let Some(v) = line.strip_prefix("drops:") {
                ex.drops = first_number(v)? as u64;
            } else if let Some(v) = line.strip_prefix("avg delay:") {
                ex.avg_delay_ms = first_number(v)?;
            }
        }
        if !saw_rate || report.discover.sent == 0 {
            return Err(Error::Parse(format!(
                "no rate or DISCOVER statistics in perfdhcp output:\n{text}"
            )));
        }
        Ok(report)
    }
}

fn first_number(s: &str) -> Result<f64> {
    let word = s.split_whitespace().next().unwrap_or("");
    word.parse()
        .map_err(|_| Error::Parse(format!("not a number: {s:?}")))
}

/// Where Debian's `libjemalloc2` puts the library (any multiarch directory).
pub fn find_jemalloc() -> Option<PathBuf> {
    let mut dirs = vec![PathBuf::from("/usr/lib"), PathBuf::from("/usr/local/lib")];
    if let Ok(entries) = std::fs::read_dir("/usr/lib") {
        dirs.extend(
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_dir()),
        );
    }
    dirs.into_iter()
        .map(|d| d.join("libjemalloc.so.2"))
        .find(|p| p.is_file())
}

/// The command that runs perfdhcp inside namespace `ns`, killed after
/// `timeout`.
pub fn command(ns: &str, args: &PerfArgs, timeout: Duration) -> Command {
    let mut cmd = Command::new("timeout");
    cmd.arg(timeout.as_secs().max(1).to_string())
        .args(["ip", "netns", "exec", ns, "perfdhcp"])
        .args(args.args());
    if let Some(lib) = &args.preload {
        cmd.env("LD_PRELOAD", lib);
    }
    cmd
}

/// A one-line description of perfdhcp's allocator, for reports.
pub fn allocator_name(preload: Option<&Path>) -> String {
    match preload {
        Some(lib) => format!("perfdhcp with {} preloaded", lib.display()),
        None => "perfdhcp with glibc's malloc".to_owned(),
    }
}

/// Runs perfdhcp inside namespace `ns` and returns its report. Exit code 3
/// ("some exchanges unsuccessful") is normal under load.
pub fn run(ns: &str, args: &PerfArgs, timeout: Duration) -> Result<PerfReport> {
    let mut cmd = command(ns, args, timeout);
    testbed::process::unblock_signals_in_child(&mut cmd);
    let out = cmd.output().map_err(|e| Error::io("running perfdhcp", e))?;
    let text = String::from_utf8_lossy(&out.stdout);
    match out.status.code() {
        Some(0 | 3) => PerfReport::parse(&text),
        _ => Err(Error::Tool(format!(
            "perfdhcp {:?} failed ({}): {}{}",
            args.args(),
            out.status,
            text,
            String::from_utf8_lossy(&out.stderr)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
Running: perfdhcp -4 -g single -l eth0 -R 50000 -r 1000 -p 5 10.99.0.1
Multi-thread mode disabled
***Rate statistics***
Rate: 999.5 4-way exchanges/second, expected rate: 1000

***Statistics for: DISCOVER-OFFER***
sent packets: 5000
received packets: 4990
drops: 10
drops ratio: 0.2 %
orphans: 0
rejected leases: 0
non unique addresses: 0

min delay: 0.062 ms
avg delay: 0.195 ms
max delay: 3.111 ms
std deviation: 0.100 ms
collected packets: 0

***Statistics for: REQUEST-ACK***
sent packets: 4990
received packets: 4980
drops: 10
drops ratio: 0.2 %
orphans: 0
rejected leases: 0
non unique addresses: 0

min delay: 0.070 ms
avg delay: 0.250 ms
max delay: 4.000 ms
std deviation: 0.100 ms
collected packets: 0
";

    #[test]
    fn parses_report() {
        let r = PerfReport::parse(SAMPLE).unwrap();
        assert_eq!(r.rate, 999.5);
        assert_eq!(r.discover.sent, 5000);
        assert_eq!(r.discover.received, 4990);
        assert_eq!(r.request.sent, 4990);
        assert_eq!(r.request.received, 4980);
        assert_eq!(r.request.avg_delay_ms, 0.25);
        assert_eq!(r.exchanges(), 4980);
        assert!((r.drop_ratio() - 0.004).abs() < 1e-9);
    }

    #[test]
    fn rejects_output_without_statistics() {
        assert!(PerfReport::parse("error: no interface").is_err());
    }

    fn sample_args() -> PerfArgs {
        PerfArgs {
            rate: 2000,
            clients: 50_000,
            seconds: 5,
            interface: "eth0".into(),
            server: std::net::Ipv4Addr::new(10, 99, 0, 1),
            preload: None,
        }
    }

    #[test]
    fn args_use_single_thread_mode() {
        let a = sample_args();
        assert_eq!(
            a.args().join(" "),
            "-4 -g single -l eth0 -R 50000 -r 2000 -p 5 10.99.0.1"
        );
    }

    fn preload_of(cmd: &Command) -> Option<std::ffi::OsString> {
        cmd.get_envs()
            .find(|(k, _)| *k == "LD_PRELOAD")
            .and_then(|(_, v)| v.map(|v| v.to_owned()))
    }

    #[test]
    fn allocator_is_preloaded_into_perfdhcp_only_when_asked() {
        let mut a = sample_args();
        let t = Duration::from_secs(35);
        assert_eq!(preload_of(&command("ns", &a, t)), None);
        a.preload = Some(PathBuf::from("/usr/lib/x/libjemalloc.so.2"));
        let cmd = command("ns", &a, t);
        assert_eq!(
            preload_of(&cmd).as_deref(),
            Some(std::ffi::OsStr::new("/usr/lib/x/libjemalloc.so.2"))
        );
        // The preload is set on this child only, never on loadbench itself
        // (the servers start from loadbench and must keep their own malloc).
        assert!(std::env::var_os("LD_PRELOAD").is_none_or(|v| v != *"/usr/lib/x/libjemalloc.so.2"));
        let argv: Vec<_> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(argv[..5], ["35", "ip", "netns", "exec", "ns"]);
        assert_eq!(argv[5], "perfdhcp");
    }
}
