//! The parts of a subnet: pools (`FIRST - LAST` or a prefix), relay
//! addresses and reservations.

use std::net::Ipv4Addr;

use dhcp_core::config::{HostConfig, LeaseTimes, PoolConfig, parse_mac};
use ipnet::Ipv4Net;

use crate::error::{R, at};
use crate::options::{Names, hex, option_set};
use crate::schema::{Pool, Relay, Reservation};

/// One reservation at `path` (`label` names hosts without a hostname);
/// returns the host and the option codes marked always-send.
pub(crate) fn reservation(
    names: &Names,
    r: &Reservation,
    path: &str,
    label: &str,
) -> R<(HostConfig, Vec<u8>)> {
    for (key, v) in [
        ("duid", &r.duid),
        ("circuit-id", &r.circuit_id),
        ("flex-id", &r.flex_id),
    ] {
        if v.is_some() {
            return at(
                format!("{path}/{key}"),
                format!("reservations by {key} are not supported (only hw-address and client-id)"),
            );
        }
    }
    if !r.client_classes.is_empty() {
        return at(
            format!("{path}/client-classes"),
            "classes assigned by a reservation are not supported",
        );
    }
    if r.server_hostname.is_some() {
        return at(
            format!("{path}/server-hostname"),
            "server-hostname (sname) is not supported",
        );
    }
    let mac = match &r.hw_address {
        Some(m) => match parse_mac(m) {
            Some(mac) => Some(dhcp_core::lease::HwAddr::ethernet(mac)),
            None => {
                return at(
                    format!("{path}/hw-address"),
                    format!("{m:?} is not an Ethernet address"),
                );
            }
        },
        None => None,
    };
    let client_id = match &r.client_id {
        Some(c) => Some(hex(c, &format!("{path}/client-id"))?),
        None => None,
    };
    if mac.is_none() && client_id.is_none() {
        return at(path, "a reservation needs hw-address or client-id");
    }
    let Some(address) = r.ip_address else {
        return at(
            path,
            "a reservation without ip-address is not supported: only address reservations are",
        );
    };
    let (options, always) = option_set(names, &r.option_data, path)?;
    let host = HostConfig {
        name: r
            .hostname
            .clone()
            .unwrap_or_else(|| format!("{label}-{address}")),
        mac,
        client_id,
        address,
        boot_file: r.boot_file_name.clone(),
        next_server: r.next_server,
        lease_time: LeaseTimes::default(),
        options,
    };
    Ok((host, always))
}

/// A pool: `a - b` or a prefix.
pub(crate) fn pool(p: &Pool, path: &str) -> R<PoolConfig> {
    if p.client_class.is_some() || p.require_client_classes.is_some() {
        let key = if p.client_class.is_some() {
            "client-class"
        } else {
            "require-client-classes"
        };
        return at(
            format!("{path}/{key}"),
            "pools restricted to a class cannot be expressed: the model's pools serve every client",
        );
    }
    if !p.option_data.is_empty() {
        return at(
            format!("{path}/option-data"),
            "options per pool cannot be expressed: give them to the subnet",
        );
    }
    let bad = || {
        at(
            format!("{path}/pool"),
            format!(
                "{:?} is neither \"FIRST - LAST\" nor a prefix such as 10.0.0.0/28",
                p.pool
            ),
        )
    };
    let (start, end) = if let Some((a, b)) = p.pool.split_once('-') {
        match (a.trim().parse::<Ipv4Addr>(), b.trim().parse::<Ipv4Addr>()) {
            (Ok(a), Ok(b)) => (a, b),
            _ => return bad(),
        }
    } else {
        match p.pool.trim().parse::<Ipv4Net>() {
            Ok(n) => (n.network(), n.broadcast()),
            Err(_) => return bad(),
        }
    };
    if u32::from(end) < u32::from(start) {
        return at(
            format!("{path}/pool"),
            format!("the pool {start} - {end} ends before it starts"),
        );
    }
    Ok(PoolConfig {
        start,
        end,
        failover_peer: None,
    })
}

/// Relay addresses must lie in the subnets: the model selects a relayed
/// client's subnet by the relay address (giaddr) inside it.
pub(crate) fn relay_in(r: &Relay, nets: &[Ipv4Net], path: &str) -> R<()> {
    for (i, a) in r.ip_addresses.iter().chain(r.ip_address.iter()).enumerate() {
        if !nets.iter().any(|n| n.contains(a)) {
            return at(
                format!("{path}/ip-addresses[{i}]"),
                format!(
                    "relay address {a} is outside the subnet: the model selects a relayed client's subnet by the relay address (giaddr) inside it"
                ),
            );
        }
    }
    Ok(())
}
