//! Arbitrary text as an ISC `dhcpd.conf`: read, converted and validated by
//! `dhcp-isc`, with every `include` refused (the fuzzer must not read
//! files). It must return a configuration or an error, never panic; one it
//! accepts must render as TOML and display its errors.

#![no_main]

use dhcp_isc::parse_str_with;
use libfuzzer_sys::fuzz_target;

fn refuse(path: &std::path::Path) -> std::io::Result<String> {
    Err(std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        format!("the fuzz target reads no file ({})", path.display()),
    ))
}

fuzz_target!(|text: &str| {
    match parse_str_with(text, "dhcpd.conf", refuse) {
        Ok(parsed) => {
            let _ = parsed.to_toml();
        }
        Err(e) => {
            let _ = e.to_string();
            let _ = e.isc_render();
        }
    }
});
