//! The tokenizer: ISC's configuration syntax as words, quoted strings and
//! punctuation, each with its position.
//!
//! A *word* is a run of letters, digits and `_ - . :`; so `10.20.0.2`,
//! `52:54:00:aa:bb:01`, `00:07`, `vendor-class-identifier` and `ipxe.http` are
//! each one word, and the parser reads them by context. `#` starts a comment
//! that runs to the end of the line.

use crate::error::{ErrorKind, Located, Pos};

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A bare word (name, number, address, hex bytes).
    Word(String),
    /// A quoted string, escapes resolved.
    Str(String),
    /// One punctuation character (or `!=` as `'≠'`).
    Punct(char),
    /// End of the file.
    Eof,
}

/// A token and where it starts.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub pos: Pos,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
}

/// Splits `text` (file number `file`) into tokens, ending with [`Tok::Eof`].
pub(crate) fn lex(text: &str, file: usize) -> Result<Vec<Token>, Located> {
    let mut out = Vec::with_capacity(text.len() / 4);
    let mut line: u32 = 1;
    let mut line_start = 0usize;
    let mut it = text.char_indices().peekable();
    while let Some(&(i, c)) = it.peek() {
        let pos = Pos {
            file,
            line,
            column: column(text, line_start, i),
        };
        if c == '\n' {
            it.next();
            line += 1;
            line_start = i + 1;
            continue;
        }
        if c.is_whitespace() {
            it.next();
            continue;
        }
        if c == '#' {
            while let Some(&(_, c)) = it.peek() {
                if c == '\n' {
                    break;
                }
                it.next();
            }
            continue;
        }
        if is_word_char(c) {
            let mut end = i;
            while let Some(&(j, c)) = it.peek() {
                if !is_word_char(c) {
                    break;
                }
                end = j + c.len_utf8();
                it.next();
            }
            out.push(Token {
                tok: Tok::Word(text[i..end].to_owned()),
                pos,
            });
            continue;
        }
        if c == '"' {
            it.next();
            let mut s = String::new();
            let mut closed = false;
            while let Some((_, c)) = it.next() {
                match c {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\n' => {
                        return Err(Located::new(
                            pos,
                            ErrorKind::Syntax,
                            "unterminated string (a string may not span lines)",
                        ));
                    }
                    '\\' => {
                        let Some((_, e)) = it.next() else { break };
                        match e {
                            'n' => s.push('\n'),
                            't' => s.push('\t'),
                            'r' => s.push('\r'),
                            '"' | '\\' => s.push(e),
                            _ => {
                                return Err(Located::new(
                                    pos,
                                    ErrorKind::Syntax,
                                    format!(
                                        "unsupported escape \\{e} in a string (only \\n \\t \\r \\\" \\\\)"
                                    ),
                                ));
                            }
                        }
                    }
                    c => s.push(c),
                }
            }
            if !closed {
                return Err(Located::new(pos, ErrorKind::Syntax, "unterminated string"));
            }
            out.push(Token {
                tok: Tok::Str(s),
                pos,
            });
            continue;
        }
        it.next();
        if c == '!' && it.peek().is_some_and(|&(_, n)| n == '=') {
            it.next();
            out.push(Token {
                tok: Tok::Punct('≠'),
                pos,
            });
            continue;
        }
        if c.is_ascii_punctuation() {
            out.push(Token {
                tok: Tok::Punct(c),
                pos,
            });
            continue;
        }
        return Err(Located::new(
            pos,
            ErrorKind::Syntax,
            format!("unexpected character {c:?}"),
        ));
    }
    out.push(Token {
        tok: Tok::Eof,
        pos: Pos {
            file,
            line,
            column: column(text, line_start, text.len()),
        },
    });
    Ok(out)
}

fn column(text: &str, line_start: usize, at: usize) -> u32 {
    let n = text
        .get(line_start..at)
        .map_or(0, |s| s.chars().count())
        .saturating_add(1);
    u32::try_from(n).unwrap_or(u32::MAX)
}
