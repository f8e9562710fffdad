//! The wall clock, read in one place: Unix seconds for timestamps (metrics,
//! events, control replies) and the engine's `UnixTime` (the sans-IO cores
//! take time as an input; this is where the daemon reads it).

use std::time::{SystemTime, UNIX_EPOCH};

use dhcp_core::lease::UnixTime;

/// The current Unix time in seconds (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The current time as the engine and the failover peer count it
/// (saturating at `UnixTime::MAX`).
pub fn engine_now() -> UnixTime {
    UnixTime::try_from(unix_now()).unwrap_or(UnixTime::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_readings_agree() {
        let a = unix_now();
        let b = u64::from(engine_now());
        assert!(b >= a && b - a <= 1);
    }
}
