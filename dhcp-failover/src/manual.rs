//! The manual: the failover relationship, its invariants, how to drive a peer.
//!
//! This module has no code.
//!
//! # Concepts
//!
//! * **Relationship**: two servers (primary and secondary) share the pools
//!   that name it. Each address has an owner: the free addresses are split
//!   between the servers by pool balancing; clients are split by the RFC 3074
//!   hash of their identifier against the 256-bucket table (`split` or
//!   `hba`, [`crate::hash`]). A server tells its partner of every binding it
//!   makes (BNDUPD) and the partner acknowledges it (BNDACK).
//! * **States** ([`crate::peer::FailoverState`]): NORMAL while in contact;
//!   COMMUNICATIONS-INTERRUPTED when the link is lost (each server goes on
//!   serving, but only from its own free addresses and within MCLT);
//!   PARTNER-DOWN when an operator (or `auto-partner-down`) says the partner
//!   is really down, after which, once MCLT has passed, this server may use
//!   the partner's addresses; RECOVER and its sub-states when a server comes
//!   back and must learn what happened. The tables of ISC dhcpd 4.4 are pure
//!   functions in `peer::transition`.
//! * **MCLT** (maximum client lead time): no lease runs more than MCLT past
//!   what the partner has acknowledged, so a partner that never heard of a
//!   binding can safely wait MCLT and reuse the address.
//! * **Peer** ([`crate::peer::Peer`]): the sans-IO state machine of one side,
//!   in quinn-proto's shape: inputs (`handle_connected`, `handle_message`,
//!   `handle_timeout`, `handle_disconnected`, `local_lease_changed`,
//!   `handle_committed`, `partner_down`), outputs polled (`poll_transmit`,
//!   `poll_timeout`, `poll_event`). It shares the engine's
//!   [`LeaseTable`](dhcp_core::table::LeaseTable), passed in to each input.
//! * **Policy** ([`crate::policy::FailoverPolicy`]): the snapshot of a peer
//!   the DHCP engine consults ([`Peer::policy`](crate::peer::Peer::policy)):
//!   whether to answer, which addresses to allocate, the MCLT clamp.
//! * **Wire** ([`crate::wire`]): the message model and codec, apart from the
//!   states, and [`FrameReader`](crate::wire::FrameReader) for the TCP stream.
//!
//! # Invariants the driver must keep
//!
//! * **A BNDACK only after the partner's update is durable.** A partner's
//!   BNDUPD yields [`Event::Commit`](crate::peer::Event::Commit) with the
//!   leases; make them durable, then call `handle_committed(token)`; only
//!   then is the BNDACK released by `poll_transmit`.
//! * **Tell the peer of local bindings only once durable.** Call
//!   `local_lease_changed` for each record of the relationship's pools after
//!   the engine's write has been committed, never before.
//! * **Save state before acting on it.** [`Event::Persist`](crate::peer::Event::Persist)
//!   carries the state to store; a state change is saved before the driver
//!   goes on, and [`Peer::new`](crate::peer::Peer::new) resumes from it. A
//!   server that lost its state starts a new relationship (RECOVER).
//! * **Refresh the policy after every input**: the engine must answer by the
//!   peer's current state, not last second's.
//! * **Time is the caller's**: Unix seconds in, `poll_timeout` out. A virtual
//!   clock gives deterministic tests (the `sim` feature's pair simulator runs
//!   thousands of seeded schedules with partitions, crashes and skew, checking
//!   after every step that no address is bound to two clients).
//! * **The protocol has no authentication**: restrict the failover port to
//!   the partner's address at the network level.
//!
//! # Embedding
//!
//! `examples/failover_peer.rs` in the repository drives a pair over a real
//! TCP stream and a virtual clock until both are NORMAL, in about a hundred
//! lines: read bytes into a [`FrameReader`](crate::wire::FrameReader), feed
//! each message to `handle_message`, run `handle_timeout` when
//! `poll_timeout` is due, carry out every event, and write every
//! `poll_transmit` message with [`Message::encode`](crate::wire::Message::encode).
//! `dhcpd`'s `failover::driver` is the production driver: the same loop, with
//! the group commit of `dhcp-store` for every `Commit` event.
