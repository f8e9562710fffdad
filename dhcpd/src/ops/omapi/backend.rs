//! [`EngineBackend`]: OMAPI's objects over the live engine, built by the
//! engine task for each batch of OMAPI input, so that a host created over
//! OMAPI is in the engine's reservations before the reply leaves.
//!
//! Hosts created or changed over OMAPI are never written to the store: they
//! last until the next restart, as under ISC with MAAS (which strips them
//! from the lease file at every start). [`OmapiHosts`] remembers which they
//! are, so that the control API's saving of its own runtime hosts leaves
//! them out.

use std::collections::{HashMap, HashSet};

use dhcp_core::config::{CustomOption, HostConfig, OptionValue};
use dhcp_core::engine::Engine;
use dhcp_core::lease::{BindingState, HwAddr};
use dhcp_core::network::Topology;
use dhcp_core::policy::ByRelationship;
use dhcp_failover::policy::FailoverPolicy;
use dhcp_store::GroupCommit;
use omapi::{
    Backend, BackendError, FailoverState, FailoverStateCode, HardwareAddress, Host, HostId,
    HostKey, HostStatement, Lease, LeaseKey, LeaseState, Status,
};
use tokio::sync::oneshot;

use crate::failover::Command;
use crate::failover::driver::{Driver, Input};

/// Option code of the host name (12).
const HOST_NAME: u8 = 12;

/// The engine task's OMAPI state: ids for the hosts sessions have seen, and
/// the names of the hosts OMAPI created (kept out of the store).
#[derive(Debug, Default)]
pub struct OmapiHosts {
    created: HashSet<String>,
    ids: HashMap<String, HostId>,
    names: HashMap<HostId, String>,
    next: u64,
}

impl OmapiHosts {
    /// Whether `name` was created or last changed over OMAPI.
    pub fn is_ephemeral(&self, name: &str) -> bool {
        self.created.contains(name)
    }

    /// The names of the hosts created or changed over OMAPI.
    pub fn ephemeral(&self) -> &HashSet<String> {
        &self.created
    }

    /// The control API made `name` a stored runtime host: no longer OMAPI's.
    pub fn adopt(&mut self, name: &str) {
        self.created.remove(name);
    }

    fn id(&mut self, name: &str) -> HostId {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        self.next += 1;
        let id = HostId(self.next);
        self.ids.insert(name.to_owned(), id);
        self.names.insert(id, name.to_owned());
        id
    }

    fn forget(&mut self, id: HostId) {
        if let Some(name) = self.names.remove(&id) {
            self.ids.remove(&name);
            self.created.remove(&name);
        }
    }

    fn rename(&mut self, id: HostId, new: &str) {
        if let Some(old) = self.names.insert(id, new.to_owned()) {
            self.ids.remove(&old);
            self.created.remove(&old);
        }
        self.ids.insert(new.to_owned(), id);
        self.created.insert(new.to_owned());
    }
}

/// OMAPI's view of the engine task's state, for one batch of input.
pub struct EngineBackend<'a> {
    /// The engine (its reservations and lease table).
    pub engine: &'a mut Engine,
    /// The failover drivers (failover-state objects).
    pub failover: &'a mut [Driver],
    /// The lease policies, refreshed after a failover command.
    pub policies: &'a mut ByRelationship<FailoverPolicy>,
    /// The group commit (for the writes of PARTNER-DOWN).
    pub commit: &'a GroupCommit,
    /// Host ids and OMAPI's own hosts.
    pub hosts: &'a mut OmapiHosts,
}

fn to_hw(h: &HardwareAddress) -> HwAddr {
    HwAddr {
        htype: h.htype,
        addr: h.addr.clone(),
    }
}

fn from_hw(h: &HwAddr) -> HardwareAddress {
    HardwareAddress {
        htype: h.htype,
        addr: h.addr.clone(),
    }
}

fn lease_state(s: BindingState) -> LeaseState {
    match s {
        BindingState::Free => LeaseState::Free,
        BindingState::Active => LeaseState::Active,
        BindingState::Expired => LeaseState::Expired,
        BindingState::Released => LeaseState::Released,
        BindingState::Abandoned => LeaseState::Abandoned,
        BindingState::Reset => LeaseState::Reset,
        BindingState::Backup => LeaseState::Backup,
    }
}

fn time(t: u32) -> Option<u32> {
    (t != 0).then_some(t)
}

fn to_lease(l: &dhcp_core::lease::Lease) -> Lease {
    Lease {
        ip_address: l.addr,
        state: lease_state(l.state),
        hardware: l.hw.as_ref().map(from_hw),
        client_id: l.client_id.clone(),
        client_hostname: l.hostname.clone(),
        starts: time(l.starts),
        ends: time(l.ends),
        tstp: time(l.tstp),
        tsfp: time(l.tsfp),
        cltt: time(l.cltt),
    }
}

/// A reservation as OMAPI shows it (statements are write-only, as in ISC).
fn to_host(h: &HostConfig) -> Host {
    Host {
        name: Some(h.name.clone()),
        hardware: h.mac.as_ref().map(from_hw),
        client_id: h.client_id.clone(),
        ip_address: Some(h.address),
        statements: Vec::new(),
    }
}

/// `base` changed by `host`: addresses and identity from `host`, its
/// statements into the options; the rest of `base` (boot file, lease
/// times, other options) kept.
fn to_config(
    host: &Host,
    name: String,
    base: Option<&HostConfig>,
) -> Result<HostConfig, BackendError> {
    let address = host.ip_address.ok_or_else(|| {
        BackendError::new(
            Status::INVALIDARG,
            "a host needs an ip-address (its fixed address) here",
        )
    })?;
    let mut h = base.cloned().unwrap_or_else(|| HostConfig {
        name: String::new(),
        mac: None,
        client_id: None,
        address,
        boot_file: None,
        next_server: None,
        lease_time: Default::default(),
        options: Default::default(),
    });
    h.name = name;
    h.address = address;
    h.mac = host.hardware.as_ref().map(to_hw);
    h.client_id = host.client_id.clone();
    for s in &host.statements {
        match s {
            HostStatement::HostName(n) => {
                h.options.custom.retain(|c| c.code != HOST_NAME);
                h.options.custom.push(CustomOption {
                    code: HOST_NAME,
                    value: OptionValue::Text(n.clone()),
                });
            }
            HostStatement::DomainName(d) => h.options.domain_name = Some(d.clone()),
            HostStatement::Routers(r) => h.options.routers = Some(r.clone()),
        }
    }
    Ok(h)
}

impl EngineBackend<'_> {
    fn reservation(&self, name: &str) -> Option<&HostConfig> {
        self.engine.topology().host_by_name(name)
    }

    /// The configuration's rules for hosts (as `Config::validate` applies
    /// them: unique name, MAC, client id and address; a MAC or client id;
    /// the address in a configured subnet, neither its network nor its
    /// broadcast address, outside the dynamic ranges) for `new` among the
    /// hosts in force other than `replacing`. Checked one host against the
    /// reservation index rather than by validating the whole configuration
    /// again, so that a create costs the same with thousands of hosts.
    fn check(&self, new: &HostConfig, replacing: Option<&str>) -> Result<(), BackendError> {
        let invalid = |m: String| BackendError::new(Status::INVALIDARG, m);
        let exists = |m: String| BackendError::new(Status::EXISTS, m);
        let topo = self.engine.topology();
        if new.mac.is_none() && new.client_id.is_none() {
            return Err(invalid(
                "a host needs a hardware-address or a dhcp-client-identifier".into(),
            ));
        }
        if let Some(h) = other(topo.host_by_name(&new.name), replacing) {
            return Err(exists(format!("a host named {:?} already exists", h.name)));
        }
        if let Some(m) = &new.mac
            && let Some(h) = other(topo.host_for(None, m), replacing)
        {
            return Err(exists(format!(
                "MAC {m} is already reserved by host {:?}",
                h.name
            )));
        }
        if let Some(id) = &new.client_id
            && let Some(h) = other(by_client_id(topo, id), replacing)
        {
            return Err(exists(format!(
                "client id is already reserved by host {:?}",
                h.name
            )));
        }
        if let Some(h) = other(topo.host_by_addr(new.address), replacing) {
            return Err(exists(format!(
                "{} is already reserved by host {:?}",
                new.address, h.name
            )));
        }
        let subnets = self.engine.config().all_subnets();
        let Some(s) = subnets
            .iter()
            .find(|s| s.subnet.subnet.contains(&new.address))
        else {
            return Err(invalid(format!(
                "{} is in no configured subnet",
                new.address
            )));
        };
        let net = s.subnet.subnet;
        if new.address == net.network() || new.address == net.broadcast() {
            return Err(invalid(
                "the network and broadcast addresses cannot be reserved".into(),
            ));
        }
        if s.subnet.pools.iter().any(|r| r.contains(new.address)) {
            return Err(invalid(format!(
                "{} is inside a dynamic range; reserve addresses outside dynamic ranges",
                new.address
            )));
        }
        Ok(())
    }

    fn unused_name(&self) -> String {
        // ISC names an unnamed host too ("nh" and hex digits).
        (self.hosts.next + 1..)
            .map(|n| format!("nh{n:08x}"))
            .find(|n| self.reservation(n).is_none())
            .unwrap_or_default()
    }
}

impl Backend for EngineBackend<'_> {
    fn find_host(&mut self, key: HostKey<'_>) -> Option<HostId> {
        let topo = self.engine.topology();
        let found = match key {
            HostKey::Name(n) => topo.host_by_name(n),
            HostKey::ClientId(c) => by_client_id(topo, c),
            HostKey::Hardware(hw) => topo.host_for(None, &to_hw(hw)),
            HostKey::Ip(a) => topo.host_by_addr(a),
        }?;
        let name = found.name.clone();
        Some(self.hosts.id(&name))
    }

    fn host(&self, id: HostId) -> Option<Host> {
        self.hosts
            .names
            .get(&id)
            .and_then(|n| self.reservation(n))
            .map(to_host)
    }

    fn create_host(&mut self, host: Host) -> Result<HostId, BackendError> {
        let name = match &host.name {
            Some(n) => n.clone(),
            None => self.unused_name(),
        };
        if self.reservation(&name).is_some() {
            return Err(BackendError::new(
                Status::EXISTS,
                format!("a host named {name:?} already exists"),
            ));
        }
        let h = to_config(&host, name.clone(), None)?;
        self.check(&h, None)?;
        tracing::info!(target: super::LOG_TARGET, name = %h.name, address = %h.address, "host reservation created over OMAPI");
        self.engine.add_host(h);
        let id = self.hosts.id(&name);
        self.hosts.created.insert(name);
        Ok(id)
    }

    fn update_host(&mut self, id: HostId, host: Host) -> Result<(), BackendError> {
        let old_name = self.resolve(id)?;
        let old = self.reservation(&old_name).cloned().ok_or_else(gone)?;
        let name = host.name.clone().unwrap_or_else(|| old_name.clone());
        let h = to_config(&host, name.clone(), Some(&old))?;
        self.check(&h, Some(&old_name))?;
        tracing::info!(target: super::LOG_TARGET, name = %h.name, address = %h.address, "host reservation changed over OMAPI");
        self.engine.remove_host(&old_name);
        self.engine.add_host(h);
        self.hosts.rename(id, &name);
        Ok(())
    }

    fn delete_host(&mut self, id: HostId) -> Result<(), BackendError> {
        let name = self.resolve(id)?;
        if !self.engine.remove_host(&name) {
            return Err(gone());
        }
        tracing::info!(target: super::LOG_TARGET, name = %name, "host reservation deleted over OMAPI");
        self.hosts.forget(id);
        Ok(())
    }

    fn find_lease(&self, key: LeaseKey<'_>) -> Option<Lease> {
        let table = self.engine.table();
        let best = |l: &&dhcp_core::lease::Lease| (l.state == BindingState::Active, l.starts);
        match key {
            LeaseKey::Ip(a) => table.get(a).map(to_lease),
            LeaseKey::Hardware(hw) => {
                let hw = to_hw(hw);
                table
                    .iter()
                    .filter(|l| l.hw.as_ref() == Some(&hw))
                    .max_by_key(best)
                    .map(to_lease)
            }
            LeaseKey::ClientId(c) => table
                .iter()
                .filter(|l| l.client_id.as_deref() == Some(c))
                .max_by_key(best)
                .map(to_lease),
        }
    }

    fn failover_state(&self, name: &str) -> Option<FailoverState> {
        let d = self
            .failover
            .iter()
            .find(|d| d.peer().config().name == name)?;
        let cfg = d.peer().config();
        Some(FailoverState {
            name: cfg.name.clone(),
            local_state: FailoverStateCode(u32::from(d.peer().state().code())),
            partner_state: FailoverStateCode(u32::from(d.peer().partner_state().code())),
            local_address: Some(cfg.address),
            local_port: Some(cfg.port),
            partner_address: Some(cfg.peer_address),
            partner_port: Some(cfg.peer_port),
            mclt: cfg.mclt,
        })
    }

    fn set_partner_down(&mut self, name: &str) -> Result<(), BackendError> {
        let d = self
            .failover
            .iter_mut()
            .find(|d| d.peer().config().name == name)
            .ok_or_else(|| BackendError::new(Status::NOTFOUND, "no such failover relationship"))?;
        tracing::warn!(target: super::LOG_TARGET, relationship = name, "partner-down requested over OMAPI");
        let (tx, _rx) = oneshot::channel();
        d.handle(
            Input::Command(Command::PartnerDown(tx)),
            self.engine,
            self.commit,
        );
        self.policies.set(name, d.policy());
        Ok(())
    }
}

/// The host reserved for client identifier `id` (through the topology's index).
fn by_client_id<'t>(topo: &'t Topology, id: &[u8]) -> Option<&'t HostConfig> {
    // No host has an empty hardware address, so only the identifier matches.
    let none = HwAddr {
        htype: 0,
        addr: Vec::new(),
    };
    topo.host_for(Some(id), &none)
        .filter(|h| h.client_id.as_deref() == Some(id))
}

/// `h`, unless it is the host being replaced.
fn other<'h>(h: Option<&'h HostConfig>, replacing: Option<&str>) -> Option<&'h HostConfig> {
    h.filter(|h| Some(h.name.as_str()) != replacing)
}

fn gone() -> BackendError {
    BackendError::new(Status::NOTFOUND, "host no longer exists")
}

impl EngineBackend<'_> {
    /// The name behind an id.
    fn resolve(&self, id: HostId) -> Result<String, BackendError> {
        self.hosts.names.get(&id).cloned().ok_or_else(gone)
    }
}
