//! The metrics exporter: a deliberately small HTTP/1.1 responder for
//! `GET /metrics` (one request per connection, `Connection: close`), enough
//! for Prometheus and curl without pulling in an HTTP stack.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::shutdown;
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Longest request head accepted.
const MAX_HEAD: usize = 8192;
/// How long a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Most scrapes served at once; further connections are closed at once.
const MAX_CONNECTIONS: usize = 32;
/// Content type of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Binds the exporter's listening socket.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Serves scrapes until `stop` turns true.
pub async fn run(listener: TcpListener, registry: Arc<Registry>, mut stop: watch::Receiver<bool>) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let conn = tokio::select! {
            _ = shutdown::requested(&mut stop) => break,
            c = listener.accept() => c,
        };
        match conn {
            Ok((stream, _)) => {
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    tracing::debug!("too many metrics connections; one refused");
                    continue;
                };
                let reg = registry.clone();
                tokio::spawn(async move {
                    if let Err(e) = handle(stream, &reg).await {
                        tracing::debug!(error = %e, "metrics request failed");
                    }
                    drop(slot);
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics listener accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// The request line's method and path, once the whole head has arrived.
fn parse_head(head: &[u8]) -> Option<(&str, &str)> {
    let text = std::str::from_utf8(head).ok()?;
    let line = text.lines().next()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?;
    let path = parts.next()?;
    Some((method, path))
}

async fn handle(mut stream: TcpStream, registry: &Registry) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    let read = async {
        loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Ok::<bool, std::io::Error>(false);
            }
            head.extend_from_slice(buf.get(..n).unwrap_or_default());
            if head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n") {
                return Ok(true);
            }
            if head.len() > MAX_HEAD {
                return Ok(false);
            }
        }
    };
    let complete = matches!(tokio::time::timeout(READ_TIMEOUT, read).await, Ok(Ok(true)));
    let (status, ctype, body) = match parse_head(&head).filter(|_| complete) {
        None => ("400 Bad Request", "text/plain", "bad request\n".to_owned()),
        Some(("GET", path)) if path == "/metrics" || path.starts_with("/metrics?") => {
            match super::render(registry) {
                Ok(s) => ("200 OK", CONTENT_TYPE, s),
                Err(_) => (
                    "500 Internal Server Error",
                    "text/plain",
                    "cannot encode metrics\n".to_owned(),
                ),
            }
        }
        Some(("GET", "/")) => (
            "200 OK",
            "text/plain",
            "dhcpd metrics exporter: see /metrics\n".to_owned(),
        ),
        Some(("GET", _)) => ("404 Not Found", "text/plain", "not found\n".to_owned()),
        Some(_) => (
            "405 Method Not Allowed",
            "text/plain",
            "only GET\n".to_owned(),
        ),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_line() {
        assert_eq!(
            parse_head(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Some(("GET", "/metrics"))
        );
        assert_eq!(parse_head(b""), None);
        assert_eq!(parse_head(&[0xff, 0xfe]), None);
    }
}
