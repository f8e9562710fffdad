//! The servers the load benchmark compares, each started fresh (empty lease
//! store) in the lab's server host, with its leases in the lab directory
//! (all on the same disk).

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use testbed::server::{DhcpServer, IscDhcpd, OurDhcpd, ServerSpec};
use testbed::{Lab, Process};

use crate::load::error::{Error, Result};

/// The pool every server hands out: 10.99.16.0–10.99.255.254 (~61k).
pub const POOL: (Ipv4Addr, Ipv4Addr) = (
    Ipv4Addr::new(10, 99, 16, 0),
    Ipv4Addr::new(10, 99, 255, 254),
);

/// Lease time, seconds.
pub const LEASE_TIME: u32 = 3600;

/// A server under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// The stateless responder (no state, no disk): the ceiling.
    Ceiling,
    /// Our daemon, release build, durable store (fsync before every ACK).
    Ours,
    /// ISC dhcpd 4.4 (`-f -q`), lease file on disk.
    Isc,
    /// Kea 2.2, single-threaded, memfile (no fsync).
    Kea,
    /// Kea 2.2, multi-threaded with 2 threads, memfile.
    KeaMt,
}

impl Subject {
    /// Every subject, in the order they run.
    pub const ALL: [Subject; 5] = [Self::Ceiling, Self::Ours, Self::Isc, Self::Kea, Self::KeaMt];

    /// Short name (command line, tables).
    pub fn name(self) -> &'static str {
        match self {
            Self::Ceiling => "ceiling",
            Self::Ours => "ours",
            Self::Isc => "isc",
            Self::Kea => "kea",
            Self::KeaMt => "kea-mt2",
        }
    }

    /// A longer description for the table.
    pub fn description(self) -> &'static str {
        match self {
            Self::Ceiling => "stateless responder (no state, no disk)",
            Self::Ours => "our dhcpd (release, sled store, fsync before ACK, --quiet)",
            Self::Isc => "ISC dhcpd 4.4 (-f -q, lease file on disk)",
            Self::Kea => "Kea 2.2, 1 thread (memfile, no fsync)",
            Self::KeaMt => "Kea 2.2, 2 threads (memfile, no fsync)",
        }
    }

    /// Parses [`Subject::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// Where the programs are.
#[derive(Debug, Clone)]
pub struct Programs {
    /// Our daemon (release build).
    pub dhcpd: PathBuf,
    /// The `stateless-responder` binary.
    pub responder: PathBuf,
    /// Extra arguments for our daemon (after `--quiet`).
    pub dhcpd_args: Vec<String>,
    /// Extra arguments for the stateless responder (its diagnostic
    /// variants, after the server address).
    pub responder_args: Vec<String>,
}

/// Starts `subject` fresh in `host` (serving `eth0`, address `server`) and
/// returns once it serves.
pub fn start(
    lab: &Lab,
    host: &str,
    subject: Subject,
    programs: &Programs,
    server: Ipv4Addr,
) -> Result<Process> {
    let spec = ServerSpec::wide(server)
        .with_range(POOL.0, POOL.1)
        .with_lease_time(LEASE_TIME, LEASE_TIME);
    match subject {
        Subject::Ceiling => {
            let program = programs.responder.to_string_lossy().into_owned();
            let mut args = vec![server.to_string()];
            args.extend(programs.responder_args.iter().cloned());
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let mut p = lab.spawn(host, "responder", &program, &args)?;
            p.wait_for_log("serving", Duration::from_secs(5))?;
            Ok(p)
        }
        Subject::Ours => {
            let store = lab.path(&format!("store-{host}"));
            remove(&store)?;
            let mut ours = OurDhcpd::new(&programs.dhcpd);
            ours.extra_args = vec!["--quiet".to_owned()];
            ours.extra_args.extend(programs.dhcpd_args.iter().cloned());
            Ok(ours.start(lab, host, &spec)?)
        }
        Subject::Isc => {
            let conf = lab.write_file("isc-perf.conf", &IscDhcpd::render(&spec))?;
            let leases = lab.write_file("isc-perf.leases", "")?;
            remove(&lab.path("isc-perf.leases~"))?;
            let pid = lab.path("isc-perf.pid");
            let (conf, leases, pid) = (path_str(&conf), path_str(&leases), path_str(&pid));
            let args = [
                "-4", "-f", "-q", "-cf", &conf, "-lf", &leases, "-pf", &pid, "eth0",
            ];
            let mut p = lab.spawn(host, "isc-perf", "/usr/sbin/dhcpd", &args)?;
            settle(&mut p)?;
            Ok(p)
        }
        Subject::Kea | Subject::KeaMt => {
            let dir = lab.path("kea");
            remove(&dir)?;
            std::fs::create_dir_all(&dir)
                .map_err(|e| Error::io("creating the Kea directory", e))?;
            let conf = kea_config(&dir, server, subject == Subject::KeaMt);
            let conf = lab.write_file("kea/kea-perf.conf", &conf)?;
            let env_pid = format!("KEA_PIDFILE_DIR={}", dir.display());
            let env_lock = format!("KEA_LOCKFILE_DIR={}", dir.display());
            let conf = path_str(&conf);
            let args = [
                env_pid.as_str(),
                env_lock.as_str(),
                "/usr/sbin/kea-dhcp4",
                "-c",
                &conf,
            ];
            let mut p = lab.spawn(host, subject.name(), "/usr/bin/env", &args)?;
            settle(&mut p)?;
            Ok(p)
        }
    }
}

/// Kea's configuration (as in `real-peers.md` §9.2): raw sockets on `eth0`,
/// memfile leases in `dir` (persisted, not fsynced), WARN log to a file.
pub fn kea_config(dir: &std::path::Path, server: Ipv4Addr, multi_threaded: bool) -> String {
    let mt = if multi_threaded {
        r#""multi-threading": { "enable-multi-threading": true, "thread-pool-size": 2, "packet-queue-size": 64 },"#
    } else {
        ""
    };
    let d = dir.display();
    format!(
        r#"{{
  "Dhcp4": {{
    "interfaces-config": {{ "interfaces": [ "eth0" ], "dhcp-socket-type": "raw" }},
    "lease-database": {{ "type": "memfile", "persist": true, "name": "{d}/kea-leases4.csv", "lfc-interval": 0 }},
    {mt}
    "valid-lifetime": {LEASE_TIME},
    "authoritative": true,
    "next-server": "{server}",
    "boot-file-name": "pxelinux.0",
    "subnet4": [ {{ "id": 1, "subnet": "10.99.0.0/16",
                   "pools": [ {{ "pool": "{} - {}" }} ],
                   "option-data": [ {{ "name": "routers", "data": "{server}" }} ] }} ],
    "loggers": [ {{ "name": "kea-dhcp4", "output_options": [ {{ "output": "{d}/kea-perf.log" }} ], "severity": "WARN" }} ]
  }}
}}
"#,
        POOL.0, POOL.1
    )
}

fn path_str(p: &std::path::Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Servers without a readiness line: give them a second, check they run.
fn settle(p: &mut Process) -> Result<()> {
    if let Some(status) = p.wait_timeout(Duration::from_millis(1500))? {
        return Err(Error::Tool(format!(
            "{} exited at start ({status}); log {}",
            p.name(),
            p.log_path().display()
        )));
    }
    Ok(())
}

fn remove(path: &std::path::Path) -> Result<()> {
    let r = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    match r {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(Error::io(format!("removing {}", path.display()), e))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Subject::ALL {
            assert_eq!(Subject::from_name(s.name()), Some(s));
        }
    }

    #[test]
    fn kea_config_is_json_shaped() {
        let c = kea_config(
            std::path::Path::new("/x"),
            Ipv4Addr::new(10, 99, 0, 1),
            true,
        );
        assert!(c.contains("\"thread-pool-size\": 2"));
        assert!(c.contains("10.99.16.0 - 10.99.255.254"));
        let c = kea_config(
            std::path::Path::new("/x"),
            Ipv4Addr::new(10, 99, 0, 1),
            false,
        );
        assert!(!c.contains("multi-threading"));
    }
}
