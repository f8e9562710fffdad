//! The local interfaces: name and IPv4 addresses by interface index.
//!
//! Option 54 (server identifier) is the address of the interface a request
//! arrived on, so every received datagram's interface index (from
//! `IP_PKTINFO`) is looked up here. The table is read from `getifaddrs(3)` and
//! refreshed periodically and whenever an unknown index shows up (rate limited,
//! so a flood cannot turn into a storm of `getifaddrs` calls).

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// One interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Kernel interface index.
    pub index: u32,
    /// Interface name.
    pub name: Arc<str>,
    /// IPv4 addresses, primary first.
    pub addrs: Vec<Ipv4Addr>,
}

impl Interface {
    /// The address to answer from: `preferred` (the datagram's local address
    /// from `IP_PKTINFO`) if it belongs to this interface, else the primary one.
    pub fn local_addr(&self, preferred: Option<Ipv4Addr>) -> Option<Ipv4Addr> {
        match preferred {
            Some(p) if self.addrs.contains(&p) => Some(p),
            _ => self.addrs.first().copied(),
        }
    }
}

/// Reads the current interfaces from the kernel.
pub fn scan() -> std::io::Result<HashMap<u32, Arc<Interface>>> {
    let mut out: HashMap<u32, Interface> = HashMap::new();
    let mut names: HashMap<String, u32> = HashMap::new();
    for ifa in nix::ifaddrs::getifaddrs()? {
        let index = match names.get(&ifa.interface_name) {
            Some(i) => *i,
            None => match nix::net::if_::if_nametoindex(ifa.interface_name.as_str()) {
                Ok(i) => {
                    names.insert(ifa.interface_name.clone(), i);
                    i
                }
                Err(_) => continue,
            },
        };
        let entry = out.entry(index).or_insert_with(|| Interface {
            index,
            name: Arc::from(ifa.interface_name.as_str()),
            addrs: Vec::new(),
        });
        if let Some(a) = ifa.address.as_ref().and_then(|a| a.as_sockaddr_in()) {
            entry.addrs.push(a.ip());
        }
    }
    Ok(out.into_iter().map(|(i, f)| (i, Arc::new(f))).collect())
}

/// Minimum time between two refreshes triggered by unknown indexes.
const MISS_REFRESH_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct Inner {
    by_index: HashMap<u32, Arc<Interface>>,
    refreshed: Instant,
}

/// A shared, refreshable interface table.
#[derive(Debug, Clone)]
pub struct InterfaceTable {
    inner: Arc<RwLock<Inner>>,
}

impl InterfaceTable {
    /// Reads the interfaces now.
    pub fn load() -> std::io::Result<Self> {
        Ok(Self {
            inner: Arc::new(RwLock::new(Inner {
                by_index: scan()?,
                refreshed: Instant::now(),
            })),
        })
    }

    /// Re-reads the interfaces; logs addresses that changed.
    pub fn refresh(&self) {
        match scan() {
            Ok(fresh) => {
                let Ok(mut inner) = self.inner.write() else {
                    return;
                };
                for (i, f) in &fresh {
                    match inner.by_index.get(i) {
                        Some(old) if old.addrs == f.addrs => {}
                        Some(old) => tracing::info!(
                            interface = %f.name,
                            old = ?old.addrs,
                            new = ?f.addrs,
                            "interface addresses changed"
                        ),
                        None => {
                            tracing::debug!(interface = %f.name, addrs = ?f.addrs, "new interface")
                        }
                    }
                }
                inner.by_index = fresh;
                inner.refreshed = Instant::now();
            }
            Err(e) => tracing::warn!(error = %e, "cannot read interface addresses"),
        }
    }

    /// The interface with kernel index `index`; an unknown index triggers a
    /// (rate-limited) refresh.
    pub fn get(&self, index: u32) -> Option<Arc<Interface>> {
        let stale = {
            let inner = self.inner.read().ok()?;
            if let Some(i) = inner.by_index.get(&index) {
                return Some(i.clone());
            }
            inner.refreshed.elapsed() >= MISS_REFRESH_INTERVAL
        };
        if stale {
            self.refresh();
            return self.inner.read().ok()?.by_index.get(&index).cloned();
        }
        None
    }

    /// The interface named `name`.
    pub fn by_name(&self, name: &str) -> Option<Arc<Interface>> {
        let inner = self.inner.read().ok()?;
        inner.by_index.values().find(|i| &*i.name == name).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_found_with_its_address() {
        let t = InterfaceTable::load().unwrap();
        let lo = t.by_name("lo").unwrap();
        assert!(lo.addrs.contains(&Ipv4Addr::LOCALHOST));
        assert_eq!(t.get(lo.index).unwrap().name, lo.name);
        assert_eq!(lo.local_addr(None), lo.addrs.first().copied());
        assert_eq!(
            lo.local_addr(Some(Ipv4Addr::LOCALHOST)),
            Some(Ipv4Addr::LOCALHOST)
        );
        assert!(t.get(u32::MAX - 7).is_none());
    }
}
