//! Options and framing: requested lease times (51), maximum message size
//! (57), the parameter request list (55), overload (52), classless routes
//! (121), vendor options (43, 125), host name (12), client FQDN (81),
//! client identifier echo (61), and the framing quirks of real firmware.

use crate::conformance::catalog::build::*;
use crate::conformance::packet::{Dest, Packet};
use crate::conformance::scenario::Scenario;

const B: Dest = Dest::Broadcast;

/// The scenarios of this subject.
pub fn scenarios() -> Vec<Scenario> {
    let mut v = lease_times();
    v.extend(sizes_and_lists());
    v.extend(vendor_and_names());
    v.extend(quirks());
    v
}

const LEASE_TIMES: [u32; 10] = [0, 1, 59, 60, 300, 600, 1200, 1201, 86400, 0xffff_ffff];

fn lease_times() -> Vec<Scenario> {
    let mut v = Vec::new();
    for t in LEASE_TIMES {
        v.push(offer_with(
            &format!("lease-time/discover-{t}"),
            "RFC 2131 3.5, 4.3.1 (requested lease time, within the server's limits)",
            &[(51, &t.to_be_bytes())],
        ));
        v.push(dora(
            &format!("lease-time/request-{t}"),
            "RFC 2131 4.3.2",
            &[(51, &t.to_be_bytes())],
        ));
    }
    v.push(offer_with(
        "lease-time/short-value",
        "RFC 2132 9.2 (length 4)",
        &[(51, &[0, 0, 1])],
    ));
    v
}

fn sizes_and_lists() -> Vec<Scenario> {
    let all: Vec<u8> = (1..=254).collect();
    let mut v = Vec::new();
    for size in [0u16, 300, 575, 576, 1000, 1500, 1501, 65535] {
        v.push(offer_with(
            &format!("max-size/{size}"),
            "RFC 2132 9.10 (at least 576; servers keep replies within it)",
            &[(57, &size.to_be_bytes()), (55, &all)],
        ));
    }
    let lists: [(&str, &[u8]); 12] = [
        ("routers-dns-domain", &[1, 3, 6, 15]),
        ("reversed", &[15, 6, 3, 1]),
        ("duplicates", &[3, 3, 6, 6, 15, 3]),
        ("empty", &[]),
        ("unknown-codes", &[200, 201, 3]),
        ("server-set-codes", &[53, 54, 51, 50, 61, 82]),
        ("boot-options", &[66, 67, 60]),
        ("pad-and-end-codes", &[0, 3, 255]),
        ("all-codes", &[]),
        ("t1-t2", &[58, 59, 3]),
        ("mask-broadcast", &[1, 28]),
        ("single-domain", &[15]),
    ];
    for (name, list) in lists {
        let list = if name == "all-codes" { &all[..] } else { list };
        v.push(offer_with(
            &format!("prl/{name}"),
            "RFC 2132 9.8, RFC 2131 4.3.1",
            &[(55, list)],
        ));
    }
    v.push(dora(
        "prl/dora-order",
        "RFC 2132 9.8",
        &[(55, &[6, 3, 1, 15])],
    ));
    v.push(
        Scenario::new("prl/none", "RFC 2131 4.3.1 (no list: the server's choice)").step(
            discover(),
            B,
            OFFER,
        ),
    );
    // Client-side overload: the list and the host name in `file`/`sname`.
    let mut in_file = bare_discover().raw(52, &[1]);
    in_file.file = vec![55, 2, 15, 6, 255];
    v.push(
        Scenario::new(
            "overload/prl-in-file",
            "RFC 2132 9.3 (options also in file)",
        )
        .step(in_file, B, OFFER),
    );
    let mut in_sname = bare_discover().raw(52, &[2]);
    in_sname.sname = vec![55, 1, 15, 255];
    v.push(Scenario::new("overload/prl-in-sname", "RFC 2132 9.3").step(in_sname, B, OFFER));
    let mut both = bare_discover().raw(52, &[3]);
    both.file = vec![55, 1, 6, 255];
    both.sname = vec![12, 4, b'o', b'v', b'l', b'd', 255];
    v.push(Scenario::new("overload/both-fields", "RFC 2132 9.3").step(both, B, OFFER));
    let mut bare = bare_discover().raw(52, &[1]);
    bare.file = b"not-options".to_vec();
    v.push(
        Scenario::new(
            "overload/file-not-options",
            "RFC 2132 9.3 (malformed overload)",
        )
        .step(bare, B, OFFER),
    );
    v
}

fn vendor_and_names() -> Vec<Scenario> {
    let fqdn = |flags: u8| {
        let mut v = vec![flags, 0, 0];
        v.extend_from_slice(&[4, b'n', b'o', b'd', b'e', 4, b'c', b'o', b'n', b'f', 0]);
        v
    };
    vec![
        offer_with("routes-121/requested", "RFC 3442", &[(55, &[121])]),
        offer_with(
            "routes-121/with-routers",
            "RFC 3442 (121 and 3)",
            &[(55, &[121, 3])],
        ),
        offer_with("routes-121/after-routers", "RFC 3442", &[(55, &[3, 121])]),
        offer_with(
            "routes-121/with-static-routes-33",
            "RFC 3442 (121 over 33)",
            &[(55, &[33, 121, 3])],
        ),
        dora("routes-121/dora", "RFC 3442", &[(55, &[121, 1, 3])]),
        offer_with("vendor-43/requested", "RFC 2132 8.4", &[(55, &[43])]),
        offer_with(
            "vendor-43/with-vendor-class",
            "RFC 2132 8.4, 9.13",
            &[(60, b"PXEClient:Arch:00000"), (55, &[43, 60])],
        ),
        offer_with("vendor-43/not-requested", "RFC 2132 9.8", &[(55, &[1, 3])]),
        offer_with("vivso-125/requested", "RFC 3925 4", &[(55, &[125])]),
        offer_with(
            "vivso-125/with-124",
            "RFC 3925 3",
            &[
                (124, &[0, 0, 0xa5, 0x7f, 4, 3, b'a', b'b', b'c']),
                (55, &[125, 124]),
            ],
        ),
        dora("vivso-125/dora", "RFC 3925", &[(55, &[125, 43])]),
        dora("hostname-12/sent", "RFC 2132 3.14", &[(12, b"node1")]),
        dora(
            "hostname-12/sent-and-requested",
            "RFC 2132 3.14, 9.8",
            &[(12, b"node2"), (55, &[12, 3])],
        ),
        offer_with(
            "hostname-12/trailing-nul",
            "RFC 2132 2 (NUL in text)",
            &[(12, b"node3\0")],
        ),
        offer_with(
            "hostname-12/empty",
            "RFC 2132 3.14 (minimum length 1)",
            &[(12, b"")],
        ),
        dora(
            "fqdn-81/client-updates",
            "RFC 4702 2.1 (S=0)",
            &[(81, &fqdn(0))],
        ),
        dora(
            "fqdn-81/server-updates",
            "RFC 4702 2.1 (S=1)",
            &[(81, &fqdn(1))],
        ),
        dora(
            "fqdn-81/no-updates",
            "RFC 4702 2.1 (N=1)",
            &[(81, &fqdn(8))],
        ),
        dora(
            "fqdn-81/canonical-encoding",
            "RFC 4702 2.3 (E=1)",
            &[(81, &fqdn(4))],
        ),
        dora(
            "client-id-61/mac-type-1",
            "RFC 6842 3 (echo)",
            &[(61, &[1, 2, 0x99, 0, 0, 1, 1])],
        ),
        dora(
            "client-id-61/rfc4361-duid",
            "RFC 4361, RFC 6842",
            &[(61, &[0xff, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4])],
        ),
        dora(
            "client-id-61/text",
            "RFC 2132 9.14, RFC 6842",
            &[(61, b"\0text-id")],
        ),
        Scenario::new("client-id-61/echo-in-nak", "RFC 6842 3 (NAK too)").step(
            init_reboot(lit(FOREIGN)).raw(61, &[1, 2, 0x99, 0, 0, 2, 2]),
            B,
            NAK,
        ),
        offer_with(
            "user-class-77/ipxe-text",
            "RFC 3004 (iPXE's raw text form)",
            &[(77, b"iPXE")],
        ),
        offer_with(
            "vendor-class-60/pxe",
            "RFC 2132 9.13, RFC 4578",
            &[
                (60, b"PXEClient:Arch:00007:UNDI:003016"),
                (93, &[0, 7]),
                (94, &[1, 3, 16]),
                (97, &[0; 17]),
            ],
        ),
    ]
}

fn quirks() -> Vec<Scenario> {
    let padded = |n: usize| {
        let mut p = discover();
        p.trailing_pad = n;
        p
    };
    let no_end = |pad: usize| {
        let mut p = bare_discover().raw(55, &[1, 3]);
        p.end = false;
        p.trailing_pad = pad;
        p
    };
    let mut short = discover();
    short.pad_to_300 = false;
    let mut truncated = discover();
    truncated.end = false;
    truncated.pad_to_300 = false;
    truncated
        .options
        .push(crate::conformance::packet::Opt::Bytes(vec![12, 9, b'x']));
    vec![
        Scenario::new(
            "quirks/trailing-padding-100",
            "RFC 2131 2 (padding after END)",
        )
        .step(padded(100), B, OFFER),
        Scenario::new("quirks/trailing-padding-900", "RFC 2131 2").step(padded(900), B, OFFER),
        Scenario::new("quirks/missing-end", "RFC 2131 4.1 (firmware omits END)").step(
            no_end(0),
            B,
            OFFER,
        ),
        Scenario::new("quirks/missing-end-then-zeros", "RFC 2131 4.1").step(no_end(60), B, OFFER),
        Scenario::new("quirks/pads-between-options", "RFC 2132 3.1").step(
            bare_discover()
                .bytes(&[0, 0, 0])
                .raw(55, &[1, 3])
                .bytes(&[0]),
            B,
            OFFER,
        ),
        Scenario::new(
            "quirks/message-type-not-first",
            "RFC 2131 4.1 (options in any order)",
        )
        .step(
            Packet::new().raw(12, b"late53").raw(53, &[1]).broadcast(),
            B,
            OFFER,
        ),
        Scenario::new(
            "quirks/short-packet-no-padding",
            "RFC 2131 2 (minimum 300 is BOOTP's)",
        )
        .step(short, B, OFFER),
        Scenario::new("quirks/truncated-last-option", "RFC 2131 (malformed: drop)").step(
            truncated,
            B,
            Expect::Silence,
        ),
        Scenario::new("quirks/message-type-twice", "RFC 2131 4.1 (malformed)").step(
            discover().raw(53, &[3]),
            B,
            OFFER,
        ),
        Scenario::new(
            "quirks/split-option-rfc3396",
            "RFC 3396 (concatenated instances)",
        )
        .step(bare_discover().raw(55, &[1]).raw(55, &[3, 6]), B, OFFER),
        Scenario::new("quirks/secs-max", "RFC 2131 2").step(
            {
                let mut p = discover();
                p.secs = u16::MAX;
                p
            },
            B,
            OFFER,
        ),
    ]
}

use crate::conformance::scenario::Expect;
