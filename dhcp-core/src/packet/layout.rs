//! The BOOTP message layout (RFC 951, RFC 2131 §2): field sizes and offsets.

/// The BOOTP fixed header plus the magic cookie.
pub const HEADER_LEN: usize = 240;
/// Minimum BOOTP message size (RFC 951/1542); replies are padded to it.
pub const MIN_REPLY_LEN: usize = 300;
/// Largest reply when the client states no maximum (576-byte IP datagram).
pub const DEFAULT_MAX_REPLY_LEN: usize = 576 - 28;
/// The magic cookie.
pub const MAGIC: [u8; 4] = [99, 130, 83, 99];
pub(crate) const SNAME: std::ops::Range<usize> = 44..108;
pub(crate) const FILE: std::ops::Range<usize> = 108..236;
