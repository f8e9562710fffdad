//! Network-namespace lab for end-to-end DHCP tests (root required).
//!
//! * [`lab`]: namespaces, bridges, veth links, link cut/restore; everything
//!   removed on drop. [`topology::LabBuilder`] builds the usual layout.
//! * [`process`]: programs supervised inside a host, logs with timestamps,
//!   kill/restart by PID.
//! * [`server`]: the server under test, ISC dhcpd or our daemon.
//! * [`sim`]: simulated PXE clients in Rust, a thousand on one socket.
//! * [`real_clients`]: dhclient, udhcpc and dhcpcd with hook scripts that
//!   touch nothing outside their namespace.
//! * [`relay`], [`tftp`], [`ipxe`]: dhcrelay, tftpd-hpa, iPXE under QEMU.
//! * [`demo`]: the `testbed demo` scenario; [`plot`]: its timeline as SVG.
//! * [`isc`]: ISC dhcpd's lease file and failover log lines, for comparisons.
//! * [`conformance`]: the differential suite against ISC dhcpd 4.4 and Kea 2.2.
//! * [`probe`]: one scripted client exchange kept as raw bytes, to compare
//!   two servers' answers field by field.
//! * [`flood`]: random and malformed packets to port 67.
//! * [`soak`]: the SIGKILL soak's ACK capture, store check and figures.
//! * [`stats`]: our daemon's stats file and a namespace's kernel UDP counters.
//! * [`capture`]: tcpdump on a segment, to see how replies travelled.
//! * [`cleanup`]: the Ctrl-C handler and the registry behind it.

pub mod capture;
pub mod chaos;
pub mod cleanup;
pub mod conformance;
pub mod demo;
pub mod error;
pub mod firmware;
pub mod flood;
pub mod ipxe;
pub mod isc;
pub mod kea;
pub mod lab;
pub mod names;
pub mod netns;
pub mod plot;
pub mod probe;
pub mod process;
pub mod real_clients;
pub mod relay;
pub mod server;
pub mod sim;
pub mod soak;
pub mod stats;
pub mod tftp;
pub mod topology;

pub use error::{Error, Result};
pub use lab::Lab;
pub use process::Process;
pub use topology::LabBuilder;

/// For tests that need root: returns `true` if they can run (root, and `ip`
/// is installed); otherwise prints a loud `SKIPPED: needs root` line to
/// stderr (past the test harness's output capture) and returns `false`.
pub fn can_run_root_test(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let why = if !root {
        "needs root"
    } else if !netns::have_program("ip") {
        "needs root and iproute2 (`ip` not found)"
    } else {
        return true;
    };
    use std::io::Write;
    // Written to the stderr handle, not with eprintln!, so that libtest's
    // capture does not hide it.
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}: {test}");
    false
}
