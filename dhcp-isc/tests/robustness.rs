//! The parser never panics: every prefix of the MAAS fixture, and the
//! fixture with bytes replaced at many places, parse to a result or an
//! error, never a panic; every error is located or is a model error.

use std::path::Path;

fn fixture() -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/maas-primary.conf");
    std::fs::read_to_string(p).unwrap()
}

fn check(text: &str) {
    if let Err(e) = dhcp_isc::parse_str(text, "fuzz.conf") {
        let shown = e.isc_render();
        assert!(!shown.is_empty());
        if let Some(d) = e.diagnostic() {
            assert!(d.line >= 1, "{shown}");
        }
    }
}

#[test]
fn every_prefix_parses_or_fails_cleanly() {
    let text = fixture();
    for (i, _) in text.char_indices().step_by(3) {
        check(&text[..i]);
    }
}

#[test]
fn replaced_bytes_parse_or_fail_cleanly() {
    let text = fixture();
    let bytes = text.as_bytes();
    // A small deterministic generator (xorshift), so failures reproduce.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let alphabet = b"{};,()=!~\"#\n 0123456789abcdef:.-_xyzoptionifelsif";
    for _ in 0..3000 {
        let mut b = bytes.to_vec();
        for _ in 0..3 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let at = (x as usize) % b.len();
            b[at] = alphabet[((x >> 32) as usize) % alphabet.len()];
        }
        check(&String::from_utf8_lossy(&b));
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let text = format!(
        "subnet 10.99.0.0 netmask 255.255.255.0 {{ if {} 1 {} {{ }} }}",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    check(&text);
    let text = format!("on commit {{ set a = {}1; }}", "not ".repeat(5000));
    check(&text);
    let text = "shared-network a { ".repeat(5000);
    check(&text);
}

#[test]
fn include_loop_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.conf");
    std::fs::write(&a, "include \"a.conf\";\n").unwrap();
    let e = dhcp_isc::parse_file(&a).unwrap_err();
    assert!(e.to_string().contains("nested more than"), "{e}");
}

#[test]
fn an_include_reader_decides_what_is_read() {
    fn refuse(_: &Path) -> std::io::Result<String> {
        Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "no file is read here",
        ))
    }
    fn given(path: &Path) -> std::io::Result<String> {
        assert_eq!(path, Path::new("extra.conf"));
        Ok("subnet 10.99.0.0 netmask 255.255.255.0 { range 10.99.0.10 10.99.0.20; }\n".into())
    }
    // An existing file, refused all the same: the reader alone reads.
    let text = format!("include \"{}\";\n", file!());
    let e = dhcp_isc::parse_str_with(&text, "untrusted.conf", refuse).unwrap_err();
    assert_eq!(
        e.diagnostic().map(|d| d.kind),
        Some(dhcp_isc::ErrorKind::Include)
    );
    assert!(e.to_string().contains("no file is read here"), "{e}");
    let parsed = dhcp_isc::parse_str_with("include \"extra.conf\";\n", "main.conf", given).unwrap();
    assert_eq!(parsed.config.subnets.len(), 1);
    assert_eq!(parsed.files, ["main.conf", "extra.conf"]);
}
