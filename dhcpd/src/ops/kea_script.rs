//! Kea's `libdhcp_run_script.so` in our words: for each lease event, the
//! hook point names and environment variables Kea 2.2 gives the script
//! (names and formats as observed from Kea 2.2 by
//! `testbed/tests/kea_run_script.rs`; docs/kea.md lists what differs).
//!
//! This module only builds the calls; the events module runs them with the
//! same bounds as ISC hook programs.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;

use dhcp_core::packet::Request;
use ipnet::Ipv4Net;

/// A Kea file's run_script hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeaScript {
    /// The script (`parameters.name`), run without a shell.
    pub program: PathBuf,
    /// The file's subnet ids, for `*_SUBNET_ID`.
    pub subnet_ids: Vec<(u32, Ipv4Net)>,
}

/// The fields of the client's message Kea exports as `QUERY4_*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// DHCP message type, as Kea names it (`DHCPREQUEST`).
    pub kind: &'static str,
    /// `xid`.
    pub txid: u32,
    /// `htype`.
    pub htype: u8,
    /// `chaddr` (its `hlen` bytes).
    pub chaddr: Vec<u8>,
    /// `ciaddr`, `siaddr`, `yiaddr`, `giaddr`.
    pub addrs: [Ipv4Addr; 4],
    /// `flags`.
    pub flags: u16,
    /// `hops`.
    pub hops: u8,
    /// `secs`.
    pub secs: u16,
    /// Where it came in, when known.
    pub via: Option<Via>,
}

/// Where a message came in (`QUERY4_IFACE_*`, `QUERY4_LOCAL_*`,
/// `QUERY4_REMOTE_*`, the hardware addresses aside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// The receiving interface's kernel index.
    pub ifindex: u32,
    /// Its name.
    pub interface: String,
    /// Our address on it.
    pub local: Ipv4Addr,
    /// The datagram's source.
    pub remote: SocketAddrV4,
    /// The receiving interface's Ethernet address (`QUERY4_LOCAL_HWADDR`),
    /// filled in off the reply path ([`local_hwaddr`]).
    pub local_hwaddr: Option<String>,
}

/// The Ethernet address of `interface`, as the kernel shows it
/// (`/sys/class/net/IFACE/address`: lowercase, two digits, `:`).
pub fn local_hwaddr(interface: &str) -> Option<String> {
    if interface.is_empty() || interface.contains('/') || interface.starts_with('.') {
        return None;
    }
    let text = std::fs::read_to_string(format!("/sys/class/net/{interface}/address")).ok()?;
    Some(text.trim().to_owned()).filter(|a| !a.is_empty())
}

impl Query {
    /// The fields of `req`, which came in `via`.
    pub fn of(req: &Request, via: Option<Via>) -> Self {
        let m = &req.msg;
        let kind = match u8::from(req.msg_type) {
            1 => "DHCPDISCOVER",
            3 => "DHCPREQUEST",
            4 => "DHCPDECLINE",
            7 => "DHCPRELEASE",
            8 => "DHCPINFORM",
            _ => "UNKNOWN",
        };
        let hlen = usize::from(m.hlen()).min(m.chaddr().len());
        Self {
            kind,
            txid: m.xid(),
            htype: u8::from(m.htype()),
            chaddr: m.chaddr()[..hlen].to_vec(),
            addrs: [m.ciaddr(), m.siaddr(), m.yiaddr(), m.giaddr()],
            flags: m.flags().into(),
            hops: m.hops(),
            secs: m.secs(),
            via,
        }
    }
}

/// The lease fields Kea exports as `LEASE4_*` (and `LEASES4_AT<i>_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeaLease {
    /// The address.
    pub addr: Ipv4Addr,
    /// The hardware type and address.
    pub htype: u8,
    /// The hardware address bytes.
    pub hwaddr: Vec<u8>,
    /// The client identifier (option 61), if any.
    pub client_id: Option<Vec<u8>>,
    /// The host name, if any.
    pub hostname: Option<String>,
    /// The valid lifetime in seconds (before the change the event reports).
    pub valid_lifetime: u32,
    /// The valid lifetime as written (a declined lease's probation).
    pub written_lifetime: u32,
    /// Client last transaction time (unix).
    pub cltt: u64,
}

/// What happened, in Kea's hook points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeaEvent {
    /// An ACK to a REQUEST: `leases4_committed`.
    Commit,
    /// An ACK to a REQUEST renewing the client's lease: `lease4_renew`,
    /// then `leases4_committed`.
    Renew,
    /// A RELEASE: `leases4_committed` (the lease deleted), then
    /// `lease4_release`.
    Release,
    /// A lease ran out: `lease4_expire`.
    Expire,
    /// A DECLINE: `lease4_decline`, then `leases4_committed` (the lease
    /// in probation).
    Decline,
}

/// One run of the script: its first argument and its environment.
pub type Call = (&'static str, Vec<(String, String)>);

/// Kea's hardware address format: lowercase, two digits, `:`.
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

impl KeaScript {
    fn subnet_id(&self, addr: Ipv4Addr) -> u32 {
        self.subnet_ids
            .iter()
            .find(|(_, net)| net.contains(&addr))
            .map_or(0, |(id, _)| *id)
    }

    fn lease_vars(&self, prefix: &str, l: &KeaLease, state: &str) -> Vec<(String, String)> {
        let v = |k: &str, v: String| (format!("{prefix}{k}"), v);
        vec![
            v("ADDRESS", l.addr.to_string()),
            v("CLTT", l.cltt.to_string()),
            v("HOSTNAME", l.hostname.clone().unwrap_or_default()),
            v("HWADDR", hex(&l.hwaddr)),
            v("HWADDR_TYPE", l.htype.to_string()),
            v("VALID_LIFETIME", l.valid_lifetime.to_string()),
            v(
                "CLIENT_ID",
                l.client_id.as_deref().map(hex).unwrap_or_default(),
            ),
            v("STATE", state.to_owned()),
            v("SUBNET_ID", self.subnet_id(l.addr).to_string()),
        ]
    }

    /// The script's calls for one event, in Kea's order.
    pub fn calls(&self, event: KeaEvent, lease: &KeaLease, query: Option<&Query>) -> Vec<Call> {
        let q = query.map(query_vars).unwrap_or_default();
        let with_query = |mut vars: Vec<(String, String)>| {
            vars.extend(q.iter().cloned());
            vars
        };
        let size = |k: &str, n: usize| (k.to_owned(), n.to_string());
        match event {
            KeaEvent::Commit | KeaEvent::Renew => {
                let mut vars = vec![size("LEASES4_SIZE", 1), size("DELETED_LEASES4_SIZE", 0)];
                vars.extend(self.lease_vars("LEASES4_AT0_", lease, "default"));
                let committed = ("leases4_committed", with_query(vars));
                if event == KeaEvent::Commit {
                    return vec![committed];
                }
                let renewed = self.lease_vars("LEASE4_", lease, "default");
                vec![("lease4_renew", with_query(renewed)), committed]
            }
            KeaEvent::Release => {
                let mut deleted = vec![size("LEASES4_SIZE", 0), size("DELETED_LEASES4_SIZE", 1)];
                deleted.extend(self.lease_vars("DELETED_LEASES4_AT0_", lease, "default"));
                let released = self.lease_vars("LEASE4_", lease, "default");
                vec![
                    ("leases4_committed", with_query(deleted)),
                    ("lease4_release", with_query(released)),
                ]
            }
            KeaEvent::Expire => {
                let mut vars = self.lease_vars("LEASE4_", lease, "default");
                vars.push(("REMOVE_LEASE".to_owned(), "false".to_owned()));
                vec![("lease4_expire", vars)]
            }
            KeaEvent::Decline => {
                let declined = self.lease_vars("LEASE4_", lease, "default");
                // The lease as committed: in probation, nobody's.
                let probation = KeaLease {
                    hwaddr: Vec::new(),
                    client_id: None,
                    hostname: None,
                    valid_lifetime: lease.written_lifetime,
                    ..lease.clone()
                };
                let mut committed = vec![size("LEASES4_SIZE", 1), size("DELETED_LEASES4_SIZE", 0)];
                committed.extend(self.lease_vars("LEASES4_AT0_", &probation, "declined"));
                vec![
                    ("lease4_decline", with_query(declined)),
                    ("leases4_committed", with_query(committed)),
                ]
            }
        }
    }
}

fn query_vars(q: &Query) -> Vec<(String, String)> {
    let v = |k: &str, v: String| (format!("QUERY4_{k}"), v);
    let [ci, si, yi, gi] = q.addrs;
    let mut vars = vec![
        v("TYPE", q.kind.to_owned()),
        v("TXID", q.txid.to_string()),
        v("HWADDR", hex(&q.chaddr)),
        v("HWADDR_TYPE", q.htype.to_string()),
        v("CIADDR", ci.to_string()),
        v("SIADDR", si.to_string()),
        v("YIADDR", yi.to_string()),
        v("GIADDR", gi.to_string()),
        v("RELAYED", (!gi.is_unspecified()).to_string()),
        v("HOPS", q.hops.to_string()),
        v("SECS", q.secs.to_string()),
        v("FLAGS", q.flags.to_string()),
    ];
    if let Some(w) = &q.via {
        if let Some(hw) = &w.local_hwaddr {
            vars.push(v("LOCAL_HWADDR", hw.clone()));
            vars.push(v("LOCAL_HWADDR_TYPE", "1".to_owned()));
        }
        vars.extend([
            v("IFACE_INDEX", w.ifindex.to_string()),
            v("IFACE_NAME", w.interface.clone()),
            v("LOCAL_ADDR", w.local.to_string()),
            v("LOCAL_PORT", "67".to_owned()),
            v("REMOTE_ADDR", w.remote.ip().to_string()),
            v("REMOTE_PORT", w.remote.port().to_string()),
        ]);
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease() -> KeaLease {
        KeaLease {
            addr: Ipv4Addr::new(10, 99, 1, 100),
            htype: 1,
            hwaddr: vec![0x52, 0x54, 0, 0x99, 0, 1],
            client_id: Some(vec![1, 0x52, 0x54, 0, 0x99, 0, 1]),
            hostname: Some("alpha".into()),
            valid_lifetime: 600,
            written_lifetime: 600,
            cltt: 1796356709,
        }
    }

    fn get<'a>(vars: &'a [(String, String)], k: &str) -> Option<&'a str> {
        vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    #[test]
    fn variables_are_keas() {
        let s = KeaScript {
            program: "/bin/true".into(),
            subnet_ids: vec![(2, "10.99.1.0/24".parse().unwrap())],
        };
        let c = s.calls(KeaEvent::Commit, &lease(), None);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].0, "leases4_committed");
        let v = &c[0].1;
        assert_eq!(get(v, "LEASES4_SIZE"), Some("1"));
        assert_eq!(get(v, "LEASES4_AT0_HWADDR"), Some("52:54:00:99:00:01"));
        assert_eq!(
            get(v, "LEASES4_AT0_CLIENT_ID"),
            Some("01:52:54:00:99:00:01")
        );
        assert_eq!(get(v, "LEASES4_AT0_SUBNET_ID"), Some("2"));
        let r = s.calls(KeaEvent::Release, &lease(), None);
        assert_eq!(
            r.iter().map(|c| c.0).collect::<Vec<_>>(),
            ["leases4_committed", "lease4_release"]
        );
        assert_eq!(
            get(&r[0].1, "DELETED_LEASES4_AT0_ADDRESS"),
            Some("10.99.1.100")
        );
        let n = s.calls(KeaEvent::Renew, &lease(), None);
        assert_eq!(
            n.iter().map(|c| c.0).collect::<Vec<_>>(),
            ["lease4_renew", "leases4_committed"]
        );
        let d = s.calls(KeaEvent::Decline, &lease(), None);
        assert_eq!(get(&d[1].1, "LEASES4_AT0_STATE"), Some("declined"));
        assert_eq!(get(&d[1].1, "LEASES4_AT0_HWADDR"), Some(""));
        let mut anon = lease();
        anon.client_id = None;
        anon.hostname = None;
        let e = s.calls(KeaEvent::Expire, &anon, None);
        assert_eq!(get(&e[0].1, "LEASE4_CLIENT_ID"), Some(""));
        assert_eq!(get(&e[0].1, "LEASE4_HOSTNAME"), Some(""));
        assert_eq!(get(&e[0].1, "REMOVE_LEASE"), Some("false"));
    }
}
