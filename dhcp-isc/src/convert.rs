//! From the syntax tree to the `dhcp_core` configuration model (plus the
//! ISC-only extras). Every statement is either mapped or refused with its
//! position; none is dropped.

use std::net::Ipv4Addr;

use dhcp_core::config::{
    ClassConfig, Config, CustomOption, FailoverConfig, HostConfig, LeaseTimes, OptionSet,
    OptionValue, PoolConfig, PxeMatch, PxeRule, RESERVED_CODES, Role, SharedNetworkConfig,
    SubnetConfig, format_hex,
};
use dhcp_core::lease::HwAddr;
use ipnet::Ipv4Net;

use crate::ast::{Expr, Format, OptionData, OptionRef, PeerParam, Permit, Stmt, StmtKind, Value};
use crate::error::{ErrorKind, Located, Pos};
use crate::{EventHook, IscExtras, OmapiKey, OptionDefinition, OptionSpaceDef};

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

    fn option_value(&self, pos: Pos, o: &OptionRef, f: &Format, d: &OptionData) -> R<OptionValue> {
        if o.space != "dhcp" {
            if self.vendor_spaces.contains(&o.space) {
                return err(
                    pos,
                    ErrorKind::Unsupported,
                    format!(
                        "option {}.{}: option 125 (vendor-identifying vendor options, the ONIE/vivso spaces) cannot be served: the configuration model has no encapsulated vendor options",
                        o.space, o.name
                    ),
                );
            }
            return err(
                pos,
                ErrorKind::Unsupported,
                format!(
                    "option {}.{}: only options of the dhcp space can be sent",
                    o.space, o.name
                ),
            );
        }
        if RESERVED_CODES.contains(&u8::try_from(o.code).unwrap_or(0)) {
            return err(
                pos,
                ErrorKind::Unsupported,
                format!(
                    "option {} (code {}) is set by the server itself and cannot be configured",
                    o.name, o.code
                ),
            );
        }
        let OptionData::Values(vals) = d else {
            return err(
                pos,
                ErrorKind::Unsupported,
                format!(
                    "option {} = expression: computed option values are supported only as the boot chain's dhcp-parameter-request-list append",
                    o.name
                ),
            );
        };
        Ok(match (f, vals.as_slice()) {
            (Format::Text, [Value::Text(t)]) => OptionValue::Text(t.clone()),
            (Format::Ip, [Value::Ip(a)]) => OptionValue::Ip(*a),
            (Format::Array(inner), items) if **inner == Format::Ip => OptionValue::Ips(
                items
                    .iter()
                    .filter_map(|v| match v {
                        Value::Ip(a) => Some(*a),
                        _ => None,
                    })
                    .collect(),
            ),
            (Format::Unsigned(8), [Value::Int(n)]) => {
                OptionValue::U8(u8::try_from(*n).unwrap_or_default())
            }
            (Format::Unsigned(16), [Value::Int(n)]) => {
                OptionValue::U16(u16::try_from(*n).unwrap_or_default())
            }
            (Format::Unsigned(32), [Value::Int(n)]) => {
                OptionValue::U32(u32::try_from(*n).unwrap_or_default())
            }
            (Format::Boolean, [Value::Bool(b)]) => OptionValue::Bool(*b),
            _ => {
                let mut bytes = Vec::new();
                encode(pos, f, vals, &mut bytes)?;
                if bytes.len() > 255 {
                    return err(
                        pos,
                        ErrorKind::Invalid,
                        format!("option {}: value longer than 255 bytes", o.name),
                    );
                }
                OptionValue::Hex(format_hex(&bytes))
            }
        })
    }

    fn class(&mut self, s: &Stmt, name: &str, matcher: Option<&Expr>, body: &[Stmt]) -> R<()> {
        let mut c = ClassConfig {
            name: name.to_owned(),
            vendor_class_prefix: None,
            user_class: None,
            lease_time: LeaseTimes::default(),
            options: OptionSet::default(),
        };
        match matcher {
            Some(Expr::Equal(a, b)) => match (a.as_ref(), b.as_ref()) {
                (Expr::Substring(data, off, len), Expr::Str(text))
                    if matches!(data.as_ref(), Expr::Option(o) if o.space == "dhcp" && o.code == 60)
                        && **off == Expr::Num(0)
                        && **len == Expr::Num(text.len() as u64) =>
                {
                    c.vendor_class_prefix = Some(text.clone())
                }
                (Expr::Option(o), Expr::Str(text)) if o.space == "dhcp" && o.code == 60 => {
                    return err(
                        s.pos,
                        ErrorKind::Unsupported,
                        format!(
                            "class {name:?}: an exact vendor-class-identifier match is not supported; match a prefix with substring(option vendor-class-identifier, 0, {})",
                            text.len()
                        ),
                    );
                }
                (Expr::Option(o), Expr::Str(text)) if o.space == "dhcp" && o.code == 77 => {
                    c.user_class = Some(text.clone())
                }
                _ => {
                    return err(
                        s.pos,
                        ErrorKind::Unsupported,
                        format!(
                            "class {name:?}: match if {}: only substring(option vendor-class-identifier, 0, N) = \"…\" (N the text's length) and option user-class = \"…\" are supported",
                            Expr::Equal(a.clone(), b.clone())
                        ),
                    );
                }
            },
            Some(e) => {
                return err(
                    s.pos,
                    ErrorKind::Unsupported,
                    format!(
                        "class {name:?}: match if {e}: only a prefix of vendor-class-identifier or an exact user-class can be matched"
                    ),
                );
            }
            None => {
                return err(
                    s.pos,
                    ErrorKind::Unsupported,
                    format!(
                        "class {name:?} without match if (membership by subclass) is not supported"
                    ),
                );
            }
        }
        let mut v = Vals::default();
        for st in body {
            if matches!(
                st.kind,
                StmtKind::NextServer(_) | StmtKind::IgnoreClientUids(_)
            ) {
                return not_here(st, Scope::Class, "");
            }
            if !self.common(st, Scope::Class, &mut v)? {
                return not_here(st, Scope::Class, "");
            }
        }
        c.lease_time = v.lease;
        c.options = v.options;
        let i = self.cfg.classes.len();
        self.paths.push((format!("classes[{i}]"), s.pos));
        self.cfg.classes.push(c);
        Ok(())
    }

    fn peer(&mut self, pos: Pos, name: &str, params: &[(Pos, PeerParam)]) -> R<()> {
        let mut role = None;
        let (mut address, mut peer_address) = (None, None);
        let mut f = FailoverConfig {
            name: name.to_owned(),
            role: Role::Primary,
            address: Ipv4Addr::UNSPECIFIED,
            port: 647,
            peer_address: Ipv4Addr::UNSPECIFIED,
            peer_port: 647,
            max_response_delay: 20,
            max_unacked_updates: 100,
            mclt: None,
            split: None,
            hba: None,
            load_balance_max_seconds: 0,
            auto_partner_down: 0,
            max_lease_misbalance: 15,
            max_lease_ownership: 10,
            min_balance: 60,
            max_balance: 3600,
        };
        let mut seen: Vec<std::mem::Discriminant<PeerParam>> = Vec::new();
        for (ppos, p) in params {
            let d = std::mem::discriminant(p);
            let d = if matches!(p, PeerParam::Secondary) {
                std::mem::discriminant(&PeerParam::Primary)
            } else {
                d
            };
            if seen.contains(&d) {
                return err(
                    *ppos,
                    ErrorKind::Invalid,
                    format!("failover peer {name:?}: parameter given twice"),
                );
            }
            seen.push(d);
            match p {
                PeerParam::Primary => role = Some(Role::Primary),
                PeerParam::Secondary => role = Some(Role::Secondary),
                PeerParam::Address(a) => address = Some(*a),
                PeerParam::Port(n) => f.port = *n,
                PeerParam::PeerAddress(a) => peer_address = Some(*a),
                PeerParam::PeerPort(n) => f.peer_port = *n,
                PeerParam::MaxResponseDelay(n) => f.max_response_delay = *n,
                PeerParam::MaxUnackedUpdates(n) => f.max_unacked_updates = *n,
                PeerParam::Mclt(n) => f.mclt = Some(*n),
                PeerParam::Split(n) => f.split = Some(*n),
                PeerParam::Hba(b) => f.hba = Some(format_hex(b)),
                PeerParam::LoadBalanceMaxSeconds(n) => f.load_balance_max_seconds = *n,
                PeerParam::AutoPartnerDown(n) => f.auto_partner_down = *n,
                PeerParam::MaxLeaseMisbalance(n) => f.max_lease_misbalance = *n,
                PeerParam::MaxLeaseOwnership(n) => f.max_lease_ownership = *n,
                PeerParam::MinBalance(n) => f.min_balance = *n,
                PeerParam::MaxBalance(n) => f.max_balance = *n,
            }
        }
        let missing = |what: &str| {
            err(
                pos,
                ErrorKind::Invalid,
                format!("failover peer {name:?}: {what} is required"),
            )
        };
        let Some(role) = role else {
            return missing("primary; or secondary;");
        };
        let Some(address) = address else {
            return missing("address");
        };
        let Some(peer_address) = peer_address else {
            return missing("peer address");
        };
        if role == Role::Secondary && f.mclt.is_some() {
            return err(
                pos,
                ErrorKind::Invalid,
                format!("failover peer {name:?}: mclt is only valid on the primary"),
            );
        }
        f.role = role;
        f.address = address;
        f.peer_address = peer_address;
        if self.cfg.failover.iter().any(|o| o.name == name) {
            return err(
                pos,
                ErrorKind::Invalid,
                format!("failover peer {name:?} declared twice"),
            );
        }
        let i = self.cfg.failover.len();
        self.paths.push((format!("failover[{i}]"), pos));
        self.cfg.failover.push(f);
        Ok(())
    }

    fn host(&mut self, pos: Pos, name: &str, body: &[Stmt]) -> R<()> {
        let mut v = Vals::default();
        let (mut mac, mut address, mut boot_file, mut next_server, mut client_id) =
            (None, None, None, None, None);
        for s in body {
            if self.common(s, Scope::Host, &mut v)? {
                continue;
            }
            match &s.kind {
                StmtKind::HardwareEthernet(m) => {
                    if mac.replace(HwAddr::ethernet(*m)).is_some() {
                        return err(
                            s.pos,
                            ErrorKind::Invalid,
                            format!("host {name:?}: hardware given twice"),
                        );
                    }
                }
                StmtKind::FixedAddress(a) => {
                    if address.replace(*a).is_some() {
                        return err(
                            s.pos,
                            ErrorKind::Invalid,
                            format!("host {name:?}: fixed-address given twice"),
                        );
                    }
                }
                StmtKind::Filename(f) => boot_file = Some(f.clone()),
                StmtKind::NextServer(a) => next_server = Some(*a),
                StmtKind::OptionSet(o, _, OptionData::Values(vals)) if o.code == 61 => {
                    let mut bytes = Vec::new();
                    encode(s.pos, &Format::String, vals, &mut bytes)?;
                    client_id = Some(bytes);
                }
                _ => return not_here(s, Scope::Host, ""),
            }
        }
        let Some(address) = address else {
            return err(
                pos,
                ErrorKind::Unsupported,
                format!("host {name:?} without fixed-address: only reservations are supported"),
            );
        };
        let i = self.cfg.hosts.len();
        self.paths.push((format!("hosts[{i}]"), pos));
        self.cfg.hosts.push(HostConfig {
            name: name.to_owned(),
            mac,
            client_id,
            address,
            boot_file,
            next_server,
            lease_time: v.lease,
            options: v.options,
        });
        Ok(())
    }

    fn shared_network(
        &mut self,
        pos: Pos,
        name: &str,
        body: &[Stmt],
        next_server: Option<Ipv4Addr>,
    ) -> R<()> {
        let ni = self.cfg.shared_networks.len();
        let mut v = Vals {
            next_server,
            ..Vals::default()
        };
        let mut subs = Vec::new();
        for s in body {
            if self.common(s, Scope::SharedNetwork, &mut v)? {
                continue;
            }
            match &s.kind {
                StmtKind::Subnet { .. } => subs.push(s),
                StmtKind::Host { name, body } => self.host(s.pos, name, body)?,
                _ => return not_here(s, Scope::SharedNetwork, ""),
            }
        }
        if subs.is_empty() {
            return err(
                pos,
                ErrorKind::Invalid,
                format!("shared-network {name:?} has no subnet"),
            );
        }
        self.paths.push((format!("shared_networks[{ni}]"), pos));
        let mut subnets = Vec::new();
        for s in subs {
            if let StmtKind::Subnet {
                network,
                mask,
                body,
            } = &s.kind
            {
                let path = format!("shared_networks[{ni}].subnets[{}]", subnets.len());
                subnets.push(self.subnet(
                    s.pos,
                    *network,
                    *mask,
                    body,
                    v.next_server,
                    v.ignore_uids,
                    &path,
                )?);
            }
        }
        self.cfg.shared_networks.push(SharedNetworkConfig {
            name: name.to_owned(),
            interface: None,
            lease_time: v.lease,
            options: v.options,
            subnets,
        });
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn subnet(
        &mut self,
        pos: Pos,
        network: Ipv4Addr,
        mask: Ipv4Addr,
        body: &[Stmt],
        next_server: Option<Ipv4Addr>,
        ignore_uids: Option<bool>,
        path: &str,
    ) -> R<SubnetConfig> {
        let Ok(net) = Ipv4Net::with_netmask(network, mask) else {
            return err(
                pos,
                ErrorKind::Invalid,
                format!("subnet {network} netmask {mask}: the netmask is not contiguous"),
            );
        };
        self.paths.push((path.to_owned(), pos));
        let mut v = Vals {
            next_server,
            ignore_uids,
            ..Vals::default()
        };
        let mut pools = Vec::new();
        let mut chain = None;
        for s in body {
            if self.common(s, Scope::Subnet, &mut v)? {
                continue;
            }
            match &s.kind {
                StmtKind::Range(lo, hi) => {
                    self.paths
                        .push((format!("{path}.pools[{}]", pools.len()), s.pos));
                    pools.push(PoolConfig {
                        start: *lo,
                        end: *hi,
                        failover_peer: None,
                    });
                }
                StmtKind::Pool(pbody) => {
                    let mut peer = None;
                    let mut ranges = Vec::new();
                    for ps in pbody {
                        match &ps.kind {
                            StmtKind::PoolPeer(n) => {
                                if peer.replace(n.clone()).is_some() {
                                    return err(
                                        ps.pos,
                                        ErrorKind::Invalid,
                                        "a pool names one failover peer",
                                    );
                                }
                            }
                            StmtKind::Range(lo, hi) => ranges.push((ps.pos, *lo, *hi)),
                            _ => {
                                let mut scratch = Vals::default();
                                if !self.common(ps, Scope::Pool, &mut scratch)? {
                                    return not_here(
                                        ps,
                                        Scope::Pool,
                                        "a pool takes only failover peer and range",
                                    );
                                }
                            }
                        }
                    }
                    if ranges.is_empty() {
                        return err(s.pos, ErrorKind::Invalid, "pool without a range");
                    }
                    for (rpos, lo, hi) in ranges {
                        self.paths
                            .push((format!("{path}.pools[{}]", pools.len()), rpos));
                        pools.push(PoolConfig {
                            start: lo,
                            end: hi,
                            failover_peer: peer.clone(),
                        });
                    }
                }
                StmtKind::Host { name, body } => self.host(s.pos, name, body)?,
                StmtKind::If { .. } => {
                    if chain.replace(s).is_some() {
                        return err(
                            s.pos,
                            ErrorKind::Unsupported,
                            "a subnet may hold one boot chain (if … elsif … else)",
                        );
                    }
                }
                StmtKind::Filename(_) => {
                    return not_here(
                        s,
                        Scope::Subnet,
                        "a boot file is given in a host, or in the subnet's boot chain (if … elsif … else)",
                    );
                }
                _ => return not_here(s, Scope::Subnet, ""),
            }
        }
        let pxe = match chain {
            Some(s) => {
                self.boot_chain(s, v.next_server)?;
                true
            }
            None => false,
        };
        Ok(SubnetConfig {
            subnet: net,
            interface: None,
            next_server: v.next_server,
            ignore_client_uids: v.ignore_uids,
            lease_time: v.lease,
            options: v.options,
            pxe,
            pools,
        })
    }

    fn boot_chain(&mut self, s: &Stmt, server: Option<Ipv4Addr>) -> R<()> {
        let StmtKind::If {
            branches,
            otherwise,
        } = &s.kind
        else {
            return Ok(());
        };
        let mut rules = Vec::new();
        for (bpos, cond, body) in branches {
            rules.push(self.rule(*bpos, Some(cond), body, server)?);
        }
        if let Some((epos, body)) = otherwise {
            rules.push(self.rule(*epos, None, body, server)?);
        }
        match &self.chain {
            None => self.chain = Some((rules, s.pos)),
            Some((first, _)) if *first == rules => {}
            Some((_, first)) => {
                return err(
                    s.pos,
                    ErrorKind::Unsupported,
                    format!(
                        "this boot chain differs from the one at line {} (after replacing the subnet's next-server by {{server}}); the engine's PXE rules are global, so every subnet must carry the same chain",
                        first.line
                    ),
                );
            }
        }
        Ok(())
    }

    fn rule(
        &self,
        pos: Pos,
        cond: Option<&Expr>,
        body: &[Stmt],
        server: Option<Ipv4Addr>,
    ) -> R<PxeRule> {
        let matches = match cond {
            None => PxeMatch {
                any: true,
                ..PxeMatch::default()
            },
            Some(c) => self.condition(pos, c)?,
        };
        let name = if matches.any {
            "default".to_owned()
        } else if matches.ipxe == Some(true) {
            "ipxe".to_owned()
        } else if let Some(a) = &matches.arch {
            format!(
                "arch-{}",
                a.iter().map(u16::to_string).collect::<Vec<_>>().join("-")
            )
        } else {
            format!(
                "user-class-{}",
                matches.user_class.clone().unwrap_or_default()
            )
        };
        let subst = |t: &str| match server {
            Some(r) => replace_addr(t, &r.to_string()),
            None => t.to_owned(),
        };
        let mut rule = PxeRule {
            name,
            matches,
            filename: None,
            path_prefix: None,
            vendor_class: None,
            force_options: Vec::new(),
        };
        for st in body {
            let refuse = || {
                Located::new(
                    st.pos,
                    ErrorKind::Unsupported,
                    format!(
                        "statement \"{}\" is not supported in the boot chain (only filename, next-server equal to the subnet's, option path-prefix (210), option vendor-class-identifier (60) and the dhcp-parameter-request-list append)",
                        keyword(&st.kind)
                    ),
                )
            };
            match &st.kind {
                // `if exists dhcp-parameter-request-list { option
                // dhcp-parameter-request-list = concat(…); }`: the append
                // guarded by the client having sent a list.
                StmtKind::If {
                    branches,
                    otherwise: None,
                } if branches.len() == 1
                    && matches!(&branches[0].1, Expr::Exists(o) if o.space == "dhcp" && o.code == 55) =>
                {
                    for inner in &branches[0].2 {
                        match &inner.kind {
                            StmtKind::OptionSet(o, _, OptionData::Expr(e))
                                if o.space == "dhcp" && o.code == 55 =>
                            {
                                append_request_list(e, &mut rule.force_options)
                                    .map_err(|()| refuse())?;
                            }
                            _ => return Err(refuse()),
                        }
                    }
                }
                StmtKind::Filename(f) => rule.filename = Some(subst(f)),
                StmtKind::NextServer(a) if Some(*a) == server => {}
                StmtKind::OptionSet(o, f, d) => {
                    if o.space != "dhcp" {
                        // Reports the vivso/ONIE refusal, or the space one.
                        self.option_value(st.pos, o, f, d)?;
                        return Err(refuse());
                    }
                    match (o.code, d) {
                        (210, OptionData::Values(v)) => match v.as_slice() {
                            [Value::Text(t)] => rule.path_prefix = Some(subst(t)),
                            _ => return Err(refuse()),
                        },
                        (60, OptionData::Values(v)) => match v.as_slice() {
                            [Value::Bytes(b)] => match String::from_utf8(b.clone()) {
                                Ok(t) => rule.vendor_class = Some(t),
                                Err(_) => return Err(refuse()),
                            },
                            _ => return Err(refuse()),
                        },
                        (55, OptionData::Expr(e)) => {
                            append_request_list(e, &mut rule.force_options)
                                .map_err(|()| refuse())?;
                        }
                        _ => return Err(refuse()),
                    }
                }
                _ => return Err(refuse()),
            }
        }
        Ok(rule)
    }

    /// A branch condition as a PXE match.
    fn condition(&self, pos: Pos, c: &Expr) -> R<PxeMatch> {
        enum Term {
            Arch(u16),
            UserClass(String),
            IpxeFeatures,
        }
        let mut terms = Vec::new();
        let mut stack = vec![c];
        let mut flat = Vec::new();
        while let Some(e) = stack.pop() {
            match e {
                Expr::Or(a, b) => {
                    stack.push(b);
                    stack.push(a);
                }
                e => flat.push(e),
            }
        }
        let refuse = |e: &Expr| {
            err(
                pos,
                ErrorKind::Unsupported,
                format!(
                    "boot chain condition {e} is not supported (only option arch = XX:XX, option user-class = \"…\", and exists ipxe.http and (exists ipxe.bzimage or exists ipxe.efi), joined by or)"
                ),
            )
        };
        let is_ipxe = |o: &OptionRef, code: u32| {
            o.code == code && self.ipxe_space.as_deref() == Some(o.space.as_str())
        };
        for e in flat {
            let t = match e {
                Expr::Equal(a, b) => {
                    let (o, lit) = match (a.as_ref(), b.as_ref()) {
                        (Expr::Option(o), l) | (l, Expr::Option(o)) => (o, l),
                        _ => return refuse(e),
                    };
                    match (o.space.as_str(), o.code, lit) {
                        ("dhcp", 93, Expr::Hex(b)) if b.len() == 2 => {
                            Term::Arch(u16::from_be_bytes([b[0], b[1]]))
                        }
                        ("dhcp", 93, Expr::Num(n)) if *n <= 0xffff => {
                            Term::Arch(u16::try_from(*n).unwrap_or_default())
                        }
                        ("dhcp", 77, Expr::Str(s)) => Term::UserClass(s.clone()),
                        _ => return refuse(e),
                    }
                }
                Expr::And(a, b) => match (a.as_ref(), b.as_ref()) {
                    (Expr::Exists(h), Expr::Or(x, y))
                        if is_ipxe(h, 19)
                            && matches!((x.as_ref(), y.as_ref()),
                                (Expr::Exists(p), Expr::Exists(q))
                                    if (is_ipxe(p, 24) && is_ipxe(q, 36)) || (is_ipxe(p, 36) && is_ipxe(q, 24))) =>
                    {
                        Term::IpxeFeatures
                    }
                    _ => return refuse(e),
                },
                _ => return refuse(e),
            };
            terms.push(t);
        }
        let mut m = PxeMatch::default();
        if terms.iter().all(|t| matches!(t, Term::Arch(_))) {
            m.arch = Some(
                terms
                    .iter()
                    .filter_map(|t| match t {
                        Term::Arch(a) => Some(*a),
                        _ => None,
                    })
                    .collect(),
            );
            return Ok(m);
        }
        if terms.iter().any(|t| matches!(t, Term::IpxeFeatures))
            && terms.iter().all(|t| {
                matches!(t, Term::IpxeFeatures) || matches!(t, Term::UserClass(u) if u == "iPXE")
            })
        {
            m.ipxe = Some(true);
            return Ok(m);
        }
        if let [Term::UserClass(u)] = terms.as_slice() {
            m.user_class = Some(u.clone());
            return Ok(m);
        }
        refuse(c)
    }
}

/// `concat(option dhcp-parameter-request-list, XX…)`: the codes appended.
fn append_request_list(e: &Expr, force: &mut Vec<u8>) -> Result<(), ()> {
    let Expr::Concat(parts) = e else {
        return Err(());
    };
    let mut it = parts.iter();
    match it.next() {
        Some(Expr::Option(p)) if p.space == "dhcp" && p.code == 55 => {}
        _ => return Err(()),
    }
    for p in it {
        match p {
            Expr::Hex(b) => force.extend(b),
            _ => return Err(()),
        }
    }
    if force.is_empty() {
        return Err(());
    }
    Ok(())
}

/// Replaces `addr` in `text` where it stands as a whole address.
fn replace_addr(text: &str, addr: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(addr) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + addr.len()..].chars().next();
        let whole = !before.is_some_and(|c| c.is_ascii_digit() || c == '.')
            && !after.is_some_and(|c| c.is_ascii_digit());
        out.push_str(&rest[..i]);
        out.push_str(if whole { "{server}" } else { addr });
        rest = &rest[i + addr.len()..];
    }
    out.push_str(rest);
    out
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

/// The wire bytes of an option value.
fn encode(pos: Pos, f: &Format, vals: &[Value], out: &mut Vec<u8>) -> R<()> {
    let elem = match f {
        Format::Array(inner) => inner.as_ref(),
        f => f,
    };
    if *f == Format::DomainList {
        for v in vals {
            let Value::Text(name) = v else { continue };
            for label in name.trim_end_matches('.').split('.') {
                if label.is_empty() || label.len() > 63 {
                    return err(
                        pos,
                        ErrorKind::Invalid,
                        format!("domain name {name:?}: empty or over-long label"),
                    );
                }
                out.push(u8::try_from(label.len()).unwrap_or(63));
                out.extend_from_slice(label.as_bytes());
            }
            out.push(0);
        }
        return Ok(());
    }
    for v in vals {
        match (elem, v) {
            (_, Value::Ip(a)) => out.extend_from_slice(&a.octets()),
            (_, Value::Bool(b)) => out.push(u8::from(*b)),
            (_, Value::Text(t)) => out.extend_from_slice(t.as_bytes()),
            (_, Value::Bytes(b)) => out.extend_from_slice(b),
            (Format::Unsigned(bits) | Format::Signed(bits), Value::Int(n)) => {
                let be = n.to_be_bytes();
                let k = usize::from(*bits / 8);
                out.extend_from_slice(&be[8 - k.min(8)..]);
            }
            (_, Value::Int(n)) => out.push(u8::try_from(*n).unwrap_or_default()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_whole_addresses_only() {
        assert_eq!(
            super::replace_addr("http://10.0.0.2:5248/x 10.0.0.25 110.0.0.2", "10.0.0.2"),
            "http://{server}:5248/x 10.0.0.25 110.0.0.2"
        );
    }
}
