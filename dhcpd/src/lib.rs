//! The DHCPv4 server daemon: real sockets, a tokio runtime and the durable
//! lease store around the sans-IO engine of `dhcp-core`.
//!
//! # Command line
//!
//! ```text
//! dhcpd run --config FILE [--store DIR] [--interface NAME]... [--log-level LEVEL]
//!           [--quiet] [--stats-file FILE]
//! dhcpd check-config --config FILE          (TOML or ISC dhcpd.conf)
//! dhcpd import-isc FILE                      (prints the equivalent TOML)
//! dhcpd import-kea FILE                      (the same for a Kea Dhcp4 JSON file)
//! dhcpd -t [-cf FILE] | [-f] [-q] -4 -cf FILE -lf FILE -pf FILE [-user U -group G] IFACE…
//! dhcpd status | reload                       [--socket PATH] [--json]
//! dhcpd leases list [--state S] [--all] | show KEY | release KEY
//! dhcpd hosts list | add NAME --mac MAC --ip IP | remove NAME
//! dhcpd failover status | partner-down [RELATIONSHIP]
//! ```
//!
//! Flags override the file: `--store` replaces `server.store`, `--interface`
//! (repeatable) replaces `server.interfaces` (which, when empty, defaults to
//! the interfaces named by shared networks and subnets), `--log-level`
//! replaces `RUST_LOG` and `server.log_level`. `--quiet` turns off the
//! one-line-per-transaction log (target [`serve::transaction::LOG_TARGET`]).
//! Hidden flags for tests: `--server-port`, `--client-port`, `--relay-port`
//! (67, 68 and the server port by default) and `--max-batch`.
//!
//! # Layout
//!
//! Every arrow points one way, from operations through serving to the
//! network side and the cores (checked by `.ci/module-cycles.py`):
//!
//! * [`server`]: starting and stopping the daemon (the composition root);
//!   [`settings`]: the effective settings (file plus flags); [`cli`]: the
//!   command line.
//! * [`ops`]: control socket, metrics, lease events, reload, systemd.
//! * [`serve`]: the engine task, transactions, counters, pool figures.
//! * [`failover`]: the failover drivers, their TCP transport and status.
//! * [`net`]: sockets, interfaces, receive (with coalescing), transmit, L2.
//! * [`clock`], [`failure_log`] and [`shutdown`]: leaves used by all;
//!   [`config_file`] (TOML or ISC) and [`isc_cli`] (ISC's command line):
//!   leaves used by `main` and reload; [`privileges`]: ISC's `-user` and
//!   `-group` (root dropped before any socket is opened).
//!
//! # Sockets
//!
//! One UDP socket per served interface, bound to `0.0.0.0:67` with
//! `SO_BINDTODEVICE`, `SO_REUSEADDR`, `SO_BROADCAST` and `IP_PKTINFO`
//! ([`net::socket`]); with no interface configured at all, one socket without a
//! device binding serves every interface. The arrival interface index from
//! `IP_PKTINFO` is looked up in the [`net::interfaces`] table (re-read every five
//! seconds and on an unknown index) for the interface name and our address on
//! it, which becomes the server identifier (option 54).
//!
//! Replies ([`net::transmit`]), by the engine's [`dhcp_core::engine::Destination`]:
//! relayed → `giaddr:67` from the server port; `ciaddr` set → `ciaddr:68`;
//! broadcast flag (and every NAK) → `255.255.255.255:68` out of the receiving
//! interface; otherwise → `yiaddr:68` at the client's MAC through an
//! `AF_PACKET` socket ([`net::l2`], which explains why we build frames rather than
//! inject ARP entries). Without `CAP_NET_RAW` those replies are broadcast.
//!
//! # Durability and batching
//!
//! The engine task ([`serve::service`]) owns the engine. It handles every request
//! that is ready, submits all their lease writes as one group-commit job, and
//! queues the replies for the sender, which sends them only once that job is
//! durable; replies of batches without writes go at once but never overtake
//! earlier ones (one ordered queue). A one-second timer runs the engine's
//! expiry and commits what it changes.
//!
//! Everything but the store's commit thread runs on one current-thread tokio
//! runtime: with a single-owner engine, worker threads only add wake-ups
//! (measured: about 36–40 µs of daemon CPU per DORA exchange on loopback with
//! a release build, against 54–60 µs with two workers). Under load the
//! runtime pauses briefly before it parks ([`net::coalesce`], `--coalesce-us`), so
//! that datagrams are read and answered in larger batches.
//!
//! # Failover
//!
//! With a `[[failover]]` relationship the engine task also runs the
//! ISC-compatible failover peers ([`failover`]), one per configured
//! relationship: TCP to the partner (listen on `address:port`, dial
//! `peer_address:peer_port` from `address`), the relationship's lease policy
//! for every engine decision about its pools, binding updates sent once a
//! write is durable, partner updates committed before they are acknowledged,
//! and the failover state persisted in the store. Operations see them through
//! [`failover::status::FailoverOps`], implemented by
//! [`failover::ops::Relationships`] (`dhcpd failover status|partner-down`
//! over the control socket, metrics).
//!
//! # Operations
//!
//! [`ops::start`] starts, as configured by flags of `dhcpd run`: the Prometheus
//! exporter ([`ops::metrics`], `--metrics-listen`), the control socket and its
//! JSON-lines API used by the other subcommands ([`ops::control`],
//! `--control-socket`), MAAS lease notifications ([`ops::events`],
//! `--event-socket`, `--event-command`), reload on SIGHUP or over the control
//! socket ([`ops::reload`]) and systemd notifications ([`ops::systemd`]: READY, STATUS,
//! WATCHDOG). What these need from failover is the [`failover::status`] trait
//! ([`failover::status::NoFailover`] while standalone). `docs/operations.md` is
//! the operator's guide.
//!
//! # Counters and shutdown
//!
//! Drops are counted per [`dhcp_core::packet::PacketError`] variant and per
//! daemon reason, transactions per message type and ignore reason, replies
//! per type ([`serve::counters`]). On SIGTERM/SIGINT the receive loops stop, queued
//! requests are handled, pending commits complete and their replies go out,
//! the store is flushed, the counters are logged (and written to
//! `--stats-file`), and the process exits 0 ([`server`]).

pub mod cli;
pub mod clock;
pub mod config_file;
pub mod error_text;
pub mod failover;
pub mod failure_log;
pub mod isc_cli;
pub mod kea_cli;
pub mod memory;
pub mod net;
pub mod ops;
pub mod privileges;
pub mod serve;
pub mod server;
pub mod settings;
pub mod shutdown;
