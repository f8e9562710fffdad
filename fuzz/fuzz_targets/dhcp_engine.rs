//! Arbitrary bytes as a DHCP datagram: decoded as the daemon decodes what
//! arrives on UDP 67 (`dhcp_core::packet::decode_request`), and when that
//! succeeds, handled twice by a standalone engine at a fixed time (the second
//! time sees what the first one left in the lease table). Neither may panic;
//! every reply must encode into a decodable datagram.

#![no_main]

use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::OnceLock;

use dhcp_core::config::Config;
use dhcp_core::engine::{Engine, RecvInfo};
use dhcp_core::packet::{decode_reply, decode_request};
use dhcp_core::policy::Standalone;
use libfuzzer_sys::fuzz_target;

/// A direct subnet, a relayed one, a reservation, a class and PXE.
const CONFIG: &str = r#"
[server]
offer_hold = 30
abandon_time = 600
[lease_time]
default = 600
max = 3600
[options]
domain_name = "maas"
dns_servers = ["10.99.0.2"]
[[classes]]
name = "installer"
user_class = "maas-installer"
lease_time = { default = 3600, max = 3600 }
[pxe]
pxe_vendor_prefix = "PXE"
pxe_lease_time = 30
[[subnets]]
subnet = "10.99.0.0/24"
next_server = "10.99.0.2"
options = { routers = ["10.99.0.1"] }
[[subnets.pools]]
start = "10.99.0.100"
end = "10.99.0.119"
[[subnets]]
subnet = "10.99.8.0/24"
options = { routers = ["10.99.8.1"], mtu = 9000 }
[[subnets.pools]]
start = "10.99.8.10"
end = "10.99.8.12"
[[hosts]]
name = "node01"
mac = "52:54:00:aa:bb:01"
address = "10.99.0.20"
boot_file = "pxelinux.0"
"#;

/// The fixed, injected time (Unix seconds).
const NOW: u32 = 1_700_000_000;

fn config() -> &'static Config {
    static CFG: OnceLock<Config> = OnceLock::new();
    CFG.get_or_init(|| Config::from_toml(CONFIG).expect("the fuzz target's config is valid"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(request) = decode_request(data) else {
        return;
    };
    let mut engine = Engine::new(config().clone());
    let giaddr = request.msg.giaddr();
    let src = if giaddr.is_unspecified() {
        SocketAddrV4::new(request.msg.ciaddr(), 68)
    } else {
        SocketAddrV4::new(giaddr, 67)
    };
    let info = RecvInfo {
        interface: None,
        local_addr: Ipv4Addr::new(10, 99, 0, 2),
        src,
    };
    for now in [NOW, NOW + 40] {
        let outcome = engine.handle(&Standalone, &request, &info, now);
        if let Some(reply) = outcome.reply {
            assert!(
                decode_reply(&reply.bytes).is_ok(),
                "the engine's reply does not decode"
            );
        }
    }
});
