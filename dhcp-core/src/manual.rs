//! The manual: concepts, invariants and how to embed the engine.
//!
//! This module has no code; it is the guide to the rest of the crate, in the
//! way `rustls::manual` is.
//!
//! # Concepts
//!
//! * **Configuration** ([`crate::config::Config`]): the serde model of a
//!   server (subnets, shared networks, pools, hosts, options, PXE rules,
//!   failover relationships), validated as a whole by
//!   [`Config::from_toml`](crate::config::Config::from_toml). Every other
//!   dialect (ISC's `dhcpd.conf`, for one) is read into this same model, so
//!   the engine has one code path.
//! * **Topology** ([`crate::network::Topology`]): the compiled configuration:
//!   which link a request came from (relay `giaddr`, else the receiving
//!   interface, else its address), the options and lease times in scope, the
//!   host reservations.
//! * **Lease table** ([`crate::table::LeaseTable`]): one
//!   [`Lease`](crate::lease::Lease) per pool address, in ISC's binding states
//!   with the failover times, indexed by address, by client and by state.
//! * **Policy** ([`crate::policy::LeasePolicy`]): what the engine asks before
//!   answering: may this server answer this client now, which addresses may
//!   it allocate, how long may a lease run. [`Standalone`](crate::policy::Standalone)
//!   answers everything; `dhcp-failover`'s `FailoverPolicy` answers for one
//!   side of a failover pair. [`Policies`](crate::policy::Policies) maps a
//!   relationship name to its policy.
//! * **Engine** ([`crate::engine::Engine`]): RFC 2131's server side. In: a
//!   decoded request ([`crate::packet::decode_request`]), where it arrived
//!   ([`RecvInfo`](crate::engine::RecvInfo)), the policies and the time (Unix
//!   seconds). Out: an [`Outcome`](crate::engine::Outcome): the reply, where
//!   it goes, and the lease records it changed.
//!
//! # Invariants
//!
//! * **Durable before reply.** The engine changes its table at once, so the
//!   next request sees the new state, but `Outcome::reply` may only be sent
//!   once `Outcome::writes` are on stable storage (RFC 2131 §4.3.2). A crash
//!   in between loses only a reply that was never sent. An outcome without
//!   writes (OFFER, NAK, INFORM's ACK) promises nothing and may go at once.
//! * **One address, one client.** The table holds one record per address and
//!   one binding per client key; the engine never offers an address that is
//!   bound, offered to another client or not the policy's to give.
//! * **Restore before serving.** At start, feed the store's records to
//!   [`Engine::restore`](crate::engine::Engine::restore) before the first
//!   request; records outside the configured pools are reported, not lost.
//! * **Time moves on by `tick`.** Call
//!   [`Engine::tick`](crate::engine::Engine::tick) about once a second: it
//!   expires bindings and offer holds and returns the records to commit.
//! * **No I/O, no panics on input.** Nothing here reads a socket, a file
//!   (except the convenience [`Config::load`](crate::config::Config::load)) or
//!   the clock; malformed datagrams are refused by `decode_request` with a
//!   typed error, never a panic.
//!
//! # Embedding
//!
//! The whole loop of a standalone server (the `examples` package has it
//! running, with `dhcp-store` as the store):
//!
//! ```
//! use dhcp_core::config::Config;
//! use dhcp_core::engine::{Engine, RecvInfo};
//! use dhcp_core::lease::Lease;
//! use dhcp_core::packet::decode_request;
//! use dhcp_core::policy::Standalone;
//!
//! /// Handles one datagram; `commit` must make the records durable.
//! fn on_datagram(
//!     engine: &mut Engine,
//!     datagram: &[u8],
//!     info: &RecvInfo<'_>,
//!     now: u32,
//!     commit: impl FnOnce(&[Lease]) -> std::io::Result<()>,
//! ) -> std::io::Result<Option<Vec<u8>>> {
//!     let Ok(request) = decode_request(datagram) else {
//!         return Ok(None); // count the drop
//!     };
//!     let outcome = engine.handle(&Standalone, &request, info, now);
//!     commit(&outcome.writes)?; // durable first
//!     Ok(outcome.reply.map(|r| r.bytes))
//! }
//!
//! let config = Config::from_toml(
//!     r#"
//!     [[subnets]]
//!     subnet = "10.99.0.0/24"
//!     [[subnets.pools]]
//!     start = "10.99.0.100"
//!     end = "10.99.0.199"
//!     "#,
//! )
//! .expect("a valid configuration");
//! let mut engine = Engine::new(config);
//! let info = RecvInfo {
//!     interface: None,
//!     local_addr: "10.99.0.1".parse().unwrap(),
//!     src: "10.99.0.50:68".parse().unwrap(),
//! };
//! // Garbage is a counted drop, not a panic.
//! assert!(on_datagram(&mut engine, b"garbage", &info, 1_700_000_000, |_| Ok(())).unwrap().is_none());
//! ```
//!
//! A failover server does the same with `dhcp_failover`'s policies in place
//! of `Standalone`, and tells each relationship's peer of every durable
//! write of its pools (see `dhcp_failover::manual`).
