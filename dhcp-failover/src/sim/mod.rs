//! The deterministic pair simulator.
