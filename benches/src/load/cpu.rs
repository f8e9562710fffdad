//! A process's CPU time from `/proc/PID/stat` (user + system, all threads).

use std::time::Duration;

use crate::load::error::{Error, Result};

/// User plus system CPU time consumed so far by process `pid`.
pub fn cpu_time(pid: i32) -> Result<Duration> {
    let path = format!("/proc/{pid}/stat");
    let text =
        std::fs::read_to_string(&path).map_err(|e| Error::io(format!("reading {path}"), e))?;
    let ticks = parse_stat_ticks(&text)
        .ok_or_else(|| Error::Parse(format!("no utime/stime in {path}: {text}")))?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = if hz > 0 { hz as u64 } else { 100 };
    Ok(Duration::from_nanos(
        ticks.saturating_mul(1_000_000_000) / hz,
    ))
}

/// `utime + stime` (fields 14 and 15, in clock ticks) of a `/proc/PID/stat`
/// line. The command name (field 2) may hold spaces and parentheses, so
/// fields are counted after its last `)`.
pub fn parse_stat_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): field N is at index N − 3.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ticks_after_odd_names() {
        let stat = "1234 (a) b) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 40 0 0 20 0 3 0 1 2 3";
        assert_eq!(parse_stat_ticks(stat), Some(290));
        assert_eq!(parse_stat_ticks("garbage"), None);
    }

    #[test]
    fn reads_own_cpu_time() {
        let pid = std::process::id() as i32;
        assert!(cpu_time(pid).is_ok());
    }
}
