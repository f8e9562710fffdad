//! Lease records grouped by /24 block: the unit the store writes to `sled`.
//!
//! Writing every lease as its own `sled` key costs several microseconds of
//! tree and log work per lease on top of the journal. The store instead keeps
//! the encoded records in memory, grouped by the first three octets of their
//! address, and at each checkpoint writes only the blocks that changed, each
//! as one `sled` value:
//!
//! ```text
//! key:   "b" | octet 1 | octet 2 | octet 3
//! value: BLOCK_FORMAT | { octet 4 | len u32 LE | record (len bytes) }*
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::Ipv4Addr;

/// Key prefix of block values in the `sled` tree.
pub const PREFIX: u8 = b'b';
/// Format byte of a block value.
const BLOCK_FORMAT: u8 = 1;

/// A block's `sled` key.
pub fn key(block: u32) -> [u8; 4] {
    let b = block.to_be_bytes();
    [PREFIX, b[1], b[2], b[3]]
}

/// Why a stored block could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BlockError {
    /// The key is not a block key.
    #[error("not a block key")]
    Key,
    /// The value is cut short or has an unknown format.
    #[error("malformed block value at byte {0}")]
    Value(usize),
}

/// The encoded records of every address, by block, with the blocks changed
/// since they were last taken.
#[derive(Debug, Default)]
pub struct BlockMap {
    blocks: HashMap<u32, BTreeMap<u8, Vec<u8>>>,
    dirty: BTreeSet<u32>,
}

fn split(addr: Ipv4Addr) -> (u32, u8) {
    let a = u32::from(addr);
    (a >> 8, (a & 0xff) as u8)
}

impl BlockMap {
    /// Sets the record of `addr`.
    pub fn insert(&mut self, addr: Ipv4Addr, record: Vec<u8>) {
        let (block, last) = split(addr);
        self.blocks.entry(block).or_default().insert(last, record);
        self.dirty.insert(block);
    }

    /// Removes the record of `addr`, if any.
    pub fn remove(&mut self, addr: Ipv4Addr) {
        let (block, last) = split(addr);
        if let Some(b) = self.blocks.get_mut(&block)
            && b.remove(&last).is_some()
        {
            self.dirty.insert(block);
        }
    }

    /// Every record with its address (no particular order).
    pub fn records(&self) -> impl Iterator<Item = (Ipv4Addr, &[u8])> {
        self.blocks.iter().flat_map(|(block, b)| {
            b.iter()
                .map(move |(last, r)| (Ipv4Addr::from(block << 8 | u32::from(*last)), &r[..]))
        })
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.blocks.values().map(BTreeMap::len).sum()
    }

    /// Whether there is no record.
    pub fn is_empty(&self) -> bool {
        self.blocks.values().all(BTreeMap::is_empty)
    }

    /// Adds a block read from the store (not marked changed).
    pub fn load(&mut self, key: &[u8], value: &[u8]) -> Result<(), BlockError> {
        let [PREFIX, a, b, c] = key else {
            return Err(BlockError::Key);
        };
        let block = u32::from_be_bytes([0, *a, *b, *c]);
        let records = decode(value)?;
        self.blocks.insert(block, records);
        Ok(())
    }

    /// The blocks changed since the last call; they count as unchanged
    /// after. Encode each with [`BlockMap::encode_block`] (a separate call,
    /// so a caller sharing the map can release it in between).
    pub fn take_changed(&mut self) -> Vec<u32> {
        std::mem::take(&mut self.dirty).into_iter().collect()
    }

    /// Marks `blocks` changed again: a write of them that failed must be
    /// repeated by the next one.
    pub fn mark_changed(&mut self, blocks: &[u32]) {
        self.dirty.extend(blocks.iter().copied());
    }

    /// A block's key and its encoded value as it is now (`None`: the block
    /// is empty and its key should be removed; it is forgotten then).
    pub fn encode_block(&mut self, block: u32) -> ([u8; 4], Option<Vec<u8>>) {
        let value = match self.blocks.get(&block) {
            Some(b) if !b.is_empty() => Some(encode(b)),
            _ => {
                self.blocks.remove(&block);
                None
            }
        };
        (key(block), value)
    }

    /// Whether any block changed since [`BlockMap::take_changed`].
    pub fn has_changes(&self) -> bool {
        !self.dirty.is_empty()
    }
}

fn encode(records: &BTreeMap<u8, Vec<u8>>) -> Vec<u8> {
    let size: usize = records.values().map(|r| r.len() + 5).sum();
    let mut v = Vec::with_capacity(1 + size);
    v.push(BLOCK_FORMAT);
    for (last, r) in records {
        v.push(*last);
        v.extend_from_slice(&(r.len() as u32).to_le_bytes());
        v.extend_from_slice(r);
    }
    v
}

fn decode(value: &[u8]) -> Result<BTreeMap<u8, Vec<u8>>, BlockError> {
    let Some((&BLOCK_FORMAT, mut rest)) = value.split_first() else {
        return Err(BlockError::Value(0));
    };
    let mut records = BTreeMap::new();
    while !rest.is_empty() {
        let at = value.len() - rest.len();
        let (&last, after) = rest.split_first().ok_or(BlockError::Value(at))?;
        let len = after
            .get(..4)
            .and_then(|l| <[u8; 4]>::try_from(l).ok())
            .map(u32::from_le_bytes)
            .ok_or(BlockError::Value(at))? as usize;
        let record = after.get(4..4 + len).ok_or(BlockError::Value(at))?;
        records.insert(last, record.to_vec());
        rest = &after[4 + len..];
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_blocks_round_trip() {
        let mut m = BlockMap::default();
        m.insert(Ipv4Addr::new(10, 99, 1, 5), b"five".to_vec());
        m.insert(Ipv4Addr::new(10, 99, 1, 6), b"six".to_vec());
        m.insert(Ipv4Addr::new(10, 99, 2, 0), b"".to_vec());
        let changed: Vec<_> = m
            .take_changed()
            .into_iter()
            .map(|b| m.encode_block(b))
            .collect();
        assert_eq!(changed.len(), 2);
        assert!(!m.has_changes());
        let mut back = BlockMap::default();
        for (k, v) in &changed {
            back.load(k, v.as_ref().unwrap()).unwrap();
        }
        let mut records: Vec<_> = back.records().map(|(a, r)| (a, r.to_vec())).collect();
        records.sort();
        assert_eq!(
            records,
            vec![
                (Ipv4Addr::new(10, 99, 1, 5), b"five".to_vec()),
                (Ipv4Addr::new(10, 99, 1, 6), b"six".to_vec()),
                (Ipv4Addr::new(10, 99, 2, 0), b"".to_vec()),
            ]
        );
        // Only the block touched since is changed; emptied blocks are removed.
        back.remove(Ipv4Addr::new(10, 99, 2, 0));
        back.remove(Ipv4Addr::new(10, 99, 3, 1));
        assert_eq!(back.take_changed(), vec![0x0a6302]);
        assert_eq!(back.encode_block(0x0a6302), (key(0x0a6302), None));
        assert_eq!(back.len(), 2);
    }

    #[test]
    fn malformed_blocks_are_errors() {
        let mut m = BlockMap::default();
        assert_eq!(m.load(b"a123", &[BLOCK_FORMAT]), Err(BlockError::Key));
        assert_eq!(m.load(b"b12", &[BLOCK_FORMAT]), Err(BlockError::Key));
        assert_eq!(m.load(b"b123", &[]), Err(BlockError::Value(0)));
        assert_eq!(m.load(b"b123", &[9]), Err(BlockError::Value(0)));
        assert_eq!(
            m.load(b"b123", &[BLOCK_FORMAT, 7, 5, 0, 0, 0, 1]),
            Err(BlockError::Value(1))
        );
        assert_eq!(
            m.load(b"b123", &[BLOCK_FORMAT, 7, 5]),
            Err(BlockError::Value(1))
        );
        assert!(m.is_empty());
    }
}
