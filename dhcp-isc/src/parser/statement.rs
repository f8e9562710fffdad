//! Statements: the one-statement dispatcher, include, key, failover peer
//! parameters, if/elsif/else, events and their actions.

use super::*;

impl Parser {
    pub(super) fn statement(&mut self) -> R<Option<Stmt>> {
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
            "echo-client-id" => {
                let b = self.boolean(&kw)?;
                self.semi(&kw)?;
                StmtKind::EchoClientId(b)
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

    pub(super) fn include(&mut self, pos: Pos, file: &str) -> R<()> {
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
        let text = (self.read)(&path).map_err(|e| {
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

    pub(super) fn key(&mut self) -> R<StmtKind> {
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
                    if base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &s)
                        .map_or(true, |b| b.is_empty())
                    {
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

    pub(super) fn peer_params(&mut self) -> R<Vec<(Pos, PeerParam)>> {
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

    pub(super) fn if_statement(&mut self, pos: Pos) -> R<StmtKind> {
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

    pub(super) fn event(&mut self) -> R<Event> {
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
    pub(super) fn actions(&mut self) -> R<Vec<Action>> {
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
}
