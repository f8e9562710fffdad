//! The engine task: the single owner of the [`Engine`].
//!
//! It takes every request that is ready (up to `max_batch`), runs each through
//! the engine, and submits all their lease writes to the group commit as one
//! job. Replies of transactions that wrote something (ACKs, mostly) are queued
//! for the sender, which releases them only when that job is durable (RFC
//! 2131: stable storage before reply); replies of transactions that wrote
//! nothing (OFFERs, NAKs, INFORM ACKs) promise nothing durable and go at once.
//! While one commit is being flushed the next batch is already being
//! prepared, so the store flushes many transactions at once under load. A one-second timer runs
//! [`Engine::tick`] (expiry and reclaim) and commits what it changes.
//!
//! The task ends when every receive loop has stopped (its queue closes), after
//! handling what was already queued.
//!
//! Operations hooks ([`EngineOps`]): control calls are answered between
//! batches; lease events (commit, release, expiry) are emitted from the
//! commit's completion, i.e. once durable; pool figures are published on each
//! tick.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use dhcp_core::engine::{Engine, RecvInfo};
use dhcp_core::policy::ByRelationship;
use dhcp_failover::peer::FailoverState;
use dhcp_failover::policy::FailoverPolicy;
use dhcp_store::GroupCommit;
use tokio::sync::{mpsc, oneshot};

use crate::clock::engine_now;
use crate::failover::driver::{Driver, DurableNotifier, Input};
use crate::net::transmit::SendJob;
use crate::ops::kea_script::Via;
use crate::ops::lease_file::LeaseFile;
use crate::ops::omapi::{self, backend::EngineBackend};
use crate::ops::start::EngineOps;
use crate::serve::counters::Counters;
use crate::serve::passed_over::PassedOver;
use crate::serve::transaction::{Inbound, LOG_TARGET, Outgoing, describe};

/// How often the engine's timers are run.
pub const TICK_INTERVAL: Duration = Duration::from_secs(1);

/// The engine task's state.
pub struct Service {
    /// The engine.
    pub engine: Engine,
    /// The lease policies: each running relationship's for its pools,
    /// standalone for pools without one.
    pub policies: ByRelationship<FailoverPolicy>,
    /// The group commit in front of the store.
    pub commit: GroupCommit,
    /// The sender's queue.
    pub sends: mpsc::Sender<SendJob>,
    /// The counters.
    pub counters: Arc<Counters>,
    /// Most requests handled per batch.
    pub max_batch: usize,
    /// Operations hooks (control calls, lease events, pool figures).
    pub ops: EngineOps,
    /// Requests passed over for the failover partner, run again if it is
    /// lost a moment later.
    pub passed: PassedOver,
    /// One failover driver per configured relationship; each one's
    /// [`Driver::policy`] goes into `policies`, refreshed after every input
    /// it handles.
    pub failover: Vec<Driver>,
    /// The ISC-format view of the leases, if one is kept.
    pub lease_file: Option<LeaseFile>,
}

/// The next input of any failover driver, with the driver's index; never
/// without failover. Drivers are asked in turn from `first`, so that a busy
/// relationship cannot starve the others.
async fn failover_input(drivers: &mut [Driver], first: usize) -> (usize, Input) {
    let n = drivers.len();
    if n == 0 {
        return std::future::pending().await;
    }
    let mut waits: Vec<_> = drivers
        .iter_mut()
        .map(|d| Box::pin(d.next_input()))
        .collect();
    std::future::poll_fn(|cx| {
        for k in 0..n {
            let i = (first + k) % n;
            if let std::task::Poll::Ready(input) = waits[i].as_mut().poll(cx) {
                return std::task::Poll::Ready((i, input));
            }
        }
        std::task::Poll::Pending
    })
    .await
}

impl Service {
    /// Runs until `inbound` closes; returns the group commit so the caller can
    /// wait for it to drain.
    pub async fn run(mut self, mut inbound: mpsc::Receiver<Inbound>) -> GroupCommit {
        let mut tick = tokio::time::interval(TICK_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut batch = Vec::with_capacity(self.max_batch);
        // The failover driver asked first next time (round robin).
        let mut turn = 0;
        loop {
            tokio::select! {
                n = inbound.recv_many(&mut batch, self.max_batch) => {
                    if n == 0 {
                        break;
                    }
                    self.handle_batch(&mut batch).await;
                    self.touch_lease_file();
                }
                _ = tick.tick() => {
                    self.tick();
                    // Peer timers also run here: under a request storm the
                    // drivers' own timer futures are re-created too often.
                    for i in 0..self.failover.len() {
                        self.on_failover(i, Input::Timer);
                    }
                    if let Some(f) = &mut self.lease_file {
                        f.tick(&self.engine, engine_now());
                    }
                }
                Some(call) = self.ops.calls.recv() => {
                    let notifiers = self.notifiers();
                    self.ops.handle_call(call, &mut self.engine, &self.policies, &self.commit, notifiers);
                    self.touch_lease_file();
                }
                Some(call) = self.ops.omapi.recv() => {
                    let mut backend = EngineBackend {
                        engine: &mut self.engine,
                        failover: &mut self.failover,
                        policies: &mut self.policies,
                        commit: &self.commit,
                        hosts: &mut self.ops.omapi_hosts,
                    };
                    omapi::handle(call, &mut backend);
                }
                (i, input) = failover_input(&mut self.failover, turn) => {
                    turn = i + 1;
                    self.on_failover(i, input);
                    self.touch_lease_file();
                }
            }
            if let Some(again) = self.passed.take_due(std::time::Instant::now())
                && !again.is_empty()
            {
                self.answer_passed_over(again).await;
            }
        }
        for d in &mut self.failover {
            d.save();
        }
        if let Some(f) = &self.lease_file
            && let Err(e) = f.write_now(&self.engine, engine_now())
        {
            tracing::warn!(path = %f.path().display(), error = %e, "cannot write the ISC lease file");
        }
        self.commit
    }

    /// Answers the requests passed over for a partner that is now lost:
    /// a REQUEST naming it gets a DHCPNAK (its client starts over), the
    /// rest run through the engine again (see [`crate::serve::passed_over`]).
    async fn answer_passed_over(&mut self, again: Vec<Inbound>) {
        let echo = self.engine.config().server.echo_client_id;
        let (mut naks, mut rest) = (Vec::new(), Vec::new());
        for inbound in again {
            let nak = self.failover.iter().find_map(|d| {
                d.nak_passed_over(&inbound.request.msg, inbound.origin.local_addr, echo)
            });
            match nak {
                Some(reply) => {
                    self.counters.transaction(
                        inbound.request.msg_type,
                        &dhcp_core::engine::Verdict::Replied(reply.msg_type),
                    );
                    naks.push(Outgoing {
                        reply,
                        origin: inbound.origin,
                        log: None,
                    });
                }
                None => rest.push(inbound),
            }
        }
        tracing::info!(
            target: LOG_TARGET,
            naks = naks.len(),
            again = rest.len(),
            "failover partner lost: answering the requests just passed over for it"
        );
        if !naks.is_empty() {
            queue(&self.sends, SendJob::Now(naks)).await;
        }
        self.handle_batch(&mut rest).await;
        self.touch_lease_file();
    }

    /// Notes that the lease table may have changed (the lease file is
    /// rewritten at the next due tick).
    fn touch_lease_file(&mut self) {
        if let Some(f) = &mut self.lease_file {
            f.touch();
        }
    }

    fn on_failover(&mut self, i: usize, input: Input) {
        if let Some(d) = self.failover.get_mut(i) {
            let before = d.peer().state();
            d.handle(input, &mut self.engine, &self.commit);
            self.policies.set(&d.peer().config().name, d.policy());
            let after = d.peer().state();
            if before == FailoverState::Normal
                && matches!(
                    after,
                    FailoverState::CommunicationsInterrupted | FailoverState::PartnerDown
                )
            {
                self.passed.partner_lost();
            }
        }
    }

    /// Where to report durable writes: every driver (each keeps the records
    /// of its own pools).
    fn notifiers(&self) -> Vec<DurableNotifier> {
        self.failover.iter().map(Driver::notifier).collect()
    }

    /// A completion that also reports `writes` to the failover drivers once
    /// they are durable (their binding updates follow the commit).
    fn with_failover_notice(
        &self,
        writes: &[dhcp_core::lease::Lease],
        done: dhcp_store::Completion,
    ) -> dhcp_store::Completion {
        if self.failover.is_empty() {
            return done;
        }
        DurableNotifier::wrap(self.notifiers(), writes, done)
    }

    async fn handle_batch(&mut self, batch: &mut Vec<Inbound>) {
        let now = engine_now();
        let mut writes = Vec::new();
        let mut immediate = Vec::new();
        let mut after_commit = Vec::new();
        let mut events = Vec::new();
        for inbound in batch.drain(..) {
            let o = &inbound.origin;
            let info = RecvInfo {
                interface: Some(&o.interface),
                local_addr: o.local_addr,
                src: o.src,
            };
            let echo = self.engine.config().server.echo_client_id;
            if let Some(reply) = self
                .failover
                .iter_mut()
                .find_map(|d| d.nak_stranded(&inbound.request.msg, o.local_addr, echo))
            {
                let verdict = dhcp_core::engine::Verdict::Replied(reply.msg_type);
                self.counters
                    .transaction(inbound.request.msg_type, &verdict);
                tracing::info!(target: LOG_TARGET,
                    "DHCPREQUEST from {} via {}: DHCPNAK (the failover partner it selected is down)",
                    dhcp_core::config::format_hex(inbound.request.msg.chaddr()),
                    o.interface);
                immediate.push(Outgoing {
                    reply,
                    origin: inbound.origin,
                    log: None,
                });
                continue;
            }
            let prior = self.ops.prior_lease(&self.engine, &inbound.request);
            let out = self
                .engine
                .handle(&self.policies, &inbound.request, &info, now);
            self.counters.transaction(out.request_type, &out.verdict);
            let durable_first = !out.writes.is_empty();
            // One line per transaction, once its outcome is known: at once,
            // or, for a reply that waits for its commit, by the sender after it.
            let mut line = tracing::enabled!(target: LOG_TARGET, tracing::Level::INFO)
                .then(|| describe(&inbound.request, o, &out));
            if !(durable_first && out.reply.is_some())
                && let Some(l) = line.take()
            {
                tracing::info!(target: LOG_TARGET, "{l}");
            }
            let via = || Via {
                ifindex: o.ifindex,
                interface: o.interface.to_string(),
                local: o.local_addr,
                remote: o.src,
                local_hwaddr: None,
            };
            events.extend(
                self.ops
                    .transaction_event(&inbound.request, &out, prior, via),
            );
            writes.extend(out.writes);
            let passed_over = matches!(
                out.verdict,
                dhcp_core::engine::Verdict::Ignored(
                    dhcp_core::engine::IgnoreReason::NotOurs
                        | dhcp_core::engine::IgnoreReason::OtherServer
                )
            );
            if let Some(reply) = out.reply {
                let o = Outgoing {
                    reply,
                    origin: inbound.origin,
                    log: line,
                };
                if durable_first {
                    after_commit.push(o);
                } else {
                    immediate.push(o);
                }
            } else if passed_over && !self.failover.is_empty() {
                self.passed.keep(std::time::Instant::now(), inbound);
            }
        }
        if !immediate.is_empty() {
            queue(&self.sends, SendJob::Now(immediate)).await;
        }
        if writes.is_empty() {
            self.ops.emit(events);
        } else {
            let (tx, rx) = oneshot::channel();
            let done = self.ops.after_commit(events, move |r| {
                let _ = tx.send(r);
            });
            let done = self.with_failover_notice(&writes, Box::new(done));
            self.commit.submit(writes, done);
            queue(&self.sends, SendJob::AfterCommit(after_commit, rx)).await;
        }
    }

    fn tick(&mut self) {
        let now = engine_now();
        let due = self.ops.due_active(&self.engine, now);
        let writes = self.engine.tick(&self.policies, now);
        self.ops.publish(&self.engine);
        if writes.is_empty() {
            return;
        }
        self.touch_lease_file();
        let events = self.ops.expiry_events(&due, &writes);
        let n = writes.len();
        tracing::debug!(records = n, "lease timers fired");
        self.counters
            .expiry_writes
            .fetch_add(n as u64, Ordering::Relaxed);
        let done = self.ops.after_commit(events, move |r| {
            if let Err(e) = r {
                tracing::error!(error = %e, records = n, "cannot commit expired leases");
            }
        });
        let done = self.with_failover_notice(&writes, Box::new(done));
        self.commit.submit(writes, done);
    }
}

/// Hands `job` to the sender.
async fn queue(sends: &mpsc::Sender<SendJob>, job: SendJob) {
    if sends.send(job).await.is_err() {
        tracing::error!("the sender has stopped; replies dropped");
    }
}
