//! Summing up the runs: each direction's percentiles, and the table with
//! the spread over repeats (median, and the lowest and highest run).

use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::load::latency::client::{Direction, LoadResult};
use crate::load::servers::Subject;

/// One direction's figures, nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Percentiles {
    /// Requests sent.
    pub sent: u64,
    /// Requests answered in time and recorded.
    pub answered: u64,
    /// Requests never answered.
    pub lost: u64,
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Highest.
    pub max: u64,
}

impl Percentiles {
    /// The figures of `d` (zero latencies when nothing was answered).
    pub fn of(d: &Direction) -> Self {
        let h = &d.histogram;
        let q = |q: f64| {
            if h.is_empty() {
                0
            } else {
                h.value_at_quantile(q)
            }
        };
        Self {
            sent: d.sent,
            answered: d.answered,
            lost: d.lost(),
            p50: q(0.5),
            p99: q(0.99),
            p999: q(0.999),
            max: if h.is_empty() { 0 } else { h.max() },
        }
    }
}

/// One run against one server at one rate.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// The server.
    pub subject: Subject,
    /// DORA exchanges started per second.
    pub rate: u32,
    /// The rate as a share of the ceiling, when it was given as one.
    pub fraction: Option<f64>,
    /// Which repeat (0-based).
    pub repeat: u32,
    /// DISCOVER → OFFER.
    pub offer: Percentiles,
    /// REQUEST → ACK.
    pub ack: Percentiles,
    /// REQUESTs NAKed.
    pub naks: u64,
    /// DISCOVERs sent per second.
    pub sent_rate: f64,
    /// The client's lag behind its schedule: 99th percentile and highest,
    /// nanoseconds.
    pub send_lag_p99: u64,
    /// See [`Measurement::send_lag_p99`].
    pub send_lag_max: u64,
    /// Replies that matched nothing outstanding.
    pub stray: u64,
    /// The client's CPU use, share of one core.
    pub client_cpu: f64,
    /// The server's CPU use (all threads) during the load, share of one
    /// core; 0 when not measured.
    pub server_cpu: f64,
}

impl Measurement {
    /// Sums up `r`.
    pub fn of(
        subject: Subject,
        rate: u32,
        fraction: Option<f64>,
        repeat: u32,
        r: &LoadResult,
    ) -> Self {
        let lag = |h: &Histogram<u64>, q: f64| {
            if h.is_empty() {
                0
            } else {
                h.value_at_quantile(q)
            }
        };
        let wall = r.wall.as_secs_f64();
        Self {
            subject,
            rate,
            fraction,
            repeat,
            offer: Percentiles::of(&r.offer),
            ack: Percentiles::of(&r.ack),
            naks: r.ack.naks,
            sent_rate: r.sent_rate,
            send_lag_p99: lag(&r.send_lag, 0.99),
            send_lag_max: if r.send_lag.is_empty() {
                0
            } else {
                r.send_lag.max()
            },
            stray: r.stray,
            client_cpu: if wall > 0.0 {
                r.client_cpu.as_secs_f64() / wall
            } else {
                0.0
            },
            server_cpu: 0.0,
        }
    }
}

/// Milliseconds, three decimals.
pub fn ms(ns: u64) -> String {
    format!("{:.3}", Duration::from_nanos(ns).as_secs_f64() * 1e3)
}

/// The one-line log of a run.
pub fn run_line(m: &Measurement) -> String {
    let dir = |p: &Percentiles| {
        format!(
            "p50 {} p99 {} p99.9 {} max {} ms, lost {}/{}",
            ms(p.p50),
            ms(p.p99),
            ms(p.p999),
            ms(p.max),
            p.lost,
            p.sent
        )
    };
    format!(
        "{:<8} {:>6}/s #{}: D→O {} | R→A {} | naks {} stray {} lag p99 {} max {} ms, client cpu {:.0} %, server cpu {:.0} %",
        m.subject.name(),
        m.rate,
        m.repeat + 1,
        dir(&m.offer),
        dir(&m.ack),
        m.naks,
        m.stray,
        ms(m.send_lag_p99),
        ms(m.send_lag_max),
        m.client_cpu * 100.0,
        m.server_cpu * 100.0
    )
}

/// The median of `v` (the mean of the middle two for an even count), with
/// the lowest and the highest.
fn spread(mut v: Vec<u64>) -> Option<(u64, u64, u64)> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    };
    Some((median, v[0], v[n - 1]))
}

/// `median (min–max)` in ms; only the median when all runs agree or there
/// is one run.
fn spread_cell(v: Vec<u64>) -> String {
    match spread(v) {
        None => "—".to_owned(),
        Some((m, lo, hi)) if lo == hi => ms(m),
        Some((m, lo, hi)) => format!("{} ({}–{})", ms(m), ms(lo), ms(hi)),
    }
}

/// The Markdown table: one row per server, rate and direction, each
/// percentile as the median over the repeats with the lowest and highest
/// run in parentheses, and the requests lost over all repeats.
pub fn markdown(runs: &[Measurement]) -> String {
    let mut groups: Vec<(Subject, u32, Option<f64>)> = Vec::new();
    for m in runs {
        if !groups.iter().any(|g| g.0 == m.subject && g.1 == m.rate) {
            groups.push((m.subject, m.rate, m.fraction));
        }
    }
    groups.sort_by_key(|g| (Subject::ALL.iter().position(|s| *s == g.0), g.1));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| server | rate (DORA/s) | exchange | p50 ms | p99 ms | p99.9 ms | max ms | lost | runs |"
    );
    let _ = writeln!(out, "|---|---:|---|---:|---:|---:|---:|---:|---:|");
    for (subject, rate, fraction) in groups {
        let these: Vec<&Measurement> = runs
            .iter()
            .filter(|m| m.subject == subject && m.rate == rate)
            .collect();
        let rate_cell = match fraction {
            Some(f) => format!("{rate} ({:.0} %)", f * 100.0),
            None => rate.to_string(),
        };
        for (name, pick) in [
            (
                "DISCOVER→OFFER",
                (|m: &Measurement| m.offer) as fn(&Measurement) -> Percentiles,
            ),
            ("REQUEST→ACK", |m: &Measurement| m.ack),
        ] {
            let p: Vec<Percentiles> = these.iter().map(|m| pick(m)).collect();
            let col = |f: fn(&Percentiles) -> u64| spread_cell(p.iter().map(f).collect());
            let (lost, sent) = p.iter().fold((0, 0), |(l, s), x| (l + x.lost, s + x.sent));
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} / {} | {} |",
                subject.name(),
                rate_cell,
                name,
                col(|x| x.p50),
                col(|x| x.p99),
                col(|x| x.p999),
                col(|x| x.max),
                lost,
                sent,
                p.len()
            );
        }
    }
    out
}

/// Whether the median over repeats of `subject`'s p99 REQUEST→ACK at
/// `rate` is at most `limit`; `None` when no run matches.
pub fn p99_ack_within(
    runs: &[Measurement],
    subject: Subject,
    rate: u32,
    limit: Duration,
) -> Option<(bool, u64)> {
    let v = runs
        .iter()
        .filter(|m| m.subject == subject && m.rate == rate)
        .map(|m| m.ack.p99)
        .collect();
    let (median, _, _) = spread(v)?;
    Some((u128::from(median) <= limit.as_nanos(), median))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake(subject: Subject, rate: u32, repeat: u32, p99_us: u64, lost: u64) -> Measurement {
        let p = Percentiles {
            sent: 1000,
            answered: 1000 - lost,
            lost,
            p50: 100_000,
            p99: p99_us * 1000,
            p999: 2 * p99_us * 1000,
            max: 5_000_000,
        };
        Measurement {
            subject,
            rate,
            fraction: Some(0.5),
            repeat,
            offer: p,
            ack: p,
            naks: 0,
            sent_rate: f64::from(rate),
            send_lag_p99: 0,
            send_lag_max: 0,
            stray: 0,
            client_cpu: 0.1,
            server_cpu: 0.2,
        }
    }

    #[test]
    fn spread_is_median_min_max() {
        assert_eq!(spread(vec![3, 1, 2]), Some((2, 1, 3)));
        assert_eq!(spread(vec![4, 1, 2, 3]), Some((2, 1, 4)));
        assert_eq!(spread(vec![]), None);
    }

    #[test]
    fn table_has_a_row_per_direction_with_the_spread() {
        let runs = [
            fake(Subject::Ours, 1000, 0, 900, 0),
            fake(Subject::Ours, 1000, 1, 1100, 2),
            fake(Subject::Ours, 1000, 2, 1000, 0),
        ];
        let t = markdown(&runs);
        assert_eq!(t.lines().count(), 4);
        assert!(t.contains("| ours | 1000 (50 %) | REQUEST→ACK | 0.100 | 1.000 (0.900–1.100) |"));
        assert!(t.contains("| 2 / 3000 | 3 |"));
        let ok = p99_ack_within(&runs, Subject::Ours, 1000, Duration::from_millis(3));
        assert_eq!(ok, Some((true, 1_000_000)));
        assert_eq!(
            p99_ack_within(&runs, Subject::Isc, 1000, Duration::from_millis(3)),
            None
        );
    }

    #[test]
    fn empty_histograms_give_zeros() {
        let d = Direction {
            histogram: crate::load::latency::client::latency_histogram().unwrap(),
            sent: 5,
            answered: 0,
            naks: 0,
        };
        let p = Percentiles::of(&d);
        assert_eq!((p.lost, p.p50, p.max), (5, 0, 0));
    }
}
