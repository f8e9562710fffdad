//! Shared test helpers: the ISC capture frames and hex handling.
#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

/// One failover message extracted from `fixtures/isc-failover.pcap`.
pub struct CapturedFrame {
    /// Sequence number in the capture (1-based).
    pub n: usize,
    /// Capture time, Unix seconds.
    pub time: f64,
    /// `"pri"` (10.99.0.1) or `"sec"` (10.99.0.2).
    pub from: String,
    /// TCP connection number (1-based, in order of first data).
    pub conn: usize,
    /// Message type name as the extractor wrote it.
    pub kind: String,
    /// The raw message.
    pub bytes: Vec<u8>,
}

pub fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// All frames of the capture, in capture order.
pub fn captured_frames() -> Vec<CapturedFrame> {
    let tsv = include_str!("../../testdata/isc-failover/frames.tsv");
    tsv.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 9, "bad line {line}");
            let bytes = hex(f[8]);
            assert_eq!(bytes.len(), f[7].parse::<usize>().unwrap());
            CapturedFrame {
                n: f[0].parse().unwrap(),
                time: f[1].parse().unwrap(),
                from: f[2].to_string(),
                conn: f[5].parse().unwrap(),
                kind: f[6].to_string(),
                bytes,
            }
        })
        .collect()
}

/// [`captured_frames`], parsed once per test binary.
pub fn captured() -> &'static [CapturedFrame] {
    static FRAMES: std::sync::OnceLock<Vec<CapturedFrame>> = std::sync::OnceLock::new();
    FRAMES.get_or_init(captured_frames)
}
