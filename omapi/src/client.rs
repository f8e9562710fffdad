//! The client side, just enough to drive a server in tests and benchmarks
//! (and, later, for a daemon's own checks): build requests, sign them, read
//! replies. Sans-IO like the rest: it returns bytes and takes bytes.

use std::net::Ipv4Addr;

use crate::auth::{Key, encode_signed};
use crate::wire::{self, Decoded, Limits, Message, Op, Values, WireError};

/// A client's view of one connection.
#[derive(Debug)]
pub struct Client {
    key: Option<Key>,
    authid: u32,
    next_id: u32,
    input: Vec<u8>,
    started: bool,
}

/// An object type name and the values of an OPEN request.
#[derive(Clone, Debug, Default)]
pub struct Open {
    /// Message values (`type` is added by [`Client::open`]).
    pub message: Values,
    /// Object values (lookup keys, attributes).
    pub object: Values,
}

impl Open {
    /// An OPEN that creates (with `exclusive`, fails if the object exists).
    pub fn create(exclusive: bool) -> Self {
        let mut o = Open::default();
        o.message.push_u32("create", 1);
        if exclusive {
            o.message.push_u32("exclusive", 1);
        }
        o
    }

    /// Add an object value.
    pub fn with(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.object.push(name, value);
        self
    }

    /// Add `hardware-address` and `hardware-type` 1.
    pub fn with_mac(self, mac: [u8; 6]) -> Self {
        let mut o = self.with("hardware-address", mac.to_vec());
        o.object.push_u32("hardware-type", 1);
        o
    }

    /// Add `ip-address`.
    pub fn with_ip(self, ip: Ipv4Addr) -> Self {
        self.with("ip-address", ip.octets().to_vec())
    }
}

impl Client {
    /// A client that will sign with `key` once its authenticator is open.
    pub fn new(key: Option<Key>) -> Self {
        Client {
            key,
            authid: 0,
            next_id: 1,
            input: Vec::new(),
            started: false,
        }
    }

    /// The startup message to send first.
    pub fn startup(&self) -> Vec<u8> {
        let mut v = Vec::new();
        wire::encode_startup(&mut v);
        v
    }

    /// The authenticator id in use (0 before the authenticator is open).
    pub fn authid(&self) -> u32 {
        self.authid
    }

    /// Use authenticator `authid` from now on (from the server's reply to
    /// [`Client::open_authenticator`]).
    pub fn set_authid(&mut self, authid: u32) {
        self.authid = authid;
    }

    /// Encode `m` with a fresh id, signed when an authenticator is in use.
    /// Returns the bytes and the id.
    pub fn request(&mut self, mut m: Message) -> (Vec<u8>, u32) {
        m.id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let mut out = Vec::new();
        match (&self.key, self.authid) {
            (Some(k), id) if id != 0 => encode_signed(&m, id, k, &mut out),
            _ => m.encode(&mut out),
        }
        (out, m.id)
    }

    /// OPEN of the authenticator for this client's key (unsigned).
    pub fn open_authenticator(&mut self) -> (Vec<u8>, u32) {
        let mut m = Message {
            op: Op::OPEN.0,
            ..Default::default()
        };
        m.message.push("type", b"authenticator".to_vec());
        let name = self
            .key
            .as_ref()
            .map(|k| k.name().as_bytes().to_vec())
            .unwrap_or_default();
        m.object.push("name", name);
        m.object
            .push("algorithm", b"hmac-md5.SIG-ALG.REG.INT.".to_vec());
        let saved = std::mem::take(&mut self.authid);
        let r = self.request(m);
        self.authid = saved;
        r
    }

    /// OPEN of an object of type `kind`.
    pub fn open(&mut self, kind: &str, open: Open) -> (Vec<u8>, u32) {
        let mut m = Message {
            op: Op::OPEN.0,
            message: open.message,
            object: open.object,
            ..Default::default()
        };
        m.message
            .0
            .insert(0, (b"type".to_vec(), kind.as_bytes().to_vec()));
        self.request(m)
    }

    /// UPDATE of the object behind `handle` with `object` values.
    pub fn update(&mut self, handle: u32, object: Values) -> (Vec<u8>, u32) {
        self.request(Message {
            op: Op::UPDATE.0,
            handle,
            object,
            ..Default::default()
        })
    }

    /// REFRESH of `handle`.
    pub fn refresh(&mut self, handle: u32) -> (Vec<u8>, u32) {
        self.request(Message {
            op: Op::REFRESH.0,
            handle,
            ..Default::default()
        })
    }

    /// DELETE of `handle`.
    pub fn delete(&mut self, handle: u32) -> (Vec<u8>, u32) {
        self.request(Message {
            op: Op::DELETE.0,
            handle,
            ..Default::default()
        })
    }

    /// Feed bytes from the server; returns the complete replies decoded so
    /// far (the server's startup message is checked and dropped), each with
    /// whether its signature verified under this client's key (unsigned
    /// replies: `false`).
    pub fn receive(&mut self, data: &[u8]) -> Result<Vec<(Message, bool)>, WireError> {
        self.input.extend_from_slice(data);
        let mut out = Vec::new();
        let mut pos = 0;
        if !self.started {
            if wire::decode_startup(&self.input)?.is_none() {
                return Ok(out);
            }
            self.started = true;
            pos = wire::STARTUP_LEN;
        }
        while let Some(Decoded {
            message,
            len,
            signed_len,
        }) = wire::decode(&self.input[pos..], &Limits::default())?
        {
            let signed = &self.input[pos + 4..pos + 4 + signed_len];
            let verified = match &self.key {
                Some(k) if message.authid != 0 && message.authid == self.authid => {
                    k.verify(signed, &message.signature)
                }
                _ => false,
            };
            out.push((message, verified));
            pos += len;
        }
        self.input.drain(..pos);
        Ok(out)
    }
}

/// A status reply's result code, if `m` is a status reply.
pub fn status_of(m: &Message) -> Option<crate::status::Status> {
    if m.op != Op::STATUS.0 {
        return None;
    }
    m.message
        .get_uint("result")
        .and_then(Result::ok)
        .map(crate::status::Status)
}
