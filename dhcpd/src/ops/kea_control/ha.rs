//! Kea's HA commands over our failover relationship: the state in Kea's
//! words (`load-balancing`, `hot-standby`, `partner-down`,
//! `partner-in-maintenance`, …), `ha-heartbeat`, the `high-availability`
//! part of `status-get` (also answered alone as `ha-status-get`), and
//! `ha-maintenance-start` / `-cancel` on [`crate::failover::status::FailoverOps::maintenance`].
//!
//! | ISC failover state | Kea HA state |
//! |---|---|
//! | normal | `load-balancing` or `hot-standby` (the mode); `partner-in-maintenance` once announced |
//! | communications-interrupted | the mode (the remote shows `communication-interrupted`) |
//! | partner-down | `partner-down` |
//! | startup, potential-conflict, conflict-done, resolution-interrupted | `waiting` |
//! | recover | `syncing` |
//! | recover-wait, recover-done | `ready` |
//! | shutdown, paused | `terminated` |

use dhcp_kea::HaNames;
use serde_json::{Value, json};

use super::context::KeaContext;
use super::wire::{Answer, ERROR, SUCCESS};
use crate::clock::unix_now;
use crate::failover::status::RelationshipStatus;

/// Answers the HA command `name`.
pub fn answer(ctx: &KeaContext, name: &str, _args: Option<&Value>) -> Answer {
    let Some(names) = ctx.kea().and_then(|k| k.extras.ha.clone()) else {
        return Answer::unsupported(name);
    };
    match name {
        "ha-heartbeat" => match relationship(ctx, &names) {
            Some(st) => Answer::with(
                SUCCESS,
                "HA peer status returned.",
                json!({
                    "date-time": http_date(unix_now()),
                    "scopes": scopes(&names, &st.local_state, st.partner_maintenance, true),
                    "state": kea_state(&names.mode, &st.local_state, st.partner_maintenance),
                    "unsent-update-count": st.pending_updates + st.unacked_updates,
                }),
            ),
            None => not_running(&names),
        },
        "ha-status-get" => match status(ctx) {
            Some(ha) => Answer::with(
                SUCCESS,
                "HA peers status returned.",
                json!({ "high-availability": [ha] }),
            ),
            None => not_running(&names),
        },
        "ha-maintenance-start" | "ha-maintenance-cancel" => {
            let start = name == "ha-maintenance-start";
            match ctx
                .control
                .failover
                .maintenance(Some(&names.relationship), start)
            {
                Ok(message) => {
                    tracing::warn!(%message, command = name, "partner maintenance over the Kea control socket");
                    Answer::text(
                        SUCCESS,
                        if start {
                            "Server is now in the partner-in-maintenance state and its partner is in-maintenance state. The partner can be now safely shut down."
                        } else {
                            "Server maintenance successfully canceled."
                        },
                    )
                }
                Err(e) => Answer::text(ERROR, e.to_string()),
            }
        }
        other => Answer::unsupported(other),
    }
}

fn not_running(names: &HaNames) -> Answer {
    Answer::error(format!(
        "failover relationship {:?} is not running",
        names.relationship
    ))
}

fn relationship(ctx: &KeaContext, names: &HaNames) -> Option<RelationshipStatus> {
    ctx.control
        .failover
        .status()
        .into_iter()
        .find(|r| r.name == names.relationship)
}

/// The `high-availability` entry of `status-get`, when HA is configured and
/// its relationship runs.
pub fn status(ctx: &KeaContext) -> Option<Value> {
    let names = ctx.kea()?.extras.ha.clone()?;
    let st = relationship(ctx, &names)?;
    let now = unix_now();
    let partner = st.partner_state.as_deref();
    Some(json!({
        "ha-mode": names.mode,
        "ha-servers": {
            "local": {
                "role": names.this_role,
                "scopes": scopes(&names, &st.local_state, st.partner_maintenance, true),
                "state": kea_state(&names.mode, &st.local_state, st.partner_maintenance),
            },
            "remote": {
                "age": st.last_contact.map_or(0, |t| now.saturating_sub(t)),
                "analyzed-packets": 0,
                "communication-interrupted": !st.connected,
                "connecting-clients": 0,
                "in-touch": st.last_contact.is_some(),
                "last-scopes": partner.map_or_else(Vec::new, |p| scopes(&names, p, false, false)),
                "last-state": if st.connected {
                    partner.map_or("waiting", |p| kea_state(&names.mode, p, false))
                } else {
                    "unavailable"
                },
                "role": names.partner_role,
                "unacked-clients": 0,
                "unacked-clients-left": 0,
            },
        },
    }))
}

/// An ISC failover state in Kea's HA words (the table above).
pub fn kea_state(mode: &str, isc: &str, maintenance: bool) -> &'static str {
    match isc {
        "normal" if maintenance => "partner-in-maintenance",
        "normal" | "communications-interrupted" => {
            if mode == "hot-standby" {
                "hot-standby"
            } else {
                "load-balancing"
            }
        }
        "partner-down" => "partner-down",
        "recover" => "syncing",
        "recover-wait" | "recover-done" => "ready",
        "shutdown" | "paused" => "terminated",
        _ => "waiting",
    }
}

/// The scopes (server names whose clients it answers) of the side in
/// state `isc`: `local` for this server, else the partner.
fn scopes(names: &HaNames, isc: &str, maintenance: bool, local: bool) -> Vec<String> {
    let (me, other, my_role) = if local {
        (
            &names.this_server,
            &names.partner_server,
            names.this_role.as_str(),
        )
    } else {
        (
            &names.partner_server,
            &names.this_server,
            names.partner_role.as_str(),
        )
    };
    match kea_state(&names.mode, isc, maintenance) {
        "partner-down" | "partner-in-maintenance" => vec![me.clone(), other.clone()],
        "load-balancing" => vec![me.clone()],
        // Hot standby: the primary answers the primary's scope.
        "hot-standby" if my_role == "primary" => vec![me.clone()],
        "hot-standby" => Vec::new(),
        _ => Vec::new(),
    }
}

/// `t` (unix time) as an HTTP date, as Kea's heartbeat gives it
/// (`Fri, 04 Dec 2026 18:18:27 GMT`).
pub fn http_date(t: u64) -> String {
    let dt = time::OffsetDateTime::from_unix_timestamp(i64::try_from(t).unwrap_or(0))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let day = &format!("{}", dt.weekday())[..3];
    let month = &format!("{}", dt.month())[..3];
    format!(
        "{day}, {:02} {month} {} {:02}:{:02}:{:02} GMT",
        dt.day(),
        dt.year(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_dates_are_http_dates() {
        assert_eq!(http_date(1_796_408_307), "Fri, 04 Dec 2026 18:18:27 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn isc_states_read_as_kea_states() {
        assert_eq!(
            kea_state("load-balancing", "normal", false),
            "load-balancing"
        );
        assert_eq!(kea_state("hot-standby", "normal", false), "hot-standby");
        assert_eq!(
            kea_state("hot-standby", "normal", true),
            "partner-in-maintenance"
        );
        assert_eq!(
            kea_state("load-balancing", "partner-down", false),
            "partner-down"
        );
        assert_eq!(kea_state("load-balancing", "recover-wait", false), "ready");
        assert_eq!(kea_state("load-balancing", "startup", false), "waiting");
    }

    #[test]
    fn scopes_follow_the_mode_and_state() {
        let n = HaNames {
            mode: "load-balancing".into(),
            this_server: "server1".into(),
            this_role: "primary".into(),
            partner_server: "server2".into(),
            partner_role: "secondary".into(),
            relationship: "server1".into(),
        };
        assert_eq!(scopes(&n, "normal", false, true), ["server1"]);
        assert_eq!(scopes(&n, "normal", false, false), ["server2"]);
        assert_eq!(scopes(&n, "normal", true, true), ["server1", "server2"]);
        assert_eq!(
            scopes(&n, "partner-down", false, true),
            ["server1", "server2"]
        );
        assert!(scopes(&n, "recover", false, true).is_empty());
    }
}
