//! ISC dhcpd's command line, as MAAS's service unit runs it:
//!
//! ```text
//! dhcpd -user dhcpd -group dhcpd -f -q -4 -pf /run/maas-dhcp/dhcpd.pid \
//!       -cf /var/lib/maas/dhcpd.conf -lf /var/lib/maas/dhcp/dhcpd.leases IFACES…
//! ```
//!
//! `main` checks [`is_isc_argv`] before clap sees the arguments. As in ISC,
//! an option that takes a value takes the next argument whatever it looks
//! like (`-cf -4` names the file `-4`).

use std::path::PathBuf;

/// ISC's default configuration file on Debian.
pub const DEFAULT_CONFIG: &str = "/etc/dhcp/dhcpd.conf";
/// ISC's default lease file on Debian.
pub const DEFAULT_LEASES: &str = "/var/lib/dhcp/dhcpd.leases";

/// The flags that mark an ISC command line.
const FLAGS: &[&str] = &[
    "-f", "-d", "-q", "-4", "-6", "-t", "-T", "-cf", "-lf", "-pf", "-user", "-group", "-p",
];

/// A parsed ISC command line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IscArgs {
    /// `-f`: stay in the foreground (this daemon always does).
    pub foreground: bool,
    /// `-d`: log to stderr (this daemon always does).
    pub debug: bool,
    /// `-q`: no banner.
    pub quiet: bool,
    /// `-4` given.
    pub v4: bool,
    /// `-t`: test the configuration and exit.
    pub test_config: bool,
    /// `-T`: test the lease file and exit.
    pub test_leases: bool,
    /// `-cf FILE`.
    pub config: Option<PathBuf>,
    /// `-lf FILE`.
    pub lease_file: Option<PathBuf>,
    /// `-pf FILE`.
    pub pid_file: Option<PathBuf>,
    /// `-user NAME`.
    pub user: Option<String>,
    /// `-group NAME`.
    pub group: Option<String>,
    /// `-p PORT`.
    pub port: Option<u16>,
    /// Trailing interface names.
    pub interfaces: Vec<String>,
}

impl IscArgs {
    /// The configuration file (`-cf`, else ISC's default).
    pub fn config_path(&self) -> PathBuf {
        self.config
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG))
    }

    /// The lease file (`-lf`, else ISC's default).
    pub fn lease_path(&self) -> PathBuf {
        self.lease_file
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_LEASES))
    }

    /// The lease store directory used for the ISC lease file path: a
    /// directory next to it (`dhcpd.leases` → `dhcpd.leases.store`), since
    /// the path itself is a file the service unit creates and chowns.
    pub fn store_dir(&self) -> PathBuf {
        let mut s = self.lease_path().into_os_string();
        s.push(".store");
        PathBuf::from(s)
    }
}

/// Why an ISC command line was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IscArgsError {
    /// `-6`.
    #[error("-6: DHCPv6 is not supported by this server (it serves DHCPv4 only; run with -4)")]
    Dhcpv6,
    /// An option without its value.
    #[error("{0} needs a value")]
    MissingValue(String),
    /// `-p` with a bad number.
    #[error("-p {0}: not a port number")]
    BadPort(String),
    /// A flag ISC has but this server does not take.
    #[error("{0}: option not supported (supported: {flags})", flags = FLAGS.join(" "))]
    Unsupported(String),
}

/// Whether `args` (with the program name first) is an ISC command line:
/// its first argument is one of ISC's flags.
pub fn is_isc_argv(args: &[String]) -> bool {
    args.get(1).is_some_and(|a| FLAGS.contains(&a.as_str()))
}

/// Parses an ISC command line (program name first).
pub fn parse(args: &[String]) -> Result<IscArgs, IscArgsError> {
    let mut out = IscArgs::default();
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| IscArgsError::MissingValue(a.clone()))
        };
        match a.as_str() {
            "-f" => out.foreground = true,
            "-d" => out.debug = true,
            "-q" => out.quiet = true,
            "-4" => out.v4 = true,
            "-6" => return Err(IscArgsError::Dhcpv6),
            "-t" => out.test_config = true,
            "-T" => out.test_leases = true,
            "-cf" => out.config = Some(PathBuf::from(value()?)),
            "-lf" => out.lease_file = Some(PathBuf::from(value()?)),
            "-pf" => out.pid_file = Some(PathBuf::from(value()?)),
            "-user" => out.user = Some(value()?),
            "-group" => out.group = Some(value()?),
            "-p" => {
                let v = value()?;
                out.port = Some(
                    v.parse()
                        .ok()
                        .filter(|p| *p != 0)
                        .ok_or(IscArgsError::BadPort(v))?,
                );
            }
            s if s.starts_with('-') => return Err(IscArgsError::Unsupported(s.to_owned())),
            iface => out.interfaces.push(iface.to_owned()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn maas_unit_command_line() {
        let a = argv(
            "dhcpd -user dhcpd -group dhcpd -f -q -4 -pf /run/maas-dhcp/dhcpd.pid -cf /var/lib/maas/dhcpd.conf -lf /var/lib/maas/dhcp/dhcpd.leases bond0 eth2",
        );
        assert!(is_isc_argv(&a));
        let p = parse(&a).unwrap();
        assert!(p.foreground && p.quiet && p.v4 && !p.test_config);
        assert_eq!(p.user.as_deref(), Some("dhcpd"));
        assert_eq!(p.group.as_deref(), Some("dhcpd"));
        assert_eq!(p.config_path(), PathBuf::from("/var/lib/maas/dhcpd.conf"));
        assert_eq!(p.pid_file, Some(PathBuf::from("/run/maas-dhcp/dhcpd.pid")));
        assert_eq!(
            p.store_dir(),
            PathBuf::from("/var/lib/maas/dhcp/dhcpd.leases.store")
        );
        assert_eq!(p.interfaces, ["bond0", "eth2"]);
    }

    #[test]
    fn snap_command_line_and_test_mode() {
        let p = parse(&argv("dhcpd -f -4 -pf /p -cf /c -lf /l eth1")).unwrap();
        assert!(!p.quiet && p.user.is_none());
        let p = parse(&argv("dhcpd -t -cf /c")).unwrap();
        assert!(p.test_config);
        // As in ISC, -cf takes the next argument whatever it is.
        let p = parse(&argv("dhcpd -t -cf -4 FILE")).unwrap();
        assert_eq!(p.config, Some(PathBuf::from("-4")));
        assert_eq!(p.interfaces, ["FILE"]);
    }

    #[test]
    fn refusals() {
        assert_eq!(parse(&argv("dhcpd -6 -cf /c")), Err(IscArgsError::Dhcpv6));
        assert_eq!(
            parse(&argv("dhcpd -cf")),
            Err(IscArgsError::MissingValue("-cf".into()))
        );
        assert_eq!(
            parse(&argv("dhcpd -p 0")),
            Err(IscArgsError::BadPort("0".into()))
        );
        assert!(matches!(
            parse(&argv("dhcpd -f -s 10.0.0.1")),
            Err(IscArgsError::Unsupported(_))
        ));
        assert!(!is_isc_argv(&argv("dhcpd run --config a.toml")));
        assert!(!is_isc_argv(&argv("dhcpd check-config -c a.toml")));
        assert!(!is_isc_argv(&argv("dhcpd")));
    }
}
