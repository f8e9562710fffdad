//! Reads an ISC dhcpd 4.4 configuration (`dhcpd.conf`), the subset MAAS
//! renders, into the `dhcp_core` configuration model, so the engine has one
//! code path whatever the file format. What the model has no room for but
//! the daemon needs (OMAPI port and keys, the `on commit`/`on release`/`on
//! expiry` actions, option definitions, `ping-check`) comes alongside as
//! [`IscExtras`].
//!
//! [`hooks`] evaluates the event hooks for one lease event into the
//! programs they run.
//!
//! Anything outside the supported subset is an error naming the file, line,
//! column and statement; nothing is ignored silently. Errors also render in
//! ISC's own shape ([`IscError::isc_render`]). `docs/isc-config.md` lists
//! what is supported and what is refused.
//!
//! ```
//! let text = "subnet 10.99.0.0 netmask 255.255.255.0 { range 10.99.0.100 10.99.0.200; }\n";
//! let parsed = dhcp_isc::parse_str(text, "dhcpd.conf").unwrap();
//! assert_eq!(parsed.config.subnets.len(), 1);
//! ```

#![warn(clippy::unwrap_used, clippy::expect_used)]

pub mod ast;
mod convert;
mod display;
mod error;
pub mod hooks;
mod lexer;
mod options;
mod parser;

use std::path::Path;

use dhcp_core::config::{Config, ConfigError};

pub use ast::{Action, Event, Expr, Format, OptionRef};
pub use error::{Diagnostic, ErrorKind, IscError, Pos};

/// An OMAPI key (`key NAME { algorithm …; secret …; }`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OmapiKey {
    /// Key name.
    pub name: String,
    /// Algorithm, lower-cased (`hmac-md5` for MAAS).
    pub algorithm: String,
    /// The secret, base64 as written (validated).
    pub secret: String,
}

/// `on commit|release|expiry { … }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventHook {
    /// The events that run the actions.
    pub events: Vec<Event>,
    /// The actions, in order.
    pub actions: Vec<Action>,
}

/// `option NAME code N = TYPE;`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionDefinition {
    /// The space (`dhcp` for top-level options).
    pub space: String,
    /// The name.
    pub name: String,
    /// The code.
    pub code: u32,
    /// The value type.
    pub format: Format,
}

/// `option space NAME …;`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionSpaceDef {
    /// The space name.
    pub name: String,
    /// Bytes per option code.
    pub code_width: u8,
    /// Bytes per option length.
    pub length_width: u8,
}

/// What an ISC file says that the configuration model does not hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IscExtras {
    /// `omapi-port N;`
    pub omapi_port: Option<u16>,
    /// Keys, in order.
    pub keys: Vec<OmapiKey>,
    /// `omapi-key NAME;`: the key OMAPI requires.
    pub omapi_key: Option<String>,
    /// Lease event hooks, in order.
    pub events: Vec<EventHook>,
    /// `ping-check` (recorded; the engine sends no ICMP probe).
    pub ping_check: Option<bool>,
    /// Option definitions, in order.
    pub option_definitions: Vec<OptionDefinition>,
    /// Option spaces, in order.
    pub option_spaces: Vec<OptionSpaceDef>,
    /// `allow`/`deny`/`ignore` statements accepted because they state what
    /// the server always does, with the reason.
    pub acknowledged: Vec<String>,
}

/// A parsed and validated ISC configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct IscConfig {
    /// The equivalent configuration in our model (validated).
    pub config: Config,
    /// The ISC-only settings.
    pub extras: IscExtras,
    /// The files read, main file first, then includes in order.
    pub files: Vec<String>,
}

/// Reads, parses and validates the ISC file at `path`, following includes
/// (a relative include is taken relative to the including file's directory).
pub fn parse_file(path: &Path) -> Result<IscConfig, IscError> {
    let text = std::fs::read_to_string(path).map_err(|source| IscError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_impl(
        &text,
        &path.display().to_string(),
        path.parent().map(Path::to_owned),
        read_file,
    )
}

/// Parses and validates ISC text; `name` names it in errors. Relative
/// includes are taken relative to the current directory.
pub fn parse_str(text: &str, name: &str) -> Result<IscConfig, IscError> {
    parse_impl(text, name, None, read_file)
}

/// How an `include "FILE";` is read: the path (relative ones already joined
/// to the including file's directory) to its text. An error becomes the
/// include's error.
pub type IncludeReader = fn(&Path) -> std::io::Result<String>;

/// [`parse_str`] with includes read by `read` instead of from the file
/// system: a reader that always fails keeps untrusted text from reading
/// any file (the fuzz target does this).
pub fn parse_str_with(text: &str, name: &str, read: IncludeReader) -> Result<IscConfig, IscError> {
    parse_impl(text, name, None, read)
}

fn read_file(path: &Path) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}

fn parse_impl(
    text: &str,
    name: &str,
    dir: Option<std::path::PathBuf>,
    read: IncludeReader,
) -> Result<IscConfig, IscError> {
    let mut sources = vec![parser::Source {
        name: name.to_owned(),
        text: text.to_owned(),
    }];
    let mut parser = match parser::Parser::new(name, text.to_owned(), dir, read) {
        Ok(p) => p,
        Err(e) => return Err(locate(&sources, e)),
    };
    let stmts = parser.statements(false);
    sources = std::mem::take(&mut parser.sources);
    let stmts = stmts.map_err(|e| locate(&sources, e))?;
    let mut conv = convert::Converter::new();
    conv.global(&stmts).map_err(|e| locate(&sources, e))?;
    let paths = std::mem::take(&mut conv.paths);
    let (config, extras) = conv.finish();
    if let Err(e) = config.validate() {
        return Err(model_error(&sources, &paths, e));
    }
    Ok(IscConfig {
        config,
        extras,
        files: sources.into_iter().map(|s| s.name).collect(),
    })
}

fn locate(sources: &[parser::Source], e: error::Located) -> IscError {
    let src = sources.get(e.pos.file);
    let line_text = src
        .and_then(|s| {
            s.text
                .lines()
                .nth(usize::try_from(e.pos.line.saturating_sub(1)).unwrap_or(usize::MAX))
        })
        .unwrap_or("")
        .to_owned();
    IscError::At(Box::new(Diagnostic {
        kind: e.kind,
        file: src.map(|s| s.name.clone()).unwrap_or_default(),
        line: e.pos.line,
        column: e.pos.column,
        message: e.message,
        line_text,
    }))
}

/// A model validation error, placed at the statement its key path came from.
fn model_error(sources: &[parser::Source], paths: &[(String, Pos)], e: ConfigError) -> IscError {
    match e.locate(paths) {
        Some((pos, path, reason)) => locate(
            sources,
            error::Located::new(*pos, ErrorKind::Invalid, format!("{reason} ({path})")),
        ),
        None => IscError::Model(e),
    }
}

impl IscConfig {
    /// The configuration as our TOML (what `dhcpd import-isc` prints). The
    /// ISC-only settings follow as comments: they are not part of the TOML
    /// model.
    pub fn to_toml(&self) -> Result<String, IscError> {
        let body = toml::to_string(&self.config).map_err(|e| {
            IscError::Model(ConfigError::Invalid {
                path: String::new(),
                reason: format!("cannot write TOML: {e}"),
            })
        })?;
        let mut out = String::from("# Converted from ISC dhcpd configuration");
        for f in &self.files {
            out.push_str(&format!("\n#   {f}"));
        }
        out.push('\n');
        let x = &self.extras;
        let mut notes = Vec::new();
        if let Some(p) = x.omapi_port {
            notes.push(format!("omapi-port {p}"));
        }
        for k in &x.keys {
            notes.push(format!(
                "key {} algorithm {} (secret of {} base64 characters)",
                k.name,
                k.algorithm,
                k.secret.len()
            ));
        }
        if let Some(k) = &x.omapi_key {
            notes.push(format!("omapi-key {k}"));
        }
        if let Some(p) = x.ping_check {
            notes.push(format!("ping-check {p}"));
        }
        for s in &x.option_spaces {
            notes.push(format!(
                "option space {} code width {} length width {}",
                s.name, s.code_width, s.length_width
            ));
        }
        for d in &x.option_definitions {
            let name = if d.space == "dhcp" {
                d.name.clone()
            } else {
                format!("{}.{}", d.space, d.name)
            };
            notes.push(format!("option {name} code {} = {};", d.code, d.format));
        }
        for h in &x.events {
            let ev: Vec<String> = h
                .events
                .iter()
                .map(|e| format!("{e:?}").to_lowercase())
                .collect();
            notes.push(format!("on {} {{", ev.join(" or ")));
            for a in &h.actions {
                notes.push(format!("  {a}"));
            }
            notes.push("}".to_owned());
        }
        for a in &x.acknowledged {
            notes.push(a.clone());
        }
        if !notes.is_empty() {
            out.push_str("# ISC-only settings (served by the daemon, not part of this file):\n");
            for n in notes {
                out.push_str(&format!("#   {n}\n"));
            }
        }
        out.push('\n');
        out.push_str(&body);
        Ok(out)
    }
}
