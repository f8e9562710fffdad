//! The object types' attributes: reading them from an object's name-value
//! list (checked, with ISC's result codes for what is wrong) and writing them
//! back, plus the small `statements` grammar hosts accept.

use std::net::Ipv4Addr;

use crate::backend::{BackendError, FailoverState, HardwareAddress, Host, HostStatement, Lease};
use crate::status::Status;
use crate::wire::{Values, be_uint};

fn invalid(what: &str) -> BackendError {
    BackendError::new(Status::INVALIDARG, format!("invalid {what}"))
}

fn text(v: &[u8], what: &str) -> Result<String, BackendError> {
    // ISC strings may arrive NUL-terminated (dhcpctl sends C strings as they are).
    let v = v.strip_suffix(&[0]).unwrap_or(v);
    String::from_utf8(v.to_vec()).map_err(|_| invalid(what))
}

/// Read `ip-address` (exactly 4 bytes).
pub(crate) fn ip(values: &Values) -> Result<Option<Ipv4Addr>, BackendError> {
    match values.get("ip-address") {
        None => Ok(None),
        Some(b) => <[u8; 4]>::try_from(b)
            .map(|a| Some(Ipv4Addr::from(a)))
            .map_err(|_| invalid("ip-address (not 4 bytes)")),
    }
}

/// Read `hardware-address` with `hardware-type` (Ethernet when absent).
pub(crate) fn hardware(values: &Values) -> Result<Option<HardwareAddress>, BackendError> {
    let Some(addr) = values.get("hardware-address") else {
        return Ok(None);
    };
    if addr.is_empty() || addr.len() > 16 {
        return Err(invalid("hardware-address (1 to 16 bytes)"));
    }
    let htype = match values.get_uint("hardware-type") {
        None => 1,
        Some(Ok(t)) if (1..=255).contains(&t) => t as u8,
        Some(_) => return Err(invalid("hardware-type")),
    };
    Ok(Some(HardwareAddress {
        htype,
        addr: addr.to_vec(),
    }))
}

/// Read `dhcp-client-identifier`.
pub(crate) fn client_id(values: &Values) -> Result<Option<Vec<u8>>, BackendError> {
    match values.get("dhcp-client-identifier") {
        None => Ok(None),
        Some(b) if b.is_empty() || b.len() > 255 => Err(invalid("dhcp-client-identifier")),
        Some(b) => Ok(Some(b.to_vec())),
    }
}

/// Read `name`.
pub(crate) fn name(values: &Values) -> Result<Option<String>, BackendError> {
    match values.get("name") {
        None => Ok(None),
        Some(b) => {
            let n = text(b, "name")?;
            if n.is_empty() || n.len() > 255 || n.chars().any(|c| c.is_control()) {
                return Err(invalid("name"));
            }
            Ok(Some(n))
        }
    }
}

/// Attributes a host may be given, on create or update.
const HOST_ATTRIBUTES: &[&str] = &[
    "name",
    "hardware-address",
    "hardware-type",
    "dhcp-client-identifier",
    "ip-address",
    "statements",
    // Accepted and ignored: every host here is "known".
    "known",
];

/// Apply an object's values to `host` (create: onto an empty host; update:
/// onto the current one). Every value is checked before any is applied.
pub(crate) fn apply_host(host: &mut Host, values: &Values) -> Result<(), BackendError> {
    if let Some((n, _)) = values
        .0
        .iter()
        .find(|(n, _)| !HOST_ATTRIBUTES.iter().any(|a| a.as_bytes() == n.as_slice()))
    {
        return Err(BackendError::new(
            Status::UNKNOWNATTRIBUTE,
            format!("host has no attribute {}", String::from_utf8_lossy(n)),
        ));
    }
    let new_name = name(values)?;
    let new_client_id = client_id(values)?;
    let new_ip = ip(values)?;
    let mut new_hw = hardware(values)?;
    if new_hw.is_none() {
        // hardware-type alone changes the type of the current address.
        if let Some(t) = values.get_uint("hardware-type") {
            let t = t
                .ok()
                .filter(|t| (1..=255).contains(t))
                .ok_or_else(|| invalid("hardware-type"))?;
            match &host.hardware {
                Some(hw) => {
                    new_hw = Some(HardwareAddress {
                        htype: t as u8,
                        addr: hw.addr.clone(),
                    })
                }
                None => return Err(invalid("hardware-type without hardware-address")),
            }
        }
    }
    let new_statements = match values.get("statements") {
        None => None,
        Some(b) => Some(parse_statements(&text(b, "statements")?)?),
    };
    if let Some(n) = new_name {
        host.name = Some(n);
    }
    if let Some(c) = new_client_id {
        host.client_id = Some(c);
    }
    if let Some(a) = new_ip {
        host.ip_address = Some(a);
    }
    if let Some(h) = new_hw {
        host.hardware = Some(h);
    }
    if let Some(s) = new_statements {
        host.statements = s;
    }
    Ok(())
}

/// A host's values as ISC reports them.
pub(crate) fn host_values(host: &Host) -> Values {
    let mut v = Values::new();
    if let Some(n) = &host.name {
        v.push("name", n.as_bytes().to_vec());
    }
    if let Some(hw) = &host.hardware {
        v.push("hardware-address", hw.addr.clone());
        v.push_u32("hardware-type", u32::from(hw.htype));
    }
    if let Some(c) = &host.client_id {
        v.push("dhcp-client-identifier", c.clone());
    }
    if let Some(a) = host.ip_address {
        v.push("ip-address", a.octets().to_vec());
    }
    v
}

/// A lease's values as ISC reports them (times as 32-bit seconds).
pub(crate) fn lease_values(lease: &Lease) -> Values {
    let mut v = Values::new();
    v.push_u32("state", lease.state as u32);
    v.push("ip-address", lease.ip_address.octets().to_vec());
    if let Some(c) = &lease.client_id {
        v.push("dhcp-client-identifier", c.clone());
    }
    if let Some(h) = &lease.client_hostname {
        v.push("client-hostname", h.as_bytes().to_vec());
    }
    if let Some(hw) = &lease.hardware {
        v.push("hardware-address", hw.addr.clone());
        v.push_u32("hardware-type", u32::from(hw.htype));
    }
    for (name, t) in [
        ("starts", lease.starts),
        ("ends", lease.ends),
        ("tstp", lease.tstp),
        ("tsfp", lease.tsfp),
        ("cltt", lease.cltt),
    ] {
        if let Some(t) = t {
            v.push_u32(name, t);
        }
    }
    v
}

/// A failover relationship's values as ISC reports them.
pub(crate) fn failover_values(f: &FailoverState) -> Values {
    let mut v = Values::new();
    v.push("name", f.name.as_bytes().to_vec());
    if let Some(a) = f.partner_address {
        v.push("partner-address", a.octets().to_vec());
    }
    if let Some(p) = f.partner_port {
        v.push_u32("partner-port", u32::from(p));
    }
    if let Some(a) = f.local_address {
        v.push("local-address", a.octets().to_vec());
    }
    if let Some(p) = f.local_port {
        v.push_u32("local-port", u32::from(p));
    }
    if let Some(m) = f.mclt {
        v.push_u32("mclt", m);
    }
    v.push_u32("local-state", f.local_state.0);
    v.push_u32("partner-state", f.partner_state.0);
    v
}

/// Parse a host's `statements`: `supersede`, `option` or `default`
/// statements for `host-name`, `domain-name` (quoted strings) and `routers`
/// (addresses separated by commas), each ending with `;`. Anything else is
/// refused with `DHCP_R_BADPARSE`, so that nothing is silently dropped.
pub fn parse_statements(text: &str) -> Result<Vec<HostStatement>, BackendError> {
    let bad = |m: String| BackendError::new(Status::BADPARSE, m);
    let mut out = Vec::new();
    let mut rest = text.trim_start_matches('\0').trim();
    while !rest.is_empty() {
        let (keyword, after) = split_word(rest);
        if !matches!(keyword, "supersede" | "option" | "default") {
            return Err(bad(format!("unsupported statement `{keyword}`")));
        }
        let (option, after) = split_word(after);
        let after = after.trim_start();
        let (value, after) = if let Some(q) = after.strip_prefix('"') {
            let end = q
                .find('"')
                .ok_or_else(|| bad("unterminated string".into()))?;
            (Value::Str(&q[..end]), &q[end + 1..])
        } else {
            let end = after
                .find(';')
                .ok_or_else(|| bad(format!("`{option}` lacks its `;`")))?;
            (Value::Bare(after[..end].trim()), &after[end..])
        };
        let after = after
            .trim_start()
            .strip_prefix(';')
            .ok_or_else(|| bad(format!("`{option}` lacks its `;`")))?;
        out.push(match (option, value) {
            ("host-name", Value::Str(s)) => HostStatement::HostName(s.to_string()),
            ("domain-name", Value::Str(s)) => HostStatement::DomainName(s.to_string()),
            ("routers", Value::Bare(list)) => HostStatement::Routers(
                list.split(',')
                    .map(|a| {
                        a.trim()
                            .parse::<Ipv4Addr>()
                            .map_err(|_| bad(format!("bad router address `{a}`")))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err(bad(format!("unsupported option `{option}` in statements"))),
        });
        rest = after.trim();
    }
    Ok(out)
}

enum Value<'a> {
    Str(&'a str),
    Bare(&'a str),
}

fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let end = s
        .find(|c: char| c.is_whitespace() || c == ';' || c == '"')
        .unwrap_or(s.len());
    (&s[..end], &s[end..])
}

/// Read a value as an integer, for attributes such as `local-state`.
pub(crate) fn uint(values: &Values, name: &str) -> Result<Option<u32>, BackendError> {
    match values.get(name) {
        None => Ok(None),
        Some(b) => be_uint(b).map(Some).map_err(|_| invalid(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_as_pypureomapi_sends_them() {
        assert_eq!(
            parse_statements("supersede host-name \"node01\";").unwrap(),
            vec![HostStatement::HostName("node01".into())]
        );
        assert_eq!(
            parse_statements("supersede host-name \"h\";\n supersede routers 10.0.0.1, 10.0.0.2;\n supersede domain-name \"example.com\";").unwrap(),
            vec![
                HostStatement::HostName("h".into()),
                HostStatement::Routers(vec![Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)]),
                HostStatement::DomainName("example.com".into()),
            ]
        );
        assert_eq!(parse_statements("").unwrap(), vec![]);
        for bad in [
            "supersede host-name \"h\"",
            "supersede host-name \"h",
            "if exists foo { }",
            "supersede routers 10.0.0.300;",
            "supersede domain-name-servers 1.1.1.1;",
            "supersede host-name h;",
        ] {
            assert_eq!(
                parse_statements(bad).unwrap_err().status,
                Status::BADPARSE,
                "{bad}"
            );
        }
    }

    #[test]
    fn host_attributes_are_checked_before_any_is_applied() {
        let mut h = Host::default();
        let mut v = Values::new();
        v.push("name", b"n".to_vec());
        v.push("ip-address", vec![1, 2, 3]);
        assert_eq!(
            apply_host(&mut h, &v).unwrap_err().status,
            Status::INVALIDARG
        );
        assert_eq!(h, Host::default());
        let mut v = Values::new();
        v.push("colour", b"red".to_vec());
        assert_eq!(
            apply_host(&mut h, &v).unwrap_err().status,
            Status::UNKNOWNATTRIBUTE
        );
        let mut v = Values::new();
        v.push("name", b"n\0".to_vec());
        v.push("hardware-address", vec![1, 2, 3, 4, 5, 6]);
        v.push_u32("hardware-type", 1);
        v.push("ip-address", vec![10, 0, 0, 1]);
        apply_host(&mut h, &v).unwrap();
        assert_eq!(h.name.as_deref(), Some("n"));
        assert_eq!(
            h.hardware.as_ref().unwrap().to_string(),
            "01:02:03:04:05:06"
        );
        assert_eq!(host_values(&h).get("ip-address"), Some(&[10, 0, 0, 1][..]));
    }
}
