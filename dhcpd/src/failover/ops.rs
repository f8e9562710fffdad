//! [`FailoverOps`] for the running relationship: what metrics, the control
//! API (`dhcpd failover status|partner-down`), reload and systemd status see.

use dhcp_core::config::{FailoverConfig, Role};
use dhcp_failover::peer::FailoverState;

use super::{Command, FailoverHandle};
use crate::failover_ops::{FailoverOps, FailoverOpsError, RelationshipStatus};

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
            "{}: partner-down requested (was {})",
            s.name, s.state
        ))
    }

    fn reconfigure(
        &self,
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
}
