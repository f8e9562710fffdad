//! `dora-latency`: DISCOVER→OFFER and REQUEST→ACK latency percentiles
//! (p50, p99, p99.9, max) from our own paced load client, in `loadbench`'s
//! lab (root needed).
//!
//! The rates are shares of the stateless ceiling's best clean DORA/s,
//! measured first with perfdhcp's ladder exactly as `loadbench` does
//! (or given with `--ceiling`), or absolute with `--rates`. Each server is
//! started fresh for every run; the servers take turns at each rate.
//!
//! ```text
//! cargo build --release -p dhcpd -p benches --bins
//! target/release/dora-latency [--servers ours,isc,kea] [--fractions 0.25,0.5,0.85]
//!                             [--ceiling N | --rates 5000,10000] [--duration 10]
//!                             [--repeats 3] [--spin] [--out FILE]
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use benches::load::lab;
use benches::load::ladder::{self, LadderConfig};
use benches::load::latency::report;
use benches::load::latency::schedule::{self, BenchConfig, Rate};
use benches::load::perfdhcp;
use benches::load::servers::Subject;
use clap::Parser;

/// Latency percentiles of DHCP servers under a paced load.
#[derive(Debug, Parser)]
#[command(name = "dora-latency")]
struct Args {
    /// Servers to measure, in order (ceiling, ours, isc, kea, kea-mt2).
    #[arg(long, value_delimiter = ',', default_value = "ours")]
    servers: Vec<String>,
    /// Rates as shares of the ceiling's best clean DORA/s.
    #[arg(long, value_delimiter = ',', default_value = "0.25,0.5,0.85")]
    fractions: Vec<f64>,
    /// The ceiling's best clean DORA/s, instead of measuring it.
    #[arg(long)]
    ceiling: Option<f64>,
    /// Rates to climb when measuring the ceiling (default: loadbench's).
    #[arg(long, value_delimiter = ',')]
    ceiling_rates: Vec<u32>,
    /// Absolute rates (DORA exchanges started per second) instead of
    /// shares of the ceiling.
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["fractions", "ceiling"])]
    rates: Vec<u32>,
    /// Recorded seconds per run.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Unrecorded seconds at the start of each run.
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// Runs per server and rate.
    #[arg(long, default_value_t = 3)]
    repeats: u32,
    /// Distinct simulated clients (hardware addresses).
    #[arg(long, default_value_t = 50_000)]
    clients: u32,
    /// Let the client spin (poll without sleeping, one core busy) instead
    /// of waiting in `ppoll` between sends.
    #[arg(long)]
    spin: bool,
    /// Our daemon (default: `dhcpd` next to this binary).
    #[arg(long)]
    dhcpd: Option<PathBuf>,
    /// Extra argument for our daemon, after `--quiet` (repeatable).
    #[arg(long, allow_hyphen_values = true)]
    dhcpd_arg: Vec<String>,
    /// Write the Markdown table here as well.
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    if let Some(dir) = lab::default_tmpdir()? {
        // SAFETY: no other thread exists yet (the signal thread starts below).
        unsafe { std::env::set_var("TMPDIR", &dir) };
    }
    testbed::cleanup::install_signal_handler().context("installing the Ctrl-C handler")?;
    let args = Args::parse();
    if !lab::is_root() {
        bail!("dora-latency needs root (network namespaces)");
    }
    let subjects = args
        .servers
        .iter()
        .map(|n| Subject::from_name(n).with_context(|| format!("unknown server {n:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let programs = lab::programs(args.dhcpd.clone(), args.dhcpd_arg.clone(), Vec::new())?;
    let mut tools = Vec::new();
    if args.rates.is_empty() && args.ceiling.is_none() {
        tools.push("perfdhcp");
    }
    if subjects.contains(&Subject::Isc) {
        tools.push("dhcpd");
    }
    if subjects
        .iter()
        .any(|s| matches!(s, Subject::Kea | Subject::KeaMt))
    {
        tools.push("kea-dhcp4");
    }
    lab::require_tools(&tools)?;
    let lab = lab::build("dl")?;
    println!("{}", lab::describe(&lab));
    let load_before = lab::loadavg();
    let started = Instant::now();
    let (rates, ceiling_note) = if args.rates.is_empty() {
        let (ceiling, how) = match args.ceiling {
            Some(c) => (c, "given with --ceiling".to_owned()),
            None => {
                let preload = perfdhcp::find_jemalloc();
                let mut config = LadderConfig {
                    perfdhcp_preload: preload,
                    ..LadderConfig::default()
                };
                if !args.ceiling_rates.is_empty() {
                    config.rates = args.ceiling_rates.clone();
                }
                let mut log = |r: &ladder::Run| {
                    println!(
                        "[{:>4.0} s] {}",
                        started.elapsed().as_secs_f64(),
                        ladder::run_line(r)
                    );
                };
                let c = schedule::measure_ceiling(&lab, &programs, &config, &mut log)?;
                let how = format!(
                    "measured: loadbench's perfdhcp ladder, {}",
                    perfdhcp::allocator_name(config.perfdhcp_preload.as_deref())
                );
                (c, how)
            }
        };
        println!("ceiling: {ceiling:.0} DORA/s ({how})");
        let rates = args
            .fractions
            .iter()
            .map(|f| Rate::of_ceiling(*f, ceiling))
            .collect();
        (rates, format!("; ceiling {ceiling:.0} DORA/s ({how})"))
    } else {
        let rates = args
            .rates
            .iter()
            .map(|r| Rate {
                per_second: *r,
                fraction: None,
            })
            .collect();
        (rates, String::new())
    };
    let config = BenchConfig {
        rates,
        repeats: args.repeats,
        duration: Duration::from_secs(args.duration),
        warmup: Duration::from_secs(args.warmup),
        clients: args.clients,
        spin: args.spin,
    };
    let mut log = |m: &report::Measurement| {
        println!(
            "[{:>4.0} s] {}",
            started.elapsed().as_secs_f64(),
            report::run_line(m)
        );
    };
    let runs = schedule::run_all(&lab, &subjects, &programs, &config, &mut log)?;
    let mut table = report::markdown(&runs);
    let summary = format!(
        "all runs done in {:.0} s ({} s recorded per run after {} s warm-up, {} runs per rate, \
         {} clients, client {}{ceiling_note}); load average (1/5/15 min) before: {load_before}, after: {}",
        started.elapsed().as_secs_f64(),
        args.duration,
        args.warmup,
        args.repeats,
        args.clients,
        if args.spin {
            "spinning"
        } else {
            "waiting in ppoll"
        },
        lab::loadavg()
    );
    table.push_str(&format!("\n{summary}\n"));
    println!();
    print!("{table}");
    if let Some(out) = &args.out {
        std::fs::write(out, &table).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}
