//! The load benchmarks' lab, shared by `loadbench` and `dora-latency`: a
//! server host and a client host on one wide bridge, and where the
//! programs under test are.
//!
//! ```text
//!  srv1 eth0 10.99.0.1/16  (the server under test)
//!  cli1 eth0 10.99.0.10/16 (the load client, acting as a relay: giaddr 10.99.0.10)
//! ```

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use testbed::Lab;
use testbed::topology::LabBuilder;

use crate::load::error::{Error, Result};
use crate::load::servers::Programs;

/// The host the server under test runs in.
pub const SERVER_HOST: &str = "srv1";
/// The host the load client runs in.
pub const CLIENT_HOST: &str = "cli1";
/// The load client's address (also the relay address, `giaddr`).
pub const CLIENT_ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 10);

/// The server's address in the lab (10.99.0.1).
pub fn server_address() -> Ipv4Addr {
    testbed::topology::server_address(0)
}

/// Builds the lab, its namespaces named `PREFIX<pid>-…` (removed when the
/// [`Lab`] is dropped).
pub fn build(prefix: &str) -> Result<Lab> {
    let lab = LabBuilder::new()
        .prefix(prefix)
        .wide()
        .server(SERVER_HOST)
        .client(CLIENT_HOST)
        .build()?;
    let client = format!("{CLIENT_ADDRESS}/16");
    lab.exec(CLIENT_HOST, "ip", &["addr", "add", &client, "dev", "eth0"])?;
    Ok(lab)
}

/// `name` in the directory of the running executable (`target/release/`
/// for the benchmark binaries).
pub fn next_to_current_exe(name: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(|e| Error::io("locating this binary", e))?;
    Ok(exe.with_file_name(name))
}

/// The directory the benchmark binaries put the lab's files in when
/// `TMPDIR` is not set: `target/loadbench-tmp` (created), on the same disk
/// and out of the way of anything that tidies `/tmp` while a run lasts.
/// `None` when `TMPDIR` is set.
pub fn default_tmpdir() -> Result<Option<PathBuf>> {
    if std::env::var_os("TMPDIR").is_some() {
        return Ok(None);
    }
    let dir = next_to_current_exe("../loadbench-tmp")?;
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    Ok(Some(dir))
}

/// The programs under test: our daemon at `dhcpd` (default: next to the
/// running executable) and the stateless responder next to the running
/// executable; fails, saying how to build them, when either is missing.
pub fn programs(
    dhcpd: Option<PathBuf>,
    dhcpd_args: Vec<String>,
    responder_args: Vec<String>,
) -> Result<Programs> {
    let programs = Programs {
        dhcpd: match dhcpd {
            Some(p) => p,
            None => next_to_current_exe("dhcpd")?,
        },
        responder: next_to_current_exe("stateless-responder")?,
        dhcpd_args,
        responder_args,
    };
    for (what, p) in [
        ("dhcpd", &programs.dhcpd),
        ("stateless-responder", &programs.responder),
    ] {
        require_file(what, p)?;
    }
    Ok(programs)
}

fn require_file(what: &str, p: &Path) -> Result<()> {
    if p.is_file() {
        Ok(())
    } else {
        Err(Error::Tool(format!(
            "{what} not found at {} (cargo build --release -p dhcpd -p benches --bins)",
            p.display()
        )))
    }
}

/// The line the benchmarks print about `lab`: its hosts, their addresses
/// and its directory.
pub fn describe(lab: &Lab) -> String {
    format!(
        "lab {}: {} {}/16, {} {}/16; files in {}",
        lab.id(),
        SERVER_HOST,
        server_address(),
        CLIENT_HOST,
        CLIENT_ADDRESS,
        lab.dir().display()
    )
}

/// Fails unless every one of `tools` is installed, naming the Debian
/// packages that provide the benchmark's tools.
pub fn require_tools(tools: &[&str]) -> Result<()> {
    for tool in tools {
        if !testbed::netns::have_program(tool) {
            return Err(Error::Tool(format!(
                "{tool} not installed (apt-get install kea-admin isc-dhcp-server kea-dhcp4-server)"
            )));
        }
    }
    Ok(())
}

/// Whether this process runs as root (the lab needs it).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The first three fields of `/proc/loadavg` (other work on the machine
/// skews the figures; the tables record how busy it was).
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".to_owned())
}
