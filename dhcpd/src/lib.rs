//! The DHCPv4 server daemon: real sockets, a tokio runtime and the durable
//! lease store around the sans-IO engine of `dhcp-core`.
//!
//! The binary (`src/main.rs`) parses the command line ([`cli`]), loads the
//! configuration, applies overrides ([`settings`]) and calls
//! [`server::serve`].

pub mod cli;
pub mod counters;
pub mod interfaces;
pub mod l2;
pub mod receive;
pub mod server;
pub mod service;
pub mod settings;
pub mod socket;
pub mod transaction;
pub mod transmit;
