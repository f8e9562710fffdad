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

/// Sends one command in Kea's control format (`{"command": ...}`) to the
/// unix socket at `socket` and returns the answer (Kea answers, then
/// closes the connection).
pub fn command(socket: &Path, json: &str) -> Result<serde_json::Value> {
    use std::io::{Read, Write};
    let what = || format!("Kea command on {}", socket.display());
    let mut s =
        std::os::unix::net::UnixStream::connect(socket).map_err(|e| Error::io(what(), e))?;
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .map_err(|e| Error::io(what(), e))?;
    s.write_all(json.as_bytes())
        .map_err(|e| Error::io(what(), e))?;
    let mut out = String::new();
    s.read_to_string(&mut out)
        .map_err(|e| Error::io(what(), e))?;
    serde_json::from_str(&out).map_err(|e| {
        Error::io(
            what(),
            std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{out:?}: {e}")),
        )
    })
}

/// The shape of a JSON value, for comparing answers whose values differ
/// (times, pids): maps keep their keys, arrays the shape of their first
/// element, scalars become their type.
pub fn shape(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::Array(a.first().map(shape).into_iter().collect()),
        Value::String(_) => Value::from("string"),
        Value::Number(_) => Value::from("number"),
        Value::Bool(_) => Value::from("bool"),
        Value::Null => Value::Null,
    }
}

/// Whether every key of `part` is in `whole` with the same shape (arrays:
/// their first elements; scalars: their type): Kea's `config-get` gives
/// the file with every default filled in, ours the file as written.
pub fn shape_within(part: &serde_json::Value, whole: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (part, whole) {
        (Value::Object(p), Value::Object(w)) => p
            .iter()
            .all(|(k, v)| w.get(k).is_some_and(|wv| shape_within(v, wv))),
        (Value::Array(p), Value::Array(w)) => match (p.first(), w.first()) {
            (None, _) => true,
            (Some(pv), Some(wv)) => shape_within(pv, wv),
            (Some(_), None) => false,
        },
        (p, w) => shape(p) == shape(w),
    }
}

/// A Kea `Dhcp4` file for one of a Kea-style HA pair of our servers on the
/// lab's server segment (`server1` primary at `primary`, `server2` at
/// `secondary`), one subnet with one pool, a BIOS PXE class, the lease
/// commands and the HA hook; the memfile (and our store) and the control
/// socket (`kea4-ctrl.sock`, when `control_socket`) in `dir`.
#[derive(Debug, Clone)]
pub struct HaFile<'a> {
    /// The server's directory.
    pub dir: &'a Path,
    /// `this-server-name`: `server1` or `server2`.
    pub this: &'a str,
    /// `load-balancing` or `hot-standby`.
    pub mode: &'a str,
    /// `server2`'s role: `secondary` or `standby`.
    pub second_role: &'a str,
    /// The primary's address (also the next server).
    pub primary: std::net::Ipv4Addr,
    /// The secondary's address.
    pub secondary: std::net::Ipv4Addr,
    /// The subnet, `10.99.0.0/24`.
    pub subnet: &'a str,
    /// The pool, `FIRST - LAST`.
    pub pool: &'a str,
    /// Whether to open the Kea control socket.
    pub control_socket: bool,
}

impl HaFile<'_> {
    /// The file's text.
    pub fn render(&self) -> String {
        let d = self.dir.display();
        let socket = if self.control_socket {
            format!(
                r#"
  "control-socket": {{ "socket-type": "unix", "socket-name": "{d}/kea4-ctrl.sock" }},"#
            )
        } else {
            String::new()
        };
        format!(
            r#"{{ "Dhcp4": {{
  "interfaces-config": {{ "interfaces": [ "eth0" ] }},
  "lease-database": {{ "type": "memfile", "name": "{d}/kea-leases4.csv" }},{socket}
  "valid-lifetime": 600,
  "client-classes": [
    {{ "name": "bios", "test": "option[93].hex == 0x0000", "boot-file-name": "lpxelinux.0" }}
  ],
  "subnet4": [ {{ "id": 1, "subnet": "{subnet}", "next-server": "{primary}",
                  "pools": [ {{ "pool": "{pool}" }} ] }} ],
  "hooks-libraries": [
    {{ "library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so" }},
    {{ "library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_ha.so",
       "parameters": {{ "high-availability": [ {{
         "this-server-name": "{this}",
         "mode": "{mode}",
         "heartbeat-delay": 10000,
         "max-response-delay": 10000,
         "peers": [
           {{ "name": "server1", "url": "http://{primary}:8000/", "role": "primary" }},
           {{ "name": "server2", "url": "http://{secondary}:8000/", "role": "{second_role}" }}
         ] }} ] }} }}
  ]
}} }}
"#,
            subnet = self.subnet,
            primary = self.primary,
            secondary = self.secondary,
            pool = self.pool,
            this = self.this,
            mode = self.mode,
            second_role = self.second_role,
        )
    }
}
