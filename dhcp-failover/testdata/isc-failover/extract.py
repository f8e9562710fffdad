#!/usr/bin/env python3
"""Extract every failover message from a pcap of TCP port 647 traffic.

Usage: extract.py CAPTURE.pcap OUTDIR

Standard library only. Reads a classic little/big-endian pcap with Ethernet
(linktype 1) framing, reassembles each TCP direction by sequence number
(retransmitted or overlapping bytes are taken once), splits the byte stream
into failover messages by their 2-byte length prefix, and writes

  OUTDIR/frames.tsv   one line per message: number, capture time of the
                      segment that completed it, sender role, TCP endpoints,
                      connection number, type, length, and the raw message
                      as lower-case hex

Messages are numbered in the order their last byte appeared in the capture;
connections are numbered in the order they first carried data. The sender
role is "pri" for 10.99.0.1 (the ISC primary) and "sec" for 10.99.0.2.
"""
import os
import struct
import sys

TYPES = {1: "poolreq", 2: "poolresp", 3: "bndupd", 4: "bndack", 5: "connect",
         6: "connectack", 7: "updreqall", 8: "upddone", 9: "updreq",
         10: "state", 11: "contact", 12: "disconnect"}
ROLE = {"10.99.0.1": "pri", "10.99.0.2": "sec"}


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        e = "<"
    elif magic == b"\xa1\xb2\xc3\xd4":
        e = ">"
    else:
        raise SystemExit("not a microsecond pcap")
    linktype = struct.unpack(e + "I", data[20:24])[0]
    if linktype != 1:
        raise SystemExit("linktype %d is not Ethernet" % linktype)
    off = 24
    while off + 16 <= len(data):
        sec, usec, incl, _orig = struct.unpack(e + "IIII", data[off:off + 16])
        off += 16
        yield sec + usec / 1e6, data[off:off + incl]
        off += incl


def tcp_segments(path):
    for ts, frame in packets(path):
        if len(frame) < 14 or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        if ip[9] != 6:
            continue
        src = ".".join(str(b) for b in ip[12:16])
        dst = ".".join(str(b) for b in ip[16:20])
        tcp = ip[ihl:total]
        sport, dport, seq = struct.unpack(">HHI", tcp[:8])
        doff = (tcp[12] >> 4) * 4
        flags = tcp[13]
        yield ts, (src, sport, dst, dport), seq, flags, tcp[doff:]


def main():
    cap, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    streams = {}  # key -> dict(isn, buf(bytearray of received), next, pending)
    msgs = []
    conn_ids = {}
    for ts, key, seq, flags, payload in tcp_segments(cap):
        if 647 not in (key[1], key[3]):
            continue
        conn = tuple(sorted([key[:2], key[2:]]))
        if flags & 0x02:  # SYN: (re)start this direction
            if conn not in conn_ids or (flags & 0x10) == 0:
                conn_ids.setdefault(conn, len(conn_ids) + 1)
            streams[key] = {"next": (seq + 1) & 0xFFFFFFFF, "data": bytearray(),
                            "segs": {}, "conn": conn_ids[conn]}
            continue
        st = streams.get(key)
        if st is None or not payload:
            continue
        st["segs"].setdefault(seq, payload)
        # Deliver in-order bytes, skipping duplicates.
        progress = True
        while progress:
            progress = False
            for s, p in list(st["segs"].items()):
                rel = (st["next"] - s) & 0xFFFFFFFF
                if rel < len(p):  # segment covers st["next"]
                    st["data"] += p[rel:]
                    st["next"] = (st["next"] + len(p) - rel) & 0xFFFFFFFF
                    del st["segs"][s]
                    progress = True
                elif rel < 0x80000000:  # entirely old
                    del st["segs"][s]
        # Cut complete messages.
        d = st["data"]
        while len(d) >= 2:
            n = struct.unpack(">H", d[:2])[0]
            if n < 12 or len(d) < n:
                break
            msgs.append((ts, key, st["conn"], bytes(d[:n])))
            del d[:n]
    renumber = {}
    with open(os.path.join(out, "frames.tsv"), "w") as idx:
        idx.write("n\ttime\tfrom\tsrc\tdst\tconn\ttype\tlen\thex\n")
        for i, (ts, key, conn, m) in enumerate(msgs, 1):
            conn = renumber.setdefault(conn, len(renumber) + 1)
            t = TYPES.get(m[2], "type%d" % m[2])
            role = ROLE.get(key[0], key[0])
            idx.write("%d\t%.6f\t%s\t%s:%d\t%s:%d\t%d\t%s\t%d\t%s\n" % (
                i, ts, role, key[0], key[1], key[2], key[3], conn, t, len(m), m.hex()))
    leftovers = sum(len(s["data"]) + sum(len(p) for p in s["segs"].values())
                    for s in streams.values())
    print("%d messages, %d bytes left unframed" % (len(msgs), leftovers))


if __name__ == "__main__":
    main()
