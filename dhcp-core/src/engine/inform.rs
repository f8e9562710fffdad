//! DHCPINFORM: configuration without a lease (RFC 2131 §4.3.5).

use super::*;

impl Engine {
    pub(super) fn inform(&mut self, t: &Txn<'_>, out: &mut Outcome) {
        let (_, msg, c, network, info, _) = t.parts();
        let addr = if msg.ciaddr().is_unspecified() {
            info.src.ip().to_owned()
        } else {
            msg.ciaddr()
        };
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
        let dest = if !msg.giaddr().is_unspecified() {
            Destination::Relay(msg.giaddr())
        } else if !msg.ciaddr().is_unspecified() {
            Destination::Unicast(msg.ciaddr())
        } else {
            Destination::Broadcast
        };
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
