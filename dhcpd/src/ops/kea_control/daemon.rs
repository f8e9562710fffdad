//! The commands every Kea server answers: `list-commands`, `version-get`,
//! `status-get`, the `config-*` family and `shutdown`.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::context::{After, KeaContext};
use super::wire::{Answer, ERROR, SUCCESS};
use crate::clock::unix_now;

/// Answers the daemon command `name`.
pub async fn answer(ctx: &KeaContext, name: &str, args: Option<&Value>) -> (Answer, After) {
    let answer = match name {
        "list-commands" => Answer::arguments(json!(ctx.offered())),
        "version-get" => version(),
        "status-get" => status(ctx),
        "config-get" => config_get(ctx),
        "config-test" => config_test(args),
        "config-reload" => config_reload(ctx).await,
        "config-write" => config_write(ctx, args),
        "shutdown" => {
            tracing::warn!("shutdown requested over the Kea control socket");
            return (Answer::text(SUCCESS, "Shutting down."), After::Shutdown);
        }
        other => Answer::unsupported(other),
    };
    (answer, After::Continue)
}

fn version() -> Answer {
    let v = env!("CARGO_PKG_VERSION");
    Answer::with(
        SUCCESS,
        v,
        json!({ "extended": format!("{v}\ndhcp-failover-server (dhcpd), Kea control channel\nlease store: journal") }),
    )
}

/// `status-get`: Kea's figures, and `high-availability` when the HA hook is
/// loaded.
fn status(ctx: &KeaContext) -> Answer {
    let uptime = unix_now().saturating_sub(ctx.control.info.started);
    let mut args = json!({
        "pid": std::process::id(),
        "uptime": uptime,
        "reload": ctx.since_reload(),
        "multi-threading-enabled": false,
        "sockets": { "status": "ready" },
    });
    if let Some(ha) = super::ha::status(ctx)
        && let Some(m) = args.as_object_mut()
    {
        m.insert("high-availability".to_owned(), json!([ha]));
    }
    Answer::arguments(args)
}

/// `config-get`: the file as written (comments dropped, includes expanded).
fn config_get(ctx: &KeaContext) -> Answer {
    let text = match std::fs::read_to_string(&ctx.config_path) {
        Ok(t) => t,
        Err(e) => {
            return Answer::error(format!("cannot read {}: {e}", ctx.config_path.display()));
        }
    };
    match dhcp_kea::to_value(&text, &ctx.config_path.display().to_string()) {
        Ok(v) => Answer::arguments(v),
        Err(e) => Answer::error(e.to_string()),
    }
}

/// `config-test`: the arguments (`{"Dhcp4": ...}`) checked as a file.
fn config_test(args: Option<&Value>) -> Answer {
    let Some(v @ Value::Object(_)) = args else {
        return Answer::error("Missing mandatory 'arguments' parameter.");
    };
    match dhcp_kea::parse_str(&v.to_string(), "<wire>") {
        Ok(_) => Answer::text(
            SUCCESS,
            "Configuration seems sane. Control-socket, hook-libraries, and D2 configuration were sanity checked, but not applied.",
        ),
        Err(e) => Answer::error(e.to_string()),
    }
}

/// `config-reload`: the file re-read and applied, as on SIGHUP.
async fn config_reload(ctx: &KeaContext) -> Answer {
    tracing::info!("reload requested over the Kea control socket");
    let record = ctx.control.reloader.reload().await;
    if record.ok {
        ctx.refresh();
        Answer::text(SUCCESS, "Configuration successful.")
    } else {
        Answer::error(record.message)
    }
}

/// `config-write`: the running file written to `filename` (default: the
/// file itself).
fn config_write(ctx: &KeaContext, args: Option<&Value>) -> Answer {
    let target = match args
        .and_then(|a| a.get("filename"))
        .map(|f| f.as_str().map(PathBuf::from))
    {
        None => ctx.config_path.clone(),
        Some(Some(p)) => p,
        Some(None) => return Answer::error("'filename' parameter expected to be a string."),
    };
    let text = match std::fs::read_to_string(&ctx.config_path)
        .map_err(|e| e.to_string())
        .and_then(|t| {
            dhcp_kea::to_value(&t, &ctx.config_path.display().to_string())
                .map_err(|e| e.to_string())
        })
        .and_then(|v| serde_json::to_string_pretty(&v).map_err(|e| e.to_string()))
    {
        Ok(t) => t,
        Err(e) => return Answer::error(format!("Error during write-config:{e}")),
    };
    if let Err(e) = write_durably(&target, text.as_bytes()) {
        return Answer::text(
            ERROR,
            format!(
                "Error during write-config:Unable to open file {} for writing ({e})",
                target.display()
            ),
        );
    }
    Answer::with(
        SUCCESS,
        format!("Configuration written to {} successful", target.display()),
        json!({ "filename": target.display().to_string(), "size": text.len() }),
    )
}

/// Writes `bytes` to `path` through a temporary file and a rename, synced.
fn write_durably(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "no file name"))?;
    let tmp = dir.join(format!(".{}.tmp", name.to_string_lossy()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}
