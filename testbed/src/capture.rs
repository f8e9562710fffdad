//! Packet capture on a segment's bridge (tcpdump in the bridge namespace,
//! text mode with link-layer headers), for tests that must see *how* a reply
//! travelled: broadcast or unicast to the client's MAC.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::netns;
use crate::process::Process;

/// One captured DHCP packet, from tcpdump's `-e -n` summary line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpFrame {
    /// Ethernet source.
    pub eth_src: String,
    /// Ethernet destination (`ff:ff:ff:ff:ff:ff` for broadcast).
    pub eth_dst: String,
    /// `Request` or `Reply` (BOOTP op).
    pub op: String,
    /// `a.b.c.d.port > e.f.g.h.port`.
    pub ip: String,
}

impl DhcpFrame {
    /// Whether the frame went to the Ethernet broadcast address.
    pub fn is_broadcast(&self) -> bool {
        self.eth_dst.eq_ignore_ascii_case("ff:ff:ff:ff:ff:ff")
    }
}

/// A running capture.
#[derive(Debug)]
pub struct Capture {
    process: Process,
}

impl Capture {
    /// Starts `tcpdump -i <bridge> -n -e -l FILTER` on `segment`'s bridge.
    pub fn start(lab: &Lab, segment: &str, filter: &str) -> Result<Self> {
        netns::require_program("tcpdump", "tcpdump")?;
        let bridge = lab
            .segments()
            .iter()
            .find(|s| s.name == segment)
            .map(|s| s.bridge.clone())
            .ok_or_else(|| Error::BadName(format!("no segment {segment}")))?;
        let log = lab.path(&format!("tcpdump-{segment}.log"));
        let mut args = vec!["netns", "exec", lab.bridge_namespace(), "tcpdump"];
        args.extend(["-i", &bridge, "-n", "-e", "-l", "-U"]);
        args.extend(filter.split_whitespace());
        let mut process = Process::spawn(&format!("tcpdump-{segment}"), None, "ip", &args, &log)?;
        process.wait_for_log("listening on", Duration::from_secs(10))?;
        Ok(Self { process })
    }

    /// The DHCP packets seen so far.
    pub fn dhcp_frames(&self) -> Vec<DhcpFrame> {
        self.process
            .log_lines()
            .iter()
            .filter_map(|l| parse_frame(l))
            .collect()
    }

    /// Stops the capture (after a short grace for packets in flight) and
    /// returns the DHCP packets seen.
    pub fn stop(mut self) -> Vec<DhcpFrame> {
        std::thread::sleep(Duration::from_millis(200));
        let _ = self.process.terminate(Duration::from_secs(2));
        std::thread::sleep(Duration::from_millis(50));
        self.dhcp_frames()
    }
}

/// Parses `… SRC > DST, ethertype IPv4 (0x0800), length N: IP > IP: BOOTP/DHCP, Reply, …`.
fn parse_frame(line: &str) -> Option<DhcpFrame> {
    let body = line.split_once("| ")?.1;
    let (eth, rest) = body.split_once(", ethertype IPv4")?;
    let mut words = eth.split_whitespace().rev();
    let eth_dst = words.next()?.to_owned();
    let _arrow = words.next()?;
    let eth_src = words.next()?.to_owned();
    let (_, ip_part) = rest.split_once(": ")?;
    let (ip, bootp) = ip_part.split_once(": BOOTP/DHCP, ")?;
    // "Request from 02:99:…, length 320" or "Reply, length 300"
    let op = bootp.split([',', ' ']).next()?.trim().to_owned();
    Some(DhcpFrame {
        eth_src,
        eth_dst,
        op,
        ip: ip.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_request_line() {
        let l = "t +    0.1s out| 19:39:05.843701 1a:ff:4b:68:16:16 > fa:bd:70:66:87:dc, ethertype IPv4 (0x0800), length 362: 10.99.0.100.68 > 10.99.0.1.67: BOOTP/DHCP, Request from 02:99:00:00:00:01, length 320";
        let f = parse_frame(l).unwrap();
        assert_eq!(f.op, "Request");
        assert_eq!(f.ip, "10.99.0.100.68 > 10.99.0.1.67");
    }

    #[test]
    fn parses_tcpdump_line() {
        let l = "12:00:00.000 +    0.1s out| 12:00:00.000001 d2:aa:ce:99:38:15 > 7e:67:2e:08:da:d1, ethertype IPv4 (0x0800), length 342: 10.99.0.1.67 > 10.99.0.100.68: BOOTP/DHCP, Reply, length 300";
        let f = parse_frame(l).unwrap();
        assert_eq!(f.eth_src, "d2:aa:ce:99:38:15");
        assert_eq!(f.eth_dst, "7e:67:2e:08:da:d1");
        assert_eq!(f.op, "Reply");
        assert_eq!(f.ip, "10.99.0.1.67 > 10.99.0.100.68");
        assert!(!f.is_broadcast());
    }
}
