//! The three servers of the comparison, each started from its hand-written
//! fixture in `testbed/fixtures/conformance/` (`@LAB@` replaced by the lab
//! directory): ours (`dhcpd run --config`), ISC dhcpd 4.4 (its own command
//! line, by [`crate::server::start_with_isc_argv`]) and Kea 2.2.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::process::Process;

/// ISC dhcpd's binary.
pub const ISC_BINARY: &str = "/usr/sbin/dhcpd";
/// Kea's DHCPv4 server binary.
pub const KEA_BINARY: &str = "/usr/sbin/kea-dhcp4";

/// One of the servers compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    /// Our daemon.
    Ours,
    /// ISC dhcpd 4.4.
    Isc,
    /// Kea 2.2.
    Kea,
}

impl Server {
    /// All three, ours first.
    pub const ALL: [Server; 3] = [Server::Ours, Server::Isc, Server::Kea];

    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ours => "ours",
            Self::Isc => "ISC 4.4",
            Self::Kea => "Kea 2.2",
        }
    }

    /// The fixture file.
    pub fn fixture(self) -> PathBuf {
        let file = match self {
            Self::Ours => "ours.toml",
            Self::Isc => "dhcpd.conf",
            Self::Kea => "kea-dhcp4.json",
        };
        fixtures_dir().join(file)
    }

    /// The binary (ours: [`crate::server::default_our_binary`]).
    pub fn binary(self) -> PathBuf {
        match self {
            Self::Ours => crate::server::default_our_binary(),
            Self::Isc => PathBuf::from(ISC_BINARY),
            Self::Kea => PathBuf::from(KEA_BINARY),
        }
    }

    /// Starts the server in `host` (whose only interface is `eth0`) and
    /// waits until it serves.
    pub fn start(self, lab: &Lab, host: &str) -> Result<Process> {
        let text = std::fs::read_to_string(self.fixture())
            .map_err(|e| Error::io(format!("read {}", self.fixture().display()), e))?;
        let text = text.replace("@LAB@", &lab.dir().to_string_lossy());
        let program = self.binary();
        let (mut p, ready) = match self {
            Self::Ours => {
                let conf = lab.write_file("conformance-ours.toml", &text)?;
                let args = ["run", "--config", &conf.to_string_lossy()].map(str::to_owned);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let p = lab.spawn(host, "conf-ours", &program.to_string_lossy(), &args)?;
                (p, ": serving")
            }
            Self::Isc => {
                let p = crate::server::start_with_isc_argv(lab, host, "conf-isc", &program, &text)?;
                (p, "Server starting service.")
            }
            Self::Kea => {
                let dir = lab.path("kea");
                std::fs::create_dir_all(&dir).map_err(|e| Error::io("create kea dir", e))?;
                let conf = lab.write_file("conformance-kea.json", &text)?;
                let env = |k: &str| format!("{k}={}", dir.display());
                let args = [
                    env("KEA_PIDFILE_DIR"),
                    env("KEA_LOCKFILE_DIR"),
                    KEA_BINARY.to_owned(),
                    "-c".to_owned(),
                    conf.to_string_lossy().into_owned(),
                ];
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let p = lab.spawn(host, "conf-kea", "/usr/bin/env", &args)?;
                (p, "DHCP4_STARTED")
            }
        };
        p.wait_for_log(ready, Duration::from_secs(20))?;
        // Sockets are open once the line is out; give raw sockets a moment.
        std::thread::sleep(Duration::from_millis(200));
        Ok(p)
    }
}

/// `testbed/fixtures/conformance`.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/conformance")
}
