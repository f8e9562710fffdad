//! Counters to check a server's own accounting against: our daemon's stats
//! file (`dhcpd run --stats-file FILE`, `name value` lines written at
//! shutdown) and the kernel's UDP counters of a namespace (`/proc/net/snmp`).

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::lab::Lab;

/// Our daemon's counters, as written to its stats file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaemonStats {
    values: BTreeMap<String, u64>,
}

impl DaemonStats {
    /// Parses `name value` lines; lines that do not parse are skipped.
    pub fn parse(text: &str) -> Self {
        let values = text
            .lines()
            .filter_map(|l| {
                let (k, v) = l.trim().split_once(' ')?;
                Some((k.to_owned(), v.trim().parse().ok()?))
            })
            .collect();
        Self { values }
    }

    /// Reads and parses a stats file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        Ok(Self::parse(&text))
    }

    /// One counter (0 when absent).
    pub fn get(&self, name: &str) -> u64 {
        self.values.get(name).copied().unwrap_or(0)
    }

    /// The sum of the counters whose names start with `prefix`.
    pub fn sum(&self, prefix: &str) -> u64 {
        self.values
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v)
            .sum()
    }

    /// Every counter.
    pub fn values(&self) -> &BTreeMap<String, u64> {
        &self.values
    }
}

/// The kernel's IPv4 UDP counters of one namespace (`Udp:` of `/proc/net/snmp`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UdpCounters {
    /// Datagrams delivered to sockets.
    pub in_datagrams: u64,
    /// Datagrams to ports nobody listens on.
    pub no_ports: u64,
    /// Datagrams dropped on receive (includes `rcvbuf_errors`).
    pub in_errors: u64,
    /// Datagrams dropped because a socket's receive buffer was full.
    pub rcvbuf_errors: u64,
}

impl UdpCounters {
    /// Parses the two `Udp:` lines of `/proc/net/snmp`.
    pub fn parse(snmp: &str) -> Option<Self> {
        let mut lines = snmp.lines().filter(|l| l.starts_with("Udp:"));
        let names: Vec<&str> = lines.next()?.split_whitespace().collect();
        let values: Vec<&str> = lines.next()?.split_whitespace().collect();
        let get = |n: &str| -> Option<u64> {
            let i = names.iter().position(|x| *x == n)?;
            values.get(i)?.parse().ok()
        };
        Some(Self {
            in_datagrams: get("InDatagrams")?,
            no_ports: get("NoPorts")?,
            in_errors: get("InErrors")?,
            rcvbuf_errors: get("RcvbufErrors")?,
        })
    }

    /// The counters of `host`'s namespace now.
    pub fn read(lab: &Lab, host: &str) -> Result<Self> {
        let text = lab.exec(host, "cat", &["/proc/net/snmp"])?;
        Self::parse(&text).ok_or_else(|| Error::NoResult("no Udp: lines in /proc/net/snmp".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stats_file() {
        let s = DaemonStats::parse("received 10\ndrop.truncated 3\ndrop.bad_magic 2\nbad line\n");
        assert_eq!(s.get("received"), 10);
        assert_eq!(s.sum("drop."), 5);
        assert_eq!(s.get("missing"), 0);
    }

    #[test]
    fn parses_snmp_udp() {
        let snmp = "Ip: Forwarding DefaultTTL\nIp: 1 64\n\
            Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors\n\
            Udp: 100 2 7 50 6 0 0 0 0\n";
        let c = UdpCounters::parse(snmp).unwrap();
        assert_eq!(
            c,
            UdpCounters {
                in_datagrams: 100,
                no_ports: 2,
                in_errors: 7,
                rcvbuf_errors: 6
            }
        );
    }
}
