//! Arbitrary bytes as one failover message (`dhcp_failover::wire::decode`),
//! and as a TCP stream through the daemon's `FrameReader`. Neither may
//! panic; a message that decodes must encode again, and its encoding must
//! decode to the same message.

#![no_main]

use dhcp_failover::wire::{FrameReader, decode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = decode(data) {
        // Some decoded messages (e.g. an option the encoder would refuse)
        // need not re-encode; one that does must read back the same.
        if let Ok(bytes) = msg.encode() {
            let again = decode(&bytes).expect("an encoded message decodes");
            assert_eq!(again, msg, "encode/decode round trip");
        }
    }
    // The stream: the same bytes in two pushes, as a socket may split them.
    let mut reader = FrameReader::default();
    let split = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    reader.push(&data[..split]);
    reader.push(&data[split..]);
    while let Ok(Some(_)) = reader.next_message() {}
});
