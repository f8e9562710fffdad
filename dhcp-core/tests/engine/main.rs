//! The engine: lease policies, properties, RFC 2131 behaviour.
//!
//! One test binary; each module was its own binary before.

#![allow(clippy::unwrap_used)]

#[path = "../common/mod.rs"]
mod common;

mod conformance;
mod limits;
mod policies;
mod properties;
mod reply_options;
mod rfc2131;
