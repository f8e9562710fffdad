//! `client-classes` onto the model: a class that sets a boot file becomes a
//! PXE boot rule (first match wins, in file order, as Kea takes the first
//! class's `boot-file-name`), a class that sets options or lease times
//! becomes a model class, and a class that sets nothing is a predicate for
//! `member()`. What its `test` says must be expressible as the model's
//! matches: client architecture (option 93), user class (option 77), iPXE,
//! vendor-class prefix (option 60).

use std::collections::HashMap;

use dhcp_core::config::{ClassConfig, LeaseTimes, OptionValue, PxeMatch, PxeRule};

use crate::error::{R, at};
use crate::expr::{self, Expr, Value};
use crate::options::{Names, insert, resolve};
use crate::schema::ClientClass;

/// What a test selects, in the model's terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Match {
    arch: Option<Vec<u16>>,
    user_class: Option<String>,
    ipxe: Option<bool>,
    vendor_prefix: Option<String>,
}

/// The classes converted.
#[derive(Debug, Default)]
pub(crate) struct Classes {
    pub rules: Vec<PxeRule>,
    pub classes: Vec<ClassConfig>,
    known: HashMap<String, Match>,
}

fn merge(a: Match, b: Match) -> Result<Match, String> {
    fn one<T: PartialEq>(x: Option<T>, y: Option<T>, what: &str) -> Result<Option<T>, String> {
        match (x, y) {
            (Some(x), Some(y)) if x != y => {
                Err(format!("`and` of two different {what} tests never matches"))
            }
            (x, y) => Ok(x.or(y)),
        }
    }
    Ok(Match {
        arch: one(a.arch, b.arch, "option 93")?,
        user_class: one(a.user_class, b.user_class, "user-class")?,
        ipxe: one(a.ipxe, b.ipxe, "iPXE")?,
        vendor_prefix: one(a.vendor_prefix, b.vendor_prefix, "vendor-class")?,
    })
}

impl Classes {
    fn cond(&self, e: &Expr) -> Result<Match, String> {
        match e {
            Expr::Eq(a, b) => match (a, b) {
                (Value::Bytes(lit), v) | (v, Value::Bytes(lit)) if !matches!(v, Value::Bytes(_)) => compare(v, lit),
                _ => Err("a comparison needs an option or packet field on one side and a literal on the other".to_owned()),
            },
            Expr::And(a, b) => merge(self.cond(a)?, self.cond(b)?),
            Expr::Or(a, b) => {
                let (x, y) = (self.cond(a)?, self.cond(b)?);
                match (x, y) {
                    (
                        Match { arch: Some(mut p), user_class: None, ipxe: None, vendor_prefix: None },
                        Match { arch: Some(q), user_class: None, ipxe: None, vendor_prefix: None },
                    ) => {
                        p.extend(q);
                        Ok(Match { arch: Some(p), ..Match::default() })
                    }
                    _ => Err("`or` is supported only between option[93] (client architecture) tests".to_owned()),
                }
            }
            Expr::Not(inner) => {
                let m = self.cond(inner)?;
                let ipxe_only = Match { ipxe: m.ipxe, ..Match::default() };
                let uc_ipxe = Match { user_class: Some("iPXE".to_owned()), ..Match::default() };
                if m.ipxe.is_some() && m == ipxe_only {
                    Ok(Match { ipxe: m.ipxe.map(|b| !b), ..Match::default() })
                } else if m == uc_ipxe {
                    Ok(Match { ipxe: Some(false), ..Match::default() })
                } else {
                    Err("`not` is supported only of an iPXE test (user class 'iPXE' or option[175].exists)".to_owned())
                }
            }
            Expr::Member(name) => match name.as_str() {
                "ALL" => Ok(Match::default()),
                n if n.starts_with("VENDOR_CLASS_") => Err(format!(
                    "member('{n}'): the built-in vendor class matches option 60 exactly; the model matches a prefix: write substring(option[60].hex,0,N) == '…'"
                )),
                "KNOWN" | "UNKNOWN" | "DROP" | "BOOTP" => Err(format!("member('{name}'): the built-in class {name} is not supported")),
                n => self
                    .known
                    .get(n)
                    .cloned()
                    .ok_or(format!("member('{n}'): no class of that name is defined before this one")),
            },
            Expr::Exists(175) => Ok(Match { ipxe: Some(true), ..Match::default() }),
            Expr::Exists(c) => Err(format!(
                "option[{c}].exists cannot be expressed in the model (only option[175].exists, iPXE, can)"
            )),
        }
    }

    /// Converts `Dhcp4/client-classes[i]` (at `path`).
    pub(crate) fn add(&mut self, names: &Names, c: &ClientClass, path: &str) -> R<()> {
        if c.only_if_required == Some(true) {
            return at(
                format!("{path}/only-if-required"),
                "classes evaluated only when required (require-client-classes) are not supported",
            );
        }
        if c.option_def.is_some() {
            return at(
                format!("{path}/option-def"),
                "option definitions inside a class are not supported",
            );
        }
        if c.next_server.is_some() {
            return at(
                format!("{path}/next-server"),
                "next-server in a client class cannot be expressed: the model takes next-server per subnet and host",
            );
        }
        if c.server_hostname.is_some() {
            return at(
                format!("{path}/server-hostname"),
                "server-hostname (sname) is not supported",
            );
        }
        let Some(test) = &c.test else {
            return at(
                path,
                "a class without `test` is assigned only by reservations or require-client-classes, which this server does not do",
            );
        };
        let code = |n: &str| names.by_name(n).map(|d| d.code);
        let m = expr::parse(test, &code)
            .and_then(|e| self.cond(&e))
            .or_else(|msg| at(format!("{path}/test"), msg))?;
        let lease_time = LeaseTimes {
            default: c.valid_lifetime,
            min: c.min_valid_lifetime.or(c.valid_lifetime),
            max: c.max_valid_lifetime.or(c.valid_lifetime),
        };
        let mut opts = Vec::new();
        for (i, od) in c.option_data.iter().enumerate() {
            let p = format!("{path}/option-data[{i}]");
            opts.push((resolve(names, od, &p)?, p));
        }
        let boot =
            c.boot_file_name.is_some() || opts.iter().any(|(r, _)| matches!(r.code, 60 | 67 | 210));
        if boot {
            self.rule(c, m.clone(), lease_time, opts, path)?;
        } else if !opts.is_empty() || lease_time != LeaseTimes::default() {
            if m.arch.is_some() || m.ipxe.is_some() {
                return at(
                    format!("{path}/test"),
                    "a class that sets options or lease times can match only the vendor class (prefix) and the user class; architecture and iPXE tests go with a boot-file-name",
                );
            }
            let mut options = dhcp_core::config::OptionSet::default();
            for (r, p) in opts {
                insert(&mut options, r, &p)?;
            }
            self.classes.push(ClassConfig {
                name: c.name.clone(),
                vendor_class_prefix: m.vendor_prefix.clone(),
                user_class: m.user_class.clone(),
                lease_time,
                options,
            });
        }
        self.known.insert(c.name.clone(), m);
        Ok(())
    }

    fn rule(
        &mut self,
        c: &ClientClass,
        m: Match,
        lease_time: LeaseTimes,
        opts: Vec<(crate::options::Resolved, String)>,
        path: &str,
    ) -> R<()> {
        if m.vendor_prefix.is_some() {
            return at(
                format!("{path}/test"),
                "a class with a boot file cannot test the vendor class: boot rules match architecture, user class and iPXE",
            );
        }
        if lease_time != LeaseTimes::default() {
            return at(
                format!("{path}/valid-lifetime"),
                "a class with a boot file cannot set lease times: the model's boot rules carry none",
            );
        }
        let mut rule = PxeRule {
            name: c.name.clone(),
            matches: PxeMatch {
                ipxe: m.ipxe,
                arch: m.arch,
                user_class: m.user_class,
                any: false,
            },
            filename: c.boot_file_name.clone(),
            path_prefix: None,
            vendor_class: None,
            force_options: Vec::new(),
            vendor_options: Vec::new(),
        };
        for (r, p) in opts {
            let OptionValue::Text(text) = r.value else {
                return at(p, format!("option {} in a boot class must be text", r.code));
            };
            let slot = match r.code {
                60 => &mut rule.vendor_class,
                210 => &mut rule.path_prefix,
                67 => &mut rule.filename,
                other => {
                    return at(
                        p,
                        format!(
                            "option {other} in a class with a boot file: the model's boot rules carry only options 60 (vendor class), 67 (boot file) and 210 (path prefix)"
                        ),
                    );
                }
            };
            if slot.is_some() {
                return at(
                    p,
                    "the boot file is given twice (boot-file-name and option 67)",
                );
            }
            *slot = Some(text);
            if r.always_send && r.code != 67 {
                rule.force_options.push(r.code);
            }
        }
        if rule.matches == PxeMatch::default() {
            rule.matches.any = true;
        }
        self.rules.push(rule);
        Ok(())
    }
}

/// `v == lit`.
fn compare(v: &Value, lit: &[u8]) -> Result<Match, String> {
    let text =
        || String::from_utf8(lit.to_vec()).map_err(|_| "the literal is not UTF-8 text".to_owned());
    match v {
        Value::Option(93) => match lit {
            [a, b] => Ok(Match { arch: Some(vec![u16::from_be_bytes([*a, *b])]), ..Match::default() }),
            _ => Err("option[93] (client architecture) is compared with a two-byte value such as 0x0007".to_owned()),
        },
        Value::Option(77) => Ok(Match { user_class: Some(text()?), ..Match::default() }),
        Value::Option(60) => Err(
            "option[60] == '…' matches the vendor class exactly; the model matches a prefix: write substring(option[60].hex,0,N) == '…'"
                .to_owned(),
        ),
        Value::Substring(inner, 0, Some(n)) if **inner == Value::Option(60) && *n == lit.len() => {
            Ok(Match { vendor_prefix: Some(text()?), ..Match::default() })
        }
        Value::Substring(..) => Err(
            "substring() is supported only as substring(option[60].hex,0,N) == 'text' with N the length of the text (a vendor-class prefix)"
                .to_owned(),
        ),
        Value::Mac => Err("pkt4.mac tests cannot be expressed in the model: write a reservation for the client".to_owned()),
        Value::Option(c) => Err(format!(
            "option[{c}] comparisons cannot be expressed in the model (only options 93, 77 and a prefix of 60 can)"
        )),
        Value::Bytes(_) => Err("a comparison of two literals".to_owned()),
    }
}
