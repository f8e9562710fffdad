//! Real firmware: a QEMU VM (TCG; KVM does not work here) network-booting
//! with its iPXE ROM from a host's namespace. DHCP from the server under test,
//! then TFTP (tftpd-hpa) fetches an iPXE script that prints a marker on the
//! serial console; the harness waits for the marker.
//!
//! A namespace cannot put a tap device into a bridge living in another
//! namespace, so the client host gets its own bridge `brq` joining its `eth0`
//! (veth to the lab bridge) and `tap0` (the VM's NIC).

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::netns;

/// The script the TFTP server hands to iPXE (`@MARKER@` is replaced). The
/// console wraps at 80 columns, so each value gets its own short line and the
/// marker comes last.
pub const BOOT_SCRIPT: &str = "#!ipxe\necho next-server=${next-server}\necho filename=${filename}\necho @MARKER@ ip=${net0/ip}\nshell\n";

/// Writes `boot.ipxe` (echoing `marker`) into `<lab dir>/tftp/` and returns
/// that directory, the TFTP root.
pub fn write_tftp_root(lab: &Lab, marker: &str) -> Result<PathBuf> {
    let path = lab.write_file("tftp/boot.ipxe", &BOOT_SCRIPT.replace("@MARKER@", marker))?;
    Ok(path
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| lab.path("tftp")))
}

/// What the boot showed.
#[derive(Debug, Clone)]
pub struct IpxeBoot {
    /// The console line holding the marker.
    pub marker_line: String,
    /// The address iPXE printed after the marker (`ip=`), if any.
    pub address: Option<Ipv4Addr>,
    /// The next server the script printed, if any.
    pub next_server: Option<Ipv4Addr>,
    /// The boot file name the script printed, if any.
    pub filename: Option<String>,
    /// From QEMU start to the marker.
    pub elapsed: Duration,
    /// The rendered console text.
    pub console: String,
}

/// Settings of one VM boot.
#[derive(Debug, Clone)]
pub struct VmConfig {
    /// Host to run the VM in (its `eth0` gets bridged to the VM's tap).
    pub host: String,
    /// The VM NIC's MAC.
    pub mac: [u8; 6],
    /// QEMU NIC model (`e1000`, `virtio-net-pci`).
    pub nic: String,
    /// Give up after this long.
    pub timeout: Duration,
}

impl VmConfig {
    /// An e1000 VM in `host` with MAC 52:54:00:99:00:06, giving up after 120 s.
    pub fn new(host: &str) -> Self {
        Self {
            host: host.to_owned(),
            mac: [0x52, 0x54, 0x00, 0x99, 0x00, 0x06],
            nic: "e1000".to_owned(),
            timeout: Duration::from_secs(120),
        }
    }
}

/// Boots a VM per `vm` and waits until its console shows `marker`. QEMU is
/// killed by PID afterwards.
pub fn boot_until_marker(lab: &Lab, vm: &VmConfig, marker: &str) -> Result<IpxeBoot> {
    netns::require_program("qemu-system-x86_64", "qemu-system-x86")?;
    if !std::path::Path::new("/usr/lib/ipxe/qemu").exists() {
        return Err(Error::MissingProgram {
            program: "/usr/lib/ipxe/qemu/*.rom".into(),
            package: "ipxe-qemu".into(),
        });
    }
    let ns = lab.namespace(&vm.host)?.to_owned();
    for args in [
        &[
            "link",
            "add",
            "brq",
            "type",
            "bridge",
            "stp_state",
            "0",
            "forward_delay",
            "0",
        ][..],
        &["link", "set", "eth0", "master", "brq"],
        &["tuntap", "add", "dev", "tap0", "mode", "tap"],
        &["link", "set", "tap0", "master", "brq"],
        &["link", "set", "tap0", "up"],
        &["link", "set", "brq", "up"],
    ] {
        netns::ip_in(&ns, args)?;
    }
    let console = lab.path(&format!("qemu-{}.console", vm.host));
    let mac = vm
        .mac
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":");
    let serial = format!("file:{}", console.display());
    let device = format!("{},netdev=n0,mac={mac}", vm.nic);
    let args = [
        "-accel",
        "tcg",
        "-m",
        "256",
        "-display",
        "none",
        "-machine",
        "graphics=off",
        "-serial",
        &serial,
        "-monitor",
        "none",
        "-boot",
        "n",
        "-no-reboot",
        "-netdev",
        "tap,id=n0,ifname=tap0,script=no,downscript=no",
        "-device",
        &device,
    ];
    let started = Instant::now();
    let mut qemu = lab.spawn(
        &vm.host,
        &format!("qemu-{}", vm.host),
        "qemu-system-x86_64",
        &args,
    )?;
    let result = loop {
        let raw = std::fs::read(&console).unwrap_or_default();
        // Only complete lines: the console file may end mid-line.
        let complete = raw
            .iter()
            .rposition(|b| *b == b'\n' || *b == b'\r')
            .map_or(&raw[..0], |end| &raw[..end]);
        let text = render_console(complete);
        if let Some(line) = text.lines().find(|l| l.contains(marker)) {
            let address = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("ip="))
                .and_then(|a| a.parse().ok());
            let value = |key: &str| {
                text.lines()
                    .rev()
                    .find_map(|l| l.trim().strip_prefix(key).map(str::to_owned))
            };
            break Ok(IpxeBoot {
                marker_line: line.trim().to_owned(),
                address,
                next_server: value("next-server=").and_then(|v| v.parse().ok()),
                filename: value("filename="),
                elapsed: started.elapsed(),
                console: text.clone(),
            });
        }
        if let Some(status) = qemu.try_wait()? {
            break Err(Error::Exited {
                what: format!("qemu (console: {})", console.display()),
                status: crate::process::describe(status),
                log: qemu.log_path().to_owned(),
            });
        }
        if started.elapsed() >= vm.timeout {
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            eprintln!("iPXE console (last lines, newest first): {tail:#?}");
            break Err(Error::Timeout {
                what: format!("{marker:?} on the VM console"),
                seconds: vm.timeout.as_secs_f64(),
            });
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    let _ = qemu.kill();
    result
}

/// Renders serial-console output (cursor-addressed ANSI text from SeaBIOS and
/// iPXE) into plain lines: escape sequences removed, backspaces applied,
/// carriage returns as line breaks, blank and repeated lines dropped.
pub fn render_console(bytes: &[u8]) -> String {
    let mut out: Vec<char> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == 0x1b {
            // ESC [ params letter  |  ESC letter
            i += 1;
            if i < bytes.len() && bytes[i] == b'[' {
                i += 1;
                while i < bytes.len() && !bytes[i].is_ascii_alphabetic() {
                    i += 1;
                }
            }
            i += 1;
            continue;
        }
        match b {
            0x08 => {
                out.pop();
            }
            b'\r' => out.push('\n'),
            _ => out.push(char::from(b)),
        }
        i += 1;
    }
    let text: String = out.into_iter().collect();
    let mut lines: Vec<&str> = Vec::new();
    for l in text.split('\n').map(str::trim_end) {
        if !l.trim().is_empty() && lines.last() != Some(&l) {
            lines.push(l);
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::render_console;

    #[test]
    fn renders_ansi_console() {
        let raw = b"\x1b[2J\x1b[1;1HiPXE ok\r\nab\x08c\r\r\nPXE-LAB-OK ip=10.99.0.100\r\n";
        assert_eq!(
            render_console(raw),
            "iPXE ok\nac\nPXE-LAB-OK ip=10.99.0.100"
        );
    }
}
