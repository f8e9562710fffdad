//! Parse and validate a generated dhcpd.conf with 10,000 hosts and 500
//! subnets, each subnet with MAAS's options, boot chain and two pools.
//! `cargo bench -p dhcp-isc --bench parse`

use std::fmt::Write;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

const SUBNETS: usize = 500;
const HOSTS_PER_SUBNET: usize = 20;

fn chain(r: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "    if option user-class = \"iPXE\" {{ filename \"http://{r}:5248/ipxe.cfg\"; }}"
    );
    let _ = writeln!(
        s,
        "    elsif option arch = 00:00 {{ filename \"lpxelinux.0\"; option path-prefix \"http://{r}:5248/\"; }}"
    );
    for (arch, file) in [("00:07", "bootx64.efi"), ("00:0B", "bootaa64.efi")] {
        let _ = writeln!(
            s,
            "    elsif option arch = {arch} {{ filename \"{file}\"; }}"
        );
    }
    let _ = writeln!(
        s,
        "    elsif option arch = 00:10 {{ filename \"http://{r}:5248/images/bootx64.efi\"; option vendor-class-identifier \"HTTPClient\"; }}"
    );
    let _ = writeln!(
        s,
        "    else {{ filename \"lpxelinux.0\"; option path-prefix \"http://{r}:5248/\"; }}"
    );
    s
}

fn generate() -> String {
    let mut s = String::from(
        "option arch code 93 = unsigned integer 16;\noption path-prefix code 210 = text;\n\
         class \"PXE\" { match if substring(option vendor-class-identifier, 0, 3) = \"PXE\"; default-lease-time 30; max-lease-time 30; }\n\
         default-lease-time 600;\nmax-lease-time 600;\n",
    );
    for i in 0..SUBNETS {
        let (a, b) = (i / 250, i % 250);
        let net = format!("10.{a}.{b}");
        let r = format!("{net}.2");
        let _ = writeln!(s, "shared-network vlan-{i} {{");
        let _ = writeln!(s, "  subnet {net}.0 netmask 255.255.255.0 {{");
        let _ = writeln!(
            s,
            "    ignore-client-uids true;\n    next-server {r};\n    option subnet-mask 255.255.255.0;\n    option broadcast-address {net}.255;\n    option domain-name-servers {r}, {net}.3;\n    option domain-name \"maas\";\n    option routers {net}.1;\n    option ntp-servers {r}, {net}.3;"
        );
        s.push_str(&chain(&r));
        let _ = writeln!(
            s,
            "    pool {{ range {net}.100 {net}.199; }}\n    pool {{ range {net}.200 {net}.220; }}\n  }}\n}}"
        );
    }
    for i in 0..SUBNETS * HOSTS_PER_SUBNET {
        let sub = i / HOSTS_PER_SUBNET;
        let (a, b) = (sub / 250, sub % 250);
        let host = 10 + i % HOSTS_PER_SUBNET;
        let _ = writeln!(
            s,
            "host node{i}-eth0 {{\n  hardware ethernet 52:54:{:02x}:{:02x}:{:02x}:{:02x};\n  fixed-address 10.{a}.{b}.{host};\n}}",
            (i >> 24) & 0xff,
            (i >> 16) & 0xff,
            (i >> 8) & 0xff,
            i & 0xff
        );
    }
    s
}

fn bench(c: &mut Criterion) {
    let text = generate();
    let parsed = dhcp_isc::parse_str(&text, "generated.conf")
        .unwrap_or_else(|e| panic!("{}", e.isc_render()));
    assert_eq!(parsed.config.hosts.len(), SUBNETS * HOSTS_PER_SUBNET);
    assert_eq!(parsed.config.all_subnets().len(), SUBNETS);
    let mut g = c.benchmark_group("isc");
    g.sample_size(10);
    g.bench_function("parse_validate_10k_hosts_500_subnets", |b| {
        b.iter(|| {
            dhcp_isc::parse_str(black_box(&text), "generated.conf").map(|c| c.config.hosts.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
