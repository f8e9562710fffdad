//! The command line (clap derive).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::ops::control::DEFAULT_SOCKET;
use crate::ops::events::DEFAULT_QUEUE;

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
// Parsed once at start: the size of the run variant costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Serve DHCP on the configured interfaces until SIGTERM or SIGINT.
    Run(RunArgs),
    /// Validate a configuration file (TOML or ISC dhcpd.conf) and exit
    /// (non-zero with the error).
    CheckConfig(CheckArgs),
    /// Read an ISC dhcpd.conf and print the equivalent TOML configuration.
    ImportIsc(ImportArgs),
    /// Read a Kea Dhcp4 JSON configuration and print the equivalent TOML.
    ImportKea(ImportArgs),
    /// Show the running daemon's state (pools, failover, reload, counters).
    Status(ClientArgs),
    /// Inspect or release leases of the running daemon.
    #[command(subcommand)]
    Leases(LeasesCommand),
    /// Manage runtime host reservations (effective at once, persisted).
    #[command(subcommand)]
    Hosts(HostsCommand),
    /// Failover status and operator commands.
    #[command(subcommand)]
    Failover(FailoverCommand),
    /// Make the running daemon re-read its configuration file (as SIGHUP).
    Reload(ClientArgs),
}

/// Options of every control-socket client subcommand.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// The daemon's control socket.
    #[arg(long, value_name = "PATH", env = "DHCPD_CONTROL_SOCKET", default_value = DEFAULT_SOCKET)]
    pub socket: PathBuf,
    /// Print the result as JSON (for scripts) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `dhcpd leases …`.
#[derive(Debug, Subcommand)]
pub enum LeasesCommand {
    /// List leases (by default every lease that is not free).
    List {
        /// Only leases in this binding state (active, expired, released, …).
        #[arg(long, value_name = "STATE")]
        state: Option<String>,
        /// Include free leases.
        #[arg(long)]
        all: bool,
        /// Socket and output options.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Show one lease, by IP address or MAC.
    Show {
        /// `10.0.0.5` or `52:54:00:00:00:07`.
        key: String,
        /// Socket and output options.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Release an active lease, by IP address or MAC (a release event is sent).
    Release {
        /// `10.0.0.5` or `52:54:00:00:00:07`.
        key: String,
        /// Socket and output options.
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// `dhcpd hosts …`.
#[derive(Debug, Subcommand)]
pub enum HostsCommand {
    /// List host reservations (from the configuration and runtime).
    List(ClientArgs),
    /// Add (or replace, by name) a runtime host reservation.
    Add {
        /// The reservation's name.
        name: String,
        /// The client's Ethernet address.
        #[arg(long, value_name = "MAC", required_unless_present = "client_id")]
        mac: Option<String>,
        /// The client identifier (option 61), hex bytes.
        #[arg(long, value_name = "HEX")]
        client_id: Option<String>,
        /// The fixed address.
        #[arg(long, value_name = "IP")]
        ip: Ipv4Addr,
        /// Boot file for this host.
        #[arg(long, value_name = "FILE")]
        boot_file: Option<String>,
        /// Next server for this host.
        #[arg(long, value_name = "IP")]
        next_server: Option<Ipv4Addr>,
        /// Socket and output options.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Remove a runtime host reservation by name.
    Remove {
        /// The reservation's name.
        name: String,
        /// Socket and output options.
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// `dhcpd failover …`.
#[derive(Debug, Subcommand)]
pub enum FailoverCommand {
    /// Show each failover relationship's state.
    Status(ClientArgs),
    /// Declare the partner down (PARTNER-DOWN): only when it really is.
    PartnerDown {
        /// The relationship (all if omitted).
        relationship: Option<String>,
        /// Socket and output options.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// The partner is about to be stopped (`start`: answer every client
    /// here, PARTNER-DOWN as soon as it stops) or is not (`cancel`).
    Maintenance {
        /// `start` or `cancel`.
        action: MaintenanceAction,
        /// The relationship (the only one if omitted).
        relationship: Option<String>,
        /// Socket and output options.
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// `dhcpd failover maintenance start|cancel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MaintenanceAction {
    /// Announce the partner's maintenance.
    Start,
    /// Cancel it.
    Cancel,
}

fn parse_mode(s: &str) -> Result<u32, String> {
    u32::from_str_radix(s, 8)
        .ok()
        .filter(|m| *m <= 0o777)
        .ok_or_else(|| format!("{s:?} is not an octal file mode"))
}

/// Log levels accepted by `--log-level` (and `server.log_level`).
pub const LOG_LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];

/// `dhcpd run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Configuration file (TOML).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: PathBuf,
    /// Keep an ISC-format (dhcpd.leases(5)) view of the leases at this path,
    /// rewritten atomically every few seconds while leases change and at
    /// shutdown (overrides `server.lease_file`).
    #[arg(long, value_name = "FILE")]
    pub lease_file: Option<PathBuf>,
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
    /// Microseconds the store waits after the first write of a batch for more
    /// before it flushes: fewer fsyncs per lease, at most this much added
    /// reply latency (default 1 ms). 0 flushes at once.
    #[arg(long, value_name = "MICROS", default_value_t = 1000)]
    pub commit_linger_us: u64,
    /// Size of each of the store's two commit journal files, in MiB. The
    /// database is checkpointed each time one fills: larger files mean
    /// rarer checkpoints and a longer replay after a crash (1–1024).
    #[arg(long, value_name = "MIB", default_value_t = 8,
          value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub journal_mib: u64,
    /// Microseconds the socket thread pauses, once a wake-up has found a
    /// burst of requests waiting, before it waits for the sockets again: the
    /// next batch is then read and answered in fewer system calls and
    /// wake-ups. Off by itself under light load; at most this much added
    /// reply latency under heavy load. 0 turns it off (0–10000).
    #[arg(long, value_name = "MICROS", default_value_t = 200,
          value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pub coalesce_us: u64,
    /// Send every reply as a datagram of its own, even where a run of equal
    /// replies to one destination could go as one UDP GSO send.
    #[arg(long)]
    pub no_udp_gso: bool,
    /// Serve Prometheus metrics over HTTP at this address (e.g.
    /// 127.0.0.1:9267); off by default.
    #[arg(long, alias = "metrics", value_name = "ADDR:PORT")]
    pub metrics_listen: Option<SocketAddr>,
    /// Create the control socket (for `dhcpd status`, `leases`, `hosts`, …)
    /// at this path; off by default (the unit file sets it).
    #[arg(long, value_name = "PATH")]
    pub control_socket: Option<PathBuf>,
    /// Permissions of the control socket (octal): who may connect may do
    /// everything.
    #[arg(long, value_name = "MODE", default_value = "660", value_parser = parse_mode)]
    pub control_socket_mode: u32,
    /// Send MAAS lease notifications (JSON datagrams) to this unix datagram
    /// socket (MAAS: /var/lib/maas/dhcpd.sock).
    #[arg(long, value_name = "PATH")]
    pub event_socket: Option<PathBuf>,
    /// Run this shell command for each lease event, the event JSON on stdin.
    #[arg(long, value_name = "COMMAND")]
    pub event_command: Option<String>,
    /// Offer ISC's OMAPI at this address (MAAS: 127.0.0.1:7911) for host
    /// reservations at run time; off by default. Hosts created over OMAPI
    /// take effect at once and last until the next restart. Needs
    /// `--omapi-key-file`.
    #[arg(long, value_name = "ADDR:PORT", requires = "omapi_key_file")]
    pub omapi_listen: Option<SocketAddr>,
    /// The OMAPI key: a file holding one ISC key statement,
    /// `key omapi_key { algorithm hmac-md5; secret "…"; };` (keep it 0600).
    #[arg(long, value_name = "PATH", requires = "omapi_listen")]
    pub omapi_key_file: Option<PathBuf>,
    /// Drop the runtime host reservations at start (as ISC under MAAS, where
    /// the rendered configuration is the single source of truth).
    #[arg(long)]
    pub forget_runtime_hosts: bool,
    /// Lease events queued per destination before new ones are dropped.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_QUEUE)]
    pub event_queue: usize,
}

/// `dhcpd import-isc` and `dhcpd import-kea`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The configuration file (ISC: includes are followed).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// `dhcpd check-config`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Configuration file (TOML, or ISC dhcpd.conf).
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
        assert_eq!(r.control_socket_mode, 0o660);
        assert_eq!(r.interfaces, ["eth0", "eth1"]);
        assert_eq!(r.server_port, 1067);
        assert_eq!(r.client_port, 68);
        assert!(r.quiet);
        assert!(Cli::try_parse_from(["dhcpd", "run", "-c", "a", "--log-level", "loud"]).is_err());
    }

    #[test]
    fn client_commands_parse() {
        let cli = Cli::try_parse_from([
            "dhcpd",
            "hosts",
            "add",
            "n1",
            "--mac",
            "52:54:00:00:00:07",
            "--ip",
            "10.99.0.7",
            "--socket",
            "/tmp/s",
            "--json",
        ])
        .unwrap();
        let Command::Hosts(HostsCommand::Add {
            name, ip, client, ..
        }) = cli.command
        else {
            panic!("not hosts add")
        };
        assert_eq!((name.as_str(), ip), ("n1", Ipv4Addr::new(10, 99, 0, 7)));
        assert!(client.json);
        assert!(Cli::try_parse_from(["dhcpd", "hosts", "add", "n1", "--ip", "10.99.0.7"]).is_err());
        let cli = Cli::try_parse_from(["dhcpd", "leases", "list", "--state", "active"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Leases(LeasesCommand::List { .. })
        ));
        let cli = Cli::try_parse_from(["dhcpd", "failover", "partner-down", "rack"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Failover(FailoverCommand::PartnerDown { .. })
        ));
        assert!(
            Cli::try_parse_from(["dhcpd", "run", "-c", "a", "--control-socket-mode", "999"])
                .is_err()
        );
    }
}
