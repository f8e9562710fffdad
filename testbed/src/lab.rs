//! The lab: a bridge namespace holding one bridge per segment, and hosts (one
//! namespace each) joined to segments by veth pairs.
//!
//! ```text
//!  netns <id>-lab:  br0 (segment "srv")          br1 (segment "cli", with a relay)
//!                   ├─ p0-0 ══ eth0 in <id>-srv1  ├─ p3-0 ══ eth0 in <id>-rcl1
//!                   ├─ p1-0 ══ eth0 in <id>-cli1  └─ p2-1 ══ eth1 in <id>-relay
//!                   └─ p2-0 ══ eth0 in <id>-relay
//! ```
//!
//! Every namespace, process and file a [`Lab`] creates is removed when it is
//! dropped (also while unwinding from a panic); the binary's Ctrl-C handler
//! ([`crate::cleanup::install_signal_handler`]) removes them on a signal.
//! Only addresses from 10.99.0.0/16 are accepted.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ipnet::Ipv4Net;

use crate::cleanup;
use crate::error::{Error, Result};
use crate::names;
use crate::netns;
use crate::process::Process;

/// The only address block the lab may use: 10.99.0.0/16.
pub fn lab_block() -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(10, 99, 0, 0), 16)
}

/// One layer-2 segment: a bridge inside the lab's bridge namespace.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Segment name, as given to [`Lab::add_segment`].
    pub name: String,
    /// The bridge device in the bridge namespace (`br0`, `br1`, …).
    pub bridge: String,
}

/// One interface of a host.
#[derive(Debug, Clone)]
pub struct HostInterface {
    /// Interface name inside the host's namespace (`eth0`, …).
    pub name: String,
    /// The segment it is attached to.
    pub segment: String,
    /// The veth end in the bridge namespace (what a link cut sets down).
    pub bridge_port: String,
    /// The address configured on it, if any.
    pub address: Option<Ipv4Net>,
}

/// A host: one network namespace.
#[derive(Debug, Clone)]
pub struct Host {
    /// Host name, as given to [`Lab::add_host`].
    pub name: String,
    /// The namespace (`<lab id>-<name>`), usable with `ip netns exec`.
    pub namespace: String,
    /// Its interfaces.
    pub interfaces: Vec<HostInterface>,
}

impl Host {
    /// The first configured address of the host, if any.
    pub fn address(&self) -> Option<Ipv4Addr> {
        self.interfaces
            .iter()
            .find_map(|i| i.address.map(|a| a.addr()))
    }

    /// The interface named `name`.
    pub fn interface(&self, name: &str) -> Option<&HostInterface> {
        self.interfaces.iter().find(|i| i.name == name)
    }
}

/// A network-namespace lab. See the module documentation.
#[derive(Debug)]
pub struct Lab {
    id: String,
    bridge_ns: String,
    dir: PathBuf,
    keep_files: bool,
    segments: Vec<Segment>,
    hosts: Vec<Host>,
}

impl Lab {
    /// Creates an empty lab (just the bridge namespace and a scratch
    /// directory) with the default name prefix.
    pub fn new() -> Result<Self> {
        Self::with_prefix(names::DEFAULT_PREFIX)
    }

    /// Creates an empty lab whose namespaces are named `PREFIX<pid>-<n>-…`.
    ///
    /// The scratch directory is removed on drop unless the environment
    /// variable `TESTBED_KEEP_FILES` is set.
    pub fn with_prefix(prefix: &str) -> Result<Self> {
        netns::require_program("ip", "iproute2")?;
        let id = names::new_lab_id(prefix);
        let dir = std::env::temp_dir().join(format!("testbed-{id}"));
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("create {}", dir.display()), e))?;
        cleanup::register_dir(&dir);
        let bridge_ns = format!("{id}-lab");
        let lab = Lab {
            id,
            bridge_ns: bridge_ns.clone(),
            dir,
            keep_files: std::env::var_os("TESTBED_KEEP_FILES").is_some(),
            segments: Vec::new(),
            hosts: Vec::new(),
        };
        create_namespace(&bridge_ns)?;
        netns::ip_in(&bridge_ns, &["link", "set", "lo", "up"])?;
        // With br_netfilter loaded on the host, every frame crossing a bridge
        // would also run the iptables hooks of the bridge namespace; a switch
        // does not, and under load the hooks cost every sender CPU. These
        // settings are per namespace; where br_netfilter is absent they do
        // not exist and `-e` ignores them.
        let _ = netns::run(
            "ip",
            [
                "netns",
                "exec",
                &bridge_ns,
                "sysctl",
                "-qew",
                "net.bridge.bridge-nf-call-iptables=0",
                "net.bridge.bridge-nf-call-ip6tables=0",
                "net.bridge.bridge-nf-call-arptables=0",
            ],
        );
        Ok(lab)
    }

    /// This lab's identifier (`tb<pid>-<n>`), the prefix of its namespaces.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The lab's scratch directory (configs, leases, logs).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The namespace holding the bridges.
    pub fn bridge_namespace(&self) -> &str {
        &self.bridge_ns
    }

    /// All namespaces of this lab (bridge namespace first).
    pub fn namespaces(&self) -> Vec<String> {
        let mut v = vec![self.bridge_ns.clone()];
        v.extend(self.hosts.iter().map(|h| h.namespace.clone()));
        v
    }

    /// The segments.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The hosts.
    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// Adds a segment: a new bridge (STP off, no forwarding delay, no
    /// multicast snooping) in the bridge namespace.
    pub fn add_segment(&mut self, name: &str) -> Result<&Segment> {
        check_name(name)?;
        if self.segments.iter().any(|s| s.name == name) {
            return Err(Error::BadName(format!("segment {name} exists")));
        }
        let bridge = format!("br{}", self.segments.len());
        netns::ip_in(
            &self.bridge_ns,
            &[
                "link",
                "add",
                &bridge,
                "type",
                "bridge",
                "stp_state",
                "0",
                "forward_delay",
                "0",
                "mcast_snooping",
                "0",
            ],
        )?;
        netns::ip_in(&self.bridge_ns, &["link", "set", &bridge, "up"])?;
        self.segments.push(Segment {
            name: name.to_owned(),
            bridge,
        });
        Ok(&self.segments[self.segments.len() - 1])
    }

    /// Adds a host (a namespace with `lo` up and IPv6 disabled), not yet
    /// attached to any segment.
    pub fn add_host(&mut self, name: &str) -> Result<&Host> {
        check_name(name)?;
        if self.hosts.iter().any(|h| h.name == name) {
            return Err(Error::BadName(format!("host {name} exists")));
        }
        let ns = format!("{}-{name}", self.id);
        create_namespace(&ns)?;
        self.hosts.push(Host {
            name: name.to_owned(),
            namespace: ns.clone(),
            interfaces: Vec::new(),
        });
        netns::ip_in(&ns, &["link", "set", "lo", "up"])?;
        let _ = netns::run(
            "ip",
            [
                "netns",
                "exec",
                &ns,
                "sysctl",
                "-qw",
                "net.ipv6.conf.all.disable_ipv6=1",
            ],
        );
        Ok(&self.hosts[self.hosts.len() - 1])
    }

    /// Joins `host` to `segment` through a new veth pair whose host end is
    /// called `ifname`, optionally with an address (which must lie in
    /// 10.99.0.0/16).
    pub fn connect(
        &mut self,
        host: &str,
        segment: &str,
        ifname: &str,
        address: Option<Ipv4Net>,
    ) -> Result<()> {
        check_name(ifname)?;
        if let Some(a) = address {
            check_address(a)?;
        }
        let hi = self.host_index(host)?;
        let bridge = self
            .segments
            .iter()
            .find(|s| s.name == segment)
            .map(|s| s.bridge.clone())
            .ok_or_else(|| Error::BadName(format!("no segment {segment}")))?;
        let ns = self.hosts[hi].namespace.clone();
        if self.hosts[hi].interface(ifname).is_some() {
            return Err(Error::BadName(format!("{host} already has {ifname}")));
        }
        let port = format!("p{hi}-{}", self.hosts[hi].interfaces.len());
        self.make_veth(&ns, ifname, &port, &bridge, address)?;
        self.hosts[hi].interfaces.push(HostInterface {
            name: ifname.to_owned(),
            segment: segment.to_owned(),
            bridge_port: port,
            address,
        });
        Ok(())
    }

    /// Adds a route in `host`: `dest` via `gateway` (both inside 10.99.0.0/16).
    pub fn add_route(&self, host: &str, dest: Ipv4Net, gateway: Ipv4Addr) -> Result<()> {
        check_address(dest)?;
        check_address(Ipv4Net::from(gateway))?;
        let ns = self.namespace(host)?;
        netns::ip_in(
            ns,
            &[
                "route",
                "replace",
                &dest.to_string(),
                "via",
                &gateway.to_string(),
            ],
        )?;
        Ok(())
    }

    /// The host called `name`.
    pub fn host(&self, name: &str) -> Result<&Host> {
        self.hosts
            .iter()
            .find(|h| h.name == name)
            .ok_or_else(|| Error::BadName(format!("no host {name}")))
    }

    /// The namespace of host `name`.
    pub fn namespace(&self, name: &str) -> Result<&str> {
        Ok(&self.host(name)?.namespace)
    }

    /// Deletes `host`'s interface `ifname` and creates it again, with the same
    /// name, address and segment but a new kernel index (as when the network
    /// configuration recreates a VLAN or bridge under a running server).
    pub fn recreate_interface(&self, host: &str, ifname: &str) -> Result<()> {
        let h = self.host(host)?;
        let i = h
            .interface(ifname)
            .ok_or_else(|| Error::BadName(format!("{host} has no {ifname}")))?;
        let bridge = self
            .segments
            .iter()
            .find(|s| s.name == i.segment)
            .map(|s| s.bridge.clone())
            .ok_or_else(|| Error::BadName(format!("no segment {}", i.segment)))?;
        netns::ip_in(&h.namespace, &["link", "del", ifname])?;
        self.make_veth(&h.namespace, ifname, &i.bridge_port, &bridge, i.address)
    }

    /// A veth pair: `ifname` (up, with `address`) in namespace `ns`, `port`
    /// in the bridge namespace, enslaved to `bridge`.
    fn make_veth(
        &self,
        ns: &str,
        ifname: &str,
        port: &str,
        bridge: &str,
        address: Option<Ipv4Net>,
    ) -> Result<()> {
        netns::ip([
            "link",
            "add",
            port,
            "netns",
            &self.bridge_ns,
            "type",
            "veth",
            "peer",
            "name",
            ifname,
            "netns",
            ns,
        ])?;
        netns::ip_in(
            &self.bridge_ns,
            &["link", "set", port, "master", bridge, "up"],
        )?;
        netns::ip_in(ns, &["link", "set", ifname, "up"])?;
        if let Some(a) = address {
            netns::ip_in(ns, &["addr", "add", &a.to_string(), "dev", ifname])?;
        }
        Ok(())
    }

    /// Cuts `host`'s link on `ifname` by setting the bridge-side veth end down
    /// (the host side stays up, as when a cable is pulled at the switch).
    pub fn cut_link(&self, host: &str, ifname: &str) -> Result<()> {
        self.set_port(host, ifname, "down")
    }

    /// Restores a link cut with [`Lab::cut_link`].
    pub fn restore_link(&self, host: &str, ifname: &str) -> Result<()> {
        self.set_port(host, ifname, "up")
    }

    /// Runs a command to completion inside `host` (`ip netns exec`), returning stdout.
    pub fn exec(&self, host: &str, program: &str, args: &[&str]) -> Result<String> {
        let ns = self.namespace(host)?;
        let mut all = vec!["netns", "exec", ns, program];
        all.extend_from_slice(args);
        netns::run("ip", all)
    }

    /// Starts a supervised program inside `host`; its output goes, timestamped,
    /// to `<lab dir>/<name>.log`.
    pub fn spawn(&self, host: &str, name: &str, program: &str, args: &[&str]) -> Result<Process> {
        let ns = self.namespace(host)?;
        let log = self.dir.join(format!("{name}.log"));
        Process::spawn(name, Some(ns), program, args, &log)
    }

    /// A path inside the scratch directory.
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// Writes a file into the scratch directory and returns its path.
    pub fn write_file(&self, file: &str, contents: &str) -> Result<PathBuf> {
        let path = self.dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io(format!("create {}", parent.display()), e))?;
        }
        std::fs::write(&path, contents)
            .map_err(|e| Error::io(format!("write {}", path.display()), e))?;
        Ok(path)
    }

    /// Writes an executable script into the scratch directory.
    pub fn write_script(&self, file: &str, contents: &str) -> Result<PathBuf> {
        use std::os::unix::fs::PermissionsExt;
        let path = self.write_file(file, contents)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::io(format!("chmod {}", path.display()), e))?;
        Ok(path)
    }

    fn set_port(&self, host: &str, ifname: &str, state: &str) -> Result<()> {
        let h = self.host(host)?;
        let port = h
            .interface(ifname)
            .map(|i| i.bridge_port.clone())
            .ok_or_else(|| Error::BadName(format!("{host} has no {ifname}")))?;
        netns::ip_in(&self.bridge_ns, &["link", "set", &port, state])?;
        Ok(())
    }

    fn host_index(&self, name: &str) -> Result<usize> {
        self.hosts
            .iter()
            .position(|h| h.name == name)
            .ok_or_else(|| Error::BadName(format!("no host {name}")))
    }

    fn dump_logs_on_panic(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut logs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect();
        logs.sort();
        for log in logs {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(25)..];
            eprintln!("---- {} (last {} lines)", log.display(), tail.len());
            for l in tail {
                eprintln!("{l}");
            }
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.dump_logs_on_panic();
        }
        for ns in self.namespaces().iter().rev() {
            cleanup::remove_namespace(ns);
            cleanup::unregister_namespace(ns);
        }
        if self.keep_files {
            eprintln!("testbed: keeping {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        cleanup::unregister_dir(&self.dir);
    }
}

fn create_namespace(ns: &str) -> Result<()> {
    if let Err(e) = netns::ip(["netns", "add", ns]) {
        // A namespace of this name can only be left over from a dead process
        // that had our PID (names carry the creating PID and a per-process
        // counter): remove it and try once more.
        if !netns::list().unwrap_or_default().iter().any(|n| n == ns) {
            return Err(e);
        }
        cleanup::remove_namespace(ns);
        netns::ip(["netns", "add", ns])?;
    }
    cleanup::register_namespace(ns);
    Ok(())
}

fn check_name(name: &str) -> Result<()> {
    if names::valid_short_name(name) {
        Ok(())
    } else {
        Err(Error::BadName(format!(
            "{name:?}: use 1-15 characters of [A-Za-z0-9_-]"
        )))
    }
}

fn check_address(net: Ipv4Net) -> Result<()> {
    if lab_block().contains(&net) {
        Ok(())
    } else {
        Err(Error::BadName(format!(
            "{net} is outside the lab block {}",
            lab_block()
        )))
    }
}

/// Parses `a.b.c.d/len`, refusing anything outside 10.99.0.0/16.
pub fn lab_net(text: &str) -> Result<Ipv4Net> {
    let net = Ipv4Net::from_str(text).map_err(|e| Error::BadName(format!("{text}: {e}")))?;
    check_address(net)?;
    Ok(net)
}
