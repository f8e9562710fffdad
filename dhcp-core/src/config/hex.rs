//! Hex and MAC address text forms used by the configuration (and their serde
//! adapters).

/// Parses `aa:bb:cc:dd:ee:ff` (also `-` separated) into Ethernet bytes.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let bytes = parse_hex_bytes(s)?;
    bytes.try_into().ok()
}

/// Parses colon- or dash-separated hex bytes (`01:aa:0b`), or a plain hex string.
pub fn parse_hex_bytes(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if s.contains(':') || s.contains('-') {
        s.split([':', '-'])
            .map(|p| {
                if p.is_empty() || p.len() > 2 {
                    None
                } else {
                    u8::from_str_radix(p, 16).ok()
                }
            })
            .collect()
    } else {
        if !s.len().is_multiple_of(2) {
            return None;
        }
        (0..s.len())
            .step_by(2)
            .map(|i| s.get(i..i + 2).and_then(|p| u8::from_str_radix(p, 16).ok()))
            .collect()
    }
}

/// Formats bytes as colon-separated lowercase hex.
pub fn format_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push_str(&format!("{b:02x}"));
    }
    s
}

pub(super) mod mac_serde {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    use crate::lease::HwAddr;

    pub fn serialize<S: Serializer>(v: &Option<HwAddr>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(hw) => s.serialize_str(&super::format_hex(&hw.addr)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<HwAddr>, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_mac(&s)
            .map(|m| Some(HwAddr::ethernet(m)))
            .ok_or_else(|| D::Error::custom(format!("invalid MAC address {s:?}")))
    }
}

pub(super) mod hex_serde {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_str(&super::format_hex(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let s = String::deserialize(d)?;
        match super::parse_hex_bytes(&s) {
            Some(b) if !b.is_empty() => Ok(Some(b)),
            _ => Err(D::Error::custom(format!("invalid hex bytes {s:?}"))),
        }
    }
}
