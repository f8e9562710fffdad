//! [`MemoryBackend`]: hosts, leases and failover states in memory, for tests
//! and examples.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::Ipv4Addr;

use crate::backend::{
    Backend, BackendError, FailoverState, FailoverStateCode, HardwareAddress, Host, HostId,
    HostKey, Lease, LeaseKey,
};
use crate::status::Status;

/// A [`Backend`] over plain maps. Hosts are unique by name, hardware address
/// and client identifier (several may share a fixed address, as in ISC);
/// a host created without a name is named `nh<id>`.
#[derive(Debug, Default)]
pub struct MemoryBackend {
    hosts: BTreeMap<HostId, Host>,
    by_name: HashMap<String, HostId>,
    by_hardware: HashMap<HardwareAddress, HostId>,
    by_client_id: HashMap<Vec<u8>, HostId>,
    by_ip: BTreeMap<Ipv4Addr, BTreeSet<HostId>>,
    next_id: u64,
    /// Leases, by address. Tests fill this directly.
    pub leases: BTreeMap<Ipv4Addr, Lease>,
    /// Failover relationships, by name. Tests fill this directly.
    pub failover: BTreeMap<String, FailoverState>,
}

impl MemoryBackend {
    /// An empty backend.
    pub fn new() -> Self {
        MemoryBackend::default()
    }

    /// Every host, in creation order.
    pub fn hosts(&self) -> impl Iterator<Item = &Host> {
        self.hosts.values()
    }

    /// Number of hosts.
    pub fn host_count(&self) -> usize {
        self.hosts.len()
    }

    fn conflict(&self, host: &Host, except: Option<HostId>) -> Option<&'static str> {
        let other = |id: Option<&HostId>| id.is_some_and(|&i| Some(i) != except);
        if host
            .name
            .as_ref()
            .is_some_and(|n| other(self.by_name.get(n)))
        {
            return Some("a host with that name already exists");
        }
        if host
            .hardware
            .as_ref()
            .is_some_and(|h| other(self.by_hardware.get(h)))
        {
            return Some("a host with that hardware address already exists");
        }
        if host
            .client_id
            .as_ref()
            .is_some_and(|c| other(self.by_client_id.get(c)))
        {
            return Some("a host with that client identifier already exists");
        }
        None
    }

    fn index(&mut self, id: HostId, host: &Host) {
        if let Some(n) = &host.name {
            self.by_name.insert(n.clone(), id);
        }
        if let Some(h) = &host.hardware {
            self.by_hardware.insert(h.clone(), id);
        }
        if let Some(c) = &host.client_id {
            self.by_client_id.insert(c.clone(), id);
        }
        if let Some(a) = host.ip_address {
            self.by_ip.entry(a).or_default().insert(id);
        }
    }

    fn unindex(&mut self, id: HostId, host: &Host) {
        if let Some(n) = &host.name {
            self.by_name.remove(n);
        }
        if let Some(h) = &host.hardware {
            self.by_hardware.remove(h);
        }
        if let Some(c) = &host.client_id {
            self.by_client_id.remove(c);
        }
        if let Some(a) = host.ip_address
            && let Some(set) = self.by_ip.get_mut(&a)
        {
            set.remove(&id);
            if set.is_empty() {
                self.by_ip.remove(&a);
            }
        }
    }

    fn not_found() -> BackendError {
        BackendError::new(Status::NOTFOUND, "no such host")
    }
}

impl Backend for MemoryBackend {
    fn find_host(&mut self, key: HostKey<'_>) -> Option<HostId> {
        match key {
            HostKey::Name(n) => self.by_name.get(n).copied(),
            HostKey::ClientId(c) => self.by_client_id.get(c).copied(),
            HostKey::Hardware(h) => self.by_hardware.get(h).copied(),
            HostKey::Ip(a) => self.by_ip.get(&a).and_then(|s| s.first().copied()),
        }
    }

    fn host(&self, id: HostId) -> Option<Host> {
        self.hosts.get(&id).cloned()
    }

    fn create_host(&mut self, mut host: Host) -> Result<HostId, BackendError> {
        if let Some(why) = self.conflict(&host, None) {
            return Err(BackendError::new(Status::EXISTS, why));
        }
        self.next_id += 1;
        let id = HostId(self.next_id);
        if host.name.is_none() {
            host.name = Some(format!("nh{:08x}", id.0));
        }
        self.index(id, &host);
        self.hosts.insert(id, host);
        Ok(id)
    }

    fn update_host(&mut self, id: HostId, host: Host) -> Result<(), BackendError> {
        let old = self.hosts.get(&id).cloned().ok_or_else(Self::not_found)?;
        if let Some(why) = self.conflict(&host, Some(id)) {
            return Err(BackendError::new(Status::EXISTS, why));
        }
        self.unindex(id, &old);
        self.index(id, &host);
        self.hosts.insert(id, host);
        Ok(())
    }

    fn delete_host(&mut self, id: HostId) -> Result<(), BackendError> {
        let old = self.hosts.remove(&id).ok_or_else(Self::not_found)?;
        self.unindex(id, &old);
        Ok(())
    }

    fn find_lease(&self, key: LeaseKey<'_>) -> Option<Lease> {
        match key {
            LeaseKey::Ip(a) => self.leases.get(&a).cloned(),
            // The most recently started lease of that client.
            LeaseKey::Hardware(h) => self
                .leases
                .values()
                .filter(|l| l.hardware.as_ref() == Some(h))
                .max_by_key(|l| l.starts)
                .cloned(),
            LeaseKey::ClientId(c) => self
                .leases
                .values()
                .filter(|l| l.client_id.as_deref() == Some(c))
                .max_by_key(|l| l.starts)
                .cloned(),
        }
    }

    fn failover_state(&self, name: &str) -> Option<FailoverState> {
        self.failover.get(name).cloned()
    }

    fn set_partner_down(&mut self, name: &str) -> Result<(), BackendError> {
        let f = self
            .failover
            .get_mut(name)
            .ok_or_else(|| BackendError::new(Status::NOTFOUND, "no such failover relationship"))?;
        f.local_state = FailoverStateCode::PARTNER_DOWN;
        Ok(())
    }
}
