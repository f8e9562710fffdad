//! Receive coalescing under load: when the last wake-up found a burst of
//! datagrams waiting, the runtime pauses briefly before it next waits for
//! the sockets, so that it then takes a larger batch in one `recvmmsg(2)`
//! and answers it with one `sendmmsg(2)`.
//!
//! Without it, at tens of thousands of requests per second the runtime falls
//! asleep after almost every datagram and each client send has to wake it
//! again: a context switch, an `epoll_wait(2)` and a short `recvmmsg(2)` per
//! one or two datagrams, paid by both sides. With it, the socket thread sleeps
//! on a timer for the pause instead, and clients' sends find no
//! one to wake. It is the user-space counterpart of a NIC's interrupt
//! moderation and switches itself off as soon as wake-ups find fewer than
//! [`BUSY_BATCH`] datagrams, so a lightly loaded server answers at once; under
//! load it adds at most one pause to each reply.
//!
//! The pause runs in the runtime's park hook ([`Coalescer::before_park`]),
//! i.e. only once every task has run out of work, never in the middle of a
//! batch.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Datagrams one receive must return for the next park to pause.
pub const BUSY_BATCH: usize = 4;

/// Shared between the receive loops (which report their batches) and the
/// runtime's park hook (which pauses).
#[derive(Debug)]
pub struct Coalescer {
    pause: Duration,
    busy: AtomicBool,
}

impl Coalescer {
    /// A coalescer pausing `pause` after a busy wake-up; zero turns it off.
    pub fn new(pause: Duration) -> Self {
        Self {
            pause,
            busy: AtomicBool::new(false),
        }
    }

    /// Reports that one receive returned `datagrams` datagrams.
    pub fn note_batch(&self, datagrams: usize) {
        if datagrams >= BUSY_BATCH && !self.pause.is_zero() {
            self.busy.store(true, Ordering::Relaxed);
        }
    }

    /// Whether the next park will pause (and clears the mark).
    pub fn take_busy(&self) -> bool {
        self.busy.swap(false, Ordering::Relaxed)
    }

    /// The runtime's park hook: sleeps for the configured pause when a receive since
    /// the last park was busy. Blocking is intended: the runtime has nothing
    /// left to run, and the point is to let datagrams gather meanwhile.
    pub fn before_park(&self) {
        if self.take_busy() {
            std::thread::sleep(self.pause);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_only_after_a_busy_receive_and_only_once() {
        let c = Coalescer::new(Duration::from_micros(200));
        c.note_batch(1);
        c.note_batch(BUSY_BATCH - 1);
        assert!(!c.take_busy(), "small batches never pause");
        c.note_batch(BUSY_BATCH);
        assert!(c.take_busy());
        assert!(!c.take_busy(), "one busy receive pauses one park");
    }

    #[test]
    fn zero_pause_is_off() {
        let c = Coalescer::new(Duration::ZERO);
        c.note_batch(1000);
        assert!(!c.take_busy());
    }

    #[test]
    fn the_park_hook_sleeps_the_pause() {
        let c = Coalescer::new(Duration::from_millis(5));
        c.note_batch(BUSY_BATCH);
        let t = std::time::Instant::now();
        c.before_park();
        assert!(t.elapsed() >= Duration::from_millis(5));
        assert!(!c.take_busy(), "the pause used the mark up");
    }
}
