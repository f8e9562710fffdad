//! Errors of the load benchmark.

/// What can go wrong while benchmarking.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The lab failed (namespaces, processes).
    #[error("lab: {0}")]
    Lab(#[from] testbed::Error),
    /// An I/O operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A tool's output could not be read.
    #[error("parse: {0}")]
    Parse(String),
    /// A tool failed or is missing.
    #[error("{0}")]
    Tool(String),
    /// A measurement could not be made or summed up.
    #[error("measuring: {0}")]
    Measure(String),
    /// A picture could not be drawn.
    #[error("drawing: {0}")]
    Plot(String),
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

/// Result alias for the load benchmark.
pub type Result<T, E = Error> = std::result::Result<T, E>;
