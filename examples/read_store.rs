//! Reads a stopped daemon's lease store offline and prints its leases:
//! `read_store STORE_DIR` (the daemon's `server.store`; the store is locked
//! while a daemon has it open).

use dhcp_core::config::format_hex;
use dhcp_core::lease::{ClientKey, Lease};
use dhcp_store::{LeaseStore, SledStore};

/// One line per lease: address, state, client, end of the lease.
pub fn describe(l: &Lease) -> String {
    let client = match &l.client {
        Some(ClientKey::Hw(hw)) => format_hex(&hw.addr),
        Some(ClientKey::ClientId(id)) => format!("id {}", format_hex(id)),
        None => "-".into(),
    };
    format!("{} {} {} ends {}", l.addr, l.state.name(), client, l.ends)
}

/// Every lease in the store at `dir`, described.
pub fn read(dir: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let store = SledStore::open(dir)?;
    Ok(store.load()?.iter().map(describe).collect())
}

#[allow(dead_code)]
fn main() -> anyhow::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: read_store STORE_DIR"))?;
    for line in read(std::path::Path::new(&dir))? {
        println!("{line}");
    }
    Ok(())
}
