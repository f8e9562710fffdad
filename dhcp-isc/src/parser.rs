//! Recursive descent over the tokens: statements into [`Stmt`]s, conditions
//! and actions into the expression AST. Includes are read as they are met.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use crate::ast::{
    Action, Event, Expr, Format, OptionData, OptionRef, PeerParam, Permit, Stmt, StmtKind, Value,
};
use crate::error::{ErrorKind, Located, Pos};
use crate::lexer::{Tok, Token, lex};
use crate::options::{AGENT, STANDARD};

/// How deeply includes may nest (a guard against include loops).
const MAX_INCLUDE_DEPTH: usize = 16;
/// How many files one configuration may read.
const MAX_FILES: usize = 256;
/// How deeply blocks and expressions may nest.
const MAX_NESTING: usize = 64;

/// A file that was read: its name as given and its text.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub name: String,
    pub text: String,
}

/// An option space: widths and its options by name.
#[derive(Debug, Clone)]
pub(crate) struct Space {
    pub code_width: u8,
    pub options: HashMap<String, (u32, Format)>,
}

struct Frame {
    tokens: Vec<Token>,
    at: usize,
    dir: Option<PathBuf>,
}

type R<T> = Result<T, Located>;

/// The parser state.
pub(crate) struct Parser {
    frames: Vec<Frame>,
    pub sources: Vec<Source>,
    pub spaces: HashMap<String, Space>,
    depth: usize,
}

fn err<T>(pos: Pos, kind: ErrorKind, msg: impl Into<String>) -> R<T> {
    Err(Located::new(pos, kind, msg))
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Word(w) => format!("{w:?}"),
        Tok::Str(s) => format!("string {s:?}"),
        Tok::Punct(c) => format!("'{c}'"),
        Tok::Eof => "end of file".to_owned(),
    }
}

/// Parses `a:b:c` / `ab` hex bytes (each group one or two hex digits).
pub(crate) fn hex_bytes(w: &str) -> Option<Vec<u8>> {
    w.split(':')
        .map(|p| {
            if p.is_empty() || p.len() > 2 || !p.chars().all(|c| c.is_ascii_hexdigit()) {
                None
            } else {
                u8::from_str_radix(p, 16).ok()
            }
        })
        .collect()
}

impl Parser {
    /// A parser over `text` (file 0, named `name`); `dir` resolves relative
    /// includes.
    pub(crate) fn new(name: &str, text: String, dir: Option<PathBuf>) -> R<Self> {
        let tokens = lex(&text, 0)?;
        let mut spaces = HashMap::new();
        let table = |t: &[(&str, u32, crate::options::F)]| {
            t.iter()
                .map(|(n, c, f)| ((*n).to_owned(), (*c, f.format())))
                .collect::<HashMap<_, _>>()
        };
        spaces.insert(
            "dhcp".to_owned(),
            Space {
                code_width: 1,
                options: table(STANDARD),
            },
        );
        spaces.insert(
            "agent".to_owned(),
            Space {
                code_width: 1,
                options: table(AGENT),
            },
        );
        Ok(Self {
            frames: vec![Frame { tokens, at: 0, dir }],
            sources: vec![Source {
                name: name.to_owned(),
                text,
            }],
            spaces,
            depth: 0,
        })
    }

    // ---- token access ----

    fn peek(&self) -> &Token {
        static EOF: std::sync::OnceLock<Token> = std::sync::OnceLock::new();
        self.frames
            .last()
            .and_then(|f| f.tokens.get(f.at))
            .unwrap_or_else(|| {
                EOF.get_or_init(|| Token {
                    tok: Tok::Eof,
                    pos: Pos::default(),
                })
            })
    }

    fn pos(&self) -> Pos {
        self.peek().pos
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if let Some(f) = self.frames.last_mut()
            && f.at < f.tokens.len().saturating_sub(1)
        {
            f.at += 1;
        }
        self.pop_finished();
        t
    }

    /// Leaves included files whose tokens are used up.
    fn pop_finished(&mut self) {
        while self.frames.len() > 1 && matches!(self.peek().tok, Tok::Eof) {
            self.frames.pop();
        }
    }

    fn at_punct(&self, c: char) -> bool {
        self.peek().tok == Tok::Punct(c)
    }

    fn at_word(&self, w: &str) -> bool {
        matches!(&self.peek().tok, Tok::Word(x) if x.eq_ignore_ascii_case(w))
    }

    fn expect_punct(&mut self, c: char, what: &str) -> R<()> {
        if self.at_punct(c) {
            self.next();
            Ok(())
        } else {
            let t = self.peek();
            err(
                t.pos,
                ErrorKind::Syntax,
                format!("expecting '{c}' {what}, found {}", describe(&t.tok)),
            )
        }
    }

    fn semi(&mut self, stmt: &str) -> R<()> {
        if self.at_punct(';') {
            self.next();
            Ok(())
        } else {
            let t = self.peek();
            err(
                t.pos,
                ErrorKind::Syntax,
                format!(
                    "semicolon expected after {stmt}, found {}",
                    describe(&t.tok)
                ),
            )
        }
    }

    fn expect_word(&mut self, w: &str, ctx: &str) -> R<()> {
        if self.at_word(w) {
            self.next();
            Ok(())
        } else {
            let t = self.peek();
            err(
                t.pos,
                ErrorKind::Syntax,
                format!("expecting {w:?} {ctx}, found {}", describe(&t.tok)),
            )
        }
    }

    fn word(&mut self, what: &str) -> R<(Pos, String)> {
        let t = self.next();
        match t.tok {
            Tok::Word(w) => Ok((t.pos, w)),
            other => err(
                t.pos,
                ErrorKind::Syntax,
                format!("expecting {what}, found {}", describe(&other)),
            ),
        }
    }

    fn string(&mut self, what: &str) -> R<String> {
        let t = self.next();
        match t.tok {
            Tok::Str(s) => Ok(s),
            other => err(
                t.pos,
                ErrorKind::Syntax,
                format!(
                    "expecting {what} (a quoted string), found {}",
                    describe(&other)
                ),
            ),
        }
    }

    /// A name given as a word or a quoted string.
    fn name(&mut self, what: &str) -> R<String> {
        let t = self.next();
        match t.tok {
            Tok::Str(s) | Tok::Word(s) if !s.is_empty() => Ok(s),
            other => err(
                t.pos,
                ErrorKind::Syntax,
                format!("expecting {what}, found {}", describe(&other)),
            ),
        }
    }

    fn number<T: TryFrom<u64>>(&mut self, what: &str) -> R<T> {
        let (pos, w) = self.word(what)?;
        let n: u64 = w.parse().map_err(|_| {
            Located::new(
                pos,
                ErrorKind::Syntax,
                format!("expecting {what} (a decimal number), found {w:?}"),
            )
        })?;
        T::try_from(n).map_err(|_| {
            Located::new(
                pos,
                ErrorKind::Invalid,
                format!("{what} {n} is out of range"),
            )
        })
    }

    fn ip(&mut self, what: &str) -> R<Ipv4Addr> {
        let t = self.next();
        match &t.tok {
            Tok::Word(w) => w.parse().map_err(|_| {
                Located::new(
                    t.pos,
                    ErrorKind::Unsupported,
                    format!(
                        "expecting {what} as an IPv4 address, found {w:?} (host names are not supported)"
                    ),
                )
            }),
            other => err(
                t.pos,
                ErrorKind::Syntax,
                format!("expecting {what}, found {}", describe(other)),
            ),
        }
    }

    fn boolean(&mut self, stmt: &str) -> R<bool> {
        let (pos, w) = self.word("true or false")?;
        match w.to_ascii_lowercase().as_str() {
            "true" | "on" => Ok(true),
            "false" | "off" => Ok(false),
            _ => err(
                pos,
                ErrorKind::Syntax,
                format!("{stmt}: expecting true, false, on or off, found {w:?}"),
            ),
        }
    }

    fn enter(&mut self, pos: Pos) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return err(pos, ErrorKind::Invalid, "nesting too deep");
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    // ---- statements ----

    /// Parses statements until end of file (top level) or a closing brace.
    pub(crate) fn statements(&mut self, braced: bool) -> R<Vec<Stmt>> {
        let mut out = Vec::new();
        loop {
            let t = self.peek();
            match &t.tok {
                Tok::Punct('}') if braced => {
                    self.next();
                    return Ok(out);
                }
                Tok::Eof => {
                    if braced {
                        return err(
                            t.pos,
                            ErrorKind::Syntax,
                            "unexpected end of file: '}' expected",
                        );
                    }
                    return Ok(out);
                }
                _ => {}
            }
            if let Some(s) = self.statement()? {
                out.push(s);
            }
        }
    }

    fn block(&mut self, what: &str) -> R<Vec<Stmt>> {
        let pos = self.pos();
        self.expect_punct('{', &format!("to open {what}"))?;
        self.enter(pos)?;
        let body = self.statements(true);
        self.leave();
        body
    }

    fn statement(&mut self) -> R<Option<Stmt>> {
        let t = self.next();
        let pos = t.pos;
        let Tok::Word(word) = t.tok else {
            return err(
                pos,
                ErrorKind::Syntax,
                format!("expecting a statement, found {}", describe(&t.tok)),
            );
        };
        let kw = word.to_ascii_lowercase();
        let kind = match kw.as_str() {
            "include" => {
                let file = self.string("the file name")?;
                if !self.at_punct(';') {
                    self.semi("include")?;
                }
                // Step past the semicolon without leaving this file even if
                // it ends here, so the stack of frames is the include chain.
                if let Some(f) = self.frames.last_mut()
                    && f.at < f.tokens.len().saturating_sub(1)
                {
                    f.at += 1;
                }
                self.include(pos, &file)?;
                return Ok(None);
            }
            "default-lease-time" | "max-lease-time" | "min-lease-time" => {
                let n = self.number::<u32>("a lease time")?;
                self.semi(&kw)?;
                match kw.as_str() {
                    "default-lease-time" => StmtKind::DefaultLeaseTime(n),
                    "max-lease-time" => StmtKind::MaxLeaseTime(n),
                    _ => StmtKind::MinLeaseTime(n),
                }
            }
            "authoritative" => {
                self.semi("authoritative")?;
                StmtKind::Authoritative(true)
            }
            "not" => {
                self.expect_word("authoritative", "after \"not\"")?;
                self.semi("not authoritative")?;
                StmtKind::Authoritative(false)
            }
            "ignore-client-uids" => {
                let b = self.boolean(&kw)?;
                self.semi(&kw)?;
                StmtKind::IgnoreClientUids(b)
            }
            "ping-check" => {
                let b = self.boolean(&kw)?;
                self.semi(&kw)?;
                StmtKind::PingCheck(b)
            }
            "next-server" => {
                let a = self.ip("the next server")?;
                self.semi(&kw)?;
                StmtKind::NextServer(a)
            }
            "filename" => {
                let f = self.string("the file name")?;
                self.semi(&kw)?;
                StmtKind::Filename(f)
            }
            "allow" | "deny" | "ignore" => {
                let permit = match kw.as_str() {
                    "allow" => Permit::Allow,
                    "deny" => Permit::Deny,
                    _ => Permit::Ignore,
                };
                let mut what = Vec::new();
                while !self.at_punct(';') {
                    let t = self.next();
                    match t.tok {
                        Tok::Word(w) => what.push(w.to_ascii_lowercase()),
                        Tok::Str(s) => what.push(format!("{s:?}")),
                        other => {
                            return err(
                                t.pos,
                                ErrorKind::Syntax,
                                format!("{kw}: unexpected {}", describe(&other)),
                            );
                        }
                    }
                }
                self.semi(&kw)?;
                if what.is_empty() {
                    return err(pos, ErrorKind::Syntax, format!("{kw} what?"));
                }
                StmtKind::Permit(permit, what.join(" "))
            }
            "option" => self.option_statement(pos)?,
            "class" => {
                let name = self.name("the class name")?;
                self.expect_punct('{', "to open the class")?;
                self.enter(pos)?;
                let mut matcher = None;
                let mut body = Vec::new();
                loop {
                    if self.at_punct('}') {
                        self.next();
                        break;
                    }
                    if self.at_word("match") {
                        let mpos = self.next().pos;
                        if !self.at_word("if") {
                            return err(
                                mpos,
                                ErrorKind::Unsupported,
                                "statement \"match\" without \"if\" (subclass spawning) is not supported",
                            );
                        }
                        self.next();
                        if matcher.is_some() {
                            return err(mpos, ErrorKind::Invalid, "a class has one match if");
                        }
                        matcher = Some(self.expr()?);
                        self.semi("match if")?;
                        continue;
                    }
                    if matches!(self.peek().tok, Tok::Eof) {
                        return err(
                            self.pos(),
                            ErrorKind::Syntax,
                            "unexpected end of file in class",
                        );
                    }
                    if let Some(s) = self.statement()? {
                        body.push(s);
                    }
                }
                self.leave();
                StmtKind::Class {
                    name,
                    matcher,
                    body,
                }
            }
            "failover" => {
                self.expect_word("peer", "after \"failover\"")?;
                let name = self.name("the failover peer name")?;
                if self.at_punct(';') {
                    self.next();
                    StmtKind::PoolPeer(name)
                } else if self.at_punct('{') {
                    self.next();
                    StmtKind::FailoverPeer {
                        name,
                        params: self.peer_params()?,
                    }
                } else {
                    let t = self.peek();
                    return err(
                        t.pos,
                        ErrorKind::Unsupported,
                        format!(
                            "failover peer {name:?}: expecting ';' or '{{', found {} (failover state declarations are not supported)",
                            describe(&t.tok)
                        ),
                    );
                }
            }
            "shared-network" => {
                let name = self.name("the shared network name")?;
                let body = self.block("the shared network")?;
                StmtKind::SharedNetwork { name, body }
            }
            "subnet" => {
                let network = self.ip("the subnet number")?;
                self.expect_word("netmask", "after the subnet number")?;
                let mask = self.ip("the netmask")?;
                let body = self.block("the subnet")?;
                StmtKind::Subnet {
                    network,
                    mask,
                    body,
                }
            }
            "pool" => StmtKind::Pool(self.block("the pool")?),
            "range" => {
                if self.at_word("dynamic-bootp") {
                    return err(
                        self.pos(),
                        ErrorKind::Unsupported,
                        "range dynamic-bootp: BOOTP clients are not served",
                    );
                }
                let lo = self.ip("the range's first address")?;
                let hi = if self.at_punct(';') {
                    lo
                } else {
                    self.ip("the range's last address")?
                };
                self.semi("range")?;
                StmtKind::Range(lo, hi)
            }
            "host" => {
                // ISC takes a bare name here, not a quoted string.
                let (_, name) = self.word("a name for the host declaration")?;
                let body = self.block("the host")?;
                StmtKind::Host { name, body }
            }
            "hardware" => {
                let (tpos, ty) = self.word("the hardware type")?;
                if !ty.eq_ignore_ascii_case("ethernet") {
                    return err(
                        tpos,
                        ErrorKind::Unsupported,
                        format!("hardware {ty}: only hardware ethernet is supported"),
                    );
                }
                let (mpos, mac) = self.word("the hardware address")?;
                let bytes = hex_bytes(&mac).and_then(|b| <[u8; 6]>::try_from(b).ok());
                let Some(mac) = bytes else {
                    return err(
                        mpos,
                        ErrorKind::Invalid,
                        format!("hardware ethernet: {mac:?} is not a 6-byte MAC address"),
                    );
                };
                self.semi("hardware ethernet")?;
                StmtKind::HardwareEthernet(mac)
            }
            "fixed-address" => {
                let a = self.ip("the fixed address")?;
                if self.at_punct(',') {
                    return err(
                        self.pos(),
                        ErrorKind::Unsupported,
                        "fixed-address with several addresses is not supported",
                    );
                }
                self.semi(&kw)?;
                StmtKind::FixedAddress(a)
            }
            "if" => self.if_statement(pos)?,
            "on" => {
                let mut events = vec![self.event()?];
                while self.at_word("or") {
                    self.next();
                    events.push(self.event()?);
                }
                self.expect_punct('{', "to open the on block")?;
                StmtKind::On(events, self.actions()?)
            }
            "omapi-port" => {
                let n = self.number::<u16>("the OMAPI port")?;
                self.semi(&kw)?;
                StmtKind::OmapiPort(n)
            }
            "key" => self.key()?,
            "omapi-key" => {
                let name = self.name("the key name")?;
                self.semi(&kw)?;
                StmtKind::OmapiKey(name)
            }
            _ => {
                return err(
                    pos,
                    ErrorKind::Unsupported,
                    format!("statement \"{word}\" is not supported"),
                );
            }
        };
        Ok(Some(Stmt { pos, kind }))
    }

    fn include(&mut self, pos: Pos, file: &str) -> R<()> {
        if self.frames.len() > MAX_INCLUDE_DEPTH {
            return err(
                pos,
                ErrorKind::Include,
                format!(
                    "include {file:?}: includes nested more than {MAX_INCLUDE_DEPTH} deep (a loop?)"
                ),
            );
        }
        if self.sources.len() >= MAX_FILES {
            return err(
                pos,
                ErrorKind::Include,
                format!("include {file:?}: more than {MAX_FILES} files"),
            );
        }
        let path = Path::new(file);
        let path = match (
            path.is_absolute(),
            self.frames.last().and_then(|f| f.dir.clone()),
        ) {
            (false, Some(dir)) => dir.join(path),
            _ => path.to_owned(),
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Located::new(
                pos,
                ErrorKind::Include,
                format!("include {file:?}: cannot read {}: {e}", path.display()),
            )
        })?;
        let index = self.sources.len();
        let tokens = lex(&text, index)?;
        self.sources.push(Source {
            name: path.display().to_string(),
            text,
        });
        self.frames.push(Frame {
            tokens,
            at: 0,
            dir: path.parent().map(Path::to_owned),
        });
        self.pop_finished();
        Ok(())
    }

    fn key(&mut self) -> R<StmtKind> {
        let name = self.name("the key name")?;
        self.expect_punct('{', "to open the key")?;
        let (mut algorithm, mut secret) = (None, None);
        while !self.at_punct('}') {
            let (wpos, w) = self.word("algorithm or secret")?;
            match w.to_ascii_lowercase().as_str() {
                "algorithm" => {
                    let (_, a) = self.word("the algorithm")?;
                    self.semi("algorithm")?;
                    algorithm = Some(a.to_ascii_lowercase());
                }
                "secret" => {
                    // base64 lexes as several tokens (`+`, `/`, `=` are
                    // punctuation): join them up to the semicolon.
                    let mut s = String::new();
                    loop {
                        let t = self.peek();
                        match &t.tok {
                            Tok::Punct(';') | Tok::Eof => break,
                            Tok::Str(x) => s.push_str(x),
                            Tok::Word(x) => s.push_str(x),
                            Tok::Punct(c @ ('+' | '/' | '=')) => s.push(*c),
                            other => {
                                return err(
                                    t.pos,
                                    ErrorKind::Syntax,
                                    format!("secret: unexpected {}", describe(other)),
                                );
                            }
                        }
                        self.next();
                    }
                    self.semi("secret")?;
                    if crate::base64::decode(&s).is_none_or(|b| b.is_empty()) {
                        return err(
                            wpos,
                            ErrorKind::Invalid,
                            format!("key {name:?}: the secret is not valid base64"),
                        );
                    }
                    secret = Some(s);
                }
                _ => {
                    return err(
                        wpos,
                        ErrorKind::Unsupported,
                        format!("key statement \"{w}\" is not supported"),
                    );
                }
            }
        }
        let close = self.next().pos;
        if self.at_punct(';') {
            self.next();
        }
        let (Some(algorithm), Some(secret)) = (algorithm, secret) else {
            return err(
                close,
                ErrorKind::Invalid,
                format!("key {name:?} needs algorithm and secret"),
            );
        };
        Ok(StmtKind::Key {
            name,
            algorithm,
            secret,
        })
    }

    fn peer_params(&mut self) -> R<Vec<(Pos, PeerParam)>> {
        let mut out = Vec::new();
        loop {
            if self.at_punct('}') {
                self.next();
                return Ok(out);
            }
            let (pos, w) = self.word("a failover peer parameter")?;
            let kw = w.to_ascii_lowercase();
            let p = match kw.as_str() {
                "primary" => PeerParam::Primary,
                "secondary" => PeerParam::Secondary,
                "address" => PeerParam::Address(self.ip("the address")?),
                "port" => PeerParam::Port(self.number("the port")?),
                "peer" => {
                    let (ppos, what) = self.word("address or port")?;
                    match what.to_ascii_lowercase().as_str() {
                        "address" => PeerParam::PeerAddress(self.ip("the peer address")?),
                        "port" => PeerParam::PeerPort(self.number("the peer port")?),
                        _ => {
                            return err(
                                ppos,
                                ErrorKind::Unsupported,
                                format!("failover peer parameter \"peer {what}\" is not supported"),
                            );
                        }
                    }
                }
                "max-response-delay" => PeerParam::MaxResponseDelay(self.number(&kw)?),
                "max-unacked-updates" => PeerParam::MaxUnackedUpdates(self.number(&kw)?),
                "mclt" => PeerParam::Mclt(self.number(&kw)?),
                "split" => PeerParam::Split(self.number(&kw)?),
                "hba" => {
                    let (hpos, h) = self.word("the hash bucket assignment")?;
                    let Some(b) = hex_bytes(&h).filter(|b| b.len() == 32) else {
                        return err(
                            hpos,
                            ErrorKind::Invalid,
                            "hba: expecting 32 colon-separated hex bytes",
                        );
                    };
                    PeerParam::Hba(b)
                }
                "load" => {
                    self.expect_word("balance", "in \"load balance max seconds\"")?;
                    self.expect_word("max", "in \"load balance max seconds\"")?;
                    self.expect_word("seconds", "in \"load balance max seconds\"")?;
                    PeerParam::LoadBalanceMaxSeconds(self.number("load balance max seconds")?)
                }
                "auto-partner-down" => PeerParam::AutoPartnerDown(self.number(&kw)?),
                "max-lease-misbalance" => PeerParam::MaxLeaseMisbalance(self.number(&kw)?),
                "max-lease-ownership" => PeerParam::MaxLeaseOwnership(self.number(&kw)?),
                "min-balance" => PeerParam::MinBalance(self.number(&kw)?),
                "max-balance" => PeerParam::MaxBalance(self.number(&kw)?),
                _ => {
                    return err(
                        pos,
                        ErrorKind::Unsupported,
                        format!("failover peer parameter \"{w}\" is not supported"),
                    );
                }
            };
            self.semi(&kw)?;
            out.push((pos, p));
        }
    }

    fn if_statement(&mut self, pos: Pos) -> R<StmtKind> {
        self.enter(pos)?;
        let mut branches = Vec::new();
        let mut otherwise = None;
        let mut bpos = pos;
        loop {
            let cond = self.expr()?;
            let body = self.block("the if branch")?;
            branches.push((bpos, cond, body));
            if self.at_word("elsif") {
                bpos = self.next().pos;
                continue;
            }
            if self.at_word("else") {
                let epos = self.next().pos;
                if self.at_word("if") {
                    bpos = self.next().pos;
                    continue;
                }
                otherwise = Some((epos, self.block("the else branch")?));
            }
            break;
        }
        self.leave();
        Ok(StmtKind::If {
            branches,
            otherwise,
        })
    }

    fn event(&mut self) -> R<Event> {
        let (pos, w) = self.word("commit, release or expiry")?;
        match w.to_ascii_lowercase().as_str() {
            "commit" => Ok(Event::Commit),
            "release" => Ok(Event::Release),
            "expiry" => Ok(Event::Expiry),
            _ => err(
                pos,
                ErrorKind::Unsupported,
                format!("on {w}: only commit, release and expiry are supported"),
            ),
        }
    }

    /// Actions up to and including the closing brace.
    fn actions(&mut self) -> R<Vec<Action>> {
        let open = self.pos();
        self.enter(open)?;
        let mut out = Vec::new();
        loop {
            if self.at_punct('}') {
                self.next();
                break;
            }
            let (pos, w) = self.word("an action (set, execute or if)")?;
            match w.to_ascii_lowercase().as_str() {
                "set" => {
                    let (_, name) = self.word("the variable name")?;
                    self.expect_punct('=', "after the variable name")?;
                    let value = self.expr()?;
                    self.semi("set")?;
                    out.push(Action::Set { name, value });
                }
                "execute" => {
                    self.expect_punct('(', "after execute")?;
                    let program = self.expr()?;
                    let mut args = Vec::new();
                    while self.at_punct(',') {
                        self.next();
                        args.push(self.expr()?);
                    }
                    self.expect_punct(')', "to close execute")?;
                    self.semi("execute")?;
                    out.push(Action::Execute { program, args });
                }
                "if" => {
                    let mut branches = Vec::new();
                    let mut otherwise = Vec::new();
                    loop {
                        let cond = self.expr()?;
                        self.expect_punct('{', "to open the if branch")?;
                        branches.push((cond, self.actions()?));
                        if self.at_word("elsif") {
                            self.next();
                            continue;
                        }
                        if self.at_word("else") {
                            self.next();
                            if self.at_word("if") {
                                self.next();
                                continue;
                            }
                            self.expect_punct('{', "to open the else branch")?;
                            otherwise = self.actions()?;
                        }
                        break;
                    }
                    out.push(Action::If {
                        branches,
                        otherwise,
                    });
                }
                _ => {
                    return err(
                        pos,
                        ErrorKind::Unsupported,
                        format!(
                            "statement \"{w}\" is not supported in an on block (only set, execute and if)"
                        ),
                    );
                }
            }
        }
        self.leave();
        Ok(out)
    }

    // ---- options ----

    fn option_name(&mut self) -> R<(Pos, String, String)> {
        let (pos, w) = self.word("an option name")?;
        Ok(match w.split_once('.') {
            Some((space, name)) => (pos, space.to_owned(), name.to_owned()),
            None => (pos, "dhcp".to_owned(), w),
        })
    }

    /// Resolves `space.name` to its code and format.
    fn resolve(&self, pos: Pos, space: &str, name: &str) -> R<(OptionRef, Format)> {
        let Some(sp) = self.spaces.get(space) else {
            return err(
                pos,
                ErrorKind::Invalid,
                format!("no option space named {space:?} (declare it with option space)"),
            );
        };
        let Some((code, format)) = sp.options.get(name) else {
            let full = if space == "dhcp" {
                name.to_owned()
            } else {
                format!("{space}.{name}")
            };
            return err(pos, ErrorKind::Invalid, format!("unknown option {full:?}"));
        };
        Ok((
            OptionRef {
                space: space.to_owned(),
                name: name.to_owned(),
                code: *code,
            },
            format.clone(),
        ))
    }

    fn option_statement(&mut self, pos: Pos) -> R<StmtKind> {
        if self.at_word("space") {
            self.next();
            let (_, name) = self.word("the option space name")?;
            let (mut code_width, mut length_width) = (1u8, 1u8);
            while !self.at_punct(';') {
                let (wpos, w) = self.word("code width, length width or hash size")?;
                let which = w.to_ascii_lowercase();
                match which.as_str() {
                    "code" | "length" => {
                        self.expect_word("width", &format!("after \"{w}\""))?;
                        let n: u8 = self.number("a width")?;
                        let ok = if which == "code" {
                            matches!(n, 1 | 2 | 4)
                        } else {
                            matches!(n, 0..=2)
                        };
                        if !ok {
                            return err(
                                wpos,
                                ErrorKind::Invalid,
                                format!("option space {name}: {which} width {n} is not allowed"),
                            );
                        }
                        if which == "code" {
                            code_width = n;
                        } else {
                            length_width = n;
                        }
                    }
                    "hash" => {
                        self.expect_word("size", "after \"hash\"")?;
                        let _: u32 = self.number("the hash size")?;
                    }
                    _ => {
                        return err(
                            wpos,
                            ErrorKind::Syntax,
                            format!("option space {name}: unexpected {w:?}"),
                        );
                    }
                }
            }
            self.semi("option space")?;
            if name == "dhcp" || name == "agent" {
                return err(
                    pos,
                    ErrorKind::Invalid,
                    format!("option space {name:?} is predefined"),
                );
            }
            self.spaces.insert(
                name.clone(),
                Space {
                    code_width,
                    options: HashMap::new(),
                },
            );
            return Ok(StmtKind::OptionSpace {
                name,
                code_width,
                length_width,
            });
        }
        let (npos, space, name) = self.option_name()?;
        if self.at_word("code") {
            self.next();
            let code: u32 = self.number("the option code")?;
            self.expect_punct('=', "after the option code")?;
            let format = self.format()?;
            self.semi("the option definition")?;
            let Some(sp) = self.spaces.get_mut(&space) else {
                return err(
                    npos,
                    ErrorKind::Invalid,
                    format!("no option space named {space:?}"),
                );
            };
            let max = match sp.code_width {
                1 => 255,
                2 => 65_535,
                _ => u32::MAX,
            };
            if code > max || (space == "dhcp" && (code == 0 || code == 255)) {
                return err(
                    npos,
                    ErrorKind::Invalid,
                    format!("option {name}: code {code} is out of range"),
                );
            }
            if let Format::Encapsulate(inner) = &format
                && !self.spaces.contains_key(inner)
            {
                return err(
                    npos,
                    ErrorKind::Invalid,
                    format!("option {name}: no option space named {inner:?} to encapsulate"),
                );
            }
            let Some(sp) = self.spaces.get_mut(&space) else {
                return err(
                    npos,
                    ErrorKind::Invalid,
                    format!("no option space named {space:?}"),
                );
            };
            // A new name for a code replaces any older name of it.
            sp.options.retain(|_, (c, _)| *c != code);
            sp.options.insert(name.clone(), (code, format.clone()));
            return Ok(StmtKind::OptionDef(OptionRef { space, name, code }, format));
        }
        let (opt, format) = self.resolve(npos, &space, &name)?;
        if self.at_punct('=') {
            self.next();
            let e = self.expr()?;
            self.semi("option")?;
            return Ok(StmtKind::OptionSet(opt, format, OptionData::Expr(e)));
        }
        let values = self.values(&opt, &format)?;
        self.semi(&format!("option {}", name))?;
        Ok(StmtKind::OptionSet(opt, format, OptionData::Values(values)))
    }

    fn format(&mut self) -> R<Format> {
        if self.at_punct('{') {
            return err(
                self.pos(),
                ErrorKind::Unsupported,
                "record option formats ({ … }) are not supported",
            );
        }
        let (pos, w) = self.word("an option type")?;
        Ok(match w.to_ascii_lowercase().as_str() {
            "unsigned" | "signed" | "integer" => {
                let signed = !w.eq_ignore_ascii_case("unsigned");
                if !w.eq_ignore_ascii_case("integer") {
                    self.expect_word("integer", &format!("after \"{w}\""))?;
                }
                let bits: u8 = self.number("the integer width")?;
                if !matches!(bits, 8 | 16 | 32) {
                    return err(
                        pos,
                        ErrorKind::Invalid,
                        format!("integer width {bits}: give 8, 16 or 32"),
                    );
                }
                if signed {
                    Format::Signed(bits)
                } else {
                    Format::Unsigned(bits)
                }
            }
            "boolean" => Format::Boolean,
            "ip-address" => Format::Ip,
            "text" => Format::Text,
            "string" => Format::String,
            "domain-list" => {
                if self.at_word("compressed") {
                    self.next();
                }
                Format::DomainList
            }
            "encapsulate" => {
                let (_, space) = self.word("the option space")?;
                Format::Encapsulate(space)
            }
            "array" => {
                self.expect_word("of", "after \"array\"")?;
                let inner = self.format()?;
                if matches!(
                    inner,
                    Format::Array(_)
                        | Format::Encapsulate(_)
                        | Format::Text
                        | Format::String
                        | Format::DomainList
                ) {
                    return err(
                        pos,
                        ErrorKind::Unsupported,
                        "array of this type is not supported",
                    );
                }
                Format::Array(Box::new(inner))
            }
            _ => {
                return err(
                    pos,
                    ErrorKind::Unsupported,
                    format!("option type \"{w}\" is not supported"),
                );
            }
        })
    }

    fn values(&mut self, opt: &OptionRef, format: &Format) -> R<Vec<Value>> {
        let mut out = Vec::new();
        match format {
            Format::Array(inner) => loop {
                out.extend(self.values(opt, inner)?);
                if !self.at_punct(',') {
                    break;
                }
                self.next();
            },
            Format::DomainList => loop {
                out.push(Value::Text(self.string("a domain name")?));
                if !self.at_punct(',') {
                    break;
                }
                self.next();
            },
            Format::IpPair => {
                out.push(Value::Ip(self.ip("an address")?));
                out.push(Value::Ip(self.ip("an address")?));
            }
            Format::Encapsulate(space) => {
                return err(
                    self.pos(),
                    ErrorKind::Unsupported,
                    format!(
                        "option {}: set the options of space {space:?} instead of the encapsulating option",
                        opt.name
                    ),
                );
            }
            Format::Ip => out.push(Value::Ip(self.ip(&format!("option {}", opt.name))?)),
            Format::Text => out.push(Value::Text(self.string(&format!("option {}", opt.name))?)),
            Format::String => {
                let t = self.next();
                match t.tok {
                    Tok::Str(s) => out.push(Value::Bytes(s.into_bytes())),
                    Tok::Word(w) => match hex_bytes(&w) {
                        Some(b) => out.push(Value::Bytes(b)),
                        None => {
                            return err(
                                t.pos,
                                ErrorKind::Syntax,
                                format!(
                                    "option {}: expecting a string or hex bytes, found {w:?}",
                                    opt.name
                                ),
                            );
                        }
                    },
                    other => {
                        return err(
                            t.pos,
                            ErrorKind::Syntax,
                            format!(
                                "option {}: expecting a string or hex bytes, found {}",
                                opt.name,
                                describe(&other)
                            ),
                        );
                    }
                }
            }
            Format::Boolean => {
                out.push(Value::Bool(self.boolean(&format!("option {}", opt.name))?))
            }
            Format::Unsigned(bits) | Format::Signed(bits) => {
                let (pos, w) = self.word("a number")?;
                let n: i64 = w.parse().map_err(|_| {
                    Located::new(
                        pos,
                        ErrorKind::Syntax,
                        format!("option {}: expecting a number, found {w:?}", opt.name),
                    )
                })?;
                let bits = u32::from(*bits);
                let (lo, hi) = if matches!(format, Format::Signed(_)) {
                    (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
                } else {
                    (0, (1i64 << bits) - 1)
                };
                if !(lo..=hi).contains(&n) {
                    return err(
                        pos,
                        ErrorKind::Invalid,
                        format!(
                            "option {}: {n} is out of range for a {bits}-bit integer",
                            opt.name
                        ),
                    );
                }
                out.push(Value::Int(n));
            }
        }
        Ok(out)
    }

    // ---- expressions ----

    pub(crate) fn expr(&mut self) -> R<Expr> {
        let pos = self.pos();
        self.enter(pos)?;
        let e = self.or_expr();
        self.leave();
        e
    }

    fn or_expr(&mut self) -> R<Expr> {
        let mut a = self.and_expr()?;
        while self.at_word("or") {
            self.next();
            let b = self.and_expr()?;
            a = Expr::Or(Box::new(a), Box::new(b));
        }
        Ok(a)
    }

    fn and_expr(&mut self) -> R<Expr> {
        let mut a = self.not_expr()?;
        while self.at_word("and") {
            self.next();
            let b = self.not_expr()?;
            a = Expr::And(Box::new(a), Box::new(b));
        }
        Ok(a)
    }

    fn not_expr(&mut self) -> R<Expr> {
        if self.at_word("not") {
            let pos = self.next().pos;
            self.enter(pos)?;
            let e = self.not_expr();
            self.leave();
            return Ok(Expr::Not(Box::new(e?)));
        }
        let a = self.primary()?;
        if self.at_punct('=') {
            self.next();
            let b = self.primary()?;
            return Ok(Expr::Equal(Box::new(a), Box::new(b)));
        }
        if self.at_punct('≠') {
            self.next();
            let b = self.primary()?;
            return Ok(Expr::NotEqual(Box::new(a), Box::new(b)));
        }
        if self.at_punct('~') {
            return err(
                self.pos(),
                ErrorKind::Unsupported,
                "regular expression matches (~= and ~~) are not supported",
            );
        }
        Ok(a)
    }

    fn args(&mut self, func: &str, n: Option<usize>) -> R<Vec<Expr>> {
        let pos = self.pos();
        self.expect_punct('(', &format!("after {func}"))?;
        let mut out = vec![self.expr()?];
        while self.at_punct(',') {
            self.next();
            out.push(self.expr()?);
        }
        self.expect_punct(')', &format!("to close {func}"))?;
        if let Some(n) = n
            && out.len() != n
        {
            return err(
                pos,
                ErrorKind::Syntax,
                format!("{func} takes {n} arguments, found {}", out.len()),
            );
        }
        Ok(out)
    }

    fn primary(&mut self) -> R<Expr> {
        let t = self.next();
        let pos = t.pos;
        let w = match t.tok {
            Tok::Str(s) => return Ok(Expr::Str(s)),
            Tok::Punct('(') => {
                let e = self.expr()?;
                self.expect_punct(')', "to close the parenthesis")?;
                return Ok(e);
            }
            Tok::Word(w) => w,
            other => {
                return err(
                    pos,
                    ErrorKind::Syntax,
                    format!("expecting an expression, found {}", describe(&other)),
                );
            }
        };
        let lw = w.to_ascii_lowercase();
        let boxed = |v: Vec<Expr>| -> Vec<Box<Expr>> { v.into_iter().map(Box::new).collect() };
        Ok(match lw.as_str() {
            "option" | "exists" => {
                let (npos, space, name) = self.option_name()?;
                let (opt, _) = self.resolve(npos, &space, &name)?;
                if lw == "option" {
                    Expr::Option(opt)
                } else {
                    Expr::Exists(opt)
                }
            }
            "substring" => {
                let mut a = boxed(self.args(&lw, Some(3))?).into_iter();
                match (a.next(), a.next(), a.next()) {
                    (Some(x), Some(y), Some(z)) => Expr::Substring(x, y, z),
                    _ => return err(pos, ErrorKind::Syntax, "substring takes 3 arguments"),
                }
            }
            "binary-to-ascii" => {
                let mut a = boxed(self.args(&lw, Some(4))?).into_iter();
                match (a.next(), a.next(), a.next(), a.next()) {
                    (Some(b), Some(wd), Some(s), Some(d)) => Expr::BinaryToAscii(b, wd, s, d),
                    _ => return err(pos, ErrorKind::Syntax, "binary-to-ascii takes 4 arguments"),
                }
            }
            "encode-int" => {
                let mut a = boxed(self.args(&lw, Some(2))?).into_iter();
                match (a.next(), a.next()) {
                    (Some(x), Some(y)) => Expr::EncodeInt(x, y),
                    _ => return err(pos, ErrorKind::Syntax, "encode-int takes 2 arguments"),
                }
            }
            "concat" => Expr::Concat(self.args(&lw, None)?),
            "pick-first-value" => Expr::PickFirstValue(self.args(&lw, None)?),
            "leased-address" => Expr::LeasedAddress,
            "lease-time" => Expr::LeaseTime,
            "hardware" => Expr::Hardware,
            _ if self.at_punct('(') => {
                return err(
                    pos,
                    ErrorKind::Unsupported,
                    format!("function \"{w}\" is not supported"),
                );
            }
            _ if w.chars().all(|c| c.is_ascii_digit()) => match w.parse() {
                Ok(n) => Expr::Num(n),
                Err(_) => return err(pos, ErrorKind::Invalid, format!("number {w} is too large")),
            },
            _ if w.contains(':') || (w.len() <= 2 && w.chars().all(|c| c.is_ascii_hexdigit())) => {
                match hex_bytes(&w) {
                    Some(b) => Expr::Hex(b),
                    None => {
                        return err(
                            pos,
                            ErrorKind::Syntax,
                            format!("{w:?} is not valid hex data"),
                        );
                    }
                }
            }
            _ if w.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && !matches!(lw.as_str(), "and" | "or" | "not" | "if" | "elsif" | "else") =>
            {
                Expr::Variable(w)
            }
            _ => {
                return err(
                    pos,
                    ErrorKind::Syntax,
                    format!("expecting an expression, found {w:?}"),
                );
            }
        })
    }
}
