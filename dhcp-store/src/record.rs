//! The encoding of one lease record, shared by the journal and the blocks.

use dhcp_core::lease::Lease;

use crate::error::StoreError;

/// Record format version byte, first byte of every stored lease value.
pub(crate) const FORMAT: u8 = 1;

/// Encodes a lease record (format byte + postcard).
pub fn encode_lease(l: &Lease) -> Result<Vec<u8>, StoreError> {
    let mut v = vec![FORMAT];
    let body = postcard::to_stdvec(l).map_err(|e| StoreError::Encode(e.to_string()))?;
    v.extend(body);
    Ok(v)
}

/// Decodes a lease record.
pub fn decode_lease(key: &[u8], v: &[u8]) -> Result<Lease, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        key: key.to_vec(),
        reason,
    };
    match v.split_first() {
        Some((&FORMAT, body)) => postcard::from_bytes(body).map_err(|e| corrupt(e.to_string())),
        Some((f, _)) => Err(corrupt(format!("unknown format {f}"))),
        None => Err(corrupt("empty record".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_record_is_a_typed_error() {
        assert!(matches!(
            decode_lease(b"a", &[9, 1, 2]),
            Err(StoreError::Corrupt { .. })
        ));
        assert!(matches!(
            decode_lease(b"a", &[FORMAT, 0xff]),
            Err(StoreError::Corrupt { .. })
        ));
        assert!(matches!(
            decode_lease(b"a", &[]),
            Err(StoreError::Corrupt { .. })
        ));
    }
}
