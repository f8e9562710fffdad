//! The DHCP server under test, pluggable: ISC dhcpd 4.4 ([`IscDhcpd`]) or our
//! own daemon ([`OurDhcpd`], started as `dhcpd run --config FILE`).
//!
//! Both are described by one [`ServerSpec`] (subnets, pools, next server, boot
//! files) which each implementation renders into its own configuration
//! format. [`from_env`] picks the implementation: our daemon by default
//! (`TESTBED_DHCPD` or [`default_our_binary`]), ISC with `TESTBED_SERVER=isc`,
//! so the integration tests can be switched without code changes.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::Ipv4Net;

use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::netns;
use crate::process::Process;

/// One subnet the server serves.
#[derive(Debug, Clone, PartialEq)]
pub struct SubnetSpec {
    /// The network.
    pub net: Ipv4Net,
    /// The dynamic range (inclusive), if any.
    pub range: Option<(Ipv4Addr, Ipv4Addr)>,
    /// Option 3.
    pub router: Option<Ipv4Addr>,
    /// Option 15.
    pub domain_name: Option<String>,
    /// Option 119 (empty: not sent).
    pub domain_search: Vec<String>,
    /// Whether the server has an interface on this subnet (as opposed to a
    /// subnet reached through a relay).
    pub local: bool,
}

impl SubnetSpec {
    /// A subnet with the range `.100`–`.200` of its /24 and the router `.1`
    /// (the lab's usual plan).
    pub fn standard(net: Ipv4Net, local: bool) -> Self {
        let base = u32::from(net.network());
        Self {
            net,
            range: Some((Ipv4Addr::from(base + 100), Ipv4Addr::from(base + 200))),
            router: Some(Ipv4Addr::from(base + 1)),
            domain_name: None,
            domain_search: Vec::new(),
            local,
        }
    }
}

/// The failover role of a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailoverRole {
    /// Primary (holds MCLT and the split).
    Primary,
    /// Secondary.
    Secondary,
}

/// A failover relationship (ISC `failover peer "NAME" { ... }`); the pools
/// of every subnet are shared through it.
#[derive(Debug, Clone, PartialEq)]
pub struct FailoverSpec {
    /// Relationship name (same on both peers).
    pub name: String,
    /// This server's role.
    pub role: FailoverRole,
    /// This server's address (listen and connect from).
    pub address: Ipv4Addr,
    /// Local port.
    pub port: u16,
    /// The partner's address.
    pub peer_address: Ipv4Addr,
    /// The partner's port.
    pub peer_port: u16,
    /// Seconds of silence before the partner is considered unreachable.
    pub max_response_delay: u32,
    /// Binding updates in flight before waiting for acks.
    pub max_unacked_updates: u32,
    /// `load balance max seconds`.
    pub load_balance_max_seconds: u32,
    /// MCLT (primary only).
    pub mclt: u32,
    /// `split` (primary only).
    pub split: u16,
    /// `auto-partner-down` seconds (0 = off).
    pub auto_partner_down: u32,
    /// Fencing-aware partner-down (our daemon only: ISC has no such
    /// setting, so its configuration carries none).
    pub fencing: Option<dhcp_core::config::FencingConfig>,
}

impl FailoverSpec {
    /// The settings of the reference ISC pair (`real-peers.md` §6): name
    /// `fo`, port 647, max-response-delay 30, max-unacked-updates 10, load
    /// balance max seconds 3, mclt 60, split 128.
    pub fn new(role: FailoverRole, address: Ipv4Addr, peer_address: Ipv4Addr) -> Self {
        Self {
            name: "fo".to_owned(),
            role,
            address,
            port: 647,
            peer_address,
            peer_port: 647,
            max_response_delay: 30,
            max_unacked_updates: 10,
            load_balance_max_seconds: 3,
            mclt: 60,
            split: 128,
            auto_partner_down: 0,
            fencing: None,
        }
    }
}

/// What the server should serve, independent of the implementation.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSpec {
    /// Interface to serve inside the server's namespace.
    pub interface: String,
    /// The subnets.
    pub subnets: Vec<SubnetSpec>,
    /// BOOTP `siaddr` for every client.
    pub next_server: Option<Ipv4Addr>,
    /// Boot file for clients that are not iPXE.
    pub filename: Option<String>,
    /// Boot file for iPXE (user class "iPXE"); `None` means `filename`.
    pub ipxe_filename: Option<String>,
    /// Default lease time, seconds.
    pub lease_time: u32,
    /// Maximum lease time, seconds.
    pub max_lease_time: u32,
    /// Failover relationship, if the server is one of a pair.
    pub failover: Option<FailoverSpec>,
    /// Starvation limits (our daemon only: ISC has none).
    pub limits: dhcp_core::config::LimitsConfig,
}

impl ServerSpec {
    /// The lab's usual single-server setup: `eth0` on 10.99.0.0/24, range
    /// .100–.200, next server `next_server`, boot file `pxelinux.0`, iPXE
    /// gets `boot.ipxe`, 600 s leases.
    pub fn standard(next_server: Ipv4Addr) -> Self {
        Self {
            interface: "eth0".to_owned(),
            subnets: vec![SubnetSpec::standard(crate::topology::server_net(), true)],
            next_server: Some(next_server),
            filename: Some("pxelinux.0".to_owned()),
            ipxe_filename: Some("boot.ipxe".to_owned()),
            lease_time: 600,
            max_lease_time: 7200,
            failover: None,
            limits: Default::default(),
        }
    }

    /// Makes the server one of a failover pair.
    pub fn with_failover(mut self, failover: FailoverSpec) -> Self {
        self.failover = Some(failover);
        self
    }

    /// Like [`ServerSpec::standard`] on the wide network 10.99.0.0/16 (see
    /// [`crate::topology::LabBuilder::wide`]), with the range
    /// 10.99.16.0–10.99.31.255 (4,096 addresses).
    pub fn wide(next_server: Ipv4Addr) -> Self {
        let mut spec = Self::standard(next_server);
        spec.subnets = vec![SubnetSpec {
            net: crate::topology::wide_server_net(),
            range: Some((Ipv4Addr::new(10, 99, 16, 0), Ipv4Addr::new(10, 99, 31, 255))),
            router: Some(Ipv4Addr::new(10, 99, 0, 1)),
            domain_name: None,
            domain_search: Vec::new(),
            local: true,
        }];
        spec
    }

    /// [`Self::wide`] with a pool of `addresses` from 10.99.16.0 (at most
    /// the rest of the /16, 10.99.16.0–10.99.255.254).
    pub fn wide_pool(next_server: Ipv4Addr, addresses: u32) -> Self {
        let mut spec = Self::wide(next_server);
        let first = u32::from(Ipv4Addr::new(10, 99, 16, 0));
        let last = u32::from(Ipv4Addr::new(10, 99, 255, 254));
        let end = first.saturating_add(addresses.max(1) - 1).min(last);
        if let Some(s) = spec.subnets.first_mut() {
            s.range = Some((Ipv4Addr::from(first), Ipv4Addr::from(end)));
        }
        spec
    }

    /// Adds the relayed client segment (10.99.1.0/24, range .100–.200, router .1).
    pub fn with_relayed_subnet(mut self) -> Self {
        self.subnets
            .push(SubnetSpec::standard(crate::topology::client_net(), false));
        self
    }

    /// Sets the lease times.
    pub fn with_lease_time(mut self, default: u32, max: u32) -> Self {
        self.lease_time = default;
        self.max_lease_time = max;
        self
    }

    /// Sets the range of the first subnet.
    pub fn with_range(mut self, start: Ipv4Addr, end: Ipv4Addr) -> Self {
        if let Some(s) = self.subnets.first_mut() {
            s.range = Some((start, end));
        }
        self
    }
}

/// A DHCP server implementation the lab can start.
pub trait DhcpServer: std::fmt::Debug + Send + Sync {
    /// Short name for logs and tables (`isc`, `ours`).
    fn name(&self) -> &str;

    /// Writes the configuration for `spec` into the lab directory, starts the
    /// server in `host` and returns once it is serving.
    fn start(&self, lab: &Lab, host: &str, spec: &ServerSpec) -> Result<Process>;

    /// A log line (substring) the server prints once it serves, if it has one.
    fn ready_marker(&self) -> Option<&str>;

    /// Starts a server that was killed (or exited) again, with the same
    /// command line, configuration and lease store, and returns once it serves.
    fn start_again(&self, process: &mut Process) -> Result<()> {
        let mark = process.log_len();
        process.start_again()?;
        wait_ready(process, mark, self.ready_marker())
    }
}

/// Waits for `marker` in the log lines after index `from`; without a marker,
/// waits half a second and checks the process still runs.
fn wait_ready(process: &mut Process, from: usize, marker: Option<&str>) -> Result<()> {
    match marker {
        Some(m) => {
            process.wait_for_log_from(from, m, Duration::from_secs(10))?;
        }
        None => {
            if let Some(status) = process.wait_timeout(Duration::from_millis(500))? {
                return Err(Error::Exited {
                    what: process.name().to_owned(),
                    status: crate::process::describe(status),
                    log: process.log_path().to_owned(),
                });
            }
        }
    }
    Ok(())
}

/// ISC dhcpd 4.4 (Debian package `isc-dhcp-server`), run in the foreground
/// with `-f -d`, `ping-check false` and a fresh lease file per start.
#[derive(Debug, Clone)]
pub struct IscDhcpd {
    /// The `dhcpd` binary.
    pub program: PathBuf,
}

impl Default for IscDhcpd {
    fn default() -> Self {
        Self {
            program: PathBuf::from("/usr/sbin/dhcpd"),
        }
    }
}

impl IscDhcpd {
    /// The lease file of the ISC server started in `host` (see
    /// [`crate::isc::IscLeaseFile`]).
    pub fn lease_file(lab: &Lab, host: &str) -> PathBuf {
        lab.path(&format!("dhcpd-{host}.leases"))
    }

    /// Renders `spec` as a dhcpd.conf.
    pub fn render(spec: &ServerSpec) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# generated by testbed");
        let _ = writeln!(s, "authoritative;");
        let _ = writeln!(s, "ddns-update-style none;");
        let _ = writeln!(s, "ping-check false;");
        let _ = writeln!(s, "default-lease-time {};", spec.lease_time);
        let _ = writeln!(s, "max-lease-time {};", spec.max_lease_time);
        let _ = writeln!(s, "min-lease-time 1;");
        if let Some(fo) = &spec.failover {
            let _ = writeln!(s, "failover peer \"{}\" {{", fo.name);
            let role = match fo.role {
                FailoverRole::Primary => "primary",
                FailoverRole::Secondary => "secondary",
            };
            let _ = writeln!(s, "  {role};");
            let _ = writeln!(s, "  address {};\n  port {};", fo.address, fo.port);
            let _ = writeln!(
                s,
                "  peer address {};\n  peer port {};",
                fo.peer_address, fo.peer_port
            );
            let _ = writeln!(s, "  max-response-delay {};", fo.max_response_delay);
            let _ = writeln!(s, "  max-unacked-updates {};", fo.max_unacked_updates);
            let _ = writeln!(
                s,
                "  load balance max seconds {};",
                fo.load_balance_max_seconds
            );
            if fo.role == FailoverRole::Primary {
                let _ = writeln!(s, "  mclt {};\n  split {};", fo.mclt, fo.split);
            }
            if fo.auto_partner_down > 0 {
                let _ = writeln!(s, "  auto-partner-down {};", fo.auto_partner_down);
            }
            let _ = writeln!(s, "}}");
        }
        for sub in &spec.subnets {
            let _ = writeln!(
                s,
                "subnet {} netmask {} {{",
                sub.net.network(),
                sub.net.netmask()
            );
            match (sub.range, &spec.failover) {
                (Some((a, b)), Some(fo)) => {
                    let _ = writeln!(
                        s,
                        "  pool {{\n    failover peer \"{}\";\n    range {a} {b};\n  }}",
                        fo.name
                    );
                }
                (Some((a, b)), None) => {
                    let _ = writeln!(s, "  range {a} {b};");
                }
                (None, _) => {}
            }
            if let Some(r) = sub.router {
                let _ = writeln!(s, "  option routers {r};");
            }
            if let Some(d) = &sub.domain_name {
                let _ = writeln!(s, "  option domain-name \"{d}\";");
            }
            if !sub.domain_search.is_empty() {
                let names: Vec<String> = sub
                    .domain_search
                    .iter()
                    .map(|n| format!("\"{n}\""))
                    .collect();
                let _ = writeln!(s, "  option domain-search {};", names.join(", "));
            }
            let _ = writeln!(s, "  option subnet-mask {};", sub.net.netmask());
            if let Some(ns) = spec.next_server {
                let _ = writeln!(s, "  next-server {ns};");
            }
            match (&spec.filename, &spec.ipxe_filename) {
                (Some(f), Some(i)) => {
                    let _ = writeln!(
                        s,
                        "  if exists user-class and option user-class = \"iPXE\" {{\n    filename \"{i}\";\n  }} else {{\n    filename \"{f}\";\n  }}"
                    );
                }
                (Some(f), None) | (None, Some(f)) => {
                    let _ = writeln!(s, "  filename \"{f}\";");
                }
                (None, None) => {}
            }
            let _ = writeln!(s, "}}");
        }
        s
    }
}

impl DhcpServer for IscDhcpd {
    fn name(&self) -> &str {
        "isc"
    }

    fn start(&self, lab: &Lab, host: &str, spec: &ServerSpec) -> Result<Process> {
        let program = self.program.to_string_lossy().into_owned();
        netns::require_program(&program, "isc-dhcp-server")?;
        let conf = lab.write_file(&format!("dhcpd-{host}.conf"), &Self::render(spec))?;
        let leases = lab.write_file(&format!("dhcpd-{host}.leases"), "")?;
        let pid = lab.path(&format!("dhcpd-{host}.pid"));
        let args = [
            "-4",
            "-f",
            "-d",
            "-cf",
            &conf.to_string_lossy(),
            "-lf",
            &leases.to_string_lossy(),
            "-pf",
            &pid.to_string_lossy(),
            &spec.interface,
        ]
        .map(str::to_owned);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut p = lab.spawn(host, &format!("dhcpd-{host}"), &program, &args)?;
        wait_ready(&mut p, 0, self.ready_marker())?;
        Ok(p)
    }

    fn ready_marker(&self) -> Option<&str> {
        Some("Server starting service")
    }
}

/// Our daemon, started as `PROGRAM run --config FILE` with a TOML file
/// rendered from the `dhcp-core` configuration model.
#[derive(Debug, Clone)]
pub struct OurDhcpd {
    /// The `dhcpd` binary we built.
    pub program: PathBuf,
    /// Extra arguments appended after `run --config FILE`.
    pub extra_args: Vec<String>,
    /// A log line (substring) that shows the daemon is serving; `None`
    /// waits half a second and checks it is still running. Default
    /// `": serving"` (the daemon logs `dhcpd::server: serving sockets=…`).
    pub ready_marker: Option<String>,
}

impl OurDhcpd {
    /// Our daemon at `program` with default settings.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            extra_args: Vec::new(),
            ready_marker: Some(": serving".to_owned()),
        }
    }

    /// Writes the daemon's counters to `path` (`--stats-file`; written
    /// again at exit).
    pub fn with_stats_file(mut self, path: &std::path::Path) -> Self {
        self.extra_args.push("--stats-file".to_owned());
        self.extra_args.push(path.to_string_lossy().into_owned());
        self
    }

    /// Builds the `dhcp-core` configuration for `spec`, with the lease store
    /// in `store`.
    pub fn config(spec: &ServerSpec, store: PathBuf) -> Result<dhcp_core::config::Config> {
        use dhcp_core::config::{
            Config, LeaseTimes, OptionSet, PoolConfig, PxeConfig, PxeMatch, PxeRule, ServerConfig,
            SubnetConfig,
        };
        let subnets = spec
            .subnets
            .iter()
            .map(|s| SubnetConfig {
                subnet: s.net,
                interface: s.local.then(|| spec.interface.clone()),
                next_server: spec.next_server,
                ignore_client_uids: None,
                lease_time: LeaseTimes::default(),
                options: OptionSet {
                    routers: s.router.map(|r| vec![r]),
                    domain_name: s.domain_name.clone(),
                    domain_search: (!s.domain_search.is_empty()).then(|| s.domain_search.clone()),
                    ..OptionSet::default()
                },
                pxe: true,
                abandon_time: None,
                pools: s
                    .range
                    .map(|(start, end)| PoolConfig {
                        start,
                        end,
                        failover_peer: spec.failover.as_ref().map(|f| f.name.clone()),
                    })
                    .into_iter()
                    .collect(),
            })
            .collect();
        let mut rules = Vec::new();
        let rule = |name: &str, matches: PxeMatch, file: &str| PxeRule {
            name: name.to_owned(),
            matches,
            filename: Some(file.to_owned()),
            path_prefix: None,
            vendor_class: None,
            force_options: Vec::new(),
            vendor_options: Vec::new(),
        };
        if let Some(i) = &spec.ipxe_filename {
            let m = PxeMatch {
                ipxe: Some(true),
                ..PxeMatch::default()
            };
            rules.push(rule("ipxe", m, i));
        }
        if let Some(f) = &spec.filename {
            let m = PxeMatch {
                any: true,
                ..PxeMatch::default()
            };
            rules.push(rule("default", m, f));
        }
        let cfg = Config {
            server: ServerConfig {
                store,
                interfaces: vec![spec.interface.clone()],
                ..ServerConfig::default()
            },
            lease_time: LeaseTimes {
                default: Some(spec.lease_time),
                max: Some(spec.max_lease_time),
                min: None,
            },
            subnets,
            pxe: PxeConfig {
                rules,
                // The same lease time as everyone (as the ISC config gives);
                // `None` would not survive TOML (its serde default is 30 s).
                pxe_lease_time: spec.lease_time,
                ..PxeConfig::default()
            },
            failover: spec.failover.iter().map(our_failover).collect(),
            limits: spec.limits.clone(),
            ..Config::default()
        };
        cfg.validate().map_err(|e| Error::Config(e.to_string()))?;
        Ok(cfg)
    }

    /// Renders `spec` as our TOML configuration.
    pub fn render(spec: &ServerSpec, store: PathBuf) -> Result<String> {
        let cfg = Self::config(spec, store)?;
        toml::to_string(&cfg).map_err(|e| Error::Config(e.to_string()))
    }
}

impl DhcpServer for OurDhcpd {
    fn name(&self) -> &str {
        "ours"
    }

    fn start(&self, lab: &Lab, host: &str, spec: &ServerSpec) -> Result<Process> {
        let program = self.program.to_string_lossy().into_owned();
        netns::require_program(&program, "(build it: cargo build -p dhcpd)")?;
        let store = lab.path(&format!("store-{host}"));
        let conf = lab.write_file(&format!("dhcpd-{host}.toml"), &Self::render(spec, store)?)?;
        let conf = conf.to_string_lossy().into_owned();
        let mut args = vec!["run", "--config", conf.as_str()];
        let control = control_socket(lab, host).to_string_lossy().into_owned();
        if !self.extra_args.iter().any(|a| a == "--control-socket") {
            args.extend(["--control-socket", control.as_str()]);
        }
        args.extend(self.extra_args.iter().map(String::as_str));
        let mut p = lab.spawn(host, &format!("dhcpd-{host}"), &program, &args)?;
        wait_ready(&mut p, 0, self.ready_marker())?;
        Ok(p)
    }

    fn ready_marker(&self) -> Option<&str> {
        self.ready_marker.as_deref()
    }
}

/// The control socket our daemon in `host` listens on (unless the test gave
/// its own `--control-socket`).
pub fn control_socket(lab: &Lab, host: &str) -> PathBuf {
    lab.path(&format!("ctl-{host}.sock"))
}

fn our_failover(fo: &FailoverSpec) -> dhcp_core::config::FailoverConfig {
    use dhcp_core::config::{FailoverConfig, Role};
    let primary = fo.role == FailoverRole::Primary;
    FailoverConfig {
        name: fo.name.clone(),
        role: if primary {
            Role::Primary
        } else {
            Role::Secondary
        },
        address: fo.address,
        port: fo.port,
        peer_address: fo.peer_address,
        peer_port: fo.peer_port,
        max_response_delay: fo.max_response_delay,
        max_unacked_updates: fo.max_unacked_updates,
        mclt: primary.then_some(fo.mclt),
        split: primary.then_some(fo.split),
        hba: None,
        load_balance_max_seconds: fo.load_balance_max_seconds,
        auto_partner_down: fo.auto_partner_down,
        max_lease_misbalance: 15,
        max_lease_ownership: 10,
        min_balance: 60,
        max_balance: 3600,
        fencing: fo.fencing.clone(),
    }
}

/// The server chosen by the environment: our daemon (found by
/// [`default_our_binary`]) unless `TESTBED_SERVER=isc` selects ISC dhcpd.
///
/// Integration tests use this, so a test suite can be pointed at ISC with one
/// variable (tests that are about ISC itself use [`IscDhcpd`] directly).
pub fn from_env() -> Box<dyn DhcpServer> {
    match std::env::var("TESTBED_SERVER").as_deref() {
        Ok("isc") => Box::new(IscDhcpd::default()),
        _ => Box::new(OurDhcpd::new(default_our_binary())),
    }
}

/// Where our daemon's binary is looked for, in order: `TESTBED_DHCPD`; next
/// to the running executable (so `target/release/testbed` uses
/// `target/release/dhcpd`; test executables in `deps/` look one level up);
/// then `debug/dhcpd` and `release/dhcpd` of this workspace's target
/// directory (or `CARGO_TARGET_DIR`).
pub fn our_binary_candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = std::env::var_os("TESTBED_DHCPD") {
        out.push(PathBuf::from(p));
        return out;
    }
    if let Ok(exe) = std::env::current_exe() {
        let mut dir = exe.parent().map(PathBuf::from);
        for _ in 0..2 {
            if let Some(d) = dir {
                out.push(d.join("dhcpd"));
                dir = d.parent().map(PathBuf::from);
            }
        }
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    out.push(target.join("debug/dhcpd"));
    out.push(target.join("release/dhcpd"));
    out
}

/// Starts `program` (ISC dhcpd, or our binary, which takes the same
/// arguments) in `host` as MAAS starts ISC: `-f -d -4 -cf FILE -lf FILE -pf
/// FILE eth0`, the configuration `conf` written to `NAME.conf` and a fresh
/// lease file, `NAME` being the process name. Does not wait for it to serve.
pub fn start_with_isc_argv(
    lab: &Lab,
    host: &str,
    name: &str,
    program: &Path,
    conf: &str,
) -> Result<Process> {
    let cf = lab.write_file(&format!("{name}.conf"), conf)?;
    let lf = lab.write_file(&format!("{name}.leases"), "")?;
    let pf = lab.path(&format!("{name}.pid"));
    let args = [
        "-f",
        "-d",
        "-4",
        "-cf",
        &cf.to_string_lossy(),
        "-lf",
        &lf.to_string_lossy(),
        "-pf",
        &pf.to_string_lossy(),
        "eth0",
    ]
    .map(str::to_owned);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    lab.spawn(host, name, &program.to_string_lossy(), &args)
}

/// Our daemon's binary: the first of [`our_binary_candidates`] that exists
/// (or, when none does, the first candidate, so the error names it).
pub fn default_our_binary() -> PathBuf {
    let candidates = our_binary_candidates();
    candidates
        .iter()
        .find(|p| p.is_file())
        .or(candidates.first())
        .cloned()
        .unwrap_or_else(|| PathBuf::from("dhcpd"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair_spec(role: FailoverRole) -> ServerSpec {
        let (me, peer) = match role {
            FailoverRole::Primary => (Ipv4Addr::new(10, 99, 0, 1), Ipv4Addr::new(10, 99, 0, 2)),
            FailoverRole::Secondary => (Ipv4Addr::new(10, 99, 0, 2), Ipv4Addr::new(10, 99, 0, 1)),
        };
        ServerSpec::standard(Ipv4Addr::new(10, 99, 0, 1))
            .with_failover(FailoverSpec::new(role, me, peer))
    }

    #[test]
    fn isc_render_standard() {
        let conf = IscDhcpd::render(&ServerSpec::standard(Ipv4Addr::new(10, 99, 0, 1)));
        assert!(conf.contains("ping-check false;"));
        assert!(conf.contains("subnet 10.99.0.0 netmask 255.255.255.0 {"));
        assert!(conf.contains("range 10.99.0.100 10.99.0.200;"));
        assert!(conf.contains("next-server 10.99.0.1;"));
        assert!(conf.contains("filename \"boot.ipxe\";"));
        assert!(conf.contains("filename \"pxelinux.0\";"));
        assert!(!conf.contains("failover"));
    }

    #[test]
    fn isc_render_failover_pools() {
        let p = IscDhcpd::render(&pair_spec(FailoverRole::Primary));
        assert!(p.contains("failover peer \"fo\" {\n  primary;"));
        assert!(p.contains("mclt 60;\n  split 128;"));
        assert!(
            p.contains("pool {\n    failover peer \"fo\";\n    range 10.99.0.100 10.99.0.200;")
        );
        let s = IscDhcpd::render(&pair_spec(FailoverRole::Secondary));
        assert!(s.contains("  secondary;"));
        assert!(s.contains("peer address 10.99.0.1;"));
        assert!(!s.contains("mclt") && !s.contains("split"));
    }

    #[test]
    fn ours_render_parses_back() {
        for spec in [
            ServerSpec::standard(Ipv4Addr::new(10, 99, 0, 1)).with_relayed_subnet(),
            pair_spec(FailoverRole::Primary),
            pair_spec(FailoverRole::Secondary),
        ] {
            let text = OurDhcpd::render(&spec, PathBuf::from("/tmp/x")).unwrap();
            let cfg = dhcp_core::config::Config::from_toml(&text).unwrap();
            assert_eq!(
                cfg,
                OurDhcpd::config(&spec, PathBuf::from("/tmp/x")).unwrap()
            );
            assert_eq!(cfg.server.interfaces, vec!["eth0".to_owned()]);
            assert_eq!(cfg.failover.len(), usize::from(spec.failover.is_some()));
        }
    }
}
