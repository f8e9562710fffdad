//! A broken invariant, with the seed that replays it.

use std::fmt;

/// A broken invariant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The seed (replay with it).
    pub seed: u64,
    /// True time in ms.
    pub at_ms: u64,
    /// What went wrong.
    pub what: String,
    /// The last lines of the trace.
    pub trace: Vec<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "seed {} failed at t={}.{:03}s: {}",
            self.seed,
            self.at_ms / 1000,
            self.at_ms % 1000,
            self.what
        )?;
        for l in &self.trace {
            writeln!(f, "  {l}")?;
        }
        Ok(())
    }
}

pub(super) fn pair_failure(seed: u64, at_ms: u64, what: impl fmt::Display) -> Box<Failure> {
    Box::new(Failure {
        seed,
        at_ms,
        what: what.to_string(),
        trace: Vec::new(),
    })
}
