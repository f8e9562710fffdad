//! Arbitrary text as the daemon's TOML configuration: `Config::from_toml`
//! parses and validates; it must return a configuration or an error, never
//! panic. A configuration it accepts must also build an engine.

#![no_main]

use dhcp_core::config::Config;
use dhcp_core::engine::Engine;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(cfg) = Config::from_toml(text) {
        let _ = Engine::new(cfg);
    }
});
