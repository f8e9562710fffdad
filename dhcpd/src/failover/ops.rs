//! [`FailoverOps`] for the running relationships: what metrics, the control
//! API (`dhcpd failover status|partner-down`), reload and systemd status see.
//! [`FailoverHandle`] answers for one relationship, [`Relationships`] for
//! all of a daemon's.

use dhcp_core::config::{FailoverConfig, Role};
use dhcp_failover::peer::{FailoverState, Maintenance, MaintenanceError};

use super::{Command, FailoverHandle};
use crate::failover::status::{FailoverOps, FailoverOpsError, RelationshipStatus};

impl FailoverOps for FailoverHandle {
    fn status(&self) -> Vec<RelationshipStatus> {
        let s = self.current();
        let role = match s.role {
            Role::Primary => "primary",
            Role::Secondary => "secondary",
        };
        vec![RelationshipStatus {
            name: s.name,
            role: role.to_owned(),
            local_state: s.state.name().to_owned(),
            partner_state: (s.partner_state != FailoverState::Unknown)
                .then(|| s.partner_state.name().to_owned()),
            connected: s.connected,
            unacked_updates: s.unacked_updates as u64,
            pending_updates: s.queued_updates as u64,
            last_contact: s.last_contact.map(u64::from),
            local_state_since: Some(u64::from(s.stos)),
            refused: super::guard::Refusal::ALL
                .iter()
                .zip(s.refused)
                .map(|(r, n)| (r.label().to_owned(), n))
                .collect(),
            fencing: s.fencing,
            partner_maintenance: s.maintenance == Maintenance::Announced,
        }]
    }

    /// Queues the command for the driver (it acts within milliseconds; the
    /// caller runs on the daemon's own runtime, so it cannot wait here).
    fn partner_down(&self, relationship: Option<&str>) -> Result<String, FailoverOpsError> {
        let s = self.current();
        if let Some(r) = relationship
            && r != s.name
        {
            return Err(FailoverOpsError::NoSuchRelationship(r.to_owned()));
        }
        if s.connected {
            return Err(FailoverOpsError::Refused(format!(
                "{}: the partner is connected ({})",
                s.name, s.partner_state
            )));
        }
        let (tx, _rx) = tokio::sync::oneshot::channel();
        self.commands
            .try_send(Command::PartnerDown(tx))
            .map_err(|e| FailoverOpsError::Refused(format!("driver busy or stopped: {e}")))?;
        Ok(format!(
            "{}: partner-down requested (was {}). Only do this when the partner is known to be down: \
             from now on this server may hand out the partner's addresses once MCLT ({} s) has \
             passed, and when the partner comes back it recovers and may wait in RECOVER-WAIT \
             for up to MCLT before it serves again.",
            s.name, s.state, s.mclt
        ))
    }

    /// Checks the request against the current status, then queues it for
    /// the driver (which checks again: the state may change meanwhile).
    fn maintenance(
        &self,
        relationship: Option<&str>,
        start: bool,
    ) -> Result<String, FailoverOpsError> {
        let s = self.current();
        if let Some(r) = relationship
            && r != s.name
        {
            return Err(FailoverOpsError::NoSuchRelationship(r.to_owned()));
        }
        match (start, s.maintenance) {
            (true, Maintenance::Announced) => {
                return Err(FailoverOpsError::Refused(format!(
                    "{}: {}",
                    s.name,
                    MaintenanceError::AlreadyAnnounced
                )));
            }
            (true, _) if s.state != FailoverState::Normal || !s.connected => {
                let link = if s.connected {
                    ""
                } else {
                    ", partner not connected"
                };
                return Err(FailoverOpsError::Refused(format!(
                    "{}: {}",
                    s.name,
                    MaintenanceError::NotNormal {
                        state: s.state,
                        link
                    }
                )));
            }
            (false, Maintenance::Off) => {
                return Err(FailoverOpsError::Refused(format!(
                    "{}: {}",
                    s.name,
                    MaintenanceError::NotInMaintenance
                )));
            }
            _ => {}
        }
        let (tx, _rx) = tokio::sync::oneshot::channel();
        self.commands
            .try_send(Command::Maintenance(start, tx))
            .map_err(|e| FailoverOpsError::Refused(format!("driver busy or stopped: {e}")))?;
        Ok(if start {
            format!(
                "{}: the partner's maintenance is announced: this server now answers every client, \
                 and goes to partner-down as soon as the partner is stopped (its connection closes); \
                 it may hand out the partner's free addresses once MCLT ({} s) has passed",
                s.name, s.mclt
            )
        } else {
            format!("{}: the partner's maintenance is cancelled", s.name)
        })
    }

    fn reconfigure(
        &self,
        old: &[FailoverConfig],
        new: &[FailoverConfig],
    ) -> Result<(), FailoverOpsError> {
        restart_to_change(old, new)
    }
}

/// The handles of every relationship a daemon runs.
#[derive(Debug, Clone, Default)]
pub struct Relationships(pub Vec<FailoverHandle>);

impl FailoverOps for Relationships {
    fn status(&self) -> Vec<RelationshipStatus> {
        self.0.iter().flat_map(FailoverOps::status).collect()
    }

    /// The named relationship, or the only one; with several, a name is
    /// required.
    fn partner_down(&self, relationship: Option<&str>) -> Result<String, FailoverOpsError> {
        match (relationship, self.0.as_slice()) {
            (_, []) => Err(FailoverOpsError::Standalone),
            (None, [one]) => FailoverOps::partner_down(one, None),
            (None, _) => Err(FailoverOpsError::Refused(format!(
                "{} relationships run here ({}): name one",
                self.0.len(),
                self.0
                    .iter()
                    .map(|h| h.current().name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
            (Some(name), all) => all.iter().find(|h| h.current().name == name).map_or_else(
                || Err(FailoverOpsError::NoSuchRelationship(name.to_owned())),
                |h| FailoverOps::partner_down(h, Some(name)),
            ),
        }
    }

    fn maintenance(
        &self,
        relationship: Option<&str>,
        start: bool,
    ) -> Result<String, FailoverOpsError> {
        match (relationship, self.0.as_slice()) {
            (_, []) => Err(FailoverOpsError::Standalone),
            (None, [one]) => one.maintenance(None, start),
            (None, _) => Err(FailoverOpsError::Refused(format!(
                "{} relationships run here: name one",
                self.0.len()
            ))),
            (Some(name), all) => all.iter().find(|h| h.current().name == name).map_or_else(
                || Err(FailoverOpsError::NoSuchRelationship(name.to_owned())),
                |h| h.maintenance(Some(name), start),
            ),
        }
    }

    fn reconfigure(
        &self,
        old: &[FailoverConfig],
        new: &[FailoverConfig],
    ) -> Result<(), FailoverOpsError> {
        restart_to_change(old, new)
    }
}

/// Running relationships are not changed in place: a different set needs a
/// restart (the reload is refused and the old configuration keeps serving).
fn restart_to_change(
    old: &[FailoverConfig],
    new: &[FailoverConfig],
) -> Result<(), FailoverOpsError> {
    if old == new {
        return Ok(());
    }
    Err(FailoverOpsError::Refused(
        "changing failover relationships needs a restart".to_owned(),
    ))
}
