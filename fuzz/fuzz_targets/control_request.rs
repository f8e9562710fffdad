//! Arbitrary bytes as one line on the daemon's control socket:
//! `dhcpd::ops::control::protocol::parse_request` (length limit, blank
//! lines, JSON) must give a request, nothing, or a typed error, never panic;
//! a request it accepts must serialise again.

#![no_main]

use dhcpd::ops::control::protocol::{parse_request, to_json_line};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|line: &str| {
    if let Ok(Some(req)) = parse_request(line) {
        let text = to_json_line(&req).expect("a parsed request serialises");
        assert!(parse_request(&text).is_ok(), "a serialised request parses");
    }
});
