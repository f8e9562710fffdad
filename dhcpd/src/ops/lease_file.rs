//! The ISC-format lease file: a view of the lease table in dhcpd.leases(5)
//! syntax at the path ISC's `-lf` names (or `server.lease_file`), for the
//! tools that read ISC's file: `dhcp-lease-list`, `dhcpd-pools`, MAAS's
//! pre-start step, scripts.
//!
//! It is a view, never read back: our leases live in the store
//! (`dhcp-store`), which is what makes an ACK durable. The file is rewritten
//! whole, atomically (a temporary file beside it, `fsync`, `rename`), every
//! [`INTERVAL`] when the table changed and once at shutdown, so a reader
//! never sees half a file and whatever rewrote the file in between (MAAS's
//! pre-start step strips host blocks from it) is simply replaced.
//!
//! Every address that was ever bound is written; free addresses that no
//! client ever held are left out, so the file stays small for a /12 pool.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use dhcp_core::engine::Engine;
use dhcp_core::lease::{BindingState, INFINITE, Lease, UnixTime};

/// Least time between two rewrites while leases change.
pub const INTERVAL: Duration = Duration::from_secs(10);

/// The writer the engine task keeps.
#[derive(Debug)]
pub struct LeaseFile {
    path: PathBuf,
    last: Option<Instant>,
    dirty: bool,
    busy: Arc<AtomicBool>,
}

impl LeaseFile {
    /// A writer for `path` (written first at the first [`LeaseFile::tick`]).
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            last: None,
            dirty: true,
            busy: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Notes that leases changed.
    pub fn touch(&mut self) {
        self.dirty = true;
    }

    /// Called every second by the engine task: when the table changed and
    /// [`INTERVAL`] has passed, snapshots the leases and writes them on a
    /// blocking thread (one write at a time).
    pub fn tick(&mut self, engine: &Engine, now: UnixTime) {
        if !self.dirty || self.last.is_some_and(|t| t.elapsed() < INTERVAL) {
            return;
        }
        if self.busy.swap(true, Ordering::AcqRel) {
            return;
        }
        self.dirty = false;
        self.last = Some(Instant::now());
        let leases = snapshot(engine);
        let path = self.path.clone();
        let busy = Arc::clone(&self.busy);
        tokio::task::spawn_blocking(move || {
            if let Err(e) = write_atomic(&path, render(&leases, now).as_bytes()) {
                tracing::warn!(path = %path.display(), error = %e, "cannot write the ISC lease file");
            }
            busy.store(false, Ordering::Release);
        });
    }

    /// Writes the file now, on this thread (at shutdown).
    pub fn write_now(&self, engine: &Engine, now: UnixTime) -> std::io::Result<()> {
        write_atomic(&self.path, render(&snapshot(engine), now).as_bytes())
    }
}

/// The leases worth writing: every one but those free and never bound.
fn snapshot(engine: &Engine) -> Vec<Lease> {
    engine
        .table()
        .iter()
        .filter(|l| !(l.state.is_free() && l.hw.is_none() && l.client.is_none()))
        .cloned()
        .collect()
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, synced, then renamed over `path`, then the directory synced.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("the lease file path has no file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

/// The lease file's text for `leases`, in address order.
pub fn render(leases: &[Lease], now: UnixTime) -> String {
    let mut sorted: Vec<&Lease> = leases.iter().collect();
    sorted.sort_by_key(|l| l.addr);
    let mut out = String::with_capacity(64 + sorted.len() * 256);
    out.push_str("# dhcpd.leases(5) syntax, written by ");
    out.push_str(env!("CARGO_PKG_NAME"));
    out.push(' ');
    out.push_str(env!("CARGO_PKG_VERSION"));
    out.push_str(" from its store at ");
    out.push_str(&isc_date(now));
    out.push_str(
        " UTC.\n# Rewritten whole from time to time; changes to it are not read back.\n\n",
    );
    out.push_str("authoring-byte-order little-endian;\n\n");
    for l in sorted {
        lease_block(&mut out, l);
    }
    out
}

fn lease_block(out: &mut String, l: &Lease) {
    let _ = writeln!(out, "lease {} {{", l.addr);
    let _ = writeln!(out, "  starts {};", isc_date(l.starts));
    if l.ends == INFINITE {
        out.push_str("  ends never;\n");
    } else {
        let _ = writeln!(out, "  ends {};", isc_date(l.ends));
    }
    for (name, t) in [
        ("tstp", l.tstp),
        ("tsfp", l.tsfp),
        ("atsfp", l.atsfp),
        ("cltt", l.cltt),
    ] {
        if t != 0 {
            let _ = writeln!(out, "  {name} {};", isc_date(t));
        }
    }
    let _ = writeln!(out, "  binding state {};", l.state.name());
    if l.state == BindingState::Active {
        let next = if l.tstp != 0 || l.tsfp != 0 {
            BindingState::Expired
        } else {
            BindingState::Free
        };
        let _ = writeln!(out, "  next binding state {};", next.name());
    }
    if let Some(r) = l.rewind_state {
        let _ = writeln!(out, "  rewind binding state {};", r.name());
    }
    if let Some(hw) = &l.hw {
        let _ = writeln!(out, "  hardware {} {hw};", hardware_type(hw.htype));
    }
    if let Some(id) = &l.client_id {
        let _ = writeln!(out, "  uid {};", quote(id));
    }
    if let Some(h) = &l.hostname {
        let _ = writeln!(out, "  client-hostname {};", quote(h.as_bytes()));
    }
    out.push_str("}\n");
}

/// ISC's names of ARP hardware types in `hardware` statements.
fn hardware_type(htype: u8) -> String {
    match htype {
        1 => "ethernet".into(),
        6 => "token-ring".into(),
        8 => "fddi".into(),
        32 => "infiniband".into(),
        n => format!("unknown-{n}"),
    }
}

/// A quoted string as ISC writes one: printable ASCII as is, `"` and `\`
/// escaped, every other byte as a three-digit octal escape.
fn quote(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    s.push('"');
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                s.push('\\');
                s.push(b as char);
            }
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\{b:03o}");
            }
        }
    }
    s.push('"');
    s
}

/// `W YYYY/MM/DD HH:MM:SS` in UTC, W the weekday (0 = Sunday), as ISC
/// writes times by default.
pub fn isc_date(t: UnixTime) -> String {
    let dt = time::OffsetDateTime::from_unix_timestamp(i64::from(t))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{} {:04}/{:02}/{:02} {:02}:{:02}:{:02}",
        dt.weekday().number_days_from_sunday(),
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use dhcp_core::lease::{ClientKey, HwAddr};

    fn active() -> Lease {
        let mut l = Lease::new_free("10.99.0.7".parse().unwrap(), BindingState::Active);
        l.hw = Some(HwAddr::ethernet([0x52, 0x54, 0, 0x12, 0x34, 0x56]));
        l.client = l.hw.clone().map(ClientKey::Hw);
        l.client_id = Some(vec![1, 0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        l.hostname = Some("node\"1".into());
        l.starts = 1_764_774_000; // Wed 2025-12-03 15:00:00 UTC
        l.ends = l.starts + 600;
        l.cltt = l.starts;
        l
    }

    #[test]
    fn dates_are_isc_shaped() {
        assert_eq!(isc_date(0), "4 1970/01/01 00:00:00");
        assert_eq!(isc_date(1_764_774_000), "3 2025/12/03 15:00:00");
    }

    #[test]
    fn a_lease_block_in_isc_syntax() {
        let text = render(&[active()], 1_764_774_000);
        let block = &text[text.find("lease 10.99.0.7").unwrap()..];
        assert_eq!(
            block,
            "lease 10.99.0.7 {\n  starts 3 2025/12/03 15:00:00;\n  ends 3 2025/12/03 15:10:00;\n  \
             cltt 3 2025/12/03 15:00:00;\n  binding state active;\n  next binding state free;\n  \
             hardware ethernet 52:54:00:12:34:56;\n  uid \"\\001RT\\000\\0224V\";\n  \
             client-hostname \"node\\\"1\";\n}\n"
        );
        assert!(text.contains("authoring-byte-order little-endian;"));
    }

    #[test]
    fn infinite_leases_never_end_and_write_is_atomic() {
        let mut l = active();
        l.ends = INFINITE;
        let text = render(&[l], 0);
        assert!(text.contains("  ends never;\n"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dhcpd.leases");
        std::fs::write(&path, "rewritten by someone else").unwrap();
        write_atomic(&path, text.as_bytes()).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );
    }
}
