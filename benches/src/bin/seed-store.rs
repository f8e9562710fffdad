//! Writes a lease store holding `--count` ACTIVE leases (one client each,
//! counting MACs, from the first address of `--pool` on) and a failover
//! relationship's saved state, so that a benchmark can start a server that
//! already holds a large table: `benches/scripts/resync.sh` starts a primary
//! on such a store (saved NORMAL) beside an empty secondary, which then
//! fetches every binding (UPDREQALL → BNDUPD … → UPDDONE).
//!
//! ```text
//! seed-store --store DIR --pool 127.16.0.1-127.31.255.254 --count 1000000 \
//!     --relationship fo --lease-secs 86400
//! ```

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::Parser;
use dhcp_core::lease::{BindingState, ClientKey, HwAddr, Lease};
use dhcp_failover::peer::{FailoverState, PersistedState};
use dhcp_store::{LeaseStore, SledStore};

/// Command-line arguments.
#[derive(Debug, Parser)]
struct Args {
    /// The store directory to create (must not exist).
    #[arg(long)]
    store: PathBuf,
    /// The pool, `FIRST-LAST`.
    #[arg(long)]
    pool: String,
    /// ACTIVE leases to write.
    #[arg(long)]
    count: u32,
    /// The failover relationship whose saved state to write (NORMAL, the
    /// partner NORMAL); none if omitted.
    #[arg(long)]
    relationship: Option<String>,
    /// Lease length from now.
    #[arg(long, default_value_t = 86_400)]
    lease_secs: u32,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let (first, last) = args.pool.split_once('-').context("--pool is FIRST-LAST")?;
    let first: Ipv4Addr = first.trim().parse().context("--pool: first address")?;
    let last: Ipv4Addr = last.trim().parse().context("--pool: last address")?;
    let size = u32::from(last)
        .checked_sub(u32::from(first))
        .context("--pool: last before first")?
        + 1;
    if args.count > size {
        bail!(
            "--count {} is more than the pool's {size} addresses",
            args.count
        );
    }
    if args.store.exists() {
        bail!("{} exists", args.store.display());
    }
    let now = u32::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs())?;
    let store = SledStore::open(&args.store).context("open the store")?;
    let mut batch = Vec::with_capacity(16_384);
    for i in 0..args.count {
        let addr = Ipv4Addr::from(u32::from(first) + i);
        let [_, a, b, c] = i.to_be_bytes();
        let hw = HwAddr {
            htype: 1,
            addr: vec![0x02, 0x5e, 0xed, a, b, c],
        };
        let mut l = Lease::new_free(addr, BindingState::Active);
        l.client = Some(ClientKey::Hw(hw.clone()));
        l.hw = Some(hw);
        l.starts = now.saturating_sub(60);
        l.cltt = l.starts;
        l.tstp = l.starts;
        l.ends = now.saturating_add(args.lease_secs);
        l.tsfp = l.ends;
        l.atsfp = l.ends;
        batch.push(l);
        if batch.len() == batch.capacity() {
            store.commit(&batch).context("commit")?;
            batch.clear();
        }
    }
    store.commit(&batch).context("commit")?;
    if let Some(name) = &args.relationship {
        let state = PersistedState {
            my_state: FailoverState::Normal,
            my_stos: now.saturating_sub(7200),
            partner_state: FailoverState::Normal,
            partner_stos: now.saturating_sub(7200),
            mclt: None,
            hba: None,
            pending_updates: Vec::new(),
        };
        store
            .put_meta(
                &PersistedState::meta_key(name),
                &serde_json::to_vec(&state)?,
            )
            .context("save the failover state")?;
    }
    println!(
        "{}: {} ACTIVE leases from {first}",
        args.store.display(),
        args.count
    );
    Ok(())
}
