//! What a swarm run produced: one record per client, the event log, and the
//! figures derived from them (time-to-lease statistics, duplicates, failures).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::time::Duration;

use super::client::{ClientCounters, ClientEvent, Lease};

/// One client at the end of a run.
#[derive(Debug, Clone)]
pub struct ClientRecord {
    /// Index in the swarm.
    pub index: usize,
    /// Hardware address.
    pub mac: [u8; 6],
    /// First DISCOVER to first ACK, if it ever got a lease.
    pub time_to_lease: Option<Duration>,
    /// The lease held at the end, if any.
    pub lease: Option<Lease>,
    /// Counters.
    pub counters: ClientCounters,
    /// State at the end.
    pub state: &'static str,
}

/// One event, timestamped from the swarm's start.
#[derive(Debug, Clone, PartialEq)]
pub struct SwarmEvent {
    /// Time since the swarm started.
    pub at: Duration,
    /// Client index.
    pub client: usize,
    /// What happened.
    pub event: ClientEvent,
}

/// Whether a client sent a DISCOVER or REQUEST more than once within one
/// attempt (each start over begins a new one).
fn retransmitted(c: &ClientCounters) -> bool {
    c.discovers > 1 + c.restarts || c.requests > 1 + c.restarts
}

/// Minimum, median, 95th percentile and maximum of a set of durations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// Smallest.
    pub min: Duration,
    /// Median.
    pub median: Duration,
    /// 95th percentile.
    pub p95: Duration,
    /// Largest.
    pub max: Duration,
}

impl Stats {
    /// Statistics of `values`, or `None` when empty.
    pub fn of(values: &[Duration]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let mut v = values.to_vec();
        v.sort();
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        Some(Self {
            min: v[0],
            median: at(0.5),
            p95: at(0.95),
            max: v[v.len() - 1],
        })
    }
}

/// The result of a swarm run.
#[derive(Debug, Clone)]
pub struct SwarmReport {
    /// Per-client records, by index.
    pub clients: Vec<ClientRecord>,
    /// Every event, in order.
    pub events: Vec<SwarmEvent>,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Datagrams sent.
    pub packets_sent: u64,
    /// Datagrams received on port 68.
    pub packets_received: u64,
    /// Received datagrams that did not decode.
    pub undecodable: u64,
    /// Received datagrams for no client of ours (xid or chaddr unknown).
    pub unmatched: u64,
    /// Encode or send failures.
    pub send_errors: u64,
}

impl SwarmReport {
    /// Clients holding a lease at the end.
    pub fn bound(&self) -> usize {
        self.clients.iter().filter(|c| c.lease.is_some()).count()
    }

    /// Clients that never got a lease.
    pub fn failures(&self) -> usize {
        self.clients
            .iter()
            .filter(|c| c.time_to_lease.is_none())
            .count()
    }

    /// The clients that never got a lease: index, state at the end and
    /// counters (for a run's diagnosis).
    pub fn failed_clients(&self) -> Vec<(usize, &'static str, ClientCounters)> {
        self.clients
            .iter()
            .filter(|c| c.time_to_lease.is_none())
            .map(|c| (c.index, c.state, c.counters))
            .collect()
    }

    /// Addresses held by more than one client at the end, with the clients.
    pub fn duplicate_addresses(&self) -> Vec<(Ipv4Addr, Vec<usize>)> {
        let mut by_addr: BTreeMap<Ipv4Addr, Vec<usize>> = BTreeMap::new();
        for c in &self.clients {
            if let Some(l) = &c.lease {
                by_addr.entry(l.address).or_default().push(c.index);
            }
        }
        by_addr.into_iter().filter(|(_, v)| v.len() > 1).collect()
    }

    /// Time-to-lease statistics over the clients that got one.
    pub fn time_to_lease(&self) -> Option<Stats> {
        let v: Vec<Duration> = self
            .clients
            .iter()
            .filter_map(|c| c.time_to_lease)
            .collect();
        Stats::of(&v)
    }

    /// Leases at the end, per server (option 54).
    pub fn leases_by_server(&self) -> BTreeMap<Ipv4Addr, usize> {
        let mut m = BTreeMap::new();
        for l in self.clients.iter().filter_map(|c| c.lease.as_ref()) {
            *m.entry(l.server).or_insert(0) += 1;
        }
        m
    }

    /// Leases granted (first binds, re-binds after starting over, and
    /// renewals) per time bucket of width `bucket`, per server: the
    /// per-second timeline of a failover demo.
    pub fn timeline(&self, bucket: Duration) -> Vec<BTreeMap<Ipv4Addr, usize>> {
        let width = bucket.as_secs_f64().max(1e-3);
        let mut out: Vec<BTreeMap<Ipv4Addr, usize>> = Vec::new();
        for e in &self.events {
            let server = match &e.event {
                ClientEvent::Bound { server, .. } | ClientEvent::Renewed { server, .. } => *server,
                _ => continue,
            };
            let i = (e.at.as_secs_f64() / width) as usize;
            if out.len() <= i {
                out.resize(i + 1, BTreeMap::new());
            }
            *out[i].entry(server).or_insert(0) += 1;
        }
        out
    }

    /// The longest any client waited for an ACK: first DISCOVER to ACK
    /// (including starts over) or first renewal REQUEST to ACK.
    pub fn longest_wait(&self) -> Option<Duration> {
        self.events
            .iter()
            .filter_map(|e| match &e.event {
                ClientEvent::Bound { waited, .. } | ClientEvent::Renewed { waited, .. } => {
                    Some(*waited)
                }
                _ => None,
            })
            .max()
    }

    /// The per-second timeline as text: one row per second, one column per
    /// server (leases granted, renewals included).
    pub fn timeline_table(&self) -> String {
        let rows = self.timeline(Duration::from_secs(1));
        let servers: Vec<Ipv4Addr> = rows
            .iter()
            .flat_map(|r| r.keys().copied())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut s = String::from("  second");
        for srv in &servers {
            let _ = write!(s, " {:>15}", srv.to_string());
        }
        s.push('\n');
        for (i, row) in rows.iter().enumerate() {
            let _ = write!(s, "  {i:>6}");
            for srv in &servers {
                let _ = write!(s, " {:>15}", row.get(srv).copied().unwrap_or(0));
            }
            s.push('\n');
        }
        s
    }

    /// Total successful renewals.
    pub fn renewals(&self) -> u64 {
        self.clients
            .iter()
            .map(|c| u64::from(c.counters.renewals))
            .sum()
    }

    /// Clients that sent a DISCOVER or REQUEST again for want of an answer
    /// (retransmitted); starting over after a NAK or an expiry is not a
    /// retransmission.
    pub fn retransmitting_clients(&self) -> usize {
        self.clients
            .iter()
            .filter(|c| retransmitted(&c.counters))
            .count()
    }

    /// Clients that were told to start over (NAK) at least once.
    pub fn naked_clients(&self) -> usize {
        self.clients.iter().filter(|c| c.counters.naks > 0).count()
    }

    /// When each retransmitting client started (its first DISCOVER, from
    /// the swarm's start), for those that got a lease: which moment of a
    /// run made them wait.
    pub fn retransmitting_starts(&self) -> Vec<Duration> {
        let mut starts: Vec<Duration> = self
            .clients
            .iter()
            .filter(|c| retransmitted(&c.counters))
            .filter_map(|c| {
                self.events.iter().find_map(|e| match &e.event {
                    ClientEvent::Bound { waited, .. } if e.client == c.index => {
                        Some(e.at.saturating_sub(*waited))
                    }
                    _ => None,
                })
            })
            .collect();
        starts.sort();
        starts
    }

    /// A plain-text summary table.
    pub fn summary_table(&self, title: &str) -> String {
        let mut s = String::new();
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
        let dups = self.duplicate_addresses();
        let mut rows: Vec<(String, String)> = vec![
            ("clients".into(), self.clients.len().to_string()),
            ("leases".into(), self.bound().to_string()),
            ("failures".into(), self.failures().to_string()),
            ("duplicate addresses".into(), dups.len().to_string()),
        ];
        match self.time_to_lease() {
            Some(st) => {
                rows.push(("time-to-lease min".into(), ms(st.min)));
                rows.push(("time-to-lease median".into(), ms(st.median)));
                rows.push(("time-to-lease p95".into(), ms(st.p95)));
                rows.push(("time-to-lease max".into(), ms(st.max)));
            }
            None => rows.push(("time-to-lease".into(), "n/a".into())),
        }
        rows.push((
            "clients that retransmitted".into(),
            self.retransmitting_clients().to_string(),
        ));
        rows.push((
            "clients told to start over (NAK)".into(),
            self.naked_clients().to_string(),
        ));
        for (server, n) in self.leases_by_server() {
            rows.push((format!("leases from {server}"), n.to_string()));
        }
        rows.push((
            "packets sent / received".into(),
            format!("{} / {}", self.packets_sent, self.packets_received),
        ));
        rows.push((
            "run time".into(),
            format!("{:.2} s", self.elapsed.as_secs_f64()),
        ));
        let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        let v = rows.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
        let _ = writeln!(s, "{title}");
        let _ = writeln!(s, "+-{}-+-{}-+", "-".repeat(w), "-".repeat(v));
        for (k, val) in &rows {
            let _ = writeln!(s, "| {k:<w$} | {val:>v$} |");
        }
        let _ = writeln!(s, "+-{}-+-{}-+", "-".repeat(w), "-".repeat(v));
        for (addr, who) in dups {
            let _ = writeln!(s, "DUPLICATE {addr}: clients {who:?}");
        }
        s
    }
}

/// The longest DISCOVER-to-ACK wait of first bindings among `events`
/// (renewals excluded).
pub fn longest_bind_wait(events: &[SwarmEvent]) -> std::time::Duration {
    events
        .iter()
        .filter_map(|e| match &e.event {
            ClientEvent::Bound { waited, .. } => Some(*waited),
            _ => None,
        })
        .max()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_of_durations() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let s = Stats::of(&v).unwrap();
        assert_eq!(s.min, Duration::from_millis(1));
        assert_eq!(s.max, Duration::from_millis(100));
        assert_eq!(s.median, Duration::from_millis(51));
        assert!(Stats::of(&[]).is_none());
    }
}
