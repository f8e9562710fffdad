//! The daemon's effective settings: the configuration file with command-line
//! overrides applied.

use std::net::SocketAddr;
use std::path::PathBuf;

use dhcp_core::config::Config;

use crate::cli::RunArgs;
use crate::ops::events::EventSettings;

/// UDP ports (fixed by DHCP; configurable so tests can run unprivileged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// Where the server listens (67).
    pub server: u16,
    /// Where replies to clients go (68).
    pub client: u16,
    /// Where replies to relay agents go (67).
    pub relay: u16,
}

impl Default for Ports {
    fn default() -> Self {
        Self {
            server: 67,
            client: 68,
            relay: 67,
        }
    }
}

/// Everything `dhcpd run` needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The validated configuration.
    pub config: Config,
    /// Lease store directory.
    pub store: PathBuf,
    /// The ISC-format lease file to keep (a view of the store), if any.
    pub lease_file: Option<PathBuf>,
    /// Interfaces to serve; empty means one socket for every interface.
    pub interfaces: Vec<String>,
    /// Ports.
    pub ports: Ports,
    /// Where to write the counters at shutdown.
    pub stats_file: Option<PathBuf>,
    /// Most transactions per store flush.
    pub max_batch: usize,
    /// Group-commit linger (see `--commit-linger-us`).
    pub commit_linger: std::time::Duration,
    /// Receive coalescing pause (see `--coalesce-us`).
    pub coalesce: std::time::Duration,
    /// Whether runs of equal replies go as UDP GSO sends (see `--no-udp-gso`).
    pub udp_gso: bool,
    /// Store tuning (see `--journal-mib`).
    pub store_options: dhcp_store::StoreOptions,
    /// Metrics, control socket, lease events, reload.
    pub ops: OpsSettings,
}

impl Settings {
    /// Applies the command-line overrides to a loaded configuration.
    ///
    /// Interfaces: `--interface` flags, else `server.interfaces`, else the
    /// interfaces named by shared networks and subnets.
    pub fn new(config: Config, args: &RunArgs) -> Self {
        let store = args
            .store
            .clone()
            .unwrap_or_else(|| config.server.store.clone());
        let mut interfaces: Vec<String> = Vec::new();
        let wanted = if args.interfaces.is_empty() {
            interfaces_of(&config)
        } else {
            args.interfaces.clone()
        };
        for name in wanted {
            if !interfaces.contains(&name) {
                interfaces.push(name);
            }
        }
        let lease_file = args
            .lease_file
            .clone()
            .or_else(|| config.server.lease_file.clone());
        Self {
            store,
            lease_file,
            interfaces,
            ports: Ports {
                server: args.server_port,
                client: args.client_port,
                relay: args.relay_port.unwrap_or(args.server_port),
            },
            stats_file: args.stats_file.clone(),
            max_batch: args.max_batch.max(1),
            commit_linger: std::time::Duration::from_micros(args.commit_linger_us.min(100_000)),
            coalesce: std::time::Duration::from_micros(args.coalesce_us),
            udp_gso: !args.no_udp_gso,
            store_options: dhcp_store::StoreOptions {
                journal_file_bytes: args.journal_mib << 20,
            },
            ops: OpsSettings {
                config_path: Some(args.config.clone()),
                metrics: args.metrics_listen,
                control_socket: args.control_socket.clone(),
                control_mode: args.control_socket_mode,
                kea_control: crate::config_file::kea_control_socket(&args.config),
                events: EventSettings {
                    socket: args.event_socket.clone(),
                    command: args.event_command.clone(),
                    hooks: crate::config_file::isc_hooks(&args.config),
                    kea_script: crate::config_file::kea_script(&args.config),
                    queue: args.event_queue,
                },
                forget_runtime_hosts: args.forget_runtime_hosts,
                omapi: args
                    .omapi_listen
                    .zip(args.omapi_key_file.clone())
                    .map(|(listen, key_file)| OmapiSettings { listen, key_file }),
                interfaces_fixed: !args.interfaces.is_empty(),
                store_fixed: args.store.is_some(),
            },
            config,
        }
    }
}

/// The interfaces a configuration serves when no flag says otherwise.
pub fn interfaces_of(config: &Config) -> Vec<String> {
    if !config.server.interfaces.is_empty() {
        return config.server.interfaces.clone();
    }
    let mut out: Vec<String> = Vec::new();
    let named = config
        .shared_networks
        .iter()
        .filter_map(|n| n.interface.as_ref())
        .chain(config.subnets.iter().filter_map(|s| s.interface.as_ref()));
    for name in named {
        if !out.contains(name) {
            out.push(name.clone());
        }
    }
    out
}

/// Operations settings (command-line flags of `dhcpd run`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpsSettings {
    /// The configuration file (for reload).
    pub config_path: Option<PathBuf>,
    /// Where the metrics exporter listens (off if `None`).
    pub metrics: Option<SocketAddr>,
    /// The control socket (off if `None`).
    pub control_socket: Option<PathBuf>,
    /// Its permissions (and those of the Kea control socket).
    pub control_mode: u32,
    /// The Kea control socket (`Dhcp4/control-socket` of a Kea file; off if
    /// `None`), see [`crate::ops::kea_control`].
    pub kea_control: Option<PathBuf>,
    /// Lease event destinations.
    pub events: EventSettings,
    /// Drop the stored runtime hosts at start.
    pub forget_runtime_hosts: bool,
    /// OMAPI (off if `None`).
    pub omapi: Option<OmapiSettings>,
    /// `--interface` was given (config interface changes do not matter).
    pub interfaces_fixed: bool,
    /// `--store` was given.
    pub store_fixed: bool,
}

/// Where OMAPI listens and with which key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OmapiSettings {
    /// The TCP address.
    pub listen: SocketAddr,
    /// The file with the ISC key statement.
    pub key_file: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    use crate::cli::{Cli, Command};

    fn args(extra: &[&str]) -> RunArgs {
        let mut v = vec!["dhcpd", "run", "--config", "x.toml"];
        v.extend_from_slice(extra);
        match Cli::try_parse_from(v).unwrap().command {
            Command::Run(r) => r,
            _ => unreachable!(),
        }
    }

    const CFG: &str = r#"
[server]
store = "/var/lib/x"

[[shared_networks]]
name = "rack"
interface = "eth1"
[[shared_networks.subnets]]
subnet = "10.99.1.0/24"

[[subnets]]
subnet = "10.99.2.0/24"
interface = "eth2"

[[subnets]]
subnet = "10.99.3.0/24"
"#;

    #[test]
    fn flags_override_file() {
        let cfg = Config::from_toml(CFG).unwrap();
        let s = Settings::new(cfg.clone(), &args(&[]));
        assert_eq!(s.store, PathBuf::from("/var/lib/x"));
        assert_eq!(s.interfaces, ["eth1", "eth2"]);
        assert_eq!(s.ports, Ports::default());
        let s = Settings::new(
            cfg,
            &args(&[
                "--store",
                "/tmp/s",
                "-i",
                "lo",
                "-i",
                "lo",
                "--server-port",
                "1067",
            ]),
        );
        assert_eq!(s.store, PathBuf::from("/tmp/s"));
        assert_eq!(s.interfaces, ["lo"]);
        assert_eq!(s.ports.relay, 1067);
    }

    #[test]
    fn server_interfaces_win_over_networks() {
        let mut cfg = Config::from_toml(CFG).unwrap();
        cfg.server.interfaces = vec!["br0".into()];
        assert_eq!(interfaces_of(&cfg), ["br0"]);
    }
}
