//! The latency benchmark (binary `dora-latency`): perfdhcp reports only
//! mean delays, so this load client of our own records every exchange's
//! latency in an HDR histogram and reports DISCOVER→OFFER and
//! REQUEST→ACK at p50, p99, p99.9 and the highest, in the same lab as
//! `loadbench` ([`lab`](crate::load::lab)) against the same servers
//! ([`servers`](crate::load::servers)).
//!
//! * [`packets`]: the DISCOVER and REQUEST sent, the replies read.
//! * [`client`]: the paced, open-loop client and its measurements.
//! * [`report`]: percentiles, the spread over repeats, the table.
//! * [`schedule`]: the runs' schedule and the ceiling's measurement.

pub mod client;
pub mod packets;
pub mod report;
pub mod schedule;
