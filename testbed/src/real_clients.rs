//! Real DHCP clients run inside a host namespace: ISC dhclient, busybox
//! udhcpc and dhcpcd, each obtaining one lease.
//!
//! Namespaces share the host's mount and UTS namespaces, so the clients'
//! stock hook scripts would rewrite the host's `/etc/resolv.conf` and
//! hostname. Every client here runs with our own hook script instead, which
//! records its environment in the lab directory and configures only the
//! address inside the namespace (`ip addr replace`); dhcpcd additionally runs
//! with `nohook` for every hook that touches global files.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::netns;

/// Which real client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RealClient {
    /// ISC dhclient 4.4 (Debian `isc-dhcp-client`).
    Dhclient,
    /// busybox udhcpc (Debian `busybox`).
    Udhcpc,
    /// dhcpcd 9 (Debian `dhcpcd-base`).
    Dhcpcd,
}

impl fmt::Display for RealClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Dhclient => "dhclient",
            Self::Udhcpc => "udhcpc",
            Self::Dhcpcd => "dhcpcd",
        })
    }
}

/// What a real client got, as its hook script saw it.
#[derive(Debug, Clone)]
pub struct RealLease {
    /// The client.
    pub client: RealClient,
    /// The leased address.
    pub address: Ipv4Addr,
    /// `siaddr` (next server), where the client reports it.
    pub next_server: Option<Ipv4Addr>,
    /// The boot file name.
    pub boot_file: Option<String>,
    /// Option 54.
    pub server_id: Option<Ipv4Addr>,
    /// Option 3 (first router).
    pub router: Option<Ipv4Addr>,
    /// From start to the hook's bound call.
    pub elapsed: Duration,
    /// The hook script's whole environment.
    pub env: BTreeMap<String, String>,
}

const HOOK: &str = r#"#!/bin/sh
# testbed hook for dhclient, udhcpc and dhcpcd: records the environment and
# configures the address in this namespace only. Never touches resolv.conf,
# the hostname or any other host-global file.
out=@OUT@
ev="${reason:-$1}"
# Only the client's own (lower-case) variables, not the inherited environment.
env | grep '^[a-z]' | LC_ALL=C sort > "$out.$ev.tmp" && mv "$out.$ev.tmp" "$out.$ev"
echo "hook: $ev ip=${new_ip_address:-$ip} interface=$interface" >&2
case "$ev" in
  PREINIT) ip link set dev "$interface" up ;;
  BOUND|RENEW|REBIND|REBOOT)
    [ -n "$new_ip_address" ] && [ -z "$ifcarrier" ] && [ -z "$new_subnet_cidr" ] &&
      ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface" ;;
  bound|renew) ip addr replace "$ip/$mask" dev "$interface" ;;
  deconfig) ip addr flush dev "$interface" ;;
esac
exit 0
"#;

/// Runs `client` on `ifname` in `host` until it reports a lease (or
/// `timeout` passes), then stops it (by PID) and returns what it saw.
pub fn obtain_lease(
    lab: &Lab,
    host: &str,
    ifname: &str,
    client: RealClient,
    timeout: Duration,
) -> Result<RealLease> {
    obtain_lease_with(lab, host, ifname, client, &[], timeout)
}

/// Like [`obtain_lease`], with extra command-line arguments for the client
/// (for example `-B` to make udhcpc set the BROADCAST flag).
pub fn obtain_lease_with(
    lab: &Lab,
    host: &str,
    ifname: &str,
    client: RealClient,
    extra_args: &[&str],
    timeout: Duration,
) -> Result<RealLease> {
    let tag = format!("{client}-{host}");
    let out = lab.path(&format!("{tag}.env"));
    // An earlier run of this client in this host left its hook's records
    // (`<tag>.env.<event>`): remove them, or they would pass for this run's.
    let stale = format!("{tag}.env.");
    for entry in std::fs::read_dir(lab.dir()).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with(&stale) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let hook = lab.write_script(
        &format!("{tag}-hook.sh"),
        &HOOK.replace("@OUT@", &out.to_string_lossy()),
    )?;
    let hook_s = hook.to_string_lossy().into_owned();
    let started = Instant::now();
    let (mut process, bound_event, cleanup_file) = match client {
        RealClient::Dhclient => {
            netns::require_program("dhclient", "isc-dhcp-client")?;
            let conf = lab.write_file(
                &format!("{tag}.conf"),
                "send host-name \"testbed-client\";\nrequest subnet-mask, routers, broadcast-address, domain-name, domain-search;\n",
            )?;
            let lf = lab.path(&format!("{tag}.leases"));
            let pf = lab.path(&format!("{tag}.pid"));
            let args = [
                "-4".to_owned(),
                "-d".to_owned(),
                "-v".to_owned(),
                "-1".to_owned(),
                "-cf".to_owned(),
                conf.to_string_lossy().into_owned(),
                "-sf".to_owned(),
                hook_s.clone(),
                "-lf".to_owned(),
                lf.to_string_lossy().into_owned(),
                "-pf".to_owned(),
                pf.to_string_lossy().into_owned(),
            ];
            let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
            args.extend_from_slice(extra_args);
            args.push(ifname);
            (lab.spawn(host, &tag, "dhclient", &args)?, "BOUND", None)
        }
        RealClient::Udhcpc => {
            netns::require_program("busybox", "busybox")?;
            let mut args = vec![
                "udhcpc", "-i", ifname, "-n", "-q", "-f", "-t", "10", "-T", "1", "-s", &hook_s,
            ];
            args.extend_from_slice(extra_args);
            (lab.spawn(host, &tag, "busybox", &args)?, "bound", None)
        }
        RealClient::Dhcpcd => {
            netns::require_program("dhcpcd", "dhcpcd-base")?;
            // dhcpcd keeps per-interface files in global directories.
            let lease_file = PathBuf::from(format!("/var/lib/dhcpcd/{ifname}.lease"));
            let _ = std::fs::remove_file(&lease_file);
            let conf = lab.write_file(
                &format!("{tag}.conf"),
                &format!(
                    "# dhcpcd for netns tests: no hook touches host-global files\n\
                     ipv4only\nnoipv4ll\nnoarp\n\
                     nohook resolv.conf, hostname, ntp-common.conf, timesyncd.conf, chrony.conf, openntpd.conf, ypbind\n\
                     option subnet_mask, routers\n\
                     script {hook_s}\n"
                ),
            )?;
            let conf_s = conf.to_string_lossy().into_owned();
            let secs = timeout.as_secs().max(1).to_string();
            let mut args = vec!["-f", &conf_s, "-4", "-1", "-B", "-d", "-t", &secs];
            args.extend_from_slice(extra_args);
            args.push(ifname);
            (
                lab.spawn(host, &tag, "dhcpcd", &args)?,
                "BOUND",
                Some(lease_file),
            )
        }
    };
    let result_file = PathBuf::from(format!("{}.{bound_event}", out.display()));
    let deadline = started + timeout;
    let outcome = loop {
        if result_file.exists() {
            break read_env(&result_file);
        }
        if let Some(status) = process.try_wait()? {
            std::thread::sleep(Duration::from_millis(50));
            if result_file.exists() {
                break read_env(&result_file);
            }
            break Err(Error::Exited {
                what: tag.clone(),
                status: crate::process::describe(status),
                log: process.log_path().to_owned(),
            });
        }
        if Instant::now() >= deadline {
            break Err(Error::Timeout {
                what: format!("{client} lease in {host}"),
                seconds: timeout.as_secs_f64(),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    let _ = process.terminate(Duration::from_secs(2));
    // dhcpcd does not pass siaddr to its hook; its lease file is the raw ACK.
    let ack_siaddr = cleanup_file.as_deref().and_then(siaddr_from_raw_lease);
    if let Some(f) = cleanup_file {
        let _ = std::fs::remove_file(f);
    }
    let env = outcome?;
    let mut lease = lease_from_env(client, env, elapsed)?;
    if lease.next_server.is_none() {
        lease.next_server = ack_siaddr;
    }
    Ok(lease)
}

/// `siaddr` of a raw DHCP message stored in a file (dhcpcd's lease file).
fn siaddr_from_raw_lease(path: &Path) -> Option<Ipv4Addr> {
    use dhcproto::{Decodable, Decoder, v4::Message};
    let bytes = std::fs::read(path).ok()?;
    let msg = Message::decode(&mut Decoder::new(&bytes)).ok()?;
    Some(msg.siaddr()).filter(|a| !a.is_unspecified())
}

fn read_env(path: &Path) -> Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("read {}", path.display()), e))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

fn lease_from_env(
    client: RealClient,
    env: BTreeMap<String, String>,
    elapsed: Duration,
) -> Result<RealLease> {
    let get = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| env.get(*k).filter(|v| !v.is_empty()).cloned())
    };
    let ip = |keys: &[&str]| {
        get(keys).and_then(|v| {
            v.split_whitespace()
                .next()
                .and_then(|a| a.parse::<Ipv4Addr>().ok())
        })
    };
    let address = ip(&["new_ip_address", "ip"])
        .ok_or_else(|| Error::NoResult(format!("{client} reported no address: {env:?}")))?;
    Ok(RealLease {
        client,
        address,
        next_server: ip(&["new_next_server", "siaddr", "new_siaddr"]),
        boot_file: get(&["new_filename", "boot_file", "new_boot_file"]),
        server_id: ip(&["new_dhcp_server_identifier", "serverid"]),
        router: ip(&["new_routers", "router"]),
        elapsed,
        env,
    })
}
