//! From Kea's `Dhcp4` to the model: server settings, lease times, options,
//! shared networks, subnets, pools and reservations. Every key is mapped,
//! recorded in the extras, or refused with its JSON path.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use dhcp_core::config::{
    Config, CustomOption, HostConfig, LeaseTimes, OptionSet, OptionValue, PxeMatch, PxeRule,
    SharedNetworkConfig, SubnetConfig,
};
use ipnet::Ipv4Net;

use crate::classes::Classes;
use crate::error::{R, at};
use crate::extras::KeaExtras;
use crate::options::{Def, Names, Ty, option_set};
use crate::parts::{pool, relay_in, reservation};
use crate::schema::{Dhcp4, OptionDef, SharedNetwork, Subnet};

/// Kea's `valid-lifetime` when none is configured.
pub const KEA_DEFAULT_VALID_LIFETIME: u32 = 7200;
/// Kea's memfile path when `lease-database` names none.
pub const KEA_DEFAULT_LEASE_FILE: &str = "/var/lib/kea/kea-leases4.csv";

/// The scope's lease-time keys, for [`times`].
struct Times {
    valid: Option<u32>,
    min: Option<u32>,
    max: Option<u32>,
    renew: Option<u32>,
    rebind: Option<u32>,
}

/// Lease times: an unset bound at a scope that sets `valid-lifetime` is
/// that lifetime (Kea's bounds default to the lifetime).
fn lease_times(t: &Times) -> LeaseTimes {
    LeaseTimes {
        default: t.valid,
        min: t.min.or(t.valid),
        max: t.max.or(t.valid),
    }
}

/// `renew-timer` and `rebind-timer` as options 58 and 59.
fn timers(t: &Times, set: &mut OptionSet, path: &str) -> R<()> {
    for (code, v, key) in [
        (58u8, t.renew, "renew-timer"),
        (59, t.rebind, "rebind-timer"),
    ] {
        if let Some(v) = v {
            if set.custom.iter().any(|c| c.code == code) {
                return at(
                    format!("{path}/{key}"),
                    format!("{key} and option {code} are both given"),
                );
            }
            set.custom.push(CustomOption {
                code,
                value: OptionValue::U32(v),
            });
        }
    }
    Ok(())
}

pub(crate) struct Converter {
    pub cfg: Config,
    pub extras: KeaExtras,
    pub names: Names,
    /// Model key paths and the JSON path each came from.
    pub paths: Vec<(String, String)>,
    next_server: Option<Ipv4Addr>,
    match_client_id: Option<bool>,
}

impl Converter {
    pub(crate) fn new() -> Self {
        let mut cfg = Config::default();
        // Kea is not authoritative unless told so, and has no PXE lease class.
        cfg.server.authoritative = false;
        // Kea sends option 28 only when it is configured.
        cfg.server.derive_broadcast_address = false;
        // Kea sends configured T1/T2 whether or not they are asked for.
        cfg.server.always_send_timers = true;
        cfg.pxe.pxe_lease_time = 0;
        cfg.lease_time = LeaseTimes {
            default: Some(KEA_DEFAULT_VALID_LIFETIME),
            min: None,
            max: None,
        };
        cfg.server.store = PathBuf::from(format!("{KEA_DEFAULT_LEASE_FILE}.store"));
        Self {
            cfg,
            extras: KeaExtras::default(),
            names: Names::default(),
            paths: Vec::new(),
            next_server: None,
            match_client_id: None,
        }
    }

    fn ack(&mut self, note: impl Into<String>) {
        self.extras.acknowledged.push(note.into());
    }

    pub(crate) fn dhcp4(&mut self, d: &Dhcp4) -> R<()> {
        let p = "Dhcp4";
        if let Some(ic) = &d.interfaces_config {
            self.interfaces(ic)?;
        }
        if let Some(db) = &d.lease_database {
            if db.kind != "memfile" {
                return at(
                    format!("{p}/lease-database/type"),
                    format!(
                        "lease database type {:?} is not supported: only memfile (this server keeps its own store beside the memfile path)",
                        db.kind
                    ),
                );
            }
            let file = db
                .name
                .clone()
                .unwrap_or_else(|| KEA_DEFAULT_LEASE_FILE.to_owned());
            self.cfg.server.store = PathBuf::from(format!("{file}.store"));
            self.extras.lease_file = Some(file);
            if db.persist == Some(false) {
                self.ack("lease-database persist false: this server's store always persists");
            }
            if let Some(i) = db.lfc_interval {
                self.ack(format!(
                    "lease-database lfc-interval {i}: the store compacts itself"
                ));
            }
        }
        if d.hosts_database.is_some() || d.hosts_databases.is_some() {
            let key = if d.hosts_database.is_some() {
                "hosts-database"
            } else {
                "hosts-databases"
            };
            return at(
                format!("{p}/{key}"),
                "host databases are not supported: write reservations in the file",
            );
        }
        let times = Times {
            valid: d.valid_lifetime,
            min: d.min_valid_lifetime,
            max: d.max_valid_lifetime,
            renew: d.renew_timer,
            rebind: d.rebind_timer,
        };
        let mut global = lease_times(&times);
        global.default = global.default.or(Some(KEA_DEFAULT_VALID_LIFETIME));
        global.min = global.min.or(global.default);
        global.max = global.max.or(global.default);
        self.cfg.lease_time = global;
        if d.calculate_tee_times == Some(true) {
            return at(
                format!("{p}/calculate-tee-times"),
                "calculated T1/T2 are not supported: give renew-timer and rebind-timer",
            );
        }
        if d.t1_percent.is_some() || d.t2_percent.is_some() {
            self.ack("t1-percent/t2-percent: used by Kea only with calculate-tee-times");
        }
        if let Some(a) = d.authoritative {
            self.cfg.server.authoritative = a;
        }
        if let Some(m) = d.match_client_id {
            self.cfg.server.ignore_client_uids = !m;
        }
        if let Some(e) = d.echo_client_id {
            self.cfg.server.echo_client_id = e;
        }
        if let Some(n) = d.decline_probation_period {
            self.cfg.server.abandon_time = n;
        }
        if d.server_hostname.is_some() {
            return at(
                format!("{p}/server-hostname"),
                "server-hostname (sname) is not supported",
            );
        }
        self.next_server = d.next_server;
        for (i, def) in d.option_def.iter().enumerate() {
            self.option_def(def, &format!("{p}/option-def[{i}]"))?;
        }
        let (mut options, always) = option_set(&self.names, &d.option_data, p)?;
        self.note_always(&always, p);
        timers(&times, &mut options, p)?;
        self.cfg.options = options;
        let mut classes = Classes::default();
        for (i, c) in d.client_classes.iter().enumerate() {
            classes.add(&self.names, c, &format!("{p}/client-classes[{i}]"))?;
        }
        if let Some(file) = &d.boot_file_name {
            classes.rules.push(PxeRule {
                name: "boot-file-name".to_owned(),
                matches: PxeMatch {
                    any: true,
                    ..PxeMatch::default()
                },
                filename: Some(file.clone()),
                path_prefix: None,
                vendor_class: None,
                force_options: Vec::new(),
                vendor_options: Vec::new(),
            });
        }
        self.cfg.classes = classes.classes;
        let pxe = !classes.rules.is_empty();
        self.cfg.pxe.rules = classes.rules;
        if let Some(ids) = &d.host_reservation_identifiers {
            for (i, id) in ids.iter().enumerate() {
                if id != "hw-address" && id != "client-id" {
                    return at(
                        format!("{p}/host-reservation-identifiers[{i}]"),
                        format!(
                            "reservations by {id} are not supported (only hw-address and client-id)"
                        ),
                    );
                }
            }
        }
        self.flags(
            p,
            d.reservations_global,
            d.reservations_in_subnet,
            d.reservations_out_of_pool,
        );
        self.match_client_id = d.match_client_id;
        for (i, n) in d.shared_networks.iter().enumerate() {
            self.shared_network(n, &format!("{p}/shared-networks[{i}]"), pxe)?;
        }
        for (i, s) in d.subnet4.iter().enumerate() {
            let sp = format!("{p}/subnet4[{i}]");
            let model = format!("subnets[{}]", self.cfg.subnets.len());
            let (subnet, hosts) = self.subnet(s, &sp, &model, pxe, self.next_server, None)?;
            self.cfg.subnets.push(subnet);
            self.add_hosts(hosts);
        }
        let mut hosts = Vec::new();
        for (i, r) in d.reservations.iter().enumerate() {
            let rp = format!("{p}/reservations[{i}]");
            let (h, always) = reservation(&self.names, r, &rp, "global")?;
            self.note_always(&always, &rp);
            hosts.push((h, rp));
        }
        self.add_hosts(hosts);
        if let Some(v) = &d.dhcp_ddns
            && v.get("enable-updates").and_then(serde_json::Value::as_bool) == Some(true)
        {
            return at(
                format!("{p}/dhcp-ddns/enable-updates"),
                "DNS updates are not supported",
            );
        }
        if d.expired_leases_processing.is_some() {
            self.ack("expired-leases-processing: the server expires leases on its own schedule");
        }
        if d.sanity_checks.is_some() {
            self.ack("sanity-checks: the store checks leases on load");
        }
        Ok(())
    }

    fn note_always(&mut self, codes: &[u8], path: &str) {
        for c in codes {
            self.ack(format!(
                "{path}: always-send for option {c}: configured options go to clients that request them (boot classes excepted)"
            ));
        }
    }

    fn flags(&mut self, p: &str, global: Option<bool>, subnet: Option<bool>, out: Option<bool>) {
        for (k, v) in [
            ("reservations-global", global),
            ("reservations-in-subnet", subnet),
            ("reservations-out-of-pool", out),
        ] {
            if let Some(v) = v {
                self.ack(format!(
                    "{p}/{k} {v}: reservations are always looked up, wherever they are"
                ));
            }
        }
    }

    fn interfaces(&mut self, ic: &crate::schema::InterfacesConfig) -> R<()> {
        for (i, name) in ic.interfaces.iter().enumerate() {
            let iface = name.split('/').next().unwrap_or(name);
            if iface == "*" {
                return at(
                    format!("Dhcp4/interfaces-config/interfaces[{i}]"),
                    "\"*\" (every interface) is not supported: name the interfaces to serve",
                );
            }
            if self.cfg.server.interfaces.iter().any(|x| x == iface) {
                return at(
                    format!("Dhcp4/interfaces-config/interfaces[{i}]"),
                    format!("interface {iface:?} is given twice (as Kea refuses it)"),
                );
            }
            self.cfg.server.interfaces.push(iface.to_owned());
        }
        if let Some(t) = &ic.dhcp_socket_type {
            if t != "raw" && t != "udp" {
                return at(
                    "Dhcp4/interfaces-config/dhcp-socket-type",
                    format!("{t:?} is neither raw nor udp"),
                );
            }
            self.ack(format!(
                "dhcp-socket-type {t}: the server picks its own sockets"
            ));
        }
        Ok(())
    }

    fn option_def(&mut self, d: &OptionDef, path: &str) -> R<()> {
        if d.space.as_deref().is_some_and(|s| s != "dhcp4") {
            return at(
                format!("{path}/space"),
                "option definitions are supported only in the dhcp4 space",
            );
        }
        if !d.encapsulate.is_empty() || !d.record_types.is_empty() {
            let key = if d.encapsulate.is_empty() {
                "record-types"
            } else {
                "encapsulate"
            };
            return at(
                format!("{path}/{key}"),
                "encapsulated and record options are not supported",
            );
        }
        let Some(ty) = Ty::from_kea(&d.kind) else {
            return at(
                format!("{path}/type"),
                format!("option type {:?} is not supported", d.kind),
            );
        };
        let Ok(code) = u8::try_from(d.code) else {
            return at(
                format!("{path}/code"),
                format!("option code {} is over 255", d.code),
            );
        };
        if code == 0 || code == 255 {
            return at(format!("{path}/code"), "codes 0 and 255 are not options");
        }
        if self.names.by_name(&d.name).is_some() {
            return at(
                format!("{path}/name"),
                format!("option {:?} is already defined", d.name),
            );
        }
        self.names.defined.push(Def {
            name: d.name.clone(),
            code,
            ty,
            array: d.array,
        });
        self.extras.option_definitions.push(format!(
            "option-def {} code {code} type {}{}",
            d.name,
            d.kind,
            if d.array { " array" } else { "" }
        ));
        Ok(())
    }

    fn add_hosts(&mut self, hosts: Vec<(HostConfig, String)>) {
        for (h, p) in hosts {
            self.paths
                .push((format!("hosts[{}]", self.cfg.hosts.len()), p));
            self.cfg.hosts.push(h);
        }
    }

    fn shared_network(&mut self, n: &SharedNetwork, path: &str, pxe: bool) -> R<()> {
        if n.client_class.is_some() {
            return at(
                format!("{path}/client-class"),
                "networks restricted to a class cannot be expressed: the model's networks serve every client",
            );
        }
        if n.boot_file_name.is_some() {
            return at(
                format!("{path}/boot-file-name"),
                "boot-file-name in a shared network cannot be expressed: boot files go in client classes and reservations",
            );
        }
        if n.server_hostname.is_some() {
            return at(
                format!("{path}/server-hostname"),
                "server-hostname (sname) is not supported",
            );
        }
        self.authoritative(n.authoritative, path)?;
        self.flags(
            path,
            n.reservations_global,
            n.reservations_in_subnet,
            n.reservations_out_of_pool,
        );
        let times = Times {
            valid: n.valid_lifetime,
            min: n.min_valid_lifetime,
            max: n.max_valid_lifetime,
            renew: n.renew_timer,
            rebind: n.rebind_timer,
        };
        let (mut options, always) = option_set(&self.names, &n.option_data, path)?;
        self.note_always(&always, path);
        timers(&times, &mut options, path)?;
        let ni = self.cfg.shared_networks.len();
        self.paths
            .push((format!("shared_networks[{ni}]"), path.to_owned()));
        let next = n.next_server.or(self.next_server);
        let mut subnets = Vec::new();
        for (i, s) in n.subnet4.iter().enumerate() {
            let sp = format!("{path}/subnet4[{i}]");
            let model = format!("shared_networks[{ni}].subnets[{i}]");
            let (subnet, hosts) = self.subnet(s, &sp, &model, pxe, next, n.match_client_id)?;
            subnets.push(subnet);
            self.add_hosts(hosts);
        }
        if let Some(r) = &n.relay {
            relay_in(
                r,
                &subnets.iter().map(|s| s.subnet).collect::<Vec<_>>(),
                &format!("{path}/relay"),
            )?;
        }
        self.cfg.shared_networks.push(SharedNetworkConfig {
            name: n.name.clone(),
            interface: n.interface.clone(),
            lease_time: lease_times(&times),
            options,
            subnets,
        });
        Ok(())
    }

    fn authoritative(&self, a: Option<bool>, path: &str) -> R<()> {
        match a {
            Some(a) if a != self.cfg.server.authoritative => at(
                format!("{path}/authoritative"),
                "authoritative differs from the global setting: the model has one server-wide setting",
            ),
            _ => Ok(()),
        }
    }

    /// One `subnet4` entry; returns it with its reservations.
    fn subnet(
        &mut self,
        s: &Subnet,
        path: &str,
        model: &str,
        pxe: bool,
        next: Option<Ipv4Addr>,
        network_match_id: Option<bool>,
    ) -> R<(SubnetConfig, Vec<(HostConfig, String)>)> {
        self.paths.push((model.to_owned(), path.to_owned()));
        let net: Ipv4Net = match s.subnet.parse() {
            Ok(n) => n,
            Err(_) => {
                return at(
                    format!("{path}/subnet"),
                    format!("{:?} is not an IPv4 prefix such as 10.0.0.0/24", s.subnet),
                );
            }
        };
        if net.trunc() != net {
            return at(
                format!("{path}/subnet"),
                format!("{net} has host bits set (the network is {})", net.trunc()),
            );
        }
        if let Some(id) = s.id {
            if self.extras.subnet_ids.iter().any(|(i, _)| *i == id) {
                return at(
                    format!("{path}/id"),
                    format!("subnet id {id} is used twice"),
                );
            }
            self.extras.subnet_ids.push((id, net));
        }
        if s.client_class.is_some() {
            return at(
                format!("{path}/client-class"),
                "subnets restricted to a class cannot be expressed: the model's subnets serve every client",
            );
        }
        if s.boot_file_name.is_some() {
            return at(
                format!("{path}/boot-file-name"),
                "boot-file-name in a subnet cannot be expressed: boot files go in client classes and reservations",
            );
        }
        if s.server_hostname.is_some() {
            return at(
                format!("{path}/server-hostname"),
                "server-hostname (sname) is not supported",
            );
        }
        self.authoritative(s.authoritative, path)?;
        self.flags(
            path,
            s.reservations_global,
            s.reservations_in_subnet,
            s.reservations_out_of_pool,
        );
        if let Some(r) = &s.relay {
            relay_in(r, &[net], &format!("{path}/relay"))?;
        }
        let times = Times {
            valid: s.valid_lifetime,
            min: s.min_valid_lifetime,
            max: s.max_valid_lifetime,
            renew: s.renew_timer,
            rebind: s.rebind_timer,
        };
        let (mut options, always) = option_set(&self.names, &s.option_data, path)?;
        self.note_always(&always, path);
        timers(&times, &mut options, path)?;
        let mut pools = Vec::new();
        for (i, p) in s.pools.iter().enumerate() {
            let pp = format!("{path}/pools[{i}]");
            self.paths.push((format!("{model}.pools[{i}]"), pp.clone()));
            pools.push(pool(p, &pp)?);
        }
        let label =
            s.id.map_or_else(|| net.to_string(), |id| format!("subnet{id}"));
        let mut hosts = Vec::new();
        for (i, r) in s.reservations.iter().enumerate() {
            let rp = format!("{path}/reservations[{i}]");
            let (h, always) = reservation(&self.names, r, &rp, &label)?;
            self.note_always(&always, &rp);
            hosts.push((h, rp));
        }
        let ignore = s.match_client_id.or(network_match_id).map(|m| !m);
        Ok((
            SubnetConfig {
                subnet: net,
                interface: s.interface.clone(),
                next_server: s.next_server.or(next),
                ignore_client_uids: ignore,
                lease_time: lease_times(&times),
                options,
                pxe,
                abandon_time: None,
                pools,
            },
            hosts,
        ))
    }
}
