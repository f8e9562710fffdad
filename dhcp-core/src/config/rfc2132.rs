//! What RFC 2132 (and RFC 3442 for option 121) require of option values, on
//! the encoded bytes, so that a value is checked the same whatever type it
//! was written with (`hex` included). Options without a rule here are only
//! length-checked by the caller.

/// How an option's data must look.
enum Shape {
    /// Exactly this many bytes.
    Fixed(usize),
    /// One or more groups of this many bytes.
    Groups(usize),
    /// At least one byte.
    NonEmpty,
}

/// A check of a value beyond its shape.
type ValueCheck = fn(&[u8]) -> Result<(), String>;

/// The rule of `code`: its shape and, where the RFC says more, a check of
/// the value.
fn rule(code: u8) -> Option<(Shape, Option<ValueCheck>)> {
    use Shape::*;
    Some(match code {
        1 | 2 | 16 | 24 | 28 | 32 | 35 | 38 | 58 | 59 => (Fixed(4), None),
        3..=11 | 41 | 42 | 44 | 45 | 48 | 49 | 65 | 68..=76 => (Groups(4), None),
        12 | 14 | 15 | 17 | 18 | 40 | 47 | 64 | 66 | 67 => (NonEmpty, None),
        13 => (Fixed(2), None),
        19 | 20 | 27 | 29 | 30 | 31 | 34 | 36 | 39 => (Fixed(1), Some(flag)),
        21 => (Groups(8), None),
        22 => (Fixed(2), Some(reassembly)),
        23 => (Fixed(1), Some(ttl)),
        25 => (Groups(2), Some(plateaus)),
        26 => (Fixed(2), Some(mtu)),
        33 => (Groups(8), Some(static_routes)),
        37 => (Fixed(1), Some(ttl)),
        46 => (Fixed(1), Some(node_type)),
        121 => (NonEmpty, Some(classless_routes)),
        _ => return None,
    })
}

/// Checks the encoded value of option `code` (an error says what is wrong,
/// with the RFC's rule).
pub(super) fn check(code: u8, v: &[u8]) -> Result<(), String> {
    let Some((shape, more)) = rule(code) else {
        return Ok(());
    };
    match shape {
        Shape::Fixed(n) if v.len() != n => {
            return Err(format!(
                "option {code} takes exactly {n} byte(s), not {}",
                v.len()
            ));
        }
        Shape::Groups(n) if v.is_empty() || !v.len().is_multiple_of(n) => {
            return Err(format!(
                "option {code} takes one or more groups of {n} bytes, not {}",
                v.len()
            ));
        }
        Shape::NonEmpty if v.is_empty() => {
            return Err(format!("option {code} must not be empty"));
        }
        _ => {}
    }
    more.map_or(Ok(()), |f| f(v))
}

fn flag(v: &[u8]) -> Result<(), String> {
    if v[0] > 1 {
        return Err("a flag option is 0 or 1 (RFC 2132)".into());
    }
    Ok(())
}

fn be16(v: &[u8]) -> u16 {
    u16::from_be_bytes([v[0], v[1]])
}

fn reassembly(v: &[u8]) -> Result<(), String> {
    if be16(v) < 576 {
        return Err("the maximum datagram reassembly size is at least 576 (RFC 2132 §4.1)".into());
    }
    Ok(())
}

fn ttl(v: &[u8]) -> Result<(), String> {
    if v[0] == 0 {
        return Err("a TTL is 1 to 255 (RFC 2132 §4.2, §6.1)".into());
    }
    Ok(())
}

fn mtu(v: &[u8]) -> Result<(), String> {
    if be16(v) < 68 {
        return Err("the minimum MTU is 68 (RFC 2132 §5.1)".into());
    }
    Ok(())
}

fn plateaus(v: &[u8]) -> Result<(), String> {
    if v.chunks(2).any(|c| be16(c) < 68) {
        return Err("every path MTU plateau is at least 68 (RFC 2132 §4.5)".into());
    }
    Ok(())
}

fn static_routes(v: &[u8]) -> Result<(), String> {
    if v.chunks(8).any(|c| c[..4] == [0, 0, 0, 0]) {
        return Err(
            "0.0.0.0 is not a valid static route destination (RFC 2132 §5.8): use routers, or option 121".into(),
        );
    }
    Ok(())
}

fn node_type(v: &[u8]) -> Result<(), String> {
    if ![1, 2, 4, 8].contains(&v[0]) {
        return Err("the NetBIOS node type is 1, 2, 4 or 8 (RFC 2132 §8.7)".into());
    }
    Ok(())
}

/// RFC 3442: each route is a prefix width (0–32), the significant octets
/// of the destination, then the router's 4 bytes.
fn classless_routes(v: &[u8]) -> Result<(), String> {
    let mut rest = v;
    while let Some((&width, tail)) = rest.split_first() {
        if width > 32 {
            return Err(format!("route prefix width {width} is over 32 (RFC 3442)"));
        }
        let need = usize::from(width).div_ceil(8) + 4;
        if tail.len() < need {
            return Err("a route is cut short (RFC 3442)".into());
        }
        rest = &tail[need..];
    }
    Ok(())
}

/// Encodes classless static routes (RFC 3442) written as
/// `"DEST/WIDTH via ROUTER"`, e.g. `"10.0.0.0/8 via 10.99.0.1"` or
/// `"0.0.0.0/0 via 10.99.0.254"` (the default route).
pub fn encode_classless_routes(routes: &[String]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for r in routes {
        let (dest, router) = r.split_once(" via ")?;
        let (net, width) = dest.trim().split_once('/')?;
        let net: std::net::Ipv4Addr = net.parse().ok()?;
        let width: u8 = width.parse().ok().filter(|w| *w <= 32)?;
        let router: std::net::Ipv4Addr = router.trim().parse().ok()?;
        let masked = if width == 0 {
            0
        } else {
            u32::from(net) & (u32::MAX << (32 - u32::from(width)))
        };
        if masked != u32::from(net) {
            return None;
        }
        out.push(width);
        out.extend_from_slice(&masked.to_be_bytes()[..usize::from(width).div_ceil(8)]);
        out.extend_from_slice(&router.octets());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_3442_examples_encode_and_check() {
        let b = encode_classless_routes(&[
            "10.17.0.0/16 via 10.99.0.1".to_owned(),
            "0.0.0.0/0 via 10.99.0.254".to_owned(),
        ])
        .expect("valid");
        assert_eq!(b, [16, 10, 17, 10, 99, 0, 1, 0, 10, 99, 0, 254]);
        assert!(check(121, &b).is_ok());
        assert!(check(121, &b[..5]).is_err());
        assert!(encode_classless_routes(&["10.17.1.0/16 via 10.99.0.1".to_owned()]).is_none());
        assert!(encode_classless_routes(&["10.0.0.0/33 via 10.99.0.1".to_owned()]).is_none());
    }

    #[test]
    fn rfc_2132_values() {
        assert!(check(23, &[0]).is_err());
        assert!(check(23, &[64]).is_ok());
        assert!(check(22, &575u16.to_be_bytes()).is_err());
        assert!(check(22, &576u16.to_be_bytes()).is_ok());
        assert!(
            check(33, &[10, 0, 0, 0, 10, 99, 0, 1, 1]).is_err(),
            "not in pairs"
        );
        assert!(
            check(33, &[0, 0, 0, 0, 10, 99, 0, 1]).is_err(),
            "default route"
        );
        assert!(check(21, &[10, 0, 0, 0]).is_err(), "filters in pairs");
        assert!(check(3, &[10, 99, 0]).is_err());
        assert!(check(46, &[3]).is_err());
        assert!(check(19, &[2]).is_err());
        assert!(check(200, &[]).is_ok(), "no rule");
    }
}
