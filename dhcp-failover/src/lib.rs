//! ISC-compatible DHCP failover protocol (draft-ietf-dhc-failover-12 as ISC
//! dhcpd 4.x implements it), sans-IO.
//!
//! * [`wire`]: the typed message model, encoder, decoder and stream framer
//!   for the 12 message types and option codes 1–29, as ISC encodes and
//!   accepts them (validated against a real ISC 4.4.3-P1 capture).
//! * [`hash`]: load balancing — the RFC 3074 hash, the 32-byte hash bucket
//!   assignment with ISC's bit order and polarity (set bit = primary serves),
//!   and the `load balance max seconds` rule.
//!
//! * [`fencing`]: the client-link evidence behind a fencing-aware automatic
//!   partner-down (probe datagrams and the decision).
//! * [`peer`]: the failover state machine (quinn-proto style: inputs in,
//!   transmits/timeouts/events polled out) and [`policy`], the snapshot the
//!   DHCP engine consults ([`dhcp_core::policy::LeasePolicy`]).
//! * `sim` (feature `sim`): a deterministic, seeded simulator of a failover
//!   pair with a faulty network, crashes and clock skew.
//!
//! Everything here is sans-IO: no sockets, no clock; times are passed in as
//! Unix seconds ([`dhcp_core::lease::UnixTime`]).
//!
//! Start with the [`manual`]: concepts, invariants and how to embed.

pub mod fencing;
pub mod hash;
pub mod manual;
pub mod peer;
pub mod policy;
#[cfg(feature = "sim")]
pub mod sim;
pub mod wire;
