//! Examples for embedders, built with `cargo build -p examples --examples`
//! and run by `cargo test -p examples` (tests/examples.rs):
//!
//! * `standalone_server.rs`: a DHCP server on a plain UDP socket, with
//!   `dhcp-core`'s engine and `dhcp-store`'s durable store;
//! * `failover_peer.rs`: two failover peers (`dhcp-failover`) driven over
//!   the embedder's own TCP stream and clock, up to NORMAL;
//! * `read_store.rs`: an offline reader of a stopped daemon's lease store.
