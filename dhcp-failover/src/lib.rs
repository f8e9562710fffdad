//! ISC-compatible DHCP failover protocol, sans-IO.
