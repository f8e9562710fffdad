//! Durable lease commits through the sled store at batch sizes 1, 32 and 256:
//! each iteration writes one batch to the commit journal and `fdatasync`s it
//! (what group commit does per batch); the checkpoints a filling journal
//! starts run in the background and are included.

use std::net::Ipv4Addr;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use dhcp_core::lease::{BindingState, ClientKey, HwAddr, Lease};
use dhcp_store::{LeaseStore, SledStore};

fn lease(i: u32) -> Lease {
    let addr = Ipv4Addr::from(0x0a63_0000 | (i & 0xffff));
    let b = i.to_be_bytes();
    let mut l = Lease::new_free(addr, BindingState::Active);
    l.client = Some(ClientKey::Hw(HwAddr::ethernet([
        2, 0, b[0], b[1], b[2], b[3],
    ])));
    l.hw = Some(HwAddr::ethernet([2, 0, b[0], b[1], b[2], b[3]]));
    l.hostname = Some(format!("node-{i}"));
    l.starts = 1_800_000_000;
    l.ends = 1_800_000_600;
    l.cltt = 1_800_000_000;
    l
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir_in(std::env::var("BENCH_STORE_DIR").unwrap_or_else(|_| ".".into()))
        .expect("temp dir");
    let store = SledStore::open(dir.path()).expect("open store");
    let mut g = c.benchmark_group("store_commit_durable");
    for batch in [1u32, 32, 256] {
        g.throughput(Throughput::Elements(u64::from(batch)));
        let mut next = 0u32;
        g.bench_function(format!("batch_{batch}"), |b| {
            b.iter_batched(
                || {
                    let v: Vec<Lease> = (next..next + batch).map(lease).collect();
                    next += batch;
                    v
                },
                |v| store.commit(&v).expect("commit"),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
