//! The control socket's protocol: one JSON request per line, one JSON
//! response per line, and the types they carry.

use std::net::Ipv4Addr;

use dhcp_core::config::HostConfig;
use serde::{Deserialize, Serialize};

use crate::failover::status::RelationshipStatus;
use crate::ops::reload_status::ReloadRecord;
use crate::serve::pool_stats::PoolStats;

use super::error::ControlError;

/// Default path of the control socket.
pub const DEFAULT_SOCKET: &str = "/run/dhcpd/control.sock";
/// Longest request line accepted.
pub const MAX_REQUEST: usize = 64 * 1024;

/// A control request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum Request {
    /// Daemon summary.
    Status,
    /// Leases, by default those not free.
    LeasesList {
        /// Only leases in this binding state (ISC spelling).
        #[serde(default)]
        state: Option<String>,
        /// Include free leases too.
        #[serde(default)]
        all: bool,
    },
    /// One lease, by IP address or MAC.
    LeasesShow {
        /// `10.0.0.5` or `52:54:00:00:00:07`.
        key: String,
    },
    /// Release an active lease (as if its client had released it).
    LeasesRelease {
        /// IP address or MAC.
        key: String,
    },
    /// Host reservations (configured and runtime).
    HostsList,
    /// Add (or replace, by name) a runtime host reservation.
    HostsAdd {
        /// The reservation.
        host: Box<HostConfig>,
    },
    /// Remove a runtime host reservation by name.
    HostsRemove {
        /// Its name.
        name: String,
    },
    /// Failover relationships.
    FailoverStatus,
    /// Put the failover relationship(s) into PARTNER-DOWN.
    FailoverPartnerDown {
        /// Which relationship (all if absent).
        #[serde(default)]
        relationship: Option<String>,
    },
    /// Announce (`start`) or cancel the partner's maintenance: this server
    /// answers every client and goes to PARTNER-DOWN when the partner is
    /// stopped (Kea's `ha-maintenance-start` / `-cancel`).
    FailoverMaintenance {
        /// Which relationship (the only one if absent).
        #[serde(default)]
        relationship: Option<String>,
        /// Announce (`true`) or cancel (`false`).
        start: bool,
    },
    /// Re-read the configuration file and apply it.
    Reload,
}

/// One lease as the control API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseInfo {
    /// The address.
    pub ip: Ipv4Addr,
    /// Binding state (ISC spelling).
    pub state: String,
    /// Hardware address (`aa:bb:…`), if known.
    pub mac: Option<String>,
    /// Client identifier (hex), if any.
    pub client_id: Option<String>,
    /// Host name (option 12), if any.
    pub hostname: Option<String>,
    /// Unix time the binding entered its state.
    pub starts: u32,
    /// Unix time it ends.
    pub ends: u32,
    /// Unix time the client last talked to us.
    pub cltt: u32,
}

/// A host reservation and where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostEntry {
    /// `config` (the configuration file) or `runtime` (the control API).
    pub source: String,
    /// The reservation.
    pub host: HostConfig,
}

/// Event delivery counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventFigures {
    /// Queued for delivery.
    pub queued: u64,
    /// Delivered.
    pub delivered: u64,
    /// Dropped.
    pub dropped: u64,
}

/// `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// Daemon version.
    pub version: String,
    /// Process id.
    pub pid: u32,
    /// Unix time the daemon started.
    pub started: u64,
    /// Seconds since then.
    pub uptime: u64,
    /// The configuration file, if known.
    pub config: Option<String>,
    /// The lease store directory.
    pub store: String,
    /// Served interfaces (empty: all).
    pub interfaces: Vec<String>,
    /// Per-pool figures.
    pub pools: Vec<PoolStats>,
    /// Host reservations from the configuration file.
    pub config_hosts: usize,
    /// Runtime host reservations.
    pub runtime_hosts: usize,
    /// Failover relationships (empty: standalone).
    pub failover: Vec<RelationshipStatus>,
    /// The last reload, if any.
    pub last_reload: Option<ReloadRecord>,
    /// Lease event delivery.
    pub events: EventFigures,
    /// Packet counters (`name`, value), non-zero ones.
    pub counters: Vec<(String, u64)>,
}

/// What the engine reports for `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineStatus {
    /// Per-pool figures.
    pub pools: Vec<PoolStats>,
    /// Configured host reservations.
    pub config_hosts: usize,
    /// Runtime host reservations.
    pub runtime_hosts: usize,
}

/// A successful result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reply {
    /// `status`.
    Status(Box<StatusReport>),
    /// `leases list`.
    Leases {
        /// The leases.
        leases: Vec<LeaseInfo>,
    },
    /// `leases show`, `leases release`.
    Lease {
        /// The lease.
        lease: LeaseInfo,
    },
    /// `hosts list`.
    Hosts {
        /// The reservations.
        hosts: Vec<HostEntry>,
    },
    /// `failover status`.
    Failover {
        /// The relationships (empty: standalone).
        relationships: Vec<RelationshipStatus>,
    },
    /// `reload`.
    Reloaded {
        /// What happened.
        record: ReloadRecord,
    },
    /// The engine's part of `status` (between the server and the engine task).
    EngineStatus(EngineStatus),
    /// Commands that only report success.
    Done {
        /// For the operator.
        message: String,
    },
}

/// A response line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// Whether the request succeeded.
    pub ok: bool,
    /// Why not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Reply>,
}

/// `v` as JSON.
pub fn to_json<T: Serialize>(v: &T) -> serde_json::Result<serde_json::Value> {
    serde_json::to_value(v)
}

/// `v` as one line of JSON.
pub fn to_json_line<T: Serialize>(v: &T) -> serde_json::Result<String> {
    to_json(v).map(|v| v.to_string())
}

/// One request line as the control socket reads it (newline included or
/// not): `Ok(None)` for a blank line (no answer), [`ControlError::TooLong`]
/// over [`MAX_REQUEST`], [`ControlError::BadRequest`] when it is not a
/// request of the protocol.
pub fn parse_request(line: &str) -> Result<Option<Request>, ControlError> {
    if line.len() > MAX_REQUEST {
        Err(ControlError::TooLong)
    } else if line.trim().is_empty() {
        Ok(None)
    } else {
        serde_json::from_str::<Request>(line)
            .map(Some)
            .map_err(|e| ControlError::BadRequest(e.to_string()))
    }
}

impl From<Result<Reply, ControlError>> for Response {
    fn from(r: Result<Reply, ControlError>) -> Self {
        match r {
            Ok(reply) => Self {
                ok: true,
                error: None,
                result: Some(reply),
            },
            Err(e) => Self {
                ok: false,
                error: Some(e.to_string()),
                result: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_tagged_json() {
        let r: Request = serde_json::from_str(r#"{"command":"leases-list","all":true}"#).unwrap();
        assert_eq!(
            r,
            Request::LeasesList {
                state: None,
                all: true
            }
        );
        let r: Request = serde_json::from_str(
            r#"{"command":"hosts-add","host":{"name":"n1","mac":"52:54:00:00:00:07","address":"10.99.0.7"}}"#,
        )
        .unwrap();
        assert!(matches!(r, Request::HostsAdd { .. }));
        assert!(serde_json::from_str::<Request>(r#"{"command":"format-disk"}"#).is_err());
        assert_eq!(parse_request(" \n"), Ok(None));
        assert_eq!(
            parse_request("{\"command\":\"status\"}\n"),
            Ok(Some(Request::Status))
        );
        assert!(matches!(
            parse_request("{\"command\":\"format-disk\"}"),
            Err(ControlError::BadRequest(_))
        ));
        let long = format!("{}\n", " ".repeat(MAX_REQUEST));
        assert_eq!(parse_request(&long), Err(ControlError::TooLong));
        let ok = serde_json::to_string(&Response::from(Ok(Reply::Done {
            message: "x".into(),
        })))
        .unwrap();
        assert_eq!(ok, r#"{"ok":true,"result":{"kind":"done","message":"x"}}"#);
        let err =
            serde_json::to_string(&Response::from(Err(ControlError::Invalid("no".to_owned()))))
                .unwrap();
        assert_eq!(err, r#"{"ok":false,"error":"no"}"#);
        // Host reservations survive the trip without their absent fields.
        let r: Request = serde_json::from_str(
            r#"{"command":"hosts-add","host":{"name":"n1","client_id":"01:02","address":"10.99.0.7"}}"#,
        )
        .unwrap();
        let back: Request = serde_json::from_str(&to_json_line(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}
