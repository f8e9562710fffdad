//! Option values: typed ISC values into the model's option values, and
//! their encoding by format.

use super::*;

impl Converter {
    pub(super) fn option_value(
        &self,
        pos: Pos,
        o: &OptionRef,
        f: &Format,
        d: &OptionData,
    ) -> R<OptionValue> {
        if o.space != "dhcp" {
            if self.vendor_spaces.contains(&o.space) {
                return err(
                    pos,
                    ErrorKind::Unsupported,
                    format!(
                        "option {}.{}: option 125 (vendor-identifying vendor options, the ONIE/vivso spaces) cannot be served: the configuration model has no encapsulated vendor options",
                        o.space, o.name
                    ),
                );
            }
            return err(
                pos,
                ErrorKind::Unsupported,
                format!(
                    "option {}.{}: only options of the dhcp space can be sent",
                    o.space, o.name
                ),
            );
        }
        if RESERVED_CODES.contains(&u8::try_from(o.code).unwrap_or(0)) {
            return err(
                pos,
                ErrorKind::Unsupported,
                format!(
                    "option {} (code {}) is set by the server itself and cannot be configured",
                    o.name, o.code
                ),
            );
        }
        let OptionData::Values(vals) = d else {
            return err(
                pos,
                ErrorKind::Unsupported,
                format!(
                    "option {} = expression: computed option values are supported only as the boot chain's dhcp-parameter-request-list append",
                    o.name
                ),
            );
        };
        Ok(match (f, vals.as_slice()) {
            (Format::Text, [Value::Text(t)]) => OptionValue::Text(t.clone()),
            (Format::Ip, [Value::Ip(a)]) => OptionValue::Ip(*a),
            (Format::Array(inner), items) if **inner == Format::Ip => OptionValue::Ips(
                items
                    .iter()
                    .filter_map(|v| match v {
                        Value::Ip(a) => Some(*a),
                        _ => None,
                    })
                    .collect(),
            ),
            (Format::Unsigned(8), [Value::Int(n)]) => {
                OptionValue::U8(u8::try_from(*n).unwrap_or_default())
            }
            (Format::Unsigned(16), [Value::Int(n)]) => {
                OptionValue::U16(u16::try_from(*n).unwrap_or_default())
            }
            (Format::Unsigned(32), [Value::Int(n)]) => {
                OptionValue::U32(u32::try_from(*n).unwrap_or_default())
            }
            (Format::Boolean, [Value::Bool(b)]) => OptionValue::Bool(*b),
            _ => {
                let mut bytes = Vec::new();
                encode(pos, f, vals, &mut bytes)?;
                if bytes.len() > 255 {
                    return err(
                        pos,
                        ErrorKind::Invalid,
                        format!("option {}: value longer than 255 bytes", o.name),
                    );
                }
                OptionValue::Hex(format_hex(&bytes))
            }
        })
    }
}

/// The wire bytes of an option value.
pub(super) fn encode(pos: Pos, f: &Format, vals: &[Value], out: &mut Vec<u8>) -> R<()> {
    let elem = match f {
        Format::Array(inner) => inner.as_ref(),
        f => f,
    };
    if *f == Format::DomainList {
        for v in vals {
            let Value::Text(name) = v else { continue };
            for label in name.trim_end_matches('.').split('.') {
                if label.is_empty() || label.len() > 63 {
                    return err(
                        pos,
                        ErrorKind::Invalid,
                        format!("domain name {name:?}: empty or over-long label"),
                    );
                }
                out.push(u8::try_from(label.len()).unwrap_or(63));
                out.extend_from_slice(label.as_bytes());
            }
            out.push(0);
        }
        return Ok(());
    }
    for v in vals {
        match (elem, v) {
            (_, Value::Ip(a)) => out.extend_from_slice(&a.octets()),
            (_, Value::Bool(b)) => out.push(u8::from(*b)),
            (_, Value::Text(t)) => out.extend_from_slice(t.as_bytes()),
            (_, Value::Bytes(b)) => out.extend_from_slice(b),
            (Format::Unsigned(bits) | Format::Signed(bits), Value::Int(n)) => {
                let be = n.to_be_bytes();
                let k = usize::from(*bits / 8);
                out.extend_from_slice(&be[8 - k.min(8)..]);
            }
            (_, Value::Int(n)) => out.push(u8::try_from(*n).unwrap_or_default()),
        }
    }
    Ok(())
}
