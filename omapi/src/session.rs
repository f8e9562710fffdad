//! The server side of one OMAPI connection, as a state machine: bytes in
//! ([`Session::handle_input`], [`Session::handle_eof`]), bytes out
//! ([`Session::poll_transmit`]), requests carried out on a [`Backend`].
//!
//! Refusals change nothing in the backend: a message is authenticated and
//! decoded in full before the backend is called. What is refused:
//! * a signature that does not verify, or an authid this session never
//!   gave: status `DHCP_R_INVALIDKEY`, then the session closes;
//! * while keys are configured, any unsigned message except the opening of
//!   an authenticator: status `ISC_R_NOPERM` (the session stays open);
//! * an authenticator naming an unknown key or another algorithm:
//!   status `DHCP_R_KEY_UNKNOWN`;
//! * bytes that are not OMAPI (wrong startup, a length over the limits, an
//!   unsupported signature length): the session closes at once, since the
//!   stream's framing is lost; a connection that ends inside a message
//!   counts as truncated.
//!
//! Each is counted in [`Stats`].

use std::collections::{HashMap, VecDeque};
use std::net::Ipv4Addr;
use std::sync::Arc;

use crate::auth::{Key, KeyRing, SIGNATURE_LEN, encode_signed, is_hmac_md5};
use crate::backend::{Backend, BackendError, FailoverStateCode, Host, HostId, HostKey, LeaseKey};
use crate::objects;
use crate::status::Status;
use crate::wire::{self, Limits, Message, Op, Values};

/// What every session of a server shares: its keys and limits.
#[derive(Clone, Debug)]
pub struct Config {
    /// Accepted keys. When there is at least one, every request must be
    /// signed with one of them.
    pub keys: KeyRing,
    /// Decoding limits.
    pub limits: Limits,
    /// Most object handles one session keeps; past it the oldest is forgotten.
    pub max_handles: usize,
}

impl Config {
    /// A configuration with these keys and default limits.
    pub fn new(keys: KeyRing) -> Self {
        Config {
            keys,
            limits: Limits::default(),
            max_handles: 1024,
        }
    }

    /// Whether requests must be signed.
    pub fn requires_auth(&self) -> bool {
        !self.keys.is_empty()
    }
}

/// Counters of one session (or, summed with [`Stats::add`], of a server).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages received and decoded.
    pub messages: u64,
    /// Requests answered with an object (UPDATE) or success.
    pub succeeded: u64,
    /// Requests answered with an error status, refusals included.
    pub failed: u64,
    /// Unsigned requests refused because a key is required.
    pub refused_unsigned: u64,
    /// Requests refused for a signature that does not verify or an unknown authid.
    pub refused_bad_signature: u64,
    /// Authenticators refused for naming an unknown key or algorithm.
    pub refused_unknown_key: u64,
    /// Streams closed for bytes that are not OMAPI within the limits.
    pub malformed: u64,
    /// Connections that ended inside a message.
    pub truncated: u64,
}

impl Stats {
    /// Add another's counts to these.
    pub fn add(&mut self, o: &Stats) {
        self.messages += o.messages;
        self.succeeded += o.succeeded;
        self.failed += o.failed;
        self.refused_unsigned += o.refused_unsigned;
        self.refused_bad_signature += o.refused_bad_signature;
        self.refused_unknown_key += o.refused_unknown_key;
        self.malformed += o.malformed;
        self.truncated += o.truncated;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Startup,
    Open,
    Closed,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Object {
    Host(HostId),
    Lease(Ipv4Addr),
    Failover(String),
}

struct Authenticator {
    handle: u32,
    key: Key,
}

/// A reply: an object (op UPDATE) or a status.
enum Reply {
    Object { handle: u32, values: Values },
    Status(Status, String),
}

impl From<BackendError> for Reply {
    fn from(e: BackendError) -> Self {
        Reply::Status(e.status, e.message.into_owned())
    }
}

/// One OMAPI connection, server side.
pub struct Session {
    config: Arc<Config>,
    phase: Phase,
    input: Vec<u8>,
    output: Vec<u8>,
    auth: Option<Authenticator>,
    handles: HashMap<u32, Object>,
    by_object: HashMap<Object, u32>,
    order: VecDeque<u32>,
    next_handle: u32,
    next_id: u32,
    stats: Stats,
}

impl Session {
    /// A new session. Its startup message is already queued for sending.
    pub fn new(config: Arc<Config>) -> Self {
        let mut output = Vec::new();
        wire::encode_startup(&mut output);
        Session {
            config,
            phase: Phase::Startup,
            input: Vec::new(),
            output,
            auth: None,
            handles: HashMap::new(),
            by_object: HashMap::new(),
            order: VecDeque::new(),
            next_handle: 1,
            next_id: 1,
            stats: Stats::default(),
        }
    }

    /// This session's counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// This session's counters since the last call, which are reset (for
    /// adding into a server's totals).
    pub fn take_stats(&mut self) -> Stats {
        std::mem::take(&mut self.stats)
    }

    /// Whether the session is over: send what [`Session::poll_transmit`]
    /// still gives, then close the connection. Input is ignored from now on.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Bytes to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        if self.output.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.output))
        }
    }

    /// The peer closed its side. A message left incomplete counts as truncated.
    pub fn handle_eof(&mut self) {
        if self.phase != Phase::Closed && !self.input.is_empty() {
            self.stats.truncated += 1;
        }
        self.close();
    }

    fn close(&mut self) {
        self.phase = Phase::Closed;
        self.input = Vec::new();
    }

    /// Bytes received from the client: decode and answer every complete
    /// message, calling `backend` for the requests that pass authentication.
    pub fn handle_input<B: Backend + ?Sized>(&mut self, data: &[u8], backend: &mut B) {
        if self.phase == Phase::Closed {
            return;
        }
        self.input.extend_from_slice(data);
        let mut pos = 0;
        while self.phase != Phase::Closed {
            let buf = &self.input[pos..];
            if self.phase == Phase::Startup {
                match wire::decode_startup(buf) {
                    Ok(None) => break,
                    Ok(Some(())) => {
                        pos += wire::STARTUP_LEN;
                        self.phase = Phase::Open;
                    }
                    Err(_) => {
                        self.stats.malformed += 1;
                        self.close();
                    }
                }
                continue;
            }
            match wire::decode(buf, &self.config.limits) {
                Ok(None) => break,
                Err(_) => {
                    self.stats.malformed += 1;
                    self.close();
                }
                Ok(Some(d)) => {
                    let signed = buf.get(4..4 + d.signed_len).unwrap_or_default().to_vec();
                    pos += d.len;
                    self.stats.messages += 1;
                    self.process(&d.message, &signed, backend);
                }
            }
        }
        if self.phase != Phase::Closed {
            self.input.drain(..pos);
        }
    }

    fn process<B: Backend + ?Sized>(&mut self, m: &Message, signed: &[u8], backend: &mut B) {
        let authenticated = if m.authid == 0 {
            false
        } else {
            let ok = match &self.auth {
                Some(a) if a.handle == m.authid => {
                    m.signature.len() == SIGNATURE_LEN && a.key.verify(signed, &m.signature)
                }
                _ => false,
            };
            if !ok {
                self.stats.refused_bad_signature += 1;
                self.reply(
                    m,
                    Reply::Status(Status::INVALIDKEY, "invalid signature".into()),
                    false,
                );
                self.close();
                return;
            }
            true
        };
        let is_auth_open = m.op == Op::OPEN.0 && m.message.get("type") == Some(b"authenticator");
        if is_auth_open {
            let reply = self.open_authenticator(m);
            // The client learns the authenticator's id from this reply, so it
            // cannot be signed under it.
            self.reply(m, reply, false);
            return;
        }
        if self.config.requires_auth() && !authenticated {
            self.stats.refused_unsigned += 1;
            self.reply(
                m,
                Reply::Status(Status::NOPERM, "unsigned message: a key is required".into()),
                false,
            );
            return;
        }
        let reply = match Op(m.op) {
            Op::OPEN => self.open(m, backend),
            Op::REFRESH => self.refresh(m.handle, backend),
            Op::UPDATE => self.update(m, backend),
            Op::DELETE => self.delete(m.handle, backend),
            _ => Reply::Status(
                Status::NOTIMPLEMENTED,
                format!("operation {} not supported", m.op),
            ),
        };
        self.reply(m, reply, authenticated);
    }

    fn reply(&mut self, req: &Message, reply: Reply, sign: bool) {
        let mut out = Message {
            rid: req.id,
            id: self.next_id,
            ..Default::default()
        };
        self.next_id = self.next_id.wrapping_add(1).max(1);
        match reply {
            Reply::Object { handle, values } => {
                self.stats.succeeded += 1;
                out.op = Op::UPDATE.0;
                out.handle = handle;
                out.object = values;
            }
            Reply::Status(status, text) => {
                if status.is_success() {
                    self.stats.succeeded += 1;
                } else {
                    self.stats.failed += 1;
                }
                out.op = Op::STATUS.0;
                out.message.push_u32("result", status.0);
                if !text.is_empty() {
                    out.message.push("message", text.into_bytes());
                }
            }
        }
        match self.auth.as_ref().filter(|_| sign) {
            None => out.encode(&mut self.output),
            Some(a) => encode_signed(&out, a.handle, &a.key, &mut self.output),
        }
    }

    fn open_authenticator(&mut self, m: &Message) -> Reply {
        let name = m.object.get("name").unwrap_or_default();
        let algorithm = m.object.get("algorithm").unwrap_or_default();
        let key = match self.config.keys.get(name) {
            Some(k) if is_hmac_md5(algorithm) => k.clone(),
            Some(_) => {
                self.stats.refused_unknown_key += 1;
                return Reply::Status(
                    Status::KEY_UNKNOWN,
                    "unsupported algorithm (only hmac-md5)".into(),
                );
            }
            None => {
                self.stats.refused_unknown_key += 1;
                return Reply::Status(Status::KEY_UNKNOWN, "no such key".into());
            }
        };
        let handle = self.new_handle_number();
        let mut values = Values::new();
        values.push("name", key.name().as_bytes().to_vec());
        values.push("algorithm", algorithm.to_vec());
        self.auth = Some(Authenticator { handle, key });
        Reply::Object { handle, values }
    }

    fn new_handle_number(&mut self) -> u32 {
        let h = self.next_handle;
        self.next_handle = self.next_handle.wrapping_add(1).max(1);
        h
    }

    fn handle_for(&mut self, object: Object) -> u32 {
        if let Some(&h) = self.by_object.get(&object) {
            return h;
        }
        while self.handles.len() >= self.config.max_handles.max(1) {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(o) = self.handles.remove(&old) {
                self.by_object.remove(&o);
            }
        }
        let h = self.new_handle_number();
        self.handles.insert(h, object.clone());
        self.by_object.insert(object, h);
        self.order.push_back(h);
        h
    }

    fn forget_handle(&mut self, handle: u32) {
        if let Some(o) = self.handles.remove(&handle) {
            self.by_object.remove(&o);
            self.order.retain(|&h| h != handle);
        }
    }

    fn open<B: Backend + ?Sized>(&mut self, m: &Message, backend: &mut B) -> Reply {
        let (Ok(create), Ok(exclusive), Ok(update)) = (
            m.message.get_bool("create"),
            m.message.get_bool("exclusive"),
            m.message.get_bool("update"),
        ) else {
            return Reply::Status(
                Status::INVALIDARG,
                "create, exclusive and update must be integers".into(),
            );
        };
        match m.message.get("type") {
            Some(b"host") => self.open_host(m, create, exclusive, update, backend),
            Some(b"lease") if create => {
                Reply::Status(Status::NOTIMPLEMENTED, "leases cannot be created".into())
            }
            Some(b"lease") => self.open_lease(m, backend),
            Some(b"failover-state") if create => Reply::Status(
                Status::NOTIMPLEMENTED,
                "failover states cannot be created".into(),
            ),
            Some(b"failover-state") => self.open_failover(m, backend),
            Some(b"group" | b"control" | b"subnet" | b"shared-network" | b"class" | b"pool") => {
                Reply::Status(
                    Status::NOTIMPLEMENTED,
                    "object type not supported by this server".into(),
                )
            }
            Some(_) => Reply::Status(Status::NOTFOUND, "unknown object type".into()),
            None => Reply::Status(Status::INVALIDARG, "no object type".into()),
        }
    }

    /// ISC's host lookup: every key attribute given (`name`,
    /// `dhcp-client-identifier`, `hardware-address`, or else `ip-address`)
    /// must name one and the same host. `Ok(None)`: some key names none.
    fn lookup_host<B: Backend + ?Sized>(
        values: &Values,
        backend: &mut B,
    ) -> Result<Option<HostId>, BackendError> {
        let name = objects::name(values)?;
        let client_id = objects::client_id(values)?;
        let hardware = objects::hardware(values)?;
        let ip = objects::ip(values)?;
        let mut keys = Vec::new();
        if let Some(n) = &name {
            keys.push(HostKey::Name(n));
        }
        if let Some(c) = &client_id {
            keys.push(HostKey::ClientId(c));
        }
        if let Some(h) = &hardware {
            keys.push(HostKey::Hardware(h));
        }
        // The fixed address identifies a host only when nothing else is
        // given: with other keys it is an attribute (to create with, or to
        // change with `update`), as ISC, which finds hosts by address only
        // through a lease, effectively treats it.
        if let (Some(a), true) = (ip, keys.is_empty()) {
            keys.push(HostKey::Ip(a));
        }
        if keys.is_empty() {
            return Err(BackendError::new(Status::NOKEYS, "no lookup key specified"));
        }
        let mut found = None;
        for k in keys {
            let Some(id) = backend.find_host(k) else {
                return Ok(None);
            };
            if found.is_some_and(|f| f != id) {
                return Err(BackendError::new(
                    Status::KEYCONFLICT,
                    "lookup keys name different hosts",
                ));
            }
            found = Some(id);
        }
        Ok(found)
    }

    fn host_reply<B: Backend + ?Sized>(&mut self, id: HostId, backend: &B) -> Reply {
        match backend.host(id) {
            Some(h) => Reply::Object {
                handle: self.handle_for(Object::Host(id)),
                values: objects::host_values(&h),
            },
            None => Reply::Status(Status::NOTFOUND, "host no longer exists".into()),
        }
    }

    fn open_host<B: Backend + ?Sized>(
        &mut self,
        m: &Message,
        create: bool,
        exclusive: bool,
        update: bool,
        backend: &mut B,
    ) -> Reply {
        match Self::lookup_host(&m.object, backend) {
            Ok(Some(_)) if create && exclusive => {
                Reply::Status(Status::EXISTS, "specified object already exists".into())
            }
            Ok(Some(id)) => {
                if update && let Err(e) = Self::update_host(id, &m.object, backend) {
                    return e.into();
                }
                self.host_reply(id, backend)
            }
            Ok(None) if !create => {
                Reply::Status(Status::NOTFOUND, "no object matches specification".into())
            }
            Err(e) if !(create && e.status == Status::NOKEYS) => e.into(),
            Ok(None) | Err(_) => {
                let mut host = Host::default();
                if let Err(e) = objects::apply_host(&mut host, &m.object) {
                    return e.into();
                }
                match backend.create_host(host) {
                    Ok(id) => self.host_reply(id, backend),
                    Err(e) => e.into(),
                }
            }
        }
    }

    fn update_host<B: Backend + ?Sized>(
        id: HostId,
        values: &Values,
        backend: &mut B,
    ) -> Result<(), BackendError> {
        let mut host = backend
            .host(id)
            .ok_or_else(|| BackendError::new(Status::NOTFOUND, "host no longer exists"))?;
        objects::apply_host(&mut host, values)?;
        backend.update_host(id, host)
    }

    fn open_lease<B: Backend + ?Sized>(&mut self, m: &Message, backend: &B) -> Reply {
        let lookup = || -> Result<Option<crate::backend::Lease>, BackendError> {
            let ip = objects::ip(&m.object)?;
            let hardware = objects::hardware(&m.object)?;
            let client_id = objects::client_id(&m.object)?;
            let mut keys = Vec::new();
            if let Some(a) = ip {
                keys.push(LeaseKey::Ip(a));
            }
            if let Some(h) = &hardware {
                keys.push(LeaseKey::Hardware(h));
            }
            if let Some(c) = &client_id {
                keys.push(LeaseKey::ClientId(c));
            }
            if keys.is_empty() {
                return Err(BackendError::new(Status::NOKEYS, "no lookup key specified"));
            }
            let mut found: Option<crate::backend::Lease> = None;
            for k in keys {
                let Some(l) = backend.find_lease(k) else {
                    return Ok(None);
                };
                if found.as_ref().is_some_and(|f| f.ip_address != l.ip_address) {
                    return Err(BackendError::new(
                        Status::KEYCONFLICT,
                        "lookup keys name different leases",
                    ));
                }
                found = Some(l);
            }
            Ok(found)
        };
        match lookup() {
            Ok(Some(l)) => Reply::Object {
                handle: self.handle_for(Object::Lease(l.ip_address)),
                values: objects::lease_values(&l),
            },
            Ok(None) => Reply::Status(Status::NOTFOUND, "no object matches specification".into()),
            Err(e) => e.into(),
        }
    }

    fn open_failover<B: Backend + ?Sized>(&mut self, m: &Message, backend: &B) -> Reply {
        let name = match objects::name(&m.object) {
            Ok(Some(n)) => n,
            Ok(None) => return Reply::Status(Status::NOKEYS, "no lookup key specified".into()),
            Err(e) => return e.into(),
        };
        match backend.failover_state(&name) {
            Some(f) => Reply::Object {
                handle: self.handle_for(Object::Failover(f.name.clone())),
                values: objects::failover_values(&f),
            },
            None => Reply::Status(Status::NOTFOUND, "no object matches specification".into()),
        }
    }

    fn object_reply<B: Backend + ?Sized>(&mut self, object: Object, backend: &B) -> Reply {
        match object {
            Object::Host(id) => self.host_reply(id, backend),
            Object::Lease(ip) => match backend.find_lease(LeaseKey::Ip(ip)) {
                Some(l) => Reply::Object {
                    handle: self.handle_for(Object::Lease(ip)),
                    values: objects::lease_values(&l),
                },
                None => Reply::Status(Status::NOTFOUND, "lease no longer exists".into()),
            },
            Object::Failover(name) => match backend.failover_state(&name) {
                Some(f) => Reply::Object {
                    handle: self.handle_for(Object::Failover(name)),
                    values: objects::failover_values(&f),
                },
                None => Reply::Status(
                    Status::NOTFOUND,
                    "failover relationship no longer exists".into(),
                ),
            },
        }
    }

    fn object(&self, handle: u32) -> Result<Object, Reply> {
        self.handles
            .get(&handle)
            .cloned()
            .ok_or_else(|| Reply::Status(Status::NOTFOUND, "no object with that handle".into()))
    }

    fn refresh<B: Backend + ?Sized>(&mut self, handle: u32, backend: &B) -> Reply {
        match self.object(handle) {
            Ok(o) => self.object_reply(o, backend),
            Err(r) => r,
        }
    }

    fn update<B: Backend + ?Sized>(&mut self, m: &Message, backend: &mut B) -> Reply {
        let object = match self.object(m.handle) {
            Ok(o) => o,
            Err(r) => return r,
        };
        let done = match &object {
            Object::Host(id) => Self::update_host(*id, &m.object, backend),
            Object::Lease(_) => Err(BackendError::new(
                Status::NOTIMPLEMENTED,
                "leases cannot be changed here",
            )),
            Object::Failover(name) => Self::update_failover(name, &m.object, backend),
        };
        match done {
            Ok(()) => self.object_reply(object, backend),
            Err(e) => e.into(),
        }
    }

    fn update_failover<B: Backend + ?Sized>(
        name: &str,
        values: &Values,
        backend: &mut B,
    ) -> Result<(), BackendError> {
        if let Some((n, _)) = values.0.iter().find(|(n, _)| n != b"local-state") {
            return Err(BackendError::new(
                Status::INVALIDARG,
                format!(
                    "{} cannot be changed (only local-state)",
                    String::from_utf8_lossy(n)
                ),
            ));
        }
        match objects::uint(values, "local-state")? {
            Some(s) if FailoverStateCode(s) == FailoverStateCode::PARTNER_DOWN => {
                backend.set_partner_down(name)
            }
            Some(_) => Err(BackendError::new(
                Status::INVALIDARG,
                "local-state may only be set to partner-down (4)",
            )),
            None => Ok(()),
        }
    }

    fn delete<B: Backend + ?Sized>(&mut self, handle: u32, backend: &mut B) -> Reply {
        match self.object(handle) {
            Ok(Object::Host(id)) => match backend.delete_host(id) {
                Ok(()) => {
                    self.forget_handle(handle);
                    Reply::Status(Status::SUCCESS, String::new())
                }
                Err(e) => e.into(),
            },
            Ok(_) => Reply::Status(Status::NOTIMPLEMENTED, "only hosts can be deleted".into()),
            Err(r) => r,
        }
    }
}
