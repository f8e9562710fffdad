//! Kea's command line in the lab: real Kea 2.2 (`/usr/sbin/kea-dhcp4 -c
//! FILE`) or our daemon under the name `kea-dhcp4`, started on a host with
//! a Kea `Dhcp4` file, waited for until it serves.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::process::Process;

/// Debian's Kea DHCPv4 server.
pub const KEA: &str = "/usr/sbin/kea-dhcp4";

/// Which server reads the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeaServer {
    /// Kea 2.2 itself.
    Kea,
    /// Our daemon, invoked as `kea-dhcp4`.
    Ours,
}

/// The scratch directory of a Kea-command-line server called `name`: its
/// file, its memfile (and so our store) and Kea's pid and lock files go
/// there. Created if missing.
pub fn directory(lab: &Lab, name: &str) -> Result<PathBuf> {
    let dir = lab.path(name);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(format!("create {}", dir.display()), e))?;
    Ok(dir)
}

/// Starts `server` on `host` as `name` with the Kea file `conf` (written
/// into [`directory`]), by `kea-dhcp4 -c FILE`, and waits (up to 30 s)
/// until it serves.
pub fn start(lab: &Lab, host: &str, name: &str, server: KeaServer, conf: &str) -> Result<Process> {
    let dir = directory(lab, name)?;
    let file = lab.write_file(&format!("{name}/kea-dhcp4.conf"), conf)?;
    let file = file.to_string_lossy().into_owned();
    let (mut p, ready) = match server {
        KeaServer::Kea => {
            let pid = format!("KEA_PIDFILE_DIR={}", dir.display());
            let lock = format!("KEA_LOCKFILE_DIR={}", dir.display());
            let args = [pid.as_str(), lock.as_str(), KEA, "-c", &file];
            (
                lab.spawn(host, name, "/usr/bin/env", &args)?,
                "DHCP4_STARTED",
            )
        }
        KeaServer::Ours => {
            let link = dir.join("kea-dhcp4");
            if !link.exists() {
                std::os::unix::fs::symlink(crate::server::default_our_binary(), &link)
                    .map_err(|e| Error::io(format!("link {}", link.display()), e))?;
            }
            let program = link.to_string_lossy().into_owned();
            (lab.spawn(host, name, &program, &["-c", &file])?, "serving")
        }
    };
    p.wait_for_log(ready, Duration::from_secs(30))?;
    Ok(p)
}

/// Whether Kea 2.2 is installed.
pub fn installed() -> bool {
    Path::new(KEA).exists()
}
