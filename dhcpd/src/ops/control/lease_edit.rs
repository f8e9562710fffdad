//! Lease writes asked for by an operator (Kea's `lease4-add`,
//! `lease4-update`, `lease4-del` and `lease4-wipe`, see
//! [`crate::ops::kea_control`]), run by the engine task like the other
//! [`super::engine`] requests: each answers only once its write is durable,
//! and the failover partner hears of it (a BNDUPD) through
//! [`DurableNotifier`].
//!
//! What is refused: an address outside every pool (this server keeps lease
//! records for pool addresses only), a new lease on an address that is
//! taken, and, in a failover relationship, a lease on an address the
//! relationship's policy would not let this server allocate now (the
//! partner owns it, or the state does not allow allocating): binding it
//! anyway could hand one address to two clients.

use std::net::Ipv4Addr;

use dhcp_core::engine::Engine;
use dhcp_core::lease::{BindingState, ClientKey, HwAddr, Lease};
use dhcp_store::Completion;
use ipnet::Ipv4Net;
use tokio::sync::oneshot;

use super::context::{EngineContext, lease_info};
use super::error::ControlError;
use super::protocol::{LeaseInfo, Reply};
use crate::clock::engine_now;
use crate::failover::driver::DurableNotifier;
use crate::ops::events::{Action, KeaDetail, LeaseEvent};

/// The fields of a lease an operator writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseFields {
    /// The address.
    pub ip: Ipv4Addr,
    /// The client's hardware address.
    pub hw: HwAddr,
    /// The client identifier, if any.
    pub client_id: Option<Vec<u8>>,
    /// The host name, if any.
    pub hostname: Option<String>,
    /// When the client last talked to us (unix time).
    pub cltt: u32,
    /// Seconds the lease is valid from `cltt`.
    pub valid_lft: u32,
    /// `Active`, `Abandoned` (declined) or `Expired`.
    pub state: BindingState,
}

/// A lease write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseEdit {
    /// Create (`create`) and/or replace (`replace`) the lease of an address.
    Put {
        /// The lease.
        fields: Box<LeaseFields>,
        /// May create a lease where there is none.
        create: bool,
        /// May replace a lease that exists.
        replace: bool,
    },
    /// End the lease of an address (as a release does).
    Delete(Ipv4Addr),
    /// End every lease in these subnets (all subnets if empty).
    Wipe(Vec<Ipv4Net>),
}

/// Whether `l` holds a lease as Kea counts them: active, declined
/// (abandoned) or expired; free, released, reset and backup addresses hold
/// none.
pub fn is_lease(l: &Lease) -> bool {
    matches!(
        l.state,
        BindingState::Active | BindingState::Abandoned | BindingState::Expired
    )
}

/// Handles one edit; answers through `reply` once the write is durable.
pub fn handle(
    ctx: EngineContext<'_>,
    edit: LeaseEdit,
    reply: oneshot::Sender<Result<Reply, ControlError>>,
) {
    let planned = match edit {
        LeaseEdit::Put {
            fields,
            create,
            replace,
        } => put(&ctx, &fields, create, replace).map(|l| (vec![l], Action::Commit)),
        LeaseEdit::Delete(ip) => delete(&ctx, ip).map(|l| (vec![l], Action::Release)),
        LeaseEdit::Wipe(subnets) => Ok((wipe(&ctx, &subnets), Action::Release)),
    };
    match planned {
        Ok((writes, action)) => write(ctx, writes, action, reply, |leases| Reply::Leases {
            leases,
        }),
        Err(e) => {
            let _ = reply.send(Err(e));
        }
    }
}

/// The current record of `ip`, or why there is none.
fn record(engine: &Engine, ip: Ipv4Addr) -> Result<&Lease, ControlError> {
    engine.table().get(ip).ok_or_else(|| {
        ControlError::Invalid(format!(
            "{ip} is in no pool of this server (it keeps leases for pool addresses only)"
        ))
    })
}

fn put(
    ctx: &EngineContext<'_>,
    f: &LeaseFields,
    create: bool,
    replace: bool,
) -> Result<Lease, ControlError> {
    let current = record(ctx.engine, f.ip)?;
    let exists = is_lease(current);
    if exists && !replace {
        return Err(ControlError::Invalid(
            "IPv4 lease already exists.".to_owned(),
        ));
    }
    if !exists && !create {
        return Err(ControlError::NotFound(format!(
            "no lease for {} to update (give force-create to create it)",
            f.ip
        )));
    }
    let now = engine_now();
    let relationship = ctx.engine.relationship_of(f.ip);
    let policy = ctx.policies.policy(relationship);
    // The same client keeping its address is always allowed (it renews);
    // anything else must be an address this server may allocate now.
    let same_client = exists && current.hw.as_ref().is_some_and(|h| h.addr == f.hw.addr);
    if let Some(rel) = relationship
        && !same_client
        && !policy.may_allocate(current, now)
    {
        return Err(ControlError::Invalid(format!(
            "{} is {} in failover relationship {rel:?} and this server may not allocate it now \
             (the partner owns it, or its state forbids reuse): refused so that no address is bound twice",
            f.ip,
            current.state.name()
        )));
    }
    let mut l = current.clone();
    l.state = f.state;
    l.client = Some(match &f.client_id {
        Some(id) => ClientKey::ClientId(id.clone()),
        None => ClientKey::Hw(f.hw.clone()),
    });
    l.hw = Some(f.hw.clone());
    l.client_id = f.client_id.clone();
    l.hostname = f.hostname.clone();
    l.starts = f.cltt;
    l.cltt = f.cltt;
    l.ends = f.cltt.saturating_add(f.valid_lft);
    policy.on_ack(&mut l, f.valid_lft, f.valid_lft, now);
    Ok(l)
}

fn delete(ctx: &EngineContext<'_>, ip: Ipv4Addr) -> Result<Lease, ControlError> {
    let current = record(ctx.engine, ip).map_err(|_| not_found())?;
    if !is_lease(current) {
        return Err(not_found());
    }
    Ok(ended(ctx, current.clone()))
}

/// Kea's words for a missing lease.
fn not_found() -> ControlError {
    ControlError::NotFound("IPv4 lease not found.".to_owned())
}

/// `l` released now (the state its relationship's policy gives a release).
pub fn ended(ctx: &EngineContext<'_>, mut l: Lease) -> Lease {
    let now = engine_now();
    l.state = ctx
        .policies
        .policy(ctx.engine.relationship_of(l.addr))
        .release_state(&l);
    l.starts = now;
    l.ends = now;
    l.tstp = now;
    l.cltt = now;
    l
}

fn wipe(ctx: &EngineContext<'_>, subnets: &[Ipv4Net]) -> Vec<Lease> {
    ctx.engine
        .table()
        .iter()
        .filter(|l| is_lease(l))
        .filter(|l| subnets.is_empty() || subnets.iter().any(|s| s.contains(&l.addr)))
        .cloned()
        .collect::<Vec<_>>()
        .into_iter()
        .map(|l| ended(ctx, l))
        .collect()
}

/// Applies `writes` (an operator's), then, once they are durable and their
/// lease events (`action`) are out, answers with `answer` of them; the
/// failover partner hears of them.
pub fn write(
    ctx: EngineContext<'_>,
    writes: Vec<Lease>,
    action: Action,
    reply: oneshot::Sender<Result<Reply, ControlError>>,
    answer: fn(Vec<LeaseInfo>) -> Reply,
) {
    if writes.is_empty() {
        let _ = reply.send(Ok(answer(Vec::new())));
        return;
    }
    for l in &writes {
        if let Err(e) = ctx.engine.apply(l.clone()) {
            let _ = reply.send(Err(ControlError::Store(e.to_string())));
            return;
        }
    }
    let now = engine_now();
    let events: Vec<LeaseEvent> = writes
        .iter()
        .filter_map(|l| {
            let hw = l.hw.as_ref()?;
            let mut ev = match action {
                Action::Commit => {
                    LeaseEvent::commit(hw, l.addr, l.ends.saturating_sub(now), l.hostname.clone())
                }
                other => LeaseEvent::end(other, hw, l.addr),
            };
            if ctx.events.wants_kea() {
                ev.kea = Some(KeaDetail::of(l, None, None));
            }
            Some(ev)
        })
        .collect();
    let sink = ctx.events.clone();
    let leases: Vec<LeaseInfo> = writes.iter().map(lease_info).collect();
    tracing::info!(
        count = writes.len(),
        action = action.name(),
        "leases written by an operator"
    );
    let done: Completion = Box::new(move |r| {
        let answer = match r {
            Ok(()) => {
                for ev in events {
                    sink.emit(ev);
                }
                Ok(answer(leases))
            }
            Err(e) => Err(ControlError::Store(format!(
                "the lease change could not be stored: {e}"
            ))),
        };
        let _ = reply.send(answer);
    });
    let done = DurableNotifier::wrap(ctx.failover, &writes, done);
    ctx.commit.submit(writes, done);
    ctx.pools.publish(ctx.engine);
}
