//! What a server exposes over OMAPI: the [`Backend`] trait the session calls,
//! and the objects it reads and writes.

use std::borrow::Cow;
use std::net::Ipv4Addr;

use crate::status::Status;

/// A link-layer address with its ARP hardware type (1: Ethernet).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HardwareAddress {
    /// ARP hardware type (`hardware-type`).
    pub htype: u8,
    /// Address bytes (`hardware-address`), at most 16.
    pub addr: Vec<u8>,
}

impl std::fmt::Display for HardwareAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, b) in self.addr.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// A statement in a host's `statements` that this server understands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostStatement {
    /// `supersede host-name "NAME";` (also `option host-name "NAME";`): option 12 for this host.
    HostName(String),
    /// `supersede domain-name "NAME";`: option 15 for this host.
    DomainName(String),
    /// `supersede routers A.B.C.D[, ...];`: option 3 for this host.
    Routers(Vec<Ipv4Addr>),
}

/// A host reservation as OMAPI sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Host {
    /// `name`: unique among hosts. A host created without one is given one by the backend.
    pub name: Option<String>,
    /// `hardware-address` and `hardware-type`.
    pub hardware: Option<HardwareAddress>,
    /// `dhcp-client-identifier`.
    pub client_id: Option<Vec<u8>>,
    /// `ip-address`: the fixed address.
    pub ip_address: Option<Ipv4Addr>,
    /// `statements`, parsed.
    pub statements: Vec<HostStatement>,
}

/// A backend's identifier for a host, stable while the host exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostId(pub u64);

/// One attribute to find a host by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostKey<'a> {
    /// By `name`.
    Name(&'a str),
    /// By `dhcp-client-identifier`.
    ClientId(&'a [u8]),
    /// By `hardware-address` + `hardware-type`.
    Hardware(&'a HardwareAddress),
    /// By fixed `ip-address`.
    Ip(Ipv4Addr),
}

/// ISC's lease binding states, with the numbers of the lease object's `state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum LeaseState {
    /// 1: free.
    Free = 1,
    /// 2: active.
    Active = 2,
    /// 3: expired.
    Expired = 3,
    /// 4: released.
    Released = 4,
    /// 5: abandoned.
    Abandoned = 5,
    /// 6: reset.
    Reset = 6,
    /// 7: backup.
    Backup = 7,
}

/// A lease as the lease object reports it. Times are seconds since the Unix epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// `ip-address`.
    pub ip_address: Ipv4Addr,
    /// `state`.
    pub state: LeaseState,
    /// `hardware-address` and `hardware-type` of the last client.
    pub hardware: Option<HardwareAddress>,
    /// `dhcp-client-identifier`.
    pub client_id: Option<Vec<u8>>,
    /// `client-hostname` (option 12 the client sent).
    pub client_hostname: Option<String>,
    /// `starts`.
    pub starts: Option<u32>,
    /// `ends`.
    pub ends: Option<u32>,
    /// `tstp`.
    pub tstp: Option<u32>,
    /// `tsfp`.
    pub tsfp: Option<u32>,
    /// `cltt`.
    pub cltt: Option<u32>,
}

/// One attribute to find a lease by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseKey<'a> {
    /// By `ip-address`.
    Ip(Ipv4Addr),
    /// By `hardware-address` + `hardware-type` (the most recent lease of that client).
    Hardware(&'a HardwareAddress),
    /// By `dhcp-client-identifier`.
    ClientId(&'a [u8]),
}

/// Failover states with the numbers of the failover-state object (the
/// draft's wire values, as ISC 4.x uses them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FailoverStateCode(pub u32);

impl FailoverStateCode {
    /// 1: startup.
    pub const STARTUP: Self = Self(1);
    /// 2: normal.
    pub const NORMAL: Self = Self(2);
    /// 3: communications interrupted.
    pub const COMMUNICATIONS_INTERRUPTED: Self = Self(3);
    /// 4: partner down.
    pub const PARTNER_DOWN: Self = Self(4);
    /// 5: potential conflict.
    pub const POTENTIAL_CONFLICT: Self = Self(5);
    /// 6: recover.
    pub const RECOVER: Self = Self(6);
    /// 7: paused.
    pub const PAUSED: Self = Self(7);
    /// 8: shutdown.
    pub const SHUTDOWN: Self = Self(8);
    /// 9: recover done.
    pub const RECOVER_DONE: Self = Self(9);
    /// 10: resolution interrupted.
    pub const RESOLUTION_INTERRUPTED: Self = Self(10);
    /// 11: conflict done.
    pub const CONFLICT_DONE: Self = Self(11);
    /// 254: recover wait.
    pub const RECOVER_WAIT: Self = Self(254);
}

/// A failover relationship as the failover-state object reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailoverState {
    /// `name`: the relationship (ISC's `failover peer` name).
    pub name: String,
    /// `local-state`.
    pub local_state: FailoverStateCode,
    /// `partner-state`.
    pub partner_state: FailoverStateCode,
    /// `local-address`.
    pub local_address: Option<Ipv4Addr>,
    /// `local-port`.
    pub local_port: Option<u16>,
    /// `partner-address`.
    pub partner_address: Option<Ipv4Addr>,
    /// `partner-port`.
    pub partner_port: Option<u16>,
    /// `mclt`, seconds.
    pub mclt: Option<u32>,
}

/// A backend's refusal, sent to the client as a status message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendError {
    /// The ISC result code.
    pub status: Status,
    /// Text for the status message's `message` value.
    pub message: Cow<'static, str>,
}

impl BackendError {
    /// A refusal with a code and text.
    pub fn new(status: Status, message: impl Into<Cow<'static, str>>) -> Self {
        BackendError {
            status,
            message: message.into(),
        }
    }
}

/// The server behind OMAPI. The session validates and decodes every request
/// before calling it; methods see only well-formed values.
///
/// Host lookups take one key at a time; the session combines them as ISC
/// does (every key given must name the same host).
pub trait Backend {
    /// The host that `key` names. (`&mut`: a backend may hand out ids as
    /// hosts are first looked up.)
    fn find_host(&mut self, key: HostKey<'_>) -> Option<HostId>;
    /// The host behind an id, if it still exists.
    fn host(&self, id: HostId) -> Option<Host>;
    /// Create a host. Refuse with [`Status::EXISTS`] when its name, hardware
    /// address or client identifier belongs to another host.
    fn create_host(&mut self, host: Host) -> Result<HostId, BackendError>;
    /// Replace a host's attributes (the session merges the change into the
    /// current host first).
    fn update_host(&mut self, id: HostId, host: Host) -> Result<(), BackendError>;
    /// Delete a host.
    fn delete_host(&mut self, id: HostId) -> Result<(), BackendError>;
    /// The lease that `key` names.
    fn find_lease(&self, key: LeaseKey<'_>) -> Option<Lease>;
    /// The failover relationship named `name`.
    fn failover_state(&self, name: &str) -> Option<FailoverState>;
    /// Put the local server of relationship `name` into PARTNER-DOWN (the
    /// only change of `local-state` the session passes on).
    fn set_partner_down(&mut self, name: &str) -> Result<(), BackendError>;
}
