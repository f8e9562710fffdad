//! The corpus: every `tests/corpus/*.conf` is parsed and the result (the
//! TOML of the accepted configuration with its ISC-only notes, or the error
//! in both its forms) must equal the file's `.expected` exactly.
//! `UPDATE_EXPECTED=1 cargo test -p dhcp-isc --test corpus` rewrites them.
//!
//! Second test: when ISC dhcpd is installed (`/usr/sbin/dhcpd`, Debian
//! isc-dhcp-server), `dhcpd -t -cf` must accept every file we accept.

use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    files.sort();
    files
}

/// The path as the parser sees it: relative to the crate, so outputs do
/// not depend on where the repository is.
fn relative(p: &Path) -> PathBuf {
    p.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap()
        .to_owned()
}

fn outcome(p: &Path) -> (bool, String) {
    match dhcp_isc::parse_file(&relative(p)) {
        Ok(c) => (true, c.to_toml().unwrap()),
        Err(e) => (
            false,
            format!("error: {e}\n--- as ISC prints it:\n{}\n", e.isc_render()),
        ),
    }
}

#[test]
fn corpus_matches_expected() {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let files = corpus();
    assert!(files.len() >= 30, "the corpus has {} files", files.len());
    let update = std::env::var_os("UPDATE_EXPECTED").is_some();
    let mut failures = Vec::new();
    let (mut ok, mut refused) = (0, 0);
    for f in &files {
        let (accepted, got) = outcome(f);
        if accepted {
            ok += 1;
        } else {
            refused += 1;
        }
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        // Names say which way a file must go: v… accepted, e… refused.
        if name.starts_with('v') != accepted {
            failures.push(format!("{name}: accepted = {accepted}\n{got}"));
        }
        let exp = f.with_extension("expected");
        if update {
            std::fs::write(&exp, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&exp).unwrap_or_default();
        if want != got {
            failures.push(format!(
                "{name}: output differs\n--- want\n{want}\n--- got\n{got}"
            ));
        }
    }
    println!(
        "corpus: {} files, {ok} accepted, {refused} refused",
        files.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn isc_dhcpd_accepts_what_we_accept() {
    let dhcpd = Path::new("/usr/sbin/dhcpd");
    if !dhcpd.exists() {
        println!("SKIPPED: /usr/sbin/dhcpd is not installed (apt-get install isc-dhcp-server)");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut files = corpus();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    files.push(fixtures.join("maas-primary.conf"));
    files.push(fixtures.join("maas-secondary.conf"));
    for f in files {
        if dhcp_isc::parse_file(&f).is_err() {
            continue;
        }
        // Relative includes: ISC reads them from its working directory.
        let out = Command::new(dhcpd)
            .arg("-t")
            .arg("-cf")
            .arg(&f)
            .current_dir(&dir)
            .output()
            .unwrap();
        checked += 1;
        if !out.status.success() {
            failures.push(format!(
                "{}: dhcpd -t refused:\n{}",
                f.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    println!(
        "dhcpd -t accepted {} of the {checked} files we accept",
        checked - failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
