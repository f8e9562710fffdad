//! `option-data` and `option-def`: Kea's standard DHCPv4 option names and
//! types, values written as Kea writes them (comma-separated when
//! `csv-format` is true, hex otherwise), into the model's option sets.

use std::net::Ipv4Addr;

use dhcp_core::config::{
    CustomOption, OptionSet, OptionValue, RESERVED_CODES, format_hex, parse_hex_bytes,
};

use crate::error::{R, at};
use crate::schema::OptionData;

/// A Kea option data type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    Ip,
    U8,
    U16,
    U32,
    I8,
    I16,
    I32,
    Str,
    Bool,
    Fqdn,
    Binary,
    Empty,
}

impl Ty {
    /// The type named in an `option-def`.
    pub(crate) fn from_kea(name: &str) -> Option<Ty> {
        Some(match name {
            "ipv4-address" => Ty::Ip,
            "uint8" => Ty::U8,
            "uint16" => Ty::U16,
            "uint32" => Ty::U32,
            "int8" => Ty::I8,
            "int16" => Ty::I16,
            "int32" => Ty::I32,
            "string" => Ty::Str,
            "boolean" => Ty::Bool,
            "fqdn" => Ty::Fqdn,
            "binary" => Ty::Binary,
            "empty" => Ty::Empty,
            _ => return None,
        })
    }
}

/// An option known by name: code, type, whether it is an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Def {
    pub name: String,
    pub code: u8,
    pub ty: Ty,
    pub array: bool,
}

/// Kea's standard DHCPv4 option names that this reader serves.
const STANDARD: &[(&str, u8, Ty, bool)] = &[
    ("subnet-mask", 1, Ty::Ip, false),
    ("time-offset", 2, Ty::I32, false),
    ("routers", 3, Ty::Ip, true),
    ("time-servers", 4, Ty::Ip, true),
    ("name-servers", 5, Ty::Ip, true),
    ("domain-name-servers", 6, Ty::Ip, true),
    ("log-servers", 7, Ty::Ip, true),
    ("cookie-servers", 8, Ty::Ip, true),
    ("lpr-servers", 9, Ty::Ip, true),
    ("impress-servers", 10, Ty::Ip, true),
    ("resource-location-servers", 11, Ty::Ip, true),
    ("host-name", 12, Ty::Str, false),
    ("boot-size", 13, Ty::U16, false),
    ("merit-dump", 14, Ty::Str, false),
    ("domain-name", 15, Ty::Str, false),
    ("swap-server", 16, Ty::Ip, false),
    ("root-path", 17, Ty::Str, false),
    ("extensions-path", 18, Ty::Str, false),
    ("ip-forwarding", 19, Ty::Bool, false),
    ("non-local-source-routing", 20, Ty::Bool, false),
    ("max-dgram-reassembly", 22, Ty::U16, false),
    ("default-ip-ttl", 23, Ty::U8, false),
    ("path-mtu-aging-timeout", 24, Ty::U32, false),
    ("path-mtu-plateau-table", 25, Ty::U16, true),
    ("interface-mtu", 26, Ty::U16, false),
    ("all-subnets-local", 27, Ty::Bool, false),
    ("broadcast-address", 28, Ty::Ip, false),
    ("perform-mask-discovery", 29, Ty::Bool, false),
    ("mask-supplier", 30, Ty::Bool, false),
    ("router-discovery", 31, Ty::Bool, false),
    ("router-solicitation-address", 32, Ty::Ip, false),
    ("arp-cache-timeout", 35, Ty::U32, false),
    ("default-tcp-ttl", 37, Ty::U8, false),
    ("tcp-keepalive-interval", 38, Ty::U32, false),
    ("tcp-keepalive-garbage", 39, Ty::Bool, false),
    ("nis-domain", 40, Ty::Str, false),
    ("nis-servers", 41, Ty::Ip, true),
    ("ntp-servers", 42, Ty::Ip, true),
    ("netbios-name-servers", 44, Ty::Ip, true),
    ("netbios-dd-server", 45, Ty::Ip, true),
    ("netbios-node-type", 46, Ty::U8, false),
    ("netbios-scope", 47, Ty::Str, false),
    ("font-servers", 48, Ty::Ip, true),
    ("x-display-manager", 49, Ty::Ip, true),
    ("dhcp-requested-address", 50, Ty::Ip, false),
    ("dhcp-lease-time", 51, Ty::U32, false),
    ("dhcp-option-overload", 52, Ty::U8, false),
    ("dhcp-message-type", 53, Ty::U8, false),
    ("dhcp-server-identifier", 54, Ty::Ip, false),
    ("dhcp-parameter-request-list", 55, Ty::U8, true),
    ("dhcp-message", 56, Ty::Str, false),
    ("dhcp-max-message-size", 57, Ty::U16, false),
    ("dhcp-renewal-time", 58, Ty::U32, false),
    ("dhcp-rebinding-time", 59, Ty::U32, false),
    ("vendor-class-identifier", 60, Ty::Str, false),
    ("nisplus-domain-name", 64, Ty::Str, false),
    ("nisplus-servers", 65, Ty::Ip, true),
    ("tftp-server-name", 66, Ty::Str, false),
    ("boot-file-name", 67, Ty::Str, false),
    ("mobile-ip-home-agent", 68, Ty::Ip, true),
    ("smtp-server", 69, Ty::Ip, true),
    ("pop-server", 70, Ty::Ip, true),
    ("nntp-server", 71, Ty::Ip, true),
    ("www-server", 72, Ty::Ip, true),
    ("finger-server", 73, Ty::Ip, true),
    ("irc-server", 74, Ty::Ip, true),
    ("streettalk-server", 75, Ty::Ip, true),
    ("streettalk-directory-assistance-server", 76, Ty::Ip, true),
    ("dhcp-client-identifier", 61, Ty::Binary, false),
    ("user-class", 77, Ty::Binary, false),
    ("dhcp-agent-options", 82, Ty::Binary, false),
    ("client-system", 93, Ty::U16, true),
    ("v6-only-preferred", 108, Ty::U32, false),
    ("v4-captive-portal", 114, Ty::Str, false),
    ("subnet-selection", 118, Ty::Ip, false),
    ("domain-search", 119, Ty::Fqdn, true),
    ("tftp-server-address", 150, Ty::Ip, true),
];

/// The option names in force: Kea's standard ones plus `option-def`s.
#[derive(Debug, Clone, Default)]
pub(crate) struct Names {
    pub defined: Vec<Def>,
}

impl Names {
    /// The definition of the `dhcp4`-space option `name`.
    pub(crate) fn by_name(&self, name: &str) -> Option<Def> {
        self.defined
            .iter()
            .find(|d| d.name == name)
            .cloned()
            .or_else(|| {
                STANDARD
                    .iter()
                    .find(|s| s.0 == name)
                    .map(|&(n, code, ty, array)| Def {
                        name: n.to_owned(),
                        code,
                        ty,
                        array,
                    })
            })
    }

    /// The definition of the `dhcp4`-space option `code`.
    pub(crate) fn by_code(&self, code: u8) -> Option<Def> {
        self.defined
            .iter()
            .find(|d| d.code == code)
            .cloned()
            .or_else(|| {
                STANDARD
                    .iter()
                    .find(|s| s.1 == code)
                    .map(|&(n, code, ty, array)| Def {
                        name: n.to_owned(),
                        code,
                        ty,
                        array,
                    })
            })
    }
}

/// One option-data entry, resolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Resolved {
    pub code: u8,
    pub value: OptionValue,
    pub always_send: bool,
}

/// Resolves one `option-data` entry at `path`.
pub(crate) fn resolve(names: &Names, od: &OptionData, path: &str) -> R<Resolved> {
    if let Some(space) = od.space.as_deref()
        && space != "dhcp4"
    {
        return at(
            format!("{path}/space"),
            format!("option space {space:?} is not supported: only the dhcp4 space can be sent"),
        );
    }
    if od.never_send == Some(true) {
        return at(
            format!("{path}/never-send"),
            "never-send is not supported: the model has no way to withhold an option",
        );
    }
    let def = match (&od.name, od.code) {
        (Some(n), code) => {
            let Some(d) = names.by_name(n) else {
                return at(
                    format!("{path}/name"),
                    format!(
                        "option {n:?} is not a standard DHCPv4 option known to this server and has no option-def"
                    ),
                );
            };
            if let Some(c) = code
                && c != u32::from(d.code)
            {
                return at(
                    format!("{path}/code"),
                    format!("option {n:?} has code {}, not {c}", d.code),
                );
            }
            Some(d)
        }
        (None, Some(c)) => {
            let Ok(code) = u8::try_from(c) else {
                return at(
                    format!("{path}/code"),
                    format!("option code {c} is over 255"),
                );
            };
            names.by_code(code).or(Some(Def {
                name: format!("option {code}"),
                code,
                ty: Ty::Binary,
                array: false,
            }))
        }
        (None, None) => None,
    };
    let Some(def) = def else {
        return at(path, "option-data needs a name or a code");
    };
    if RESERVED_CODES.contains(&def.code) {
        return at(
            path,
            format!(
                "option {} (code {}) is set by the server itself and cannot be configured",
                def.name, def.code
            ),
        );
    }
    let data = od.data.as_deref().unwrap_or("");
    let dpath = format!("{path}/data");
    let csv = od.csv_format.unwrap_or(true);
    let value = if csv {
        csv_value(&def, data, &dpath)?
    } else {
        OptionValue::Hex(format_hex(&hex(data, &dpath)?))
    };
    Ok(Resolved {
        code: def.code,
        value,
        always_send: od.always_send.unwrap_or(false),
    })
}

/// Kea's hex: `0a0b`, `0a:0b`, `0a 0b` or `0x0a0b`.
pub(crate) fn hex(text: &str, path: &str) -> R<Vec<u8>> {
    let t = text.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    let cleaned: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    if cleaned.is_empty() {
        return Ok(Vec::new());
    }
    parse_hex_bytes(&cleaned)
        .ok_or(())
        .or_else(|()| at(path, format!("{text:?} is not hex data")))
}

fn csv_value(def: &Def, data: &str, path: &str) -> R<OptionValue> {
    let items: Vec<&str> = if def.array {
        data.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    } else {
        vec![data.trim()]
    };
    let bad = |what: &str| at(path, format!("option {}: {data:?} is not {what}", def.name));
    let ip = |s: &str| s.parse::<Ipv4Addr>().ok();
    let value = match (def.ty, def.array, items.as_slice()) {
        (Ty::Ip, false, [s]) => match ip(s) {
            Some(a) => OptionValue::Ip(a),
            None => return bad("an IPv4 address"),
        },
        (Ty::Ip, true, list) => match list.iter().map(|s| ip(s)).collect::<Option<Vec<_>>>() {
            Some(v) if !v.is_empty() => OptionValue::Ips(v),
            _ => return bad("a list of IPv4 addresses"),
        },
        (Ty::U8, false, [s]) => match s.parse() {
            Ok(n) => OptionValue::U8(n),
            Err(_) => return bad("an 8-bit unsigned integer"),
        },
        (Ty::U16, false, [s]) => match s.parse() {
            Ok(n) => OptionValue::U16(n),
            Err(_) => return bad("a 16-bit unsigned integer"),
        },
        (Ty::U32, false, [s]) => match s.parse() {
            Ok(n) => OptionValue::U32(n),
            Err(_) => return bad("a 32-bit unsigned integer"),
        },
        (Ty::Bool, false, [s]) => match *s {
            "true" | "1" => OptionValue::Bool(true),
            "false" | "0" => OptionValue::Bool(false),
            _ => return bad("a boolean"),
        },
        (Ty::Str, false, _) => {
            if data.is_empty() {
                return bad("a non-empty string");
            }
            OptionValue::Text(data.to_owned())
        }
        (Ty::Binary, false, _) => OptionValue::Hex(format_hex(&hex(data, path)?)),
        (Ty::Empty, _, _) => OptionValue::Hex(String::new()),
        (Ty::Fqdn, _, list) => {
            let mut bytes = Vec::new();
            for name in list {
                for label in name.trim_end_matches('.').split('.') {
                    let Ok(n) = u8::try_from(label.len()) else {
                        return bad("a list of domain names");
                    };
                    if n == 0 || n > 63 {
                        return bad("a list of domain names");
                    }
                    bytes.push(n);
                    bytes.extend_from_slice(label.as_bytes());
                }
                bytes.push(0);
            }
            // As Kea writes them: each name in full, no RFC 1035
            // compression (the model's typed domain_search compresses).
            return Ok(OptionValue::Hex(format_hex(&bytes)));
        }
        (ty, _, list) => {
            let mut bytes = Vec::new();
            for s in list {
                let ok = match ty {
                    Ty::U8 => s.parse::<u8>().map(|n| bytes.push(n)).is_ok(),
                    Ty::U16 => s
                        .parse::<u16>()
                        .map(|n| bytes.extend(n.to_be_bytes()))
                        .is_ok(),
                    Ty::U32 => s
                        .parse::<u32>()
                        .map(|n| bytes.extend(n.to_be_bytes()))
                        .is_ok(),
                    Ty::I8 => s
                        .parse::<i8>()
                        .map(|n| bytes.extend(n.to_be_bytes()))
                        .is_ok(),
                    Ty::I16 => s
                        .parse::<i16>()
                        .map(|n| bytes.extend(n.to_be_bytes()))
                        .is_ok(),
                    Ty::I32 => s
                        .parse::<i32>()
                        .map(|n| bytes.extend(n.to_be_bytes()))
                        .is_ok(),
                    _ => false,
                };
                if !ok {
                    return bad("a value of the option's type");
                }
            }
            if bytes.is_empty() {
                return bad("a value of the option's type");
            }
            OptionValue::Hex(format_hex(&bytes))
        }
    };
    Ok(value)
}

/// Puts a resolved option into `set` (the model's typed field where it has
/// one). A code given twice at one scope is an error.
pub(crate) fn insert(set: &mut OptionSet, r: Resolved, path: &str) -> R<()> {
    let twice = || {
        at(
            path,
            format!("option {} is given twice at this scope", r.code),
        )
    };
    macro_rules! typed {
        ($field:ident, $v:expr) => {{
            if set.$field.is_some() {
                return twice();
            }
            set.$field = Some($v);
            return Ok(());
        }};
    }
    match (r.code, &r.value) {
        (1, OptionValue::Ip(a)) => typed!(subnet_mask, *a),
        (3, OptionValue::Ips(v)) => typed!(routers, v.clone()),
        (6, OptionValue::Ips(v)) => typed!(dns_servers, v.clone()),
        (15, OptionValue::Text(t)) => typed!(domain_name, t.clone()),
        (28, OptionValue::Ip(a)) => typed!(broadcast_address, *a),
        (42, OptionValue::Ips(v)) => typed!(ntp_servers, v.clone()),
        (26, OptionValue::U16(n)) => typed!(mtu, *n),
        _ => {}
    }
    if set.custom.iter().any(|c| c.code == r.code) {
        return twice();
    }
    set.custom.push(CustomOption {
        code: r.code,
        value: r.value,
    });
    Ok(())
}

/// The `option-data` list at `path` into an option set; returns the codes
/// marked `always-send`.
pub(crate) fn option_set(
    names: &Names,
    list: &[OptionData],
    path: &str,
) -> R<(OptionSet, Vec<u8>)> {
    let mut set = OptionSet::default();
    let mut always = Vec::new();
    for (i, od) in list.iter().enumerate() {
        let p = format!("{path}/option-data[{i}]");
        let r = resolve(names, od, &p)?;
        if r.always_send {
            always.push(r.code);
        }
        insert(&mut set, r, &p)?;
    }
    Ok((set, always))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn od(name: &str, data: &str) -> OptionData {
        OptionData {
            name: Some(name.to_owned()),
            code: None,
            space: None,
            data: Some(data.to_owned()),
            csv_format: None,
            always_send: None,
            never_send: None,
            comment: None,
            user_context: None,
        }
    }

    #[test]
    fn typed_and_custom() {
        let n = Names::default();
        let (set, _) = option_set(
            &n,
            &[
                od("routers", "10.0.0.1, 10.0.0.2"),
                od("tftp-server-name", "boot"),
                od("domain-search", "a.example, b"),
            ],
            "X",
        )
        .unwrap();
        assert_eq!(
            set.routers,
            Some(vec![Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)])
        );
        assert_eq!(set.custom[0].value, OptionValue::Text("boot".into()));
        // Domain search lists go as Kea writes them, uncompressed.
        assert_eq!(set.domain_search, None);
        assert_eq!(set.custom[1].code, 119);
        assert_eq!(
            set.custom[1].value,
            OptionValue::Hex("01:61:07:65:78:61:6d:70:6c:65:00:01:62:00".into())
        );
    }

    #[test]
    fn hex_forms() {
        assert_eq!(hex("0x0a0B", "p"), Ok(vec![10, 11]));
        assert_eq!(hex("0a:0b", "p"), Ok(vec![10, 11]));
        assert!(hex("zz", "p").is_err());
    }
}
