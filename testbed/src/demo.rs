//! The `testbed demo` scenario: one server, a storm of simulated PXE
//! clients, a summary table.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::Result;
use crate::server::{DhcpServer, IscDhcpd, OurDhcpd, ServerSpec};
use crate::sim::{Swarm, SwarmConfig, SwarmReport};
use crate::topology::{self, LabBuilder};

/// Which server the demo runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerChoice {
    /// ISC dhcpd 4.4.
    Isc,
    /// Our daemon, at this path.
    Ours(PathBuf),
}

impl ServerChoice {
    /// The implementation.
    pub fn server(&self) -> Box<dyn DhcpServer> {
        match self {
            Self::Isc => Box::new(IscDhcpd::default()),
            Self::Ours(path) => Box::new(OurDhcpd::new(path.clone())),
        }
    }
}

/// Demo settings.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The server.
    pub server: ServerChoice,
    /// Number of simulated clients.
    pub clients: usize,
    /// The clients' first retransmission timeout.
    pub initial_timeout: Duration,
    /// Spread of the clients' start times (zero: all at once).
    pub start_spread: Duration,
    /// Give up after this long.
    pub deadline: Duration,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            server: ServerChoice::Isc,
            clients: 200,
            initial_timeout: Duration::from_secs(4),
            start_spread: Duration::ZERO,
            deadline: Duration::from_secs(120),
        }
    }
}

/// The demo's outcome.
#[derive(Debug, Clone)]
pub struct DemoResult {
    /// The server's short name.
    pub server: String,
    /// The swarm report.
    pub report: SwarmReport,
}

impl DemoResult {
    /// Whether every client got a distinct lease.
    pub fn passed(&self) -> bool {
        self.report.failures() == 0
            && self.report.duplicate_addresses().is_empty()
            && self.report.bound() == self.report.clients.len()
    }

    /// The summary table.
    pub fn table(&self) -> String {
        self.report.summary_table(&format!(
            "testbed demo: {} simulated PXE clients against {}",
            self.report.clients.len(),
            self.server
        ))
    }
}

/// Runs the demo: builds a lab (server `srv1`, client host `cli1`; the wide
/// /16 network when more than 240 clients), starts the server, runs the
/// swarm until every client is bound or the deadline passes, tears down.
pub fn run(options: &DemoOptions) -> Result<DemoResult> {
    let wide = options.clients > 240;
    let mut builder = LabBuilder::new().server("srv1").client("cli1");
    if wide {
        builder = builder.wide();
    }
    let lab = builder.build()?;
    let server = options.server.server();
    let next_server = topology::server_address(0);
    let spec = if wide {
        ServerSpec::wide(next_server)
    } else {
        ServerSpec::standard(next_server).with_range(
            std::net::Ipv4Addr::new(10, 99, 0, 10),
            std::net::Ipv4Addr::new(10, 99, 0, 250),
        )
    };
    let _srv = server.start(&lab, "srv1", &spec)?;
    let mut cfg = SwarmConfig::new(options.clients);
    cfg.client.initial_timeout = options.initial_timeout;
    cfg.client.renew = false;
    cfg.configure_addresses = false;
    cfg.start_spread = options.start_spread;
    cfg.deadline = options.deadline;
    let report = Swarm::run(lab.namespace("cli1")?, cfg)?;
    Ok(DemoResult {
        server: server.name().to_owned(),
        report,
    })
}

/// Our daemon's failover states from its log: the last
/// `failover status: state=S partner=P` line, as (S, P).
pub fn our_failover_states<S: AsRef<str>>(log: &[S]) -> (Option<String>, Option<String>) {
    let mut out = (None, None);
    for line in log {
        let Some((_, rest)) = line.as_ref().split_once("failover status: ") else {
            continue;
        };
        let field = |name: &str| {
            rest.split_whitespace()
                .find_map(|w| w.strip_prefix(name))
                .map(str::to_owned)
        };
        out = (field("state="), field("partner="));
    }
    out
}
