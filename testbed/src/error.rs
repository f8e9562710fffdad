//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while building or driving a lab.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An external command could not be started.
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// The cause.
        source: std::io::Error,
    },
    /// An external command ran but failed.
    #[error("`{command}` failed ({status}): {stderr}")]
    Command {
        /// The command line.
        command: String,
        /// Its exit status, as text.
        status: String,
        /// What it printed on stderr.
        stderr: String,
    },
    /// A file or socket operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A program the harness needs is not installed.
    #[error("`{program}` not found; install the Debian package `{package}`")]
    MissingProgram {
        /// The program.
        program: String,
        /// The Debian package that ships it.
        package: String,
    },
    /// A name (host, segment, interface) is unknown or invalid.
    #[error("bad name: {0}")]
    BadName(String),
    /// Something did not happen in time.
    #[error("timed out after {seconds:.1} s waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long the wait was.
        seconds: f64,
    },
    /// A process exited when it should have kept running (or produced a result).
    #[error("{what} exited early ({status}); log: {log}")]
    Exited {
        /// Which process.
        what: String,
        /// Its exit status, as text.
        status: String,
        /// Its log file.
        log: PathBuf,
    },
    /// A client finished without the information asked for.
    #[error("{0}")]
    NoResult(String),
    /// A server configuration could not be rendered.
    #[error("server config: {0}")]
    Config(String),
}

impl Error {
    /// Wraps an I/O error with a description of what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
