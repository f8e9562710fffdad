//! Kea's control channel: the unix socket a Kea file names in
//! `Dhcp4/control-socket`, speaking Kea's command format ([`wire`]) so that
//! tools written for `kea-dhcp4` (kea-shell behind a socket forwarder,
//! Stork-like scripts, MAAS's Kea branch) drive this server unchanged.
//!
//! The commands are answered from the daemon's own control API
//! ([`crate::ops::control`]): the same engine requests, the same durable
//! writes, the same failover operations, in Kea's words, result codes
//! (0 success, 1 error, 2 unsupported, 3 empty) and argument shapes, which
//! `testbed/tests/kea_control_differential.rs` checks against Kea 2.2.
//! As in Kea, the lease commands need `libdhcp_lease_cmds.so` in
//! `hooks-libraries`, the reservation commands `libdhcp_host_cmds.so` and
//! the HA commands `libdhcp_ha.so`; without them they are unsupported (2).
//!
//! | module | commands |
//! |---|---|
//! | [`daemon`] | `list-commands`, `version-get`, `status-get`, `config-get`, `config-test`, `config-reload`, `config-write`, `shutdown` |
//! | [`leases`] | `lease4-get`, `-get-all`, `-get-page`, `-get-by-hw-address`, `-get-by-client-id`, `-get-by-hostname`, `-add`, `-update`, `-del`, `-wipe` |
//! | [`reservations`] | `reservation-add`, `reservation-get`, `reservation-del` |
//! | [`ha`] | `ha-heartbeat`, `ha-status-get`, `ha-maintenance-start`, `ha-maintenance-cancel` |

pub mod context;
pub mod daemon;
pub mod dispatch;
pub mod ha;
pub mod leases;
pub mod reservations;
pub mod server;
pub mod wire;

pub use context::KeaContext;
