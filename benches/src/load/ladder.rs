//! The rising-rate ladder: each paced rate is run (twice by default) against
//! a freshly started server, the servers taking turns at each rate, until a
//! server drops more than the allowed share in every run at two consecutive
//! rates; each run records perfdhcp's report and the server's CPU time.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::time::Duration;

use testbed::Lab;

use crate::load::cpu::cpu_time;
use crate::load::error::{Error, Result};
use crate::load::perfdhcp::{self, PerfArgs, PerfReport};
use crate::load::servers::{self, Programs, Subject};

/// Ladder settings.
#[derive(Debug, Clone)]
pub struct LadderConfig {
    /// Paced rates (`perfdhcp -r`), rising.
    pub rates: Vec<u32>,
    /// Runs per rate.
    pub repeats: u32,
    /// Seconds per run (`perfdhcp -p`).
    pub seconds: u32,
    /// Distinct simulated clients (`perfdhcp -R`).
    pub clients: u32,
    /// A run is clean when at most this share of exchanges failed.
    pub max_drop: f64,
    /// Stop after this many consecutive rates without a clean run (more than
    /// one, so that one disturbed rate on a shared machine does not end the
    /// climb early).
    pub patience: u32,
    /// A heap allocator preloaded into perfdhcp (see [`perfdhcp`]); `None`:
    /// glibc's malloc.
    pub perfdhcp_preload: Option<std::path::PathBuf>,
}

impl Default for LadderConfig {
    fn default() -> Self {
        Self {
            // Steps of 1250 from 10,000 on: the same resolution for every
            // server there (Kea tops out between 12,500 and 15,000). The
            // top, 40,000, lies above what perfdhcp can drive here (about
            // 32,000), so that every climb, the ceiling's included, ends
            // at its own limit rather than at the end of the list.
            rates: [250, 500, 1000, 2000, 4000, 6000, 8000]
                .into_iter()
                .chain((0..=24).map(|i| 10_000 + 1250 * i))
                .collect(),
            repeats: 2,
            seconds: 6,
            clients: 50_000,
            max_drop: 0.01,
            patience: 2,
            perfdhcp_preload: None,
        }
    }
}

/// One run at one rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The server.
    pub subject: Subject,
    /// `perfdhcp -r`.
    pub rate: u32,
    /// perfdhcp's report.
    pub report: PerfReport,
    /// The server's CPU time (user + system) during the run.
    pub cpu: Duration,
    /// Datagrams the kernel dropped on a full socket receive buffer in the
    /// server's namespace during the run (`/proc/net/snmp` RcvbufErrors);
    /// `None` when not measured (runs read back from a results file).
    pub kernel_drops: Option<u64>,
}

impl Run {
    /// Whether the run lost at most `max_drop` of its exchanges.
    pub fn clean(&self, max_drop: f64) -> bool {
        self.report.drop_ratio() <= max_drop
    }

    /// Server CPU microseconds per completed DORA exchange.
    pub fn cpu_per_dora_us(&self) -> f64 {
        let n = self.report.exchanges();
        if n == 0 {
            return f64::NAN;
        }
        self.cpu.as_secs_f64() * 1e6 / n as f64
    }
}

/// Runs the ladder for every server in `subjects` in the lab (see
/// [`schedule`]); `progress` sees every run as it ends.
pub fn climb(
    lab: &Lab,
    subjects: &[Subject],
    programs: &Programs,
    config: &LadderConfig,
    progress: &mut dyn FnMut(&Run),
) -> Result<Vec<Run>> {
    let server = crate::load::lab::server_address();
    let client_ns = lab.namespace(crate::load::lab::CLIENT_HOST)?.to_owned();
    let mut run = |subject, rate| {
        let r = one_run(lab, &client_ns, subject, programs, config, rate, server)?;
        progress(&r);
        Ok(r)
    };
    schedule(subjects, config, &mut run)
}

/// The ladder's order, with `run` doing each run: at each rate, each server
/// still climbing runs once, then each runs again (for `repeats` rounds), so
/// that a spell of outside load on a shared machine falls on every server
/// alike rather than on whichever one was climbing. A server leaves the
/// ladder after `patience` consecutive rates without a clean run. The runs
/// come back grouped by server (in `subjects` order), rising.
pub fn schedule(
    subjects: &[Subject],
    config: &LadderConfig,
    run: &mut dyn FnMut(Subject, u32) -> Result<Run>,
) -> Result<Vec<Run>> {
    let mut runs = Vec::new();
    // (server, consecutive rates without a clean run)
    let mut climbing: Vec<(Subject, u32)> = subjects.iter().map(|s| (*s, 0)).collect();
    for &rate in &config.rates {
        if climbing.is_empty() {
            break;
        }
        let mut clean = vec![false; climbing.len()];
        for _ in 0..config.repeats {
            for (i, (subject, _)) in climbing.iter().enumerate() {
                let r = run(*subject, rate)?;
                clean[i] |= r.clean(config.max_drop);
                runs.push(r);
            }
        }
        for ((_, failed), clean) in climbing.iter_mut().zip(clean) {
            *failed = if clean { 0 } else { *failed + 1 };
        }
        climbing.retain(|(_, failed)| *failed < config.patience.max(1));
    }
    runs.sort_by_key(|r| subjects.iter().position(|s| *s == r.subject));
    Ok(runs)
}

fn one_run(
    lab: &Lab,
    client_ns: &str,
    subject: Subject,
    programs: &Programs,
    config: &LadderConfig,
    rate: u32,
    server: Ipv4Addr,
) -> Result<Run> {
    let mut process = servers::start(
        lab,
        crate::load::lab::SERVER_HOST,
        subject,
        programs,
        server,
    )?;
    let pid = process
        .pid()
        .ok_or_else(|| Error::Tool(format!("{} has no pid", subject.name())))?;
    let args = PerfArgs {
        rate,
        clients: config.clients,
        seconds: config.seconds,
        interface: "eth0".to_owned(),
        server,
        preload: config.perfdhcp_preload.clone(),
    };
    let before = cpu_time(pid)?;
    let udp_before = testbed::stats::UdpCounters::read(lab, crate::load::lab::SERVER_HOST).ok();
    let report = perfdhcp::run(
        client_ns,
        &args,
        Duration::from_secs(u64::from(config.seconds) + 30),
    );
    let after = cpu_time(pid);
    let udp_after = testbed::stats::UdpCounters::read(lab, crate::load::lab::SERVER_HOST).ok();
    process.terminate(Duration::from_secs(10))?;
    let report = report?;
    Ok(Run {
        subject,
        rate,
        report,
        cpu: after?.saturating_sub(before),
        kernel_drops: udp_before
            .zip(udp_after)
            .map(|(b, a)| a.rcvbuf_errors.saturating_sub(b.rcvbuf_errors)),
    })
}

/// The summary of one server's ladder.
#[derive(Debug, Clone, PartialEq)]
pub struct Best {
    /// The server.
    pub subject: Subject,
    /// The clean run with the highest completed rate, if any run was clean.
    pub run: Option<Run>,
}

/// The best clean run of `runs` (highest DORA/s among runs with at most
/// `max_drop` lost).
pub fn best(subject: Subject, runs: &[Run], max_drop: f64) -> Best {
    let run = runs
        .iter()
        .filter(|r| r.subject == subject && r.clean(max_drop))
        .max_by(|a, b| a.report.rate.total_cmp(&b.report.rate))
        .cloned();
    Best { subject, run }
}

/// The one-line-per-run log format.
pub fn run_line(r: &Run) -> String {
    format!(
        "{:<8} -r {:>6}: {:>8.1} DORA/s, drops {:>6.2} % (DO {}/{} RA {}/{}), RA delay {:.2} ms, \
         cpu {:.2} s = {:.1} us/DORA",
        r.subject.name(),
        r.rate,
        r.report.rate,
        r.report.drop_ratio() * 100.0,
        r.report.discover.received,
        r.report.discover.sent,
        r.report.request.received,
        r.report.request.sent,
        r.report.request.avg_delay_ms,
        r.cpu.as_secs_f64(),
        r.cpu_per_dora_us()
    )
}

/// The Markdown summary table (one row per server, with ratios of our
/// daemon to the others) followed by every run.
pub fn markdown(runs: &[Run], subjects: &[Subject], max_drop: f64) -> String {
    let bests: Vec<Best> = subjects.iter().map(|s| best(*s, runs, max_drop)).collect();
    let rate_of = |s: Subject| {
        bests
            .iter()
            .find(|b| b.subject == s)
            .and_then(|b| b.run.as_ref())
            .map(|r| r.report.rate)
    };
    let ours = rate_of(Subject::Ours);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| server | best clean DORA/s | at `-r` | drops | avg REQ→ACK | server CPU per DORA | ours ÷ this |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    for b in &bests {
        match &b.run {
            Some(r) => {
                let ratio = match ours {
                    Some(o) if b.subject != Subject::Ours => format!("{:.2}×", o / r.report.rate),
                    _ => "—".to_owned(),
                };
                let _ = writeln!(
                    out,
                    "| {} | {:.0} | {} | {:.2} % | {:.2} ms | {:.1} µs | {} |",
                    b.subject.description(),
                    r.report.rate,
                    r.rate,
                    r.report.drop_ratio() * 100.0,
                    r.report.request.avg_delay_ms,
                    r.cpu_per_dora_us(),
                    ratio
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "| {} | no clean run | | | | | |",
                    b.subject.description()
                );
            }
        }
    }
    let kea_best = [Subject::Kea, Subject::KeaMt]
        .into_iter()
        .filter_map(rate_of)
        .fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.max(r))));
    if let Some(o) = ours {
        let _ = writeln!(out);
        if let Some(c) = rate_of(Subject::Ceiling) {
            let _ = writeln!(
                out,
                "* ours ÷ ceiling: **{:.0} %** (target ≥ 85 %)",
                o / c * 100.0
            );
        }
        if let Some(k) = kea_best {
            let _ = writeln!(out, "* ours ÷ Kea's best: **{:.2}×** (target ≥ 2×)", o / k);
        }
        if let Some(i) = rate_of(Subject::Isc) {
            let _ = writeln!(out, "* ours ÷ ISC: **{:.2}×**", o / i);
        }
        if let Some(r) = bests
            .iter()
            .find(|b| b.subject == Subject::Ours)
            .and_then(|b| b.run.as_ref())
        {
            let _ = writeln!(
                out,
                "* our CPU per DORA at the best clean rate: **{:.1} µs** (target ≤ 35 µs)",
                r.cpu_per_dora_us()
            );
        }
    }
    let _ = writeln!(out, "\nEvery run:\n");
    let _ = writeln!(
        out,
        "| server | `-r` | DORA/s | drops | DISCOVER sent / OFFER recv | REQUEST sent / ACK recv | avg REQ→ACK | server CPU | CPU per DORA | kernel receive drops |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in runs {
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {:.2} % | {} / {} | {} / {} | {:.2} ms | {:.2} s | {:.1} µs | {} |",
            r.subject.name(),
            r.rate,
            r.report.rate,
            r.report.drop_ratio() * 100.0,
            r.report.discover.sent,
            r.report.discover.received,
            r.report.request.sent,
            r.report.request.received,
            r.report.request.avg_delay_ms,
            r.cpu.as_secs_f64(),
            r.cpu_per_dora_us(),
            r.kernel_drops.map_or("?".to_owned(), |n| n.to_string())
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::perfdhcp::Exchange;

    #[test]
    fn default_ladder_rises_in_even_steps_past_what_perfdhcp_drives() {
        let rates = LadderConfig::default().rates;
        assert!(rates.windows(2).all(|w| w[0] < w[1]));
        let high: Vec<u32> = rates.iter().copied().filter(|r| *r >= 10_000).collect();
        assert!(high.windows(2).all(|w| w[1] - w[0] == 1250));
        assert_eq!(rates.last(), Some(&40_000));
    }

    /// A run that lost `lost` of 1000 exchanges.
    fn fake(subject: Subject, rate: u32, lost: u64) -> Run {
        let report = PerfReport {
            rate: f64::from(rate),
            discover: Exchange {
                sent: 1000,
                received: 1000,
                ..Default::default()
            },
            request: Exchange {
                sent: 1000,
                received: 1000 - lost,
                ..Default::default()
            },
        };
        Run {
            subject,
            rate,
            report,
            cpu: Duration::from_secs(1),
            kernel_drops: None,
        }
    }

    #[test]
    fn servers_take_turns_and_leave_after_their_patience() {
        let config = LadderConfig {
            rates: vec![1000, 2000, 3000, 4000, 5000],
            ..LadderConfig::default()
        };
        // ISC is clean up to 1000, ours up to 4000 (one run of two at 3000).
        let mut order = Vec::new();
        let mut run = |s: Subject, rate: u32| {
            let first_try = !order.contains(&(s, rate));
            order.push((s, rate));
            let lost = match s {
                Subject::Isc if rate > 1000 => 500,
                Subject::Ours if rate == 3000 && first_try => 500,
                Subject::Ours if rate > 4000 => 500,
                _ => 0,
            };
            Ok(fake(s, rate, lost))
        };
        let runs = schedule(&[Subject::Ours, Subject::Isc], &config, &mut run).unwrap();
        use Subject::{Isc, Ours};
        #[rustfmt::skip]
        let expected = [
                (Ours, 1000), (Isc, 1000), (Ours, 1000), (Isc, 1000),
                (Ours, 2000), (Isc, 2000), (Ours, 2000), (Isc, 2000),
                (Ours, 3000), (Isc, 3000), (Ours, 3000), (Isc, 3000),
                // ISC failed two rates in a row: it is out.
                (Ours, 4000), (Ours, 4000),
                (Ours, 5000), (Ours, 5000),
        ];
        assert_eq!(order, expected);
        // Reported per server, rising.
        let subjects: Vec<Subject> = runs.iter().map(|r| r.subject).collect();
        assert_eq!(subjects[..10], [Ours; 10]);
        assert_eq!(subjects[10..], [Isc; 6]);
        let top = best(Ours, &runs, config.max_drop).run.unwrap();
        assert_eq!(top.rate, 4000);
        assert_eq!(best(Isc, &runs, config.max_drop).run.unwrap().rate, 1000);
    }
}
