//! Configuration parsing and validation: the shipped example is valid, and each
//! kind of mistake is refused with an error naming the key path and the reason.

use dhcp_core::config::{Config, ConfigError, LoadBalance};

const BASE: &str = r#"
[[subnets]]
subnet = "10.99.0.0/24"
[[subnets.pools]]
start = "10.99.0.100"
end = "10.99.0.150"
"#;

fn err(text: &str) -> (String, String) {
    match Config::from_toml(text) {
        Err(ConfigError::Invalid { path, reason }) => (path, reason),
        Err(e) => panic!("expected a validation error, got {e}"),
        Ok(_) => panic!("expected a validation error for:\n{text}"),
    }
}

#[test]
fn example_config_is_valid() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/config-example.toml");
    let cfg = Config::load(path.as_ref()).expect("docs/config-example.toml must validate");
    let f = &cfg.failover[0];
    assert_eq!(f.load_balance(), Some(LoadBalance::Split(255)));
    assert_eq!(f.port, 647);
    assert_eq!(cfg.all_subnets().len(), 2);
}

#[test]
fn isc_failover_defaults() {
    let cfg = Config::from_toml(&format!(
        "{BASE}\n[[failover]]\nname = \"f\"\nrole = \"secondary\"\naddress = \"10.99.0.3\"\npeer_address = \"10.99.0.2\"\n"
    )
    .replace("end = \"10.99.0.150\"", "end = \"10.99.0.150\"\nfailover_peer = \"f\""))
    .unwrap();
    let f = &cfg.failover[0];
    assert_eq!(
        (
            f.port,
            f.peer_port,
            f.max_response_delay,
            f.max_unacked_updates
        ),
        (647, 647, 20, 100)
    );
    assert_eq!(
        (
            f.max_lease_misbalance,
            f.max_lease_ownership,
            f.min_balance,
            f.max_balance
        ),
        (15, 10, 60, 3600)
    );
    assert_eq!((f.load_balance_max_seconds, f.auto_partner_down), (0, 0));
}

#[test]
fn overlapping_ranges() {
    let (p, r) = err(&format!(
        "{BASE}[[subnets.pools]]\nstart = \"10.99.0.150\"\nend = \"10.99.0.160\"\n"
    ));
    assert_eq!(p, "subnets[0].pools[1]");
    assert!(r.contains("overlaps"), "{r}");
}

#[test]
fn range_outside_subnet() {
    let (p, r) = err(&BASE.replace("10.99.0.150", "10.99.1.5"));
    assert_eq!(p, "subnets[0].pools[0].end");
    assert!(r.contains("outside subnet"), "{r}");
}

#[test]
fn range_backwards() {
    let (p, r) = err(&BASE.replace("10.99.0.100", "10.99.0.200"));
    assert_eq!(p, "subnets[0].pools[0]");
    assert!(r.contains("after end"), "{r}");
}

#[test]
fn overlapping_subnets() {
    let (p, _) = err(&format!("{BASE}[[subnets]]\nsubnet = \"10.99.0.128/25\"\n"));
    assert_eq!(p, "subnets[1]");
}

#[test]
fn subnet_with_host_bits() {
    let (p, r) = err(&BASE.replace("10.99.0.0/24", "10.99.0.1/24"));
    assert_eq!(p, "subnets[0].subnet");
    assert!(r.contains("10.99.0.0/24"), "{r}");
}

#[test]
fn duplicate_reservations() {
    let hosts = "[[hosts]]\nname = \"a\"\nmac = \"02:00:00:00:00:01\"\naddress = \"10.99.0.10\"\n\
                 [[hosts]]\nname = \"b\"\nmac = \"02:00:00:00:00:01\"\naddress = \"10.99.0.11\"\n";
    let (p, r) = err(&format!("{BASE}{hosts}"));
    assert_eq!(p, "hosts[1].mac");
    assert!(r.contains("already reserved"), "{r}");
    let hosts = "[[hosts]]\nname = \"a\"\nmac = \"02:00:00:00:00:01\"\naddress = \"10.99.0.10\"\n\
                 [[hosts]]\nname = \"b\"\nmac = \"02:00:00:00:00:02\"\naddress = \"10.99.0.10\"\n";
    assert_eq!(err(&format!("{BASE}{hosts}")).0, "hosts[1].address");
}

#[test]
fn reservation_inside_dynamic_range_or_no_subnet() {
    let h = "[[hosts]]\nname = \"a\"\nmac = \"02:00:00:00:00:01\"\naddress = \"10.99.0.120\"\n";
    assert_eq!(err(&format!("{BASE}{h}")).0, "hosts[0].address");
    let h = "[[hosts]]\nname = \"a\"\nmac = \"02:00:00:00:00:01\"\naddress = \"10.99.9.9\"\n";
    assert!(
        err(&format!("{BASE}{h}"))
            .1
            .contains("no configured subnet")
    );
}

#[test]
fn bad_mac_is_a_parse_error() {
    let h = "[[hosts]]\nname = \"a\"\nmac = \"02:00:zz:00:00:01\"\naddress = \"10.99.0.10\"\n";
    match Config::from_toml(&format!("{BASE}{h}")) {
        Err(ConfigError::Parse(e)) => assert!(e.to_string().contains("invalid MAC"), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_keys_are_refused() {
    assert!(matches!(
        Config::from_toml("[server]\nstorr = \"x\"\n"),
        Err(ConfigError::Parse(_))
    ));
}

#[test]
fn lease_times_must_be_ordered() {
    let (p, r) = err(&format!("[lease_time]\ndefault = 900\nmax = 600\n{BASE}"));
    assert_eq!(p, "lease_time");
    assert!(r.contains("exceeds max"), "{r}");
}

#[test]
fn reserved_and_duplicate_custom_options() {
    let (p, r) = err(&format!(
        "[options]\ncustom = [{{ code = 53, type = \"u8\", value = 1 }}]\n{BASE}"
    ));
    assert_eq!(p, "options.custom[0]");
    assert!(r.contains("set by the server"), "{r}");
    let (p, _) = err(&format!(
        "[options]\ncustom = [{{ code = 252, type = \"hex\", value = \"zz\" }}]\n{BASE}"
    ));
    assert_eq!(p, "options.custom[0]");
}

fn failover(body: &str) -> String {
    format!(
        "{}\n[[failover]]\nname = \"f\"\naddress = \"10.99.0.2\"\npeer_address = \"10.99.0.3\"\n{body}",
        BASE.replace(
            "end = \"10.99.0.150\"",
            "end = \"10.99.0.150\"\nfailover_peer = \"f\""
        )
    )
}

#[test]
fn failover_rules_isc_enforces() {
    // Primary without mclt.
    let (p, r) = err(&failover("role = \"primary\"\nsplit = 128\n"));
    assert_eq!(p, "failover[0].mclt");
    assert!(r.contains("primary must specify mclt"), "{r}");
    // Primary without split/hba.
    assert!(
        err(&failover("role = \"primary\"\nmclt = 60\n"))
            .1
            .contains("split or hba")
    );
    // Both split and hba.
    let hba = vec!["ff"; 32].join(":");
    assert!(
        err(&failover(&format!(
            "role = \"primary\"\nmclt = 60\nsplit = 1\nhba = \"{hba}\"\n"
        )))
        .1
        .contains("not both")
    );
    // Split out of range, short hba.
    assert_eq!(
        err(&failover("role = \"primary\"\nmclt = 60\nsplit = 257\n")).0,
        "failover[0].split"
    );
    assert_eq!(
        err(&failover(
            "role = \"primary\"\nmclt = 60\nhba = \"ff:ff\"\n"
        ))
        .0,
        "failover[0].hba"
    );
    // Secondary with load-balance settings.
    assert!(
        err(&failover("role = \"secondary\"\nsplit = 128\n"))
            .1
            .contains("secondary may not")
    );
    // Same address on both ends.
    let same = failover("role = \"secondary\"\n").replace(
        "peer_address = \"10.99.0.3\"",
        "peer_address = \"10.99.0.2\"",
    );
    assert_eq!(err(&same).0, "failover[0].peer_address");
    // A relationship no pool uses.
    let unused = failover("role = \"secondary\"\n").replace("failover_peer = \"f\"", "");
    assert!(err(&unused).1.contains("not used by any pool"));
    // A pool naming an unknown relationship.
    let (p, _) = err(&BASE.replace(
        "end = \"10.99.0.150\"",
        "end = \"10.99.0.150\"\nfailover_peer = \"nope\"",
    ));
    assert_eq!(p, "subnets[0].pools[0].failover_peer");
    // A valid primary with hba.
    let ok = failover(&format!("role = \"primary\"\nmclt = 60\nhba = \"{hba}\"\n"));
    assert_eq!(
        Config::from_toml(&ok).unwrap().failover[0].load_balance(),
        Some(LoadBalance::Hba([0xff; 32]))
    );
}

#[test]
fn split_bitmaps_match_isc() {
    assert_eq!(LoadBalance::Split(0).hba(), [0; 32]);
    assert_eq!(LoadBalance::Split(256).hba(), [0xff; 32]);
    let h = LoadBalance::Split(128).hba();
    assert!(h[..16].iter().all(|b| *b == 0xff) && h[16..].iter().all(|b| *b == 0));
    let h = LoadBalance::Split(255).hba();
    assert!(h[..31].iter().all(|b| *b == 0xff));
    assert_eq!(h[31], 0x7f);
}

#[test]
fn host_reservations_round_trip_through_json() {
    let text = format!(
        "{BASE}[[hosts]]\nname = \"by-id\"\nclient_id = \"01:02:03\"\naddress = \"10.99.0.10\"\n\
         [[hosts]]\nname = \"by-mac\"\nmac = \"02:00:00:00:00:01\"\naddress = \"10.99.0.11\"\n"
    );
    let cfg = Config::from_toml(&text).unwrap();
    for h in &cfg.hosts {
        let json = serde_json::to_string(h).unwrap();
        let back: dhcp_core::config::HostConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, h, "{json}");
    }
}

/// Two links, each with its own relationship (MAAS: one per VLAN), and the
/// two things several relationships may not do.
#[test]
fn several_relationships_one_per_shared_network() {
    let two = r#"
[[subnets]]
subnet = "10.99.0.0/24"
[[subnets.pools]]
start = "10.99.0.100"
end = "10.99.0.150"
failover_peer = "vlan-a"

[[subnets]]
subnet = "10.99.1.0/24"
[[subnets.pools]]
start = "10.99.1.100"
end = "10.99.1.150"
failover_peer = "vlan-b"

[[failover]]
name = "vlan-a"
role = "secondary"
address = "10.99.0.2"
peer_address = "10.99.0.3"

[[failover]]
name = "vlan-b"
role = "secondary"
address = "10.99.1.2"
peer_address = "10.99.1.3"
"#;
    let cfg = Config::from_toml(two).unwrap();
    assert_eq!(cfg.failover.len(), 2);

    // Both listening on one address and port.
    let shared_port = two.replace("address = \"10.99.1.2\"", "address = \"10.99.0.2\"");
    let (p, r) = err(&shared_port);
    assert_eq!(p, "failover[1].address");
    assert!(r.contains("already the address of failover[0]"), "{r}");
    // The same address on another port is fine.
    let other_port = shared_port.replace(
        "address = \"10.99.0.2\"\npeer_address = \"10.99.1.3\"",
        "address = \"10.99.0.2\"\nport = 648\npeer_address = \"10.99.1.3\"",
    );
    assert_eq!(
        Config::from_toml(&other_port).unwrap().failover[1].port,
        648
    );

    // One shared network with pools of two relationships, or of one and none.
    let shared = |second_peer: &str| {
        format!(
            r#"
[[shared_networks]]
name = "vlan"
[[shared_networks.subnets]]
subnet = "10.99.0.0/24"
[[shared_networks.subnets.pools]]
start = "10.99.0.100"
end = "10.99.0.150"
failover_peer = "vlan-a"
[[shared_networks.subnets]]
subnet = "10.99.1.0/24"
[[shared_networks.subnets.pools]]
start = "10.99.1.100"
end = "10.99.1.150"
{second_peer}

[[failover]]
name = "vlan-a"
role = "secondary"
address = "10.99.0.2"
peer_address = "10.99.0.3"
"#
        )
    };
    let (p, r) = err(&shared(""));
    assert_eq!(p, "shared_networks[0].subnets[1].pools[0].failover_peer");
    assert!(
        r.contains("must all name the same failover relationship"),
        "{r}"
    );
    let mixed = shared("failover_peer = \"vlan-b\"")
        + "\n[[failover]]\nname = \"vlan-b\"\nrole = \"secondary\"\naddress = \"10.99.1.2\"\npeer_address = \"10.99.1.3\"\n";
    let (p, r) = err(&mixed);
    assert_eq!(p, "shared_networks[0].subnets[1].pools[0].failover_peer");
    assert!(r.contains("\"vlan-b\" differs from \"vlan-a\""), "{r}");
    // Both pools naming vlan-a: valid.
    assert!(Config::from_toml(&shared("failover_peer = \"vlan-a\"")).is_ok());
}

#[test]
fn fencing_needs_auto_partner_down_and_room_for_two_probes() {
    let with = |extra: &str, fence: &str| {
        failover(&format!(
            "role = \"secondary\"\n{extra}\n[failover.fencing]\n{fence}\n"
        ))
    };
    let (p, r) = err(&with("", ""));
    assert_eq!(p, "failover[0].fencing");
    assert!(r.contains("auto_partner_down"), "{r}");
    let (p, r) = err(&with("auto_partner_down = 3", "interval = 2"));
    assert_eq!(p, "failover[0].fencing.interval");
    assert!(r.contains("at least two probes"), "{r}");
    assert_eq!(
        err(&with("auto_partner_down = 30", "interval = 0")).0,
        "failover[0].fencing.interval"
    );
    let (p, r) = err(&with("auto_partner_down = 30", "probe_to = \"10.99.0.2\""));
    assert_eq!(p, "failover[0].fencing");
    assert!(r.contains("two different unicast"), "{r}");
    let unknown = Config::from_toml(&with("auto_partner_down = 30", "probe = 1"));
    assert!(
        unknown.is_err_and(|e| e.to_string().contains("unknown field")),
        "unknown fencing keys are refused"
    );
    let ok = Config::from_toml(&with(
        "auto_partner_down = 30",
        "probe_from = \"10.99.0.20\"",
    ))
    .unwrap();
    let f = &ok.failover[0];
    assert_eq!(
        f.fencing_probe(),
        Some(("10.99.0.20".parse().unwrap(), "10.99.0.3".parse().unwrap()))
    );
    assert_eq!(f.fencing.as_ref().map(|f| f.interval), Some(2));
}

#[test]
fn option_values_follow_rfc_2132() {
    let custom = |c: &str| format!("[options]\ncustom = [{c}]\n{BASE}");
    for (c, why) in [
        (
            r#"{ code = 23, type = "u8", value = 0 }"#,
            "TTL is 1 to 255",
        ),
        (
            r#"{ code = 22, type = "u16", value = 500 }"#,
            "at least 576",
        ),
        (
            r#"{ code = 33, type = "ips", value = ["10.0.0.0", "10.99.0.1", "10.1.0.0"] }"#,
            "groups of 8",
        ),
        (
            r#"{ code = 33, type = "ips", value = ["0.0.0.0", "10.99.0.1"] }"#,
            "not a valid static route destination",
        ),
        (
            r#"{ code = 21, type = "ip", value = "10.0.0.0" }"#,
            "groups of 8",
        ),
        (
            r#"{ code = 121, type = "routes", value = ["10.1.2.0/16 via 10.99.0.1"] }"#,
            "host bits",
        ),
        (
            r#"{ code = 121, type = "hex", value = "21:0a:00:00:00" }"#,
            "over 32",
        ),
    ] {
        let (p, r) = err(&custom(c));
        assert_eq!(p, "options.custom[0]", "{c}");
        assert!(r.contains(why), "{c}: {r}");
    }
    let ok = Config::from_toml(&custom(
        r#"{ code = 121, type = "routes", value = ["10.17.0.0/16 via 10.99.0.1", "0.0.0.0/0 via 10.99.0.254"] }"#,
    ))
    .unwrap();
    assert_eq!(
        ok.options.custom[0].value.to_bytes().unwrap(),
        [16, 10, 17, 10, 99, 0, 1, 0, 10, 99, 0, 254]
    );
}
