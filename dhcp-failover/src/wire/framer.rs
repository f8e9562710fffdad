//! Splitting a TCP byte stream into failover messages by their 2-byte length
//! prefix, for the daemon's connection reader. Sans-IO: feed it whatever the
//! socket returned, then take out complete frames.

use super::error::{FrameError, StreamError};
use super::layout::{HEADER_LEN, MAX_MESSAGE_LEN};
use super::message::Message;

/// Accumulates stream bytes and yields complete frames.
///
/// A length prefix below 12 or above the configured maximum is a
/// [`FrameError`]; after one, the stream cannot be resynchronised and the
/// connection must be closed (ISC does the same).
#[derive(Debug, Clone)]
pub struct FrameReader {
    buf: Vec<u8>,
    start: usize,
    max_frame: usize,
}

impl Default for FrameReader {
    fn default() -> Self {
        Self::new(MAX_MESSAGE_LEN)
    }
}

impl FrameReader {
    /// A reader accepting frames of at most `max_frame` bytes (clamped to
    /// 12..=65535; use [`MAX_MESSAGE_LEN`] for ISC's limit).
    pub fn new(max_frame: usize) -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            max_frame: max_frame.clamp(HEADER_LEN, usize::from(u16::MAX)),
        }
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, data: &[u8]) {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Bytes received but not yet returned as frames.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next complete frame (header included), `Ok(None)` if more bytes are
    /// needed. The length prefix is checked as soon as its two bytes arrive.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        let pending = self.buf.get(self.start..).unwrap_or_default();
        let [hi, lo, ..] = *pending else {
            return Ok(None);
        };
        let len = u16::from_be_bytes([hi, lo]);
        let n = usize::from(len);
        if n < HEADER_LEN {
            return Err(FrameError::TooShort(len));
        }
        if n > self.max_frame {
            return Err(FrameError::TooLong {
                len,
                max: self.max_frame,
            });
        }
        let Some(frame) = pending.get(..n) else {
            return Ok(None);
        };
        let frame = frame.to_vec();
        self.start += n;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        Ok(Some(frame))
    }

    /// The next complete frame, decoded.
    pub fn next_message(&mut self) -> Result<Option<Message>, StreamError> {
        match self.next_frame()? {
            None => Ok(None),
            Some(f) => Ok(Some(Message::decode(&f)?)),
        }
    }
}
