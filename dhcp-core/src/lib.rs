//! DHCPv4 server core: configuration model, address pools and allocation, PXE
//! boot policy and the sans-IO server engine. The durable lease store is the
//! `dhcp-store` crate.
//!
//! Nothing here does network I/O or reads the clock: the engine takes a decoded
//! request and the current time and returns replies and lease writes; the daemon
//! (`dhcpd`) commits the writes durably and only then sends the replies.
//!
//! Start with the [`manual`]: concepts, invariants and how to embed.

#![warn(clippy::unwrap_used, clippy::expect_used)]

pub mod config;
pub mod engine;
pub mod hashing;
pub mod lease;
pub mod manual;
pub mod network;
pub mod packet;
pub mod policy;
pub mod pxe;
pub mod table;
