//! A fixed-bucket histogram on relaxed atomics, cheap enough for the
//! per-packet path (one bucket search over a handful of bounds and three
//! atomic adds). The exporter reads it at scrape time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in microseconds (100 µs … 2.5 s).
pub const LATENCY_BOUNDS_MICROS: [u64; 14] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000,
];

/// Upper bounds of the batch-size buckets (records per store commit).
pub const BATCH_BOUNDS: [u64; 11] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/// A histogram of integer observations with fixed upper bounds.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [u64],
    /// Units per exported unit (1e6 for microseconds exported as seconds).
    per_unit: f64,
    /// Per bucket (not cumulative), plus one for `+Inf`.
    counts: Vec<AtomicU64>,
    sum: AtomicU64,
}

/// A consistent-enough copy of a histogram for exporting.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramSnapshot {
    /// Sum of the observations, in exported units.
    pub sum: f64,
    /// Number of observations.
    pub count: u64,
    /// `(upper bound, count in this bucket)`, ending with `+Inf`; not
    /// cumulative (the `prometheus-client` encoder accumulates them).
    pub buckets: Vec<(f64, u64)>,
}

impl Histogram {
    /// A histogram with `bounds` (ascending), exporting `value / per_unit`.
    pub fn new(bounds: &'static [u64], per_unit: f64) -> Self {
        Self {
            bounds,
            per_unit,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0),
        }
    }

    /// A latency histogram (observations in microseconds, exported in seconds).
    pub fn latency() -> Self {
        Self::new(&LATENCY_BOUNDS_MICROS, 1e6)
    }

    /// A size histogram (plain counts).
    pub fn sizes() -> Self {
        Self::new(&BATCH_BOUNDS, 1.0)
    }

    /// Records one observation.
    pub fn observe(&self, v: u64) {
        let i = self.bounds.partition_point(|b| *b < v);
        if let Some(c) = self.counts.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        self.sum.fetch_add(v, Ordering::Relaxed);
    }

    /// Records a duration (for latency histograms).
    pub fn observe_duration(&self, d: Duration) {
        self.observe(u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    }

    /// Number of observations so far.
    pub fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// The buckets (per bucket, not cumulative), sum and count.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut buckets = Vec::with_capacity(self.counts.len());
        let mut total = 0u64;
        for (i, c) in self.counts.iter().enumerate() {
            let n = c.load(Ordering::Relaxed);
            total += n;
            let bound = self
                .bounds
                .get(i)
                .map_or(f64::INFINITY, |b| *b as f64 / self.per_unit);
            buckets.push((bound, n));
        }
        HistogramSnapshot {
            sum: self.sum.load(Ordering::Relaxed) as f64 / self.per_unit,
            count: total,
            buckets,
        }
    }
}

/// The daemon's timing and size histograms.
#[derive(Debug)]
pub struct Timings {
    /// From a request's arrival to its reply leaving (replies actually sent).
    pub reply_latency: Histogram,
    /// Duration of each store commit (write and flush).
    pub commit_latency: Histogram,
    /// Lease records per store commit.
    pub commit_batch: Histogram,
}

impl Default for Timings {
    fn default() -> Self {
        Self {
            reply_latency: Histogram::latency(),
            commit_latency: Histogram::latency(),
            commit_batch: Histogram::sizes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_inclusive_upper_bounds() {
        let h = Histogram::latency();
        h.observe(100); // le 0.0001
        h.observe(101); // le 0.00025
        h.observe(10_000_000); // +Inf
        h.observe_duration(Duration::from_millis(1)); // le 0.001
        let s = h.snapshot();
        assert_eq!(s.count, 4);
        assert_eq!(s.buckets[0], (0.0001, 1));
        assert_eq!(s.buckets[1].1, 1);
        assert_eq!(s.buckets[3].1, 1);
        assert_eq!(s.buckets.last().unwrap(), &(f64::INFINITY, 1));
        assert!((s.sum - 10.001201).abs() < 1e-9, "{}", s.sum);
        let b = Histogram::sizes();
        b.observe(3);
        assert_eq!(b.snapshot().buckets[2], (4.0, 1));
    }
}
