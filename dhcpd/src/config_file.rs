//! Loading the configuration file: our TOML, an ISC `dhcpd.conf` (read
//! by `dhcp-isc` into the same model) or a Kea `Dhcp4` JSON file (read by
//! `dhcp-kea`). A file named `*.toml` is TOML; a file whose first thing
//! after comments is `{` is Kea's (neither TOML nor ISC starts so); any
//! other file is TOML if it parses as TOML, else ISC.

use std::path::Path;

use dhcp_core::config::{Config, ConfigError};
use dhcp_isc::IscError;
use dhcp_kea::KeaError;

/// Why a configuration file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A TOML configuration that is invalid.
    #[error("{0}")]
    Toml(ConfigError),
    /// An ISC configuration that is refused.
    #[error("{0}")]
    Isc(IscError),
    /// A Kea configuration that is refused.
    #[error("{0}")]
    Kea(KeaError),
}

impl LoadError {
    /// The error for a terminal: ISC errors in ISC's shape (file, line,
    /// the line and a caret), others as one line.
    pub fn render(&self) -> String {
        match self {
            Self::Isc(e) => e.isc_render(),
            e => e.to_string(),
        }
    }
}

/// Whether `text` (from `path`) is a Kea JSON configuration: its first
/// character outside whitespace and `#`, `//` and `/* */` comments is `{`.
pub fn is_kea(path: &Path, text: &str) -> bool {
    if path.extension().is_some_and(|e| e == "toml") {
        return false;
    }
    let mut rest = text.trim_start();
    loop {
        if rest.starts_with('#') || rest.starts_with("//") {
            rest = rest.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            return rest.starts_with('{');
        }
    }
}

/// Whether `text` (from `path`) is an ISC configuration.
pub fn is_isc(path: &Path, text: &str) -> bool {
    if path.extension().is_some_and(|e| e == "toml") || is_kea(path, text) {
        return false;
    }
    matches!(Config::from_toml(text), Err(ConfigError::Parse(_)))
}

/// Loads and validates the configuration at `path`, in either format.
pub fn load(path: &Path) -> Result<Config, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.display().to_string(),
        source,
    })?;
    if is_kea(path, &text) {
        return dhcp_kea::parse_str(&text, &path.display().to_string())
            .map(|c| c.config)
            .map_err(LoadError::Kea);
    }
    if is_isc(path, &text) {
        return dhcp_isc::parse_file(path)
            .map(|c| c.config)
            .map_err(LoadError::Isc);
    }
    Config::from_toml(&text).map_err(LoadError::Toml)
}

/// The `on commit/release/expiry` hooks of the ISC configuration at
/// `path` (none for a TOML file, or a file that does not load: its error is
/// reported by [`load`]).
pub fn isc_hooks(path: &Path) -> Vec<dhcp_isc::EventHook> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    if !is_isc(path, &text) {
        return Vec::new();
    }
    dhcp_isc::parse_file(path)
        .map(|c| c.extras.events)
        .unwrap_or_default()
}

/// The Kea-only settings of the Kea configuration at `path` (none for
/// another format, or a file that does not load: its error is reported by
/// [`load`]).
pub fn kea_extras(path: &Path) -> Option<dhcp_kea::KeaExtras> {
    let text = std::fs::read_to_string(path).ok()?;
    if !is_kea(path, &text) {
        return None;
    }
    dhcp_kea::parse_str(&text, &path.display().to_string())
        .ok()
        .map(|c| c.extras)
}

/// The run_script hook of the Kea configuration at `path`, if it has one.
pub fn kea_script(path: &Path) -> Option<crate::ops::kea_script::KeaScript> {
    let x = kea_extras(path)?;
    let r = x.run_script?;
    Some(crate::ops::kea_script::KeaScript {
        program: r.name.into(),
        subnet_ids: x.subnet_ids,
    })
}

/// The unix control socket the Kea configuration at `path` names
/// (`Dhcp4/control-socket/socket-name`), if any.
pub fn kea_control_socket(path: &Path) -> Option<std::path::PathBuf> {
    kea_extras(path)?
        .control_socket
        .map(|c| std::path::PathBuf::from(c.socket_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_formats_load() {
        let dir = tempfile::tempdir().unwrap();
        let toml = dir.path().join("a.toml");
        std::fs::write(
            &toml,
            "[[subnets]]\nsubnet = \"10.99.0.0/24\"\npools = [{ start = \"10.99.0.10\", end = \"10.99.0.20\" }]\n",
        )
        .unwrap();
        let isc = dir.path().join("dhcpd.conf");
        std::fs::write(
            &isc,
            "subnet 10.99.0.0 netmask 255.255.255.0 { range 10.99.0.10 10.99.0.20; }\n",
        )
        .unwrap();
        let a = load(&toml).unwrap();
        let b = load(&isc).unwrap();
        assert_eq!(a.subnets[0].pools, b.subnets[0].pools);
        std::fs::write(&isc, "subnet 10.99.0.0 netmask 255.255.255.0 { bogus; }\n").unwrap();
        let e = load(&isc).unwrap_err();
        assert!(
            e.render()
                .contains("line 1: statement \"bogus\" is not supported"),
            "{}",
            e.render()
        );
        let bad_toml = dir.path().join("b.toml");
        std::fs::write(&bad_toml, "subnet 10.99.0.0 netmask 255.255.255.0 {}\n").unwrap();
        assert!(matches!(load(&bad_toml), Err(LoadError::Toml(_))));
    }

    #[test]
    fn kea_files_load_into_the_same_model() {
        let dir = tempfile::tempdir().unwrap();
        let kea = dir.path().join("kea-dhcp4.conf");
        std::fs::write(
            &kea,
            "# Kea\n/* block */ // line\n{ \"Dhcp4\": { \"subnet4\": [ { \"id\": 1, \"subnet\": \"10.99.0.0/24\",\n  \"pools\": [ { \"pool\": \"10.99.0.10 - 10.99.0.20\" } ] } ] } }\n",
        )
        .unwrap();
        let text = std::fs::read_to_string(&kea).unwrap();
        assert!(is_kea(&kea, &text) && !is_isc(&kea, &text));
        let c = load(&kea).unwrap();
        assert_eq!(c.subnets[0].pools[0].start.to_string(), "10.99.0.10");
        std::fs::write(&kea, "{ \"Dhcp4\": { \"bogus\": 1 } }").unwrap();
        let e = load(&kea).unwrap_err();
        assert!(matches!(e, LoadError::Kea(_)));
        assert!(
            e.render().ends_with("Dhcp4/bogus: unknown key"),
            "{}",
            e.render()
        );
        std::fs::write(
            &kea,
            "{ \"Dhcp4\": { \"hooks-libraries\": [ { \"library\": \"/usr/lib/kea/hooks/libdhcp_run_script.so\",\n  \"parameters\": { \"name\": \"/usr/local/bin/notify\", \"sync\": false } } ],\n  \"subnet4\": [ { \"id\": 7, \"subnet\": \"10.99.0.0/24\" } ] } }",
        )
        .unwrap();
        let script = kea_script(&kea).unwrap();
        assert_eq!(script.program, Path::new("/usr/local/bin/notify"));
        assert_eq!(script.subnet_ids[0].0, 7);
        let isc = dir.path().join("dhcpd.conf");
        assert!(kea_script(&isc).is_none());
        assert!(!is_kea(
            &isc,
            "# {\nsubnet 10.99.0.0 netmask 255.255.255.0 { }\n"
        ));
    }
}
