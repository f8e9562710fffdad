//! A small tokio TCP server that runs one [`Session`] per connection over a
//! shared backend (feature `tokio`). Used by the interoperability tests, the
//! benchmark and examples; a daemon may drive sessions its own way.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::backend::Backend;
use crate::session::{Config, Session, Stats};

/// What the server's connections share.
pub struct Server<B> {
    config: Arc<Config>,
    backend: Arc<Mutex<B>>,
    stats: Arc<Mutex<Stats>>,
}

impl<B> Clone for Server<B> {
    fn clone(&self) -> Self {
        Server {
            config: self.config.clone(),
            backend: self.backend.clone(),
            stats: self.stats.clone(),
        }
    }
}

impl<B: Backend + Send + 'static> Server<B> {
    /// A server with this configuration over this backend.
    pub fn new(config: Config, backend: B) -> Self {
        Server {
            config: Arc::new(config),
            backend: Arc::new(Mutex::new(backend)),
            stats: Arc::new(Mutex::new(Stats::default())),
        }
    }

    /// The backend, shared with the connections.
    pub fn backend(&self) -> &Arc<Mutex<B>> {
        &self.backend
    }

    /// Counters of all connections so far.
    pub fn stats(&self) -> Stats {
        *self.stats.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Accept connections until the listener fails, each in its own task.
    pub async fn run(self, listener: TcpListener) -> io::Result<()> {
        loop {
            let (stream, _) = listener.accept().await?;
            let server = self.clone();
            tokio::spawn(async move {
                // A connection's I/O error ends only that connection.
                let _ = server.connection(stream).await;
            });
        }
    }

    /// Serve one connection to its end.
    pub async fn connection(&self, mut stream: TcpStream) -> io::Result<()> {
        stream.set_nodelay(true)?;
        let mut session = Session::new(self.config.clone());
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            if let Some(out) = session.poll_transmit() {
                stream.write_all(&out).await?;
            }
            if session.is_closed() {
                self.add_stats(&mut session);
                return stream.shutdown().await;
            }
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                session.handle_eof();
            } else {
                let mut backend = self.backend.lock().unwrap_or_else(PoisonError::into_inner);
                session.handle_input(&buf[..n], &mut *backend);
            }
            self.add_stats(&mut session);
        }
    }

    fn add_stats(&self, session: &mut Session) {
        let s = session.take_stats();
        self.stats
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .add(&s);
    }
}
