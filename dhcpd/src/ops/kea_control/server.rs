//! The Kea control socket: one command per connection, answered, then the
//! connection is closed (Kea 2.2's behaviour, which kea-shell and the
//! socket forwarders expect). Connections share the daemon's control
//! connection slots.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Semaphore, watch};

use super::context::{After, KeaContext};
use super::wire::{self, Answer, Parsed};
use crate::ops::control::server::accept_loop;

/// How long a client may take to send its command.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `listener` until `stop` turns true; then removes the socket file.
pub async fn run(
    ctx: Arc<KeaContext>,
    listener: UnixListener,
    path: PathBuf,
    stop: watch::Receiver<bool>,
    slots: Arc<Semaphore>,
) {
    accept_loop(listener, path, stop, slots, "kea-control", move |stream| {
        let ctx = ctx.clone();
        async move { connection(&ctx, stream).await }
    })
    .await;
}

async fn connection(ctx: &KeaContext, mut stream: UnixStream) {
    let answer = match tokio::time::timeout(READ_TIMEOUT, read_command(&mut stream)).await {
        Err(_) => Some((
            Answer::error("timed out waiting for a complete command"),
            After::Continue,
        )),
        Ok(None) => None,
        Ok(Some(Parsed::Command(cmd))) => Some(super::dispatch::answer(ctx, cmd).await),
        Ok(Some(Parsed::Invalid(a))) => Some((a, After::Continue)),
        Ok(Some(Parsed::Incomplete)) => Some((
            Answer::error("the connection closed before the command was complete"),
            After::Continue,
        )),
    };
    let Some((answer, after)) = answer else {
        return;
    };
    let _ = stream.write_all(answer.to_json().as_bytes()).await;
    let _ = stream.shutdown().await;
    if after == After::Shutdown {
        ctx.stop.notify_one();
    }
}

/// Reads until the input is a complete JSON value (or not JSON, or too
/// long); `None` when the client closed without sending anything.
async fn read_command(stream: &mut UnixStream) -> Option<Parsed> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(n) => n,
            Err(_) => return None,
        };
        if n == 0 {
            return if buf.iter().all(u8::is_ascii_whitespace) {
                None
            } else {
                Some(wire::parse(&buf))
            };
        }
        buf.extend_from_slice(&chunk[..n]);
        match wire::parse(&buf) {
            Parsed::Incomplete => continue,
            done => return Some(done),
        }
    }
}
