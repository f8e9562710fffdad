//! Arbitrary bytes as what an OMAPI client sends: first the message decoder
//! alone (`omapi::wire::decode`), then a whole session (startup, messages,
//! requests carried out on an in-memory backend), fed in two pieces as a
//! socket may split them. Nothing may panic; a decoded message must encode
//! back to the bytes it came from.

#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use omapi::{Config, KeyRing, Limits, MemoryBackend, Session};

fn config() -> Arc<Config> {
    static CFG: OnceLock<Arc<Config>> = OnceLock::new();
    CFG.get_or_init(|| Arc::new(Config::new(KeyRing::new())))
        .clone()
}

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(d)) = omapi::wire::decode(data, &Limits::default()) {
        assert_eq!(
            d.message.to_vec(),
            data[..d.len],
            "encode/decode round trip"
        );
    }
    let mut backend = MemoryBackend::new();
    let mut session = Session::new(config());
    let split = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    session.handle_input(&data[..split], &mut backend);
    session.handle_input(&data[split..], &mut backend);
    while session.poll_transmit().is_some() {}
    session.handle_eof();
});
