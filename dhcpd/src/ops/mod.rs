//! Operations: what is started beside serving ([`start`]): the control socket
//! and its CLI client ([`control`]), the Prometheus exporter ([`metrics`]),
//! MAAS lease events ([`events`]), the ISC-format lease file ([`lease_file`]), ISC's OMAPI ([`omapi`]), reload ([`reload`], its outcome in
//! [`reload_status`]) and systemd notifications ([`systemd`]).

pub mod control;
pub mod events;
pub mod kea_control;
pub mod kea_script;
pub mod lease_file;
pub mod metrics;
pub mod omapi;
pub mod programs;
pub mod reload;
pub mod reload_status;
pub mod start;
pub mod systemd;
