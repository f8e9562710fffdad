//! `dhcpd`: the DHCPv4 server daemon.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;
use dhcp_core::config::{Config, HostConfig, parse_hex_bytes, parse_mac};
use dhcp_core::lease::HwAddr;
use dhcpd::cli::{
    CheckArgs, Cli, ClientArgs, Command, FailoverCommand, HostsCommand, ImportArgs, LeasesCommand,
    MaintenanceAction, RunArgs,
};
use dhcpd::config_file;
use dhcpd::error_text;
use dhcpd::isc_cli::{self, IscArgs};
use dhcpd::kea_cli::{self, KeaAction, KeaArgs};
use dhcpd::net::coalesce::Coalescer;
use dhcpd::ops::control::{Request, client};
use dhcpd::privileges;
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
    // MAAS's service unit runs `dhcpd -user … -f -q -4 -cf …`: ISC's command
    // line, recognised before clap sees it.
    let argv: Vec<String> = std::env::args().collect();
    // Kea's (`kea-dhcp4 -c FILE`): by program name, or a first flag that
    // neither ISC nor we have (kea_cli says why they never collide).
    if kea_cli::is_kea_argv(&argv) {
        return kea_main(&argv);
    }
    if isc_cli::is_isc_argv(&argv) {
        return isc_main(&argv);
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::CheckConfig(args) => check_config(&args),
        Command::ImportIsc(args) => return import_isc(&args),
        Command::ImportKea(args) => return import_kea(&args),
        other => control(other),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dhcpd: error: {}", error_text::one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The control-socket subcommands.
fn control(cmd: Command) -> Result<()> {
    let (req, c): (Request, ClientArgs) = match cmd {
        Command::Run(_)
        | Command::CheckConfig(_)
        | Command::ImportIsc(_)
        | Command::ImportKea(_) => {
            anyhow::bail!("not a control command")
        }
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
        Command::Failover(FailoverCommand::Maintenance {
            action,
            relationship,
            client,
        }) => (
            Request::FailoverMaintenance {
                relationship,
                start: action == MaintenanceAction::Start,
            },
            client,
        ),
    };
    client::execute(&c.socket, c.json, &req)?;
    Ok(())
}

fn load(path: &Path) -> Result<Config> {
    config_file::load(path).with_context(|| format!("invalid configuration {}", path.display()))
}

/// `FILE: OK (…)`, the summary of a valid configuration.
fn summary(path: &Path, cfg: &Config) -> String {
    let subnets = cfg.all_subnets();
    let pools: usize = subnets.iter().map(|s| s.subnet.pools.len()).sum();
    format!(
        "{}: OK ({}, {}, {}, {})",
        path.display(),
        count(subnets.len(), "subnet", "subnets"),
        count(pools, "pool", "pools"),
        count(cfg.hosts.len(), "host", "hosts"),
        count(
            cfg.failover.len(),
            "failover relationship",
            "failover relationships"
        )
    )
}

/// `1 subnet`, `2 subnets`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn check_config(args: &CheckArgs) -> Result<()> {
    match config_file::load(&args.config) {
        Ok(cfg) => {
            println!("{}", summary(&args.config, &cfg));
            Ok(())
        }
        Err(e @ config_file::LoadError::Isc(_)) => {
            anyhow::bail!("invalid configuration:\n{}", e.render())
        }
        Err(e) => {
            Err(e).with_context(|| format!("invalid configuration {}", args.config.display()))
        }
    }
}

/// `dhcpd import-isc FILE`: the TOML on stdout, or the error in ISC's shape.
fn import_isc(args: &ImportArgs) -> ExitCode {
    match dhcp_isc::parse_file(&args.file).and_then(|c| c.to_toml()) {
        Ok(toml) => {
            print!("{toml}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}", e.isc_render());
            ExitCode::FAILURE
        }
    }
}

/// `dhcpd import-kea FILE`: the TOML on stdout, or the error.
fn import_kea(args: &ImportArgs) -> ExitCode {
    match dhcp_kea::parse_file(&args.file).and_then(|c| c.to_toml()) {
        Ok(toml) => {
            print!("{toml}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Kea's command line: `-t FILE` tests, `-c FILE` serves, `-v`/`-V`/`-W`
/// print what this server is.
fn kea_main(argv: &[String]) -> ExitCode {
    let a = match kea_cli::parse(argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{}: {e}", kea_cli::KEA_NAME);
            return ExitCode::FAILURE;
        }
    };
    match &a.action {
        KeaAction::Version => println!("{}", env!("CARGO_PKG_VERSION")),
        KeaAction::ExtendedVersion => println!("{}", kea_cli::extended_version()),
        KeaAction::BuildConfig => println!("{}", kea_cli::build_config()),
        KeaAction::Test(path) => return kea_test(path),
        KeaAction::Run(path) => {
            if let Err(e) = kea_run(&a, path) {
                eprintln!("{}: error: {}", kea_cli::KEA_NAME, error_text::one_line(&e));
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

/// `-t FILE`: exit 0 when the file is accepted, else 1 with Kea's words.
fn kea_test(path: &Path) -> ExitCode {
    match dhcp_kea::parse_file(path) {
        Ok(c) => {
            eprintln!("{}", summary(path, &c.config));
            if !c.config.failover.is_empty() {
                eprintln!("{}: note: {}", kea_cli::KEA_NAME, dhcp_kea::HA_NOTE);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}", e.kea_render());
            ExitCode::FAILURE
        }
    }
}

/// `-c FILE`: the same daemon as `dhcpd run --config FILE`; the store is
/// beside the memfile the file names (`lease-database`).
fn kea_run(a: &KeaArgs, path: &Path) -> Result<()> {
    // Refused here with Kea's words, before the daemon's own start.
    let parsed = dhcp_kea::parse_file(path).map_err(|e| anyhow::anyhow!(e.kea_render()))?;
    let mut run_argv: Vec<String> = vec![
        "dhcpd".into(),
        "run".into(),
        "--config".into(),
        path.display().to_string(),
    ];
    if let Some(p) = a.port {
        run_argv.push("--server-port".into());
        run_argv.push(p.to_string());
    }
    if a.debug {
        run_argv.push("--log-level".into());
        run_argv.push("debug".into());
    }
    let Command::Run(args) = Cli::try_parse_from(&run_argv)?.command else {
        anyhow::bail!("internal error: not a run command");
    };
    if !parsed.config.failover.is_empty() {
        eprintln!("{}: note: {}", kea_cli::KEA_NAME, dhcp_kea::HA_NOTE);
    }
    eprintln!(
        "{} {} (Kea command line): config {}, store {}",
        kea_cli::KEA_NAME,
        env!("CARGO_PKG_VERSION"),
        path.display(),
        parsed.config.server.store.display()
    );
    run(&args)
}

/// ISC's command line: `-t` tests the configuration, otherwise serve.
fn isc_main(argv: &[String]) -> ExitCode {
    let a = match isc_cli::parse(argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("dhcpd: {e}");
            return ExitCode::FAILURE;
        }
    };
    if a.test_config || a.test_leases {
        return isc_test(&a);
    }
    match isc_run(&a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dhcpd: error: {}", error_text::one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// `-t` / `-T`: check and exit 0 (valid) or 1, saying what was checked.
fn isc_test(a: &IscArgs) -> ExitCode {
    let path = a.config_path();
    eprintln!("dhcpd: checking the configuration file {}", path.display());
    if !a.interfaces.is_empty() {
        eprintln!(
            "dhcpd: trailing arguments are interface names, not checked: {}",
            a.interfaces.join(" ")
        );
    }
    if a.test_leases {
        eprintln!(
            "dhcpd: -T: the lease file {} is not checked: this server keeps leases in its store ({})",
            a.lease_path().display(),
            a.store_dir().display()
        );
    }
    match config_file::load(&path) {
        Ok(cfg) => {
            eprintln!("{}", summary(&path, &cfg));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}", e.render());
            eprintln!("Configuration file errors encountered -- exiting");
            ExitCode::FAILURE
        }
    }
}

/// The socket named by `--socket PATH` in an `execute(…)` of the ISC
/// file's `on commit` hook (MAAS's `maas-dhcp-helper notify … --socket`).
fn event_socket_of(parsed: &dhcp_isc::IscConfig) -> Option<String> {
    for hook in &parsed.extras.events {
        for action in &hook.actions {
            if let dhcp_isc::Action::Execute { args, .. } = action {
                let mut it = args.iter();
                while let Some(a) = it.next() {
                    if *a == dhcp_isc::Expr::Str("--socket".into())
                        && let Some(dhcp_isc::Expr::Str(path)) = it.next()
                    {
                        return Some(path.clone());
                    }
                }
            }
        }
    }
    None
}

/// The OMAPI port and a key file for the ISC configuration at `config`, if
/// it enables OMAPI. An `omapi-port` without a usable key is an error: ISC
/// would serve unauthenticated, which we do not.
fn omapi_of(
    parsed: &dhcp_isc::IscConfig,
    config: &Path,
    store: &Path,
) -> Result<Option<(u16, PathBuf)>> {
    let x = &parsed.extras;
    let Some(port) = x.omapi_port else {
        return Ok(None);
    };
    let name = x.omapi_key.as_deref().with_context(|| {
        format!(
            "{}: omapi-port {port} without omapi-key: OMAPI is only served with a key",
            config.display()
        )
    })?;
    let key = x.keys.iter().find(|k| k.name == name).with_context(|| {
        format!(
            "{}: omapi-key {name} names no key statement",
            config.display()
        )
    })?;
    std::fs::create_dir_all(store).with_context(|| format!("cannot create {}", store.display()))?;
    let path = store.join("omapi.key");
    let text = format!(
        "key {} {{ algorithm {}; secret \"{}\"; }};\n",
        key.name, key.algorithm, key.secret
    );
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        f.write_all(text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(Some((port, path)))
}

/// Serve with ISC's command line: the same daemon as `dhcpd run`, with
/// the store next to the lease file and the interfaces from the arguments.
fn isc_run(a: &IscArgs) -> Result<()> {
    let config = a.config_path();
    let store = a.store_dir();
    let mut run_argv: Vec<String> = vec![
        "dhcpd".into(),
        "run".into(),
        "--config".into(),
        config.display().to_string(),
        "--store".into(),
        store.display().to_string(),
    ];
    for i in &a.interfaces {
        run_argv.push("--interface".into());
        run_argv.push(i.clone());
    }
    if let Some(p) = a.port {
        run_argv.push("--server-port".into());
        run_argv.push(p.to_string());
    }
    // The lease file itself is kept in ISC's format, a view of the store,
    // for dhcp-lease-list, dhcpd-pools and MAAS's pre-start step.
    run_argv.push("--lease-file".into());
    run_argv.push(a.lease_path().display().to_string());
    // Runtime hosts do not outlive a restart under MAAS (reference §6.2).
    run_argv.push("--forget-runtime-hosts".into());
    // MAAS's hooks run its notify program with `--socket PATH`: this
    // daemon sends the same datagram to that socket itself.
    // The file's hooks and OMAPI statements, read once here; a file that does
    // not parse is reported by the server's own start.
    let parsed = dhcp_isc::parse_file(&config).ok();
    if parsed
        .as_ref()
        .is_some_and(|p| p.extras.ping_check == Some(true))
    {
        // Loud, not silent: accepted, but not done.
        eprintln!(
            "dhcpd: warning: ping-check true: no ICMP echo is sent before an offer \
             (an address in use is caught by the client's DECLINE instead); see docs/maas.md"
        );
    }
    if let Some(sock) = parsed.as_ref().and_then(event_socket_of) {
        run_argv.push("--event-socket".into());
        run_argv.push(sock);
    }
    // OMAPI as the file asks (`omapi-port` with `omapi-key`): on loopback,
    // where MAAS's rack process connects; the key statement goes to a file
    // of mode 0600 in the store directory, the form --omapi-key-file reads.
    if let Some(p) = &parsed
        && let Some((port, key_file)) = omapi_of(p, &config, &store)?
    {
        run_argv.push("--omapi-listen".into());
        run_argv.push(format!("127.0.0.1:{port}"));
        run_argv.push("--omapi-key-file".into());
        run_argv.push(key_file.display().to_string());
    }
    let Command::Run(args) = Cli::try_parse_from(&run_argv)?.command else {
        anyhow::bail!("internal error: not a run command");
    };
    if !a.quiet {
        eprintln!(
            "dhcpd {} (ISC command line): config {}, store {}",
            env!("CARGO_PKG_VERSION"),
            config.display(),
            store.display()
        );
    }
    if let Some(pf) = &a.pid_file {
        std::fs::write(pf, format!("{}\n", std::process::id()))
            .with_context(|| format!("cannot write the pid file {}", pf.display()))?;
    }
    if let Err(e) = drop_privileges(a, &store) {
        if let Some(pf) = &a.pid_file {
            let _ = std::fs::remove_file(pf);
        }
        return Err(e);
    }
    let result = run(&args);
    if let Some(pf) = &a.pid_file {
        let _ = std::fs::remove_file(pf);
    }
    result
}

/// ISC's `-user` / `-group`: become that user before serving. The store,
/// the lease file and OMAPI's key file are handed to it first; sockets are
/// opened after the drop, with the two capabilities DHCP needs kept.
fn drop_privileges(a: &IscArgs, store: &Path) -> Result<()> {
    if a.user.is_none() && a.group.is_none() {
        return Ok(());
    }
    let target = privileges::Target::resolve(a.user.as_deref(), a.group.as_deref())
        .context("-user/-group")?;
    if !target.is_change() {
        return Ok(());
    }
    std::fs::create_dir_all(store)
        .with_context(|| format!("cannot create the store {}", store.display()))?;
    privileges::hand_over(store, &target).context("-user/-group")?;
    privileges::hand_over(&a.lease_path(), &target).context("-user/-group")?;
    privileges::drop_to(&target).context("cannot drop privileges (-user/-group)")?;
    if !a.quiet {
        eprintln!(
            "dhcpd: running as uid {} gid {} with CAP_NET_BIND_SERVICE and CAP_NET_RAW only",
            target.uid, target.gid
        );
    }
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
