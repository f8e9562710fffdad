//! The invariants checked after every step of a run.

use super::*;

impl Pair {
    /// A grant beyond `now + MCLT` relies on the partner knowing the potential
    /// expiry `tsfp` it was computed from: check that it does.
    pub(super) fn check_partner_knows(&self, i: usize, r: &Reply) -> Result<(), Box<Failure>> {
        let tsfp = r.tsfp;
        if r.ends <= self.local(i).saturating_add(self.sc.mclt) {
            return Ok(());
        }
        let other = &self.servers[1 - i];
        let rec = if other.up {
            other.table().get(r.addr).cloned()
        } else {
            other.durable.get(&r.addr).cloned()
        };
        let known = rec.map_or(0, |l| l.tsfp.max(l.tstp));
        let tol = (TOL_MS / 1000) as u32;
        if known.saturating_add(tol) < tsfp {
            return Err(self.fail(format!(
                "server {i} granted {} relying on potential expiry {tsfp} the partner does not know ({known}) [ends {} local {} mclt {}]",
                r.addr, r.ends, self.local(i), self.sc.mclt
            )));
        }
        Ok(())
    }

    pub(super) fn check(&self) -> Result<(), Box<Failure>> {
        // 1. No address held by two clients at once.
        let mut held: Vec<(Ipv4Addr, usize)> = self
            .clients
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                c.held
                    .as_ref()
                    .filter(|h| h.until_ms > self.now_ms)
                    .map(|h| (h.addr, i))
            })
            .collect();
        held.sort();
        for w in held.windows(2) {
            if w[0].0 == w[1].0 {
                return Err(self.fail(format!(
                    "{} held by clients {} and {} at once",
                    w[0].0, w[0].1, w[1].1
                )));
            }
        }
        // 2. No two running servers with the address ACTIVE for different clients.
        if self.servers.iter().all(|s| s.up) {
            let [a, b] = &self.servers;
            let (la, lb) = (self.local(0), self.local(1));
            let tol = (TOL_MS / 1000) as u32;
            for l in a.table().iter() {
                if l.state != BindingState::Active || l.ends <= la.saturating_add(tol) {
                    continue;
                }
                if let Some(m) = b.table().get(l.addr)
                    && m.state == BindingState::Active
                    && m.ends > lb.saturating_add(tol)
                    && m.client != l.client
                {
                    return Err(self.fail(format!(
                        "{} ACTIVE for {:?} on server 0 and {:?} on server 1",
                        l.addr, l.client, m.client
                    )));
                }
            }
        }
        // 3. Every lease a client holds is durable somewhere.
        for (ci, c) in self.clients.iter().enumerate() {
            let Some(h) = &c.held else { continue };
            if h.until_ms <= self.now_ms {
                continue;
            }
            let durable = self.servers.iter().any(|s| {
                s.durable.get(&h.addr).is_some_and(|l| {
                    l.state == BindingState::Active && l.client.as_ref() == Some(&c.key)
                })
            });
            if !durable {
                return Err(self.fail(format!(
                    "client {ci}'s lease on {} is in no durable store",
                    h.addr
                )));
            }
        }
        Ok(())
    }
}
