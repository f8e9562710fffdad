//! Errors: every one names the file, line and column of the statement at
//! fault, and renders in ISC dhcpd's own shape as well
//! ([`IscError::isc_render`]).

use std::fmt;
use std::path::PathBuf;

use dhcp_core::config::ConfigError;

/// A position in one of the files read (file number, 1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Index into the list of files read (0 is the main file).
    pub file: usize,
    /// Line, from 1.
    pub line: u32,
    /// Column in characters, from 1.
    pub column: u32,
}

/// The class of a located error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The text is not valid ISC syntax.
    Syntax,
    /// Valid ISC, but a statement (or a form of one) this server does not
    /// support. Nothing is ever ignored silently.
    Unsupported,
    /// Supported statements whose values are wrong or inconsistent.
    Invalid,
    /// An included file could not be read.
    Include,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Syntax => "syntax error",
            Self::Unsupported => "unsupported",
            Self::Invalid => "invalid",
            Self::Include => "include",
        })
    }
}

/// An error found at a position, before the file name and line text are known.
#[derive(Debug, Clone)]
pub(crate) struct Located {
    pub pos: Pos,
    pub kind: ErrorKind,
    pub message: String,
}

impl Located {
    pub(crate) fn new(pos: Pos, kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            pos,
            kind,
            message: message.into(),
        }
    }
}

/// A located error with everything needed to show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// What went wrong, in general.
    pub kind: ErrorKind,
    /// The file (as named to the parser, or by `include`).
    pub file: String,
    /// Line, from 1.
    pub line: u32,
    /// Column in characters, from 1.
    pub column: u32,
    /// The message, naming the statement.
    pub message: String,
    /// The text of the offending line (without its newline).
    pub line_text: String,
}

/// Why an ISC configuration was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum IscError {
    /// The main file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An error at a known place.
    #[error("{}:{}:{}: {}", .0.file, .0.line, .0.column, .0.message)]
    At(Box<Diagnostic>),
    /// The configuration model refused the result and the place could not
    /// be traced back to a statement.
    #[error("{0}")]
    Model(ConfigError),
}

impl IscError {
    /// The diagnostic, for located errors.
    pub fn diagnostic(&self) -> Option<&Diagnostic> {
        match self {
            Self::At(d) => Some(d),
            _ => None,
        }
    }

    /// The error as ISC dhcpd prints it: `FILE line N: message`, then the
    /// offending line and a caret under the column (MAAS shows this text).
    pub fn isc_render(&self) -> String {
        match self {
            Self::At(d) => {
                let caret_col = usize::try_from(d.column.saturating_sub(1)).unwrap_or(0);
                let pad: String = d
                    .line_text
                    .chars()
                    .take(caret_col)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                format!(
                    "{} line {}: {}\n{}\n{}^",
                    d.file, d.line, d.message, d.line_text, pad
                )
            }
            Self::Io { path, source } => {
                format!("Can't open {}: {}", path.display(), source)
            }
            Self::Model(e) => e.to_string(),
        }
    }
}
