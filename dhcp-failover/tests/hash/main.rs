//! The RFC 3074 hash and load balancing, alone and against the ISC capture.
//!
//! One test binary; each module was its own binary before.

#![allow(clippy::unwrap_used)]

#[path = "../common/mod.rs"]
mod common;

mod basics;
mod capture;
