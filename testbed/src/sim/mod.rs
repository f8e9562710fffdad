//! Simulated PXE clients: a sans-IO client state machine ([`client`]), a
//! driver running many of them over one socket ([`swarm`]), and the report
//! of a run ([`report`]), and its sockets ([`sockets`]).

pub mod client;
pub mod report;
pub mod sockets;
pub mod swarm;

pub use client::{ClientConfig, ClientCounters, ClientEvent, Lease, SimClient};
pub use report::{ClientRecord, Stats, SwarmEvent, SwarmReport, longest_bind_wait};
pub use sockets::ReceivePath;
pub use swarm::{Swarm, SwarmConfig, SwarmHandle, Until};
