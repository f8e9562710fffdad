//! `dhcpd`: the DHCPv4 server daemon.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;
use dhcp_core::config::{Config, HostConfig, parse_hex_bytes, parse_mac};
use dhcp_core::lease::HwAddr;
use dhcpd::cli::{
    CheckArgs, Cli, ClientArgs, Command, FailoverCommand, HostsCommand, LeasesCommand, RunArgs,
};
use dhcpd::net::coalesce::Coalescer;
use dhcpd::ops::control::{Request, client};
use dhcpd::serve::counters::Counters;
use dhcpd::serve::transaction::LOG_TARGET;
use dhcpd::server;
use dhcpd::settings::Settings;
use tokio::signal::unix::{SignalKind, signal};
use tracing_subscriber::EnvFilter;

/// mimalloc: the daemon allocates and frees small buffers for every packet
/// and lease record on several threads, where glibc's allocator was ~10 % of
/// the CPU under load (profiles of the load benchmark, in the run history of
/// docs/benchmarks.md kept in git).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::CheckConfig(args) => check_config(&args),
        other => control(other),
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

/// The control-socket subcommands.
fn control(cmd: Command) -> Result<()> {
    let (req, c): (Request, ClientArgs) = match cmd {
        Command::Run(_) | Command::CheckConfig(_) => anyhow::bail!("not a control command"),
        Command::Status(c) => (Request::Status, c),
        Command::Reload(c) => (Request::Reload, c),
        Command::Leases(LeasesCommand::List { state, all, client }) => {
            (Request::LeasesList { state, all }, client)
        }
        Command::Leases(LeasesCommand::Show { key, client }) => {
            (Request::LeasesShow { key }, client)
        }
        Command::Leases(LeasesCommand::Release { key, client }) => {
            (Request::LeasesRelease { key }, client)
        }
        Command::Hosts(HostsCommand::List(c)) => (Request::HostsList, c),
        Command::Hosts(HostsCommand::Remove { name, client }) => {
            (Request::HostsRemove { name }, client)
        }
        Command::Hosts(HostsCommand::Add {
            name,
            mac,
            client_id,
            ip,
            boot_file,
            next_server,
            client,
        }) => {
            let mac = match mac {
                Some(m) => Some(HwAddr::ethernet(
                    parse_mac(&m).with_context(|| format!("invalid MAC {m:?}"))?,
                )),
                None => None,
            };
            let client_id = match client_id {
                Some(h) => Some(
                    parse_hex_bytes(&h)
                        .filter(|b| !b.is_empty())
                        .with_context(|| format!("invalid client id {h:?}"))?,
                ),
                None => None,
            };
            let host = HostConfig {
                name,
                mac,
                client_id,
                address: ip,
                boot_file,
                next_server,
                lease_time: Default::default(),
                options: Default::default(),
            };
            (
                Request::HostsAdd {
                    host: Box::new(host),
                },
                client,
            )
        }
        Command::Failover(FailoverCommand::Status(c)) => (Request::FailoverStatus, c),
        Command::Failover(FailoverCommand::PartnerDown {
            relationship,
            client,
        }) => (Request::FailoverPartnerDown { relationship }, client),
    };
    client::execute(&c.socket, c.json, &req)?;
    Ok(())
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
    let coalescer = Arc::new(Coalescer::new(settings.coalesce));
    let park = coalescer.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .on_thread_park(move || park.before_park())
        .build()
        .context("cannot start the async runtime")?;
    let counters = Arc::new(Counters::default());
    runtime.block_on(async {
        let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        // SIGHUP means reload (handled by the operations side once serving);
        // registering here already keeps an early SIGHUP from killing us.
        let _hup = signal(SignalKind::hangup()).context("cannot handle SIGHUP")?;
        let shutdown = async move {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM received"),
                _ = int.recv() => tracing::info!("SIGINT received"),
            }
        };
        server::serve(settings.clone(), counters.clone(), coalescer, shutdown)
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
