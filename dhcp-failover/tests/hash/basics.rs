//! RFC 3074 hash and ISC's hash bucket assignment (reference §5).

#![allow(clippy::unwrap_used)]

use crate::common::hex;
use dhcp_core::config::{LoadBalance, Role};
use dhcp_core::lease::{BindingState, HwAddr, Lease};
use dhcp_failover::hash::{
    LoadBalancer, TABLE, bucket, effective_secs, lease_key, packet_key, primary_serves_bucket,
    role_serves_bucket,
};
use proptest::prelude::*;

#[test]
fn table_is_a_permutation() {
    let mut seen = [false; 256];
    for &v in &TABLE {
        assert!(!seen[usize::from(v)]);
        seen[usize::from(v)] = true;
    }
    assert_eq!(TABLE[0], 251);
    assert_eq!(TABLE[255], 151);
}

/// Reference §5.5 vectors: key, bucket, HBA byte, bit mask, split-128 server.
#[test]
fn reference_vectors() {
    let split128 = LoadBalance::Split(128).hba();
    let cases: &[(&str, u8, usize, u8, bool)] = &[
        ("00 00 00 00 00 00", 254, 31, 0x40, false),
        ("00 11 22 33 44 55", 135, 16, 0x80, false),
        ("52 54 00 12 34 56", 156, 19, 0x10, false),
        ("aa bb cc dd ee ff", 57, 7, 0x02, true),
        ("ff ff ff ff ff ff", 79, 9, 0x80, true),
        ("01 00 11 22 33 44 55", 223, 27, 0x80, false),
        ("01 52 54 00 12 34 56", 253, 31, 0x20, false),
        ("66 6f 6f", 49, 6, 0x02, true),
        ("0e", 232, 29, 0x01, false),
        ("", 0, 0, 0x01, true),
    ];
    for &(key, b, byte, mask, primary) in cases {
        let key = hex(key);
        assert_eq!(bucket(&key), b, "key {key:02x?}");
        assert_eq!(usize::from(b >> 3), byte);
        assert_eq!(1u8 << (b & 7), mask);
        assert_eq!(
            primary_serves_bucket(&split128, b),
            primary,
            "key {key:02x?}"
        );
        assert_eq!(role_serves_bucket(&split128, Role::Primary, b), primary);
        assert_eq!(role_serves_bucket(&split128, Role::Secondary, b), !primary);
    }
    assert_eq!(bucket(b"foo"), 49);
}

#[test]
fn split_bitmaps() {
    let h = |n| LoadBalance::Split(n).hba();
    assert_eq!(h(0), [0; 32]);
    assert_eq!(h(256), [0xff; 32]);
    let mut s128 = [0u8; 32];
    s128[..16].fill(0xff);
    assert_eq!(h(128), s128);
    let mut s255 = [0xff; 32];
    s255[31] = 0x7f;
    assert_eq!(h(255), s255, "MAAS uses split 255");
    // `split N`: exactly buckets 0..N go to the primary.
    for n in [0u16, 1, 7, 8, 9, 100, 128, 200, 255, 256] {
        let hba = h(n);
        for b in 0..=255u8 {
            assert_eq!(
                primary_serves_bucket(&hba, b),
                u16::from(b) < n,
                "split {n} bucket {b}"
            );
        }
    }
}

#[test]
fn hba_bit_order_is_lsb_first() {
    // `hba aa:aa:...` gives odd buckets to the primary, `55:55:...` even ones.
    for b in 0..=255u8 {
        assert_eq!(primary_serves_bucket(&[0xaa; 32], b), b % 2 == 1);
        assert_eq!(primary_serves_bucket(&[0x55; 32], b), b % 2 == 0);
    }
    let mut one = [0u8; 32];
    one[3] = 0x04; // bucket 3*8 + 2
    assert!(primary_serves_bucket(&one, 26));
    assert_eq!(
        (0..=255u8)
            .filter(|&b| primary_serves_bucket(&one, b))
            .count(),
        1
    );
}

#[test]
fn hash_keys() {
    let mac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
    let cid = hex("01 52 54 00 12 34 56");
    assert_eq!(packet_key(Some(&cid), &mac), cid.as_slice());
    assert_eq!(packet_key(None, &mac), mac.as_slice());
    let mut lease = Lease::new_free("10.99.0.100".parse().unwrap(), BindingState::Active);
    assert_eq!(lease_key(&lease), None);
    lease.hw = Some(HwAddr::ethernet(mac));
    assert_eq!(
        lease_key(&lease),
        Some(mac.as_slice()),
        "htype is not hashed"
    );
    lease.client_id = Some(cid.clone());
    assert_eq!(lease_key(&lease), Some(cid.as_slice()));
}

#[test]
fn secs_byte_order_heuristic() {
    assert_eq!(effective_secs(256, true), 1);
    assert_eq!(effective_secs(1536, true), 6);
    assert_eq!(effective_secs(257, true), 257);
    assert_eq!(effective_secs(255, true), 255);
    assert_eq!(effective_secs(0, true), 0);
    assert_eq!(effective_secs(256, false), 256);
}

/// ISC's own unit test (server/tests/load_bal_unittest.c) as described in the
/// reference: HBA all ones, 1-byte chaddr 14, max secs 5.
#[test]
fn isc_load_balance_unit_test_behaviour() {
    let key = [14u8];
    let p = LoadBalancer::new(Role::Primary, Some([0xff; 32]), 5);
    let s = LoadBalancer::new(Role::Secondary, Some([0xff; 32]), 5);
    for secs in [0, 2] {
        assert!(p.is_mine(&key, secs));
        assert!(!s.is_mine(&key, secs));
    }
    for secs in [6, 257] {
        assert!(p.is_mine(&key, secs));
        assert!(s.is_mine(&key, secs));
    }
    let s = LoadBalancer {
        secs_byte_order_fix: true,
        ..s
    };
    assert!(!s.is_mine(&key, 256), "256 is read as 1");
    assert!(s.is_mine(&key, 1536), "1536 is read as 6");
}

#[test]
fn max_seconds_zero_disables_balancing_and_no_hba_means_not_mine() {
    let key = hex("52 54 00 12 34 56"); // bucket 156: secondary under split 128
    let hba = LoadBalance::Split(128).hba();
    assert!(LoadBalancer::new(Role::Primary, Some(hba), 0).is_mine(&key, 0));
    assert!(!LoadBalancer::new(Role::Primary, Some(hba), 3).is_mine(&key, 3));
    assert!(LoadBalancer::new(Role::Primary, Some(hba), 3).is_mine(&key, 4));
    assert!(LoadBalancer::new(Role::Secondary, Some(hba), 3).is_mine(&key, 0));
    assert!(!LoadBalancer::new(Role::Secondary, None, 3).is_mine(&key, 0));
    assert!(LoadBalancer::new(Role::Secondary, None, 3).is_mine(&key, 4));
}

proptest! {
    /// Exactly one of the two peers serves any client while balancing applies.
    #[test]
    fn exactly_one_peer_serves(hba in any::<[u8; 32]>(), key in prop::collection::vec(any::<u8>(), 0..40), secs in 0u16..=3) {
        let p = LoadBalancer::new(Role::Primary, Some(hba), 3);
        let s = LoadBalancer::new(Role::Secondary, Some(hba), 3);
        prop_assert!(p.is_mine(&key, secs) != s.is_mine(&key, secs));
    }

    /// `bucket` is the RFC 3074 definition, for keys of any length (also > 255).
    #[test]
    fn bucket_matches_definition(key in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut h = key.len() as u8;
        for i in (0..key.len()).rev() {
            h = TABLE[usize::from(h ^ key[i])];
        }
        prop_assert_eq!(bucket(&key), h);
    }
}
