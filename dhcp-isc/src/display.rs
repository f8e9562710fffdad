//! Expressions and actions written back in ISC syntax (for messages and the
//! comments of [`crate::IscConfig::to_toml`]).

use std::fmt;

use crate::ast::{Action, Expr, OptionRef};

fn opt(o: &OptionRef) -> String {
    if o.space == "dhcp" {
        o.name.clone()
    } else {
        format!("{}.{}", o.space, o.name)
    }
}

fn list(f: &mut fmt::Formatter<'_>, items: &[&Expr]) -> fmt::Result {
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{e}")?;
    }
    Ok(())
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Str(s) => write!(f, "{s:?}"),
            Expr::Hex(b) => f.write_str(&dhcp_core::config::format_hex(b)),
            Expr::Num(n) => write!(f, "{n}"),
            Expr::Option(o) => write!(f, "option {}", opt(o)),
            Expr::Exists(o) => write!(f, "exists {}", opt(o)),
            Expr::Variable(v) => f.write_str(v),
            Expr::Substring(a, b, c) => {
                f.write_str("substring(")?;
                list(f, &[a, b, c])?;
                f.write_str(")")
            }
            Expr::Concat(v) => {
                f.write_str("concat(")?;
                list(f, &v.iter().collect::<Vec<_>>())?;
                f.write_str(")")
            }
            Expr::BinaryToAscii(a, b, c, d) => {
                f.write_str("binary-to-ascii(")?;
                list(f, &[a, b, c, d])?;
                f.write_str(")")
            }
            Expr::EncodeInt(a, b) => {
                f.write_str("encode-int(")?;
                list(f, &[a, b])?;
                f.write_str(")")
            }
            Expr::PickFirstValue(v) => {
                f.write_str("pick-first-value(")?;
                list(f, &v.iter().collect::<Vec<_>>())?;
                f.write_str(")")
            }
            Expr::LeasedAddress => f.write_str("leased-address"),
            Expr::LeaseTime => f.write_str("lease-time"),
            Expr::Hardware => f.write_str("hardware"),
            Expr::Equal(a, b) => write!(f, "{a} = {b}"),
            Expr::NotEqual(a, b) => write!(f, "{a} != {b}"),
            Expr::And(a, b) => write!(f, "({a} and {b})"),
            Expr::Or(a, b) => write!(f, "({a} or {b})"),
            Expr::Not(a) => write!(f, "not {a}"),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Set { name, value } => write!(f, "set {name} = {value};"),
            Action::Execute { program, args } => {
                write!(f, "execute({program}")?;
                for a in args {
                    write!(f, ", {a}")?;
                }
                f.write_str(");")
            }
            Action::If {
                branches,
                otherwise,
            } => {
                for (i, (c, body)) in branches.iter().enumerate() {
                    write!(f, "{}if {c} {{ ", if i == 0 { "" } else { " els" })?;
                    for a in body {
                        write!(f, "{a} ")?;
                    }
                    f.write_str("}")?;
                }
                if !otherwise.is_empty() {
                    f.write_str(" else { ")?;
                    for a in otherwise {
                        write!(f, "{a} ")?;
                    }
                    f.write_str("}")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for crate::ast::Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::ast::Format;
        match self {
            Format::Unsigned(b) => write!(f, "unsigned integer {b}"),
            Format::Signed(b) => write!(f, "signed integer {b}"),
            Format::Boolean => f.write_str("boolean"),
            Format::Ip => f.write_str("ip-address"),
            Format::Text => f.write_str("text"),
            Format::String => f.write_str("string"),
            Format::DomainList => f.write_str("domain-list"),
            Format::Encapsulate(s) => write!(f, "encapsulate {s}"),
            Format::Array(inner) => write!(f, "array of {inner}"),
            Format::IpPair => f.write_str("{ ip-address, ip-address }"),
        }
    }
}
