//! What goes into a reply besides the address: parameter request list,
//! maximum message size and overload, T1/T2, client identifier echo.

use crate::common::*;
use dhcproto::v4::{Architecture, DhcpOption, MessageType, OptionCode};
use dhcproto::{Decodable, Encodable};

const T0: u32 = 1_800_000_000;

/// T1 and T2 configured as options (ISC `option dhcp-renewal-time`) go out
/// as configured, and only while shorter than the lease they go with.
#[test]
fn configured_t1_t2_are_sent_only_below_the_lease_time() {
    let toml = CONFIG.replace(
        "domain_name = \"lab.test\"",
        "domain_name = \"lab.test\"\ncustom = [{ code = 58, type = \"u32\", value = 200 }, \
         { code = 59, type = \"u32\", value = 700 }]",
    );
    let mut e =
        dhcp_core::engine::Engine::new(dhcp_core::config::Config::from_toml(&toml).unwrap());
    let o = run(&mut e, &msg(MessageType::Discover, 1), T0);
    let bytes = &o.reply.as_ref().unwrap().bytes;
    let wire = dhcproto::v4::Message::decode(&mut dhcproto::Decoder::new(bytes)).unwrap();
    assert_eq!(
        wire.opts().get(OptionCode::Renewal),
        Some(&DhcpOption::Renewal(200))
    );
    // 700 s is past the 600 s lease: not sent.
    assert_eq!(wire.opts().get(OptionCode::Rebinding), None);
    // As text, not seconds: refused.
    let bad = CONFIG.replace(
        "domain_name = \"lab.test\"",
        "domain_name = \"lab.test\"\ncustom = [{ code = 58, type = \"text\", value = \"1\" }]",
    );
    let err = dhcp_core::config::Config::from_toml(&bad)
        .unwrap_err()
        .to_string();
    assert!(err.contains("T1/T2"), "{err}");
}

/// A client whose parameter request list leaves T1/T2 out gets them only
/// with `server.always_send_timers` (Kea's behaviour).
#[test]
fn unrequested_t1_t2_go_only_with_always_send_timers() {
    for always in [false, true] {
        let toml = CONFIG
            .replace(
                "offer_hold = 10",
                &format!("offer_hold = 10\nalways_send_timers = {always}"),
            )
            .replace(
                "domain_name = \"lab.test\"",
                "domain_name = \"lab.test\"\ncustom = [{ code = 58, type = \"u32\", value = 200 }]",
            );
        let mut e =
            dhcp_core::engine::Engine::new(dhcp_core::config::Config::from_toml(&toml).unwrap());
        let m = with(
            msg(MessageType::Discover, 1),
            DhcpOption::ParameterRequestList(vec![OptionCode::SubnetMask, OptionCode::Router]),
        );
        let o = run(&mut e, &m, T0);
        assert_eq!(opt(&o, OptionCode::Renewal).is_some(), always, "{always}");
        assert!(opt(&o, OptionCode::DomainName).is_none());
    }
}

#[test]
fn parameter_request_list_limits_options() {
    let mut e = engine();
    let m = with(
        msg(MessageType::Discover, 1),
        DhcpOption::ParameterRequestList(vec![OptionCode::SubnetMask, OptionCode::Router]),
    );
    let o = run(&mut e, &m, T0);
    assert!(opt(&o, OptionCode::Router).is_some());
    assert!(opt(&o, OptionCode::DomainNameServer).is_none());
    assert!(opt(&o, OptionCode::DomainName).is_none());
    assert!(opt(&o, OptionCode::ServerIdentifier).is_some());
    assert!(opt(&o, OptionCode::AddressLeaseTime).is_some());
}

/// The test configuration with `extra` added to its global `[options]`.
fn engine_with_options(extra: &str) -> dhcp_core::engine::Engine {
    let cfg = CONFIG.replace(
        "domain_name = \"lab.test\"",
        &format!("domain_name = \"lab.test\"\n{extra}"),
    );
    dhcp_core::engine::Engine::new(dhcp_core::config::Config::from_toml(&cfg).unwrap())
}

#[test]
fn maximum_message_size_is_respected() {
    let long: Vec<String> = (0..40)
        .map(|i| format!("search-domain-number-{i}.lab.test"))
        .collect();
    let mut e = engine_with_options(&format!("domain_search = {long:?}"));
    let big = run(
        &mut e,
        &with(
            msg(MessageType::Discover, 1),
            DhcpOption::MaxMessageSize(1500),
        ),
        T0,
    );
    assert!(big.reply.as_ref().unwrap().bytes.len() > 548);
    assert!(opt(&big, OptionCode::DomainSearch).is_some());
    let small = run(
        &mut e,
        &with(
            msg(MessageType::Discover, 2),
            DhcpOption::MaxMessageSize(576),
        ),
        T0,
    );
    let r = small.reply.as_ref().unwrap();
    assert!(r.bytes.len() <= 548, "{}", r.bytes.len());
    assert!(opt(&small, OptionCode::ServerIdentifier).is_some());
    // No option 57: the RFC 2131 default of 576.
    let dflt = run(&mut e, &msg(MessageType::Discover, 3), T0);
    assert!(dflt.reply.unwrap().bytes.len() <= 548);
}

#[test]
fn options_that_do_not_fit_overload_sname_and_file_rather_than_being_dropped() {
    // A search list of 230 bytes and ten NTP servers: with its boot file in
    // `file` (a UEFI PXE ROM's, or the default rule's for any other client),
    // a 576-byte client gets them through `sname`. (Unit tests in
    // `packet::encode` cover `file` too.)
    let search: Vec<String> = (0..6)
        .map(|i| format!("rack-{i}-provisioning.zone-{i}-lab.site{i}"))
        .collect();
    let ntp: Vec<String> = (1..=10).map(|i| format!("10.99.0.{i}")).collect();
    let mut e = engine_with_options(&format!(
        "domain_search = {search:?}\nntp_servers = {ntp:?}"
    ));
    let requested = [
        OptionCode::SubnetMask,
        OptionCode::Router,
        OptionCode::DomainNameServer,
        OptionCode::DomainName,
        OptionCode::DomainSearch,
        OptionCode::NtpServers,
    ];
    let prl = DhcpOption::ParameterRequestList(requested.to_vec());
    let pxe = with(
        with(
            with(
                with(msg(MessageType::Discover, 1), prl.clone()),
                DhcpOption::MaxMessageSize(576),
            ),
            DhcpOption::ClientSystemArchitecture(Architecture::X64),
        ),
        DhcpOption::ClassIdentifier(b"PXEClient:Arch:00007:UNDI:003016".to_vec()),
    );
    let plain = with(
        with(msg(MessageType::Discover, 2), prl),
        DhcpOption::MaxMessageSize(576),
    );
    for (m, boot_file) in [(pxe, &b"bootx64.efi\0"[..]), (plain, &b"lpxelinux.0\0"[..])] {
        let o = run(&mut e, &m, T0);
        let r = o.reply.as_ref().unwrap();
        assert!(r.bytes.len() <= 548, "{} bytes", r.bytes.len());
        let seen = dhcp_core::packet::decode_reply(&r.bytes).unwrap();
        let lease = [OptionCode::ServerIdentifier, OptionCode::AddressLeaseTime];
        for code in requested.into_iter().chain(lease) {
            // Compared as encoded: a decoded search list's names are absolute.
            let wire = |o: Option<&DhcpOption>| o.map(|o| o.to_vec().unwrap());
            assert!(r.msg.opts().get(code).is_some(), "{code:?} kept");
            assert_eq!(
                wire(seen.opts().get(code)),
                wire(r.msg.opts().get(code)),
                "{code:?} sent"
            );
        }
        // `sname` only: the boot file keeps `file`.
        assert_eq!(
            seen.opts().get(OptionCode::OptionOverload),
            Some(&DhcpOption::OptionOverload(2))
        );
        assert_eq!(
            &r.bytes[108..108 + boot_file.len()],
            boot_file,
            "file keeps the boot file"
        );
    }
}

#[test]
fn client_identifier_is_echoed_in_offer_ack_and_nak() {
    // RFC 6842: option 61 comes back unaltered in every reply.
    let mut e = engine();
    let id = DhcpOption::ClientIdentifier(vec![0xff, 0, 0, 0, 7, 0, 1, 2]);
    let o = run(&mut e, &with(msg(MessageType::Discover, 1), id.clone()), T0);
    assert_eq!(reply_type(&o), Some(MessageType::Offer));
    assert_eq!(opt(&o, OptionCode::ClientIdentifier), Some(&id));
    let a = yiaddr(&o);
    let o = run(&mut e, &with(selecting(1, a, SERVER), id.clone()), T0 + 1);
    assert_eq!(reply_type(&o), Some(MessageType::Ack));
    assert_eq!(opt(&o, OptionCode::ClientIdentifier), Some(&id));
    // Another client asking for that address is refused, with its own id.
    let other = DhcpOption::ClientIdentifier(vec![0xff, 0, 0, 0, 8, 0, 1, 2]);
    let o = run(
        &mut e,
        &with(selecting(2, a, SERVER), other.clone()),
        T0 + 2,
    );
    assert_eq!(reply_type(&o), Some(MessageType::Nak));
    assert_eq!(opt(&o, OptionCode::ClientIdentifier), Some(&other));
    // Without option 61 the replies carry none.
    let o = run(&mut e, &msg(MessageType::Discover, 3), T0 + 3);
    assert_eq!(opt(&o, OptionCode::ClientIdentifier), None);
}
