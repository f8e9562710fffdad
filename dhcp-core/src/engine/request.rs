//! DHCPREQUEST in every client state: SELECTING, INIT-REBOOT, RENEWING and
//! REBINDING (RFC 2131 §4.3.2), with the NAK and silence rules.

use super::*;

impl Engine {
    pub(super) fn request(&mut self, t: &Txn<'_>, out: &mut Outcome) {
        let (policy, msg, c, network, info, now) = t.parts();
        let authoritative = self.cfg.server.authoritative;
        let ciaddr = msg.ciaddr();
        // Which address is being asked for, and in which RFC 2131 state.
        let (addr, selecting) = match (c.server_id, c.requested_addr) {
            (Some(sid), requested) => {
                if sid != info.local_addr {
                    // The client chose another server; forget our offer.
                    self.drop_offer(&c.key);
                    out.verdict = Verdict::Ignored(IgnoreReason::OtherServer);
                    return;
                }
                match requested.or((!ciaddr.is_unspecified()).then_some(ciaddr)) {
                    Some(a) => (a, true),
                    None => {
                        out.verdict = Verdict::Ignored(IgnoreReason::Malformed);
                        return;
                    }
                }
            }
            (None, Some(a)) if ciaddr.is_unspecified() => (a, false), // INIT-REBOOT
            (None, _) if !ciaddr.is_unspecified() => (ciaddr, false), // RENEWING / REBINDING
            (None, _) => {
                out.verdict = Verdict::Ignored(IgnoreReason::Malformed);
                return;
            }
        };
        out.addr = Some(addr);
        if !self.topo.on_network(network, addr) {
            if authoritative {
                self.nak(msg, "requested address is not on this network", info, out);
            } else {
                out.verdict = Verdict::Ignored(IgnoreReason::NoRecord);
            }
            return;
        }
        if let Some(h) = self.host_on(c, network) {
            if h.address == addr {
                let scope = self.scope(c, addr, Some(&h), info.local_addr);
                self.respond(
                    msg,
                    MessageType::Ack,
                    addr,
                    Some(scope.lease_time),
                    &scope,
                    info,
                    out,
                );
                out.lease_time = Some(scope.lease_time);
            } else {
                self.nak(msg, "client has a reserved address", info, out);
            }
            return;
        }
        let Some(lease) = self.table.get(addr).cloned() else {
            // On our network but in no pool: a reservation of another client, or
            // an address we do not manage.
            if authoritative {
                self.nak(msg, "address not available", info, out);
            } else {
                out.verdict = Verdict::Ignored(IgnoreReason::NoRecord);
            }
            return;
        };
        let mine = lease.client.as_ref() == Some(&c.key);
        let offered_to_client = self.offers.get(&addr).is_some_and(|o| o.key == c.key);
        let held_by_other = self
            .offers
            .get(&addr)
            .is_some_and(|o| o.key != c.key && o.expires > now);
        let bound_to_other = !mine && lease.state == BindingState::Active && lease.ends > now;
        let reserved_other = self.topo.is_reserved(addr);
        if bound_to_other || held_by_other || reserved_other {
            self.nak(msg, "address in use by another client", info, out);
            return;
        }
        let usable = (mine && policy.may_return(&lease, now)) || policy.may_allocate(&lease, now);
        if selecting {
            // The client takes up an offer: it must be one we may still honour.
            if !(usable && (offered_to_client || mine || lease.state.is_free())) {
                self.nak(msg, "address not available", info, out);
                return;
            }
        } else {
            // INIT-REBOOT: we answer only for a binding we have a record of
            // (RFC 2131 §4.3.2: otherwise we MUST stay silent). RENEWING and
            // REBINDING (ciaddr set) for a free address with no record, e.g.
            // after the store was lost: the RFC is silent; ISC and Kea bind
            // the address to the client, and so do we when it is ours to
            // allocate (a failover peer's own free address).
            let adopt = !ciaddr.is_unspecified()
                && lease.client.is_none()
                && lease.state.is_free()
                && policy.may_allocate(&lease, now);
            let holds_other = !mine
                && self.table.by_client(&c.key).is_some_and(|h| {
                    h.addr != addr && h.state == BindingState::Active && h.ends > now
                });
            if holds_other {
                self.nak(msg, "client holds a different address", info, out);
                return;
            }
            if !mine && !adopt {
                out.verdict = Verdict::Ignored(IgnoreReason::NoRecord);
                return;
            }
            if !usable {
                out.verdict = Verdict::Ignored(IgnoreReason::NoRecord);
                return;
            }
        }
        let scope = self.scope(c, addr, None, info.local_addr);
        let granted = policy.grant_time(&lease, scope.lease_time, now).max(1);
        let mut new = lease.clone();
        new.state = BindingState::Active;
        new.client = Some(c.key.clone());
        new.hw = Some(c.hw.clone());
        // The record carries a client identifier only when it identifies the
        // client: with ignore-client-uids the hardware address does, and a
        // failover partner rebuilds the client from what the record carries.
        new.client_id = match &c.key {
            ClientKey::ClientId(_) => c.client_id.clone(),
            ClientKey::Hw(_) => None,
        };
        new.hostname = c.hostname.clone();
        new.starts = now;
        new.ends = now.saturating_add(granted);
        new.cltt = now;
        // A binding made anew (the record was not a running binding) does
        // not lean on the potential expiry the failover partner acknowledged
        // for the old one, which it may already have written off: with no
        // acknowledgement of its own (`atsfp` cleared) its grants stay within
        // MCLT until the partner acknowledges this binding. What the partner
        // was promised stands, though (`tsfp` kept), and the update for the
        // new binding proposes no earlier potential expiry than the old one
        // (all three found by the simulator).
        let remade = lease.state != BindingState::Active || lease.ends <= now;
        if remade {
            new.atsfp = 0;
        }
        policy.on_ack(&mut new, scope.lease_time, granted, now);
        if remade {
            new.tstp = new.tstp.max(lease.tstp).max(lease.tsfp);
        }
        // Release any other binding this client held on this network.
        if let Some(old) = self.table.by_client(&c.key).cloned()
            && old.addr != addr
            && old.state == BindingState::Active
        {
            let mut freed = old;
            freed.state = policy.release_state(&freed);
            freed.ends = now;
            freed.starts = now;
            self.commit(freed, out);
        }
        self.commit(new, out);
        self.drop_offer(&c.key);
        self.respond(
            msg,
            MessageType::Ack,
            addr,
            Some(granted),
            &scope,
            info,
            out,
        );
        out.lease_time = Some(granted);
    }
}
