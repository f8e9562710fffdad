//! The SIGKILL soak of issue 16: our daemon under a steady load of
//! simulated clients, SIGKILLed at seeded random moments and restarted with
//! the same store, every client-side DHCPACK checked against the store.
//!
//! * [`ledger`]: the ACKs captured on the client side and their check
//!   against a copy of the store.
//! * [`driver`]: the lab, the daemon, the swarms and the kill cycles.
//! * [`counts`]: the run's figures and the environment knobs.

pub mod counts;
pub mod driver;
pub mod ledger;

pub use counts::{SoakCounts, env_u64, seed_from_env};
pub use driver::{Soak, SoakConfig, SoakReport};
pub use ledger::{Ack, AckTap, CheckOutcome, Ledger, Lost, read_store_copy, unix_secs};
