//! `dhcpd`: the DHCPv4 server daemon.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;
use dhcp_core::config::Config;
use dhcpd::cli::{CheckArgs, Cli, Command, ControlArgs, FailoverCommand, RunArgs};
use dhcpd::counters::Counters;
use dhcpd::server;
use dhcpd::settings::Settings;
use dhcpd::transaction::LOG_TARGET;
use tokio::signal::unix::{SignalKind, signal};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::CheckConfig(args) => check_config(&args),
        Command::Failover(cmd) => failover_command(&cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` prints the whole context chain on one line.
            eprintln!("dhcpd: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load(path: &Path) -> Result<Config> {
    Config::load(path).with_context(|| format!("invalid configuration {}", path.display()))
}

fn check_config(args: &CheckArgs) -> Result<()> {
    let cfg = load(&args.config)?;
    let subnets = cfg.all_subnets();
    let pools: usize = subnets.iter().map(|s| s.subnet.pools.len()).sum();
    println!(
        "{}: OK ({} subnets, {} pools, {} hosts, {} failover relationships)",
        args.config.display(),
        subnets.len(),
        pools,
        cfg.hosts.len(),
        cfg.failover.len()
    );
    Ok(())
}

/// `dhcpd failover status|partner-down`: one request on the control socket.
fn failover_command(cmd: &FailoverCommand) -> Result<()> {
    let (args, request) = match cmd {
        FailoverCommand::Status(a) => (a, "status"),
        FailoverCommand::PartnerDown(a) => (a, "partner-down"),
    };
    let path = control_socket(args)?;
    let answer = dhcpd::failover::control::request(&path, request)?;
    print!("{answer}");
    Ok(())
}

fn control_socket(args: &ControlArgs) -> Result<std::path::PathBuf> {
    if let Some(s) = &args.socket {
        return Ok(s.clone());
    }
    let store = match (&args.store, &args.config) {
        (Some(s), _) => s.clone(),
        (None, Some(c)) => load(c)?.server.store,
        (None, None) => anyhow::bail!("give --config, --store or --socket"),
    };
    Ok(dhcpd::failover::control_socket_path(&store))
}

/// The log filter: `--log-level`, else `RUST_LOG`, else `server.log_level`,
/// else `info`; `--quiet` turns the transaction lines off.
fn log_filter(args: &RunArgs, cfg: &Config) -> Result<EnvFilter> {
    let env = std::env::var("RUST_LOG").ok().filter(|s| !s.is_empty());
    let spec = match (&args.log_level, env, &cfg.server.log_level) {
        (Some(l), _, _) => l.clone(),
        (None, Some(e), _) => e,
        (None, None, Some(l)) => l.clone(),
        (None, None, None) => "info".to_owned(),
    };
    let mut filter = EnvFilter::builder()
        .parse(&spec)
        .with_context(|| format!("invalid log filter {spec:?}"))?;
    if args.quiet {
        filter = filter.add_directive(format!("{LOG_TARGET}=off").parse()?);
    }
    Ok(filter)
}

fn run(args: &RunArgs) -> Result<()> {
    let cfg = load(&args.config)?;
    tracing_subscriber::fmt()
        .with_env_filter(log_filter(args, &cfg)?)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        config = %args.config.display(),
        "dhcpd starting"
    );
    let settings = Settings::new(cfg, args);
    // One thread runs the sockets, the engine and the sender (the store's
    // group commit has its own): the engine is single-owner anyway, and
    // measured on loopback this costs about a third less CPU per DORA than a
    // two-worker runtime, which spends it on cross-thread wake-ups.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let counters = Arc::new(Counters::default());
    runtime.block_on(async {
        let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        // SIGHUP will mean "reload"; until then it must not kill the daemon.
        let mut hup = signal(SignalKind::hangup()).context("cannot handle SIGHUP")?;
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                tracing::warn!(
                    "SIGHUP received: configuration reload is not supported yet; ignored"
                );
            }
        });
        let shutdown = async move {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM received"),
                _ = int.recv() => tracing::info!("SIGINT received"),
            }
        };
        server::serve(settings.clone(), counters.clone(), shutdown)
            .await
            .context("the DHCP server failed")
    })?;
    tracing::info!("stopped; counters: {}", counters.summary_line());
    if let Some(path) = &settings.stats_file {
        server::write_stats(path, &counters)
            .with_context(|| format!("cannot write the stats file {}", path.display()))?;
    }
    Ok(())
}
