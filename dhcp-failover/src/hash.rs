//! Load balancing (RFC 3074 hash, hash bucket assignment bitmap, and the
//! `load balance max seconds` rule) as ISC dhcpd 4.x applies it.
