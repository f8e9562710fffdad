//! A DHCP relay in the relay host: ISC `dhcrelay` (Debian package
//! `isc-dhcp-relay`), downstream on the client segment, upstream on the
//! server segment.

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::error::Result;
use crate::lab::Lab;
use crate::netns;
use crate::process::Process;
use crate::topology::RELAY_HOST;

/// Starts `dhcrelay -4 -d` in the lab's relay host, relaying from `eth1`
/// (client segment) to `servers` through `eth0`.
pub fn start_dhcrelay(lab: &Lab, servers: &[Ipv4Addr]) -> Result<Process> {
    netns::require_program("dhcrelay", "isc-dhcp-relay")?;
    let pid_file = lab.path("dhcrelay.pid").to_string_lossy().into_owned();
    let mut args: Vec<String> = ["-4", "-d", "-pf", &pid_file, "-id", "eth1", "-iu", "eth0"]
        .map(str::to_owned)
        .to_vec();
    args.extend(servers.iter().map(ToString::to_string));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut p = lab.spawn(RELAY_HOST, "dhcrelay", "dhcrelay", &args)?;
    p.wait_for_log("Sending on", Duration::from_secs(10))?;
    // dhcrelay prints its interfaces and then serves; give it a moment.
    std::thread::sleep(Duration::from_millis(100));
    Ok(p)
}
