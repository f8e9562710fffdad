//! The daemon's operations: alerts, control socket, lease events, metrics, reload, systemd.
//!
//! One test binary; each module was its own binary before.

#![allow(clippy::unwrap_used)]

#[path = "../common/mod.rs"]
mod common;
#[path = "../ops_support/mod.rs"]
mod ops_support;

mod alerts;
mod control;
mod events;
mod lease_file;
mod metrics;
mod omapi;
mod reload;
mod systemd;
