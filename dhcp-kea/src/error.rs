//! Errors: each names the file and the JSON path of the key at fault
//! (`Dhcp4/subnet4[0]/pools[1]/foo`), or the line and column of a JSON
//! syntax error.

use std::path::PathBuf;

use dhcp_core::config::ConfigError;

/// Why a Kea configuration was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum KeaError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The text is not JSON (after comments are removed).
    #[error("{file}:{line}:{column}: JSON syntax error: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// Line, from 1.
        line: usize,
        /// Column, from 1.
        column: usize,
        /// What the JSON parser said.
        message: String,
    },
    /// An `<?include "file"?>` directive could not be expanded.
    #[error("{file}:{line}: {message}")]
    Include {
        /// The file holding the directive.
        file: String,
        /// Its line, from 1.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A key that is unknown, refused, or has a wrong value.
    #[error("{file}: {path}: {message}")]
    At {
        /// The file.
        file: String,
        /// The JSON path of the key, such as `Dhcp4/subnet4[0]/pools[1]`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The configuration model refused the result and the place could not
    /// be traced back to a key.
    #[error("{file}: {source}")]
    Model {
        /// The file.
        file: String,
        /// The model's error.
        source: ConfigError,
    },
}

impl KeaError {
    /// The JSON path of the key at fault, when known.
    pub fn json_path(&self) -> Option<&str> {
        match self {
            Self::At { path, .. } => Some(path),
            _ => None,
        }
    }

    /// The error as `kea-dhcp4 -t` reports a refused file.
    pub fn kea_render(&self) -> String {
        format!("Syntax check failed with: {self}")
    }
}

/// An error at a JSON path, before the file name is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct At {
    pub path: String,
    pub message: String,
}

/// `Err(At)` for `path`.
pub(crate) fn at<T>(path: impl Into<String>, message: impl Into<String>) -> Result<T, At> {
    Err(At {
        path: path.into(),
        message: message.into(),
    })
}

/// Results of the conversion.
pub(crate) type R<T> = Result<T, At>;

/// A serde path as Kea names keys: `Dhcp4/subnet4[0]/pools[1]` (empty for
/// the root).
pub(crate) fn json_path(p: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in p.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => {
                out.push('/');
                out.push_str(key);
            }
            Segment::Enum { variant } => {
                out.push('/');
                out.push_str(variant);
            }
            Segment::Unknown => out.push_str("/?"),
        }
    }
    out
}

/// A serde message at `path`, in this crate's words: an unknown key names
/// the key in the path (`…/pools[1]/foo: unknown key`).
pub(crate) fn serde_message(path: &str, message: &str) -> At {
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((key, _)) = rest.split_once('`')
    {
        let parent = path.strip_suffix(&format!("/{key}")).unwrap_or(path);
        return At {
            path: format!("{parent}/{key}"),
            message: "unknown key".to_owned(),
        };
    }
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some((key, _)) = rest.split_once('`')
    {
        return At {
            path: format!("{path}/{key}"),
            message: "missing key".to_owned(),
        };
    }
    At {
        path: path.to_owned(),
        message: message.to_owned(),
    }
}
