//! The failover status socket: a unix stream socket at
//! [`super::control_socket_path`] taking one command line per connection.
//!
//! * `status` → [`super::FailoverStatus::render`] (`key value` lines);
//! * `partner-down` → `state <state>` after the driver has acted.
//!
//! Errors are answered as `error <text>`. The socket is removed at shutdown.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

use super::{FailoverHandle, LOG_TARGET};

/// Error talking to a daemon's control socket.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The socket could not be reached or the exchange failed.
    #[error("control socket {path}: {source}")]
    Io {
        /// The socket.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The daemon answered with an error.
    #[error("the daemon answered: {0}")]
    Refused(String),
}

/// Serves the control socket at `path` until `stop` turns true.
pub async fn serve(path: PathBuf, handle: FailoverHandle, mut stop: watch::Receiver<bool>) {
    let _ = std::fs::remove_file(&path);
    let listener = match UnixListener::bind(&path) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(target: LOG_TARGET, path = %path.display(), error = %e,
                "cannot open the failover control socket");
            return;
        }
    };
    tracing::info!(target: LOG_TARGET, path = %path.display(), "failover control socket ready");
    loop {
        tokio::select! {
            r = stop.changed() => {
                if r.is_err() || *stop.borrow() {
                    break;
                }
            }
            a = listener.accept() => match a {
                Ok((stream, _)) => {
                    tokio::spawn(answer(stream, handle.clone()));
                }
                Err(e) => {
                    tracing::warn!(target: LOG_TARGET, error = %e, "control socket accept failed");
                }
            },
        }
    }
    let _ = std::fs::remove_file(&path);
}

async fn answer(stream: UnixStream, handle: FailoverHandle) {
    let (rd, mut wr) = stream.into_split();
    let mut line = String::new();
    if BufReader::new(rd).read_line(&mut line).await.is_err() {
        return;
    }
    let reply = match line.trim() {
        "status" => handle.current().render(),
        "partner-down" => match handle.partner_down().await {
            Some(s) => format!("state {s}\n"),
            None => "error the failover driver has stopped\n".to_owned(),
        },
        other => format!("error unknown command {other:?}\n"),
    };
    let _ = wr.write_all(reply.as_bytes()).await;
    let _ = wr.shutdown().await;
}

/// Sends `command` to the daemon listening at `path` and returns its answer
/// (blocking; for scripts and tests).
pub fn request(path: &Path, command: &str) -> Result<String, ControlError> {
    use std::io::{Read, Write};
    let io = |source| ControlError::Io {
        path: path.to_owned(),
        source,
    };
    let mut s = std::os::unix::net::UnixStream::connect(path).map_err(io)?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .map_err(io)?;
    s.write_all(format!("{command}\n").as_bytes()).map_err(io)?;
    let mut out = String::new();
    s.read_to_string(&mut out).map_err(io)?;
    if let Some(e) = out.strip_prefix("error ") {
        return Err(ControlError::Refused(e.trim().to_owned()));
    }
    Ok(out)
}
