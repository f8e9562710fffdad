//! Simulated network-boot firmware for the differential tests: the
//! parameter request lists and options that PXE ROMs, UEFI PXE and HTTP
//! boot clients, iPXE, ONIE and an installed OS's client send.

use crate::probe::Probe;

/// Parameter request list of a BIOS PXE ROM.
pub const PXE_PRL: &[u8] = &[
    1, 2, 3, 4, 5, 6, 11, 12, 13, 15, 16, 17, 18, 22, 23, 28, 40, 41, 42, 43, 50, 51, 54, 58, 59,
    60, 66, 67, 97, 128, 129, 130, 131, 132, 133, 134, 135,
];
/// Parameter request list of a UEFI PXE / HTTP boot client.
pub const UEFI_PRL: &[u8] = &[
    1, 2, 3, 4, 5, 6, 12, 13, 15, 17, 18, 22, 23, 28, 40, 41, 42, 43, 50, 51, 54, 58, 59, 60, 66,
    67, 97, 128, 129, 130, 131, 132, 133, 134, 135,
];
/// Parameter request list of iPXE.
pub const IPXE_PRL: &[u8] = &[
    1, 3, 6, 7, 12, 15, 17, 26, 43, 60, 66, 67, 119, 128, 129, 130, 131, 132, 133, 134, 135, 175,
    203,
];
/// Parameter request list of ONIE's DHCP client (a network switch).
pub const ONIE_PRL: &[u8] = &[
    1, 3, 6, 7, 12, 15, 28, 42, 43, 54, 66, 67, 72, 114, 119, 125,
];
/// Parameter request list of an installed OS's client (dhclient).
pub const OS_PRL: &[u8] = &[1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42];

/// A firmware client: option 93 = `arch`, 60 = `vendor` class, 94, 97, 57,
/// and the parameter request list `prl`.
pub fn firmware(name: &str, mac: [u8; 6], arch: u16, vendor: &str, prl: &[u8]) -> Probe {
    Probe::new(name, mac)
        .option(57, &1472u16.to_be_bytes())
        .option(93, &arch.to_be_bytes())
        .option(94, &[1, 3, 16])
        .option(97, &[0; 17])
        .option(60, vendor.as_bytes())
        .option(55, prl)
}

/// A UEFI (or other) PXE ROM of architecture `arch`.
pub fn pxe(name: &str, mac: [u8; 6], arch: u16) -> Probe {
    let vendor = format!("PXEClient:Arch:{arch:05}:UNDI:003016");
    firmware(name, mac, arch, &vendor, UEFI_PRL)
}

/// A UEFI HTTP boot client of architecture `arch`.
pub fn http(name: &str, mac: [u8; 6], arch: u16) -> Probe {
    let vendor = format!("HTTPClient:Arch:{arch:05}:UNDI:003001");
    firmware(name, mac, arch, &vendor, UEFI_PRL)
}
