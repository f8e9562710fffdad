//! Sizes and the version of the failover message framing.

/// Length of the fixed header; ISC always sends this as the payload offset.
pub const HEADER_LEN: usize = 12;

/// Largest message ISC sends or accepts (`DHCP_FAILOVER_MAX_MESSAGE_SIZE`).
pub const MAX_MESSAGE_LEN: usize = 2048;

/// Protocol version sent in CONNECT/CONNECTACK (`DHCP_FAILOVER_VERSION`).
pub const PROTOCOL_VERSION: u8 = 1;
