//! What the Kea commands answer from ([`KeaContext`]), the commands and
//! the hook each needs ([`COMMANDS`]), and helpers the handlers share.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use dhcp_kea::KeaConfig;
use serde_json::Value;
use tokio::sync::Notify;

use super::wire::Answer;
use crate::ops::control::error::ControlError;
use crate::ops::control::server::ControlServer;

/// A group of commands and the hook library Kea needs for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Always offered.
    Daemon,
    /// `libdhcp_lease_cmds.so`.
    Leases,
    /// `libdhcp_host_cmds.so`.
    Reservations,
    /// `libdhcp_ha.so`.
    Ha,
}

impl Group {
    /// The hook library that offers the group, if one must be loaded.
    pub fn library(self) -> Option<&'static str> {
        match self {
            Self::Daemon => None,
            Self::Leases => Some("libdhcp_lease_cmds.so"),
            Self::Reservations => Some("libdhcp_host_cmds.so"),
            Self::Ha => Some("libdhcp_ha.so"),
        }
    }
}

/// Every command, with its group.
pub const COMMANDS: &[(&str, Group)] = &[
    ("config-get", Group::Daemon),
    ("config-reload", Group::Daemon),
    ("config-test", Group::Daemon),
    ("config-write", Group::Daemon),
    ("ha-heartbeat", Group::Ha),
    ("ha-maintenance-cancel", Group::Ha),
    ("ha-maintenance-start", Group::Ha),
    ("ha-status-get", Group::Ha),
    ("lease4-add", Group::Leases),
    ("lease4-del", Group::Leases),
    ("lease4-get", Group::Leases),
    ("lease4-get-all", Group::Leases),
    ("lease4-get-by-client-id", Group::Leases),
    ("lease4-get-by-hostname", Group::Leases),
    ("lease4-get-by-hw-address", Group::Leases),
    ("lease4-get-page", Group::Leases),
    ("lease4-update", Group::Leases),
    ("lease4-wipe", Group::Leases),
    ("list-commands", Group::Daemon),
    ("reservation-add", Group::Reservations),
    ("reservation-del", Group::Reservations),
    ("reservation-get", Group::Reservations),
    ("shutdown", Group::Daemon),
    ("status-get", Group::Daemon),
    ("version-get", Group::Daemon),
];

/// What the daemon does once an answer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Nothing.
    Continue,
    /// Shut down (`shutdown`).
    Shutdown,
}

/// The Kea control channel's state.
pub struct KeaContext {
    /// The daemon's control API.
    pub control: Arc<ControlServer>,
    /// The Kea file the daemon runs.
    pub config_path: PathBuf,
    /// Notified to shut the daemon down.
    pub stop: Arc<Notify>,
    /// The file as last loaded (refreshed by `config-reload`).
    loaded: Mutex<Option<Arc<KeaConfig>>>,
    /// When the configuration was last loaded (`status-get`'s `reload`).
    loaded_at: Mutex<Instant>,
}

impl KeaContext {
    /// The channel of the daemon that `control` serves, running the Kea
    /// file `config_path`; `stop` asks the daemon to stop.
    pub fn new(control: Arc<ControlServer>, config_path: PathBuf, stop: Arc<Notify>) -> Self {
        let loaded = dhcp_kea::parse_file(&config_path).ok().map(Arc::new);
        Self {
            control,
            config_path,
            stop,
            loaded: Mutex::new(loaded),
            loaded_at: Mutex::new(Instant::now()),
        }
    }

    /// The file as last loaded (shared, not copied).
    pub fn kea(&self) -> Option<Arc<KeaConfig>> {
        self.loaded.lock().ok().and_then(|g| g.clone())
    }

    /// Re-reads the file after a reload.
    pub fn refresh(&self) {
        if let Ok(k) = dhcp_kea::parse_file(&self.config_path)
            && let Ok(mut g) = self.loaded.lock()
        {
            *g = Some(Arc::new(k));
        }
        if let Ok(mut t) = self.loaded_at.lock() {
            *t = Instant::now();
        }
    }

    /// Seconds since the configuration was last loaded.
    pub fn since_reload(&self) -> u64 {
        self.loaded_at
            .lock()
            .map(|t| t.elapsed().as_secs())
            .unwrap_or(0)
    }

    /// Whether the file loads `library`.
    pub fn has_hook(&self, library: &str) -> bool {
        self.kea().is_some_and(|k| {
            k.extras.hooks.iter().any(|h| h == library)
                || (library == "libdhcp_run_script.so" && k.extras.run_script.is_some())
        })
    }

    /// The commands on offer, sorted.
    pub fn offered(&self) -> Vec<&'static str> {
        COMMANDS
            .iter()
            .filter(|(_, g)| g.library().is_none_or(|l| self.has_hook(l)))
            .map(|(n, _)| *n)
            .collect()
    }
}

/// The arguments map, or Kea's error for its absence.
pub fn arguments(args: Option<&Value>) -> Result<&serde_json::Map<String, Value>, Answer> {
    match args {
        Some(Value::Object(m)) => Ok(m),
        _ => Err(Answer::error("Parameters missing or are not a map.")),
    }
}

/// A control API failure in Kea's terms: nothing found is [`EMPTY`], the
/// rest [`ERROR`].
///
/// [`EMPTY`]: super::wire::EMPTY
/// [`ERROR`]: super::wire::ERROR
pub fn failure(e: &ControlError) -> Answer {
    match e {
        ControlError::NotFound(m) => Answer::text(super::wire::EMPTY, m.clone()),
        other => Answer::error(other.to_string()),
    }
}
