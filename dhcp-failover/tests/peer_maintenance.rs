//! The partner's announced maintenance (Kea's `ha-maintenance-start` and
//! `-cancel` mapped onto ISC failover): when it may be announced, that every
//! client is then answered, that a partner closing the connection takes this
//! server straight to PARTNER-DOWN while a receive timeout does not, and
//! that the pair's return to NORMAL ends it.

#![allow(clippy::unwrap_used)]

mod peer_support;

use dhcp_core::config::Role;
use dhcp_failover::peer::{FailoverState as S, Maintenance, MaintenanceError};
use dhcp_failover::wire::{Body, Disconnect, RejectReason};
use peer_support::*;

/// A primary in NORMAL with its partner.
fn normal_pair() -> H {
    let mut h = H::new(Role::Primary, Some(H::saved(S::Normal, S::Normal)));
    h.handshake(T0);
    h.partner_state(T0, S::Normal, false);
    let _ = h.output(T0);
    assert_eq!(h.state(), S::Normal);
    h
}

#[test]
fn announcing_needs_normal_with_the_partner_connected() {
    // Alone (in COMMUNICATIONS-INTERRUPTED): refused, partner-down is the tool.
    let mut alone = H::new(Role::Primary, Some(H::saved(S::Normal, S::Normal)));
    alone.advance(T0 + 20);
    assert_eq!(alone.state(), S::CommunicationsInterrupted);
    let err = alone.peer.maintenance(T0 + 20, true).unwrap_err();
    assert!(matches!(err, MaintenanceError::NotNormal { .. }), "{err}");
    assert!(err.to_string().contains("partner-down"), "{err}");
    // Nothing announced: nothing to cancel.
    assert_eq!(
        alone.peer.maintenance(T0 + 20, false),
        Err(MaintenanceError::NotInMaintenance)
    );

    let mut h = normal_pair();
    assert!(!h.peer.policy().partner_maintenance);
    assert_eq!(h.peer.maintenance(T0 + 1, true), Ok(Maintenance::Announced));
    assert!(h.peer.policy().partner_maintenance);
    assert_eq!(
        h.peer.maintenance(T0 + 1, true),
        Err(MaintenanceError::AlreadyAnnounced)
    );
}

#[test]
fn the_partner_closing_the_connection_means_partner_down_at_once() {
    let mut h = normal_pair();
    h.peer.maintenance(T0 + 1, true).unwrap();
    h.disconnect(T0 + 5);
    assert_eq!(h.state(), S::PartnerDown);
    assert_eq!(h.peer.maintenance_state(), Maintenance::PartnerGone);
    // PARTNER-DOWN still waits MCLT for the partner's free addresses.
    assert_eq!(h.peer.policy().stos, T0 + 5);
    assert!(!h.peer.policy().partner_maintenance);
    assert!(
        h.state_changes()
            .ends_with(&[S::Normal, S::CommunicationsInterrupted, S::PartnerDown]),
        "{:?}",
        h.state_changes()
    );
}

#[test]
fn a_disconnect_message_counts_as_leaving() {
    let mut h = normal_pair();
    h.peer.maintenance(T0 + 1, true).unwrap();
    send!(
        h,
        T0 + 2,
        Body::Disconnect(Disconnect {
            reject_reason: Some(RejectReason::Unknown),
            message: None,
        })
    );
    assert_eq!(h.state(), S::PartnerDown);
}

#[test]
fn a_receive_timeout_is_not_taken_as_leaving() {
    // A partition looks like this: the partner may still serve.
    let mut h = normal_pair();
    h.peer.maintenance(T0 + 1, true).unwrap();
    h.advance(T0 + MRD + 5);
    assert_eq!(h.state(), S::CommunicationsInterrupted);
    assert_eq!(h.peer.maintenance_state(), Maintenance::Off);
    assert!(!h.peer.policy().partner_maintenance);
}

#[test]
fn cancelled_before_the_partner_left_nothing_changes() {
    let mut h = normal_pair();
    h.peer.maintenance(T0 + 1, true).unwrap();
    assert_eq!(h.peer.maintenance(T0 + 2, false), Ok(Maintenance::Off));
    assert!(!h.peer.policy().partner_maintenance);
    h.disconnect(T0 + 3);
    assert_eq!(h.state(), S::CommunicationsInterrupted);
}

#[test]
fn the_partner_stopping_with_state_shutdown_means_partner_down_too() {
    let mut h = normal_pair();
    h.peer.maintenance(T0 + 1, true).unwrap();
    h.partner_state(T0 + 2, S::Shutdown, false);
    assert_eq!(h.state(), S::PartnerDown);
    assert_eq!(h.peer.maintenance_state(), Maintenance::PartnerGone);
}

#[test]
fn the_pair_back_in_normal_ends_the_maintenance() {
    let mut h = normal_pair();
    h.peer.maintenance(T0 + 1, true).unwrap();
    h.disconnect(T0 + 5);
    // The partner comes back, recovers (UPDREQALL answered by the test's
    // side), and reports RECOVER-DONE: NORMAL, maintenance over.
    h.handshake(T0 + 100);
    h.partner_state(T0 + 100, S::Recover, false);
    assert_eq!(h.state(), S::PartnerDown);
    assert_eq!(h.peer.maintenance_state(), Maintenance::PartnerGone);
    h.partner_state(T0 + 110, S::RecoverDone, false);
    assert_eq!(h.state(), S::Normal);
    assert_eq!(h.peer.maintenance_state(), Maintenance::Off);
}
