//! PXE boot-file selection rules.
//!
//! Rules are tried in order and the first match wins. With no rules
//! configured, [`PxeConfig::effective_rules`] gives the MAAS table (see
//! `../shared/reference/maas-integration.md` §5 and `docs/configuration.md`).
//! In every text field `{server}` is replaced by the subnet's next server (or the
//! server's own address on the subnet).

use serde::{Deserialize, Serialize};

/// PXE settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PxeConfig {
    /// The rules; empty means the built-in MAAS-compatible table.
    #[serde(default)]
    pub rules: Vec<PxeRule>,
    /// Vendor-class prefix that marks a PXE ROM or iPXE (short lease class).
    #[serde(default = "default_pxe_prefix")]
    pub pxe_vendor_prefix: String,
    /// Lease time in seconds for PXE clients (vendor class starting with
    /// `pxe_vendor_prefix`); 0 turns the PXE class off.
    #[serde(default = "default_pxe_lease")]
    pub pxe_lease_time: u32,
}

fn default_pxe_prefix() -> String {
    "PXE".to_owned()
}
fn default_pxe_lease() -> u32 {
    30
}

impl Default for PxeConfig {
    fn default() -> Self {
        Self {
            rules: Vec::new(),
            pxe_vendor_prefix: default_pxe_prefix(),
            pxe_lease_time: default_pxe_lease(),
        }
    }
}

/// What a rule matches. All given conditions must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PxeMatch {
    /// Client is iPXE (user class "iPXE" or option 175 with http plus bzimage/efi).
    #[serde(default)]
    pub ipxe: Option<bool>,
    /// Option 93 architecture is one of these.
    #[serde(default)]
    pub arch: Option<Vec<u16>>,
    /// User class (option 77) equals this.
    #[serde(default)]
    pub user_class: Option<String>,
    /// Matches every client (the `else` row).
    #[serde(default)]
    pub any: bool,
}

/// One boot-file selection rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PxeRule {
    /// Rule name (MAAS boot method), for logs.
    pub name: String,
    /// When it applies.
    #[serde(rename = "match")]
    pub matches: PxeMatch,
    /// BOOTP `file` / option 67.
    #[serde(default)]
    pub filename: Option<String>,
    /// Option 210 (path prefix).
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// Option 60 in the reply (`HTTPClient` for UEFI HTTP boot).
    #[serde(default)]
    pub vendor_class: Option<String>,
    /// Options returned even when the client did not request them (e.g. 210).
    #[serde(default)]
    pub force_options: Vec<u8>,
    /// Option 125 in the reply (RFC 3925 vendor-identifying vendor options;
    /// ONIE switch installs), one entry per enterprise number.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vendor_options: Vec<VendorOptions>,
}

/// ONIE's IANA enterprise number, under which its option 125 sub-options go.
pub const ONIE_ENTERPRISE: u32 = 42623;

/// One enterprise's part of option 125 (RFC 3925): either raw data or
/// sub-options (code, length, value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorOptions {
    /// The IANA enterprise number (ONIE: 42623).
    pub enterprise: u32,
    /// Raw data of this enterprise's part, as hex (`01:01:01`), when it is
    /// not made of sub-options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Text sub-options by code (`{server}` is replaced as in other fields).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suboptions: Vec<VendorSuboption>,
}

/// A text sub-option of [`VendorOptions`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorSuboption {
    /// The sub-option code.
    pub code: u8,
    /// Its text.
    pub value: String,
}

impl VendorOptions {
    /// This enterprise's bytes in option 125: enterprise number, data
    /// length, data; `fill` substitutes `{server}` in sub-option text.
    /// `None` when the hex is malformed or the data exceeds 255 bytes.
    pub fn encode(&self, fill: impl Fn(&str) -> String) -> Option<Vec<u8>> {
        let mut data = match &self.data {
            Some(h) => super::hex::parse_hex_bytes(h)?,
            None => Vec::new(),
        };
        for s in &self.suboptions {
            let v = fill(&s.value);
            data.push(s.code);
            data.push(u8::try_from(v.len()).ok()?);
            data.extend_from_slice(v.as_bytes());
        }
        let mut out = self.enterprise.to_be_bytes().to_vec();
        out.push(u8::try_from(data.len()).ok()?);
        out.extend(data);
        Some(out)
    }
}

impl PxeRule {
    fn new(name: &str, matches: PxeMatch, filename: &str) -> Self {
        Self {
            name: name.to_owned(),
            matches,
            filename: Some(filename.to_owned()),
            path_prefix: None,
            vendor_class: None,
            force_options: Vec::new(),
            vendor_options: Vec::new(),
        }
    }

    fn arch(name: &str, codes: &[u16], filename: &str) -> Self {
        Self::new(
            name,
            PxeMatch {
                arch: Some(codes.to_vec()),
                ..PxeMatch::default()
            },
            filename,
        )
    }

    fn with_prefix(mut self, prefix: &str, forced: bool) -> Self {
        self.path_prefix = Some(prefix.to_owned());
        if forced {
            self.force_options = vec![210];
        }
        self
    }

    fn http(mut self) -> Self {
        self.vendor_class = Some("HTTPClient".to_owned());
        self
    }
}

impl PxeConfig {
    /// The configured rules, or the MAAS table when none are configured.
    pub fn effective_rules(&self) -> Vec<PxeRule> {
        if !self.rules.is_empty() {
            return self.rules.clone();
        }
        maas_rules()
    }
}

/// The MAAS boot-method table (first match wins), as MAAS 3.8 renders it
/// (3.8 added the ONIE row for network switches: option 125, no file).
pub fn maas_rules() -> Vec<PxeRule> {
    let ipxe = PxeMatch {
        ipxe: Some(true),
        ..PxeMatch::default()
    };
    let onie = PxeRule {
        name: "onie".to_owned(),
        matches: PxeMatch {
            user_class: Some("onie_dhcp_user_class".to_owned()),
            ..PxeMatch::default()
        },
        filename: None,
        path_prefix: None,
        vendor_class: None,
        force_options: Vec::new(),
        vendor_options: vec![
            VendorOptions {
                enterprise: 0,
                data: Some("01:01:01".to_owned()),
                suboptions: Vec::new(),
            },
            VendorOptions {
                enterprise: ONIE_ENTERPRISE,
                data: None,
                suboptions: vec![VendorSuboption {
                    code: 1,
                    value: "http://{server}:5248/MAAS/a/v3/nos-installer".to_owned(),
                }],
            },
        ],
    };
    vec![
        PxeRule::new("ipxe", ipxe, "http://{server}:5248/ipxe.cfg"),
        onie,
        PxeRule::arch("pxe", &[0], "lpxelinux.0").with_prefix("http://{server}:5248/", true),
        PxeRule::arch("uefi_amd64_tftp", &[7], "bootx64.efi"),
        PxeRule::arch(
            "uefi_amd64_http",
            &[16],
            "http://{server}:5248/images/bootx64.efi",
        )
        .http(),
        PxeRule::arch("uefi_ebc_tftp", &[9], "bootx64.efi"),
        PxeRule::arch("uefi_arm64_tftp", &[11], "bootaa64.efi"),
        PxeRule::arch(
            "uefi_arm64_http",
            &[19],
            "http://{server}:5248/images/bootaa64.efi",
        )
        .http(),
        PxeRule::arch("open-firmware_ppc64el", &[12], "bootppc64.bin"),
        PxeRule::arch("powernv", &[14], "pxelinux.0").with_prefix("ppc64el/", false),
        PxeRule::arch("s390x", &[31], "boots390x.bin").with_prefix("s390x/", false),
        PxeRule::arch("s390x_partition", &[32], "s390x_partition/maas"),
        PxeRule::new(
            "pxe",
            PxeMatch {
                any: true,
                ..PxeMatch::default()
            },
            "lpxelinux.0",
        )
        .with_prefix("http://{server}:5248/", true),
    ]
}
