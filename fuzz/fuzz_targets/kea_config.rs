//! Arbitrary text as a Kea `Dhcp4` JSON file: comments stripped, parsed,
//! converted and validated by `dhcp-kea` (which reads no other file). It
//! must return a configuration or an error, never panic; one it accepts
//! must render as TOML and display its errors.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match dhcp_kea::parse_str(text, "kea-dhcp4.conf") {
        Ok(parsed) => {
            let _ = parsed.to_toml();
        }
        Err(e) => {
            let _ = e.to_string();
            let _ = e.kea_render();
        }
    }
});
