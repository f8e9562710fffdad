//! `loadbench`: the end-to-end load benchmark (root needed).
//!
//! Builds a lab (server host `srv1` = 10.99.0.1/16, client host `cli1` =
//! 10.99.0.10/16), then for each server in turn runs `perfdhcp -g single` at
//! rising paced rates, each rate twice against a freshly started server,
//! until both runs at a rate lose more than 1 % of their exchanges, at two
//! consecutive rates. Prints
//! one line per run and, at the end, the Markdown tables for
//! `docs/benchmarks.md` (also written to `--out`).
//!
//! ```text
//! cargo build --release -p dhcpd -p benches --bins
//! target/release/loadbench [--servers ceiling,ours,isc,kea,kea-mt2] [--seconds 6]
//!                          [--rates 1000,2000,...] [--repeats 2] [--out FILE]
//!                          [--svg FILE]
//! ```

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use benches::load::lab;
use benches::load::ladder::{self, LadderConfig};
use benches::load::perfdhcp;
use benches::load::plot;
use benches::load::servers::Subject;
use clap::Parser;

/// End-to-end DHCP load benchmark with perfdhcp in a namespace lab.
#[derive(Debug, Parser)]
#[command(name = "loadbench")]
struct Args {
    /// Servers to measure, in order (ceiling, ours, isc, kea, kea-mt2).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "ceiling,ours,isc,kea,kea-mt2"
    )]
    servers: Vec<String>,
    /// Seconds per run (`perfdhcp -p`).
    #[arg(long, default_value_t = 6)]
    seconds: u32,
    /// Runs per rate.
    #[arg(long, default_value_t = 2)]
    repeats: u32,
    /// Paced rates to climb (`perfdhcp -r`); default: 250 … 40000.
    #[arg(long, value_delimiter = ',')]
    rates: Vec<u32>,
    /// Our daemon (default: `dhcpd` next to this binary).
    #[arg(long)]
    dhcpd: Option<PathBuf>,
    /// Extra argument for our daemon, after `--quiet` (repeatable; for
    /// tuning, e.g. `--dhcpd-arg=--commit-linger-us=1000`).
    #[arg(long, allow_hyphen_values = true)]
    dhcpd_arg: Vec<String>,
    /// Extra argument for the stateless responder (repeatable; its
    /// diagnostic variants, e.g. `--responder-arg=--hold-acks-us=3300`).
    #[arg(long, allow_hyphen_values = true)]
    responder_arg: Vec<String>,
    /// perfdhcp's heap allocator: `jemalloc` (preloaded into perfdhcp
    /// only; Debian package libjemalloc2) or `glibc`. Under glibc's malloc
    /// perfdhcp's own cost per exchange grows with the server's reply
    /// latency, so that it, not a server that flushes leases before its
    /// ACKs, is the limit (docs/benchmarks.md).
    #[arg(long, value_enum, default_value_t = PerfMalloc::Jemalloc)]
    perfdhcp_malloc: PerfMalloc,
    /// Write the Markdown tables here as well.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also draw the curves as an SVG picture here: DORA/s achieved and
    /// drop % against the offered rate, one series per server (median of
    /// the repeats, min–max whiskers).
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Measure nothing: draw `--svg` from the "Every run" table of a report
    /// written by `--out` (or kept in docs/benchmarks.md's history).
    #[arg(long, value_name = "FILE", requires = "svg")]
    replot: Option<PathBuf>,
}

/// perfdhcp's heap allocator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum PerfMalloc {
    /// jemalloc, preloaded.
    Jemalloc,
    /// glibc's own malloc.
    Glibc,
}

/// `--replot`: the curves of the runs in `report`, written to `svg`.
fn replot(report: &std::path::Path, svg: &std::path::Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(report).with_context(|| format!("reading {}", report.display()))?;
    let runs = plot::runs_from_markdown(&text)?;
    if runs.is_empty() {
        bail!("no \"Every run\" rows in {}", report.display());
    }
    let mut subjects: Vec<Subject> = Vec::new();
    for r in &runs {
        if !subjects.contains(&r.subject) {
            subjects.push(r.subject);
        }
    }
    let name = report.file_name().map_or_else(
        || report.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let title = format!("loadbench: every run of {name}");
    let picture = plot::to_svg(
        &plot::curves(&runs, &subjects),
        &title,
        LadderConfig::default().max_drop,
    )?;
    std::fs::write(svg, picture).with_context(|| format!("writing {}", svg.display()))?;
    println!(
        "{} runs of {} drawn in {}",
        runs.len(),
        report.display(),
        svg.display()
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    // The lab's files (lease stores, logs) go under TMPDIR; unless it is set,
    // use `target/loadbench-tmp` (same disk, and out of the way of anything
    // that tidies /tmp while the benchmark runs).
    if let Some(dir) = lab::default_tmpdir()? {
        // SAFETY: no other thread exists yet (the signal thread starts below).
        unsafe { std::env::set_var("TMPDIR", &dir) };
    }
    testbed::cleanup::install_signal_handler().context("installing the Ctrl-C handler")?;
    let args = Args::parse();
    if let (Some(report), Some(svg)) = (&args.replot, &args.svg) {
        return replot(report, svg);
    }
    if !lab::is_root() {
        bail!("loadbench needs root (network namespaces)");
    }
    let subjects = args
        .servers
        .iter()
        .map(|n| Subject::from_name(n).with_context(|| format!("unknown server {n:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let programs = lab::programs(
        args.dhcpd.clone(),
        args.dhcpd_arg.clone(),
        args.responder_arg.clone(),
    )?;
    lab::require_tools(&["perfdhcp", "dhcpd", "kea-dhcp4"])?;
    let perfdhcp_preload = match args.perfdhcp_malloc {
        PerfMalloc::Glibc => None,
        PerfMalloc::Jemalloc => Some(perfdhcp::find_jemalloc().context(
            "libjemalloc.so.2 not found (apt-get install libjemalloc2, \
             or --perfdhcp-malloc glibc)",
        )?),
    };
    let mut config = LadderConfig {
        seconds: args.seconds,
        repeats: args.repeats,
        perfdhcp_preload,
        ..LadderConfig::default()
    };
    if !args.rates.is_empty() {
        config.rates = args.rates.clone();
    }
    let lab = lab::build("lb")?;
    println!("{}", lab::describe(&lab));
    let load_before = lab::loadavg();
    let started = Instant::now();
    let mut log = |r: &ladder::Run| {
        println!(
            "[{:>4.0} s] {}",
            started.elapsed().as_secs_f64(),
            ladder::run_line(r)
        );
    };
    let runs = ladder::climb(&lab, &subjects, &programs, &config, &mut log)?;
    let mut table = ladder::markdown(&runs, &subjects, config.max_drop);
    let summary = format!(
        "all runs done in {:.0} s ({} s per run, {} runs per rate, -R {}, {}); \
         load average (1/5/15 min) before: {load_before}, after: {}",
        started.elapsed().as_secs_f64(),
        config.seconds,
        config.repeats,
        config.clients,
        perfdhcp::allocator_name(config.perfdhcp_preload.as_deref()),
        lab::loadavg()
    );
    println!("\n{summary}\n");
    table.push_str(&format!("\n{summary}\n"));
    print!("{table}");
    if let Some(out) = &args.out {
        std::fs::write(out, &table).with_context(|| format!("writing {}", out.display()))?;
    }
    if let Some(path) = &args.svg {
        let title = format!(
            "loadbench: perfdhcp -g single -R {}, {} s per run, {} run(s) per rate",
            config.clients, config.seconds, config.repeats
        );
        let curves = plot::curves(&runs, &subjects);
        let svg = plot::to_svg(&curves, &title, config.max_drop)?;
        std::fs::write(path, svg).with_context(|| format!("writing {}", path.display()))?;
        println!("curves written to {}", path.display());
    }
    Ok(())
}
