//! `testbed`: the network-namespace lab from the command line (root needed).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use testbed::demo::{self, DemoOptions, FailoverDemoOptions, ServerChoice};
use testbed::plot::Timeline;
use testbed::topology::LabBuilder;

#[derive(Parser)]
#[command(name = "testbed", about = "Network-namespace DHCP lab (needs root)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum ServerKind {
    /// ISC dhcpd 4.4.
    Isc,
    /// Our daemon (`--dhcpd PATH`; default: `TESTBED_DHCPD`, else the
    /// `dhcpd` next to this binary, else `target/{debug,release}/dhcpd`).
    Ours,
}

#[derive(Clone, Copy, ValueEnum)]
enum Side {
    Primary,
    Secondary,
}

#[derive(Subcommand)]
enum Command {
    /// The failover demo: two servers in a failover pair (split 128), a
    /// storm of simulated PXE clients, the primary SIGKILLed mid-storm and
    /// restarted; a per-second timeline and a verdict. `--single`: one
    /// server, a summary table.
    Demo {
        /// The server under test (both sides of the pair).
        #[arg(long, value_enum, default_value = "ours")]
        server: ServerKind,
        /// Our daemon's binary (with `--server ours`).
        #[arg(long)]
        dhcpd: Option<PathBuf>,
        /// One server, no failover (the original demo).
        #[arg(long)]
        single: bool,
        /// Number of simulated clients (default: 300 for the failover demo,
        /// 200 with `--single`).
        #[arg(long)]
        clients: Option<usize>,
        /// First retransmission timeout of the clients, seconds (default: 2
        /// for the failover demo, 4 (RFC 2131) with `--single`).
        #[arg(long)]
        initial_timeout: Option<f64>,
        /// Spread the clients' starts over this many milliseconds (default:
        /// 14000 for the failover demo, 0 with `--single`).
        #[arg(long)]
        spread_ms: Option<u64>,
        /// Failover demo: SIGKILL the primary this many seconds after the
        /// first client starts.
        #[arg(long, default_value_t = 4.0)]
        kill_at: f64,
        /// Failover demo: seconds the primary stays down.
        #[arg(long, default_value_t = 5.0)]
        down_for: f64,
        /// Failover demo: auto-partner-down seconds (0: off).
        #[arg(long, default_value_t = 0)]
        auto_partner_down: u32,
        /// Addresses in the pool when there are more than 240 clients
        /// (default: twice the clients in 4,096 steps, at least 4,096, so
        /// that either server of a pair alone has a free address for every
        /// client).
        #[arg(long)]
        pool: Option<u32>,
        /// Failover demo: seconds the pair runs in NORMAL before the
        /// clients start (a fresh pair's first pool balancing).
        #[arg(long, default_value_t = 0.0)]
        settle: f64,
        /// Failover demo: restart the primary with an empty lease store (a
        /// lost disk); our daemon only.
        #[arg(long)]
        lose_disk: bool,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 120)]
        deadline: u64,
        /// Also print leases granted per second, per server.
        #[arg(long)]
        timeline: bool,
        /// Also draw the timeline as an SVG picture here: leases per second
        /// by server and (failover demo) each server's state as coloured
        /// bands, the kill and the restart marked.
        #[arg(long, value_name = "PATH")]
        svg: Option<PathBuf>,
    },
    /// Builds a lab (servers srv1.., clients cli1..), prints its namespaces
    /// and waits until Ctrl-C, then removes it.
    Up {
        /// Number of server hosts (10.99.0.1, .2, ...).
        #[arg(long, default_value_t = 1)]
        servers: usize,
        /// Number of client hosts.
        #[arg(long, default_value_t = 1)]
        clients: usize,
        /// Add a relay host and this many relayed client hosts (rcl1..).
        #[arg(long, default_value_t = 0)]
        relayed: usize,
        /// Namespace name prefix.
        #[arg(long, default_value = "tb")]
        prefix: String,
    },
    /// Prints the configuration the lab would give a server (the standard
    /// single-server spec), for inspection.
    Config {
        /// Which server's format.
        #[arg(long, value_enum, default_value = "ours")]
        server: ServerKind,
        /// Include the relayed subnet 10.99.1.0/24.
        #[arg(long)]
        relayed: bool,
        /// Make it one side of a failover pair (10.99.0.1 primary, 10.99.0.2 secondary).
        #[arg(long, value_enum)]
        failover: Option<Side>,
    },
    /// Removes namespaces left by testbed runs whose process is gone
    /// (`tb<pid>-<n>-*` with no live <pid>), killing what runs in them by PID.
    Clean {
        /// Namespace name prefix.
        #[arg(long, default_value = "tb")]
        prefix: String,
    },
}

fn main() -> anyhow::Result<()> {
    testbed::cleanup::install_signal_handler().context("installing the Ctrl-C handler")?;
    let cli = Cli::parse();
    if let Command::Config {
        server,
        relayed,
        failover,
    } = &cli.command
    {
        print!("{}", render_config(*server, *relayed, *failover)?);
        return Ok(());
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!("testbed needs root (network namespaces)");
    }
    match cli.command {
        Command::Demo {
            server,
            dhcpd,
            single,
            clients,
            initial_timeout,
            spread_ms,
            kill_at,
            down_for,
            auto_partner_down,
            deadline,
            pool,
            settle,
            lose_disk,
            timeline,
            svg,
        } => {
            let server = match (server, dhcpd) {
                (ServerKind::Isc, _) => ServerChoice::Isc,
                (ServerKind::Ours, Some(path)) => ServerChoice::Ours(path),
                (ServerKind::Ours, None) => ServerChoice::Ours(our_binary()?),
            };
            let initial_timeout = initial_timeout.unwrap_or(if single { 4.0 } else { 2.0 });
            if !(0.01..=64.0).contains(&initial_timeout) {
                bail!("--initial-timeout must be between 0.01 and 64 seconds");
            }
            if !single {
                if !(0.0..=600.0).contains(&kill_at) || !(0.0..=600.0).contains(&down_for) {
                    bail!("--kill-at and --down-for must be between 0 and 600 seconds");
                }
                let options = FailoverDemoOptions {
                    server,
                    clients: clients.unwrap_or(300),
                    initial_timeout: Duration::from_secs_f64(initial_timeout),
                    start_spread: Duration::from_millis(spread_ms.unwrap_or(14_000)),
                    kill_at: Duration::from_secs_f64(kill_at),
                    down_for: Duration::from_secs_f64(down_for),
                    auto_partner_down,
                    deadline: Duration::from_secs(deadline),
                    pool: pool.unwrap_or_else(|| demo::failover_pool_size(clients.unwrap_or(300))),
                    settle: Duration::from_secs_f64(settle.clamp(0.0, 600.0)),
                    lose_disk,
                };
                let result = demo::run_failover(&options)?;
                print!(
                    "{}",
                    result.report.summary_table(&format!(
                        "testbed demo: failover pair ({}), {} simulated PXE clients, primary SIGKILLed mid-storm",
                        result.server,
                        result.report.clients.len()
                    ))
                );
                println!("leases granted per second, and failover states:");
                print!("{}", result.timeline_table());
                print!("{}", result.verdict());
                if let Some(path) = &svg {
                    write_svg(path, &Timeline::from_failover(&result))?;
                }
                if !result.passed() {
                    bail!("demo failed");
                }
                return Ok(());
            }
            let options = DemoOptions {
                server,
                clients: clients.unwrap_or(200),
                initial_timeout: Duration::from_secs_f64(initial_timeout),
                start_spread: Duration::from_millis(spread_ms.unwrap_or(0)),
                deadline: Duration::from_secs(deadline),
                pool,
            };
            let result = demo::run(&options)?;
            print!("{}", result.table());
            if timeline {
                println!("leases granted per second:");
                print!("{}", result.report.timeline_table());
            }
            if let Some(path) = &svg {
                write_svg(path, &Timeline::from_single(&result))?;
            }
            if !result.passed() {
                bail!("demo failed: not every client got a distinct lease");
            }
        }
        Command::Up {
            servers,
            clients,
            relayed,
            prefix,
        } => {
            let mut b = LabBuilder::new().prefix(&prefix);
            for i in 1..=servers {
                b = b.server(&format!("srv{i}"));
            }
            for i in 1..=clients {
                b = b.client(&format!("cli{i}"));
            }
            for i in 1..=relayed {
                b = b.relayed_client(&format!("rcl{i}"));
            }
            let lab = b.build()?;
            println!("lab {} (files in {})", lab.id(), lab.dir().display());
            for h in lab.hosts() {
                let ifs: Vec<String> = h
                    .interfaces
                    .iter()
                    .map(|i| match i.address {
                        Some(a) => format!("{} {a}", i.name),
                        None => i.name.clone(),
                    })
                    .collect();
                println!(
                    "  {:<8} ip netns exec {}   [{}]",
                    h.name,
                    h.namespace,
                    ifs.join(", ")
                );
            }
            println!("  bridges in {}", lab.bridge_namespace());
            println!("READY: press Ctrl-C to remove the lab");
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        Command::Config { .. } => {}
        Command::Clean { prefix } => {
            let removed = clean(&prefix)?;
            println!("removed {removed} namespace(s)");
        }
    }
    Ok(())
}

/// Our daemon's binary ([`testbed::server::default_our_binary`]). When this
/// binary was started by `cargo run` (which sets `CARGO`) and no `dhcpd` sits
/// next to it (nor is `TESTBED_DHCPD` set), it is built first with the same
/// profile, so `cargo run --release -p testbed -- demo` works from a fresh
/// clone and never picks up a daemon of the other profile.
fn our_binary() -> anyhow::Result<PathBuf> {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(PathBuf::from));
    let next_to_me = exe_dir.as_ref().map(|d| d.join("dhcpd"));
    let cargo = std::env::var_os("CARGO");
    let must_build = std::env::var_os("TESTBED_DHCPD").is_none()
        && cargo.is_some()
        && next_to_me.as_ref().is_some_and(|p| !p.is_file());
    if let (true, Some(cargo)) = (must_build, cargo) {
        let release = exe_dir.as_ref().is_some_and(|d| d.ends_with("release"));
        let mut cmd = std::process::Command::new(cargo);
        cmd.args(["build", "-p", "dhcpd"]);
        if release {
            cmd.arg("--release");
        }
        eprintln!("testbed: building our daemon: {cmd:?}");
        let status = cmd.status().context("running cargo build -p dhcpd")?;
        if !status.success() {
            bail!("cargo build -p dhcpd failed ({status})");
        }
    }
    let path = testbed::server::default_our_binary();
    if !path.is_file() {
        bail!(
            "our daemon is not built ({} missing): run `cargo build --release -p dhcpd` \
             or pass --dhcpd PATH",
            path.display()
        );
    }
    eprintln!("testbed: our daemon: {}", path.display());
    Ok(path)
}

/// Draws `timeline` and writes it to `path`.
fn write_svg(path: &std::path::Path, timeline: &Timeline) -> anyhow::Result<()> {
    let svg = timeline.to_svg()?;
    std::fs::write(path, svg).with_context(|| format!("writing {}", path.display()))?;
    println!("timeline picture written to {}", path.display());
    Ok(())
}

fn render_config(
    server: ServerKind,
    relayed: bool,
    failover: Option<Side>,
) -> anyhow::Result<String> {
    use testbed::server::{FailoverRole, FailoverSpec, IscDhcpd, OurDhcpd, ServerSpec};
    use testbed::topology::server_address;
    let mut spec = ServerSpec::standard(server_address(0));
    if relayed {
        spec = spec.with_relayed_subnet();
    }
    if let Some(side) = failover {
        let (role, me, peer) = match side {
            Side::Primary => (FailoverRole::Primary, server_address(0), server_address(1)),
            Side::Secondary => (
                FailoverRole::Secondary,
                server_address(1),
                server_address(0),
            ),
        };
        spec = spec.with_failover(FailoverSpec::new(role, me, peer));
    }
    Ok(match server {
        ServerKind::Isc => IscDhcpd::render(&spec),
        ServerKind::Ours => OurDhcpd::render(&spec, PathBuf::from("/var/lib/dhcpd/leases"))?,
    })
}

/// Removes `PREFIX<pid>-<n>-*` namespaces whose creating process is gone.
fn clean(prefix: &str) -> anyhow::Result<usize> {
    let mut removed = 0;
    for ns in testbed::netns::list()? {
        let Some(rest) = ns.strip_prefix(prefix) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        testbed::cleanup::remove_namespace(&ns);
        removed += 1;
    }
    Ok(removed)
}
