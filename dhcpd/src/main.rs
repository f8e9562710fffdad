//! DHCP daemon.
fn main() {}
