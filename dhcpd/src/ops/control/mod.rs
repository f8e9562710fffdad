//! The control API: a unix stream socket speaking JSON lines (one request
//! object per line, one response object per line), used by the `dhcpd`
//! subcommands `status`, `leases`, `hosts`, `failover` and `reload`.
//!
//! Authorisation is the socket's file permissions (mode 0660 by default,
//! owned by the daemon's user and group): whoever can connect may do
//! everything. Requests are `{"command": "...", ...}` ([`Request`]);
//! responses are `{"ok": true, "result": {...}}` or
//! `{"ok": false, "error": "..."}` ([`Response`]).

pub mod client;
pub mod context;
pub mod engine;
pub mod error;
pub mod hosts;
pub mod lease_edit;
pub mod protocol;
pub mod render;
pub mod server;

pub use protocol::*;
