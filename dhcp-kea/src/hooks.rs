//! `hooks-libraries` (run_script, lease_cmds, host_cmds, and the HA hook
//! mapped onto an ISC failover relationship), `control-socket` and
//! `loggers`.

use std::net::Ipv4Addr;

use dhcp_core::config::{FailoverConfig, Role};
use serde::de::DeserializeOwned;

use crate::convert::Converter;
use crate::error::{R, at};
use crate::extras::{ControlSocketConfig, HaNames, RunScript};
use crate::schema::{ControlSocket, HaParams, HaPeer, HookLibrary, Logger, RunScriptParams};

/// The failover port our pair uses (ISC's, 647): Kea's peer URLs name its
/// HTTP control port, which is not what our peers speak.
pub const HA_FAILOVER_PORT: u16 = 647;
/// MCLT given to the primary of a relationship converted from Kea HA.
pub const HA_MCLT: u32 = 3600;
/// What the converted HA relationship says about Kea peers.
pub const HA_NOTE: &str = "high-availability: mapped onto ISC failover between two of these servers; a real Kea peer speaks Kea's HA protocol (HTTP lease updates), which this server does not: both peers must run this server";

/// The libraries this reader accepts, by file name.
const LIBRARIES: &[&str] = &[
    "libdhcp_run_script.so",
    "libdhcp_lease_cmds.so",
    "libdhcp_host_cmds.so",
    "libdhcp_ha.so",
];

fn params<T: DeserializeOwned>(lib: &HookLibrary, path: &str) -> R<T> {
    let v = lib.parameters.clone().unwrap_or(serde_json::Value::Null);
    serde_path_to_error::deserialize(v).map_err(|e| {
        let sub = crate::error::json_path(e.path());
        let inner = e.into_inner().to_string();
        crate::error::serde_message(&format!("{path}/parameters{sub}"), &inner)
    })
}

impl Converter {
    pub(crate) fn hooks(&mut self, libs: &[HookLibrary]) -> R<()> {
        for (i, lib) in libs.iter().enumerate() {
            let path = format!("Dhcp4/hooks-libraries[{i}]");
            let file = lib.library.rsplit('/').next().unwrap_or(&lib.library);
            match file {
                "libdhcp_run_script.so" => {
                    if self.extras.run_script.is_some() {
                        return at(
                            format!("{path}/library"),
                            "libdhcp_run_script.so is loaded twice",
                        );
                    }
                    let p: RunScriptParams = params(lib, &path)?;
                    self.extras.run_script = Some(RunScript {
                        name: p.name,
                        sync: p.sync,
                    });
                }
                "libdhcp_lease_cmds.so" | "libdhcp_host_cmds.so" => {
                    if lib.parameters.as_ref().is_some_and(|v| !v.is_null()) {
                        return at(
                            format!("{path}/parameters"),
                            format!("{file} takes no parameters"),
                        );
                    }
                    self.extras.hooks.push(file.to_owned());
                }
                "libdhcp_ha.so" => {
                    let p: HaParams = params(lib, &path)?;
                    self.ha(&p, &format!("{path}/parameters/high-availability"))?;
                    self.extras.hooks.push(file.to_owned());
                }
                other => {
                    return at(
                        format!("{path}/library"),
                        format!(
                            "hook library {other:?} is not supported (supported: {})",
                            LIBRARIES.join(", ")
                        ),
                    );
                }
            }
        }
        Ok(())
    }

    fn ha(&mut self, p: &HaParams, path: &str) -> R<()> {
        let [rel] = p.high_availability.as_slice() else {
            return at(
                path,
                "exactly one high-availability relationship is supported",
            );
        };
        let path = format!("{path}[0]");
        let (split, second_role) = match rel.mode.as_str() {
            "load-balancing" => (128, "secondary"),
            "hot-standby" => (255, "standby"),
            m => {
                return at(
                    format!("{path}/mode"),
                    format!("mode {m:?} is not supported (load-balancing or hot-standby)"),
                );
            }
        };
        let mut primary = None;
        let mut secondary = None;
        for (i, peer) in rel.peers.iter().enumerate() {
            let pp = format!("{path}/peers[{i}]");
            let slot = match peer.role.as_str() {
                "primary" => &mut primary,
                r if r == second_role => &mut secondary,
                r => {
                    return at(
                        format!("{pp}/role"),
                        format!(
                            "role {r:?} is not supported in {} mode (primary and {second_role})",
                            rel.mode
                        ),
                    );
                }
            };
            if slot.is_some() {
                return at(format!("{pp}/role"), format!("a second {} peer", peer.role));
            }
            *slot = Some((peer, url_host(peer, &pp)?));
        }
        let (Some((pri, pri_addr)), Some((sec, sec_addr))) = (primary, secondary) else {
            return at(
                format!("{path}/peers"),
                format!("the peers must be one primary and one {second_role}"),
            );
        };
        let (role, address, peer_address) = if rel.this_server_name == pri.name {
            (Role::Primary, pri_addr, sec_addr)
        } else if rel.this_server_name == sec.name {
            (Role::Secondary, sec_addr, pri_addr)
        } else {
            return at(
                format!("{path}/this-server-name"),
                format!("{:?} is not one of the peers", rel.this_server_name),
            );
        };
        let primary_side = role == Role::Primary;
        let (this, partner) = if primary_side { (pri, sec) } else { (sec, pri) };
        self.extras.ha = Some(HaNames {
            mode: rel.mode.clone(),
            this_server: this.name.clone(),
            this_role: this.role.clone(),
            partner_server: partner.name.clone(),
            partner_role: partner.role.clone(),
            relationship: pri.name.clone(),
        });
        let delay_ms = rel.max_response_delay.unwrap_or(60_000);
        let fo = FailoverConfig {
            name: pri.name.clone(),
            role,
            address,
            port: HA_FAILOVER_PORT,
            peer_address,
            peer_port: HA_FAILOVER_PORT,
            max_response_delay: delay_ms.div_ceil(1000).max(1),
            max_unacked_updates: 100,
            mclt: primary_side.then_some(HA_MCLT),
            split: primary_side.then_some(split),
            hba: None,
            load_balance_max_seconds: 3,
            auto_partner_down: 0,
            max_lease_misbalance: 15,
            max_lease_ownership: 10,
            min_balance: 60,
            max_balance: 3600,
            fencing: None,
        };
        for net in &mut self.cfg.shared_networks {
            for s in &mut net.subnets {
                s.pools
                    .iter_mut()
                    .for_each(|p| p.failover_peer = Some(fo.name.clone()));
            }
        }
        for s in &mut self.cfg.subnets {
            s.pools
                .iter_mut()
                .for_each(|p| p.failover_peer = Some(fo.name.clone()));
        }
        self.paths.push(("failover[0]".to_owned(), path.clone()));
        self.cfg.failover.push(fo);
        self.extras.acknowledged.push(HA_NOTE.to_owned());
        Ok(())
    }

    pub(crate) fn control_socket(&mut self, c: &ControlSocket) -> R<()> {
        if c.socket_type != "unix" {
            return at(
                "Dhcp4/control-socket/socket-type",
                format!("socket type {:?} is not supported (unix)", c.socket_type),
            );
        }
        self.extras.control_socket = Some(ControlSocketConfig {
            socket_name: c.socket_name.clone(),
        });
        Ok(())
    }

    pub(crate) fn loggers(&mut self, loggers: &[Logger]) -> R<()> {
        for (i, l) in loggers.iter().enumerate() {
            let path = format!("Dhcp4/loggers[{i}]");
            let level = match l.severity.as_deref().unwrap_or("INFO") {
                "FATAL" | "ERROR" | "NONE" => "error",
                "WARN" => "warn",
                "INFO" => "info",
                "DEBUG" if l.debuglevel.unwrap_or(0) >= 50 => "trace",
                "DEBUG" => "debug",
                s => {
                    return at(
                        format!("{path}/severity"),
                        format!(
                            "severity {s:?} is not one of FATAL, ERROR, WARN, INFO, DEBUG, NONE"
                        ),
                    );
                }
            };
            if l.name == "kea-dhcp4" {
                self.cfg.server.log_level = Some(level.to_owned());
            } else {
                self.extras.acknowledged.push(format!(
                    "logger {} ({level}): the server has one log level",
                    l.name
                ));
            }
            for o in &l.output_options {
                if o.output != "stderr" && o.output != "stdout" {
                    self.extras.acknowledged.push(format!(
                        "logger {} output {}: the server logs to stderr",
                        l.name, o.output
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The IPv4 address in an HA peer's URL (`http://10.0.0.1:8000/`).
fn url_host(peer: &HaPeer, path: &str) -> R<Ipv4Addr> {
    let rest = peer
        .url
        .strip_prefix("http://")
        .or_else(|| peer.url.strip_prefix("https://"));
    let host = rest.and_then(|r| r.split(['/', ':']).next()).unwrap_or("");
    host.parse().or_else(|_| {
        at(
            format!("{path}/url"),
            format!(
                "{:?}: the peer URL must name an IPv4 address (http://ADDRESS:PORT/)",
                peer.url
            ),
        )
    })
}
