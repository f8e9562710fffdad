//! Runtime host reservations: added and removed over the control API,
//! effective at once, and kept in the lease store's metadata (key
//! [`META_KEY`], a JSON array of host entries) so that they survive a
//! restart. The configuration file wins: a runtime host that conflicts with
//! it (same name, MAC, client id or address) is dropped at start and reload,
//! with a log line.

use super::error::ControlError;
use dhcp_core::config::{Config, HostConfig};
use dhcp_core::engine::Engine;
use dhcp_store::{LeaseStore, StoreError};

/// The metadata key of the runtime hosts.
pub const META_KEY: &str = "runtime-hosts";

/// Why runtime hosts could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HostsError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored value is not valid.
    #[error("stored runtime hosts are unreadable: {0}")]
    Corrupt(String),
}

/// Reads the stored runtime hosts (none if never stored).
pub fn load(store: &dyn LeaseStore) -> Result<Vec<HostConfig>, HostsError> {
    match store.get_meta(META_KEY)? {
        None => Ok(Vec::new()),
        Some(bytes) => {
            serde_json::from_slice(&bytes).map_err(|e| HostsError::Corrupt(e.to_string()))
        }
    }
}

/// Stores the runtime hosts durably.
pub fn save(store: &dyn LeaseStore, hosts: &[HostConfig]) -> Result<(), HostsError> {
    let bytes = super::protocol::to_json_line(&hosts)
        .map_err(|e| HostsError::Corrupt(e.to_string()))?
        .into_bytes();
    store.put_meta(META_KEY, &bytes)?;
    Ok(())
}

/// The engine's runtime hosts: its reservations not named in its configuration.
pub fn runtime_hosts(engine: &Engine) -> Vec<HostConfig> {
    let cfg = engine.config();
    engine
        .topology()
        .hosts()
        .iter()
        .filter(|h| !cfg.hosts.iter().any(|c| c.name == h.name))
        .cloned()
        .collect()
}

/// Checks `new` against the configuration and the other runtime hosts (the
/// configuration's validation rules: unique name, MAC, client id, address),
/// and that its address lies in a configured subnet.
pub fn check(cfg: &Config, runtime: &[HostConfig], new: &HostConfig) -> Result<(), ControlError> {
    if new.name.trim().is_empty() {
        return Err(ControlError::Invalid("a host needs a name".to_owned()));
    }
    if cfg.hosts.iter().any(|h| h.name == new.name) {
        return Err(ControlError::Invalid(format!(
            "host {:?} is defined in the configuration file; change it there and reload",
            new.name
        )));
    }
    if !cfg
        .all_subnets()
        .iter()
        .any(|s| s.subnet.subnet.contains(&new.address))
    {
        return Err(ControlError::Invalid(format!(
            "{} is in no configured subnet",
            new.address
        )));
    }
    let mut trial = cfg.clone();
    trial
        .hosts
        .extend(runtime.iter().filter(|h| h.name != new.name).cloned());
    trial.hosts.push(new.clone());
    trial
        .validate()
        .map_err(|e| ControlError::Invalid(e.to_string()))
}

/// Splits runtime hosts into those compatible with `cfg` and those it
/// supersedes (with the reason).
pub fn reconcile(
    cfg: &Config,
    hosts: Vec<HostConfig>,
) -> (Vec<HostConfig>, Vec<(HostConfig, ControlError)>) {
    // Usually they all fit: one validation instead of one per host.
    let names: std::collections::HashSet<&str> =
        cfg.hosts.iter().map(|h| h.name.as_str()).collect();
    if hosts
        .iter()
        .all(|h| !h.name.trim().is_empty() && !names.contains(h.name.as_str()))
    {
        let mut trial = cfg.clone();
        trial.hosts.extend(hosts.iter().cloned());
        if trial.validate().is_ok() {
            return (hosts, Vec::new());
        }
    }
    let mut kept: Vec<HostConfig> = Vec::new();
    let mut dropped = Vec::new();
    for h in hosts {
        match check(cfg, &kept, &h) {
            Ok(()) => kept.push(h),
            Err(e) => dropped.push((h, e)),
        }
    }
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dhcp_store::SledStore;

    fn host(name: &str, mac: &str, ip: &str) -> HostConfig {
        serde_json::from_str(&format!(
            r#"{{"name":"{name}","mac":"{mac}","address":"{ip}"}}"#
        ))
        .unwrap()
    }

    const CFG: &str = r#"
[[subnets]]
subnet = "10.99.0.0/24"
[[hosts]]
name = "cfg"
mac = "02:00:00:00:00:01"
address = "10.99.0.5"
"#;

    #[test]
    fn checks_and_reconciles() {
        let cfg = Config::from_toml(CFG).unwrap();
        let a = host("a", "02:00:00:00:00:02", "10.99.0.6");
        assert!(check(&cfg, &[], &a).is_ok());
        let e = check(&cfg, &[], &host("cfg", "02:00:00:00:00:09", "10.99.0.9")).unwrap_err();
        assert!(e.to_string().contains("configuration file"), "{e}");
        let e = check(&cfg, &[], &host("b", "02:00:00:00:00:01", "10.99.0.9")).unwrap_err();
        assert!(e.to_string().contains("already reserved"), "{e}");
        let e = check(&cfg, &[], &host("b", "02:00:00:00:00:03", "10.98.0.9")).unwrap_err();
        assert!(e.to_string().contains("no configured subnet"), "{e}");
        // Replacing a runtime host by name is fine.
        assert!(
            check(
                &cfg,
                std::slice::from_ref(&a),
                &host("a", "02:00:00:00:00:02", "10.99.0.7")
            )
            .is_ok()
        );
        let (kept, dropped) = reconcile(
            &cfg,
            vec![a.clone(), host("c", "02:00:00:00:00:04", "10.99.0.5")],
        );
        assert_eq!(kept, vec![a]);
        assert_eq!(dropped.len(), 1);
    }

    #[test]
    fn persisted_in_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        assert!(load(&store).unwrap().is_empty());
        let hs = vec![host("a", "02:00:00:00:00:02", "10.99.0.6")];
        save(&store, &hs).unwrap();
        assert_eq!(load(&store).unwrap(), hs);
        store.put_meta(META_KEY, b"{").unwrap();
        assert!(matches!(load(&store), Err(HostsError::Corrupt(_))));
    }
}
