//! ISC OMAPI, server side: the protocol ISC dhcpd offers on TCP 7911 and that
//! MAAS, `omshell` and `pypureomapi` speak to add, find, change and delete
//! host reservations and to read leases and failover states.
//!
//! Sans-IO, in layers:
//! * [`wire`]: the startup message and the message codec, with size limits
//!   checked before anything is allocated; decoding never panics.
//! * [`auth`]: named HMAC-MD5 keys (ISC's `key NAME { algorithm hmac-md5;
//!   secret "…"; }`) and signatures.
//! * [`session`]: one connection's state machine: bytes in, bytes out,
//!   requests carried out on a [`Backend`].
//! * [`backend`]: the trait a server implements, and its objects;
//!   [`MemoryBackend`] keeps them in maps.
//! * [`client`]: requests and replies from the client's side, for tests.
//! * `server` (feature `tokio`): a small TCP server running sessions.
//!
//! See `docs/omapi.md` for what is supported.

pub mod auth;
pub mod backend;
pub mod client;
pub mod memory;
mod objects;
#[cfg(feature = "tokio")]
pub mod server;
pub mod session;
pub mod status;
pub mod wire;

pub use auth::{Key, KeyError, KeyRing};
pub use backend::{
    Backend, BackendError, FailoverState, FailoverStateCode, HardwareAddress, Host, HostId,
    HostKey, HostStatement, Lease, LeaseKey, LeaseState,
};
pub use memory::MemoryBackend;
pub use objects::parse_statements;
pub use session::{Config, Session, Stats};
pub use status::Status;
pub use wire::{BadInteger, Limits, Message, Op, Values, WireError};
