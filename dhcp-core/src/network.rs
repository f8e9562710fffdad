//! The compiled topology: which subnet a request belongs to, and the options,
//! lease times and reservations that apply to a client there.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use ipnet::Ipv4Net;

use crate::config::{Config, HostConfig, LeaseTimes, OptionSet};
use crate::hashing::FastMap;
use crate::lease::{ClientKey, HwAddr};
use crate::table::PoolSpec;

/// A subnet ready to serve.
#[derive(Debug, Clone)]
pub struct Subnet {
    /// The network.
    pub net: Ipv4Net,
    /// Index of its shared network.
    pub network: usize,
    /// Next server (`siaddr`), if configured.
    pub next_server: Option<Ipv4Addr>,
    /// Effective `ignore-client-uids`.
    pub ignore_client_uids: bool,
    /// Options merged from global, shared-network and subnet scope, with the
    /// mask and broadcast address filled in (shared, cheap to clone).
    pub options: Arc<OptionSet>,
    /// Lease times merged from global, shared-network and subnet scope.
    pub lease_time: LeaseTimes,
    /// Whether the PXE boot policy applies.
    pub pxe: bool,
    /// Seconds a declined address stays abandoned.
    pub abandon_time: u32,
}

/// A shared network (one link).
#[derive(Debug, Clone)]
pub struct Network {
    /// Name, for logs.
    pub name: String,
    /// The local interface attached to it, if any.
    pub interface: Option<String>,
    /// Indexes into [`Topology::subnets`].
    pub subnets: Vec<usize>,
    /// The failover relationship its pools name (the configuration check
    /// makes every pool of a shared network name the same one, or none).
    pub failover_peer: Option<String>,
}

/// Subnets, shared networks, pools and reservations, compiled from a [`Config`].
#[derive(Debug, Clone, Default)]
pub struct Topology {
    /// All subnets.
    pub subnets: Vec<Subnet>,
    /// All shared networks.
    pub networks: Vec<Network>,
    /// All pools, in the order the lease table uses.
    pub pools: Vec<PoolSpec>,
    hosts: Vec<HostConfig>,
    host_index: HostIndex,
}

/// Positions in [`Topology`]'s host list by hardware address, client
/// identifier, reserved address and name.
#[derive(Debug, Clone, Default)]
struct HostIndex {
    by_hw: FastMap<HwAddr, usize>,
    by_id: FastMap<Vec<u8>, usize>,
    by_addr: FastMap<Ipv4Addr, usize>,
    by_name: FastMap<String, usize>,
}

impl HostIndex {
    fn insert(&mut self, i: usize, h: &HostConfig) {
        if let Some(m) = &h.mac {
            self.by_hw.insert(m.clone(), i);
        }
        if let Some(id) = &h.client_id {
            self.by_id.insert(id.clone(), i);
        }
        self.by_addr.insert(h.address, i);
        self.by_name.insert(h.name.clone(), i);
    }
}

impl Topology {
    /// Compiles a validated configuration.
    pub fn new(cfg: &Config) -> Self {
        let mut t = Topology::default();
        let refs = cfg.all_subnets();
        let mut network_of_index: HashMap<usize, usize> = HashMap::new();
        for r in &refs {
            let ni = *network_of_index.entry(r.network_index).or_insert_with(|| {
                let (name, interface) = match r.network {
                    Some(n) => (n.name.clone(), n.interface.clone()),
                    None => (r.subnet.subnet.to_string(), r.subnet.interface.clone()),
                };
                t.networks.push(Network {
                    name,
                    interface,
                    subnets: Vec::new(),
                    failover_peer: None,
                });
                t.networks.len() - 1
            });
            let s = r.subnet;
            let mut options = s.options.clone();
            let mut lease_time = s.lease_time;
            if let Some(n) = r.network {
                options = options.or(&n.options);
                lease_time = lease_time.or(n.lease_time);
            }
            options = options.or(&cfg.options);
            lease_time = lease_time.or(cfg.lease_time);
            options.subnet_mask.get_or_insert(s.subnet.netmask());
            if cfg.server.derive_broadcast_address {
                options
                    .broadcast_address
                    .get_or_insert(s.subnet.broadcast());
            }
            t.networks[ni].subnets.push(t.subnets.len());
            t.subnets.push(Subnet {
                net: s.subnet,
                network: ni,
                next_server: s.next_server,
                ignore_client_uids: s
                    .ignore_client_uids
                    .unwrap_or(cfg.server.ignore_client_uids),
                options: Arc::new(options),
                lease_time,
                pxe: s.pxe,
                abandon_time: s.abandon_time.unwrap_or(cfg.server.abandon_time),
            });
            for p in &s.pools {
                if p.failover_peer.is_some() {
                    t.networks[ni].failover_peer = p.failover_peer.clone();
                }
                t.pools.push(PoolSpec {
                    start: p.start,
                    end: p.end,
                    network: ni,
                    failover_peer: p.failover_peer.clone(),
                });
            }
        }
        for h in &cfg.hosts {
            t.add_host(h.clone());
        }
        t
    }

    /// Adds (or replaces, by name) a host reservation at runtime.
    pub fn add_host(&mut self, h: HostConfig) {
        self.remove_host(&h.name);
        self.host_index.insert(self.hosts.len(), &h);
        self.hosts.push(h);
    }

    /// Removes a host reservation by name; returns whether it existed.
    pub fn remove_host(&mut self, name: &str) -> bool {
        let Some(&i) = self.host_index.by_name.get(name) else {
            return false;
        };
        self.hosts.remove(i);
        self.host_index = HostIndex::default();
        for (j, h) in self.hosts.iter().enumerate() {
            self.host_index.insert(j, h);
        }
        true
    }

    /// Whether `addr` is reserved for a host (a constant-time lookup: a
    /// MAAS rack may carry thousands of reservations).
    pub fn is_reserved(&self, addr: Ipv4Addr) -> bool {
        self.host_index.by_addr.contains_key(&addr)
    }

    /// The reservation of `addr` (an index lookup).
    pub fn host_by_addr(&self, addr: Ipv4Addr) -> Option<&HostConfig> {
        self.host_index
            .by_addr
            .get(&addr)
            .and_then(|i| self.hosts.get(*i))
    }

    /// The reservation named `name` (an index lookup).
    pub fn host_by_name(&self, name: &str) -> Option<&HostConfig> {
        self.host_index
            .by_name
            .get(name)
            .and_then(|i| self.hosts.get(*i))
    }

    /// The reservations.
    pub fn hosts(&self) -> &[HostConfig] {
        &self.hosts
    }

    /// The reservation for a client: by client identifier first, then by hardware address.
    pub fn host_for(&self, client_id: Option<&[u8]>, hw: &HwAddr) -> Option<&HostConfig> {
        client_id
            .and_then(|id| self.host_index.by_id.get(id))
            .or_else(|| self.host_index.by_hw.get(hw))
            .and_then(|i| self.hosts.get(*i))
    }

    /// The subnet containing `addr`.
    pub fn subnet_of(&self, addr: Ipv4Addr) -> Option<usize> {
        self.subnets.iter().position(|s| s.net.contains(&addr))
    }

    /// The shared network a request arrived on: by `giaddr` when relayed, else by
    /// the receiving interface's name, else by the receiving interface's address.
    pub fn network_for(
        &self,
        giaddr: Ipv4Addr,
        interface: Option<&str>,
        local_addr: Ipv4Addr,
    ) -> Option<usize> {
        if !giaddr.is_unspecified() {
            return self.subnet_of(giaddr).map(|s| self.subnets[s].network);
        }
        if let Some(name) = interface
            && let Some(n) = self
                .networks
                .iter()
                .position(|n| n.interface.as_deref() == Some(name))
        {
            return Some(n);
        }
        self.subnet_of(local_addr).map(|s| self.subnets[s].network)
    }

    /// Whether `addr` lies in a subnet of shared network `network`.
    pub fn on_network(&self, network: usize, addr: Ipv4Addr) -> bool {
        self.subnet_of(addr)
            .is_some_and(|s| self.subnets[s].network == network)
    }
}

/// How a client is identified on a subnet (option 61 unless ignored).
pub fn client_key(client_id: Option<&[u8]>, hw: &HwAddr, ignore_uids: bool) -> ClientKey {
    match client_id {
        Some(id) if !ignore_uids && !id.is_empty() => ClientKey::ClientId(id.to_vec()),
        _ => ClientKey::Hw(hw.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_address_is_derived_unless_told_not_to() {
        let mut cfg = Config::from_toml(
            "[[subnets]]\nsubnet = \"10.99.0.0/24\"\npools = [{ start = \"10.99.0.10\", end = \"10.99.0.20\" }]\n",
        )
        .unwrap();
        let t = Topology::new(&cfg);
        assert_eq!(
            t.subnets[0].options.broadcast_address,
            Some(Ipv4Addr::new(10, 99, 0, 255))
        );
        cfg.server.derive_broadcast_address = false;
        let t = Topology::new(&cfg);
        assert_eq!(t.subnets[0].options.broadcast_address, None);
        assert_eq!(
            t.subnets[0].options.subnet_mask,
            Some(Ipv4Addr::new(255, 255, 255, 0))
        );
    }
}
