//! The commit journal: a write-ahead log that makes lease commits durable with
//! one `write` + `fdatasync` per batch, so that `sled` itself is flushed only
//! at checkpoints.
//!
//! Two fixed-size files, `journal-0` and `journal-1`, are zero-filled once when
//! created and afterwards only overwritten in place: an `fdatasync` then has
//! no file-size or extent metadata to write, only the data blocks.
//!
//! One file is *active* and receives every commit. When a batch does not fit,
//! the other file becomes active (its header is rewritten with the next
//! sequence number) and the full one is *retired*: its records stay needed
//! until the database has been flushed past them (a checkpoint, run by the
//! owner), after which the file is free to be reused.
//!
//! Layout of a file:
//!
//! ```text
//! header  (32 bytes): "DHCPJRN1" | start_seq u64 LE | crc32(previous 16) u32 LE | zeros
//! record:             len u32 LE | crc32(seq ‖ payload) u32 LE | seq u64 LE | payload (len bytes)
//! ```
//!
//! Records carry consecutive sequence numbers starting at the header's
//! `start_seq`. Reading stops at the first record whose length, checksum or
//! sequence number is wrong: that is either a torn write whose commit never
//! returned, or a stale record left over from the file's previous use (its
//! sequence number is smaller than the header's). A file whose header is
//! invalid holds no records.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Size of each journal file unless configured otherwise (two are kept).
pub const DEFAULT_FILE_BYTES: u64 = 8 << 20;
/// Smallest accepted file size.
pub const MIN_FILE_BYTES: u64 = 4096;

const MAGIC: &[u8; 8] = b"DHCPJRN1";
const HEADER: u64 = 32;
const RECORD_HEADER: usize = 16;

/// A journal failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// Reading or writing a journal file failed.
    #[error("journal {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The batch is larger than a whole journal file.
    #[error("a batch of {0} bytes does not fit in a journal file")]
    TooLarge(usize),
    /// Both files hold records that are not yet checkpointed.
    #[error("no free journal file: a checkpoint is still due")]
    Full,
}

struct JournalFile {
    path: PathBuf,
    file: File,
    /// Where the next record goes.
    end: u64,
}

impl JournalFile {
    fn io(&self, source: std::io::Error) -> JournalError {
        JournalError::Io {
            path: self.path.clone(),
            source,
        }
    }

    fn write_header(&mut self, start_seq: u64) -> Result<(), JournalError> {
        let mut h = [0u8; HEADER as usize];
        h[..8].copy_from_slice(MAGIC);
        h[8..16].copy_from_slice(&start_seq.to_le_bytes());
        let crc = crc32fast::hash(&h[..16]);
        h[16..20].copy_from_slice(&crc.to_le_bytes());
        self.file.write_all_at(&h, 0).map_err(|e| self.io(e))?;
        self.file.sync_data().map_err(|e| self.io(e))?;
        self.end = HEADER;
        Ok(())
    }
}

/// What [`Journal::open`] found: the records of both files, oldest first, to
/// be applied to the database before anything else.
#[derive(Debug, Default)]
pub struct Replay {
    /// Payloads in commit order.
    pub records: Vec<Vec<u8>>,
}

/// A journal file retired by [`Journal::append`]: release it with
/// [`Journal::release`] once the database is durable past its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retired {
    /// Which file (0 or 1).
    pub file: usize,
    /// Tells a late release of an earlier retirement from this one.
    generation: u64,
}

/// What [`Journal::open`] found in one file, kept for [`Journal::resume`].
#[derive(Debug, Clone, Copy)]
struct Found {
    /// The header's first sequence number.
    start: u64,
    /// How many valid records follow it.
    records: u64,
    /// Where the last valid record ends.
    end: u64,
}

impl Found {
    /// Orders files newest first: the one whose records reach furthest,
    /// then (both empty, or ending at the same point) the later header.
    fn newness(&self) -> (u64, u64) {
        (self.start + self.records, self.start)
    }
}

/// The two-file commit journal.
pub struct Journal {
    files: [JournalFile; 2],
    /// Each file's contents as found at open (`None`: no valid header).
    found: [Option<Found>; 2],
    capacity: u64,
    active: usize,
    /// Whether the inactive file still holds records not yet checkpointed.
    retired_pending: bool,
    /// Bumped at every retirement and reset.
    generation: u64,
    next_seq: u64,
    scratch: Vec<u8>,
}

/// One file as read back: its header's first sequence number and its valid
/// records, each with its sequence number.
struct Parsed<'a> {
    start: u64,
    records: Vec<(u64, &'a [u8])>,
    /// Where the last valid record ends.
    end: u64,
}

/// Parses one file's header and valid records.
fn parse(bytes: &[u8]) -> Option<Parsed<'_>> {
    let h = bytes.get(..HEADER as usize)?;
    if &h[..8] != MAGIC {
        return None;
    }
    let crc = u32::from_le_bytes(h[16..20].try_into().ok()?);
    if crc != crc32fast::hash(&h[..16]) {
        return None;
    }
    let start = u64::from_le_bytes(h[8..16].try_into().ok()?);
    let mut records = Vec::new();
    let mut at = HEADER as usize;
    let mut want = start;
    while let Some(rh) = bytes.get(at..at + RECORD_HEADER) {
        let len = u32::from_le_bytes([rh[0], rh[1], rh[2], rh[3]]) as usize;
        let crc = u32::from_le_bytes([rh[4], rh[5], rh[6], rh[7]]);
        let seq_bytes = &rh[8..16];
        let seq = u64::from_le_bytes(seq_bytes.try_into().ok()?);
        if len == 0 || seq != want {
            break;
        }
        let Some(payload) = bytes.get(at + RECORD_HEADER..at + RECORD_HEADER + len) else {
            break;
        };
        let mut h = crc32fast::Hasher::new();
        h.update(seq_bytes);
        h.update(payload);
        if h.finalize() != crc {
            break;
        }
        records.push((seq, payload));
        want += 1;
        at += RECORD_HEADER + len;
    }
    Some(Parsed {
        start,
        records,
        end: at as u64,
    })
}

fn open_file(path: PathBuf, capacity: u64) -> Result<(JournalFile, Vec<u8>), JournalError> {
    let io = |source| JournalError::Io {
        path: path.clone(),
        source,
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(io)?;
    if (bytes.len() as u64) < capacity {
        // Zero-fill to full size once, so that later writes never extend it.
        let zeros = vec![0u8; (capacity - bytes.len() as u64) as usize];
        file.write_all_at(&zeros, bytes.len() as u64).map_err(io)?;
        file.sync_all().map_err(io)?;
    }
    Ok((
        JournalFile {
            path,
            file,
            end: HEADER,
        },
        bytes,
    ))
}

impl Journal {
    /// Opens (creating when missing) the journal files in `dir`, each
    /// `capacity` bytes, and returns the records they hold, oldest first.
    ///
    /// The caller applies the replay to the database and makes it durable,
    /// then calls [`Journal::reset`] before appending.
    pub fn open(dir: &Path, capacity: u64) -> Result<(Self, Replay), JournalError> {
        let capacity = capacity.max(MIN_FILE_BYTES);
        let (f0, b0) = open_file(dir.join("journal-0"), capacity)?;
        let (f1, b1) = open_file(dir.join("journal-1"), capacity)?;
        let both = [parse(&b0), parse(&b1)];
        let found = both.each_ref().map(|p| {
            p.as_ref().map(|p| Found {
                start: p.start,
                records: p.records.len() as u64,
                end: p.end,
            })
        });
        let mut parsed: Vec<Parsed<'_>> = both.into_iter().flatten().collect();
        parsed.sort_by_key(|p| p.start);
        let mut next_seq = 1;
        let mut replay = Replay::default();
        for p in &parsed {
            next_seq = next_seq.max(p.start);
            for (seq, payload) in &p.records {
                next_seq = next_seq.max(seq + 1);
                replay.records.push(payload.to_vec());
            }
        }
        let journal = Journal {
            files: [f0, f1],
            found,
            capacity,
            active: 0,
            retired_pending: true,
            generation: 0,
            next_seq,
            scratch: Vec::new(),
        };
        Ok((journal, replay))
    }

    /// Goes on from the records found at open instead of starting over:
    /// for a store whose database cannot take the replay yet (a full disk),
    /// so that commits go on into the journal, which needs no new space.
    ///
    /// The records found stay until a checkpoint has made them durable in
    /// the database: the returned file (if any held records) is retired, to
    /// be released with [`Journal::release`] after that checkpoint, exactly
    /// as one retired by [`Journal::append`]. New records never follow a
    /// torn or stale tail: they go to the other file when it holds nothing,
    /// and otherwise after the newest file's last valid record, with the
    /// rest of that file zeroed first.
    pub fn resume(&mut self) -> Result<Option<Retired>, JournalError> {
        let holds = |f: &Option<Found>| f.is_some_and(|f| f.records > 0);
        let newest = match self.found {
            [Some(a), Some(b)] if b.newness() > a.newness() => 1,
            [None, Some(_)] => 1,
            _ => 0,
        };
        let other = 1 - newest;
        self.generation += 1;
        let generation = self.generation;
        let retired = if !holds(&self.found[other]) {
            // The normal retirement: a fresh header on the empty file.
            self.files[other].write_header(self.next_seq)?;
            self.active = other;
            holds(&self.found[newest]).then_some(Retired {
                file: newest,
                generation,
            })
        } else {
            let end = self.found[newest].map_or(HEADER, |f| f.end);
            let f = &mut self.files[newest];
            if self.found[newest].is_none() {
                f.write_header(self.next_seq)?;
            } else {
                let zeros = vec![0u8; (self.capacity - end) as usize];
                f.file.write_all_at(&zeros, end).map_err(|e| f.io(e))?;
                f.file.sync_data().map_err(|e| f.io(e))?;
                f.end = end;
            }
            self.active = newest;
            Some(Retired {
                file: other,
                generation,
            })
        };
        self.retired_pending = retired.is_some();
        self.found = [None, None];
        Ok(retired)
    }

    /// Starts over with both files empty: call once everything the journal
    /// held is durable in the database.
    pub fn reset(&mut self) -> Result<(), JournalError> {
        let seq = self.next_seq;
        // The inactive file first: if a crash comes in between, the active
        // file still describes itself correctly.
        let inactive = 1 - self.active;
        self.files[inactive].write_header(seq)?;
        self.files[self.active].write_header(seq)?;
        self.retired_pending = false;
        self.generation += 1;
        Ok(())
    }

    /// Appends `payloads` as one batch and returns once it is durable.
    ///
    /// Returns `Ok(Some(retired))` when the batch did not fit and the journal
    /// moved to the other file: the full file is now retired and must be
    /// released with [`Journal::release`] after a checkpoint. Fails with
    /// [`JournalError::Full`] when the other file is still retired, and with
    /// [`JournalError::TooLarge`] when the batch exceeds a whole file.
    pub fn append<'a>(
        &mut self,
        payloads: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Option<Retired>, JournalError> {
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        let first_seq = self.next_seq;
        let mut seq = first_seq;
        for p in payloads {
            buf.extend_from_slice(&(p.len() as u32).to_le_bytes());
            let mut h = crc32fast::Hasher::new();
            h.update(&seq.to_le_bytes());
            h.update(p);
            buf.extend_from_slice(&h.finalize().to_le_bytes());
            buf.extend_from_slice(&seq.to_le_bytes());
            buf.extend_from_slice(p);
            seq += 1;
        }
        let result = self.write_batch(&buf, first_seq, seq);
        self.scratch = buf;
        result
    }

    fn write_batch(
        &mut self,
        buf: &[u8],
        first_seq: u64,
        next_seq: u64,
    ) -> Result<Option<Retired>, JournalError> {
        if buf.is_empty() {
            return Ok(None);
        }
        if buf.len() as u64 > self.capacity - HEADER {
            return Err(JournalError::TooLarge(buf.len()));
        }
        let mut retired = None;
        if self.files[self.active].end + buf.len() as u64 > self.capacity {
            if self.retired_pending {
                return Err(JournalError::Full);
            }
            let next = 1 - self.active;
            self.files[next].write_header(first_seq)?;
            self.generation += 1;
            retired = Some(Retired {
                file: self.active,
                generation: self.generation,
            });
            self.active = next;
            self.retired_pending = true;
        }
        let f = &mut self.files[self.active];
        f.file.write_all_at(buf, f.end).map_err(|e| f.io(e))?;
        f.file.sync_data().map_err(|e| f.io(e))?;
        f.end += buf.len() as u64;
        self.next_seq = next_seq;
        Ok(retired)
    }

    /// Whether a file is retired and waiting for a checkpoint.
    pub fn checkpoint_due(&self) -> bool {
        self.retired_pending
    }

    /// Marks the retired file free again: everything it held is now durable
    /// in the database. A release that comes after a later retirement or a
    /// reset is ignored.
    pub fn release(&mut self, retired: Retired) {
        if retired.generation == self.generation {
            self.retired_pending = false;
        }
    }

    /// Bytes each journal file holds.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("capacity", &self.capacity)
            .field("active", &self.active)
            .field("retired_pending", &self.retired_pending)
            .field("next_seq", &self.next_seq)
            .finish()
    }
}

/// Writes a file's bytes for tests that damage a journal.
#[cfg(test)]
fn overwrite(path: &Path, at: u64, bytes: &[u8]) {
    let f = OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(bytes, at).unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new journal of the smallest size, reset, in its own directory.
    fn fresh() -> (tempfile::TempDir, Journal) {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, replay) = Journal::open(dir.path(), MIN_FILE_BYTES).unwrap();
        assert!(replay.records.is_empty());
        j.reset().unwrap();
        (dir, j)
    }

    fn payloads(range: std::ops::Range<u32>) -> Vec<Vec<u8>> {
        range.map(|i| format!("record-{i}").into_bytes()).collect()
    }

    fn append(j: &mut Journal, p: &[Vec<u8>]) -> Result<Option<Retired>, JournalError> {
        j.append(p.iter().map(|v| v.as_slice()))
    }

    #[test]
    fn records_come_back_in_order_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, replay) = Journal::open(dir.path(), MIN_FILE_BYTES).unwrap();
        assert!(replay.records.is_empty());
        j.reset().unwrap();
        append(&mut j, &payloads(0..3)).unwrap();
        append(&mut j, &payloads(3..5)).unwrap();
        drop(j);
        let (_, replay) = Journal::open(dir.path(), MIN_FILE_BYTES).unwrap();
        assert_eq!(replay.records, payloads(0..5));
    }

    #[test]
    fn reset_forgets_everything() {
        let (dir, mut j) = fresh();
        append(&mut j, &payloads(0..3)).unwrap();
        drop(j);
        let (mut j, replay) = Journal::open(dir.path(), MIN_FILE_BYTES).unwrap();
        assert_eq!(replay.records.len(), 3);
        j.reset().unwrap();
        append(&mut j, &payloads(10..11)).unwrap();
        drop(j);
        let (_, replay) = Journal::open(dir.path(), MIN_FILE_BYTES).unwrap();
        // The stale records after the new one are not read back.
        assert_eq!(replay.records, payloads(10..11));
    }

    #[test]
    fn a_full_file_is_retired_and_both_files_replay_oldest_first() {
        let (dir, mut j) = fresh();
        let big: Vec<Vec<u8>> = (0..100u8).map(|i| vec![i; 100]).collect();
        let mut retired = None;
        let mut written = Vec::new();
        for chunk in big.chunks(3) {
            if let Some(r) = append(&mut j, chunk).unwrap() {
                retired = Some(r);
            }
            written.extend_from_slice(chunk);
            if retired.is_some() {
                break;
            }
        }
        assert_eq!(retired.map(|r| r.file), Some(0));
        assert!(j.checkpoint_due());
        // With the retired file not yet released, filling the active one fails.
        let mut full = false;
        for chunk in big.chunks(3) {
            match append(&mut j, chunk) {
                Ok(_) => written.extend_from_slice(chunk),
                Err(JournalError::Full) => {
                    full = true;
                    break;
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert!(full);
        drop(j);
        let (_, replay) = Journal::open(dir.path(), MIN_FILE_BYTES).unwrap();
        assert_eq!(replay.records, written);
    }

    #[test]
    fn released_files_are_reused() {
        let (dir, mut j) = fresh();
        let rec = vec![vec![7u8; 500]];
        let mut switches = 0;
        for _ in 0..100 {
            if let Some(r) = append(&mut j, &rec).unwrap() {
                switches += 1;
                j.release(r);
            }
        }
        assert!(switches > 5);
        drop(j);
        let (_, replay) = Journal::open(dir.path(), MIN_FILE_BYTES).unwrap();
        // Both files replay (the released one too, harmlessly): the newest
        // records are all there, in order, at the end.
        assert!(replay.records.len() >= 7);
        assert!(replay.records.iter().all(|r| r == &rec[0]));
    }

    #[test]
    fn a_late_release_does_not_free_a_newer_retirement() {
        let (_dir, mut j) = fresh();
        let rec = vec![vec![7u8; 500]];
        let first = loop {
            if let Some(r) = append(&mut j, &rec).unwrap() {
                break r;
            }
        };
        j.reset().unwrap();
        let second = loop {
            if let Some(r) = append(&mut j, &rec).unwrap() {
                break r;
            }
        };
        j.release(first);
        assert!(j.checkpoint_due(), "a stale release freed a retired file");
        j.release(second);
        assert!(!j.checkpoint_due());
    }

    #[test]
    fn a_torn_or_corrupt_record_ends_the_replay() {
        let (dir, mut j) = fresh();
        append(&mut j, &payloads(0..2)).unwrap();
        append(&mut j, &payloads(2..4)).unwrap();
        drop(j);
        // Flip a byte in the third record's payload.
        let first_two: usize = payloads(0..2).iter().map(|p| p.len() + RECORD_HEADER).sum();
        let at = HEADER + first_two as u64 + RECORD_HEADER as u64 + 1;
        overwrite(&dir.path().join("journal-0"), at, b"X");
        let (_, replay) = Journal::open(dir.path(), MIN_FILE_BYTES).unwrap();
        assert_eq!(replay.records, payloads(0..2));
        // A damaged header: the file holds nothing.
        overwrite(&dir.path().join("journal-0"), 9, b"\xff");
        let (_, replay) = Journal::open(dir.path(), MIN_FILE_BYTES).unwrap();
        assert!(replay.records.is_empty());
    }

    #[test]
    fn garbage_files_are_read_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("journal-0"), vec![0xa5; 10_000]).unwrap();
        std::fs::write(dir.path().join("journal-1"), b"short").unwrap();
        let (mut j, replay) = Journal::open(dir.path(), MIN_FILE_BYTES).unwrap();
        assert!(replay.records.is_empty());
        j.reset().unwrap();
        append(&mut j, &payloads(0..1)).unwrap();
    }

    /// Fills file 0 until a batch retires it, so both files hold records.
    fn fill_first_file(j: &mut Journal) -> Vec<Vec<u8>> {
        let mut written = Vec::new();
        for i in 0u32.. {
            let rec = vec![format!("fill-{i:04}-{}", "x".repeat(400)).into_bytes()];
            let retired = append(j, &rec).unwrap();
            written.extend(rec);
            if retired.is_some() {
                return written;
            }
        }
        unreachable!()
    }

    #[test]
    fn resume_goes_on_in_the_empty_file_and_retires_the_full_one() {
        let (dir, mut j) = fresh();
        append(&mut j, &payloads(0..3)).unwrap();
        drop(j);
        let (mut j, replay) = Journal::open(dir.path(), MIN_FILE_BYTES).unwrap();
        assert_eq!(replay.records, payloads(0..3));
        let retired = j
            .resume()
            .unwrap()
            .expect("the file with records is retired");
        assert_eq!(retired.file, 0);
        assert!(j.checkpoint_due());
        append(&mut j, &payloads(3..5)).unwrap();
        drop(j);
        let (mut j, replay) = Journal::open(dir.path(), MIN_FILE_BYTES).unwrap();
        assert_eq!(replay.records, payloads(0..5));
        // Nothing kept from a journal that held nothing.
        j.reset().unwrap();
        drop(j);
        let (mut j, _) = Journal::open(dir.path(), MIN_FILE_BYTES).unwrap();
        assert_eq!(j.resume().unwrap(), None);
        assert!(!j.checkpoint_due());
    }

    #[test]
    fn resume_with_both_files_holding_records_never_revives_a_torn_tail() {
        let (dir, mut j) = fresh();
        let mut written = fill_first_file(&mut j);
        append(&mut j, &payloads(100..102)).unwrap();
        written.extend(payloads(100..102));
        // A batch torn by a crash: its first record damaged, its second
        // whole on disk.
        let end = j.files[1].end;
        append(&mut j, &payloads(200..202)).unwrap();
        drop(j);
        overwrite(
            &dir.path().join("journal-1"),
            end + RECORD_HEADER as u64,
            b"#",
        );
        let (mut j, replay) = Journal::open(dir.path(), MIN_FILE_BYTES).unwrap();
        assert_eq!(replay.records, written);
        let retired = j.resume().unwrap().expect("the older file is retired");
        assert_eq!(retired.file, 0);
        // Both files hold records: a further retirement must wait.
        assert!(j.checkpoint_due());
        // A record of the damaged one's length lands where it was: the
        // intact record after it must not come back with it.
        append(&mut j, &payloads(300..301)).unwrap();
        written.extend(payloads(300..301));
        drop(j);
        let (mut j, replay) = Journal::open(dir.path(), MIN_FILE_BYTES).unwrap();
        assert_eq!(replay.records, written);
        // Released after a checkpoint, the older file is reused.
        let retired = j.resume().unwrap().expect("the older file is retired");
        j.release(retired);
        assert!(!j.checkpoint_due());
    }

    #[test]
    fn an_oversized_batch_is_refused() {
        let (_dir, mut j) = fresh();
        let huge = vec![vec![0u8; MIN_FILE_BYTES as usize]];
        assert!(matches!(
            append(&mut j, &huge),
            Err(JournalError::TooLarge(_))
        ));
    }
}
