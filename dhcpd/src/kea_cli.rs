//! Kea's command line, `kea-dhcp4 -c FILE`:
//!
//! ```text
//! kea-dhcp4 -c /etc/kea/kea-dhcp4.conf     serve with that configuration
//! kea-dhcp4 -t /etc/kea/kea-dhcp4.conf     check it: exit 0, or 1 with the error
//! kea-dhcp4 -v | -V | -W                   version, extended version, build settings
//! ```
//!
//! plus `-d` (verbose logging) and `-p PORT` (server port). When is a
//! command line Kea's ([`is_kea_argv`])? Always when the program is invoked
//! as `kea-dhcp4` (a link or an installed compat name). Under any other
//! name, only when its first argument is `-c`, `-v` or `-W`: none of them
//! is an ISC flag (ISC writes `-cf`; see `isc_cli::is_isc_argv`) nor a
//! flag of our own command line. `-t` and `-V` stay ISC's test flag and
//! our `--version` under those names, so nothing that worked before
//! changes meaning.

use std::path::{Path, PathBuf};

/// The program name that makes every command line Kea's.
pub const KEA_NAME: &str = "kea-dhcp4";

/// Kea's flags, for messages.
const FLAGS: &[&str] = &["-c", "-t", "-d", "-p", "-v", "-V", "-W"];

/// What a Kea command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeaAction {
    /// `-c FILE`: serve.
    Run(PathBuf),
    /// `-t FILE`: check the configuration and exit.
    Test(PathBuf),
    /// `-v`: the version.
    Version,
    /// `-V`: the extended version.
    ExtendedVersion,
    /// `-W`: the build settings.
    BuildConfig,
}

/// A parsed Kea command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeaArgs {
    /// What to do.
    pub action: KeaAction,
    /// `-d`: verbose (debug) logging.
    pub debug: bool,
    /// `-p PORT`: the server port.
    pub port: Option<u16>,
}

/// Why a Kea command line was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeaArgsError {
    /// An option without its value.
    #[error("{0} needs a value")]
    MissingValue(String),
    /// `-p` with a bad number.
    #[error("-p {0}: not a port number")]
    BadPort(String),
    /// Neither `-c`, `-t`, `-v`, `-V` nor `-W`.
    #[error("no configuration file: give -c FILE (serve) or -t FILE (check)")]
    NoConfig,
    /// Two actions.
    #[error("{0} and {1} cannot be given together")]
    TwoActions(String, String),
    /// A flag Kea has but this server does not take, or an argument that is
    /// no flag.
    #[error("{0}: option not supported (supported: {flags})", flags = FLAGS.join(" "))]
    Unsupported(String),
}

/// Whether the program (the first element of `args`) was invoked as
/// `kea-dhcp4`.
pub fn invoked_as_kea(args: &[String]) -> bool {
    args.first()
        .and_then(|a| Path::new(a).file_name())
        .is_some_and(|n| n == KEA_NAME)
}

/// Whether `args` (with the program name first) is a Kea command line:
/// the program is `kea-dhcp4`, or its first argument is `-c`, `-v` or `-W`.
pub fn is_kea_argv(args: &[String]) -> bool {
    invoked_as_kea(args)
        || args
            .get(1)
            .is_some_and(|a| matches!(a.as_str(), "-c" | "-v" | "-W"))
}

/// Parses a Kea command line (program name first).
pub fn parse(args: &[String]) -> Result<KeaArgs, KeaArgsError> {
    let mut action: Option<(String, KeaAction)> = None;
    let mut debug = false;
    let mut port = None;
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| KeaArgsError::MissingValue(a.clone()))
        };
        let act = match a.as_str() {
            "-c" => KeaAction::Run(PathBuf::from(value()?)),
            "-t" => KeaAction::Test(PathBuf::from(value()?)),
            "-v" => KeaAction::Version,
            "-V" => KeaAction::ExtendedVersion,
            "-W" => KeaAction::BuildConfig,
            "-d" => {
                debug = true;
                continue;
            }
            "-p" => {
                let v = value()?;
                port = Some(v.parse().map_err(|_| KeaArgsError::BadPort(v))?);
                continue;
            }
            other => return Err(KeaArgsError::Unsupported(other.to_owned())),
        };
        if let Some((prev, _)) = &action {
            return Err(KeaArgsError::TwoActions(prev.clone(), a.clone()));
        }
        action = Some((a.clone(), act));
    }
    let Some((_, action)) = action else {
        return Err(KeaArgsError::NoConfig);
    };
    Ok(KeaArgs {
        action,
        debug,
        port,
    })
}

/// What `-V` prints: the version, then what this server is.
pub fn extended_version() -> String {
    format!(
        "{v}\ndhcp-failover-server {v}: a DHCPv4 server with ISC-compatible failover, \
         reading Kea's Dhcp4 configuration (Kea 2.2 dialect)\nlease database: its own store \
         (beside the memfile path)",
        v = env!("CARGO_PKG_VERSION")
    )
}

/// What `-W` prints: the build settings.
pub fn build_config() -> String {
    format!(
        "dhcp-failover-server {}\nconfiguration formats: Kea Dhcp4 JSON, ISC dhcpd.conf, TOML\n\
         hooks accepted: libdhcp_run_script.so, libdhcp_lease_cmds.so, libdhcp_host_cmds.so, \
         libdhcp_ha.so (as ISC failover between two of these servers)\nprofile: {}",
        env!("CARGO_PKG_VERSION"),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isc_cli::is_isc_argv;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn detection_by_name_and_by_flag() {
        assert!(is_kea_argv(&argv(
            "/usr/sbin/kea-dhcp4 -t /etc/kea/kea-dhcp4.conf"
        )));
        assert!(is_kea_argv(&argv("kea-dhcp4")));
        assert!(is_kea_argv(&argv("dhcpd -c /etc/kea/kea-dhcp4.conf")));
        assert!(is_kea_argv(&argv("dhcpd -v")));
        assert!(is_kea_argv(&argv("dhcpd -W")));
        // ISC's and our own command lines are not Kea's.
        assert!(!is_kea_argv(&argv("dhcpd -t")));
        assert!(!is_kea_argv(&argv("dhcpd -t -cf /etc/dhcp/dhcpd.conf")));
        assert!(!is_kea_argv(&argv("dhcpd -cf /etc/dhcp/dhcpd.conf -f")));
        assert!(!is_kea_argv(&argv("dhcpd -V")));
        assert!(!is_kea_argv(&argv("dhcpd run --config x.toml")));
        assert!(!is_kea_argv(&argv("/usr/sbin/dhcpd -d -4")));
    }

    #[test]
    fn never_both_dialects() {
        for line in [
            "dhcpd -c f",
            "dhcpd -v",
            "dhcpd -W",
            "dhcpd -t",
            "dhcpd -T",
            "dhcpd -cf f",
            "dhcpd -d",
            "dhcpd -p 67",
            "dhcpd -f -q -4",
        ] {
            let a = argv(line);
            assert!(!(is_kea_argv(&a) && is_isc_argv(&a)), "{line}");
        }
    }

    #[test]
    fn actions() {
        let p = |s: &str| parse(&argv(s));
        assert_eq!(
            p("kea-dhcp4 -c /etc/kea/k.conf -d -p 1067"),
            Ok(KeaArgs {
                action: KeaAction::Run("/etc/kea/k.conf".into()),
                debug: true,
                port: Some(1067),
            })
        );
        assert_eq!(
            p("kea-dhcp4 -t k.conf").map(|a| a.action),
            Ok(KeaAction::Test("k.conf".into()))
        );
        assert_eq!(p("kea-dhcp4 -v").map(|a| a.action), Ok(KeaAction::Version));
        assert_eq!(
            p("kea-dhcp4 -V").map(|a| a.action),
            Ok(KeaAction::ExtendedVersion)
        );
        assert_eq!(
            p("kea-dhcp4 -W").map(|a| a.action),
            Ok(KeaAction::BuildConfig)
        );
    }

    #[test]
    fn refusals() {
        let p = |s: &str| parse(&argv(s));
        assert_eq!(p("kea-dhcp4"), Err(KeaArgsError::NoConfig));
        assert_eq!(p("kea-dhcp4 -d"), Err(KeaArgsError::NoConfig));
        assert_eq!(
            p("kea-dhcp4 -c"),
            Err(KeaArgsError::MissingValue("-c".into()))
        );
        assert_eq!(
            p("kea-dhcp4 -p x -c f"),
            Err(KeaArgsError::BadPort("x".into()))
        );
        assert_eq!(
            p("kea-dhcp4 -c f -t f"),
            Err(KeaArgsError::TwoActions("-c".into(), "-t".into()))
        );
        assert_eq!(
            p("kea-dhcp4 -P 68 -c f"),
            Err(KeaArgsError::Unsupported("-P".into()))
        );
    }
}
