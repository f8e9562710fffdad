//! The failover wire codec: the ISC capture, hostile input, round trips, vectors.
//!
//! One test binary; each module was its own binary before.

#![allow(clippy::unwrap_used)]

#[path = "../common/mod.rs"]
mod common;

mod capture;
mod hostile;
mod roundtrip;
mod vectors;
