//! From the syntax tree to the `dhcp_core` configuration model (plus the
//! ISC-only extras). Every statement is either mapped or refused with its
//! position; none is dropped.

use std::net::Ipv4Addr;

use dhcp_core::config::{
    ClassConfig, Config, CustomOption, FailoverConfig, HostConfig, LeaseTimes, OptionSet,
    OptionValue, PoolConfig, PxeMatch, PxeRule, RESERVED_CODES, Role, SharedNetworkConfig,
    SubnetConfig, VendorOptions, VendorSuboption, format_hex,
};
use dhcp_core::lease::HwAddr;
use ipnet::Ipv4Net;

use crate::ast::{Expr, Format, OptionData, OptionRef, PeerParam, Permit, Stmt, StmtKind, Value};
use crate::error::{ErrorKind, Located, Pos};
use crate::{EventHook, IscExtras, OmapiKey, OptionDefinition, OptionSpaceDef};

mod boot;
mod scopes;
mod values;

type R<T> = Result<T, Located>;

fn err<T>(pos: Pos, kind: ErrorKind, msg: impl Into<String>) -> R<T> {
    Err(Located::new(pos, kind, msg))
}

/// Where a statement sits, for the rules of what may appear where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Global,
    SharedNetwork,
    Subnet,
    Pool,
    Host,
    Class,
}

impl Scope {
    fn name(self) -> &'static str {
        match self {
            Scope::Global => "the global scope",
            Scope::SharedNetwork => "a shared-network",
            Scope::Subnet => "a subnet",
            Scope::Pool => "a pool",
            Scope::Host => "a host",
            Scope::Class => "a class",
        }
    }
}

/// The ISC keyword of a statement, for messages.
fn keyword(k: &StmtKind) -> &'static str {
    match k {
        StmtKind::DefaultLeaseTime(_) => "default-lease-time",
        StmtKind::MaxLeaseTime(_) => "max-lease-time",
        StmtKind::MinLeaseTime(_) => "min-lease-time",
        StmtKind::Authoritative(_) => "authoritative",
        StmtKind::IgnoreClientUids(_) => "ignore-client-uids",
        StmtKind::EchoClientId(_) => "echo-client-id",
        StmtKind::PingCheck(_) => "ping-check",
        StmtKind::NextServer(_) => "next-server",
        StmtKind::Filename(_) => "filename",
        StmtKind::Permit(Permit::Allow, _) => "allow",
        StmtKind::Permit(Permit::Deny, _) => "deny",
        StmtKind::Permit(Permit::Ignore, _) => "ignore",
        StmtKind::OptionDef(..) => "option definition",
        StmtKind::OptionSpace { .. } => "option space",
        StmtKind::OptionSet(..) => "option",
        StmtKind::Class { .. } => "class",
        StmtKind::FailoverPeer { .. } => "failover peer",
        StmtKind::PoolPeer(_) => "failover peer",
        StmtKind::SharedNetwork { .. } => "shared-network",
        StmtKind::Subnet { .. } => "subnet",
        StmtKind::Pool(_) => "pool",
        StmtKind::Range(..) => "range",
        StmtKind::Host { .. } => "host",
        StmtKind::HardwareEthernet(_) => "hardware ethernet",
        StmtKind::FixedAddress(_) => "fixed-address",
        StmtKind::If { .. } => "if",
        StmtKind::On(..) => "on",
        StmtKind::OmapiPort(_) => "omapi-port",
        StmtKind::Key { .. } => "key",
        StmtKind::OmapiKey(_) => "omapi-key",
    }
}

fn not_here<T>(s: &Stmt, scope: Scope, why: &str) -> R<T> {
    err(
        s.pos,
        ErrorKind::Unsupported,
        format!(
            "statement \"{}\" is not supported in {}{}{why}",
            keyword(&s.kind),
            scope.name(),
            if why.is_empty() { "" } else { ": " }
        ),
    )
}

/// Permits whose meaning is what this server always does.
const ACCEPTED_PERMITS: &[(Permit, &str, &str)] = &[
    (
        Permit::Allow,
        "booting",
        "clients are always allowed to boot",
    ),
    (
        Permit::Allow,
        "unknown-clients",
        "unknown clients are always served",
    ),
    (Permit::Allow, "declines", "DHCPDECLINE is always honoured"),
    (Permit::Deny, "bootp", "BOOTP requests are never answered"),
    (Permit::Ignore, "bootp", "BOOTP requests are never answered"),
    (
        Permit::Deny,
        "client-updates",
        "the server does no dynamic DNS",
    ),
    (
        Permit::Ignore,
        "client-updates",
        "the server does no dynamic DNS",
    ),
];

/// Values collected for one scope.
#[derive(Default)]
struct Vals {
    lease: LeaseTimes,
    options: OptionSet,
    next_server: Option<Ipv4Addr>,
    ignore_uids: Option<bool>,
}

pub(crate) struct Converter {
    cfg: Config,
    extras: IscExtras,
    /// Model key paths and the statement each came from.
    pub paths: Vec<(String, Pos)>,
    /// The first boot chain met: its rules and position.
    chain: Option<(Vec<PxeRule>, Pos)>,
    /// Space names encapsulated by option 125 (vivso, and what vivso holds).
    vendor_spaces: Vec<String>,

    /// The space encapsulated by option 175 (iPXE).
    ipxe_space: Option<String>,
}

impl Converter {
    pub(crate) fn new() -> Self {
        let mut cfg = Config::default();
        // ISC is not authoritative unless told so.
        cfg.server.authoritative = false;
        // ISC returns option 61 only with `echo-client-id true`.
        cfg.server.echo_client_id = false;
        // The ISC file's own classes carry the PXE lease time.
        cfg.pxe.pxe_lease_time = 0;
        Self {
            cfg,
            extras: IscExtras::default(),
            paths: Vec::new(),
            chain: None,
            vendor_spaces: Vec::new(),
            ipxe_space: None,
        }
    }

    pub(crate) fn finish(mut self) -> (Config, IscExtras) {
        if let Some((rules, _)) = self.chain.take() {
            self.cfg.pxe.rules = rules;
        }
        (self.cfg, self.extras)
    }

    /// The global statements.
    pub(crate) fn global(&mut self, stmts: &[Stmt]) -> R<()> {
        // Option definitions first would change meaning; ISC needs them
        // before use anyway, which the parser has enforced.
        let mut vals = Vals::default();
        let mut nets: Vec<&Stmt> = Vec::new();
        let mut seen_authoritative = false;
        for s in stmts {
            if self.common(s, Scope::Global, &mut vals)? {
                continue;
            }
            match &s.kind {
                StmtKind::Authoritative(b) => {
                    if seen_authoritative {
                        return err(s.pos, ErrorKind::Invalid, "authoritative given twice");
                    }
                    seen_authoritative = true;
                    self.cfg.server.authoritative = *b;
                }
                StmtKind::PingCheck(b) => self.extras.ping_check = Some(*b),
                StmtKind::OptionDef(o, f) => {
                    if let Format::Encapsulate(space) = f {
                        if o.space == "dhcp" && o.code == 125 {
                            self.vendor_spaces.push(space.clone());
                        }
                        if self.vendor_spaces.contains(&o.space) {
                            self.vendor_spaces.push(space.clone());
                        }

                        if o.space == "dhcp" && o.code == 175 {
                            self.ipxe_space = Some(space.clone());
                        }
                    }
                    self.extras.option_definitions.push(OptionDefinition {
                        space: o.space.clone(),
                        name: o.name.clone(),
                        code: o.code,
                        format: f.clone(),
                    });
                }
                StmtKind::OptionSpace {
                    name,
                    code_width,
                    length_width,
                } => self.extras.option_spaces.push(OptionSpaceDef {
                    name: name.clone(),
                    code_width: *code_width,
                    length_width: *length_width,
                }),
                StmtKind::Class {
                    name,
                    matcher,
                    body,
                } => self.class(s, name, matcher.as_ref(), body)?,
                StmtKind::FailoverPeer { name, params } => self.peer(s.pos, name, params)?,
                StmtKind::SharedNetwork { .. } | StmtKind::Subnet { .. } => nets.push(s),
                StmtKind::Host { name, body } => self.host(s.pos, name, body)?,
                StmtKind::On(events, actions) => self.extras.events.push(EventHook {
                    events: events.clone(),
                    actions: actions.clone(),
                }),
                StmtKind::EchoClientId(b) => self.cfg.server.echo_client_id = *b,
                StmtKind::OmapiPort(p) => {
                    if self.extras.omapi_port.replace(*p).is_some() {
                        return err(s.pos, ErrorKind::Invalid, "omapi-port given twice");
                    }
                }
                StmtKind::Key {
                    name,
                    algorithm,
                    secret,
                } => {
                    if self.extras.keys.iter().any(|k| &k.name == name) {
                        return err(
                            s.pos,
                            ErrorKind::Invalid,
                            format!("key {name:?} defined twice"),
                        );
                    }
                    self.extras.keys.push(OmapiKey {
                        name: name.clone(),
                        algorithm: algorithm.clone(),
                        secret: secret.clone(),
                    });
                }
                StmtKind::OmapiKey(name) => {
                    if !self.extras.keys.iter().any(|k| &k.name == name) {
                        return err(
                            s.pos,
                            ErrorKind::Invalid,
                            format!("omapi-key {name:?}: no key of that name is defined before it"),
                        );
                    }
                    if self.extras.omapi_key.replace(name.clone()).is_some() {
                        return err(s.pos, ErrorKind::Invalid, "omapi-key given twice");
                    }
                }
                _ => return not_here(s, Scope::Global, ""),
            }
        }
        self.cfg.lease_time = vals.lease;
        self.cfg.options = vals.options;
        self.cfg.server.ignore_client_uids = vals.ignore_uids.unwrap_or(false);
        // Networks last: they inherit the global next-server wherever it is written.
        for s in nets {
            match &s.kind {
                StmtKind::SharedNetwork { name, body } => {
                    self.shared_network(s.pos, name, body, vals.next_server)?
                }
                StmtKind::Subnet {
                    network,
                    mask,
                    body,
                } => {
                    let i = self.cfg.subnets.len();
                    let path = format!("subnets[{i}]");
                    let sub =
                        self.subnet(s.pos, *network, *mask, body, vals.next_server, None, &path)?;
                    self.cfg.subnets.push(sub);
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Statements common to several scopes; `Ok(false)` if `s` is not one.
    fn common(&mut self, s: &Stmt, scope: Scope, v: &mut Vals) -> R<bool> {
        use Scope::*;
        let lease_ok = matches!(scope, Global | SharedNetwork | Subnet | Host | Class);
        match &s.kind {
            StmtKind::DefaultLeaseTime(n) if lease_ok => v.lease.default = Some(*n),
            StmtKind::MaxLeaseTime(n) if lease_ok => v.lease.max = Some(*n),
            StmtKind::MinLeaseTime(n) if lease_ok => v.lease.min = Some(*n),
            StmtKind::DefaultLeaseTime(_)
            | StmtKind::MaxLeaseTime(_)
            | StmtKind::MinLeaseTime(_) => {
                return not_here(
                    s,
                    scope,
                    "set lease times on the subnet, shared network, class or host",
                );
            }
            StmtKind::OptionSet(o, f, d) if lease_ok => {
                if scope == Host && o.space == "dhcp" && o.code == 61 {
                    // In a host, option 61 identifies the client.
                    return Ok(false);
                }
                if o.space == "dhcp"
                    && o.code == 119
                    && *f == Format::DomainList
                    && let OptionData::Values(vals) = d
                {
                    let names = vals
                        .iter()
                        .filter_map(|x| match x {
                            Value::Text(t) => Some(t.clone()),
                            _ => None,
                        })
                        .collect();
                    v.options.domain_search = Some(names);
                    return Ok(true);
                }
                let value = self.option_value(s.pos, o, f, d)?;
                set_option(&mut v.options, o.code, value);
            }
            StmtKind::OptionSet(..) => {
                return not_here(
                    s,
                    scope,
                    "set options on the subnet, shared network, class or host",
                );
            }
            StmtKind::NextServer(a) if matches!(scope, Global | SharedNetwork | Subnet) => {
                v.next_server = Some(*a)
            }
            StmtKind::IgnoreClientUids(b) if matches!(scope, Global | SharedNetwork | Subnet) => {
                v.ignore_uids = Some(*b)
            }
            StmtKind::Permit(p, what) => {
                if scope == Pool {
                    return err(
                        s.pos,
                        ErrorKind::Unsupported,
                        format!(
                            "{} {what}: pool permit lists are not supported",
                            keyword(&s.kind)
                        ),
                    );
                }
                let Some((_, _, why)) = ACCEPTED_PERMITS
                    .iter()
                    .find(|(pp, w, _)| pp == p && *w == what)
                else {
                    return err(
                        s.pos,
                        ErrorKind::Unsupported,
                        format!("\"{} {what}\" is not supported", keyword(&s.kind)),
                    );
                };
                self.extras
                    .acknowledged
                    .push(format!("{} {what}: {why}", keyword(&s.kind)));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Sets an option in a scope: the typed fields for the common codes, custom
/// otherwise (a later statement replaces an earlier one).
fn set_option(o: &mut OptionSet, code: u32, v: OptionValue) {
    match (code, v) {
        (1, OptionValue::Ip(a)) => o.subnet_mask = Some(a),
        (3, OptionValue::Ips(a)) => o.routers = Some(a),
        (6, OptionValue::Ips(a)) => o.dns_servers = Some(a),
        (15, OptionValue::Text(t)) => o.domain_name = Some(t),
        (42, OptionValue::Ips(a)) => o.ntp_servers = Some(a),
        (28, OptionValue::Ip(a)) => o.broadcast_address = Some(a),
        (26, OptionValue::U16(n)) => o.mtu = Some(n),
        (code, value) => {
            let code = u8::try_from(code).unwrap_or(0);
            o.custom.retain(|c| c.code != code);
            o.custom.push(CustomOption { code, value });
        }
    }
}
