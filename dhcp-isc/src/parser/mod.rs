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

mod expr;
mod options;
mod statement;

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
    read: crate::IncludeReader,
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
    /// includes, which `read` reads.
    pub(crate) fn new(
        name: &str,
        text: String,
        dir: Option<PathBuf>,
        read: crate::IncludeReader,
    ) -> R<Self> {
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
            read,
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
}
