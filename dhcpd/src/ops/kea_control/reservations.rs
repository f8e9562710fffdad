//! The `libdhcp_host_cmds.so` commands on the runtime host reservations of
//! [`crate::ops::control::hosts`] (stored, and in force at once):
//! `reservation-add`, `reservation-get`, `reservation-del`. Debian's Kea 2.2
//! does not ship host_cmds, so the answers follow Kea's manual: `Host
//! added.`, `Host found.` (3 `Host not found.`), `Host deleted.` (1 `Host
//! not deleted (not found).`).

use std::net::Ipv4Addr;

use dhcp_core::config::{HostConfig, format_hex, parse_hex_bytes, parse_mac};
use serde_json::{Map, Value, json};

use super::context::{KeaContext, arguments, failure};
use super::wire::{Answer, EMPTY, ERROR, SUCCESS};
use crate::ops::control::engine::EngineRequest;
use crate::ops::control::error::ControlError;
use crate::ops::control::protocol::{HostEntry, Reply};

/// Answers the reservation command `name`.
pub async fn answer(ctx: &KeaContext, name: &str, args: Option<&Value>) -> Answer {
    let r = match name {
        "reservation-add" => add(ctx, args).await,
        "reservation-get" => get(ctx, args).await,
        "reservation-del" => del(ctx, args).await,
        other => return Answer::unsupported(other),
    };
    r.unwrap_or_else(|a| a)
}

type R = Result<Answer, Answer>;

fn subnet_id(ctx: &KeaContext, m: &Map<String, Value>) -> Result<(u32, ipnet::Ipv4Net), Answer> {
    let id = m
        .get("subnet-id")
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| Answer::error("Mandatory 'subnet-id' parameter missing."))?;
    ctx.kea()
        .and_then(|k| k.extras.subnet_ids.iter().copied().find(|(i, _)| *i == id))
        .ok_or_else(|| Answer::error(format!("IPv4 subnet with ID of '{id}' is not configured")))
}

async fn hosts(ctx: &KeaContext) -> Result<Vec<HostEntry>, Answer> {
    match ctx.control.engine(EngineRequest::Hosts).await {
        Ok(Reply::Hosts { hosts }) => Ok(hosts),
        Ok(_) => Err(failure(&ControlError::UnexpectedReply)),
        Err(e) => Err(failure(&e)),
    }
}

/// What names a reservation in `get` and `del`.
enum Key {
    Address(Ipv4Addr),
    Mac([u8; 6]),
    ClientId(Vec<u8>),
}

fn key(m: &Map<String, Value>) -> Result<Key, Answer> {
    if let Some(v) = m.get("ip-address") {
        return v
            .as_str()
            .and_then(|s| s.parse().ok())
            .map(Key::Address)
            .ok_or_else(|| Answer::error("'ip-address' is not an IPv4 address"));
    }
    let (Some(kind), Some(id)) = (
        m.get("identifier-type").and_then(Value::as_str),
        m.get("identifier").and_then(Value::as_str),
    ) else {
        return Err(Answer::error(
            "one of 'ip-address' or 'identifier-type' and 'identifier' is required",
        ));
    };
    match kind {
        "hw-address" => parse_mac(id)
            .map(Key::Mac)
            .ok_or_else(|| Answer::error(format!("'{id}' is not an Ethernet address"))),
        "client-id" => parse_hex_bytes(id)
            .filter(|b| !b.is_empty())
            .map(Key::ClientId)
            .ok_or_else(|| Answer::error(format!("'{id}' is not a valid client identifier"))),
        other => Err(Answer::error(format!(
            "identifier type '{other}' is not supported (hw-address, client-id)"
        ))),
    }
}

fn matches(h: &HostConfig, k: &Key) -> bool {
    match k {
        Key::Address(a) => h.address == *a,
        Key::Mac(m) => h.mac.as_ref().is_some_and(|x| x.addr == m[..]),
        Key::ClientId(c) => h.client_id.as_deref() == Some(&c[..]),
    }
}

/// The reservation named by `m`, in its subnet.
async fn find(
    ctx: &KeaContext,
    m: &Map<String, Value>,
) -> Result<Option<(u32, HostConfig)>, Answer> {
    let (id, net) = subnet_id(ctx, m)?;
    let k = key(m)?;
    Ok(hosts(ctx)
        .await?
        .into_iter()
        .map(|e| e.host)
        .find(|h| net.contains(&h.address) && matches(h, &k))
        .map(|h| (id, h)))
}

/// The name [`dhcp_kea::reservation`] gives a reservation without a
/// hostname.
fn generated_name(address: Ipv4Addr) -> String {
    format!("reservation-{address}")
}

/// A reservation in Kea's JSON.
fn reservation_json(subnet: u32, h: &HostConfig) -> Value {
    let mut m = Map::new();
    m.insert(
        "boot-file-name".into(),
        json!(h.boot_file.clone().unwrap_or_default()),
    );
    m.insert("client-classes".into(), json!([]));
    if let Some(c) = &h.client_id {
        m.insert("client-id".into(), json!(format_hex(c)));
    }
    let named =
        h.name != generated_name(h.address) && !h.name.ends_with(&format!("-{}", h.address));
    m.insert(
        "hostname".into(),
        json!(if named { h.name.as_str() } else { "" }),
    );
    if let Some(mac) = &h.mac {
        m.insert("hw-address".into(), json!(format_hex(&mac.addr)));
    }
    m.insert("ip-address".into(), json!(h.address.to_string()));
    m.insert(
        "next-server".into(),
        json!(h.next_server.unwrap_or(Ipv4Addr::UNSPECIFIED).to_string()),
    );
    m.insert("option-data".into(), json!([]));
    m.insert("server-hostname".into(), json!(""));
    m.insert("subnet-id".into(), json!(subnet));
    Value::Object(m)
}

async fn add(ctx: &KeaContext, args: Option<&Value>) -> R {
    let m = arguments(args)?;
    let Some(Value::Object(r)) = m.get("reservation") else {
        return Err(Answer::error("reservation must be specified"));
    };
    let mut r = r.clone();
    let sub = {
        let mut only = Map::new();
        if let Some(id) = r.remove("subnet-id") {
            only.insert("subnet-id".into(), id);
        }
        only
    };
    let (_, net) = subnet_id(ctx, &sub)?;
    let host = dhcp_kea::reservation(&Value::Object(r), "arguments/reservation")
        .map_err(|e| Answer::error(e.to_string()))?;
    if !net.contains(&host.address) {
        return Err(Answer::error(format!(
            "address {} is not in the subnet {net} of the subnet-id given",
            host.address
        )));
    }
    let clash = hosts(ctx).await?.into_iter().any(|e| {
        e.host.name == host.name
            || e.host.address == host.address
            || (host.mac.is_some() && e.host.mac == host.mac)
            || (host.client_id.is_some() && e.host.client_id == host.client_id)
    });
    if clash {
        return Err(Answer::error("Host already exists."));
    }
    match ctx
        .control
        .engine(EngineRequest::AddHost(Box::new(host)))
        .await
    {
        Ok(_) => Ok(Answer::text(SUCCESS, "Host added.")),
        Err(e) => Err(Answer::error(e.to_string())),
    }
}

async fn get(ctx: &KeaContext, args: Option<&Value>) -> R {
    let m = arguments(args)?;
    Ok(match find(ctx, m).await? {
        Some((id, h)) => Answer::with(SUCCESS, "Host found.", reservation_json(id, &h)),
        None => Answer::text(EMPTY, "Host not found."),
    })
}

async fn del(ctx: &KeaContext, args: Option<&Value>) -> R {
    let m = arguments(args)?;
    let Some((_, h)) = find(ctx, m).await? else {
        return Ok(Answer::text(ERROR, "Host not deleted (not found)."));
    };
    match ctx.control.engine(EngineRequest::RemoveHost(h.name)).await {
        Ok(_) => Ok(Answer::text(SUCCESS, "Host deleted.")),
        Err(e) => Err(Answer::error(e.to_string())),
    }
}
