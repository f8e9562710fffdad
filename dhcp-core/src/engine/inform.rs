//! DHCPINFORM: configuration without a lease (RFC 2131 §4.3.5).

use super::*;

impl Engine {
    pub(super) fn inform(&mut self, t: &Txn<'_>, out: &mut Outcome) {
        let (_, msg, c, network, info, _) = t.parts();
        // RFC 2131 4.3.5: the ACK goes to `ciaddr`, which the client MUST
        // fill in (Table 5); without it there is nowhere to send it, and
        // ISC dhcpd and Kea drop the message too.
        if msg.ciaddr().is_unspecified() {
            out.verdict = Verdict::Ignored(IgnoreReason::Malformed);
            return;
        }
        let addr = msg.ciaddr();
        let addr = if self.topo.on_network(network, addr) {
            addr
        } else {
            match self.topo.networks[network].subnets.first() {
                Some(s) => self.topo.subnets[*s].net.network(),
                None => return,
            }
        };
        let scope = self.scope(c, addr, None, info.local_addr);
        let mut m = reply::header(msg, Ipv4Addr::UNSPECIFIED, scope.next_server);
        m.set_ciaddr(msg.ciaddr());
        // Straight to ciaddr, relayed or not (4.3.5), as ISC dhcpd and Kea.
        let dest = Destination::Unicast(msg.ciaddr());
        let parts = reply::ReplyParts {
            msg_type: MessageType::Ack,
            server_id: info.local_addr,
            lease_time: None,
            options: &scope.options,
            boot: scope.boot.as_ref(),
            host_boot_file: scope.host_boot_file.as_deref(),
            message: None,
            echo_client_id: self.cfg.server.echo_client_id,
            always_send_timers: self.cfg.server.always_send_timers,
        };
        self.emit(reply::finish(msg, m, parts, dest), out);
    }
}
