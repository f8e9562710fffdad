//! The split-128 assignment of the six clients in `isc-failover.pcap` is the
//! one ISC made: for each client, the server that sent the first ACTIVE
//! BNDUPD (the one that allocated the lease) is the one our load balancer
//! picks. Also checked against the table in reference §5.5.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use crate::common::{captured, hex};
use dhcp_core::config::{LoadBalance, Role};
use dhcp_core::lease::BindingState;
use dhcp_failover::hash::{LoadBalancer, bucket, packet_key};
use dhcp_failover::wire::{Body, decode};

/// chaddr → (sender of its first ACTIVE BNDUPD, assigned address).
fn first_allocators() -> BTreeMap<Vec<u8>, (String, std::net::Ipv4Addr)> {
    let mut first = BTreeMap::new();
    for f in captured() {
        let Body::BndUpd(b) = decode(&f.bytes).unwrap().body else {
            continue;
        };
        if b.binding_status != Some(BindingState::Active) {
            continue;
        }
        let hw = b.chaddr.unwrap();
        assert!(
            b.client_id.is_none(),
            "the capture's BNDUPDs carry no client-id"
        );
        first
            .entry(hw.addr)
            .or_insert((f.from.clone(), b.assigned_ip.unwrap()));
    }
    first
}

#[test]
fn split_128_assigns_the_captured_clients_as_isc_did() {
    let hba = LoadBalance::Split(128).hba();
    let primary = LoadBalancer::new(Role::Primary, Some(hba), 3);
    let secondary = LoadBalancer::new(Role::Secondary, Some(hba), 3);
    let first = first_allocators();
    assert_eq!(first.len(), 6, "six clients");
    let mut by_primary = 0;
    for (mac, (from, ip)) in &first {
        let key = packet_key(None, mac);
        let ours = if primary.is_mine(key, 0) {
            "pri"
        } else {
            "sec"
        };
        assert_ne!(primary.is_mine(key, 0), secondary.is_mine(key, 0));
        assert_eq!(
            ours,
            from,
            "client {mac:02x?} (got {ip}, bucket {})",
            bucket(key)
        );
        by_primary += usize::from(ours == "pri");
    }
    assert_eq!(
        by_primary, 4,
        "the primary served four clients, the secondary two"
    );
}

#[test]
fn reference_cross_check_table() {
    let cases = [
        ("92:e0:c1:3b:f2:22", 27, "pri"),
        ("da:1b:36:b3:53:62", 57, "pri"),
        ("e2:d1:8c:39:17:71", 102, "pri"),
        ("e6:5e:a0:d3:65:aa", 26, "pri"),
        ("02:1c:a5:fe:cf:27", 143, "sec"),
        ("8a:ca:6c:90:75:58", 155, "sec"),
    ];
    let first = first_allocators();
    for (mac, b, who) in cases {
        let mac = hex(&mac.replace(':', ""));
        assert_eq!(bucket(&mac), b);
        assert_eq!(
            first[&mac].0, who,
            "capture agrees with the reference table"
        );
    }
    // Hashing option-61-style `01 + MAC` would mispredict at least one.
    let mispredicted = first.iter().any(|(mac, (from, _))| {
        let mut cid = vec![1];
        cid.extend_from_slice(mac);
        (bucket(&cid) < 128) != (from == "pri")
    });
    assert!(mispredicted);
}
