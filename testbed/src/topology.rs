//! The standard lab layout, built in one call: servers on the server segment,
//! clients either on the same segment or behind a relay host on a client
//! segment.
//!
//! ```text
//!  server segment "srv" 10.99.0.0/24        client segment "cli" 10.99.1.0/24 (only with a relay)
//!   srv1 eth0 10.99.0.1                       rcl1 eth0 (no address)
//!   srv2 eth0 10.99.0.2                       relay eth1 10.99.1.1
//!   cli1 eth0 (no address)
//!   relay eth0 10.99.0.254
//! ```
//! Servers get a route to the client segment via the relay.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use crate::error::{Error, Result};
use crate::lab::Lab;

/// Name of the server segment.
pub const SERVER_SEGMENT: &str = "srv";
/// Name of the relayed client segment.
pub const CLIENT_SEGMENT: &str = "cli";
/// Name of the relay host.
pub const RELAY_HOST: &str = "relay";

/// The server segment's network.
pub fn server_net() -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(10, 99, 0, 0), 24)
}

/// The wide server network for large swarms (no relay): 10.99.0.0/16, see
/// [`LabBuilder::wide`].
pub fn wide_server_net() -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(10, 99, 0, 0), 16)
}

/// The relayed client segment's network.
pub fn client_net() -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(10, 99, 1, 0), 24)
}

/// The address of the `n`-th server (0-based): 10.99.0.1, 10.99.0.2, …
/// (at most 10.99.0.200; the builder refuses more than 200 servers).
pub fn server_address(n: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 99, 0, 1 + n.min(199) as u8)
}

/// The relay's address on the server segment.
pub const RELAY_SERVER_SIDE: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 254);
/// The relay's address on the client segment (the `giaddr`).
pub const RELAY_CLIENT_SIDE: Ipv4Addr = Ipv4Addr::new(10, 99, 1, 1);

#[derive(Debug, Clone)]
struct ClientSpec {
    name: String,
    ifname: String,
    relayed: bool,
}

/// Builds the standard layout (see the module documentation).
#[derive(Debug, Clone, Default)]
pub struct LabBuilder {
    prefix: Option<String>,
    servers: Vec<String>,
    clients: Vec<ClientSpec>,
    relay: bool,
    wide: bool,
}

impl LabBuilder {
    /// An empty layout.
    pub fn new() -> Self {
        Self::default()
    }

    /// The layout most tests use: server host `srv1` and client host `cli1`
    /// on the server segment.
    pub fn server_and_client() -> Self {
        Self::new().server("srv1").client("cli1")
    }

    /// Uses `prefix` for namespace names instead of `tb`.
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = Some(prefix.to_owned());
        self
    }

    /// Puts servers on 10.99.0.0/16 instead of /24 (for pools of thousands
    /// of addresses); not combinable with a relay, whose client segment lies
    /// inside that /16.
    pub fn wide(mut self) -> Self {
        self.wide = true;
        self
    }

    /// Adds a server host; the n-th one gets 10.99.0.(n+1)/24 on `eth0`.
    pub fn server(mut self, name: &str) -> Self {
        self.servers.push(name.to_owned());
        self
    }

    /// Adds an unaddressed client host on the server segment (interface `eth0`).
    pub fn client(self, name: &str) -> Self {
        self.client_with_interface(name, "eth0")
    }

    /// Adds an unaddressed client host on the server segment with a chosen
    /// interface name (dhcpcd keeps global per-interface files, so parallel
    /// dhcpcd runs need distinct names).
    pub fn client_with_interface(mut self, name: &str, ifname: &str) -> Self {
        self.clients.push(ClientSpec {
            name: name.to_owned(),
            ifname: ifname.to_owned(),
            relayed: false,
        });
        self
    }

    /// Adds an unaddressed client host on the relayed client segment (this
    /// implies the relay host).
    pub fn relayed_client(mut self, name: &str) -> Self {
        self.relay = true;
        self.clients.push(ClientSpec {
            name: name.to_owned(),
            ifname: "eth0".to_owned(),
            relayed: true,
        });
        self
    }

    /// Adds the relay host (and the client segment) even without relayed clients.
    pub fn with_relay(mut self) -> Self {
        self.relay = true;
        self
    }

    /// Creates the lab.
    pub fn build(self) -> Result<Lab> {
        if self.servers.len() > 200 {
            return Err(Error::BadName("at most 200 servers".into()));
        }
        if self.wide && self.relay {
            return Err(Error::BadName(
                "a wide server network cannot be combined with a relay".into(),
            ));
        }
        let mut lab = match &self.prefix {
            Some(p) => Lab::with_prefix(p)?,
            None => Lab::new()?,
        };
        lab.add_segment(SERVER_SEGMENT)?;
        if self.relay {
            lab.add_segment(CLIENT_SEGMENT)?;
        }
        let prefix_len = if self.wide {
            wide_server_net().prefix_len()
        } else {
            server_net().prefix_len()
        };
        for (n, name) in self.servers.iter().enumerate() {
            lab.add_host(name)?;
            let addr = Ipv4Net::new(server_address(n), prefix_len)
                .map_err(|e| Error::BadName(e.to_string()))?;
            lab.connect(name, SERVER_SEGMENT, "eth0", Some(addr))?;
        }
        if self.relay {
            lab.add_host(RELAY_HOST)?;
            let up = Ipv4Net::new(RELAY_SERVER_SIDE, prefix_len)
                .map_err(|e| Error::BadName(e.to_string()))?;
            let down = Ipv4Net::new(RELAY_CLIENT_SIDE, client_net().prefix_len())
                .map_err(|e| Error::BadName(e.to_string()))?;
            lab.connect(RELAY_HOST, SERVER_SEGMENT, "eth0", Some(up))?;
            lab.connect(RELAY_HOST, CLIENT_SEGMENT, "eth1", Some(down))?;
            for name in &self.servers {
                lab.add_route(name, client_net(), RELAY_SERVER_SIDE)?;
            }
        }
        for c in &self.clients {
            lab.add_host(&c.name)?;
            let seg = if c.relayed {
                CLIENT_SEGMENT
            } else {
                SERVER_SEGMENT
            };
            lab.connect(&c.name, seg, &c.ifname, None)?;
        }
        Ok(lab)
    }
}
