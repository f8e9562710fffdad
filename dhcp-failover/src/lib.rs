//! ISC-compatible DHCP failover protocol (draft-ietf-dhc-failover-12 as ISC
//! dhcpd 4.x implements it), sans-IO.
//!
//! * [`wire`]: the typed message model, encoder, decoder and stream framer.
//! * [`hash`]: the RFC 3074 load-balancing hash and hash bucket assignment.

pub mod hash;
pub mod wire;
