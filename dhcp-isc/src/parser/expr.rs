//! Expressions: `or`, `and`, `not`, function calls and primaries, into the
//! AST of `crate::ast`.

use super::*;

impl Parser {
    pub(crate) fn expr(&mut self) -> R<Expr> {
        let pos = self.pos();
        self.enter(pos)?;
        let e = self.or_expr();
        self.leave();
        e
    }

    pub(super) fn or_expr(&mut self) -> R<Expr> {
        let mut a = self.and_expr()?;
        while self.at_word("or") {
            self.next();
            let b = self.and_expr()?;
            a = Expr::Or(Box::new(a), Box::new(b));
        }
        Ok(a)
    }

    pub(super) fn and_expr(&mut self) -> R<Expr> {
        let mut a = self.not_expr()?;
        while self.at_word("and") {
            self.next();
            let b = self.not_expr()?;
            a = Expr::And(Box::new(a), Box::new(b));
        }
        Ok(a)
    }

    pub(super) fn not_expr(&mut self) -> R<Expr> {
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

    pub(super) fn args(&mut self, func: &str, n: Option<usize>) -> R<Vec<Expr>> {
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

    pub(super) fn primary(&mut self) -> R<Expr> {
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
