//! DHCPDISCOVER: choosing an address and offering it (RFC 2131 §4.3.1).

use super::*;

impl Engine {
    pub(super) fn discover(&mut self, t: &Txn<'_>, out: &mut Outcome) {
        let (policy, msg, c, network, info, now) = t.parts();
        let host = self.host_on(c, network);
        // Starvation limits: only for new clients (no record, no offer).
        let limited = if host.is_none()
            && self.cfg.limits.any()
            && self.table.by_client(&c.key).is_none()
            && !self.offers_by_client.contains_key(&c.key)
        {
            let sources = self.limited_sources(msg.giaddr(), network, msg.chaddr());
            if let Err(reason) = self.limits_admit(&sources, network, now) {
                out.verdict = Verdict::Ignored(reason);
                return;
            }
            Some(sources)
        } else {
            None
        };
        let addr = match &host {
            Some(h) => h.address,
            None => match self.choose_address(policy, c, network, now) {
                Some(a) => a,
                None => {
                    out.verdict = Verdict::Ignored(IgnoreReason::PoolExhausted);
                    return;
                }
            },
        };
        if let Some(sources) = &limited {
            self.limits_charge(sources, addr, &c.key);
        }
        let scope = self.scope(c, addr, host.as_ref(), info.local_addr);
        let lease_time = if host.is_some() {
            scope.lease_time
        } else {
            let granted = match self.table.get(addr) {
                Some(l) => policy.grant_time(l, scope.lease_time, now),
                None => scope.lease_time,
            };
            self.hold_offer(addr, c.key.clone(), now);
            granted.max(1)
        };
        self.respond(
            msg,
            MessageType::Offer,
            addr,
            Some(lease_time),
            &scope,
            info,
            out,
        );
    }
}
