//! The lease table against a plain model: random sequences of upserts (pool
//! and outside addresses), holds and releases of holds over three pools of
//! two networks, and after every step each lookup, index and count of the
//! table must agree with the model.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use dhcp_core::lease::{BindingState, ClientKey, HwAddr, Lease};
use dhcp_core::table::{LeaseTable, PoolSpec};
use proptest::prelude::*;

/// Pools (start, end, network): two on network 0, one on network 1, with a
/// gap between them and one spanning a /24 boundary.
const POOLS: [([u8; 4], [u8; 4], usize); 3] = [
    ([10, 99, 0, 10], [10, 99, 0, 17], 0),
    ([10, 99, 0, 40], [10, 99, 0, 43], 0),
    ([10, 99, 1, 250], [10, 99, 2, 3], 1),
];

/// Addresses the steps pick from: every pool address, the addresses just
/// outside each pool, and two that belong to no pool.
fn universe() -> Vec<Ipv4Addr> {
    let mut v = BTreeSet::new();
    for (s, e, _) in POOLS {
        let (s, e) = (u32::from(Ipv4Addr::from(s)), u32::from(Ipv4Addr::from(e)));
        v.extend((s - 1..=e + 1).map(Ipv4Addr::from));
    }
    v.insert(Ipv4Addr::new(10, 99, 5, 5));
    v.insert(Ipv4Addr::new(10, 99, 0, 1));
    v.into_iter().collect()
}

fn pool_of(a: Ipv4Addr) -> Option<usize> {
    POOLS.iter().position(|(s, e, _)| {
        (u32::from(Ipv4Addr::from(*s))..=u32::from(Ipv4Addr::from(*e))).contains(&u32::from(a))
    })
}

const STATES: [BindingState; 7] = BindingState::ALL;

fn key(c: u8) -> ClientKey {
    ClientKey::Hw(HwAddr::ethernet([2, 0, 0, 0, 0, c]))
}

#[derive(Debug, Clone)]
enum Step {
    /// Writes a record: address index, state, client (if any), ends, and
    /// whether an address outside the pools is allowed.
    Upsert(usize, usize, Option<u8>, u32, bool),
    Hold(usize),
    Unhold(usize),
}

fn step(n: usize) -> impl Strategy<Value = Step> {
    prop_oneof![
        5 => (0..n, 0..7usize, proptest::option::of(0u8..5), 0u32..20, any::<bool>())
            .prop_map(|(a, s, c, e, o)| Step::Upsert(a, s, c, e, o)),
        2 => (0..n).prop_map(Step::Hold),
        1 => (0..n).prop_map(Step::Unhold),
    ]
}

/// The model: every record, the held addresses and the client map, kept
/// the simplest way.
#[derive(Default)]
struct Model {
    leases: BTreeMap<Ipv4Addr, Lease>,
    held: BTreeSet<Ipv4Addr>,
    by_client: BTreeMap<ClientKey, Ipv4Addr>,
}

impl Model {
    fn new() -> Self {
        let mut m = Model::default();
        for (s, e, _) in POOLS {
            for a in u32::from(Ipv4Addr::from(s))..=u32::from(Ipv4Addr::from(e)) {
                let l = Lease::new_free(Ipv4Addr::from(a), BindingState::Free);
                m.leases.insert(l.addr, l);
            }
        }
        m
    }

    fn upsert(&mut self, l: Lease, allow_outside: bool) -> bool {
        if pool_of(l.addr).is_none() && !allow_outside {
            return false;
        }
        self.held.remove(&l.addr);
        if let Some(old) = self.leases.get(&l.addr)
            && let Some(k) = &old.client
            && old.client != l.client
            && self.by_client.get(k) == Some(&old.addr)
        {
            self.by_client.remove(k);
        }
        if let Some(k) = &l.client {
            self.by_client.insert(k.clone(), l.addr);
        }
        self.leases.insert(l.addr, l);
        true
    }

    fn hold(&mut self, a: Ipv4Addr) {
        let holdable = pool_of(a).is_some()
            && self.leases.get(&a).is_some_and(|l| {
                !matches!(l.state, BindingState::Active | BindingState::Abandoned)
            });
        if holdable {
            self.held.insert(a);
        }
    }

    fn candidates(&self, pool: usize, state: BindingState) -> Vec<Ipv4Addr> {
        let mut v: Vec<_> = self
            .leases
            .values()
            .filter(|l| pool_of(l.addr) == Some(pool) && l.state == state)
            .filter(|l| !self.held.contains(&l.addr))
            .map(|l| (l.ends, l.addr))
            .collect();
        v.sort();
        v.into_iter().map(|(_, a)| a).collect()
    }
}

fn check(t: &LeaseTable, m: &Model, universe: &[Ipv4Addr]) -> Result<(), TestCaseError> {
    for a in universe {
        prop_assert_eq!(t.get(*a), m.leases.get(a), "record of {}", a);
        prop_assert_eq!(t.is_held(*a), m.held.contains(a), "hold of {}", a);
        prop_assert_eq!(t.pool_of(*a), pool_of(*a), "pool of {}", a);
    }
    prop_assert_eq!(t.len(), m.leases.len());
    let mut all: Vec<_> = t.iter().map(|l| l.addr).collect();
    all.sort();
    prop_assert_eq!(all, m.leases.keys().copied().collect::<Vec<_>>());
    for c in 0..5 {
        let k = key(c);
        let want = m
            .by_client
            .get(&k)
            .and_then(|a| m.leases.get(a))
            .filter(|l| l.client.as_ref() == Some(&k));
        prop_assert_eq!(t.by_client(&k), want, "client {}", c);
    }
    for pool in 0..POOLS.len() {
        for s in STATES {
            let got: Vec<_> = t.in_state(pool, s).map(|l| l.addr).collect();
            prop_assert_eq!(got, m.candidates(pool, s), "pool {} {:?}", pool, s);
            let n = m
                .leases
                .values()
                .filter(|l| pool_of(l.addr) == Some(pool) && l.state == s)
                .count() as u64;
            prop_assert_eq!(t.counts(pool).get(s), n, "count of pool {} {:?}", pool, s);
        }
    }
    let mut net0 = t.counts(0);
    net0.add(&t.counts(1));
    prop_assert_eq!(t.network_counts(0), net0);
    prop_assert_eq!(t.network_counts(1), t.counts(2));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn table_agrees_with_a_plain_model(steps in proptest::collection::vec(step(universe().len()), 1..80)) {
        let universe = universe();
        let pools = POOLS
            .iter()
            .map(|(s, e, n)| PoolSpec {
                start: Ipv4Addr::from(*s),
                end: Ipv4Addr::from(*e),
                network: *n,
                failover_peer: None,
            })
            .collect();
        let mut t = LeaseTable::new(pools);
        let mut m = Model::new();
        check(&t, &m, &universe)?;
        for s in steps {
            match s {
                Step::Upsert(a, state, client, ends, outside) => {
                    let mut l = Lease::new_free(universe[a], STATES[state]);
                    l.client = client.map(key);
                    l.ends = ends;
                    let accepted = m.upsert(l.clone(), outside);
                    prop_assert_eq!(t.upsert_ext(l, outside).is_ok(), accepted);
                }
                Step::Hold(a) => {
                    m.hold(universe[a]);
                    t.hold(universe[a]);
                }
                Step::Unhold(a) => {
                    m.held.remove(&universe[a]);
                    t.unhold(universe[a]);
                }
            }
            check(&t, &m, &universe)?;
        }
    }
}
