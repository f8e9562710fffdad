//! The MAAS-style fixtures (written from the reference's tables, see
//! `fixtures/gen.sh`) parse, validate and map onto the model as MAAS means
//! them; their TOML round-trips through `Config::from_toml`.

use std::net::Ipv4Addr;
use std::path::Path;

use dhcp_core::config::{Config, OptionValue, Role, maas_rules};
use dhcp_isc::{Action, Event, IscConfig, parse_file};

fn load(name: &str) -> IscConfig {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    match parse_file(&path) {
        Ok(c) => c,
        Err(e) => panic!("{}", e.isc_render()),
    }
}

fn check_common(c: &IscConfig, me: Ipv4Addr, peer: Ipv4Addr) {
    let cfg = &c.config;
    assert!(
        cfg.server.ignore_client_uids
            || cfg
                .all_subnets()
                .iter()
                .all(|s| s.subnet.ignore_client_uids == Some(true))
    );
    assert_eq!(cfg.lease_time.default, Some(600));
    assert_eq!(cfg.lease_time.max, Some(600));
    assert_eq!(cfg.classes.len(), 1);
    assert_eq!(cfg.classes[0].vendor_class_prefix.as_deref(), Some("PXE"));
    assert_eq!(cfg.classes[0].lease_time.default, Some(30));
    assert_eq!(cfg.classes[0].lease_time.max, Some(30));
    assert_eq!(
        cfg.pxe.pxe_lease_time, 0,
        "the ISC class carries the PXE lease"
    );
    assert_eq!(cfg.shared_networks.len(), 2);
    assert_eq!(cfg.shared_networks[0].name, "vlan-5001");
    assert_eq!(cfg.shared_networks[1].subnets.len(), 2);
    let s0 = &cfg.shared_networks[0].subnets[0];
    assert_eq!(s0.next_server, Some(me));
    assert_eq!(s0.options.ntp_servers, Some(vec![me, peer]));
    assert_eq!(
        s0.options.dns_servers,
        Some(vec![
            Ipv4Addr::new(10, 99, 0, 2),
            Ipv4Addr::new(10, 99, 0, 3),
            Ipv4Addr::new(10, 99, 0, 10)
        ])
    );
    assert_eq!(s0.options.domain_name.as_deref(), Some("maas.example"));
    assert_eq!(
        s0.options.domain_search,
        Some(vec!["maas.example".to_owned(), "lab.example".to_owned()])
    );
    assert_eq!(s0.options.routers, Some(vec![Ipv4Addr::new(10, 99, 0, 1)]));
    assert!(s0.pxe);
    assert_eq!(s0.pools.len(), 2);
    assert!(
        s0.pools
            .iter()
            .all(|p| p.failover_peer.as_deref() == Some("failover-vlan-5001"))
    );
    // Snippet: time-offset 3600 as a signed 32-bit custom option.
    assert_eq!(s0.options.custom.len(), 1);
    assert_eq!(s0.options.custom[0].code, 2);
    assert_eq!(
        s0.options.custom[0].value,
        OptionValue::Hex("00:00:0e:10".into())
    );
    let relayed = &cfg.shared_networks[1].subnets[0];
    assert_eq!(relayed.options.mtu, Some(9000));
    assert!(relayed.pools.iter().all(|p| p.failover_peer.is_none()));
    // Global snippet.
    assert_eq!(
        cfg.options.custom[0].value,
        OptionValue::Ips(vec![Ipv4Addr::new(10, 99, 0, 10)])
    );
    // The boot chain is MAAS's table, with R replaced by {server}.
    let rules = &cfg.pxe.rules;
    let maas = maas_rules();
    assert_eq!(rules.len(), maas.len());
    for (ours, theirs) in rules.iter().zip(&maas) {
        assert_eq!(ours.matches, theirs.matches, "{}", theirs.name);
        assert_eq!(ours.filename, theirs.filename, "{}", theirs.name);
        assert_eq!(ours.path_prefix, theirs.path_prefix, "{}", theirs.name);
        assert_eq!(ours.vendor_class, theirs.vendor_class, "{}", theirs.name);
        assert_eq!(ours.force_options, theirs.force_options, "{}", theirs.name);
        assert_eq!(
            ours.vendor_options, theirs.vendor_options,
            "{}",
            theirs.name
        );
    }
    assert_eq!(cfg.hosts.len(), 2);
    assert_eq!(cfg.hosts[0].name, "node01-eth0-52-54-00-aa-bb-01");
    assert_eq!(cfg.hosts[0].address, Ipv4Addr::new(10, 99, 0, 50));
    assert_eq!(cfg.hosts[0].options.custom[0].code, 12);
    let f = &cfg.failover[0];
    assert_eq!(f.name, "failover-vlan-5001");
    assert_eq!((f.address, f.peer_address), (me, peer));
    assert_eq!((f.port, f.peer_port), (647, 647));
    assert_eq!(f.max_response_delay, 60);
    assert_eq!(f.max_unacked_updates, 10);
    assert_eq!(f.load_balance_max_seconds, 3);
    // Extras.
    let x = &c.extras;
    assert_eq!(x.omapi_port, Some(7911));
    assert_eq!(x.omapi_key.as_deref(), Some("omapi_key"));
    assert_eq!(x.keys[0].algorithm, "hmac-md5");
    assert_eq!(x.events.len(), 3);
    assert_eq!(x.events[0].events, vec![Event::Commit]);
    assert!(
        matches!(x.events[0].actions.last(), Some(Action::Execute { args, .. }) if args.len() == 15)
    );
    // arch, path-prefix, 4 of iPXE, 5 of ONIE, 2 of vivso, option 125.
    assert_eq!(x.option_definitions.len(), 14);
    // The TOML is our model, equal after a round trip.
    let toml = c.to_toml().unwrap();
    let back = Config::from_toml(&toml).unwrap_or_else(|e| panic!("{e}\n{toml}"));
    assert_eq!(&back, cfg);
}

#[test]
fn maas_primary_parses_and_validates() {
    let c = load("maas-primary.conf");
    check_common(&c, Ipv4Addr::new(10, 99, 0, 2), Ipv4Addr::new(10, 99, 0, 3));
    let f = &c.config.failover[0];
    assert_eq!(f.role, Role::Primary);
    assert_eq!(f.mclt, Some(3600));
    assert_eq!(f.split, Some(255));
}

#[test]
fn maas_secondary_parses_and_validates() {
    let c = load("maas-secondary.conf");
    check_common(&c, Ipv4Addr::new(10, 99, 0, 3), Ipv4Addr::new(10, 99, 0, 2));
    let f = &c.config.failover[0];
    assert_eq!(f.role, Role::Secondary);
    assert_eq!((f.mclt, f.split), (None, None));
}
