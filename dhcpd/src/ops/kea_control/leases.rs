//! The `libdhcp_lease_cmds.so` commands on the lease table: reads from the
//! engine, writes through [`crate::ops::control::lease_edit`] (answered
//! once durable, and sent to the failover partner).
//!
//! Kea's lease view: a lease is an address that is active (`state` 0),
//! declined (1; ours: abandoned) or expired (2); free, released and backup
//! addresses hold none. `subnet-id` comes from the file's `subnet4` ids.

use std::net::Ipv4Addr;

use dhcp_core::config::{format_hex, parse_hex_bytes, parse_mac};
use dhcp_core::lease::{BindingState, HwAddr};
use ipnet::Ipv4Net;
use serde_json::{Map, Value, json};

use super::context::{KeaContext, arguments, failure};
use super::wire::{Answer, EMPTY, SUCCESS};
use crate::clock::unix_now;
use crate::ops::control::engine::EngineRequest;
use crate::ops::control::error::ControlError;
use crate::ops::control::lease_edit::{LeaseEdit, LeaseFields};
use crate::ops::control::protocol::{LeaseInfo, Reply};

/// Answers the lease command `name`.
pub async fn answer(ctx: &KeaContext, name: &str, args: Option<&Value>) -> Answer {
    let r = match name {
        "lease4-get" => get(ctx, args).await,
        "lease4-get-all" => get_all(ctx, args).await,
        "lease4-get-page" => get_page(ctx, args).await,
        "lease4-get-by-hw-address" => get_by(ctx, args, "hw-address").await,
        "lease4-get-by-client-id" => get_by(ctx, args, "client-id").await,
        "lease4-get-by-hostname" => get_by(ctx, args, "hostname").await,
        "lease4-add" => put(ctx, args, Put::Add).await,
        "lease4-update" => put(ctx, args, Put::Update).await,
        "lease4-del" => del(ctx, args).await,
        "lease4-wipe" => wipe(ctx, args).await,
        other => return Answer::unsupported(other),
    };
    r.unwrap_or_else(|a| a)
}

type R = Result<Answer, Answer>;

/// The subnet ids of the running file.
fn subnet_ids(ctx: &KeaContext) -> Vec<(u32, Ipv4Net)> {
    ctx.kea()
        .map(|k| k.extras.subnet_ids.clone())
        .unwrap_or_default()
}

fn subnet_of(ids: &[(u32, Ipv4Net)], ip: Ipv4Addr) -> Option<(u32, Ipv4Net)> {
    ids.iter().copied().find(|(_, n)| n.contains(&ip))
}

/// Whether an address in `state` holds a lease in Kea's view, and its
/// Kea state code.
pub fn kea_state(state: &str) -> Option<u8> {
    match state {
        "active" => Some(0),
        "abandoned" => Some(1),
        "expired" => Some(2),
        _ => None,
    }
}

/// A lease in Kea's JSON.
pub fn lease_json(l: &LeaseInfo, ids: &[(u32, Ipv4Net)]) -> Value {
    let mut m = Map::new();
    if let Some(c) = &l.client_id {
        m.insert("client-id".into(), json!(c));
    }
    m.insert("cltt".into(), json!(l.cltt));
    m.insert("fqdn-fwd".into(), json!(false));
    m.insert("fqdn-rev".into(), json!(false));
    m.insert(
        "hostname".into(),
        json!(l.hostname.clone().unwrap_or_default()),
    );
    m.insert(
        "hw-address".into(),
        json!(l.mac.clone().unwrap_or_default()),
    );
    m.insert("ip-address".into(), json!(l.ip.to_string()));
    m.insert("state".into(), json!(kea_state(&l.state).unwrap_or(2)));
    m.insert(
        "subnet-id".into(),
        json!(subnet_of(ids, l.ip).map_or(0, |(id, _)| id)),
    );
    m.insert("valid-lft".into(), json!(l.ends.saturating_sub(l.cltt)));
    Value::Object(m)
}

/// The lease of `ip` (Kea's view), if it holds one; one record, not a
/// scan of the table.
async fn lease_of(ctx: &KeaContext, ip: Ipv4Addr) -> Result<Option<LeaseInfo>, Answer> {
    match ctx
        .control
        .engine(EngineRequest::Lease(ip.to_string()))
        .await
    {
        Ok(Reply::Lease { lease }) => Ok(kea_state(&lease.state).is_some().then_some(lease)),
        Ok(_) => Err(failure(&ControlError::UnexpectedReply)),
        // Not in any pool: no lease.
        Err(ControlError::NotFound(_)) => Ok(None),
        Err(e) => Err(failure(&e)),
    }
}

/// Every lease (Kea's view), by address.
async fn all_leases(ctx: &KeaContext) -> Result<Vec<LeaseInfo>, Answer> {
    match ctx
        .control
        .engine(EngineRequest::Leases {
            state: None,
            all: false,
        })
        .await
    {
        Ok(Reply::Leases { leases }) => Ok(leases
            .into_iter()
            .filter(|l| kea_state(&l.state).is_some())
            .collect()),
        Ok(_) => Err(failure(&ControlError::UnexpectedReply)),
        Err(e) => Err(failure(&e)),
    }
}

fn ip_arg(m: &Map<String, Value>, key: &str) -> Result<Option<Ipv4Addr>, Answer> {
    match m.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => s.parse().map(Some).map_err(|_| {
            Answer::error(format!(
                "Failed to convert string to address '{s}': Invalid argument"
            ))
        }),
        Some(_) => Err(Answer::error(format!("'{key}' is not a string"))),
    }
}

fn str_arg<'a>(m: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, Answer> {
    match m.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Answer::error(format!("'{key}' is not a string"))),
    }
}

fn u32_arg(m: &Map<String, Value>, key: &str) -> Result<Option<u32>, Answer> {
    match m.get(key) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| Answer::error(format!("'{key}' is not a 32-bit unsigned integer"))),
    }
}

/// Lowercase `aa:bb:…` of a hex identifier (`:`- or `-`-separated, or
/// plain), as the control API shows identifiers.
fn normal_hex(s: &str) -> Result<String, Answer> {
    parse_hex_bytes(s)
        .filter(|b| !b.is_empty())
        .map(|b| format_hex(&b))
        .ok_or_else(|| Answer::error(format!("'{s}' is not a valid hexadecimal identifier")))
}

/// The lease an `ip-address` or `identifier-type`/`identifier`/`subnet-id`
/// names.
async fn find(ctx: &KeaContext, m: &Map<String, Value>) -> Result<Option<LeaseInfo>, Answer> {
    let ids = subnet_ids(ctx);
    if let Some(ip) = ip_arg(m, "ip-address")? {
        return lease_of(ctx, ip).await;
    }
    let Some(subnet) = u32_arg(m, "subnet-id")? else {
        return Err(Answer::error("Mandatory 'subnet-id' parameter missing."));
    };
    let (Some(kind), Some(id)) = (str_arg(m, "identifier-type")?, str_arg(m, "identifier")?) else {
        return Err(Answer::error(
            "No 'ip-address' provided and 'identifier-type' is either missing or not a string.",
        ));
    };
    let id = normal_hex(id)?;
    let net = ids.iter().find(|(i, _)| *i == subnet).map(|(_, n)| *n);
    Ok(all_leases(ctx).await?.into_iter().find(|l| {
        net.is_some_and(|n| n.contains(&l.ip))
            && match kind {
                "hw-address" => l.mac.as_deref() == Some(id.as_str()),
                "client-id" => l.client_id.as_deref() == Some(id.as_str()),
                _ => false,
            }
    }))
}

async fn get(ctx: &KeaContext, args: Option<&Value>) -> R {
    let m = arguments(args)?;
    if let Some(kind) = str_arg(m, "identifier-type")?
        && !matches!(kind, "hw-address" | "client-id")
    {
        return Err(Answer::error(format!(
            "Identifier type {kind} is not supported by this server (hw-address, client-id)."
        )));
    }
    Ok(match find(ctx, m).await? {
        Some(l) => Answer::with(
            SUCCESS,
            "IPv4 lease found.",
            lease_json(&l, &subnet_ids(ctx)),
        ),
        None => Answer::text(EMPTY, "Lease not found."),
    })
}

/// `N IPv4 lease(s) found.` with the leases (3 when none).
fn found(leases: &[LeaseInfo], ids: &[(u32, Ipv4Net)], extra: Option<(&str, Value)>) -> Answer {
    let list: Vec<Value> = leases.iter().map(|l| lease_json(l, ids)).collect();
    let mut args = Map::new();
    if let Some((k, v)) = extra {
        args.insert(k.to_owned(), v);
    }
    args.insert("leases".into(), Value::Array(list));
    Answer::with(
        if leases.is_empty() { EMPTY } else { SUCCESS },
        format!("{} IPv4 lease(s) found.", leases.len()),
        Value::Object(args),
    )
}

async fn get_all(ctx: &KeaContext, args: Option<&Value>) -> R {
    let ids = subnet_ids(ctx);
    let wanted: Option<Vec<Ipv4Net>> = match args.and_then(|a| a.get("subnets")) {
        None => None,
        Some(Value::Array(list)) => {
            let mut nets = Vec::new();
            for v in list {
                let id = v
                    .as_u64()
                    .ok_or_else(|| Answer::error("'subnets' must be a list of subnet ids"))?;
                nets.extend(
                    ids.iter()
                        .filter(|(i, _)| u64::from(*i) == id)
                        .map(|(_, n)| *n),
                );
            }
            Some(nets)
        }
        Some(_) => return Err(Answer::error("'subnets' parameter must be a list")),
    };
    let leases: Vec<LeaseInfo> = all_leases(ctx)
        .await?
        .into_iter()
        .filter(|l| {
            wanted
                .as_ref()
                .is_none_or(|w| w.iter().any(|n| n.contains(&l.ip)))
        })
        .collect();
    Ok(found(&leases, &ids, None))
}

async fn get_page(ctx: &KeaContext, args: Option<&Value>) -> R {
    let m = arguments(args)?;
    let from = match m.get("from") {
        Some(Value::String(s)) if s == "start" => None,
        Some(Value::String(_)) => ip_arg(m, "from")?,
        _ => return Err(Answer::error("'from' parameter not specified")),
    };
    let limit = match m.get("limit") {
        None => return Err(Answer::error("'limit' parameter not specified")),
        Some(v) => v
            .as_u64()
            .ok_or_else(|| Answer::error("'limit' parameter must be a number"))?,
    };
    if limit == 0 {
        return Err(Answer::error("page size of retrieved leases must not be 0"));
    }
    let ids = subnet_ids(ctx);
    let page: Vec<LeaseInfo> = all_leases(ctx)
        .await?
        .into_iter()
        .filter(|l| from.is_none_or(|f| l.ip > f))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect();
    Ok(found(&page, &ids, Some(("count", json!(page.len())))))
}

async fn get_by(ctx: &KeaContext, args: Option<&Value>, key: &str) -> R {
    let Some(Value::Object(m)) = args else {
        return Err(Answer::error("Command arguments missing or a not a map."));
    };
    let Some(want) = str_arg(m, key)? else {
        return Err(Answer::error(format!("'{key}' parameter not specified")));
    };
    let want = if key == "hostname" {
        want.to_owned()
    } else {
        normal_hex(want)?
    };
    let ids = subnet_ids(ctx);
    let leases: Vec<LeaseInfo> = all_leases(ctx)
        .await?
        .into_iter()
        .filter(|l| match key {
            "hw-address" => l.mac.as_deref() == Some(want.as_str()),
            "client-id" => l.client_id.as_deref() == Some(want.as_str()),
            _ => l.hostname.as_deref() == Some(want.as_str()),
        })
        .collect();
    Ok(found(&leases, &ids, None))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Put {
    Add,
    Update,
}

/// The default valid lifetime of the subnet holding `ip` in the running file.
fn valid_lifetime(ctx: &KeaContext, ip: Ipv4Addr) -> u32 {
    let Some(k) = ctx.kea() else {
        return dhcp_kea::KEA_DEFAULT_VALID_LIFETIME;
    };
    let cfg = &k.config;
    let mut times = None;
    for net in &cfg.shared_networks {
        for s in &net.subnets {
            if s.subnet.contains(&ip) {
                times = Some(s.lease_time.or(net.lease_time));
            }
        }
    }
    for s in &cfg.subnets {
        if s.subnet.contains(&ip) {
            times = Some(s.lease_time);
        }
    }
    times
        .unwrap_or_default()
        .or(cfg.lease_time)
        .default
        .unwrap_or(dhcp_kea::KEA_DEFAULT_VALID_LIFETIME)
}

async fn put(ctx: &KeaContext, args: Option<&Value>, how: Put) -> R {
    let m = arguments(args)?;
    let Some(ip) = ip_arg(m, "ip-address")? else {
        return Err(Answer::error("missing parameter 'ip-address'"));
    };
    let ids = subnet_ids(ctx);
    let subnet = match u32_arg(m, "subnet-id")?.filter(|id| *id != 0) {
        Some(id) => match ids.iter().find(|(i, _)| *i == id) {
            Some(&(id, net)) if net.contains(&ip) => id,
            Some(_) => {
                return Err(Answer::error(format!(
                    "The address {ip} does not belong to subnet {id}"
                )));
            }
            None => {
                return Err(Answer::error(format!(
                    "Invalid subnet-id: No IPv4 subnet with subnet-id={id} currently configured."
                )));
            }
        },
        None => match subnet_of(&ids, ip) {
            Some((id, _)) => id,
            None => {
                return Err(Answer::error(format!(
                    "subnet-id not specified and failed to find a subnet for address {ip}"
                )));
            }
        },
    };
    let Some(mac) = str_arg(m, "hw-address")? else {
        return Err(Answer::error("missing parameter 'hw-address'"));
    };
    let hw = parse_mac(mac)
        .map(HwAddr::ethernet)
        .ok_or_else(|| Answer::error(format!("'{mac}' is not an Ethernet address")))?;
    let client_id = match str_arg(m, "client-id")? {
        Some(c) => Some(
            parse_hex_bytes(c)
                .filter(|b| !b.is_empty())
                .ok_or_else(|| Answer::error(format!("'{c}' is not a valid client identifier")))?,
        ),
        None => None,
    };
    let valid_lft = u32_arg(m, "valid-lft")?.unwrap_or_else(|| valid_lifetime(ctx, ip));
    let now = u32::try_from(unix_now()).unwrap_or(u32::MAX);
    let cltt = match u32_arg(m, "expire")? {
        Some(e) => e.saturating_sub(valid_lft),
        None => now,
    };
    let state = match u32_arg(m, "state")?.unwrap_or(0) {
        0 => BindingState::Active,
        1 => BindingState::Abandoned,
        2 => BindingState::Expired,
        s => {
            return Err(Answer::error(format!(
                "Invalid state value: {s}, supported values are: 0 (default), 1 (declined) and 2 (expired-reclaimed)"
            )));
        }
    };
    let hostname = str_arg(m, "hostname")?
        .filter(|h| !h.is_empty())
        .map(str::to_owned);
    let force = m
        .get("force-create")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let existed = lease_of(ctx, ip).await?.is_some();
    let edit = LeaseEdit::Put {
        fields: Box::new(LeaseFields {
            ip,
            hw,
            client_id,
            hostname,
            cltt,
            valid_lft,
            state,
        }),
        create: how == Put::Add || force,
        replace: how == Put::Update,
    };
    match ctx
        .control
        .engine(EngineRequest::EditLease(Box::new(edit)))
        .await
    {
        Ok(_) => Ok(Answer::text(
            SUCCESS,
            match how {
                Put::Add => format!("Lease for address {ip}, subnet-id {subnet} added."),
                Put::Update if existed => "IPv4 lease updated.".to_owned(),
                Put::Update => "IPv4 lease added.".to_owned(),
            },
        )),
        Err(ControlError::NotFound(_)) if how == Put::Update => Err(Answer::error(format!(
            "failed to update the lease with address {ip} either because the lease has been deleted or it has changed in the database, in both cases a retry might succeed"
        ))),
        Err(e) => Err(Answer::error(e.to_string())),
    }
}

async fn del(ctx: &KeaContext, args: Option<&Value>) -> R {
    let m = arguments(args)?;
    let Some(lease) = find(ctx, m).await? else {
        return Ok(Answer::text(EMPTY, "IPv4 lease not found."));
    };
    match ctx
        .control
        .engine(EngineRequest::EditLease(Box::new(LeaseEdit::Delete(
            lease.ip,
        ))))
        .await
    {
        Ok(_) => Ok(Answer::text(SUCCESS, "IPv4 lease deleted.")),
        Err(ControlError::NotFound(_)) => Ok(Answer::text(EMPTY, "IPv4 lease not found.")),
        Err(e) => Err(Answer::error(e.to_string())),
    }
}

async fn wipe(ctx: &KeaContext, args: Option<&Value>) -> R {
    let ids = subnet_ids(ctx);
    let id = match args {
        Some(Value::Object(m)) => u32_arg(m, "subnet-id")?.filter(|i| *i != 0),
        _ => None,
    };
    let (nets, named): (Vec<Ipv4Net>, Vec<u32>) = match id {
        Some(id) => (
            ids.iter()
                .filter(|(i, _)| *i == id)
                .map(|(_, n)| *n)
                .collect(),
            vec![id],
        ),
        None => (Vec::new(), ids.iter().map(|(i, _)| *i).collect()),
    };
    if id.is_some() && nets.is_empty() {
        return Ok(Answer::text(
            EMPTY,
            format!("Deleted 0 IPv4 lease(s) from subnet(s) {}", named[0]),
        ));
    }
    let deleted = match ctx
        .control
        .engine(EngineRequest::EditLease(Box::new(LeaseEdit::Wipe(nets))))
        .await
    {
        Ok(Reply::Leases { leases }) => leases.len(),
        Ok(_) => return Err(failure(&ControlError::UnexpectedReply)),
        Err(e) => return Err(Answer::error(e.to_string())),
    };
    let named: Vec<String> = named.iter().map(u32::to_string).collect();
    Ok(Answer::text(
        if deleted == 0 { EMPTY } else { SUCCESS },
        format!(
            "Deleted {deleted} IPv4 lease(s) from subnet(s) {}",
            named.join(" ")
        ),
    ))
}
