//! Reading ISC dhcpd's artefacts: its lease file (to compare lease databases
//! with ours, issue 5) and its failover state changes from its log.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;

use crate::error::{Error, Result};

/// The last state of one address in an ISC lease file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IscLease {
    /// The address.
    pub address: Option<Ipv4Addr>,
    /// `binding state` (`active`, `free`, `backup`, `expired`, …).
    pub binding_state: String,
    /// `next binding state`, if present.
    pub next_binding_state: Option<String>,
    /// `hardware ethernet`, lower case.
    pub hardware: Option<String>,
    /// `starts` (as written: `W YYYY/MM/DD HH:MM:SS`).
    pub starts: Option<String>,
    /// `ends`.
    pub ends: Option<String>,
    /// `client-hostname`.
    pub client_hostname: Option<String>,
}

impl IscLease {
    /// Whether the address is bound to a client.
    pub fn is_active(&self) -> bool {
        self.binding_state == "active"
    }
}

/// The failover state recorded in an ISC lease file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IscFailoverRecord {
    /// Relationship name.
    pub peer: String,
    /// `my state`.
    pub my_state: Option<String>,
    /// `partner state`.
    pub partner_state: Option<String>,
}

/// A parsed ISC lease file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IscLeaseFile {
    /// Last entry per address (later entries supersede earlier ones).
    pub leases: BTreeMap<Ipv4Addr, IscLease>,
    /// Failover state records.
    pub failover: Vec<IscFailoverRecord>,
}

impl IscLeaseFile {
    /// Reads and parses a lease file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("read {}", path.display()), e))?;
        Ok(Self::parse(&text))
    }

    /// Parses lease-file text. Unknown statements are ignored.
    pub fn parse(text: &str) -> Self {
        let mut out = Self::default();
        let mut lease: Option<IscLease> = None;
        let mut failover: Option<IscFailoverRecord> = None;
        for raw in text.lines() {
            let line = raw.trim();
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            if let Some(rest) = line.strip_prefix("lease ") {
                let addr = rest.trim_end_matches('{').trim().parse().ok();
                lease = Some(IscLease {
                    address: addr,
                    ..IscLease::default()
                });
                continue;
            }
            if let Some(rest) = line.strip_prefix("failover peer ") {
                let name = rest.split('"').nth(1).unwrap_or_default().to_owned();
                failover = Some(IscFailoverRecord {
                    peer: name,
                    ..IscFailoverRecord::default()
                });
                continue;
            }
            if line == "}" {
                if let Some(l) = lease.take()
                    && let Some(a) = l.address
                {
                    out.leases.insert(a, l);
                }
                if let Some(f) = failover.take() {
                    out.failover.retain(|r| r.peer != f.peer);
                    out.failover.push(f);
                }
                continue;
            }
            let stmt = line.trim_end_matches(';');
            if let Some(l) = lease.as_mut() {
                if let Some(v) = stmt.strip_prefix("binding state ") {
                    l.binding_state = v.to_owned();
                } else if let Some(v) = stmt.strip_prefix("next binding state ") {
                    l.next_binding_state = Some(v.to_owned());
                } else if let Some(v) = stmt.strip_prefix("hardware ethernet ") {
                    l.hardware = Some(v.to_ascii_lowercase());
                } else if let Some(v) = stmt.strip_prefix("starts ") {
                    l.starts = Some(v.to_owned());
                } else if let Some(v) = stmt.strip_prefix("ends ") {
                    l.ends = Some(v.to_owned());
                } else if let Some(v) = stmt.strip_prefix("client-hostname ") {
                    l.client_hostname = Some(v.trim_matches('"').to_owned());
                }
            } else if let Some(f) = failover.as_mut() {
                if let Some(v) = stmt.strip_prefix("my state ") {
                    f.my_state = v.split(" at ").next().map(str::to_owned);
                } else if let Some(v) = stmt.strip_prefix("partner state ") {
                    f.partner_state = v.split(" at ").next().map(str::to_owned);
                }
            }
        }
        out
    }

    /// Active leases: address → hardware address.
    pub fn active(&self) -> BTreeMap<Ipv4Addr, Option<String>> {
        self.leases
            .iter()
            .filter(|(_, l)| l.is_active())
            .map(|(a, l)| (*a, l.hardware.clone()))
            .collect()
    }
}

/// The failover states an ISC log shows last: (ours, partner's). ISC logs
/// `failover peer NAME: I move from A to B` and `… peer moves from A to B`.
pub fn failover_states<S: AsRef<str>>(log: &[S]) -> (Option<String>, Option<String>) {
    let mut mine = None;
    let mut partner = None;
    for line in log {
        let line = line.as_ref();
        if let Some((_, rest)) = line.split_once("I move from ") {
            mine = rest.split(" to ").nth(1).map(|s| s.trim().to_owned());
        } else if let Some((_, rest)) = line.split_once("peer moves from ") {
            partner = rest.split(" to ").nth(1).map(|s| s.trim().to_owned());
        }
    }
    (mine, partner)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"# The format of this file is documented in the dhcpd.leases(5) manual page.
authoring-byte-order little-endian;
server-duid "\000\001";

failover peer "fo" state {
  my state recover at 3 2026/11/25 17:30:15;
  partner state unknown-state at 3 2026/11/25 17:30:15;
}

lease 10.99.0.100 {
  starts 3 2026/11/25 17:30:20;
  ends 3 2026/11/25 17:31:20;
  binding state free;
  hardware ethernet 02:99:00:00:00:01;
}
lease 10.99.0.100 {
  starts 3 2026/11/25 17:30:21;
  ends 3 2026/11/25 17:31:21;
  binding state active;
  next binding state expired;
  hardware ethernet 02:99:00:00:00:01;
  uid "\001\002}";
  client-hostname "pxe";
}
lease 10.99.0.101 {
  binding state backup;
}
failover peer "fo" state {
  my state normal at 3 2026/11/25 17:30:20;
  partner state normal at 3 2026/11/25 17:30:20;
}
"#;

    #[test]
    fn later_entries_win() {
        let f = IscLeaseFile::parse(FILE);
        assert_eq!(f.leases.len(), 2);
        let l = &f.leases[&Ipv4Addr::new(10, 99, 0, 100)];
        assert!(l.is_active());
        assert_eq!(l.next_binding_state.as_deref(), Some("expired"));
        assert_eq!(l.client_hostname.as_deref(), Some("pxe"));
        assert_eq!(
            f.leases[&Ipv4Addr::new(10, 99, 0, 101)].binding_state,
            "backup"
        );
        assert_eq!(f.active().len(), 1);
        assert_eq!(f.failover.len(), 1);
        assert_eq!(f.failover[0].my_state.as_deref(), Some("normal"));
        assert_eq!(f.failover[0].partner_state.as_deref(), Some("normal"));
    }

    #[test]
    fn failover_states_from_log() {
        let log = [
            "x failover peer fo: I move from recover to recover-done",
            "x failover peer fo: peer moves from recover to recover-done",
            "x failover peer fo: I move from recover-done to normal",
        ];
        assert_eq!(
            failover_states(&log),
            (Some("normal".into()), Some("recover-done".into()))
        );
    }
}
