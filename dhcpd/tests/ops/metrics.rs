//! The Prometheus exporter of a running daemon: scraped over HTTP before and
//! after traffic, the counters, histograms and pool gauges move; every metric
//! the alert rules use is exported.

use std::time::Duration;

use crate::common::*;
use crate::ops_support::*;

#[test]
fn metrics_move_with_traffic_and_cover_the_alert_rules() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "dhcpd.toml", CONFIG);
    let relay = Relay::bind(RELAY);
    let port = free_tcp_port();
    let d = Daemon::start(
        dir.path(),
        &cfg,
        &dir.path().join("store"),
        relay.port(),
        &["--metrics-listen", &format!("127.0.0.1:{port}")],
    );
    let (status, before) = http_get(port, "/metrics");
    assert!(status.contains("200"), "{status}");
    assert_eq!(
        sample(&before, "dhcpd_requests_total{type=\"discover\"}"),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &before,
            "dhcpd_pool_size{network=\"127.0.0.0/24\",pool=\"127.0.0.100-127.0.0.199\"}"
        ),
        Some(100.0)
    );
    assert_eq!(
        sample(
            &before,
            "dhcpd_build_info{version=\"0.1.0\",name=\"dhcpd\"}"
        ),
        Some(1.0)
    );
    assert_eq!(sample(&before, "dhcpd_failover_relationships"), Some(0.0));

    for i in 0..3u8 {
        dora(&d, &relay, mac(i), 0x100 * u32::from(i) + 1);
    }
    relay.send_raw(d.port, b"short");
    let active =
        "dhcpd_leases{network=\"127.0.0.0/24\",pool=\"127.0.0.100-127.0.0.199\",state=\"active\"}";
    let mut after = String::new();
    // Pool gauges are published once a second.
    assert!(
        wait_until(Duration::from_secs(5), || {
            after = http_get(port, "/metrics").1;
            sample(&after, active) == Some(3.0)
        }),
        "{after}"
    );
    let get = |s: &str| sample(&after, s).unwrap_or_else(|| panic!("no {s} in\n{after}"));
    // Clients retransmit after 1 s without an answer: at least, not exactly.
    assert!(get("dhcpd_requests_total{type=\"discover\"}") >= 3.0);
    assert!(get("dhcpd_requests_total{type=\"request\"}") >= 3.0);
    assert!(get("dhcpd_replies_sent_total{type=\"offer\"}") >= 3.0);
    assert!(get("dhcpd_replies_sent_total{type=\"ack\"}") >= 3.0);
    assert_eq!(
        get("dhcpd_dropped_packets_total{reason=\"truncated\"}"),
        1.0
    );
    assert!(get("dhcpd_received_packets_total") >= 7.0);
    let replies = get("dhcpd_reply_latency_seconds_count");
    assert!(replies >= 6.0);
    assert!(get("dhcpd_reply_latency_seconds_sum") > 0.0);
    assert_eq!(
        get("dhcpd_reply_latency_seconds_bucket{le=\"+Inf\"}"),
        replies
    );
    assert!(get("dhcpd_store_commits_total") >= 3.0);
    assert!(get("dhcpd_store_commit_duration_seconds_count") >= 3.0);
    assert!(get("dhcpd_store_commit_batch_records_sum") >= 3.0);
    assert_eq!(
        get(
            "dhcpd_pool_utilization_ratio{network=\"127.0.0.0/24\",pool=\"127.0.0.100-127.0.0.199\"}"
        ),
        0.03
    );

    // Every metric the alert rules use is exported (failover ones too, with
    // no series while standalone).
    let rules = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/prometheus/alerts.yml"
    ))
    .unwrap();
    let mut names: Vec<&str> = rules
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("dhcpd_"))
        .collect();
    names.sort_unstable();
    names.dedup();
    assert!(names.len() >= 5, "{names:?}");
    for n in names {
        let base = n
            .strip_suffix("_bucket")
            .or_else(|| n.strip_suffix("_total"))
            .unwrap_or(n);
        assert!(
            after.contains(&format!("# TYPE {base} ")) || after.contains(&format!("# TYPE {n} ")),
            "alert rules use {n}, which is not exported"
        );
    }

    let (status, _) = http_get(port, "/nope");
    assert!(status.contains("404"), "{status}");
    let (status, log) = d.terminate();
    assert!(status.success(), "{log}");
    assert!(log.contains("metrics exporter listening"), "{log}");
}
