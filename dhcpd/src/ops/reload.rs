//! Configuration reload, on SIGHUP and over the control API.
//!
//! The file is read and validated first; an invalid one is refused, logged
//! with the reason, and the configuration in force keeps serving. A valid one
//! is applied by the engine task with `Engine::reconfigure`: every lease whose
//! address is still in a pool is kept, offers in flight are forgotten. When
//! the failover relationships differ, the failover side's
//! [`crate::failover::status::FailoverOps::reconfigure`] hook is asked first (and may refuse); when
//! they are equal it is not called, so the failover connection is not
//! restarted. Sockets, ports and the store stay as they are: a change of
//! `server.interfaces` (or of the interfaces named by networks) or of
//! `server.store` is reported as needing a restart.

use std::path::PathBuf;
use std::sync::Arc;

use dhcp_core::config::Config;
use tokio::sync::{mpsc, oneshot};

use crate::clock::unix_now;
use crate::failover::status::SharedFailoverOps;
use crate::ops::control::engine::{EngineCall, EngineRequest};
use crate::ops::control::protocol::Reply;
use crate::ops::reload_status::{ReloadRecord, ReloadStatus};
use crate::settings::interfaces_of;

/// Performs reloads (one at a time).
pub struct Reloader {
    path: Option<PathBuf>,
    /// Interfaces fixed by `--interface` (then config changes do not matter).
    interfaces_fixed: bool,
    /// Store fixed by `--store`.
    store_fixed: bool,
    current: tokio::sync::Mutex<Config>,
    engine: mpsc::Sender<EngineCall>,
    failover: SharedFailoverOps,
    status: Arc<ReloadStatus>,
}

impl Reloader {
    /// A reloader of the file `path` (none: reload is refused), the
    /// configuration in force being `current`.
    pub fn new(
        path: Option<PathBuf>,
        current: Config,
        fixed: (bool, bool),
        engine: mpsc::Sender<EngineCall>,
        failover: SharedFailoverOps,
        status: Arc<ReloadStatus>,
    ) -> Self {
        Self {
            path,
            interfaces_fixed: fixed.0,
            store_fixed: fixed.1,
            current: tokio::sync::Mutex::new(current),
            engine,
            failover,
            status,
        }
    }

    /// Re-reads the configuration file and applies it, or refuses it.
    pub async fn reload(&self) -> ReloadRecord {
        let mut current = self.current.lock().await;
        let record = match self.try_reload(&current).await {
            Ok((cfg, message)) => {
                *current = cfg;
                tracing::info!("configuration reloaded: {message}");
                ReloadRecord {
                    time: unix_now(),
                    ok: true,
                    message,
                }
            }
            Err(message) => {
                tracing::error!(
                    "configuration reload refused, the old configuration keeps serving: {message}"
                );
                ReloadRecord {
                    time: unix_now(),
                    ok: false,
                    message,
                }
            }
        };
        self.status.record(&record);
        record
    }

    async fn try_reload(&self, current: &Config) -> Result<(Config, String), String> {
        let path = self
            .path
            .as_ref()
            .ok_or_else(|| "no configuration file to reload".to_owned())?;
        let cfg = crate::config_file::load(path)
            .map_err(|e| format!("invalid configuration {}: {e}", path.display()))?;
        let mut notes = Vec::new();
        if !self.interfaces_fixed && interfaces_of(&cfg) != interfaces_of(current) {
            notes.push("interface changes take effect at the next restart".to_owned());
        }
        if !self.store_fixed && cfg.server.store != current.server.store {
            notes.push("server.store changes take effect at the next restart".to_owned());
        }
        if cfg.failover != current.failover {
            self.failover
                .reconfigure(&current.failover, &cfg.failover)
                .map_err(|e| format!("failover: {e}"))?;
            notes.push("failover relationships reconfigured".to_owned());
        }
        let (tx, rx) = oneshot::channel();
        self.engine
            .send(EngineCall {
                req: EngineRequest::Reconfigure(Box::new(cfg.clone())),
                reply: tx,
            })
            .await
            .map_err(|_| "the engine has stopped".to_owned())?;
        let msg = match rx.await {
            Ok(Ok(Reply::Done { message })) => message,
            Ok(Ok(_)) => "applied".to_owned(),
            Ok(Err(e)) => return Err(e.to_string()),
            Err(_) => return Err("the engine has stopped".to_owned()),
        };
        notes.insert(0, msg);
        Ok((cfg, notes.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failover::status::{FailoverOps, FailoverOpsError, RelationshipStatus};
    use dhcp_core::config::FailoverConfig;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// Counts reconfigure calls; refuses them while `refuse` is set.
    #[derive(Default)]
    struct Hook {
        calls: AtomicUsize,
        refuse: AtomicBool,
    }

    impl FailoverOps for Hook {
        fn status(&self) -> Vec<RelationshipStatus> {
            Vec::new()
        }
        fn partner_down(&self, _r: Option<&str>) -> Result<String, FailoverOpsError> {
            Err(FailoverOpsError::Standalone)
        }
        fn maintenance(&self, _r: Option<&str>, _s: bool) -> Result<String, FailoverOpsError> {
            Err(FailoverOpsError::Standalone)
        }
        fn reconfigure(
            &self,
            _old: &[FailoverConfig],
            _new: &[FailoverConfig],
        ) -> Result<(), FailoverOpsError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.refuse.load(Ordering::SeqCst) {
                Err(FailoverOpsError::Refused("needs a restart".into()))
            } else {
                Ok(())
            }
        }
    }

    const EXAMPLE: &str = include_str!("../../../docs/config-example.toml");

    #[tokio::test]
    async fn failover_hook_only_when_relationships_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dhcpd.toml");
        std::fs::write(&path, EXAMPLE).unwrap();
        let current = Config::load(&path).unwrap();
        let (tx, mut rx) = mpsc::channel::<EngineCall>(4);
        let applied = Arc::new(AtomicUsize::new(0));
        let a2 = applied.clone();
        tokio::spawn(async move {
            while let Some(call) = rx.recv().await {
                a2.fetch_add(1, Ordering::SeqCst);
                let _ = call.reply.send(Ok(Reply::Done {
                    message: "applied".into(),
                }));
            }
        });
        let hook = Arc::new(Hook::default());
        let status = Arc::new(ReloadStatus::default());
        let r = Reloader::new(
            Some(path.clone()),
            current,
            (false, false),
            tx,
            hook.clone(),
            status.clone(),
        );

        // A subnet option changes, the relationship does not: no hook call.
        std::fs::write(&path, EXAMPLE.replace("mtu = 9000", "mtu = 1500")).unwrap();
        let rec = r.reload().await;
        assert!(rec.ok, "{rec:?}");
        assert_eq!(hook.calls.load(Ordering::SeqCst), 0);
        assert_eq!(applied.load(Ordering::SeqCst), 1);

        // The relationship changes and failover refuses: nothing applied.
        hook.refuse.store(true, Ordering::SeqCst);
        std::fs::write(&path, EXAMPLE.replace("mclt = 3600", "mclt = 1800")).unwrap();
        let rec = r.reload().await;
        assert!(
            !rec.ok && rec.message.contains("needs a restart"),
            "{rec:?}"
        );
        assert_eq!(hook.calls.load(Ordering::SeqCst), 1);
        assert_eq!(applied.load(Ordering::SeqCst), 1);
        assert!(!status.last_ok());

        // Accepted: applied.
        hook.refuse.store(false, Ordering::SeqCst);
        let rec = r.reload().await;
        assert!(rec.ok, "{rec:?}");
        assert_eq!(hook.calls.load(Ordering::SeqCst), 2);
        assert_eq!(applied.load(Ordering::SeqCst), 2);
        assert!(status.last_ok() && status.last_success() > 0);

        // Invalid file: refused before anyone is asked.
        std::fs::write(&path, "[[subnets]]\nsubnet = \"10.99.0.1/24\"\n").unwrap();
        let rec = r.reload().await;
        assert!(
            !rec.ok && rec.message.contains("invalid configuration"),
            "{rec:?}"
        );
        assert_eq!(applied.load(Ordering::SeqCst), 2);
    }
}
