//! The control API client used by the CLI subcommands.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::protocol::{Reply, Request, Response};

/// How long to wait for an answer (a reload may take a moment).
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Why a control request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The socket could not be reached.
    #[error(
        "cannot connect to the control socket {path}: {source} (is dhcpd running with --control-socket, and may you use the socket?)"
    )]
    Connect {
        /// The socket path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Reading or writing failed.
    #[error("control socket I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The answer was not understood.
    #[error("unreadable answer from dhcpd: {0}")]
    Decode(String),
    /// The daemon refused or failed the request.
    #[error("{0}")]
    Refused(String),
}

/// Sends one request and returns the daemon's raw response line.
pub fn call_raw(path: &Path, req: &Request) -> Result<String, ClientError> {
    let stream = UnixStream::connect(path).map_err(|source| ClientError::Connect {
        path: path.to_owned(),
        source,
    })?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    let mut line =
        super::protocol::to_json_line(req).map_err(|e| ClientError::Decode(e.to_string()))?;
    line.push('\n');
    (&stream).write_all(line.as_bytes())?;
    let mut answer = String::new();
    BufReader::new(&stream).read_line(&mut answer)?;
    if answer.is_empty() {
        return Err(ClientError::Decode("connection closed".to_owned()));
    }
    Ok(answer)
}

/// Sends one request and returns the result.
pub fn call(path: &Path, req: &Request) -> Result<Reply, ClientError> {
    let line = call_raw(path, req)?;
    let resp: Response =
        serde_json::from_str(&line).map_err(|e| ClientError::Decode(e.to_string()))?;
    match (resp.ok, resp.result, resp.error) {
        (true, Some(r), _) => Ok(r),
        (_, _, Some(e)) => Err(ClientError::Refused(e)),
        _ => Err(ClientError::Decode("empty answer".to_owned())),
    }
}

/// Sends `req` and prints the result: a table, or with `json` the result
/// object (pretty JSON).
pub fn execute(socket: &Path, json: bool, req: &Request) -> Result<(), ClientError> {
    let reply = call(socket, req)?;
    if json {
        let text = super::protocol::to_json(&reply)
            .and_then(|v| serde_json::to_string_pretty(&v))
            .map_err(|e| ClientError::Decode(e.to_string()))?;
        println!("{text}");
    } else {
        print!("{}", super::render::human(&reply));
    }
    Ok(())
}
