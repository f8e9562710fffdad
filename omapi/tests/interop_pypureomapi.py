"""Drive the server with PyPI's pypureomapi (argv: port, secret, wrong secret).

Prints one line per step; exits non-zero at the first surprise.
"""
import struct
import sys

import pypureomapi as p

port, secret, wrong = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3].encode()
KEY = b"omapi_key"


def step(name):
    print("ok:", name, flush=True)


o = p.Omapi("127.0.0.1", port, KEY, secret, timeout=5)
step("connect and authenticate")

# MAAS 3.6+: no name.
o.add_host("10.20.0.70", "52:54:00:aa:bb:03")
step("add_host without name")
# With a name and `supersede host-name`.
o.add_host_supersede_name("10.20.0.71", "52:54:00:aa:bb:04", "node04")
step("add_host_supersede_name")
o.add_host_supersede("10.20.0.72", "52:54:00:aa:bb:07", "node07", hostname="node07.example", router="10.20.0.1")
step("add_host_supersede with routers")

assert o.lookup_ip_host("52:54:00:aa:bb:03") == "10.20.0.70"
h = o.lookup_host("node04")
assert h == {"ip": "10.20.0.71", "mac": "52:54:00:aa:bb:04", "hostname": "node04"}, h
h = o.lookup_host_by_ip("10.20.0.71")
assert h["mac"] == "52:54:00:aa:bb:04", h
h = o.lookup_host_host("52:54:00:aa:bb:04")
assert h["name"] == "node04", h
step("lookups by mac, name, ip")

# Duplicate create: pypureomapi raises; the status says why.
try:
    o.add_host("10.20.0.70", "52:54:00:aa:bb:03")
    raise SystemExit("duplicate create succeeded")
except p.OmapiError:
    pass
msg = p.OmapiMessage.open(b"host")
msg.message.append((b"create", struct.pack("!I", 1)))
msg.message.append((b"exclusive", struct.pack("!I", 1)))
msg.obj.append((b"hardware-address", p.pack_mac("52:54:00:aa:bb:03")))
msg.obj.append((b"hardware-type", struct.pack("!I", 1)))
msg.obj.append((b"ip-address", p.pack_ip("10.20.0.70")))
r = o.query_server(msg)
assert r.opcode == p.OMAPI_OP_STATUS, r.dump()
m = dict(r.message)
assert struct.unpack("!I", m[b"result"])[0] == 18, r.dump()
assert m[b"message"] == b"specified object already exists", r.dump()
step("duplicate create -> already exists")

# MAAS <= 3.5 address change: open by name, update ip-address.
r1 = o.query_server(p.OmapiMessage(opcode=p.OMAPI_OP_OPEN, message=[(b"type", b"host")], obj=[(b"name", b"node04")], tid=-1))
assert r1.opcode == p.OMAPI_OP_UPDATE, r1.dump()
u = p.OmapiMessage.update(r1.handle)
u.update_object({b"ip-address": p.pack_ip("10.20.0.81")})
r2 = o.query_server(u)
assert r2.opcode == p.OMAPI_OP_UPDATE, r2.dump()
assert o.lookup_host("node04")["ip"] == "10.20.0.81"
step("update ip-address")

o.del_host("52:54:00:aa:bb:03")
try:
    o.lookup_ip_host("52:54:00:aa:bb:03")
    raise SystemExit("deleted host still found")
except p.OmapiErrorNotFound:
    pass
step("del_host")

# Leases.
assert o.lookup_ip("52:54:00:aa:bb:02") == "10.20.0.100"
assert o.lookup_mac("10.20.0.100") == "52:54:00:aa:bb:02"
assert o.lookup_hostname("10.20.0.100") == "node02"
lease = o.lookup_by_lease(ip="10.20.0.100")
assert lease["state"] == 2 and lease["ends"] == 1800000600, lease
step("lease lookups")

# Failover state: read, then set partner-down.
assert o.lookup_failoverstate("failover-partner", "local-state") == b"\0\0\0\x03"
r = o.query_server(p.OmapiMessage(opcode=p.OMAPI_OP_OPEN, message=[(b"type", b"failover-state")], obj=[(b"name", b"failover-partner")], tid=-1))
u = p.OmapiMessage.update(r.handle)
u.update_object({b"local-state": struct.pack("!I", 4)})
r = o.query_server(u)
assert r.opcode == p.OMAPI_OP_UPDATE and dict(r.obj)[b"local-state"] == b"\0\0\0\x04", r.dump()
step("failover-state partner-down")
o.close()

# Wrong key: the authenticator opens (only the name is checked), the first
# signed request is refused.
bad = p.Omapi("127.0.0.1", port, KEY, wrong, timeout=5)
try:
    bad.add_host("10.20.0.90", "52:54:00:aa:bb:09")
    raise SystemExit("wrong key accepted")
except (p.OmapiError, OSError) as e:
    print("wrong key refused:", e)
step("wrong key refused")

# No key at all: refused.
anon = p.Omapi("127.0.0.1", port, timeout=5)
try:
    anon.add_host("10.20.0.91", "52:54:00:aa:bb:0a")
    raise SystemExit("unsigned request accepted")
except p.OmapiError as e:
    print("unsigned refused:", e)
step("unsigned refused")
print("ALL OK")
