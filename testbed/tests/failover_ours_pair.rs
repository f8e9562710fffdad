//! Two of our daemons in a failover pair (split 128, mclt 60): NORMAL and
//! load-balanced service, a SIGKILL of either side, a TCP partition with
//! auto-partner-down and conflict resolution. Build the daemon first
//! (`cargo build -p dhcpd`).

#![allow(clippy::unwrap_used)] // integration tests: failing fast is the point

mod failover_common;

use failover_common::{Impl, Side, scenario_kill_restart, scenario_normal, scenario_partition};

#[test]
fn ours_pair_reaches_normal_and_shares_clients() {
    if !testbed::can_run_root_test("ours_pair_reaches_normal_and_shares_clients") {
        return;
    }
    scenario_normal(Impl::Ours, Impl::Ours);
}

#[test]
fn ours_pair_survives_primary_sigkill() {
    if !testbed::can_run_root_test("ours_pair_survives_primary_sigkill") {
        return;
    }
    scenario_kill_restart(Impl::Ours, Impl::Ours, Side::Primary, true);
}

#[test]
fn ours_pair_survives_secondary_sigkill() {
    if !testbed::can_run_root_test("ours_pair_survives_secondary_sigkill") {
        return;
    }
    scenario_kill_restart(Impl::Ours, Impl::Ours, Side::Secondary, false);
}

#[test]
fn ours_pair_partition_partner_down_and_resolution() {
    if !testbed::can_run_root_test("ours_pair_partition_partner_down_and_resolution") {
        return;
    }
    scenario_partition(Impl::Ours, Impl::Ours);
}

/// A client that selected the primary's OFFER when the primary died: its
/// first REQUEST (naming the primary) gets no answer from the secondary, its
/// retransmission a DHCPNAK, so it starts over at once instead of backing off.
#[test]
fn ours_secondary_naks_requests_stranded_on_a_dead_primary() {
    use dhcproto::v4::{DhcpOption, Flags, Message, MessageType, Opcode};
    use dhcproto::{Decodable, Decoder, Encodable, Encoder};
    use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
    use std::time::Duration;

    if !testbed::can_run_root_test("ours_secondary_naks_requests_stranded_on_a_dead_primary") {
        return;
    }
    let lab = failover_common::pair_lab();
    let mut pair = failover_common::Pair::start(&lab, Impl::Ours, Impl::Ours, 300, 0);
    let mark = pair.s.log_len();
    pair.p.kill().unwrap();
    failover_common::wait_states_in_order(
        Impl::Ours,
        &pair.s,
        mark,
        &["communications-interrupted"],
        Duration::from_secs(15),
    );
    let primary = testbed::topology::server_address(0);
    let replies = testbed::netns::in_namespace(lab.namespace("cli1").unwrap(), move || {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
        s.set_reuse_address(true).unwrap();
        s.set_broadcast(true).unwrap();
        s.bind_device(Some(b"eth0")).unwrap();
        s.bind(&SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68).into())
            .unwrap();
        let sock: UdpSocket = s.into();
        sock.set_read_timeout(Some(Duration::from_millis(700)))
            .unwrap();
        let mac = [0x02, 0x99, 0x77, 0, 0, 1];
        let mut m = Message::new_with_id(
            0x5eed,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            &mac,
        );
        m.set_opcode(Opcode::BootRequest)
            .set_flags(Flags::default().set_broadcast());
        m.opts_mut()
            .insert(DhcpOption::MessageType(MessageType::Request));
        m.opts_mut().insert(DhcpOption::ServerIdentifier(primary));
        m.opts_mut()
            .insert(DhcpOption::RequestedIpAddress(Ipv4Addr::new(10, 99, 0, 20)));
        let mut bytes = Vec::new();
        m.encode(&mut Encoder::new(&mut bytes)).unwrap();
        let mut answers = Vec::new();
        for _ in 0..2 {
            sock.send_to(&bytes, "255.255.255.255:67").unwrap();
            let mut buf = [0u8; 1500];
            let mut got = None;
            while let Ok((n, _)) = sock.recv_from(&mut buf) {
                let r = Message::decode(&mut Decoder::new(&buf[..n])).unwrap();
                if r.xid() == 0x5eed && r.opcode() == Opcode::BootReply {
                    got = r.opts().msg_type();
                    break;
                }
            }
            answers.push(got);
            std::thread::sleep(Duration::from_millis(300));
        }
        Ok(answers)
    })
    .unwrap();
    assert_eq!(replies, vec![None, Some(MessageType::Nak)]);
}

/// `dhcpd failover partner-down` (through the daemon's control socket)
/// moves a server whose partner is gone from COMMUNICATIONS-INTERRUPTED to
/// PARTNER-DOWN; `dhcpd failover status --json` reports it; it is refused
/// while the partner is connected.
#[test]
fn ours_partner_down_command() {
    use std::time::Duration;
    use testbed::server::{DhcpServer, OurDhcpd};

    if !testbed::can_run_root_test("ours_partner_down_command") {
        return;
    }
    let lab = failover_common::pair_lab();
    let ctl = testbed::server::control_socket(&lab, "srv1")
        .to_string_lossy()
        .into_owned();
    let ours = OurDhcpd::new(testbed::server::default_our_binary());
    let (pspec, sspec) = failover_common::pair_specs(300, 0);
    let mut p = ours.start(&lab, "srv1", &pspec).unwrap();
    let mut s = failover_common::Impl::Ours
        .server()
        .start(&lab, "srv2", &sspec)
        .unwrap();
    failover_common::wait_state(Impl::Ours, &p, "normal", Duration::from_secs(30));
    failover_common::wait_state(Impl::Ours, &s, "normal", Duration::from_secs(30));
    let cli = |args: &[&str]| {
        std::process::Command::new(testbed::server::default_our_binary())
            .args(args)
            .args(["--socket", &ctl])
            .output()
            .unwrap()
    };
    let refused = cli(&["failover", "partner-down"]);
    assert!(
        !refused.status.success(),
        "refused while connected: {refused:?}"
    );

    let mark = p.log_len();
    s.kill().unwrap();
    failover_common::wait_states_in_order(
        Impl::Ours,
        &p,
        mark,
        &["communications-interrupted"],
        Duration::from_secs(15),
    );
    let out = cli(&["failover", "partner-down"]);
    assert!(out.status.success(), "{out:?}");
    failover_common::wait_state(Impl::Ours, &p, "partner-down", Duration::from_secs(5));
    let status = cli(&["failover", "status", "--json"]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains("partner-down"), "{text}");
    let after = failover_common::our_status(&lab, "srv1");
    assert_eq!(after["state"], "partner-down");
    assert_eq!(after["role"], "primary");
    p.terminate(Duration::from_secs(10)).unwrap();
}
