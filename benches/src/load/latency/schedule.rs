//! The latency benchmark's schedule: every server freshly started for
//! every run, the servers taking turns at each rate and the rates taking
//! turns in each repeat, so that a spell of outside load on a shared
//! machine falls on all of them alike (as in the [`ladder`]).
//!
//! [`ladder`]: crate::load::ladder

use std::time::Duration;

use testbed::Lab;

use crate::load::cpu::cpu_time;
use crate::load::error::{Error, Result};
use crate::load::lab;
use crate::load::ladder::{self, LadderConfig};
use crate::load::latency::client::{self, LoadConfig};
use crate::load::latency::report::Measurement;
use crate::load::servers::{self, Programs, Subject};

/// A rate to run at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// DORA exchanges started per second.
    pub per_second: u32,
    /// The share of the ceiling it was derived from, if it was.
    pub fraction: Option<f64>,
}

impl Rate {
    /// `fraction` of `ceiling` DORA/s, rounded to the nearest 10.
    pub fn of_ceiling(fraction: f64, ceiling: f64) -> Self {
        let per_second = ((fraction * ceiling / 10.0).round() * 10.0).max(10.0) as u32;
        Self {
            per_second,
            fraction: Some(fraction),
        }
    }
}

/// The benchmark's settings.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Rates, in the order they run within a repeat.
    pub rates: Vec<Rate>,
    /// Runs per server and rate.
    pub repeats: u32,
    /// Recorded seconds per run (after the warm-up).
    pub duration: Duration,
    /// Unrecorded warm-up per run.
    pub warmup: Duration,
    /// Distinct simulated clients.
    pub clients: u32,
    /// See [`LoadConfig::spin`].
    pub spin: bool,
}

/// Runs every server at every rate `repeats` times in `lab` (built by
/// [`lab::build`]); `progress` sees each run as it ends.
pub fn run_all(
    lab: &Lab,
    subjects: &[Subject],
    programs: &Programs,
    config: &BenchConfig,
    progress: &mut dyn FnMut(&Measurement),
) -> Result<Vec<Measurement>> {
    let mut out = Vec::new();
    for repeat in 0..config.repeats {
        for rate in &config.rates {
            for &subject in subjects {
                let m = one_run(lab, subject, programs, config, *rate, repeat)?;
                progress(&m);
                out.push(m);
            }
        }
    }
    Ok(out)
}

/// One run: `subject` started fresh, loaded at `rate`, stopped.
pub fn one_run(
    lab: &Lab,
    subject: Subject,
    programs: &Programs,
    config: &BenchConfig,
    rate: Rate,
    repeat: u32,
) -> Result<Measurement> {
    let server = lab::server_address();
    let ns = lab.namespace(lab::CLIENT_HOST)?.to_owned();
    let mut process = servers::start(lab, lab::SERVER_HOST, subject, programs, server)?;
    let load = LoadConfig {
        warmup: config.warmup,
        clients: config.clients,
        spin: config.spin,
        ..LoadConfig::new(
            rate.per_second,
            config.duration,
            server,
            lab::CLIENT_ADDRESS,
        )
    };
    let pid = process
        .pid()
        .ok_or_else(|| Error::Tool(format!("{} has no pid", subject.name())))?;
    let cpu_before = cpu_time(pid);
    let result = client::run(&ns, &load);
    let cpu_after = cpu_time(pid);
    let stopped = process.terminate(Duration::from_secs(10));
    let result = result?;
    stopped?;
    let mut m = Measurement::of(subject, rate.per_second, rate.fraction, repeat, &result);
    let wall = result.wall.as_secs_f64();
    if wall > 0.0 {
        m.server_cpu = cpu_after?.saturating_sub(cpu_before?).as_secs_f64() / wall;
    }
    Ok(m)
}

/// The stateless ceiling's best clean DORA/s, measured as `loadbench`
/// measures it: perfdhcp's ladder against the stateless responder.
pub fn measure_ceiling(
    lab: &Lab,
    programs: &Programs,
    config: &LadderConfig,
    progress: &mut dyn FnMut(&ladder::Run),
) -> Result<f64> {
    let runs = ladder::climb(lab, &[Subject::Ceiling], programs, config, progress)?;
    ladder::best(Subject::Ceiling, &runs, config.max_drop)
        .run
        .map(|r| r.report.rate)
        .ok_or_else(|| Error::Measure("no clean run of the ceiling".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_from_the_ceiling_round_to_tens() {
        let r = Rate::of_ceiling(0.85, 37_395.0);
        assert_eq!(r.per_second, 31_790);
        assert_eq!(r.fraction, Some(0.85));
        assert_eq!(Rate::of_ceiling(0.0001, 100.0).per_second, 10);
    }
}
