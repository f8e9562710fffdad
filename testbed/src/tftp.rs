//! A TFTP server (tftpd-hpa's `in.tftpd`) in a host, serving a directory of
//! the lab.

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use crate::error::Result;
use crate::lab::Lab;
use crate::netns;
use crate::process::Process;

/// Starts `in.tftpd -L -v -s ROOT -a ADDRESS:69` in `host` (foreground,
/// supervised).
pub fn start_tftpd(lab: &Lab, host: &str, address: Ipv4Addr, root: &Path) -> Result<Process> {
    netns::require_program("in.tftpd", "tftpd-hpa")?;
    let root = root.to_string_lossy().into_owned();
    let listen = format!("{address}:69");
    let mut p = lab.spawn(
        host,
        &format!("tftpd-{host}"),
        "in.tftpd",
        &["-L", "-v", "-v", "-s", &root, "-a", &listen],
    )?;
    if let Some(status) = p.wait_timeout(Duration::from_millis(200))? {
        return Err(crate::Error::Exited {
            what: "in.tftpd".into(),
            status: crate::process::describe(status),
            log: p.log_path().to_owned(),
        });
    }
    Ok(p)
}
