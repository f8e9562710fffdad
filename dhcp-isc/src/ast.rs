//! The syntax tree of an ISC configuration, and the expression AST of
//! conditions and event actions.

use std::net::Ipv4Addr;

use crate::error::Pos;

/// An option reference, resolved: its space, name and code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionRef {
    /// The option space (`dhcp` for the standard options).
    pub space: String,
    /// The option's name within its space.
    pub name: String,
    /// The option code within its space.
    pub code: u32,
}

/// An expression (data, numeric or boolean), as in dhcp-eval(5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A quoted string.
    Str(String),
    /// Colon-separated hex bytes (`00:07`, `d2`).
    Hex(Vec<u8>),
    /// A decimal number.
    Num(u64),
    /// `option NAME`: the value the client sent (or the server will send).
    Option(OptionRef),
    /// `exists NAME`: whether the client sent the option.
    Exists(OptionRef),
    /// A variable set by `set`.
    Variable(String),
    /// `substring(data, offset, length)`.
    Substring(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `concat(data, data, …)`.
    Concat(Vec<Expr>),
    /// `binary-to-ascii(base, width, separator, data)`.
    BinaryToAscii(Box<Expr>, Box<Expr>, Box<Expr>, Box<Expr>),
    /// `encode-int(number, width)`.
    EncodeInt(Box<Expr>, Box<Expr>),
    /// `pick-first-value(data, data, …)`.
    PickFirstValue(Vec<Expr>),
    /// `leased-address`.
    LeasedAddress,
    /// `lease-time`.
    LeaseTime,
    /// `hardware`: the hardware type byte followed by the address.
    Hardware,
    /// `a = b`.
    Equal(Box<Expr>, Box<Expr>),
    /// `a != b`.
    NotEqual(Box<Expr>, Box<Expr>),
    /// `a and b`.
    And(Box<Expr>, Box<Expr>),
    /// `a or b`.
    Or(Box<Expr>, Box<Expr>),
    /// `not a`.
    Not(Box<Expr>),
}

/// A lease event that runs actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// `on commit`.
    Commit,
    /// `on release`.
    Release,
    /// `on expiry`.
    Expiry,
}

/// An executable statement of an `on …` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `set NAME = EXPR;`
    Set {
        /// Variable name.
        name: String,
        /// Its value.
        value: Expr,
    },
    /// `execute("program", arg, …);`
    Execute {
        /// The program.
        program: Expr,
        /// Its arguments.
        args: Vec<Expr>,
    },
    /// `if … { } elsif … { } else { }` of actions.
    If {
        /// Conditions and their actions, in order.
        branches: Vec<(Expr, Vec<Action>)>,
        /// The `else` actions.
        otherwise: Vec<Action>,
    },
}

/// The type of an option's value (an `option … code N = TYPE` definition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// `unsigned integer 8|16|32`.
    Unsigned(u8),
    /// `signed integer 8|16|32`.
    Signed(u8),
    /// `boolean`.
    Boolean,
    /// `ip-address`.
    Ip,
    /// `text`.
    Text,
    /// `string`: hex bytes or a quoted string.
    String,
    /// `domain-list` (optionally `compressed`).
    DomainList,
    /// `encapsulate SPACE`.
    Encapsulate(String),
    /// `array of TYPE`.
    Array(Box<Format>),
    /// A pair of IP addresses per element (`static-routes`, `policy-filter`).
    IpPair,
}

/// One item of an option's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// An address.
    Ip(Ipv4Addr),
    /// An integer.
    Int(i64),
    /// `true`/`false`/`on`/`off`.
    Bool(bool),
    /// A quoted string.
    Text(String),
    /// Hex bytes.
    Bytes(Vec<u8>),
}

/// What `option NAME …;` sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionData {
    /// A literal value (several items for arrays and lists).
    Values(Vec<Value>),
    /// `option NAME = EXPR;`
    Expr(Expr),
}

/// A failover peer parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerParam {
    /// `primary;`
    Primary,
    /// `secondary;`
    Secondary,
    /// `address IP;`
    Address(Ipv4Addr),
    /// `port N;`
    Port(u16),
    /// `peer address IP;`
    PeerAddress(Ipv4Addr),
    /// `peer port N;`
    PeerPort(u16),
    /// `max-response-delay N;`
    MaxResponseDelay(u32),
    /// `max-unacked-updates N;`
    MaxUnackedUpdates(u32),
    /// `mclt N;`
    Mclt(u32),
    /// `split N;`
    Split(u16),
    /// `hba HEX;`
    Hba(Vec<u8>),
    /// `load balance max seconds N;`
    LoadBalanceMaxSeconds(u32),
    /// `auto-partner-down N;`
    AutoPartnerDown(u32),
    /// `max-lease-misbalance N;`
    MaxLeaseMisbalance(u32),
    /// `max-lease-ownership N;`
    MaxLeaseOwnership(u32),
    /// `min-balance N;`
    MinBalance(u32),
    /// `max-balance N;`
    MaxBalance(u32),
}

/// `allow`, `deny` or `ignore`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// `allow …`
    Allow,
    /// `deny …`
    Deny,
    /// `ignore …`
    Ignore,
}

/// A statement of a declaration scope, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stmt {
    /// Where the statement starts.
    pub pos: Pos,
    /// What it is.
    pub kind: StmtKind,
}

/// The statements the parser knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StmtKind {
    /// `default-lease-time N;`
    DefaultLeaseTime(u32),
    /// `max-lease-time N;`
    MaxLeaseTime(u32),
    /// `min-lease-time N;`
    MinLeaseTime(u32),
    /// `authoritative;` / `not authoritative;`
    Authoritative(bool),
    /// `ignore-client-uids BOOL;`
    IgnoreClientUids(bool),
    /// `echo-client-id BOOL;`
    EchoClientId(bool),
    /// `ping-check BOOL;`
    PingCheck(bool),
    /// `next-server IP;`
    NextServer(Ipv4Addr),
    /// `filename "…";`
    Filename(String),
    /// `allow|deny|ignore WHAT;`
    Permit(Permit, String),
    /// `option NAME code N = TYPE;`
    OptionDef(OptionRef, Format),
    /// `option space NAME [code width N] [length width N] [hash size N];`
    OptionSpace {
        /// Space name.
        name: String,
        /// Bytes per code.
        code_width: u8,
        /// Bytes per length.
        length_width: u8,
    },
    /// `option NAME VALUE;` / `option NAME = EXPR;`, with the option's type.
    OptionSet(OptionRef, Format, OptionData),
    /// `class "NAME" { … }`
    Class {
        /// Class name.
        name: String,
        /// Its `match if` expression.
        matcher: Option<Expr>,
        /// Its other statements.
        body: Vec<Stmt>,
    },
    /// `failover peer "NAME" { … }`
    FailoverPeer {
        /// Relationship name.
        name: String,
        /// Its parameters.
        params: Vec<(Pos, PeerParam)>,
    },
    /// `failover peer "NAME";` inside a pool.
    PoolPeer(String),
    /// `shared-network NAME { … }`
    SharedNetwork {
        /// Network name.
        name: String,
        /// Its statements.
        body: Vec<Stmt>,
    },
    /// `subnet A netmask M { … }`
    Subnet {
        /// Network address.
        network: Ipv4Addr,
        /// Netmask.
        mask: Ipv4Addr,
        /// Its statements.
        body: Vec<Stmt>,
    },
    /// `pool { … }`
    Pool(Vec<Stmt>),
    /// `range LOW [HIGH];`
    Range(Ipv4Addr, Ipv4Addr),
    /// `host NAME { … }`
    Host {
        /// Host name.
        name: String,
        /// Its statements.
        body: Vec<Stmt>,
    },
    /// `hardware ethernet MAC;`
    HardwareEthernet([u8; 6]),
    /// `fixed-address IP;`
    FixedAddress(Ipv4Addr),
    /// `if … { } elsif … { } else { }` in a declaration scope.
    If {
        /// Conditions and their statements, in order.
        branches: Vec<(Pos, Expr, Vec<Stmt>)>,
        /// The `else` statements (with the position of `else`).
        otherwise: Option<(Pos, Vec<Stmt>)>,
    },
    /// `on EVENT [or EVENT …] { … }`
    On(Vec<Event>, Vec<Action>),
    /// `omapi-port N;`
    OmapiPort(u16),
    /// `key NAME { algorithm A; secret S; }`
    Key {
        /// Key name.
        name: String,
        /// Algorithm, lower-cased.
        algorithm: String,
        /// Base64 secret.
        secret: String,
    },
    /// `omapi-key NAME;`
    OmapiKey(String),
}
