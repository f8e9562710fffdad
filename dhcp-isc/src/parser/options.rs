//! Option statements: names resolved against the standard and defined
//! spaces, option definitions (`code N = …` formats) and typed values.

use super::*;

impl Parser {
    pub(super) fn option_name(&mut self) -> R<(Pos, String, String)> {
        let (pos, w) = self.word("an option name")?;
        Ok(match w.split_once('.') {
            Some((space, name)) => (pos, space.to_owned(), name.to_owned()),
            None => (pos, "dhcp".to_owned(), w),
        })
    }

    /// Resolves `space.name` to its code and format.
    pub(super) fn resolve(&self, pos: Pos, space: &str, name: &str) -> R<(OptionRef, Format)> {
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

    pub(super) fn option_statement(&mut self, pos: Pos) -> R<StmtKind> {
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

    pub(super) fn format(&mut self) -> R<Format> {
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

    pub(super) fn values(&mut self, opt: &OptionRef, format: &Format) -> R<Vec<Value>> {
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
}
