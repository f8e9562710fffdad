//! The differential conformance suite (issue 17): scripted client and relay
//! exchanges, each run against ours, ISC dhcpd 4.4 and Kea 2.2 in the same
//! lab (one server at a time, each from an equivalent hand-written config
//! in `testbed/fixtures/conformance/`), the replies compared field by field.
//!
//! * [`packet`]: requests described by field, raw options and quirks.
//! * [`scenario`]: a scenario (name, RFC clause, steps with expectations).
//! * [`catalog`]: the scenarios.
//! * [`driver`]: runs a scenario in the lab and records each reply.
//! * [`servers`]: starts each server from its fixture.
//! * [`compare`]: field-by-field comparison with pool addresses normalised.
//! * [`documented`]: the differences we keep, with their clause.
//! * [`report`]: the agreement counts, the verdict and the table.

pub mod catalog;
pub mod compare;
pub mod documented;
pub mod driver;
pub mod packet;
pub mod report;
pub mod scenario;
pub mod servers;
