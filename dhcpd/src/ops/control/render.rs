//! Human-readable rendering of control API results (the CLI's default
//! output; `--json` prints the result object instead).

use std::fmt::Write as _;

use super::protocol::{HostEntry, LeaseInfo, Reply, StatusReport};
use crate::clock::unix_now;
use crate::failover::status::RelationshipStatus;

/// Formats rows as left-aligned columns under a header.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                let _ = write!(l, "{c:<w$}  ");
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header.to_vec(), &mut out);
    for r in rows {
        line(r.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

/// `5s`, `3m20s`, `2h5m`, `4d3h`.
pub fn duration(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{}s", s / 60, s % 60),
        s if s < 86_400 => format!("{}h{}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d{}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// A Unix time relative to now (`in 5m0s`, `3s ago`, `-` for 0).
pub fn relative(t: u64, now: u64) -> String {
    if t == 0 {
        "-".to_owned()
    } else if t >= now {
        format!("in {}", duration(t - now))
    } else {
        format!("{} ago", duration(now - t))
    }
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_else(|| "-".to_owned())
}

fn leases(ls: &[LeaseInfo], now: u64) -> String {
    let rows: Vec<Vec<String>> = ls
        .iter()
        .map(|l| {
            vec![
                l.ip.to_string(),
                l.state.clone(),
                opt(&l.mac),
                opt(&l.hostname),
                relative(u64::from(l.ends), now),
            ]
        })
        .collect();
    let mut s = table(&["IP", "STATE", "MAC", "HOSTNAME", "ENDS"], &rows);
    let _ = writeln!(s, "{} leases", ls.len());
    s
}

fn lease(l: &LeaseInfo, now: u64) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "ip:        {}", l.ip);
    let _ = writeln!(s, "state:     {}", l.state);
    let _ = writeln!(s, "mac:       {}", opt(&l.mac));
    let _ = writeln!(s, "client-id: {}", opt(&l.client_id));
    let _ = writeln!(s, "hostname:  {}", opt(&l.hostname));
    // `starts` is when the binding entered its state (draft-12's STOS): for
    // an ACTIVE lease its start, for an EXPIRED one the moment it expired
    // (so it is shown as "since", not as a start equal to the end).
    let _ = writeln!(s, "since:     {}", relative(u64::from(l.starts), now));
    let ends = if u64::from(l.ends) > now {
        "ends: "
    } else {
        "ended:"
    };
    let _ = writeln!(s, "{ends}     {}", relative(u64::from(l.ends), now));
    let _ = writeln!(s, "cltt:      {}", relative(u64::from(l.cltt), now));
    s
}

fn hosts(hs: &[HostEntry]) -> String {
    let rows: Vec<Vec<String>> = hs
        .iter()
        .map(|e| {
            let h = &e.host;
            vec![
                h.name.clone(),
                e.source.clone(),
                h.mac
                    .as_ref()
                    .map(|m| dhcp_core::config::format_hex(&m.addr))
                    .unwrap_or_else(|| "-".to_owned()),
                h.client_id
                    .as_deref()
                    .map(dhcp_core::config::format_hex)
                    .unwrap_or_else(|| "-".to_owned()),
                h.address.to_string(),
            ]
        })
        .collect();
    table(&["NAME", "SOURCE", "MAC", "CLIENT-ID", "ADDRESS"], &rows)
}

fn failover(rs: &[RelationshipStatus], now: u64) -> String {
    if rs.is_empty() {
        return "failover: standalone (no relationship running)\n".to_owned();
    }
    let rows: Vec<Vec<String>> = rs
        .iter()
        .map(|r| {
            vec![
                r.name.clone(),
                r.role.clone(),
                r.local_state.clone(),
                opt(&r.partner_state),
                if r.connected { "up" } else { "down" }.to_owned(),
                r.unacked_updates.to_string(),
                r.pending_updates.to_string(),
                r.last_contact
                    .map_or_else(|| "never".to_owned(), |t| relative(t, now)),
            ]
        })
        .collect();
    let mut out = table(
        &[
            "RELATIONSHIP",
            "ROLE",
            "LOCAL",
            "PARTNER",
            "CONNECTION",
            "UNACKED",
            "PENDING",
            "LAST-CONTACT",
        ],
        &rows,
    );
    for r in rs {
        if r.partner_maintenance {
            let _ = writeln!(
                out,
                "{}: the partner's maintenance is announced: every client is answered here, \
                 and the partner's stop means partner-down",
                r.name
            );
        }
        if let Some(f) = &r.fencing {
            let _ = writeln!(
                out,
                "{}: fencing: {} client-link probes, {} answered (last {}); automatic partner-down withheld {} times",
                r.name,
                f.probes,
                f.answers,
                f.last_answer
                    .map_or_else(|| "never".to_owned(), |t| relative(u64::from(t), now)),
                f.withheld
            );
        }
    }
    out
}

fn status(s: &StatusReport, now: u64) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "dhcpd {} (pid {}), up {}",
        s.version,
        s.pid,
        duration(s.uptime)
    );
    let _ = writeln!(o, "config:     {}", opt(&s.config));
    let _ = writeln!(o, "store:      {}", s.store);
    let ifs = if s.interfaces.is_empty() {
        "all".to_owned()
    } else {
        s.interfaces.join(" ")
    };
    let _ = writeln!(o, "interfaces: {ifs}");
    let _ = writeln!(
        o,
        "hosts:      {} configured, {} runtime",
        s.config_hosts, s.runtime_hosts
    );
    let _ = writeln!(
        o,
        "events:     {} queued, {} delivered, {} dropped",
        s.events.queued, s.events.delivered, s.events.dropped
    );
    match &s.last_reload {
        Some(r) => {
            let _ = writeln!(
                o,
                "reload:     {} {}: {}",
                if r.ok { "applied" } else { "REFUSED" },
                relative(r.time, now),
                r.message
            );
        }
        None => {
            let _ = writeln!(o, "reload:     none since start");
        }
    }
    o.push('\n');
    o.push_str(&failover(&s.failover, now));
    o.push('\n');
    let rows: Vec<Vec<String>> = s
        .pools
        .iter()
        .map(|p| {
            vec![
                p.network.clone(),
                p.range.clone(),
                p.size.to_string(),
                p.count(dhcp_core::lease::BindingState::Active).to_string(),
                p.count(dhcp_core::lease::BindingState::Free).to_string(),
                p.count(dhcp_core::lease::BindingState::Backup).to_string(),
                format!("{:.1}%", p.utilization() * 100.0),
            ]
        })
        .collect();
    o.push_str(&table(
        &[
            "NETWORK", "POOL", "SIZE", "ACTIVE", "FREE", "BACKUP", "USED",
        ],
        &rows,
    ));
    if !s.counters.is_empty() {
        o.push('\n');
        let c: Vec<String> = s.counters.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(o, "counters: {}", c.join(" "));
    }
    o
}

/// Renders a result for people.
pub fn human(r: &Reply) -> String {
    let now = unix_now();
    match r {
        Reply::Status(s) => status(s, now),
        Reply::Leases { leases: ls } => leases(ls, now),
        Reply::Lease { lease: l } => lease(l, now),
        Reply::Hosts { hosts: hs } => hosts(hs),
        Reply::Failover { relationships } => failover(relationships, now),
        Reply::Reloaded { record } => format!("configuration reloaded: {}\n", record.message),
        Reply::EngineStatus(_) => "(internal)\n".to_owned(),
        Reply::Done { message } => format!("{message}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align() {
        let t = table(
            &["A", "BB"],
            &[vec!["xxx".into(), "y".into()], vec!["z".into(), "".into()]],
        );
        assert_eq!(t, "A    BB\nxxx  y\nz\n");
        assert_eq!(duration(59), "59s");
        assert_eq!(duration(61), "1m1s");
        assert_eq!(duration(3_700), "1h1m");
        assert_eq!(relative(100, 90), "in 10s");
        assert_eq!(relative(80, 90), "10s ago");
        assert_eq!(relative(0, 90), "-");
    }

    #[test]
    fn an_expired_lease_shows_since_and_ended() {
        let l = LeaseInfo {
            ip: std::net::Ipv4Addr::new(10, 99, 0, 100),
            state: "expired".into(),
            mac: Some("52:54:00:00:00:01".into()),
            client_id: None,
            hostname: None,
            starts: 1_000,
            ends: 1_000,
            cltt: 400,
        };
        let text = lease(&l, 1_060);
        assert!(text.contains("since:     1m0s ago\n"), "{text}");
        assert!(text.contains("ended:     1m0s ago\n"), "{text}");
        assert!(!text.contains("starts"), "{text}");
        let active = LeaseInfo {
            state: "active".into(),
            ends: 1_600,
            ..l
        };
        assert!(lease(&active, 1_060).contains("ends:      in 9m0s\n"));
    }
}
