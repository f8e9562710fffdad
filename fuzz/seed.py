#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/.

Sources: the captures in ../shared/fixtures/*.pcap (DHCP UDP payloads; the
failover frames of TCP 647, reassembled per direction), the ISC
configurations of dhcp-isc's tests, the TOML of docs/ and of the tests, and
a few OMAPI messages and control requests built here. Plain byte parsing of
classic little- or big-endian pcap files with Ethernet framing; no
dependency. Each seed is named by the SHA-1 of its bytes, so reruns add
nothing twice. Usage: python3 fuzz/seed.py [FIXTURES_DIR]

The captures give ~970 near-identical failover frames; the committed
corpus/failover_frame/ is those minimised with
`cargo +nightly fuzz cmin -s none -a failover_frame corpus/failover_frame`.
"""

import glob
import hashlib
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(HERE, "corpus")


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def packets(path):
    """(ip_src, ip_dst, proto, sport, dport, tcp_seq, payload) per frame."""
    with open(path, "rb") as f:
        blob = f.read()
    magic = blob[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        print(f"{path}: not a classic pcap file, skipped", file=sys.stderr)
        return
    linktype = struct.unpack(end + "I", blob[20:24])[0]
    if linktype != 1:
        print(f"{path}: link type {linktype} is not Ethernet, skipped", file=sys.stderr)
        return
    pos = 24
    while pos + 16 <= len(blob):
        incl = struct.unpack(end + "I", blob[pos + 8:pos + 12])[0]
        frame = blob[pos + 16:pos + 16 + incl]
        pos += 16 + incl
        eth = 14
        ethertype = struct.unpack(">H", frame[12:14])[0] if len(frame) >= 14 else 0
        while ethertype in (0x8100, 0x88A8) and len(frame) >= eth + 4:
            ethertype = struct.unpack(">H", frame[eth + 2:eth + 4])[0]
            eth += 4
        if ethertype != 0x0800:
            continue
        ip = frame[eth:]
        if len(ip) < 20:
            continue
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        proto, src, dst = ip[9], ip[12:16], ip[16:20]
        l4 = ip[ihl:total]
        if proto == 17 and len(l4) >= 8:
            sport, dport = struct.unpack(">HH", l4[:4])
            yield src, dst, 17, sport, dport, 0, l4[8:]
        elif proto == 6 and len(l4) >= 20:
            sport, dport, seq = struct.unpack(">HHI", l4[:8])
            off = (l4[12] >> 4) * 4
            yield src, dst, 6, sport, dport, seq, l4[off:]


def failover_streams(pkts):
    """The byte stream of each TCP 647 direction, in sequence order."""
    streams = {}
    for src, dst, proto, sport, dport, seq, payload in pkts:
        if proto != 6 or 647 not in (sport, dport) or not payload:
            continue
        streams.setdefault((src, dst, sport, dport), {})[seq] = payload
    for segs in streams.values():
        out, nxt = b"", None
        for seq in sorted(segs):
            data = segs[seq]
            if nxt is not None and seq < nxt:
                data = data[nxt - seq:]
            out += data
            nxt = seq + len(segs[seq]) if nxt is None else max(nxt, seq + len(segs[seq]))
        yield out


def frames(stream):
    pos = 0
    while pos + 2 <= len(stream):
        n = struct.unpack(">H", stream[pos:pos + 2])[0]
        if n < 12 or pos + n > len(stream):
            break
        yield stream[pos:pos + n]
        pos += n


def from_pcaps(fixtures):
    dhcp, fo = set(), 0
    for path in sorted(glob.glob(os.path.join(fixtures, "*.pcap"))):
        pkts = list(packets(path))
        for src, dst, proto, sport, dport, seq, payload in pkts:
            if proto == 17 and {sport, dport} & {67, 68} and payload[:1] == b"\x01":
                dhcp.add(payload)
        for stream in failover_streams(pkts):
            fs = list(frames(stream))
            for fr in fs:
                put("failover_frame", fr)
                fo += 1
            # The peer: connect, then each frame with a second between them,
            # once as the primary and once as the secondary; capped at 40
            # frames so that a seed stays small.
            script = b"\x01" + b"".join(
                b"\x04" + struct.pack(">H", len(fr)) + fr + b"\x00\x01" for fr in fs[:40]
            )
            for role in (b"\x00", b"\x01"):
                put("failover_peer", role + script)
    for p in dhcp:
        put("dhcp_engine", p)
    print(f"pcap: {len(dhcp)} DHCP requests, {fo} failover frames")


def from_tests():
    for path in sorted(glob.glob(os.path.join(ROOT, "dhcp-isc/tests/corpus/*.conf"))
                       + glob.glob(os.path.join(ROOT, "dhcp-isc/tests/fixtures/*.conf"))):
        with open(path, "rb") as f:
            put("isc_config", f.read())
    toml = [os.path.join(ROOT, "docs/config-example.toml")]
    for path in toml:
        with open(path, "rb") as f:
            put("config_toml", f.read())
    # TOML in raw strings of the config tests and the examples.
    for path in (glob.glob(os.path.join(ROOT, "dhcp-core/tests/*.rs"))
                 + glob.glob(os.path.join(ROOT, "examples/*.rs"))
                 + glob.glob(os.path.join(HERE, "fuzz_targets/*.rs"))):
        with open(path, encoding="utf-8") as f:
            for text in re.findall(r'r#"(.*?)"#', f.read(), re.S):
                if "[[subnets" in text or "[[shared_networks" in text:
                    put("config_toml", text)


def omapi():
    def values(pairs):
        out = b""
        for name, value in pairs:
            out += struct.pack(">H", len(name)) + name + struct.pack(">I", len(value)) + value
        return out + b"\x00\x00"

    def message(op, handle, mid, msg, obj):
        return struct.pack(">IIIIII", 0, 0, op, handle, mid, 0) + values(msg) + values(obj)

    startup = struct.pack(">II", 100, 24)
    mac = bytes([0x52, 0x54, 0, 0xAA, 0xBB, 1])
    host = [(b"name", b"node01"), (b"hardware-address", mac),
            (b"hardware-type", struct.pack(">I", 1)), (b"ip-address", bytes([10, 99, 0, 20]))]
    create = message(1, 0, 1, [(b"type", b"host"), (b"create", struct.pack(">I", 1)),
                              (b"exclusive", struct.pack(">I", 1))], host)
    find = message(1, 0, 2, [(b"type", b"host")], [(b"name", b"node01")])
    lease = message(1, 0, 3, [(b"type", b"lease")], [(b"ip-address", bytes([10, 99, 0, 20]))])
    refresh = message(2, 1, 4, [], [])
    update = message(3, 1, 5, [], [(b"statements", b'option host-name "n1";')])
    delete = message(4, 1, 6, [], [])
    fo = message(1, 0, 7, [(b"type", b"failover-state")], [(b"name", b"failover")])
    put("omapi_message", startup)
    put("omapi_message", create)
    for seq in ([create], [create, refresh, update, delete], [find], [lease], [fo],
                [create, find, delete, find]):
        put("omapi_message", startup + b"".join(seq))


def control():
    for line in [
        '{"command":"status"}',
        '{"command":"leases-list"}',
        '{"command":"leases-list","state":"active","all":true}',
        '{"command":"leases-show","key":"10.99.0.20"}',
        '{"command":"leases-release","key":"52:54:00:aa:bb:01"}',
        '{"command":"hosts-list"}',
        '{"command":"hosts-add","host":{"name":"n1","mac":"52:54:00:aa:bb:01",'
        '"address":"10.99.0.20","boot_file":"pxelinux.0","lease_time":{"default":600},'
        '"options":{"routers":["10.99.0.1"]}}}',
        '{"command":"hosts-add","host":{"name":"s1","client_id":"01:52:54:00:aa:bb:02",'
        '"address":"10.99.0.21"}}',
        '{"command":"hosts-remove","name":"n1"}',
        '{"command":"failover-status"}',
        '{"command":"failover-partner-down"}',
        '{"command":"failover-partner-down","relationship":"failover"}',
        '{"command":"reload"}',
        "\n",
    ]:
        put("control_request", line + "\n")


if __name__ == "__main__":
    from_pcaps(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "fixtures"))
    from_tests()
    omapi()
    control()
    for t in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, t))
        size = sum(os.path.getsize(os.path.join(CORPUS, t, f)) for f in files)
        print(f"{t}: {len(files)} seeds, {size} bytes")
