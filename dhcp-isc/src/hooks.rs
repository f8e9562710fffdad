//! Evaluating `on commit / release / expiry` hooks (dhcp-eval(5)) for one
//! lease event: `set`, `if … elsif … else`, and the programs `execute(…)`
//! asks for, with their arguments evaluated. Sans-IO: the daemon runs the
//! programs (off the path of the reply, with bounded concurrency).
//!
//! MAAS's own notify helper is recognised ([`is_maas_notify`]): the daemon
//! sends the datagram that helper would send itself, so that program is not
//! run.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use crate::EventHook;
use crate::ast::{Action, Event, Expr};

/// What an expression may read about the lease event.
#[derive(Debug, Clone, Copy)]
pub struct HookContext<'a> {
    /// `hardware`: the hardware type byte followed by the address.
    pub hardware: &'a [u8],
    /// `leased-address`.
    pub leased_address: Ipv4Addr,
    /// `lease-time` in seconds (commits only).
    pub lease_time: Option<u32>,
    /// The options of the client's message, by code (dhcp space).
    pub options: &'a [(u8, Vec<u8>)],
}

/// One program to run: the evaluated `execute(…)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The program (a path; not run through a shell).
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
}

/// Whether `execute(program, args…)` is MAAS's lease notifier
/// (`maas-dhcp-helper notify … --socket PATH`), whose datagram the daemon
/// sends itself.
pub fn is_maas_notify(program: &Expr, args: &[Expr]) -> bool {
    let Expr::Str(p) = program else {
        return false;
    };
    p.rsplit('/').next() == Some("maas-dhcp-helper")
        && args.first() == Some(&Expr::Str("notify".into()))
        && args.contains(&Expr::Str("--socket".into()))
}

/// Whether any hook runs a program other than MAAS's notifier for `event`.
pub fn runs_programs(hooks: &[EventHook], event: Event) -> bool {
    fn any(actions: &[Action]) -> bool {
        actions.iter().any(|a| match a {
            Action::Execute { program, args } => !is_maas_notify(program, args),
            Action::If {
                branches,
                otherwise,
            } => branches.iter().any(|(_, b)| any(b)) || any(otherwise),
            Action::Set { .. } => false,
        })
    }
    hooks
        .iter()
        .filter(|h| h.events.contains(&event))
        .any(|h| any(&h.actions))
}

/// The programs the hooks for `event` run (in order), MAAS's notifier
/// left out. Variables set by one hook are seen by the later ones of the
/// same event, as in ISC.
pub fn invocations(hooks: &[EventHook], event: Event, ctx: &HookContext<'_>) -> Vec<Invocation> {
    let mut vars = HashMap::new();
    let mut out = Vec::new();
    for h in hooks.iter().filter(|h| h.events.contains(&event)) {
        run(&h.actions, ctx, &mut vars, &mut out);
    }
    out
}

type Vars = HashMap<String, Option<Vec<u8>>>;

fn run(actions: &[Action], ctx: &HookContext<'_>, vars: &mut Vars, out: &mut Vec<Invocation>) {
    for a in actions {
        match a {
            Action::Set { name, value } => {
                let v = data(value, ctx, vars);
                vars.insert(name.clone(), v);
            }
            Action::Execute { program, args } => {
                if is_maas_notify(program, args) {
                    continue;
                }
                let text = |e: &Expr| {
                    data(e, ctx, vars)
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default()
                };
                out.push(Invocation {
                    program: text(program),
                    args: args.iter().map(text).collect(),
                });
            }
            Action::If {
                branches,
                otherwise,
            } => {
                let taken = branches
                    .iter()
                    .find(|(cond, _)| boolean(cond, ctx, vars))
                    .map_or(otherwise.as_slice(), |(_, body)| body.as_slice());
                run(taken, ctx, vars, out);
            }
        }
    }
}

/// A data expression; `None` is ISC's null.
fn data(e: &Expr, ctx: &HookContext<'_>, vars: &Vars) -> Option<Vec<u8>> {
    match e {
        Expr::Str(s) => Some(s.as_bytes().to_vec()),
        Expr::Hex(b) => Some(b.clone()),
        Expr::Option(r) if r.space == "dhcp" => {
            let code = u8::try_from(r.code).ok()?;
            ctx.options
                .iter()
                .find(|(c, _)| *c == code)
                .map(|(_, v)| v.clone())
        }
        Expr::Variable(v) => vars.get(v).cloned().flatten(),
        Expr::Substring(d, off, len) => {
            let d = data(d, ctx, vars)?;
            let off = usize::try_from(number(off, ctx, vars)?).ok()?;
            let len = usize::try_from(number(len, ctx, vars)?).ok()?;
            let start = off.min(d.len());
            let end = start.saturating_add(len).min(d.len());
            Some(d[start..end].to_vec())
        }
        Expr::Concat(parts) => {
            let mut v = Vec::new();
            for p in parts {
                v.extend(data(p, ctx, vars)?);
            }
            Some(v)
        }
        Expr::BinaryToAscii(base, width, sep, d) => {
            let base = u32::try_from(number(base, ctx, vars)?).ok()?;
            let width = number(width, ctx, vars)?;
            let sep = String::from_utf8_lossy(&data(sep, ctx, vars)?).into_owned();
            let d = data(d, ctx, vars)?;
            binary_to_ascii(base, width, &sep, &d).map(String::into_bytes)
        }
        Expr::EncodeInt(n, width) => {
            let n = number(n, ctx, vars)?;
            match number(width, ctx, vars)? {
                8 => Some(vec![n as u8]),
                16 => Some((n as u16).to_be_bytes().to_vec()),
                32 => Some((n as u32).to_be_bytes().to_vec()),
                _ => None,
            }
        }
        Expr::PickFirstValue(list) => list
            .iter()
            .filter_map(|x| data(x, ctx, vars))
            .find(|v| !v.is_empty()),
        Expr::LeasedAddress => Some(ctx.leased_address.octets().to_vec()),
        Expr::Hardware => Some(ctx.hardware.to_vec()),
        _ => None,
    }
}

fn number(e: &Expr, ctx: &HookContext<'_>, vars: &Vars) -> Option<u64> {
    match e {
        Expr::Num(n) => Some(*n),
        Expr::LeaseTime => ctx.lease_time.map(u64::from),
        Expr::Variable(_) => {
            // A number kept in a variable is its encoded bytes.
            let b = data(e, ctx, vars)?;
            (b.len() <= 8).then(|| b.iter().fold(0u64, |n, x| n << 8 | u64::from(*x)))
        }
        _ => None,
    }
}

fn boolean(e: &Expr, ctx: &HookContext<'_>, vars: &Vars) -> bool {
    match e {
        Expr::Equal(a, b) => data(a, ctx, vars).is_some_and(|x| Some(x) == data(b, ctx, vars)),
        Expr::NotEqual(a, b) => match (data(a, ctx, vars), data(b, ctx, vars)) {
            (Some(x), Some(y)) => x != y,
            _ => false,
        },
        Expr::And(a, b) => boolean(a, ctx, vars) && boolean(b, ctx, vars),
        Expr::Or(a, b) => boolean(a, ctx, vars) || boolean(b, ctx, vars),
        Expr::Not(a) => !boolean(a, ctx, vars),
        Expr::Exists(r) => {
            r.space == "dhcp"
                && u8::try_from(r.code).is_ok_and(|c| ctx.options.iter().any(|(x, _)| *x == c))
        }
        _ => false,
    }
}

/// dhcp-eval(5) `binary-to-ascii`: `data` cut into `width`-bit numbers (8,
/// 16 or 32), each written in `base` (2 to 16) without padding, joined by
/// `sep`.
fn binary_to_ascii(base: u32, width: u64, sep: &str, d: &[u8]) -> Option<String> {
    let step = match width {
        8 => 1,
        16 => 2,
        32 => 4,
        _ => return None,
    };
    if !(2..=16).contains(&base) {
        return None;
    }
    let mut parts = Vec::new();
    for chunk in d.chunks(step) {
        if chunk.len() < step {
            break;
        }
        let n = chunk.iter().fold(0u32, |n, x| n << 8 | u32::from(*x));
        parts.push(in_base(n, base));
    }
    Some(parts.join(sep))
}

fn in_base(mut n: u32, base: u32) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    if n == 0 {
        return "0".into();
    }
    let mut s = Vec::new();
    while n > 0 {
        s.push(DIGITS[(n % base) as usize]);
        n /= base;
    }
    s.reverse();
    String::from_utf8_lossy(&s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hooks(text: &str) -> Vec<EventHook> {
        let conf = format!("subnet 10.99.0.0 netmask 255.255.255.0 {{ }}\n{text}");
        crate::parse_str(&conf, "test.conf").unwrap().extras.events
    }

    fn ctx(options: &[(u8, Vec<u8>)]) -> HookContext<'_> {
        HookContext {
            hardware: &[1, 0x52, 0x54, 0, 0x0a, 0xbb, 0x07],
            leased_address: Ipv4Addr::new(10, 99, 0, 160),
            lease_time: Some(30),
            options,
        }
    }

    #[test]
    fn maas_style_arguments_evaluate_as_isc_prints_them() {
        let h = hooks(
            r#"on commit {
                set clhw = binary-to-ascii(16, 8, ":", substring(hardware, 1, 6));
                set clip = binary-to-ascii(10, 8, ".", leased-address);
                set cllt = binary-to-ascii(10, 32, "", encode-int(lease-time, 32));
                set clht = pick-first-value(option host-name, "(none)");
                execute("/usr/local/bin/lease-log", "commit", clhw, clip, cllt, clht);
                execute("/usr/sbin/maas-dhcp-helper", "notify", "--socket", "/x.sock");
            }"#,
        );
        let opts = [(12, b"node01".to_vec())];
        let got = invocations(&h, Event::Commit, &ctx(&opts));
        assert_eq!(
            got,
            [Invocation {
                program: "/usr/local/bin/lease-log".into(),
                args: ["commit", "52:54:0:a:bb:7", "10.99.0.160", "30", "node01"]
                    .map(String::from)
                    .to_vec(),
            }]
        );
        // No host name: the fallback; other events run nothing.
        let got = invocations(&h, Event::Commit, &ctx(&[]));
        assert_eq!(got[0].args[4], "(none)");
        assert!(invocations(&h, Event::Expiry, &ctx(&[])).is_empty());
        assert!(runs_programs(&h, Event::Commit));
        assert!(!runs_programs(&h, Event::Release));
    }

    #[test]
    fn conditions_choose_what_runs() {
        let h = hooks(
            r#"on commit or release {
                if exists host-name and option host-name = "a" {
                    execute("/bin/a");
                } elsif not exists host-name {
                    execute("/bin/none", concat("x", "y"), substring("abcdef", 2, 10));
                } else {
                    execute("/bin/other");
                }
            }"#,
        );
        let run = |opts: &[(u8, Vec<u8>)]| invocations(&h, Event::Release, &ctx(opts));
        assert_eq!(run(&[(12, b"a".to_vec())])[0].program, "/bin/a");
        assert_eq!(run(&[(12, b"b".to_vec())])[0].program, "/bin/other");
        let none = run(&[]);
        assert_eq!(none[0].program, "/bin/none");
        assert_eq!(none[0].args, ["xy", "cdef"]);
    }

    #[test]
    fn maas_notify_only_is_not_a_program_to_run() {
        let h = hooks(
            r#"on expiry {
                execute("/usr/sbin/maas-dhcp-helper", "notify", "--action", "expiry", "--socket", "/var/lib/maas/dhcpd.sock");
            }"#,
        );
        assert!(!runs_programs(&h, Event::Expiry));
        assert!(invocations(&h, Event::Expiry, &ctx(&[])).is_empty());
    }

    #[test]
    fn binary_to_ascii_widths_and_bases() {
        assert_eq!(
            binary_to_ascii(16, 16, "-", &[0x12, 0x34, 0, 1]).unwrap(),
            "1234-1"
        );
        assert_eq!(binary_to_ascii(2, 8, "", &[5]).unwrap(), "101");
        assert!(binary_to_ascii(16, 12, "", &[1]).is_none());
        assert!(binary_to_ascii(1, 8, "", &[1]).is_none());
    }
}
