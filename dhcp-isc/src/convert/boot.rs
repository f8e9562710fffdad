//! The boot chain: the `if … elsif … else` of MAAS's template into PXE
//! rules, their conditions, the option-55 append.

use super::*;

impl Converter {
    pub(super) fn boot_chain(&mut self, s: &Stmt, server: Option<Ipv4Addr>) -> R<()> {
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

    pub(super) fn rule(
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
            vendor_options: Vec::new(),
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
                StmtKind::OptionSet(o, _, d) if self.is_vivso(&o.space) => {
                    self.vendor_option(st.pos, o, d, &subst, &mut rule.vendor_options)?;
                }
                StmtKind::OptionSet(o, f, d) => {
                    if o.space != "dhcp" {
                        // Reports the space refusal.
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

    /// The space option 125 encapsulates (MAAS: `vivso`, whose codes are
    /// enterprise numbers).
    fn vivso_space(&self) -> Option<&str> {
        self.extras
            .option_definitions
            .iter()
            .find_map(|d| match &d.format {
                Format::Encapsulate(s) if d.space == "dhcp" && d.code == 125 => Some(s.as_str()),
                _ => None,
            })
    }

    /// The spaces options of the vivso space encapsulate, with their
    /// enterprise numbers (MAAS: `onie`, 42623). Definitions may come in
    /// any order, so this is worked out when the chain is read.
    fn vivso_encaps(&self) -> Vec<(&str, u32)> {
        let Some(vivso) = self.vivso_space() else {
            return Vec::new();
        };
        self.extras
            .option_definitions
            .iter()
            .filter_map(|d| match &d.format {
                Format::Encapsulate(s) if d.space == vivso => Some((s.as_str(), d.code)),
                _ => None,
            })
            .collect()
    }

    /// Whether `space` is option 125's (vivso) or one a vivso option
    /// encapsulates (onie).
    fn is_vivso(&self, space: &str) -> bool {
        self.vivso_space() == Some(space) || self.vivso_encaps().iter().any(|(s, _)| *s == space)
    }

    /// The widths a space was declared with (1 and 1 by default).
    fn widths(&self, space: &str) -> (u8, u8) {
        self.extras
            .option_spaces
            .iter()
            .find(|d| d.name == space)
            .map_or((1, 1), |d| (d.code_width, d.length_width))
    }

    /// `option vivso.X value;` (raw data of enterprise X) or `option
    /// onie.Y "text";` (sub-option Y of the enterprise that encapsulates
    /// onie) in a boot-chain branch: into the rule's option 125.
    fn vendor_option(
        &self,
        pos: Pos,
        o: &OptionRef,
        d: &OptionData,
        subst: &dyn Fn(&str) -> String,
        out: &mut Vec<VendorOptions>,
    ) -> R<()> {
        let refuse = |why: &str| {
            err(
                pos,
                ErrorKind::Unsupported,
                format!("option {}.{}: {why}", o.space, o.name),
            )
        };
        let vivso = self.vivso_space();
        let encaps = self.vivso_encaps();
        if vivso.is_some_and(|v| self.widths(v) != (4, 1)) {
            return refuse(
                "option 125's space must be declared with code width 4 and length width 1 (RFC 3925)",
            );
        }
        let entry = |out: &mut Vec<VendorOptions>, enterprise: u32| -> usize {
            if let Some(i) = out.iter().position(|v| v.enterprise == enterprise) {
                return i;
            }
            out.push(VendorOptions {
                enterprise,
                data: None,
                suboptions: Vec::new(),
            });
            out.len() - 1
        };
        let OptionData::Values(vals) = d else {
            return refuse("computed values are not supported in option 125");
        };
        if vivso == Some(o.space.as_str()) {
            if encaps.iter().any(|(_, c)| *c == o.code) {
                return refuse("an encapsulated space is set through its own options");
            }
            let bytes = match vals.as_slice() {
                [Value::Bytes(b)] => b.clone(),
                [Value::Text(t)] => t.as_bytes().to_vec(),
                _ => return refuse("raw vendor data must be a string or hex bytes"),
            };
            let i = entry(out, o.code);
            out[i].data = Some(format_hex(&bytes));
            return Ok(());
        }
        let Some((_, enterprise)) = encaps.iter().find(|(s, _)| *s == o.space) else {
            return refuse("not in option 125's space");
        };
        if self.widths(&o.space) != (1, 1) {
            return refuse("sub-option spaces of option 125 must have code and length width 1");
        }
        let (Ok(code), [Value::Text(t)]) = (u8::try_from(o.code), vals.as_slice()) else {
            return refuse("vendor sub-options must be text with a code below 256");
        };
        let i = entry(out, *enterprise);
        out[i].suboptions.retain(|s| s.code != code);
        out[i].suboptions.push(VendorSuboption {
            code,
            value: subst(t),
        });
        Ok(())
    }

    /// A branch condition as a PXE match.
    pub(super) fn condition(&self, pos: Pos, c: &Expr) -> R<PxeMatch> {
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
pub(super) fn append_request_list(e: &Expr, force: &mut Vec<u8>) -> Result<(), ()> {
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
pub(super) fn replace_addr(text: &str, addr: &str) -> String {
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
