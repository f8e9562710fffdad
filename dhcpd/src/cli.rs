//! The command line (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// DHCPv4 server for bare-metal provisioning, with ISC-compatible failover.
#[derive(Debug, Parser)]
#[command(name = "dhcpd", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve DHCP on the configured interfaces until SIGTERM or SIGINT.
    Run(RunArgs),
    /// Validate a configuration file and exit (non-zero with the error).
    CheckConfig(CheckArgs),
    /// Talk to the failover relationship of a running daemon.
    #[command(subcommand)]
    Failover(FailoverCommand),
}

/// `dhcpd failover ...` (through the daemon's failover control socket).
#[derive(Debug, Subcommand)]
pub enum FailoverCommand {
    /// Print the failover state, partner state, connection and update queue.
    Status(ControlArgs),
    /// Move the server to PARTNER-DOWN (the partner is known to be down).
    PartnerDown(ControlArgs),
}

/// How to reach a running daemon's failover control socket.
#[derive(Debug, Args)]
pub struct ControlArgs {
    /// The daemon's configuration file (its lease store locates the socket).
    #[arg(
        long,
        short = 'c',
        value_name = "FILE",
        required_unless_present = "socket"
    )]
    pub config: Option<PathBuf>,
    /// The daemon's lease store directory (overrides `server.store`).
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// The control socket itself (default: `<store>.failover.sock`).
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

/// Log levels accepted by `--log-level` (and `server.log_level`).
pub const LOG_LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];

/// `dhcpd run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Configuration file (TOML).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: PathBuf,
    /// Lease store directory (overrides `server.store`).
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Interface to serve; repeat for several (overrides `server.interfaces`).
    #[arg(long = "interface", short = 'i', value_name = "NAME")]
    pub interfaces: Vec<String>,
    /// Log level (overrides `RUST_LOG` and `server.log_level`).
    #[arg(long, value_name = "LEVEL", value_parser = LOG_LEVELS)]
    pub log_level: Option<String>,
    /// Do not log one line per transaction.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Write the packet counters to this file every 5 s and at shutdown
    /// (`name value` lines).
    #[arg(long, value_name = "FILE")]
    pub stats_file: Option<PathBuf>,
    /// UDP port to listen on (testing: DHCP uses 67).
    #[arg(long, hide = true, default_value_t = 67)]
    pub server_port: u16,
    /// UDP port replies to clients go to (testing: DHCP uses 68).
    #[arg(long, hide = true, default_value_t = 68)]
    pub client_port: u16,
    /// UDP port replies to relay agents go to (testing; default: the server port).
    #[arg(long, hide = true)]
    pub relay_port: Option<u16>,
    /// Most transactions committed in one store flush.
    #[arg(long, hide = true, default_value_t = 256)]
    pub max_batch: usize,
}

/// `dhcpd check-config`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Configuration file (TOML).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_flags_parse() {
        let cli = Cli::try_parse_from([
            "dhcpd",
            "run",
            "--config",
            "a.toml",
            "-i",
            "eth0",
            "--interface",
            "eth1",
            "--log-level",
            "debug",
            "--quiet",
            "--server-port",
            "1067",
        ])
        .unwrap();
        let Command::Run(r) = cli.command else {
            panic!("not run")
        };
        assert_eq!(r.interfaces, ["eth0", "eth1"]);
        assert_eq!(r.server_port, 1067);
        assert_eq!(r.client_port, 68);
        assert!(r.quiet);
        assert!(Cli::try_parse_from(["dhcpd", "run", "-c", "a", "--log-level", "loud"]).is_err());
    }
}
