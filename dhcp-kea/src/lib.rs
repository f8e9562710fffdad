//! Reads a Kea 2.2 `Dhcp4` JSON configuration into the `dhcp_core`
//! configuration model, as `dhcp-isc` does for ISC's dhcpd.conf, so both
//! dialects land on one model and one engine. What the model has no room
//! for but the daemon needs (the lease-notify script of
//! `libdhcp_run_script.so`, the control socket, subnet ids, option
//! definitions) comes alongside as [`KeaExtras`].
//!
//! Kea's comments (`//`, `#`, `/* */`, outside strings) are allowed, and
//! so is `<?include "file"?>` (a relative path is taken from the working
//! directory, as Kea takes it; JSON error positions are then those of the
//! text with its includes expanded). Every
//! key is mapped, recorded in the extras, or refused: an unknown key, an
//! unsupported expression or a refused hook is an error naming its JSON
//! path (`Dhcp4/subnet4[0]/pools[1]/foo: unknown key`). `docs/kea.md`
//! lists what is supported and what is refused.
//!
//! ```
//! let text = r#"{ "Dhcp4": {
//!     // a comment, as Kea allows
//!     "valid-lifetime": 600,
//!     "subnet4": [ { "id": 1, "subnet": "10.99.0.0/24",
//!                    "pools": [ { "pool": "10.99.0.100 - 10.99.0.200" } ] } ] } }"#;
//! let parsed = dhcp_kea::parse_str(text, "kea-dhcp4.conf").unwrap();
//! assert_eq!(parsed.config.subnets.len(), 1);
//! assert_eq!(parsed.config.lease_time.default, Some(600));
//!
//! let err = dhcp_kea::parse_str(r#"{ "Dhcp4": { "colour": 1 } }"#, "k.conf").unwrap_err();
//! assert_eq!(err.to_string(), "k.conf: Dhcp4/colour: unknown key");
//! ```

#![warn(clippy::unwrap_used, clippy::expect_used)]

mod classes;
mod convert;
mod error;
mod expr;
mod extras;
mod hooks;
mod include;
mod options;
mod parts;
mod schema;

use std::io::Read;
use std::path::Path;

use dhcp_core::config::{Config, ConfigError, HostConfig};

pub use convert::{KEA_DEFAULT_LEASE_FILE, KEA_DEFAULT_VALID_LIFETIME};
pub use error::KeaError;
pub use extras::{ControlSocketConfig, HaNames, KeaExtras, RunScript};
pub use hooks::{HA_FAILOVER_PORT, HA_MCLT, HA_NOTE};

/// A parsed and validated Kea configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct KeaConfig {
    /// The equivalent configuration in our model (validated).
    pub config: Config,
    /// The Kea-only settings.
    pub extras: KeaExtras,
    /// The file read.
    pub file: String,
}

/// Reads, parses and validates the Kea file at `path`.
pub fn parse_file(path: &Path) -> Result<KeaConfig, KeaError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeaError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_str(&text, &path.display().to_string())
}

/// Kea JSON text (comments and `<?include?>` allowed, as in Kea's files)
/// as a plain JSON value, not checked against the schema; `name` names it
/// in errors.
pub fn to_value(text: &str, name: &str) -> Result<serde_json::Value, KeaError> {
    let text = expand_includes(text, name)?;
    let plain = strip_comments(&text, name)?;
    serde_json::from_str(&plain).map_err(|inner| KeaError::Syntax {
        file: name.to_owned(),
        line: inner.line(),
        column: inner.column(),
        message: strip_position(&inner.to_string()),
    })
}

/// `text` with its `<?include?>` directives expanded.
fn expand_includes(text: &str, name: &str) -> Result<String, KeaError> {
    include::expand(text, name, &include::Files).map_err(|e| KeaError::Include {
        file: e.file,
        line: e.line,
        message: e.message,
    })
}

/// `text` with its comments blanked out (same length: JSON error positions
/// stay those of the file).
fn strip_comments(text: &str, name: &str) -> Result<String, KeaError> {
    let mut plain = String::with_capacity(text.len());
    json_comments::StripComments::new(text.as_bytes())
        .read_to_string(&mut plain)
        .map_err(|e| KeaError::Syntax {
            file: name.to_owned(),
            line: 1,
            column: 1,
            message: if e.kind() == std::io::ErrorKind::InvalidData {
                "a /* comment is not closed".to_owned()
            } else {
                e.to_string()
            },
        })?;
    Ok(plain)
}

/// Parses and validates Kea JSON text; `name` names it in errors.
pub fn parse_str(text: &str, name: &str) -> Result<KeaConfig, KeaError> {
    let text = expand_includes(text, name)?;
    let located = |e: error::At| KeaError::At {
        file: name.to_owned(),
        path: e.path,
        message: e.message,
    };
    let plain = strip_comments(&text, name)?;
    let mut de = serde_json::Deserializer::from_str(&plain);
    let root: schema::Root = match serde_path_to_error::deserialize(&mut de) {
        Ok(r) => r,
        Err(e) => {
            let path = error::json_path(e.path());
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                return Err(KeaError::Syntax {
                    file: name.to_owned(),
                    line: inner.line(),
                    column: inner.column(),
                    message: strip_position(&inner.to_string()),
                });
            }
            let msg = strip_position(&inner.to_string());
            let path = path.trim_start_matches('/');
            return Err(located(error::serde_message(path, &msg)));
        }
    };
    if de.end().is_err() {
        return Err(KeaError::Syntax {
            file: name.to_owned(),
            line: 1,
            column: 1,
            message: "text after the top-level object".to_owned(),
        });
    }
    let Some(d) = root.dhcp4 else {
        return Err(located(error::At {
            path: "Dhcp4".to_owned(),
            message: "missing: the file has no Dhcp4 object".to_owned(),
        }));
    };
    let mut conv = convert::Converter::new();
    conv.dhcp4(&d).map_err(located)?;
    conv.hooks(&d.hooks_libraries).map_err(located)?;
    if let Some(c) = &d.control_socket {
        conv.control_socket(c).map_err(located)?;
    }
    conv.loggers(&d.loggers).map_err(located)?;
    if let Err(e) = conv.cfg.validate() {
        return Err(model_error(name, &conv.paths, e));
    }
    Ok(KeaConfig {
        config: conv.cfg,
        extras: conv.extras,
        file: name.to_owned(),
    })
}

/// One Kea reservation map (as `reservation-add` carries it, without its
/// `subnet-id`) as a host of the model, read as in a file's
/// `reservations` (Kea's standard option names; errors name `path`).
pub fn reservation(value: &serde_json::Value, path: &str) -> Result<HostConfig, KeaError> {
    let located = |e: error::At| KeaError::At {
        file: "command".to_owned(),
        path: e.path,
        message: e.message,
    };
    let r: schema::Reservation = match serde_path_to_error::deserialize(value) {
        Ok(r) => r,
        Err(e) => {
            let sub = error::json_path(e.path());
            let msg = strip_position(&e.into_inner().to_string());
            let full = format!("{path}/{}", sub.trim_start_matches('/'));
            return Err(located(error::serde_message(
                full.trim_end_matches('/'),
                &msg,
            )));
        }
    };
    parts::reservation(&options::Names::default(), &r, path, "reservation")
        .map(|(host, _always)| host)
        .map_err(located)
}

/// serde_json's message without its " at line L column C" tail.
fn strip_position(m: &str) -> String {
    match m.rfind(" at line ") {
        Some(i) => m[..i].to_owned(),
        None => m.to_owned(),
    }
}

/// A model validation error, placed at the JSON key its model path came from.
fn model_error(name: &str, paths: &[(String, String)], e: ConfigError) -> KeaError {
    if let Some((json, path, reason)) = e.locate(paths) {
        return KeaError::At {
            file: name.to_owned(),
            path: json.clone(),
            message: format!("{reason} (model: {path})"),
        };
    }
    KeaError::Model {
        file: name.to_owned(),
        source: e,
    }
}

impl KeaConfig {
    /// The configuration as our TOML (what `dhcpd import-kea` prints). The
    /// Kea-only settings follow as comments: they are not part of the TOML
    /// model.
    pub fn to_toml(&self) -> Result<String, KeaError> {
        let body = toml::to_string(&self.config).map_err(|e| KeaError::Model {
            file: self.file.clone(),
            source: ConfigError::Invalid {
                path: String::new(),
                reason: format!("cannot write TOML: {e}"),
            },
        })?;
        let mut out = format!(
            "# Converted from Kea Dhcp4 configuration\n#   {}\n",
            self.file
        );
        let x = &self.extras;
        let mut notes = Vec::new();
        if let Some(f) = &x.lease_file {
            notes.push(format!(
                "lease-database memfile {f} (the store is kept beside it)"
            ));
        }
        for (id, net) in &x.subnet_ids {
            notes.push(format!("subnet id {id} = {net}"));
        }
        if let Some(r) = &x.run_script {
            notes.push(format!("run_script {} (sync {})", r.name, r.sync));
        }
        for h in &x.hooks {
            notes.push(format!("hook {h}"));
        }
        if let Some(c) = &x.control_socket {
            notes.push(format!("control-socket unix {}", c.socket_name));
        }
        notes.extend(x.option_definitions.iter().cloned());
        notes.extend(x.acknowledged.iter().cloned());
        if !notes.is_empty() {
            out.push_str("# Kea-only settings (served by the daemon, not part of this file):\n");
            for n in notes {
                out.push_str(&format!("#   {n}\n"));
            }
        }
        out.push('\n');
        out.push_str(&body);
        Ok(out)
    }
}
