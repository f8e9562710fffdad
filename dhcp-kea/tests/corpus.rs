//! The corpus: every `tests/corpus/valid/*.json` must be accepted and every
//! `tests/corpus/invalid/*.json` refused, and the result (the TOML of the
//! accepted configuration with its Kea-only notes, or the error) must equal
//! the file's `.expected` exactly.
//! `UPDATE_EXPECTED=1 cargo test -p dhcp-kea --test corpus` rewrites them.
//! An accepted file's TOML must load back as the same configuration.
//!
//! Second test: when Kea 2.2 is installed (`/usr/sbin/kea-dhcp4`, Debian's
//! kea-dhcp4-server), `kea-dhcp4 -t` must accept every valid file (those
//! naming a hook library this machine lacks are skipped, and said so).

use std::path::{Path, PathBuf};
use std::process::Command;

fn files(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
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

fn check(kind: &str, min: usize) {
    std::env::set_current_dir(env!("CARGO_MANIFEST_DIR")).unwrap();
    let files = files(kind);
    assert!(files.len() >= min, "{kind}: {} files", files.len());
    let update = std::env::var_os("UPDATE_EXPECTED").is_some();
    let mut failures = Vec::new();
    for f in &files {
        let (accepted, got) = match dhcp_kea::parse_file(&relative(f)) {
            Ok(c) => {
                let toml = c.to_toml().unwrap();
                // What import-kea prints loads back as the same model.
                let back = dhcp_core::config::Config::from_toml(&toml).unwrap();
                assert_eq!(back, c.config, "{}: TOML round trip", f.display());
                (true, toml)
            }
            Err(e) => (false, format!("error: {e}\n")),
        };
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if accepted != (kind == "valid") {
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
    println!("corpus {kind}: {} files", files.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn valid_files_give_their_toml() {
    check("valid", 4);
}

#[test]
fn invalid_files_give_their_errors() {
    check("invalid", 20);
}

/// The hook library paths a Kea file names.
fn libraries(text: &str) -> Vec<String> {
    text.split("\"library\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').nth(1).map(str::to_owned))
        .collect()
}

#[test]
fn kea_accepts_what_we_accept() {
    let kea = Path::new("/usr/sbin/kea-dhcp4");
    if !kea.exists() {
        println!(
            "SKIPPED: /usr/sbin/kea-dhcp4 is not installed (apt-get install kea-dhcp4-server)"
        );
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for f in files("valid") {
        let text = std::fs::read_to_string(&f).unwrap();
        let missing: Vec<String> = libraries(&text)
            .into_iter()
            .filter(|l| !Path::new(l).exists())
            .collect();
        if !missing.is_empty() {
            println!(
                "{}: not checked by Kea: {} not installed",
                f.display(),
                missing.join(", ")
            );
            continue;
        }
        // Relative include paths are taken from the working directory.
        let out = Command::new(kea)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .arg("-t")
            .arg(&f)
            .env("KEA_PIDFILE_DIR", scratch.path())
            .env("KEA_LOCKFILE_DIR", scratch.path())
            .output()
            .unwrap();
        checked += 1;
        if !out.status.success() {
            failures.push(format!(
                "{}: kea-dhcp4 -t refused:\n{}{}",
                f.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    println!(
        "kea-dhcp4 -t accepted {} of the {checked} files checked",
        checked - failures.len()
    );
    assert!(checked >= 5, "only {checked} files checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
