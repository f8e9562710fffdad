//! DHCPRELEASE and DHCPDECLINE: the client gives an address back, or reports
//! it in use (RFC 2131 §4.3.3, §4.3.4).

use super::*;

impl Engine {
    pub(super) fn release(&mut self, t: &Txn<'_>, out: &mut Outcome) {
        let (policy, msg, c, _, info, now) = t.parts();
        let addr = msg.ciaddr();
        out.addr = Some(addr);
        if c.server_id.is_some_and(|s| s != info.local_addr) {
            out.verdict = Verdict::Ignored(IgnoreReason::OtherServer);
            return;
        }
        match self.table.get(addr) {
            Some(l) if l.state == BindingState::Active && l.client.as_ref() == Some(&c.key) => {
                let mut l = l.clone();
                l.state = policy.release_state(&l);
                l.starts = now;
                l.ends = now;
                l.tstp = now;
                l.cltt = now;
                self.commit(l, out);
                out.verdict = Verdict::Released;
            }
            _ => out.verdict = Verdict::Ignored(IgnoreReason::NotBound),
        }
    }

    pub(super) fn decline(&mut self, t: &Txn<'_>, out: &mut Outcome) {
        let (_, _, c, _, info, now) = t.parts();
        let Some(addr) = c.requested_addr else {
            out.verdict = Verdict::Ignored(IgnoreReason::Malformed);
            return;
        };
        out.addr = Some(addr);
        // RFC 2131 Table 5: a DECLINE MUST carry the server identifier. One
        // without it cannot be told apart from a forgery or a DECLINE meant
        // for another server, and acting on it takes an address out of use.
        let Some(server_id) = c.server_id else {
            out.verdict = Verdict::Ignored(IgnoreReason::Malformed);
            return;
        };
        if server_id != info.local_addr {
            out.verdict = Verdict::Ignored(IgnoreReason::OtherServer);
            return;
        }
        let offered = self.offers.get(&addr).is_some_and(|o| o.key == c.key);
        match self.table.get(addr) {
            Some(l) if l.client.as_ref() == Some(&c.key) || offered => {
                let mut l = l.clone();
                l.state = BindingState::Abandoned;
                l.client = None;
                l.hw = None;
                l.client_id = None;
                l.hostname = None;
                l.starts = now;
                let probation = self
                    .topo
                    .subnet_of(addr)
                    .and_then(|i| self.topo.subnets.get(i))
                    .map_or(self.cfg.server.abandon_time, |s| s.abandon_time);
                l.ends = now.saturating_add(probation);
                l.tstp = l.ends;
                self.commit(l, out);
                self.drop_offer(&c.key);
                out.verdict = Verdict::Declined;
            }
            _ => out.verdict = Verdict::Ignored(IgnoreReason::NotBound),
        }
    }
}
