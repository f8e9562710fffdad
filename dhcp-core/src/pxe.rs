//! PXE boot policy: what a network-booting client is, and which boot file,
//! next server, path prefix and vendor class it gets.

use std::net::Ipv4Addr;

use crate::config::{PxeConfig, PxeRule};

/// What the client says about itself, as far as booting is concerned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootClient {
    /// Option 93 architecture types (first is the one used).
    pub arch: Option<u16>,
    /// Option 60 vendor class.
    pub vendor_class: Option<Vec<u8>>,
    /// Option 77 user classes (RFC 3004 entries, or the raw text iPXE sends).
    pub user_classes: Vec<Vec<u8>>,
    /// Whether option 175 shows iPXE with HTTP and bzImage or EFI support.
    pub ipxe_features: bool,
}

/// iPXE encapsulated-option codes (inside option 175).
const IPXE_HTTP: u8 = 19;
const IPXE_BZIMAGE: u8 = 24;
const IPXE_EFI: u8 = 36;

impl BootClient {
    /// Builds the view from raw option payloads.
    pub fn from_options(
        opt93: Option<&[u8]>,
        opt60: Option<&[u8]>,
        opt77: Option<&[u8]>,
        opt175: Option<&[u8]>,
    ) -> Self {
        Self {
            arch: opt93
                .and_then(|b| b.get(..2))
                .map(|b| u16::from_be_bytes([b[0], b[1]])),
            vendor_class: opt60.map(<[u8]>::to_vec),
            user_classes: opt77.map(parse_user_classes).unwrap_or_default(),
            ipxe_features: opt175.is_some_and(ipxe_has_boot_features),
        }
    }

    /// iPXE: user class "iPXE", or option 175 with http plus bzimage or efi.
    pub fn is_ipxe(&self) -> bool {
        self.ipxe_features || self.user_classes.iter().any(|c| c == b"iPXE")
    }

    /// Whether option 60 starts with `prefix` (the short-lease PXE class).
    pub fn vendor_class_starts_with(&self, prefix: &str) -> bool {
        self.vendor_class
            .as_deref()
            .is_some_and(|v| v.starts_with(prefix.as_bytes()))
    }
}

/// Option 77 is either RFC 3004 (length-prefixed entries) or, as iPXE and many
/// firmwares send it, one bare string. Both readings that fit are returned.
pub fn parse_user_classes(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![data.to_vec()];
    let mut i = 0;
    let mut rfc = Vec::new();
    while i < data.len() {
        let len = usize::from(data[i]);
        match data.get(i + 1..i + 1 + len) {
            Some(entry) if len > 0 => rfc.push(entry.to_vec()),
            _ => return out,
        }
        i += 1 + len;
    }
    out.extend(rfc);
    out
}

fn ipxe_has_boot_features(data: &[u8]) -> bool {
    let (mut http, mut boot) = (false, false);
    let mut i = 0;
    while i + 1 < data.len() {
        let (code, len) = (data[i], usize::from(data[i + 1]));
        if data.get(i + 2..i + 2 + len).is_none() {
            break;
        }
        match code {
            IPXE_HTTP => http = true,
            IPXE_BZIMAGE | IPXE_EFI => boot = true,
            _ => {}
        }
        i += 2 + len;
    }
    http && boot
}

/// The boot parameters chosen for a client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootSelection {
    /// The rule that matched (for logs).
    pub rule: String,
    /// BOOTP `file`.
    pub filename: Option<String>,
    /// Option 210.
    pub path_prefix: Option<String>,
    /// Option 60 in the reply.
    pub vendor_class: Option<String>,
    /// Options to return even if not requested.
    pub force_options: Vec<u8>,
    /// Option 125's payload (RFC 3925), when the rule carries one.
    pub vendor_options: Option<Vec<u8>>,
}

/// Picks the first matching rule; `{server}` is replaced by `server`.
pub fn select(rules: &[PxeRule], client: &BootClient, server: Ipv4Addr) -> Option<BootSelection> {
    let rule = rules.iter().find(|r| matches(r, client))?;
    let fill = |s: &Option<String>| {
        s.as_ref().map(|t| {
            if t.contains("{server}") {
                t.replace("{server}", &server.to_string())
            } else {
                t.clone()
            }
        })
    };
    Some(BootSelection {
        rule: rule.name.clone(),
        filename: fill(&rule.filename),
        path_prefix: fill(&rule.path_prefix),
        vendor_class: fill(&rule.vendor_class),
        force_options: rule.force_options.clone(),
        vendor_options: vendor_options(rule, server),
    })
}

/// Option 125 of `rule` with `{server}` filled in (validation has checked
/// that it encodes; an entry that does not is left out).
fn vendor_options(rule: &PxeRule, server: Ipv4Addr) -> Option<Vec<u8>> {
    if rule.vendor_options.is_empty() {
        return None;
    }
    let fill = |t: &str| t.replace("{server}", &server.to_string());
    Some(
        rule.vendor_options
            .iter()
            .filter_map(|v| v.encode(fill))
            .flatten()
            .collect(),
    )
}

fn matches(rule: &PxeRule, c: &BootClient) -> bool {
    let m = &rule.matches;
    if m.any {
        return true;
    }
    if let Some(want) = m.ipxe
        && c.is_ipxe() != want
    {
        return false;
    }
    if let Some(archs) = &m.arch
        && !c.arch.is_some_and(|a| archs.contains(&a))
    {
        return false;
    }
    if let Some(uc) = &m.user_class
        && !c.user_classes.iter().any(|x| x == uc.as_bytes())
    {
        return false;
    }
    true
}

/// The PXE lease time for a client, if it is in the PXE class.
pub fn pxe_lease_time(cfg: &PxeConfig, c: &BootClient) -> Option<u32> {
    (cfg.pxe_lease_time > 0 && c.vendor_class_starts_with(&cfg.pxe_vendor_prefix))
        .then_some(cfg.pxe_lease_time)
}

#[cfg(test)]
mod tests {
    use super::*;
    const SERVER: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 1);
    use crate::config::maas_rules as maas;

    fn arch(a: u16) -> BootClient {
        BootClient {
            arch: Some(a),
            ..BootClient::default()
        }
    }

    #[test]
    fn maas_table() {
        let rules = maas();
        let file = |c: &BootClient| select(&rules, c, SERVER).and_then(|s| s.filename);
        assert_eq!(file(&arch(0)).as_deref(), Some("lpxelinux.0"));
        assert_eq!(file(&arch(7)).as_deref(), Some("bootx64.efi"));
        assert_eq!(file(&arch(9)).as_deref(), Some("bootx64.efi"));
        assert_eq!(file(&arch(11)).as_deref(), Some("bootaa64.efi"));
        assert_eq!(
            file(&arch(16)).as_deref(),
            Some("http://10.99.0.1:5248/images/bootx64.efi")
        );
        assert_eq!(
            file(&arch(19)).as_deref(),
            Some("http://10.99.0.1:5248/images/bootaa64.efi")
        );
        assert_eq!(file(&BootClient::default()).as_deref(), Some("lpxelinux.0"));
        let http = select(&rules, &arch(16), SERVER).unwrap();
        assert_eq!(http.vendor_class.as_deref(), Some("HTTPClient"));
        let bios = select(&rules, &arch(0), SERVER).unwrap();
        assert_eq!(bios.path_prefix.as_deref(), Some("http://10.99.0.1:5248/"));
        assert_eq!(bios.force_options, vec![210]);
        assert_eq!(bios.vendor_options, None);
    }

    /// MAAS 3.8's ONIE row: no file, option 125 with enterprise 0 (raw
    /// 01:01:01) and ONIE's 42623 (sub-option 1, the installer URL), the
    /// bytes ISC sends for MAAS's vivso/onie spaces.
    #[test]
    fn onie_gets_option_125_and_no_file() {
        let onie = BootClient {
            user_classes: vec![b"onie_dhcp_user_class".to_vec()],
            ..BootClient::default()
        };
        let s = select(&maas(), &onie, SERVER).unwrap();
        assert_eq!(s.filename, None);
        let url = b"http://10.99.0.1:5248/MAAS/a/v3/nos-installer";
        let mut want = vec![0, 0, 0, 0, 3, 1, 1, 1, 0, 0, 0xa6, 0x7f];
        want.push(u8::try_from(url.len() + 2).unwrap());
        want.push(1);
        want.push(u8::try_from(url.len()).unwrap());
        want.extend_from_slice(url);
        assert_eq!(s.vendor_options, Some(want));
    }

    #[test]
    fn ipxe_detection_both_user_class_forms_and_option_175() {
        let raw = BootClient::from_options(Some(&[0, 0]), None, Some(b"iPXE"), None);
        assert!(raw.is_ipxe());
        let rfc3004 = BootClient::from_options(None, None, Some(b"\x04iPXE"), None);
        assert!(rfc3004.is_ipxe());
        let enc = BootClient::from_options(None, None, None, Some(&[19, 1, 1, 36, 1, 1]));
        assert!(enc.is_ipxe());
        let http_only = BootClient::from_options(None, None, None, Some(&[19, 1, 1]));
        assert!(!http_only.is_ipxe());
        let rules = maas();
        assert_eq!(
            select(&rules, &raw, SERVER).unwrap().filename.as_deref(),
            Some("http://10.99.0.1:5248/ipxe.cfg")
        );
    }

    #[test]
    fn pxe_class_gets_short_lease() {
        let cfg = PxeConfig::default();
        let c =
            BootClient::from_options(None, Some(b"PXEClient:Arch:00000:UNDI:002001"), None, None);
        assert_eq!(pxe_lease_time(&cfg, &c), Some(30));
        let h = BootClient::from_options(None, Some(b"HTTPClient:Arch:00016"), None, None);
        assert_eq!(pxe_lease_time(&cfg, &h), None);
    }
}
