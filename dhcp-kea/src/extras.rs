//! What a Kea file says that the configuration model does not hold.

use ipnet::Ipv4Net;

/// `libdhcp_run_script.so`'s parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunScript {
    /// The script (`parameters.name`).
    pub name: String,
    /// `parameters.sync` (Kea runs the script without waiting unless true).
    pub sync: bool,
}

/// `control-socket`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlSocketConfig {
    /// The unix socket path (`socket-name`).
    pub socket_name: String,
}

/// The `high-availability` relationship in Kea's words (the HA commands
/// answer in them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HaNames {
    /// `mode`: `load-balancing` or `hot-standby`.
    pub mode: String,
    /// `this-server-name`.
    pub this_server: String,
    /// This server's `role` (`primary`, `secondary` or `standby`).
    pub this_role: String,
    /// The partner's `name`.
    pub partner_server: String,
    /// The partner's `role`.
    pub partner_role: String,
    /// The failover relationship it becomes (named after the primary).
    pub relationship: String,
}

/// The Kea-only settings of a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeaExtras {
    /// The memfile path (`lease-database/name`), when a lease database is
    /// configured; the store is kept beside it (`NAME.store`).
    pub lease_file: Option<String>,
    /// Subnet ids and the subnets they name.
    pub subnet_ids: Vec<(u32, Ipv4Net)>,
    /// `libdhcp_run_script.so`, when loaded.
    pub run_script: Option<RunScript>,
    /// The other hook libraries accepted, by file name.
    pub hooks: Vec<String>,
    /// `control-socket`.
    pub control_socket: Option<ControlSocketConfig>,
    /// The `high-availability` relationship, when `libdhcp_ha.so` is loaded.
    pub ha: Option<HaNames>,
    /// `option-def` entries, as text.
    pub option_definitions: Vec<String>,
    /// Keys accepted because they state what the server does anyway, or
    /// that it does otherwise, with the reason.
    pub acknowledged: Vec<String>,
}
