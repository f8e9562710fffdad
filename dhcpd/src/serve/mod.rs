//! Serving: the engine task, what travels between it and the network side,
//! and the counters and pool figures it keeps.

pub mod counters;
pub mod histogram;
pub mod passed_over;
pub mod pool_stats;
pub mod service;
pub mod transaction;
