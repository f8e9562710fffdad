//! Load balancing as ISC dhcpd 4.x does it (reference §5): the RFC 3074 hash
//! of a client key into one of 256 buckets, the 32-byte hash bucket
//! assignment (HBA) bitmap, and the `load balance max seconds` rule.
//!
//! ISC semantics, used in both directions: bucket `b` is bit `1 << (b & 7)` of
//! byte `b >> 3` (LSB first); a **set bit means the primary serves** the
//! client, a clear bit the secondary (the draft says the opposite; ISC wins).
//! The HBA for `split N` is [`dhcp_core::config::LoadBalance::hba`].

use dhcp_core::config::Role;
use dhcp_core::lease::Lease;

/// The RFC 3074 mixing table (a permutation of 0..=255), identical in ISC
/// and Kea.
pub const TABLE: [u8; 256] = [
    251, 175, 119, 215, 81, 14, 79, 191, 103, 49, 181, 143, 186, 157, 0, 232, 31, 32, 55, 60, 152,
    58, 17, 237, 174, 70, 160, 144, 220, 90, 57, 223, 59, 3, 18, 140, 111, 166, 203, 196, 134, 243,
    124, 95, 222, 179, 197, 65, 180, 48, 36, 15, 107, 46, 233, 130, 165, 30, 123, 161, 209, 23, 97,
    16, 40, 91, 219, 61, 100, 10, 210, 109, 250, 127, 22, 138, 29, 108, 244, 67, 207, 9, 178, 204,
    74, 98, 126, 249, 167, 116, 34, 77, 193, 200, 121, 5, 20, 113, 71, 35, 128, 13, 182, 94, 25,
    226, 227, 199, 75, 27, 41, 245, 230, 224, 43, 225, 177, 26, 155, 150, 212, 142, 218, 115, 241,
    73, 88, 105, 39, 114, 62, 255, 192, 201, 145, 214, 168, 158, 221, 148, 154, 122, 12, 84, 82,
    163, 44, 139, 228, 236, 205, 242, 217, 11, 187, 146, 159, 64, 86, 239, 195, 42, 106, 198, 118,
    112, 184, 172, 87, 2, 173, 117, 176, 229, 247, 253, 137, 185, 99, 164, 102, 147, 45, 66, 231,
    52, 141, 211, 194, 206, 246, 238, 56, 110, 78, 248, 63, 240, 189, 93, 92, 51, 53, 183, 19, 171,
    72, 50, 33, 104, 101, 69, 8, 252, 83, 120, 76, 135, 85, 54, 202, 125, 188, 213, 96, 235, 136,
    208, 162, 129, 190, 132, 156, 38, 47, 1, 7, 254, 24, 4, 216, 131, 89, 21, 28, 133, 37, 153,
    149, 80, 170, 68, 6, 169, 234, 151,
];

/// The RFC 3074 hash bucket (0..=255) of `key`: start from the key length
/// (truncated to 8 bits) and mix in the bytes from the last to the first.
/// An empty key hashes to 0.
pub fn bucket(key: &[u8]) -> u8 {
    key.iter()
        .rev()
        .fold(key.len() as u8, |h, &b| TABLE[usize::from(h ^ b)])
}

/// Whether `bucket` is set in `hba`, i.e. whether the primary serves it.
pub fn primary_serves_bucket(hba: &[u8; 32], bucket: u8) -> bool {
    hba[usize::from(bucket >> 3)] & (1 << (bucket & 7)) != 0
}

/// Whether a server with `role` serves the client hashing to `bucket` under
/// `hba` (primary: bit set; secondary: bit clear).
pub fn role_serves_bucket(hba: &[u8; 32], role: Role, bucket: u8) -> bool {
    primary_serves_bucket(hba, bucket) == (role == Role::Primary)
}

/// The key ISC hashes for an incoming packet: the complete option 61 data
/// (type byte included) if the client sent one, else `chaddr[..hlen]`
/// without the htype.
pub fn packet_key<'a>(client_id: Option<&'a [u8]>, chaddr: &'a [u8]) -> &'a [u8] {
    client_id.unwrap_or(chaddr)
}

/// The key ISC hashes for a stored lease (balancing affinity): its client id
/// if it has one, else its hardware address without the htype; `None` if it
/// has neither (such a lease is never "wanted" by the peer).
pub fn lease_key(lease: &Lease) -> Option<&[u8]> {
    lease
        .client_id
        .as_deref()
        .or_else(|| lease.hw.as_ref().map(|hw| hw.addr.as_slice()))
}

/// The `secs` value ISC compares with `load balance max seconds`. With
/// `byte_order_fix` (ISC's `--enable-secs-byteorder` build option) a value
/// above 255 whose low byte is 0 is taken to be byte-swapped by a broken
/// client and is swapped back (256 → 1, 1536 → 6).
pub fn effective_secs(secs: u16, byte_order_fix: bool) -> u16 {
    if byte_order_fix && secs > 255 && secs & 0xff == 0 {
        secs.swap_bytes()
    } else {
        secs
    }
}

/// One server's load-balancing decision for DHCPDISCOVERs in NORMAL state
/// (ISC `load_balance_mine`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadBalancer {
    /// This server's role.
    pub role: Role,
    /// The assignment in force: the primary's configured HBA, or on a
    /// secondary the one received in CONNECT (`None` before that).
    pub hba: Option<[u8; 32]>,
    /// `load balance max seconds`; 0 (ISC's default since 4.4.0) disables
    /// load balancing entirely.
    pub max_seconds: u32,
    /// Apply ISC's `secs` byte-order heuristic ([`effective_secs`]).
    pub secs_byte_order_fix: bool,
}

impl LoadBalancer {
    /// A balancer without the byte-order heuristic.
    pub fn new(role: Role, hba: Option<[u8; 32]>, max_seconds: u32) -> Self {
        Self {
            role,
            hba,
            max_seconds,
            secs_byte_order_fix: false,
        }
    }

    /// Whether this server answers a DISCOVER whose hash key is `key` and
    /// whose BOOTP `secs` field (host order) is `secs`:
    ///
    /// 1. load balancing off (`max_seconds == 0`) or the client has waited
    ///    longer than `max_seconds` → yes;
    /// 2. no HBA known yet → no;
    /// 3. otherwise the HBA bit of the key's bucket decides.
    ///
    /// ISC also answers a "not mine" client when the peer has no free leases;
    /// that depends on pool state and is the caller's decision.
    pub fn is_mine(&self, key: &[u8], secs: u16) -> bool {
        let ec = u32::from(effective_secs(secs, self.secs_byte_order_fix));
        if self.max_seconds == 0 || ec > self.max_seconds {
            return true;
        }
        match &self.hba {
            None => false,
            Some(hba) => role_serves_bucket(hba, self.role, bucket(key)),
        }
    }
}
