//! Prometheus metrics: what the daemon exports and the HTTP exporter.
//!
//! Nothing here is on the per-packet path: the tasks count into
//! [`Counters`] (relaxed atomics and the atomic [`crate::serve::histogram::Histogram`]s),
//! the engine task publishes pool figures once a second into [`PoolGauges`],
//! and the [`DaemonCollector`] reads all of it, plus the failover status, at
//! scrape time. Names (all prefixed `dhcpd_`) are listed in
//! `docs/operations.md`; counters get the `_total` suffix.

pub mod http;

use std::fmt;
use std::sync::Arc;

use dhcp_store::LeaseStore;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use crate::failover::status::{ALL_STATES, SharedFailoverOps};
use crate::ops::reload_status::ReloadStatus;
use crate::serve::counters::{Counters, DropReason, OMAPI_REFUSALS};
use crate::serve::histogram::HistogramSnapshot;
use crate::serve::pool_stats::{PoolGauges, PoolStats};

/// Reads every source of the daemon's metrics at scrape time.
pub struct DaemonCollector {
    /// The packet counters and histograms.
    pub counters: Arc<Counters>,
    /// Pool figures.
    pub pools: Arc<PoolGauges>,
    /// Failover status.
    pub failover: SharedFailoverOps,
    /// Reload outcomes.
    pub reload: Arc<ReloadStatus>,
    /// The lease store (its checkpoint failures).
    pub store: Arc<dyn LeaseStore>,
    /// Unix time the daemon started.
    pub started: u64,
}

impl fmt::Debug for DaemonCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DaemonCollector").finish_non_exhaustive()
    }
}

/// The metrics registry of a running daemon (prefix `dhcpd`).
pub fn registry(collector: DaemonCollector) -> Registry {
    let mut r = Registry::with_prefix("dhcpd");
    r.register_collector(Box::new(collector));
    r
}

/// Renders a registry in the Prometheus text format (0.0.4).
pub fn render(registry: &Registry) -> Result<String, fmt::Error> {
    let mut s = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut s, registry)?;
    Ok(s)
}

type Labels<'a> = Vec<(&'a str, String)>;

struct Out<'e, 'a> {
    enc: &'e mut DescriptorEncoder<'a>,
}

impl Out<'_, '_> {
    fn counters(&mut self, name: &str, help: &str, rows: &[(Labels<'_>, u64)]) -> fmt::Result {
        let mut m = self
            .enc
            .encode_descriptor(name, help, None, MetricType::Counter)?;
        for (labels, v) in rows {
            m.encode_family(labels)?
                .encode_counter::<NoLabelSet, u64, f64>(v, None)?;
        }
        Ok(())
    }

    fn counter(&mut self, name: &str, help: &str, v: u64) -> fmt::Result {
        self.counters(name, help, &[(Vec::new(), v)])
    }

    fn gauges(&mut self, name: &str, help: &str, rows: &[(Labels<'_>, f64)]) -> fmt::Result {
        let mut m = self
            .enc
            .encode_descriptor(name, help, None, MetricType::Gauge)?;
        for (labels, v) in rows {
            ConstGauge::new(*v).encode(m.encode_family(labels)?)?;
        }
        Ok(())
    }

    fn gauge(&mut self, name: &str, help: &str, v: f64) -> fmt::Result {
        self.gauges(name, help, &[(Vec::new(), v)])
    }

    fn histogram(&mut self, name: &str, help: &str, h: &HistogramSnapshot) -> fmt::Result {
        let mut m = self
            .enc
            .encode_descriptor(name, help, None, MetricType::Histogram)?;
        m.encode_histogram::<NoLabelSet>(h.sum, h.count, &h.buckets, None)
    }
}

fn by<'a>(key: &'a str, rows: Vec<(&'static str, u64)>) -> Vec<(Labels<'a>, u64)> {
    rows.into_iter()
        .map(|(l, v)| (vec![(key, l.to_owned())], v))
        .collect()
}

impl Collector for DaemonCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> fmt::Result {
        let c = &self.counters;
        let get = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
        let mut o = Out { enc: &mut enc };
        o.gauges(
            "build_info",
            "Build information (value 1).",
            &[(
                vec![
                    ("version", env!("CARGO_PKG_VERSION").to_owned()),
                    ("name", "dhcpd".to_owned()),
                ],
                1.0,
            )],
        )?;
        o.gauge(
            "start_time_seconds",
            "Unix time the daemon started.",
            self.started as f64,
        )?;
        o.counter(
            "received_packets",
            "Datagrams received on the server port.",
            get(&c.received),
        )?;
        o.counter(
            "receive_errors",
            "Receive errors reported by the server sockets.",
            get(&c.recv_errors),
        )?;
        o.counter(
            "kernel_receive_drops",
            "Datagrams the kernel dropped because a server socket's receive buffer was full (SO_RXQ_OVFL).",
            get(&c.kernel_receive_drops),
        )?;
        o.counters(
            "requests",
            "Valid requests handed to the engine, by DHCP message type.",
            &by("type", c.requests_by_type()),
        )?;
        let drops: Vec<(&'static str, u64)> = DropReason::ALL
            .iter()
            .map(|r| (r.label(), c.drops(*r)))
            .collect();
        o.counters(
            "dropped_packets",
            "Datagrams dropped before the engine, by reason.",
            &by("reason", drops),
        )?;
        o.counters(
            "ignored_requests",
            "Requests deliberately not answered, by reason.",
            &by("reason", c.ignored_by_reason()),
        )?;
        o.counters(
            "replies_sent",
            "Replies sent, by DHCP message type.",
            &by("type", c.sent_by_type()),
        )?;
        o.counter(
            "send_errors",
            "Replies that could not be sent.",
            get(&c.send_errors),
        )?;
        o.counter(
            "l2_fallbacks",
            "Replies broadcast because a layer-2 unicast was impossible.",
            get(&c.l2_fallbacks),
        )?;
        o.counter("releases", "Leases released by clients.", get(&c.released))?;
        o.counter(
            "declines",
            "Addresses declined by clients.",
            get(&c.declined),
        )?;
        o.counter("store_commits", "Store commits completed.", get(&c.commits))?;
        o.counter(
            "store_commit_errors",
            "Store commits that failed (their replies were withheld).",
            get(&c.commit_errors),
        )?;
        o.counter(
            "store_checkpoint_failures",
            "Lease database checkpoints that failed (each is retried; commits stay durable in the journal until it is full).",
            self.store.checkpoint_failures(),
        )?;
        o.counter(
            "store_committed_records",
            "Lease records written by store commits.",
            get(&c.committed_records),
        )?;
        o.histogram(
            "store_commit_duration_seconds",
            "Duration of each store commit (write and fsync).",
            &c.timings.commit_latency.snapshot(),
        )?;
        o.histogram(
            "store_commit_batch_records",
            "Lease records per store commit.",
            &c.timings.commit_batch.snapshot(),
        )?;
        o.histogram(
            "reply_latency_seconds",
            "Time from a request's arrival to its reply being sent.",
            &c.timings.reply_latency.snapshot(),
        )?;
        o.counters(
            "lease_events",
            "Lease events (MAAS notifications), by outcome.",
            &by(
                "outcome",
                vec![
                    ("queued", get(&c.events_queued)),
                    ("delivered", get(&c.events_delivered)),
                    ("dropped", get(&c.events_dropped)),
                ],
            ),
        )?;
        o.counters(
            "omapi_requests",
            "OMAPI requests, by outcome (failed includes refused).",
            &by(
                "outcome",
                vec![
                    ("succeeded", get(&c.omapi_succeeded)),
                    ("failed", get(&c.omapi_failed)),
                ],
            ),
        )?;
        o.counters(
            "omapi_refused",
            "OMAPI input refused, by reason.",
            &by(
                "reason",
                OMAPI_REFUSALS
                    .iter()
                    .copied()
                    .zip(c.omapi_refused.iter().map(get))
                    .collect(),
            ),
        )?;
        self.encode_pools(&mut o)?;
        self.encode_failover(&mut o)?;
        o.gauge(
            "config_last_reload_successful",
            "Whether the last configuration reload succeeded (1 before any reload).",
            if self.reload.last_ok() { 1.0 } else { 0.0 },
        )?;
        o.gauge(
            "config_last_reload_success_timestamp_seconds",
            "Unix time of the last successful configuration load or reload.",
            self.reload.last_success().max(self.started) as f64,
        )?;
        Ok(())
    }
}

impl DaemonCollector {
    fn encode_pools(&self, o: &mut Out<'_, '_>) -> fmt::Result {
        let pools = self.pools.get();
        let id = |p: &PoolStats| -> Labels<'_> {
            vec![("network", p.network.clone()), ("pool", p.range.clone())]
        };
        let mut leases = Vec::new();
        for p in &pools {
            for (state, n) in &p.leases {
                let mut l = id(p);
                l.push(("state", state.clone()));
                leases.push((l, *n as f64));
            }
        }
        o.gauges(
            "leases",
            "Addresses of each pool by binding state.",
            &leases,
        )?;
        let sizes: Vec<_> = pools.iter().map(|p| (id(p), p.size as f64)).collect();
        o.gauges("pool_size", "Addresses in each pool.", &sizes)?;
        let used: Vec<_> = pools.iter().map(|p| (id(p), p.used() as f64)).collect();
        o.gauges(
            "pool_used",
            "Addresses of each pool not free for allocation (not FREE or BACKUP).",
            &used,
        )?;
        let util: Vec<_> = pools.iter().map(|p| (id(p), p.utilization())).collect();
        o.gauges("pool_utilization_ratio", "pool_used / pool_size.", &util)
    }

    fn encode_failover(&self, o: &mut Out<'_, '_>) -> fmt::Result {
        let rels = self.failover.status();
        let now = crate::clock::unix_now();
        o.gauge(
            "failover_relationships",
            "Failover relationships running in this daemon (0: standalone).",
            rels.len() as f64,
        )?;
        let mut states = Vec::new();
        for r in &rels {
            for (side, current) in [
                ("local", Some(r.local_state.as_str())),
                ("partner", r.partner_state.as_deref()),
            ] {
                for s in ALL_STATES {
                    let v = if current == Some(s.name()) { 1.0 } else { 0.0 };
                    states.push((
                        vec![
                            ("relationship", r.name.clone()),
                            ("role", r.role.clone()),
                            ("side", side.to_owned()),
                            ("state", s.name().to_owned()),
                        ],
                        v,
                    ));
                }
            }
        }
        o.gauges(
            "failover_state",
            "Failover state set: 1 for the current state of each side (local, partner).",
            &states,
        )?;
        let rel = |r: &crate::failover::status::RelationshipStatus| -> Labels<'_> {
            vec![("relationship", r.name.clone())]
        };
        let conn: Vec<_> = rels
            .iter()
            .map(|r| (rel(r), if r.connected { 1.0 } else { 0.0 }))
            .collect();
        o.gauges(
            "failover_connected",
            "Whether the failover connection to the partner is up.",
            &conn,
        )?;
        let unacked: Vec<_> = rels
            .iter()
            .map(|r| (rel(r), r.unacked_updates as f64))
            .collect();
        o.gauges(
            "failover_unacked_updates",
            "Binding updates sent to the partner and not yet acknowledged.",
            &unacked,
        )?;
        let pending: Vec<_> = rels
            .iter()
            .map(|r| (rel(r), r.pending_updates as f64))
            .collect();
        o.gauges(
            "failover_pending_updates",
            "Binding updates waiting to be sent to the partner.",
            &pending,
        )?;
        let age: Vec<_> = rels
            .iter()
            .filter_map(|r| {
                r.last_contact
                    .map(|t| (rel(r), now.saturating_sub(t) as f64))
            })
            .collect();
        o.gauges(
            "failover_last_contact_age_seconds",
            "Seconds since the last message from the partner of an established relationship.",
            &age,
        )?;
        let refused: Vec<_> = rels
            .iter()
            .flat_map(|r| {
                r.refused.iter().map(|(reason, n)| {
                    let mut l = rel(r);
                    l.push(("reason", reason.clone()));
                    (l, *n)
                })
            })
            .collect();
        o.counters(
            "failover_refused",
            "What the failover port refused, by reason: connections from addresses that are not the partner, undecodable frames, CONNECTs refused by us or by the partner, duplicate connections.",
            &refused,
        )?;
        let fenced: Vec<_> = rels
            .iter()
            .filter_map(|r| r.fencing.map(|f| (rel(r), f)))
            .collect();
        let pick = |f: fn(&crate::failover::FencingStatus) -> u64| -> Vec<_> {
            fenced.iter().map(|(l, s)| (l.clone(), f(s))).collect()
        };
        o.counters(
            "failover_fencing_probes",
            "Client-link probes sent to the partner while the failover link is down (fencing-aware partner-down).",
            &pick(|s| s.probes),
        )?;
        o.counters(
            "failover_fencing_answers",
            "Client-link probes the partner answered: it is alive on the client link.",
            &pick(|s| s.answers),
        )?;
        o.counters(
            "failover_partner_down_withheld",
            "Times the automatic partner-down was withheld because the partner still answers clients, or too few probes went unanswered.",
            &pick(|s| s.withheld),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failover::status::{FailoverOps, FailoverOpsError, RelationshipStatus};
    use dhcp_core::config::{Config, FailoverConfig};
    use dhcp_core::engine::Engine;
    use dhcp_failover::wire::ServerState;

    /// A failover side as the failover engineer's implementation will report.
    struct Fake;

    impl FailoverOps for Fake {
        fn status(&self) -> Vec<RelationshipStatus> {
            let mut r =
                RelationshipStatus::new("rack", "primary", ServerState::CommunicationsInterrupted);
            r.partner_state = Some(ServerState::Normal.name().to_owned());
            r.unacked_updates = 5;
            r.last_contact = Some(crate::clock::unix_now() - 10);
            r.refused.insert("not_peer".into(), 210);
            vec![r]
        }
        fn partner_down(&self, _r: Option<&str>) -> Result<String, FailoverOpsError> {
            Ok("ok".into())
        }
        fn maintenance(&self, _r: Option<&str>, _s: bool) -> Result<String, FailoverOpsError> {
            Err(FailoverOpsError::Standalone)
        }
        fn reconfigure(
            &self,
            _old: &[FailoverConfig],
            _new: &[FailoverConfig],
        ) -> Result<(), FailoverOpsError> {
            Ok(())
        }
    }

    fn scrape(failover: SharedFailoverOps) -> String {
        let cfg = Config::from_toml(
            "[[subnets]]\nsubnet = \"10.99.0.0/24\"\n[[subnets.pools]]\nstart = \"10.99.0.10\"\nend = \"10.99.0.19\"\n",
        )
        .unwrap();
        let pools = Arc::new(PoolGauges::default());
        pools.publish(&Engine::new(cfg));
        let dir = tempfile::tempdir().unwrap();
        let reg = registry(DaemonCollector {
            counters: Arc::new(Counters::default()),
            pools,
            failover,
            reload: Arc::new(ReloadStatus::default()),
            store: Arc::new(dhcp_store::SledStore::open(dir.path()).unwrap()),
            started: 1,
        });
        render(&reg).unwrap()
    }

    #[test]
    fn failover_series_are_exported() {
        let text = scrape(Arc::new(Fake));
        let has = |l: &str| text.lines().any(|x| x == l);
        let id = "relationship=\"rack\",role=\"primary\"";
        assert!(
            has(&format!(
                "dhcpd_failover_state{{{id},side=\"local\",state=\"communications-interrupted\"}} 1.0"
            )),
            "{text}"
        );
        assert!(has(&format!(
            "dhcpd_failover_state{{{id},side=\"local\",state=\"normal\"}} 0.0"
        )));
        assert!(has(&format!(
            "dhcpd_failover_state{{{id},side=\"partner\",state=\"normal\"}} 1.0"
        )));
        assert!(has("dhcpd_failover_connected{relationship=\"rack\"} 0.0"));
        assert!(has(
            "dhcpd_failover_unacked_updates{relationship=\"rack\"} 5.0"
        ));
        assert!(
            text.contains("dhcpd_failover_last_contact_age_seconds{relationship=\"rack\"} 1"),
            "{text}"
        );
        assert!(has("dhcpd_failover_relationships 1.0"));
        assert!(
            text.contains(
                "dhcpd_failover_refused_total{relationship=\"rack\",reason=\"not_peer\"} 210"
            ),
            "{text}"
        );
        assert!(has(
            "dhcpd_pool_size{network=\"10.99.0.0/24\",pool=\"10.99.0.10-10.99.0.19\"} 10.0"
        ));
        assert!(has(
            "dhcpd_leases{network=\"10.99.0.0/24\",pool=\"10.99.0.10-10.99.0.19\",state=\"free\"} 10.0"
        ));
    }

    #[test]
    fn standalone_exports_descriptors_without_failover_series() {
        let text = scrape(Arc::new(crate::failover::status::NoFailover));
        assert!(text.contains("# TYPE dhcpd_failover_state gauge"), "{text}");
        assert!(!text.contains("dhcpd_failover_state{"), "{text}");
        assert!(text.contains("dhcpd_failover_relationships 0.0"));
        assert!(text.contains("# TYPE dhcpd_requests_total counter"));
        assert!(
            text.contains("dhcpd_store_checkpoint_failures_total 0"),
            "{text}"
        );
    }
}
