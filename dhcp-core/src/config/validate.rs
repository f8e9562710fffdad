//! Semantic checks of a parsed [`Config`]. Each failure names the key path.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

use super::options::{RESERVED_CODES, TIMER_CODES};
use super::{
    Config, ConfigError, FailoverConfig, FencingConfig, LeaseTimes, LimitsConfig, OptionSet,
    OptionValue, Role,
};

type Result = std::result::Result<(), ConfigError>;

/// Accepted values of `server.log_level`.
const LOG_LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];

pub(super) fn validate(cfg: &Config) -> Result {
    lease_times(&cfg.lease_time, "lease_time")?;
    options(&cfg.options, "options")?;
    if cfg.server.offer_hold == 0 {
        return Err(ConfigError::invalid(
            "server.offer_hold",
            "must be at least 1 second",
        ));
    }
    for (i, name) in cfg.server.interfaces.iter().enumerate() {
        if name.is_empty() || name.len() > 15 {
            return Err(ConfigError::invalid(
                format!("server.interfaces[{i}]"),
                "interface names are 1 to 15 characters",
            ));
        }
    }
    if let Some(level) = &cfg.server.log_level
        && !LOG_LEVELS.contains(&level.as_str())
    {
        return Err(ConfigError::invalid(
            "server.log_level",
            format!("{level:?} is not one of {}", LOG_LEVELS.join(", ")),
        ));
    }
    classes(cfg)?;
    networks(cfg)?;
    hosts(cfg)?;
    pxe(cfg)?;
    failover(cfg)?;
    limits(&cfg.limits)?;
    Ok(())
}

fn lease_times(t: &LeaseTimes, path: &str) -> Result {
    if let (Some(min), Some(max)) = (t.min, t.max)
        && min > max
    {
        return Err(ConfigError::invalid(
            path,
            format!("min ({min}) exceeds max ({max})"),
        ));
    }
    if let (Some(d), Some(max)) = (t.default, t.max)
        && d > max
    {
        return Err(ConfigError::invalid(
            path,
            format!("default ({d}) exceeds max ({max})"),
        ));
    }
    if let (Some(d), Some(min)) = (t.default, t.min)
        && d < min
    {
        return Err(ConfigError::invalid(
            path,
            format!("default ({d}) is below min ({min})"),
        ));
    }
    if t.default == Some(0) || t.max == Some(0) {
        return Err(ConfigError::invalid(
            path,
            "lease times must be at least 1 second",
        ));
    }
    Ok(())
}

fn options(o: &OptionSet, path: &str) -> Result {
    if let Some(mtu) = o.mtu
        && mtu < 68
    {
        return Err(ConfigError::invalid(
            format!("{path}.mtu"),
            "the minimum MTU is 68",
        ));
    }
    if let Some(name) = &o.domain_name
        && (name.is_empty() || name.len() > 255)
    {
        return Err(ConfigError::invalid(
            format!("{path}.domain_name"),
            "1 to 255 characters",
        ));
    }
    for (key, list) in [
        ("routers", &o.routers),
        ("dns_servers", &o.dns_servers),
        ("ntp_servers", &o.ntp_servers),
    ] {
        if let Some(l) = list
            && (l.is_empty() || l.len() > 63)
        {
            return Err(ConfigError::invalid(
                format!("{path}.{key}"),
                "give 1 to 63 addresses (or leave the key out)",
            ));
        }
    }
    let mut seen = HashSet::new();
    for (i, c) in o.custom.iter().enumerate() {
        let p = format!("{path}.custom[{i}]");
        if RESERVED_CODES.contains(&c.code) {
            return Err(ConfigError::invalid(
                p,
                format!(
                    "option {} is set by the server itself and cannot be configured",
                    c.code
                ),
            ));
        }
        if !seen.insert(c.code) {
            return Err(ConfigError::invalid(
                p,
                format!("option {} given twice", c.code),
            ));
        }
        if TIMER_CODES.contains(&c.code) && !matches!(c.value, OptionValue::U32(_)) {
            return Err(ConfigError::invalid(
                p,
                format!("option {} (T1/T2) takes a u32 number of seconds", c.code),
            ));
        }
        match c.value.to_bytes() {
            None if matches!(c.value, OptionValue::Routes(_)) => {
                return Err(ConfigError::invalid(
                    p,
                    "routes are \"DEST/WIDTH via ROUTER\" with the host bits of DEST zero",
                ));
            }
            None => return Err(ConfigError::invalid(p, "value is not valid hex bytes")),
            Some(b) if b.len() > 1020 => {
                return Err(ConfigError::invalid(p, "value longer than 1020 bytes"));
            }
            Some(b) => super::rfc2132::check(c.code, &b).map_err(|r| ConfigError::invalid(p, r))?,
        }
    }
    Ok(())
}

fn classes(cfg: &Config) -> Result {
    let mut names = HashSet::new();
    for (i, c) in cfg.classes.iter().enumerate() {
        let p = format!("classes[{i}]");
        if !names.insert(c.name.as_str()) {
            return Err(ConfigError::invalid(
                p,
                format!("duplicate class name {:?}", c.name),
            ));
        }
        if c.vendor_class_prefix.is_none() && c.user_class.is_none() {
            return Err(ConfigError::invalid(
                p,
                "a class needs vendor_class_prefix or user_class to match on",
            ));
        }
        lease_times(&c.lease_time, &format!("{p}.lease_time"))?;
        options(&c.options, &format!("{p}.options"))?;
    }
    Ok(())
}

fn networks(cfg: &Config) -> Result {
    let mut names = HashSet::new();
    for (i, n) in cfg.shared_networks.iter().enumerate() {
        let p = format!("shared_networks[{i}]");
        if !names.insert(n.name.as_str()) {
            return Err(ConfigError::invalid(
                p,
                format!("duplicate shared network {:?}", n.name),
            ));
        }
        if n.subnets.is_empty() {
            return Err(ConfigError::invalid(
                p,
                "a shared network needs at least one subnet",
            ));
        }
        lease_times(&n.lease_time, &format!("{p}.lease_time"))?;
        options(&n.options, &format!("{p}.options"))?;
        for (si, s) in n.subnets.iter().enumerate() {
            if s.interface.is_some() {
                return Err(ConfigError::invalid(
                    format!("{p}.subnets[{si}].interface"),
                    "set the interface on the shared network, not on its subnets",
                ));
            }
        }
    }
    let subnets = cfg.all_subnets();
    // Subnets must not overlap one another.
    for (a, sa) in subnets.iter().enumerate() {
        for sb in subnets.iter().skip(a + 1) {
            if sa.subnet.subnet.contains(&sb.subnet.subnet.network())
                || sb.subnet.subnet.contains(&sa.subnet.subnet.network())
            {
                return Err(ConfigError::invalid(
                    sb.path.clone(),
                    format!(
                        "subnet {} overlaps {} at {}",
                        sb.subnet.subnet, sa.subnet.subnet, sa.path
                    ),
                ));
            }
        }
    }
    let mut ranges: Vec<(u32, u32, String)> = Vec::new();
    for s in &subnets {
        let net = s.subnet.subnet;
        if net.prefix_len() > 30 {
            return Err(ConfigError::invalid(
                format!("{}.subnet", s.path),
                "prefixes longer than /30 leave no room for clients",
            ));
        }
        if net.network() != net.addr() {
            return Err(ConfigError::invalid(
                format!("{}.subnet", s.path),
                format!("{} has host bits set; did you mean {}?", net, net.trunc()),
            ));
        }
        lease_times(&s.subnet.lease_time, &format!("{}.lease_time", s.path))?;
        options(&s.subnet.options, &format!("{}.options", s.path))?;
        for (pi, pool) in s.subnet.pools.iter().enumerate() {
            let p = format!("{}.pools[{pi}]", s.path);
            if u32::from(pool.start) > u32::from(pool.end) {
                return Err(ConfigError::invalid(
                    p,
                    format!("start {} is after end {}", pool.start, pool.end),
                ));
            }
            for (key, addr) in [("start", pool.start), ("end", pool.end)] {
                if !net.contains(&addr) {
                    return Err(ConfigError::invalid(
                        format!("{p}.{key}"),
                        format!("{addr} is outside subnet {net}"),
                    ));
                }
                if addr == net.network() || addr == net.broadcast() {
                    return Err(ConfigError::invalid(
                        format!("{p}.{key}"),
                        format!("{addr} is the network or broadcast address of {net}"),
                    ));
                }
            }
            if let Some(peer) = &pool.failover_peer
                && cfg.failover_peer(peer).is_none()
            {
                return Err(ConfigError::invalid(
                    format!("{p}.failover_peer"),
                    format!("no failover relationship named {peer:?}"),
                ));
            }
            let (lo, hi) = (u32::from(pool.start), u32::from(pool.end));
            if let Some((_, _, other)) = ranges.iter().find(|(a, b, _)| lo <= *b && *a <= hi) {
                return Err(ConfigError::invalid(
                    p,
                    format!("range overlaps the range at {other}"),
                ));
            }
            ranges.push((lo, hi, p));
        }
    }
    Ok(())
}

fn hosts(cfg: &Config) -> Result {
    let subnets = cfg.all_subnets();
    let mut names = HashSet::new();
    let mut macs = HashMap::new();
    let mut ids = HashMap::new();
    let mut addrs: HashMap<Ipv4Addr, usize> = HashMap::new();
    for (i, h) in cfg.hosts.iter().enumerate() {
        let p = format!("hosts[{i}]");
        if !names.insert(h.name.as_str()) {
            return Err(ConfigError::invalid(
                p,
                format!("duplicate host name {:?}", h.name),
            ));
        }
        if h.mac.is_none() && h.client_id.is_none() {
            return Err(ConfigError::invalid(p, "a host needs mac or client_id"));
        }
        if let Some(m) = &h.mac
            && let Some(j) = macs.insert(m.clone(), i)
        {
            return Err(ConfigError::invalid(
                format!("{p}.mac"),
                format!("MAC {m} is already reserved by hosts[{j}]"),
            ));
        }
        if let Some(id) = &h.client_id
            && let Some(j) = ids.insert(id.clone(), i)
        {
            return Err(ConfigError::invalid(
                format!("{p}.client_id"),
                format!("client id is already reserved by hosts[{j}]"),
            ));
        }
        if let Some(j) = addrs.insert(h.address, i) {
            return Err(ConfigError::invalid(
                format!("{p}.address"),
                format!("{} is already reserved by hosts[{j}]", h.address),
            ));
        }
        let Some(s) = subnets
            .iter()
            .find(|s| s.subnet.subnet.contains(&h.address))
        else {
            return Err(ConfigError::invalid(
                format!("{p}.address"),
                format!("{} is in no configured subnet", h.address),
            ));
        };
        if h.address == s.subnet.subnet.network() || h.address == s.subnet.subnet.broadcast() {
            return Err(ConfigError::invalid(
                format!("{p}.address"),
                "the network and broadcast addresses cannot be reserved",
            ));
        }
        if let Some((pi, _)) = s
            .subnet
            .pools
            .iter()
            .enumerate()
            .find(|(_, r)| r.contains(h.address))
        {
            return Err(ConfigError::invalid(
                format!("{p}.address"),
                format!(
                    "{} is inside the dynamic range {}.pools[{pi}]; reserve addresses outside dynamic ranges",
                    h.address, s.path
                ),
            ));
        }
        lease_times(&h.lease_time, &format!("{p}.lease_time"))?;
        options(&h.options, &format!("{p}.options"))?;
    }
    Ok(())
}

fn pxe(cfg: &Config) -> Result {
    for (i, r) in cfg.pxe.rules.iter().enumerate() {
        let p = format!("pxe.rules[{i}]");
        let m = &r.matches;
        if m.ipxe.is_none() && m.arch.is_none() && m.user_class.is_none() && !m.any {
            return Err(ConfigError::invalid(
                format!("{p}.match"),
                "give ipxe, arch, user_class or any = true",
            ));
        }
        if r.filename.is_none()
            && r.path_prefix.is_none()
            && r.vendor_class.is_none()
            && r.vendor_options.is_empty()
        {
            return Err(ConfigError::invalid(
                p,
                "a rule must set filename, path_prefix, vendor_class or vendor_options",
            ));
        }
        // The longest {server} (15 characters) must still fit one
        // enterprise's 255 bytes.
        let widest = |t: &str| t.replace("{server}", "255.255.255.255");
        let mut total = 0;
        for (j, v) in r.vendor_options.iter().enumerate() {
            let Some(bytes) = v.encode(widest) else {
                return Err(ConfigError::invalid(
                    format!("{p}.vendor_options[{j}]"),
                    "data is not valid hex, or this enterprise's part is over 255 bytes",
                ));
            };
            total += bytes.len();
        }
        if total > 1020 {
            return Err(ConfigError::invalid(
                format!("{p}.vendor_options"),
                "option 125 longer than 1020 bytes",
            ));
        }
        if let Some(f) = &r.filename
            && f.len() > 255
        {
            return Err(ConfigError::invalid(
                format!("{p}.filename"),
                "longer than 255 bytes",
            ));
        }
    }
    Ok(())
}

/// Every pool of one shared network is governed by the same failover
/// relationship, or none: the load balancing that decides whether to answer
/// a client is the relationship's, and a client may be given an address
/// from any pool on its link.
fn one_relationship_per_network(cfg: &Config) -> Result {
    let mut seen: Vec<(usize, Option<&str>, String)> = Vec::new();
    for s in cfg.all_subnets() {
        for (pi, pool) in s.subnet.pools.iter().enumerate() {
            let peer = pool.failover_peer.as_deref();
            let path = format!("{}.pools[{pi}]", s.path);
            match seen.iter().find(|(n, _, _)| *n == s.network_index) {
                None => seen.push((s.network_index, peer, path)),
                Some((_, first, first_path)) if *first != peer => {
                    let name = |p: Option<&str>| p.map_or("none".to_owned(), |p| format!("{p:?}"));
                    return Err(ConfigError::invalid(
                        format!("{path}.failover_peer"),
                        format!(
                            "{} differs from {} at {first_path}: the pools of one shared network \
                             must all name the same failover relationship, or none",
                            name(peer),
                            name(*first)
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// `[limits]`: percentages in range, a burst only with a rate, something set.
fn limits(l: &LimitsConfig) -> Result {
    for (name, l) in [
        ("per_relay", &l.per_relay),
        ("per_link", &l.per_link),
        ("per_mac", &l.per_mac),
    ] {
        let Some(l) = l else { continue };
        let p = format!("limits.{name}");
        if let Some(s) = l.max_share_percent
            && !(1..=100).contains(&s)
        {
            return Err(ConfigError::invalid(
                format!("{p}.max_share_percent"),
                "must be 1 to 100",
            ));
        }
        if l.burst.is_some() && l.new_per_second == 0 {
            return Err(ConfigError::invalid(
                format!("{p}.burst"),
                "a burst needs new_per_second",
            ));
        }
        if l.burst == Some(0) {
            return Err(ConfigError::invalid(
                format!("{p}.burst"),
                "must be at least 1",
            ));
        }
        if l.new_per_second == 0 && l.max_share_percent.is_none() {
            return Err(ConfigError::invalid(
                p,
                "set new_per_second, max_share_percent or both",
            ));
        }
    }
    Ok(())
}

/// `[failover.fencing]`: only with `auto_partner_down`, which must leave
/// room for at least two probes.
fn fencing(p: &str, f: &FailoverConfig, fence: &FencingConfig) -> Result {
    if f.auto_partner_down == 0 {
        return Err(ConfigError::invalid(
            format!("{p}.fencing"),
            "fencing guards the automatic partner-down: set auto_partner_down too",
        ));
    }
    if !(1..=60).contains(&fence.interval) {
        return Err(ConfigError::invalid(
            format!("{p}.fencing.interval"),
            "must be 1 to 60 seconds",
        ));
    }
    if f.auto_partner_down < 2 * fence.interval {
        return Err(ConfigError::invalid(
            format!("{p}.fencing.interval"),
            format!(
                "auto_partner_down ({} s) must allow at least two probes ({} s apart)",
                f.auto_partner_down, fence.interval
            ),
        ));
    }
    if let Some((from, to)) = f.fencing_probe()
        && (from == to || from.is_unspecified() || to.is_unspecified() || to.is_broadcast())
    {
        return Err(ConfigError::invalid(
            format!("{p}.fencing"),
            format!(
                "probe_from ({from}) and probe_to ({to}) must be two different unicast addresses"
            ),
        ));
    }
    Ok(())
}

fn failover(cfg: &Config) -> Result {
    one_relationship_per_network(cfg)?;
    let mut names = HashSet::new();
    for (i, f) in cfg.failover.iter().enumerate() {
        let p = format!("failover[{i}]");
        if f.name.is_empty() {
            return Err(ConfigError::invalid(
                format!("{p}.name"),
                "must not be empty",
            ));
        }
        if !names.insert(f.name.as_str()) {
            return Err(ConfigError::invalid(
                p,
                format!("duplicate failover relationship {:?}", f.name),
            ));
        }
        if f.address == f.peer_address {
            return Err(ConfigError::invalid(
                format!("{p}.peer_address"),
                "the peer address must differ from our own address",
            ));
        }
        if f.address.is_unspecified() || f.peer_address.is_unspecified() {
            return Err(ConfigError::invalid(
                p,
                "address and peer_address must be real addresses",
            ));
        }
        if f.port == 0 || f.peer_port == 0 {
            return Err(ConfigError::invalid(p, "ports must be non-zero"));
        }
        if f.max_response_delay == 0 {
            return Err(ConfigError::invalid(
                format!("{p}.max_response_delay"),
                "must be at least 1",
            ));
        }
        if f.max_unacked_updates == 0 {
            return Err(ConfigError::invalid(
                format!("{p}.max_unacked_updates"),
                "must be at least 1",
            ));
        }
        if f.min_balance > f.max_balance {
            return Err(ConfigError::invalid(
                format!("{p}.min_balance"),
                "exceeds max_balance",
            ));
        }
        if f.max_lease_misbalance > 100 || f.max_lease_ownership > 100 {
            return Err(ConfigError::invalid(
                p,
                "balance percentages must be 0 to 100",
            ));
        }
        if let Some(fence) = &f.fencing {
            fencing(&p, f, fence)?;
        }
        match f.role {
            Role::Primary => {
                match f.mclt {
                    None => {
                        return Err(ConfigError::invalid(
                            format!("{p}.mclt"),
                            "the primary must specify mclt",
                        ));
                    }
                    Some(0) => {
                        return Err(ConfigError::invalid(
                            format!("{p}.mclt"),
                            "must be at least 1",
                        ));
                    }
                    Some(_) => {}
                }
                match (&f.split, &f.hba) {
                    (None, None) => {
                        return Err(ConfigError::invalid(
                            p,
                            "the primary must specify split or hba",
                        ));
                    }
                    (Some(_), Some(_)) => {
                        return Err(ConfigError::invalid(p, "give split or hba, not both"));
                    }
                    (Some(n), None) if *n > 256 => {
                        return Err(ConfigError::invalid(
                            format!("{p}.split"),
                            "must be 0 to 256",
                        ));
                    }
                    (None, Some(_)) if f.load_balance().is_none() => {
                        return Err(ConfigError::invalid(
                            format!("{p}.hba"),
                            "must be exactly 32 colon-separated hex bytes",
                        ));
                    }
                    _ => {}
                }
            }
            Role::Secondary => {
                if f.split.is_some() || f.hba.is_some() {
                    return Err(ConfigError::invalid(
                        p,
                        "secondary may not define load balance settings (split/hba)",
                    ));
                }
            }
        }
        if let Some((j, other)) = cfg
            .failover
            .iter()
            .enumerate()
            .take(i)
            .find(|(_, o)| (o.address, o.port) == (f.address, f.port))
        {
            return Err(ConfigError::invalid(
                format!("{p}.address"),
                format!(
                    "{}:{} is already the address of failover[{j}] ({:?}); each relationship \
                     needs its own listening address or port",
                    f.address, f.port, other.name
                ),
            ));
        }
        let used = cfg.all_subnets().iter().any(|s| {
            s.subnet
                .pools
                .iter()
                .any(|pool| pool.failover_peer.as_deref() == Some(&f.name))
        });
        if !used {
            return Err(ConfigError::invalid(
                p,
                format!("failover relationship {:?} is not used by any pool", f.name),
            ));
        }
    }
    Ok(())
}
