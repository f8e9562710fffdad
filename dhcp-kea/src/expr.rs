//! The part of Kea's client-class expression language (the `test` of a
//! class) that boot-loader configurations use: `option[N].hex`,
//! `option[N].text`, `option[N].exists`, `substring(…, start, length)`,
//! `pkt4.mac`, string and hex literals, `==`, `and`, `or`, `not`,
//! `member('class')` and parentheses. Anything else is an error naming the
//! construct.

/// A parsed test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    /// `a == b`.
    Eq(Value, Value),
    /// `a and b`.
    And(Box<Expr>, Box<Expr>),
    /// `a or b`.
    Or(Box<Expr>, Box<Expr>),
    /// `not a`.
    Not(Box<Expr>),
    /// `member('name')`.
    Member(String),
    /// `option[N].exists`.
    Exists(u8),
}

/// A value in a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// `option[N].hex` or `option[N].text`: the option's payload.
    Option(u8),
    /// `substring(v, start, length)`; `None` is `'all'`.
    Substring(Box<Value>, usize, Option<usize>),
    /// `pkt4.mac`.
    Mac,
    /// A string or hex literal.
    Bytes(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Int(u64),
    Str(String),
    Hex(Vec<u8>),
    Punct(&'static str),
}

fn tokens(text: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let end = chars[i + 1..]
                .iter()
                .position(|&d| d == '\'')
                .ok_or("unterminated string literal")?;
            out.push(Tok::Str(chars[i + 1..i + 1 + end].iter().collect()));
            i += end + 2;
        } else if c == '0' && matches!(chars.get(i + 1), Some('x' | 'X')) {
            let digits: String = chars[i + 2..]
                .iter()
                .take_while(|d| d.is_ascii_hexdigit())
                .collect();
            if digits.is_empty() {
                return Err("hex literal without digits".to_owned());
            }
            i += 2 + digits.len();
            let padded = if digits.len() % 2 == 1 {
                format!("0{digits}")
            } else {
                digits
            };
            let bytes = (0..padded.len())
                .step_by(2)
                .map(|k| u8::from_str_radix(&padded[k..k + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|e| e.to_string())?;
            out.push(Tok::Hex(bytes));
        } else if c.is_ascii_digit() {
            let digits: String = chars[i..]
                .iter()
                .take_while(|d| d.is_ascii_digit())
                .collect();
            i += digits.len();
            out.push(Tok::Int(digits.parse().map_err(|_| "integer too large")?));
        } else if c.is_ascii_alphabetic() {
            let word: String = chars[i..]
                .iter()
                .take_while(|d| d.is_ascii_alphanumeric() || **d == '_' || **d == '-')
                .collect();
            i += word.len();
            out.push(Tok::Word(word));
        } else if c == '=' && chars.get(i + 1) == Some(&'=') {
            out.push(Tok::Punct("=="));
            i += 2;
        } else {
            let p = match c {
                '(' => "(",
                ')' => ")",
                '[' => "[",
                ']' => "]",
                ',' => ",",
                '.' => ".",
                _ => return Err(format!("unexpected character {c:?}")),
            };
            out.push(Tok::Punct(p));
            i += 1;
        }
    }
    Ok(out)
}

/// Parses a test; `option_code` resolves option names (`option[host-name]`).
pub(crate) fn parse(text: &str, option_code: &dyn Fn(&str) -> Option<u8>) -> Result<Expr, String> {
    let toks = tokens(text)?;
    let mut p = Parser {
        toks,
        at: 0,
        option_code,
    };
    let e = p.or()?;
    match p.toks.get(p.at) {
        None => Ok(e),
        Some(t) => Err(format!("unexpected {} after the expression", show(t))),
    }
}

fn show(t: &Tok) -> String {
    match t {
        Tok::Word(w) => format!("`{w}`"),
        Tok::Int(n) => format!("`{n}`"),
        Tok::Str(s) => format!("'{s}'"),
        Tok::Hex(_) => "hex literal".to_owned(),
        Tok::Punct(p) => format!("`{p}`"),
    }
}

struct Parser<'a> {
    toks: Vec<Tok>,
    at: usize,
    option_code: &'a dyn Fn(&str) -> Option<u8>,
}

impl Parser<'_> {
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn peek_word(&self, w: &str) -> bool {
        matches!(self.toks.get(self.at), Some(Tok::Word(x)) if x == w)
    }

    fn expect(&mut self, p: &'static str) -> Result<(), String> {
        match self.next() {
            Some(Tok::Punct(q)) if q == p => Ok(()),
            Some(t) => Err(format!("expected `{p}`, found {}", show(&t))),
            None => Err(format!("expected `{p}` at the end")),
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut e = self.and()?;
        while self.peek_word("or") {
            self.at += 1;
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut e = self.not()?;
        while self.peek_word("and") {
            self.at += 1;
            e = Expr::And(Box::new(e), Box::new(self.not()?));
        }
        Ok(e)
    }

    fn not(&mut self) -> Result<Expr, String> {
        if self.peek_word("not") {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, String> {
        if self.toks.get(self.at) == Some(&Tok::Punct("(")) {
            self.at += 1;
            let e = self.or()?;
            self.expect(")")?;
            return Ok(e);
        }
        if self.peek_word("member") {
            self.at += 1;
            self.expect("(")?;
            let name = match self.next() {
                Some(Tok::Str(s)) => s,
                _ => return Err("member() takes a class name in quotes".to_owned()),
            };
            self.expect(")")?;
            return Ok(Expr::Member(name));
        }
        let start = self.at;
        if self.peek_word("option") {
            let code = self.option_ref()?;
            if self.peek_word("exists") {
                self.at += 1;
                return Ok(Expr::Exists(code));
            }
            self.at = start;
        }
        let a = self.value()?;
        self.expect("==")?;
        let b = self.value()?;
        Ok(Expr::Eq(a, b))
    }

    /// `option[N]` or `option[name]`, then the `.`.
    fn option_ref(&mut self) -> Result<u8, String> {
        self.at += 1;
        self.expect("[")?;
        let code = match self.next() {
            Some(Tok::Int(n)) => {
                u8::try_from(n).map_err(|_| format!("option code {n} is over 255"))?
            }
            Some(Tok::Word(w)) => {
                (self.option_code)(&w).ok_or(format!("unknown option name `{w}`"))?
            }
            _ => return Err("expected an option code or name in option[…]".to_owned()),
        };
        self.expect("]")?;
        self.expect(".")?;
        Ok(code)
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Value::Bytes(s.into_bytes())),
            Some(Tok::Hex(b)) => Ok(Value::Bytes(b)),
            Some(Tok::Word(w)) if w == "option" => {
                self.at -= 1;
                let code = self.option_ref()?;
                match self.next() {
                    Some(Tok::Word(r)) if r == "hex" || r == "text" => Ok(Value::Option(code)),
                    Some(t) => Err(format!(
                        "option[{code}].{}: only .hex, .text and .exists are supported",
                        match t {
                            Tok::Word(w) => w,
                            other => show(&other),
                        }
                    )),
                    None => Err(format!("option[{code}]. without a field")),
                }
            }
            Some(Tok::Word(w)) if w == "pkt4" => {
                self.expect(".")?;
                match self.next() {
                    Some(Tok::Word(f)) if f == "mac" => Ok(Value::Mac),
                    Some(Tok::Word(f)) => Err(format!("unsupported expression `pkt4.{f}`")),
                    _ => Err("expected a field after pkt4.".to_owned()),
                }
            }
            Some(Tok::Word(w)) if w == "substring" => {
                self.expect("(")?;
                let inner = self.value()?;
                self.expect(",")?;
                let start = match self.next() {
                    Some(Tok::Int(n)) => usize::try_from(n).map_err(|e| e.to_string())?,
                    _ => {
                        return Err(
                            "substring(): the start must be a non-negative integer".to_owned()
                        );
                    }
                };
                self.expect(",")?;
                let len = match self.next() {
                    Some(Tok::Int(n)) => Some(usize::try_from(n).map_err(|e| e.to_string())?),
                    Some(Tok::Str(s)) if s == "all" => None,
                    _ => {
                        return Err(
                            "substring(): the length must be an integer or 'all'".to_owned()
                        );
                    }
                };
                self.expect(")")?;
                Ok(Value::Substring(Box::new(inner), start, len))
            }
            Some(Tok::Word(w)) => Err(format!("unsupported expression `{w}`")),
            Some(t) => Err(format!("expected a value, found {}", show(&t))),
            None => Err("expected a value at the end".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Expr, String> {
        parse(s, &|n| (n == "vendor-class-identifier").then_some(60))
    }

    #[test]
    fn arch_test() {
        assert_eq!(
            p("option[93].hex == 0x0007"),
            Ok(Expr::Eq(Value::Option(93), Value::Bytes(vec![0, 7])))
        );
    }

    #[test]
    fn precedence_and_names() {
        let e = p("not member('a') and substring(option[vendor-class-identifier].hex,0,9) == 'PXEClient' or option[175].exists").unwrap();
        let Expr::Or(l, r) = e else { panic!() };
        assert_eq!(*r, Expr::Exists(175));
        let Expr::And(a, b) = *l else { panic!() };
        assert_eq!(*a, Expr::Not(Box::new(Expr::Member("a".into()))));
        assert_eq!(
            *b,
            Expr::Eq(
                Value::Substring(Box::new(Value::Option(60)), 0, Some(9)),
                Value::Bytes(b"PXEClient".to_vec())
            )
        );
    }

    #[test]
    fn refusals_name_the_construct() {
        assert_eq!(
            p("pkt4.giaddr == 0x0a000001"),
            Err("unsupported expression `pkt4.giaddr`".into())
        );
        assert_eq!(
            p("concat('a','b') == 'ab'"),
            Err("unsupported expression `concat`".into())
        );
        assert!(p("option[93].hex == ").is_err());
        assert!(p("'abc").is_err());
    }
}
