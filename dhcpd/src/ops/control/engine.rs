//! The engine side of the control API: requests that read or change the
//! engine, run by the engine task (the engine's only owner) between batches.

pub use super::context::{EngineContext, lease_info};

use std::net::Ipv4Addr;

use dhcp_core::config::{Config, HostConfig, parse_mac};
use dhcp_core::engine::Engine;
use dhcp_core::lease::{BindingState, Lease};
use tokio::sync::oneshot;

use super::error::ControlError;
use super::hosts;
use super::protocol::{EngineStatus, HostEntry, LeaseInfo, Reply};
use crate::ops::events::Action;
use crate::ops::omapi::backend::OmapiHosts;
use crate::serve::pool_stats::PoolGauges;

/// What the engine is asked to do.
#[derive(Debug)]
pub enum EngineRequest {
    /// Pool figures and reservation counts.
    Status,
    /// Leases (not free unless `all`; only `state` if given).
    Leases {
        /// Binding state filter (ISC spelling).
        state: Option<String>,
        /// Include free leases.
        all: bool,
    },
    /// One lease by IP or MAC.
    Lease(String),
    /// Release an active lease by IP or MAC.
    Release(String),
    /// Every reservation.
    Hosts,
    /// Add or replace a runtime reservation.
    AddHost(Box<HostConfig>),
    /// Remove a runtime reservation.
    RemoveHost(String),
    /// Write leases (add, update, delete, wipe; see [`super::lease_edit`]).
    EditLease(Box<super::lease_edit::LeaseEdit>),
    /// Apply a new (validated) configuration.
    Reconfigure(Box<Config>),
    /// Liveness check (the systemd watchdog).
    Ping,
}

/// A request with where its answer goes.
#[derive(Debug)]
pub struct EngineCall {
    /// The request.
    pub req: EngineRequest,
    /// The answer.
    pub reply: oneshot::Sender<Result<Reply, ControlError>>,
}

fn parse_state(s: &str) -> Result<BindingState, ControlError> {
    BindingState::ALL
        .iter()
        .copied()
        .find(|b| b.name() == s)
        .ok_or_else(|| ControlError::Invalid(format!("unknown binding state {s:?}")))
}

/// The lease for an IP or MAC key (for a MAC: its active lease, else its
/// most recent one).
fn find<'e>(engine: &'e Engine, key: &str) -> Result<&'e Lease, ControlError> {
    let table = engine.table();
    if let Ok(ip) = key.parse::<Ipv4Addr>() {
        return table
            .get(ip)
            .ok_or_else(|| ControlError::NotFound(format!("no lease for {ip} (not in any pool)")));
    }
    let mac = parse_mac(key).ok_or_else(|| {
        ControlError::Invalid(format!("{key:?} is neither an IPv4 address nor a MAC"))
    })?;
    table
        .iter()
        .filter(|l| l.hw.as_ref().is_some_and(|h| h.addr == mac))
        .max_by_key(|l| (l.state == BindingState::Active, l.starts))
        .ok_or_else(|| ControlError::NotFound(format!("no lease for {key}")))
}

/// Handles one call. Calls that write answer once the write is durable.
pub fn handle(ctx: EngineContext<'_>, call: EngineCall) {
    let EngineCall { req, reply } = call;
    let answer = match req {
        EngineRequest::Status => Ok(Reply::EngineStatus(EngineStatus {
            pools: PoolGauges::compute(ctx.engine),
            config_hosts: ctx.engine.config().hosts.len(),
            runtime_hosts: hosts::runtime_hosts(ctx.engine).len(),
        })),
        EngineRequest::Ping => Ok(Reply::Done {
            message: "alive".to_owned(),
        }),
        EngineRequest::Leases { state, all } => list(ctx.engine, state.as_deref(), all),
        EngineRequest::Lease(key) => find(ctx.engine, &key).map(|l| Reply::Lease {
            lease: lease_info(l),
        }),
        EngineRequest::Release(key) => return release(ctx, &key, reply),
        EngineRequest::EditLease(edit) => return super::lease_edit::handle(ctx, *edit, reply),
        EngineRequest::Hosts => Ok(host_list(ctx.engine)),
        EngineRequest::AddHost(h) => add_host(ctx, *h),
        EngineRequest::RemoveHost(name) => remove_host(ctx, &name),
        EngineRequest::Reconfigure(cfg) => Ok(reconfigure(ctx, *cfg)),
    };
    let _ = reply.send(answer);
}

fn list(engine: &Engine, state: Option<&str>, all: bool) -> Result<Reply, ControlError> {
    let want = state.map(parse_state).transpose()?;
    let mut leases: Vec<LeaseInfo> = engine
        .table()
        .iter()
        .filter(|l| match want {
            Some(s) => l.state == s,
            None => all || !l.state.is_free(),
        })
        .map(lease_info)
        .collect();
    leases.sort_by_key(|l| l.ip);
    Ok(Reply::Leases { leases })
}

fn release(ctx: EngineContext<'_>, key: &str, reply: oneshot::Sender<Result<Reply, ControlError>>) {
    let lease = match find(ctx.engine, key) {
        Ok(l) if l.state == BindingState::Active => l.clone(),
        Ok(l) => {
            let _ = reply.send(Err(ControlError::Invalid(format!(
                "{} is {}, not active",
                l.addr,
                l.state.name()
            ))));
            return;
        }
        Err(e) => {
            let _ = reply.send(Err(e));
            return;
        }
    };
    tracing::info!(ip = %lease.addr, "lease released by an operator");
    let l = super::lease_edit::ended(&ctx, lease);
    super::lease_edit::write(ctx, vec![l], Action::Release, reply, |leases| match leases
        .into_iter()
        .next()
    {
        Some(lease) => Reply::Lease { lease },
        None => Reply::Leases { leases: Vec::new() },
    });
}

fn host_list(engine: &Engine) -> Reply {
    let cfg = engine.config();
    let hosts = engine
        .topology()
        .hosts()
        .iter()
        .map(|h| HostEntry {
            source: if cfg.hosts.iter().any(|c| c.name == h.name) {
                "config".to_owned()
            } else {
                "runtime".to_owned()
            },
            host: h.clone(),
        })
        .collect();
    Reply::Hosts { hosts }
}

fn add_host(ctx: EngineContext<'_>, h: HostConfig) -> Result<Reply, ControlError> {
    let mut runtime = hosts::runtime_hosts(ctx.engine);
    hosts::check(ctx.engine.config(), &runtime, &h)?;
    runtime.retain(|r| r.name != h.name);
    runtime.push(h.clone());
    // Hosts from OMAPI are checked against, never stored; this one now is.
    ctx.omapi_hosts.adopt(&h.name);
    runtime.retain(|r| !ctx.omapi_hosts.is_ephemeral(&r.name));
    hosts::save(ctx.store.as_ref(), &runtime).map_err(|e| ControlError::Store(e.to_string()))?;
    let message = format!("host {} added ({})", h.name, h.address);
    tracing::info!(name = %h.name, address = %h.address, "runtime host reservation added");
    ctx.engine.add_host(h);
    Ok(Reply::Done { message })
}

fn remove_host(ctx: EngineContext<'_>, name: &str) -> Result<Reply, ControlError> {
    if ctx.engine.config().hosts.iter().any(|h| h.name == name) {
        return Err(ControlError::Invalid(format!(
            "host {name:?} is defined in the configuration file; remove it there and reload"
        )));
    }
    let mut runtime = hosts::runtime_hosts(ctx.engine);
    let before = runtime.len();
    runtime.retain(|r| r.name != name);
    if runtime.len() == before {
        return Err(ControlError::NotFound(format!(
            "no runtime host named {name:?}"
        )));
    }
    runtime.retain(|r| !ctx.omapi_hosts.is_ephemeral(&r.name));
    hosts::save(ctx.store.as_ref(), &runtime).map_err(|e| ControlError::Store(e.to_string()))?;
    ctx.engine.remove_host(name);
    tracing::info!(name, "runtime host reservation removed");
    Ok(Reply::Done {
        message: format!("host {name} removed"),
    })
}

/// The runtime hosts to store: all but OMAPI's.
fn stored_hosts(engine: &Engine, omapi: &OmapiHosts) -> Vec<HostConfig> {
    let mut hosts = hosts::runtime_hosts(engine);
    hosts.retain(|h| !omapi.is_ephemeral(&h.name));
    hosts
}

/// Applies `cfg` with [`Engine::reconfigure`] (leases kept when their address
/// is still in a pool; runtime hosts kept unless the new configuration
/// supersedes them).
fn reconfigure(ctx: EngineContext<'_>, cfg: Config) -> Reply {
    let runtime = hosts::runtime_hosts(ctx.engine);
    let (_, dropped_hosts) = hosts::reconcile(&cfg, runtime);
    let report = ctx.engine.reconfigure(cfg);
    for (h, why) in &dropped_hosts {
        ctx.engine.remove_host(&h.name);
        tracing::warn!(name = %h.name, reason = %why, "runtime host dropped: superseded by the new configuration");
    }
    if !dropped_hosts.is_empty()
        && let Err(e) = hosts::save(
            ctx.store.as_ref(),
            &stored_hosts(ctx.engine, ctx.omapi_hosts),
        )
    {
        tracing::error!(error = %e, "cannot store the runtime hosts");
    }
    ctx.pools.publish(ctx.engine);
    let dropped = report.orphaned;
    Reply::Done {
        message: format!(
            "{} lease records kept, {} dropped (no longer in a pool), {} runtime hosts superseded",
            report.restored,
            dropped,
            dropped_hosts.len()
        ),
    }
}
