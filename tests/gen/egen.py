#!/usr/bin/python3
"""egen: deterministic traffic generator for egressd tests.

egen writes classic libpcap files (magic 0xa1b2c3d4, microsecond timestamps,
LINKTYPE_ETHERNET) containing whole, protocol-correct conversations built from a
scenario description, and optionally a JSON "truth" file that lists every flow
exactly as the generator emitted it.

Library use::

    from egen import Scenario
    sc = Scenario(seed=7)
    sc.tls_session("10.0.0.5", "93.184.216.34", sni="www.dropbox.com",
                   upload_bytes=150_000, download_bytes=4_000, at="+0s")
    sc.dns_query("10.0.0.5", "10.0.0.53", "www.example.com", answers=["93.184.216.34"])
    sc.write("out.pcap", truth="truth.json")

CLI use::

    python3 tests/gen/egen.py SCENARIO.json -o out.pcap [--truth t.json] [--snaplen N] [--seed N]
    python3 tests/gen/egen.py --scenario basic -o out.pcap --truth t.json
    python3 tests/gen/egen.py --list

Design notes
------------
* Determinism: every random choice comes from ``random.Random(seed)``; the
  packet clock starts at 2024-01-01T00:00:00Z (configurable) and only moves by
  the offsets of the scenario. Same arguments => byte-identical output.
* Speed: frames are built from precomputed per-direction templates (Ethernet /
  VLAN prefix, constant parts of the IP header and of the checksums); payload
  "filler" bytes are slices of one seeded random buffer whose checksum sums are
  precomputed as prefix values, so a full-size data segment costs one
  ``struct.pack`` plus a few integer additions. Records are written in large
  chunks. Conversations are Python generators merged lazily by timestamp
  (``heapq.merge``), so memory stays flat for multi-million packet captures.
* Checksums use the identity "ones'-complement sum of 16-bit big-endian words
  == big-endian integer value mod 0xFFFF", which lets us add the pseudo-header,
  header fields and payload values as plain integers.
* Truth bookkeeping is done on each packet as it is emitted (packet count, IP
  bytes, transport payload bytes, first/last timestamp), not by a formula.

See tests/gen/README.md for the scenario format and the truth file format.
"""

import argparse
import base64
import datetime
import heapq
import ipaddress
import json
import operator
import random
import struct
import sys

__all__ = [
    "PcapWriter", "Scenario", "Net", "Flow", "Segmented", "BUILTIN_SCENARIOS",
    "build_from_steps", "parse_time", "parse_size", "BASE_TS_US",
]

# 2024-01-01T00:00:00Z in microseconds since the epoch: the default packet clock origin.
BASE_TS_US = 1704067200 * 1000000

_M = 0xFFFF  # modulus for ones'-complement arithmetic (see module docstring)

# TCP flag bits
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

ETH_IPV4, ETH_IPV6, ETH_VLAN = 0x0800, 0x86DD, 0x8100
PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTO_ICMPV6 = 1, 6, 17, 58

_TCP_WINDOW = 64240
# SYN options: MSS (kind 2, filled in per session), NOP, NOP, SACK permitted (kind 4).
_SYN_OPTS_TAIL = b"\x01\x01\x04\x02"

# Struct layouts (network order). IPv4 header + TCP header without options.
_S_IP4 = struct.Struct("!BBHHHBBH4s4s")
_S_IP4_TCP = struct.Struct("!BBHHHBBH4s4sHHIIHHHH")
_S_IP4_UDP = struct.Struct("!BBHHHBBH4s4sHHHH")
_S_IP6 = struct.Struct("!IHBB16s16s")
_S_IP6_TCP = struct.Struct("!IHBB16s16sHHIIHHHH")
_S_IP6_UDP = struct.Struct("!IHBB16s16sHHHH")
_S_TCP = struct.Struct("!HHIIHHHH")
_S_UDP = struct.Struct("!HHHH")
_S_REC = struct.Struct("<IIII")

# Size of the seeded filler buffer: any slice [o, o+k) with o < 65536 and
# k <= 65536 must fit, so it is 128 KiB.
_FILL_LEN = 1 << 17


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------

def _val(data):
    """Big-endian integer value of `data` mod 0xFFFF (== ones'-complement word
    sum of `data` when `data` starts at an even offset and has even length)."""
    return int.from_bytes(data, "big") % _M


def _padval(data):
    """Like _val but for a block that ends the checksummed region: an odd
    length is padded with one zero byte (RFC 1071)."""
    v = int.from_bytes(data, "big") % _M
    return v * 256 % _M if len(data) & 1 else v


def _words(b):
    """Ones'-complement sum value of an even-length constant (addresses...)."""
    return int.from_bytes(b, "big") % _M


def parse_time(value):
    """Seconds (int/float) or a string like '5s', '250ms', '10us', '2m', '1h'
    -> integer microseconds. A leading '+' is stripped (the caller decides what
    it is relative to)."""
    if isinstance(value, (int, float)):
        return int(round(value * 1e6))
    s = str(value).strip().lstrip("+").strip()
    for suffix, mult in (("us", 1), ("ms", 1000), ("s", 1000000), ("m", 60000000),
                         ("h", 3600000000)):
        if s.endswith(suffix) and s[: -len(suffix)].replace(".", "", 1).isdigit():
            return int(round(float(s[: -len(suffix)]) * mult))
    return int(round(float(s) * 1e6))


def parse_size(value):
    """An int, or a string like '1500', '64k', '150M', '2G' (decimal) or
    '64KiB', '1MiB' (binary) -> int bytes."""
    if isinstance(value, bool):
        raise ValueError("size cannot be a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    s = str(value).strip().replace("_", "")
    for suffix, mult in (("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30),
                         ("kB", 1000), ("KB", 1000), ("MB", 10**6), ("GB", 10**9),
                         ("k", 1000), ("K", 1000), ("M", 10**6), ("G", 10**9), ("B", 1)):
        if s.endswith(suffix):
            return int(float(s[: -len(suffix)]) * mult)
    return int(float(s))


def _parse_start(value):
    """Capture origin: int microseconds, or an ISO-8601 string."""
    if value is None:
        return BASE_TS_US
    if isinstance(value, int):
        return value
    dt = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return int(round(dt.timestamp() * 1e6))


def _mac_for(ip_packed, router=False):
    """Deterministic locally-administered MAC for an address (02:00:<last 4
    address bytes>); the remote side of every flow appears behind a router MAC."""
    if router:
        return b"\x02\x00\x5e\x00\x00\x01"
    return b"\x02\x00" + ip_packed[-4:]


class Segmented:
    """A TCP message with forced segment boundaries: each group (bytes, int
    filler size, or a list of those) starts a new segment; groups longer than
    the MSS are still split at the MSS."""

    def __init__(self, groups):
        self.groups = [_norm_msg(g)[0] for g in groups]


def _norm_msg(msg):
    """Normalise a message to a list of groups, each a list of pieces where a
    piece is bytes (literal) or int (that many filler bytes)."""
    if isinstance(msg, Segmented):
        return msg.groups
    if isinstance(msg, (bytes, bytearray, memoryview)):
        return [[bytes(msg)]]
    if isinstance(msg, str):
        return [[msg.encode("utf-8")]]
    if isinstance(msg, int):
        return [[msg]]
    pieces = []
    for p in msg:
        if isinstance(p, str):
            pieces.append(p.encode("utf-8"))
        elif isinstance(p, (bytes, bytearray, memoryview)):
            pieces.append(bytes(p))
        else:
            pieces.append(int(p))
    return [pieces]


def _msg_len(groups):
    return sum(p if isinstance(p, int) else len(p) for g in groups for p in g)


# --------------------------------------------------------------------------
# pcap writer
# --------------------------------------------------------------------------

class PcapWriter:
    """Classic pcap writer (little-endian, microsecond resolution).

    Records are written with incl_len = min(len(frame), snaplen) and
    orig_len = len(frame). Timestamps must be non-decreasing.
    """

    def __init__(self, path, linktype=1, snaplen=65535, chunk=1 << 20):
        self.snaplen = int(snaplen)
        self.linktype = linktype
        self.count = 0
        self._f = open(path, "wb")
        self._f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, self.snaplen, linktype))
        self._chunk = chunk
        self._last_ts = -1

    def write(self, ts_us, frame):
        """Write one record (timestamp in microseconds since the epoch)."""
        self.write_many(((ts_us, frame),))

    def write_many(self, packets):
        """Write an iterable of (ts_us, frame) pairs; returns the count."""
        snap = self.snaplen
        pack = _S_REC.pack
        buf = []
        append = buf.append
        size = 0
        limit = self._chunk
        last = self._last_ts
        n = 0
        write = self._f.write
        for ts, frame in packets:
            if ts < last:
                raise ValueError("pcap timestamps must be non-decreasing (%d < %d)" % (ts, last))
            last = ts
            ln = len(frame)
            if ln > snap:
                append(pack(ts // 1000000, ts % 1000000, snap, ln))
                append(frame[:snap])
                size += snap + 16
            else:
                append(pack(ts // 1000000, ts % 1000000, ln, ln))
                append(frame)
                size += ln + 16
            n += 1
            if size >= limit:
                write(b"".join(buf))
                buf.clear()
                size = 0
        if buf:
            write(b"".join(buf))
        self._last_ts = last
        self.count += n
        return n

    def close(self):
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --------------------------------------------------------------------------
# flows and per-direction frame builders
# --------------------------------------------------------------------------

class Flow:
    """One flow as the generator built it (the unit of the truth file).

    c2s / s2c are [packets, ip_bytes, payload_bytes] counters, updated as each
    packet is emitted. first/last are microsecond timestamps.
    """

    __slots__ = ("id", "kind", "transport", "client", "cport", "server", "sport",
                 "vlan", "ipver", "c2s", "s2c", "first", "last", "l7")

    def __init__(self, fid, kind, transport, client, cport, server, sport, vlan, ipver):
        self.id = fid
        self.kind = kind
        self.transport = transport
        self.client, self.cport = client, cport
        self.server, self.sport = server, sport
        self.vlan = vlan
        self.ipver = ipver
        self.c2s = [0, 0, 0]
        self.s2c = [0, 0, 0]
        self.first = None
        self.last = None
        self.l7 = {}

    def to_json(self):
        def d(st):
            return {"packets": st[0], "ip_bytes": st[1], "payload_bytes": st[2]}
        return {
            "id": self.id,
            "kind": self.kind,
            "transport": self.transport,
            "ip_version": self.ipver,
            "vlan": self.vlan,
            "initiator": {"ip": self.client, "port": self.cport},
            "responder": {"ip": self.server, "port": self.sport},
            "c2s": d(self.c2s),
            "s2c": d(self.s2c),
            "first_us": self.first,
            "last_us": self.last,
            "l7": self.l7,
        }


class _Half4:
    """Frame builder for one direction of an IPv4 flow.

    Holds the L2 prefix and the constant parts of the IP and transport
    checksums; every build method does the per-packet bookkeeping on the flow
    (packets, IP bytes, payload bytes, first/last timestamp).
    """

    v6 = False

    def __init__(self, flow, st, src, dst, proto, sport, dport, vlan, ttl, ipid, to_router):
        self.flow, self.st = flow, st
        self.src, self.dst = src, dst
        self.proto, self.sport, self.dport = proto, sport, dport
        self.ttl = ttl
        self.ipid = ipid
        smac = _mac_for(src, router=not to_router)
        dmac = _mac_for(dst, router=to_router)
        if vlan is None:
            self.l2 = dmac + smac + struct.pack("!H", ETH_IPV4)
        else:
            self.l2 = dmac + smac + struct.pack("!HHH", ETH_VLAN, vlan & 0x0FFF, ETH_IPV4)
        addr = _words(src) + _words(dst)
        # IP header constant words: version/IHL|TOS, TTL|proto, addresses
        # (total length, id, flags/fragment and checksum are added per packet).
        self.ipc = (0x4500 + (ttl << 8) + proto + addr) % _M
        # Transport checksum constant: pseudo-header addresses + protocol + ports.
        self.l4c = (addr + proto + sport + dport) % _M

    def tcp(self, ts, seq, ack, flags, payload, pv, opts=b""):
        """Build one TCP segment. pv = padded checksum value of payload."""
        plen = len(payload)
        hl = 20 + len(opts)
        tlen = hl + plen
        tot = 20 + tlen
        ipid = self.ipid
        self.ipid = (ipid + 1) & 0xFFFF
        offl = (hl << 10) | flags
        ck = _M - (self.l4c + tlen + seq + ack + offl + _TCP_WINDOW + pv
                   + (_val(opts) if opts else 0)) % _M
        ipck = _M - (self.ipc + tot + ipid + 0x4000) % _M
        frame = self.l2 + _S_IP4_TCP.pack(0x45, 0, tot, ipid, 0x4000, self.ttl, PROTO_TCP, ipck,
                                          self.src, self.dst, self.sport, self.dport, seq, ack,
                                          offl, _TCP_WINDOW, ck, 0)
        if opts:
            frame += opts
        if plen:
            frame += payload
        st = self.st
        st[0] += 1
        st[1] += tot
        st[2] += plen
        f = self.flow
        if f.first is None:
            f.first = ts
        f.last = ts
        return frame

    def udp(self, ts, payload, pv, mtu=None):
        """Build one UDP datagram; returns a list of (ts, frame): several
        IPv4 fragments, 1us apart, when mtu is set and the datagram does not
        fit."""
        plen = len(payload)
        ulen = 8 + plen
        ck = _M - (self.l4c + ulen + ulen + pv) % _M  # pseudo length + header length
        st = self.st
        f = self.flow
        if f.first is None:
            f.first = ts
        f.last = ts
        ipid = self.ipid
        self.ipid = (ipid + 1) & 0xFFFF
        if mtu is None or 20 + ulen <= mtu:
            tot = 20 + ulen
            ipck = _M - (self.ipc + tot + ipid) % _M
            st[0] += 1
            st[1] += tot
            st[2] += plen
            return [(ts, self.l2 + _S_IP4_UDP.pack(0x45, 0, tot, ipid, 0, self.ttl, PROTO_UDP,
                                                   ipck, self.src, self.dst, self.sport,
                                                   self.dport, ulen, ck) + payload)]
        # RFC 791 fragmentation: every fragment but the last carries a multiple
        # of 8 bytes of the datagram and the MF flag.
        datagram = _S_UDP.pack(self.sport, self.dport, ulen, ck) + payload
        step = (mtu - 20) // 8 * 8
        frames = []
        st[2] += plen
        for off in range(0, len(datagram), step):
            part = datagram[off:off + step]
            more = off + step < len(datagram)
            frag = (0x2000 if more else 0) | (off >> 3)
            tot = 20 + len(part)
            ipck = _M - (self.ipc + tot + ipid + frag) % _M
            frames.append((ts, self.l2 + _S_IP4.pack(0x45, 0, tot, ipid, frag, self.ttl,
                                                     PROTO_UDP, ipck, self.src, self.dst) + part))
            st[0] += 1
            st[1] += tot
            f.last = ts
            ts += 1
        return frames

    def icmp(self, ts, icmp_type, code, rest, payload):
        """ICMPv4 message: type, code, checksum, 4 bytes `rest`, payload."""
        body = rest + payload
        ck = _M - ((icmp_type << 8 | code) + _padval(body)) % _M
        msg = struct.pack("!BBH", icmp_type, code, ck) + body
        tot = 20 + len(msg)
        ipid = self.ipid
        self.ipid = (ipid + 1) & 0xFFFF
        ipck = _M - (self.ipc + tot + ipid + 0x4000) % _M
        st = self.st
        st[0] += 1
        st[1] += tot
        st[2] += len(payload)
        f = self.flow
        if f.first is None:
            f.first = ts
        f.last = ts
        return self.l2 + _S_IP4.pack(0x45, 0, tot, ipid, 0x4000, self.ttl, PROTO_ICMP, ipck,
                                     self.src, self.dst) + msg


class _Half6(_Half4):
    """Frame builder for one direction of an IPv6 flow (no extension headers)."""

    v6 = True

    def __init__(self, flow, st, src, dst, proto, sport, dport, vlan, ttl, ipid, to_router):
        super().__init__(flow, st, src, dst, proto, sport, dport, vlan, ttl, ipid, to_router)
        if vlan is None:
            self.l2 = self.l2[:12] + struct.pack("!H", ETH_IPV6)
        else:
            self.l2 = self.l2[:16] + struct.pack("!H", ETH_IPV6)
        # Flow label derived from the ports (deterministic, non-zero).
        self.vtf = 0x60000000 | ((sport * 7919 + dport) & 0xFFFFF)
        addr = _words(src) + _words(dst)
        self.l4c = (addr + proto + sport + dport) % _M

    def tcp(self, ts, seq, ack, flags, payload, pv, opts=b""):
        plen = len(payload)
        hl = 20 + len(opts)
        tlen = hl + plen
        offl = (hl << 10) | flags
        ck = _M - (self.l4c + tlen + seq + ack + offl + _TCP_WINDOW + pv
                   + (_val(opts) if opts else 0)) % _M
        frame = self.l2 + _S_IP6_TCP.pack(self.vtf, tlen, PROTO_TCP, self.ttl, self.src, self.dst,
                                          self.sport, self.dport, seq, ack, offl, _TCP_WINDOW, ck, 0)
        if opts:
            frame += opts
        if plen:
            frame += payload
        st = self.st
        st[0] += 1
        st[1] += tlen + 40
        st[2] += plen
        f = self.flow
        if f.first is None:
            f.first = ts
        f.last = ts
        return frame

    def udp(self, ts, payload, pv, mtu=None):
        # IPv6 routers do not fragment; egen does not build IPv6 fragment headers.
        plen = len(payload)
        ulen = 8 + plen
        ck = _M - (self.l4c + ulen + ulen + pv) % _M
        st = self.st
        st[0] += 1
        st[1] += ulen + 40
        st[2] += plen
        f = self.flow
        if f.first is None:
            f.first = ts
        f.last = ts
        return [(ts, self.l2 + _S_IP6_UDP.pack(self.vtf, ulen, PROTO_UDP, self.ttl, self.src,
                                               self.dst, self.sport, self.dport, ulen, ck)
                 + payload)]

    def icmp(self, ts, icmp_type, code, rest, payload):
        body = rest + payload
        mlen = 4 + len(body)
        # ICMPv6 checksum covers the IPv6 pseudo-header (RFC 4443 2.3).
        ck = _M - (self.l4c + mlen + (icmp_type << 8 | code) + _padval(body)) % _M
        msg = struct.pack("!BBH", icmp_type, code, ck) + body
        st = self.st
        st[0] += 1
        st[1] += mlen + 40
        st[2] += len(payload)
        f = self.flow
        if f.first is None:
            f.first = ts
        f.last = ts
        return self.l2 + _S_IP6.pack(self.vtf, mlen, PROTO_ICMPV6, self.ttl, self.src, self.dst) + msg


# --------------------------------------------------------------------------
# TLS / DNS message builders (pure functions of their inputs + rng)
# --------------------------------------------------------------------------

def _u8len(b):
    return struct.pack("!B", len(b)) + b


def _u16len(b):
    return struct.pack("!H", len(b)) + b


def _ext(ext_type, body):
    return struct.pack("!HH", ext_type, len(body)) + body


def tls_client_hello(sni, alpn, rng):
    """A complete TLS record (content type 22) holding a ClientHello in the
    TLS 1.3 format of RFC 8446 4.1.2, which a TLS 1.2 server also accepts:
    server_name (RFC 6066), supported_groups, ec_point_formats,
    signature_algorithms, ALPN (RFC 7301), supported_versions, psk modes,
    key_share (x25519)."""
    exts = b""
    if sni:
        name = sni.encode("ascii")
        exts += _ext(0, _u16len(b"\x00" + _u16len(name)))                 # server_name
    exts += _ext(23, b"")                                                  # extended_master_secret
    exts += _ext(0xFF01, b"\x00")                                          # renegotiation_info
    exts += _ext(10, _u16len(struct.pack("!HHH", 0x001D, 0x0017, 0x0018)))  # supported_groups
    exts += _ext(11, _u8len(b"\x00"))                                      # ec_point_formats
    exts += _ext(35, b"")                                                  # session_ticket
    if alpn:
        protos = b"".join(_u8len(p.encode("ascii")) for p in alpn)
        exts += _ext(16, _u16len(protos))                                  # ALPN
    exts += _ext(13, _u16len(struct.pack("!8H", 0x0403, 0x0804, 0x0401, 0x0503,
                                         0x0805, 0x0501, 0x0806, 0x0601)))  # signature_algorithms
    exts += _ext(43, _u8len(struct.pack("!HH", 0x0304, 0x0303)))           # supported_versions
    exts += _ext(45, _u8len(b"\x01"))                                      # psk_key_exchange_modes
    exts += _ext(51, _u16len(struct.pack("!HH", 0x001D, 32) + rng.randbytes(32)))  # key_share
    suites = struct.pack("!9H", 0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030,
                         0xCCA9, 0xCCA8)
    body = (b"\x03\x03" + rng.randbytes(32) + _u8len(rng.randbytes(32)) + _u16len(suites)
            + b"\x01\x00" + _u16len(exts))
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + _u16len(hs)


def tls_server_hello(rng):
    """TLS 1.3 ServerHello record (supported_versions=0x0304, x25519 key_share)
    followed by a ChangeCipherSpec record."""
    exts = _ext(43, struct.pack("!H", 0x0304))
    exts += _ext(51, struct.pack("!HH", 0x001D, 32) + rng.randbytes(32))
    body = (b"\x03\x03" + rng.randbytes(32) + _u8len(rng.randbytes(32)) + struct.pack("!H", 0x1301)
            + b"\x00" + _u16len(exts))
    hs = b"\x02" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x03" + _u16len(hs) + b"\x14\x03\x03\x00\x01\x01"


def _tls_app_pieces(nbytes, max_body=16401):
    """Pieces for application_data records (type 0x17) whose bodies total
    nbytes; bodies are filler (random-looking, like ciphertext)."""
    pieces = []
    while nbytes > 0:
        k = min(nbytes, max_body)
        pieces.append(b"\x17\x03\x03" + struct.pack("!H", k))
        pieces.append(k)
        nbytes -= k
    return pieces


DNS_TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
             "AAAA": 28, "SRV": 33, "HTTPS": 65, "ANY": 255, "NULL": 10}


def _dns_name(name, msg_len, table):
    """Encode a domain name at offset msg_len, using and extending the
    compression table (suffix -> offset), RFC 1035 4.1.4."""
    labels = [l for l in name.rstrip(".").split(".") if l]
    out = b""
    for i in range(len(labels)):
        suffix = ".".join(labels[i:]).lower()
        if suffix in table:
            return out + struct.pack("!H", 0xC000 | table[suffix])
        off = msg_len + len(out)
        if off < 0x3FFF:
            table[suffix] = off
        lab = labels[i].encode("ascii")
        if not 0 < len(lab) <= 63:
            raise ValueError("bad DNS label %r" % labels[i])
        out += _u8len(lab)
    return out + b"\x00"


def dns_message(txid, qname, qtype, response=False, answers=(), ttl=300, cname=None,
                txt=None, rcode=0):
    """An RFC 1035 DNS query or response. Answer owner names and name-valued
    RDATA are compressed against earlier names."""
    qt = DNS_TYPES[qtype.upper()] if isinstance(qtype, str) else int(qtype)
    if len(qname.rstrip(".")) > 253:
        raise ValueError("qname too long")
    table = {}
    rrs = []  # (owner, type, rdata-spec)
    if response:
        owner = qname
        if cname:
            rrs.append((owner, 5, ("name", cname)))
            owner = cname
        if txt is not None:
            strings = [txt] if isinstance(txt, (str, bytes)) else list(txt)
            rrs.append((owner, 16, ("txt", strings)))
        for a in answers or ():
            if qt in (2, 5, 12):           # NS / CNAME / PTR: name answers
                rrs.append((owner, qt, ("name", a)))
            elif qt == 15:                 # MX
                rrs.append((owner, 15, ("mx", a)))
            else:
                ip = ipaddress.ip_address(a)
                rrs.append((owner, 28 if ip.version == 6 else 1, ("raw", ip.packed)))
    flags = (0x8180 | (rcode & 0xF)) if response else 0x0100
    msg = struct.pack("!HHHHHH", txid, flags, 1, len(rrs), 0, 0)
    msg += _dns_name(qname, len(msg), table) + struct.pack("!HH", qt, 1)
    for owner, rtype, (kind, val) in rrs:
        msg += _dns_name(owner, len(msg), table) + struct.pack("!HHI", rtype, 1, ttl)
        rd_off = len(msg) + 2
        if kind == "name":
            rdata = _dns_name(val, rd_off, table)
        elif kind == "mx":
            rdata = struct.pack("!H", 10) + _dns_name(val, rd_off + 2, table)
        elif kind == "txt":
            rdata = b""
            for s in val:
                b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
                for i in range(0, max(len(b), 1), 255):
                    rdata += _u8len(b[i:i + 255])
        else:
            rdata = val
        msg += _u16len(rdata)
    return msg


# --------------------------------------------------------------------------
# the scenario builder
# --------------------------------------------------------------------------

class Scenario:
    """Builds a capture from conversations.

    Timing: each helper takes `at`:
      * None     -> sequential: starts `gap` after the previous conversation ends;
      * number / '12s' / '1500ms' -> absolute offset from the capture start;
      * '+5s'    -> offset relative to the most recent explicitly timed
                    conversation (the "anchor"; initially the capture start).
    Explicitly timed conversations run concurrently and are merged by timestamp.

    Other common keyword arguments: vlan (802.1Q VID or None), rtt (seconds or
    time string; default 20ms), bandwidth (bits/s used to space segments;
    default 100e6).
    """

    def __init__(self, seed=1, start=None, gap="1ms", rtt="20ms", bandwidth=100e6):
        self.seed = seed
        self.rng = random.Random(seed)
        self.start_us = _parse_start(start)
        self.gap_us = parse_time(gap)
        self.rtt_us = parse_time(rtt)
        self.bandwidth = float(bandwidth)
        self.flows = []
        self._chains = []         # [start_us, [conv callables t0 -> generator]]
        self._anchor = 0          # offset (us) of the last explicitly timed step
        self._used = set()
        self._written = False
        # Seeded filler buffer and its prefix values: V[k] = int(fill[:k]) mod 0xFFFF,
        # so the checksum value of any slice is O(1) (see _segments).
        frng = random.Random("egen-filler-%s" % (seed,))
        self._fill = frng.randbytes(_FILL_LEN)
        v = 0
        pref = [0] * (_FILL_LEN + 1)
        for i, b in enumerate(self._fill, 1):
            v = (v * 256 + b) % _M
            pref[i] = v
        self._fillv = pref
        self._foff = 0

    # ---------------------------------------------------------------- timing

    def _schedule(self, conv, at):
        if at is None and self._chains:
            self._chains[-1][1].append(conv)
            return
        if at is None:
            off = 0
        elif isinstance(at, str) and at.strip().startswith("+"):
            off = self._anchor + parse_time(at)
        else:
            off = parse_time(at)
        self._anchor = off
        self._chains.append([self.start_us + off, [conv]])

    def _run_chain(self, start, convs):
        t = start
        for i, conv in enumerate(convs):
            if i:
                t += self.gap_us
            end = yield from conv(t)
            if end is not None:
                t = end

    def packets(self):
        """Iterator over (ts_us, frame) of the whole scenario, in time order.
        Can be consumed once (flow counters are filled while iterating)."""
        if self._written:
            raise RuntimeError("a Scenario can be emitted only once")
        self._written = True
        chains = [self._run_chain(s, c) for s, c in self._chains]
        if len(chains) == 1:
            return chains[0]
        return heapq.merge(*chains, key=operator.itemgetter(0))

    def write(self, path, snaplen=65535, truth=None, linktype=1):
        """Write the pcap (and the truth JSON if `truth` is a path). Returns
        the number of records."""
        with PcapWriter(path, linktype=linktype, snaplen=snaplen) as w:
            n = w.write_many(self.packets())
        if truth:
            with open(truth, "w") as f:
                json.dump(self.truth(snaplen=snaplen, packets=n), f, indent=1)
                f.write("\n")
        return n

    def truth(self, snaplen=65535, packets=None):
        """The truth document (valid after the packets were emitted)."""
        return {
            "generator": "egen",
            "format": 1,
            "seed": self.seed,
            "start_us": self.start_us,
            "snaplen": snaplen,
            "packets": packets,
            "flows": [f.to_json() for f in self.flows],
        }

    # ------------------------------------------------------------- plumbing

    def _port(self):
        return self.rng.randrange(32768, 61000)

    def _new_flow(self, kind, transport, client, cport, server, sport, vlan):
        c = ipaddress.ip_address(client)
        s = ipaddress.ip_address(server)
        if c.version != s.version:
            raise ValueError("mixed address families: %s / %s" % (client, server))
        proto = {"tcp": PROTO_TCP, "udp": PROTO_UDP, "icmp": PROTO_ICMP,
                 "icmpv6": PROTO_ICMPV6}[transport]
        # Pick an unused ephemeral port when none was given (so two flows never
        # share a 5-tuple unless the caller asks for it).
        while cport is None:
            p = self._port()
            if (proto, str(c), p, str(s), sport, vlan) not in self._used:
                cport = p
        self._used.add((proto, str(c), cport, str(s), sport, vlan))
        if vlan is not None and not 0 <= int(vlan) <= 4095:
            raise ValueError("bad VLAN id %r" % vlan)
        flow = Flow(len(self.flows) + 1, kind, transport, str(c), cport, str(s), sport,
                    None if vlan is None else int(vlan), c.version)
        self.flows.append(flow)
        H = _Half6 if c.version == 6 else _Half4
        hc = H(flow, flow.c2s, c.packed, s.packed, proto, cport, sport, vlan, 64,
               self.rng.randrange(0x10000), True)
        hs = H(flow, flow.s2c, s.packed, c.packed, proto, sport, cport, vlan, 55,
               self.rng.randrange(0x10000), False)
        return flow, hc, hs

    def _timing(self, rtt, bandwidth):
        rtt_us = self.rtt_us if rtt is None else parse_time(rtt)
        bw = self.bandwidth if bandwidth is None else float(bandwidth)
        return max(rtt_us, 4), 8e6 / bw  # (rtt us, us per wire byte)

    def _segments(self, pieces, mss):
        """Yield (payload bytes, padded checksum value) for consecutive
        segments of at most mss bytes made of `pieces` (bytes or filler ints)."""
        fill, V = self._fill, self._fillv
        parts = []
        cval = 0
        clen = 0
        for p in pieces:
            if isinstance(p, int):
                n = p
                while n > 0:
                    k = mss - clen
                    if k > n:
                        k = n
                    n -= k
                    o = self._foff
                    self._foff = (o + k + 1) & 0xFFFF
                    b = fill[o:o + k]
                    if k & 1:
                        v = (V[o + k] - V[o] * 256) % _M
                        if clen == 0 and k == mss:       # fast path: a full segment
                            yield b, v * 256 % _M
                            continue
                    else:
                        v = (V[o + k] - V[o]) % _M
                        if clen == 0 and k == mss:
                            yield b, v
                            continue
                    parts.append(b)
                    cval = (cval * (256 if k & 1 else 1) + v) % _M
                    clen += k
                    if clen == mss:
                        yield b"".join(parts), cval * 256 % _M if clen & 1 else cval
                        parts, cval, clen = [], 0, 0
            else:
                pos = 0
                ln = len(p)
                while pos < ln:
                    k = min(ln - pos, mss - clen)
                    b = p[pos:pos + k]
                    pos += k
                    parts.append(b)
                    cval = (cval * (256 if k & 1 else 1) + _val(b)) % _M
                    clen += k
                    if clen == mss:
                        yield b"".join(parts), cval * 256 % _M if clen & 1 else cval
                        parts, cval, clen = [], 0, 0
        if clen:
            yield b"".join(parts), cval * 256 % _M if clen & 1 else cval

    def _filler_bytes(self, n):
        """n filler bytes as a bytes object (for payloads that are built whole)."""
        out = []
        while n > 0:
            k = min(n, 0x10000)
            o = self._foff
            self._foff = (o + k + 1) & 0xFFFF
            out.append(self._fill[o:o + k])
            n -= k
        return b"".join(out)

    # ------------------------------------------------------------------ TCP

    def _tcp_conv(self, flow, hc, hs, turns, t0, mss, handshake, teardown, closer,
                  ack_every, rtt, bandwidth):
        """Generator for a whole TCP connection; returns its last timestamp.

        turns: list of ('c'|'s', message) or ('call', fn) where fn(t) is a
        generator run in the middle of the connection (e.g. an FTP data
        connection) that returns its end time.
        """
        rtt_us, us_per_byte = self._timing(rtt, bandwidth)
        rng = self.rng
        isn = [rng.getrandbits(32), rng.getrandbits(32)]
        nxt = isn[:]              # next sequence number per side (0 = client, 1 = server)
        halves = (hc, hs)
        ack_every = max(1, int(ack_every))
        mss_opt = [struct.pack("!BBH", 2, 4, mss) + _SYN_OPTS_TAIL]
        half_rtt = max(rtt_us // 2, 2)

        # Messages of zero length are dropped (nothing would be sent).
        turns = [tr for tr in turns if tr[0] == "call" or _msg_len(_norm_msg(tr[1]))]

        def gen():
            t = t0
            tl = t0               # timestamp of the last packet emitted
            if handshake:
                yield t, hc.tcp(t, nxt[0], 0, SYN, b"", 0, mss_opt[0])
                nxt[0] = (nxt[0] + 1) & 0xFFFFFFFF
                t += rtt_us
                yield t, hs.tcp(t, nxt[1], nxt[0], SYN | ACK, b"", 0, mss_opt[0])
                nxt[1] = (nxt[1] + 1) & 0xFFFFFFFF
                t += 50
                yield t, hc.tcp(t, nxt[0], nxt[1], ACK, b"", 0)
                tl = t
            last_side = 0
            for i, (who, msg) in enumerate(turns):
                if who == "call":
                    t = tl = yield from msg(tl + half_rtt)
                    last_side = None
                    continue
                side = 0 if who == "c" else 1
                t = tl + (rtt_us if side != last_side else 100)
                last_side = side
                snd, rcv = halves[side], halves[1 - side]
                seq, ack = nxt[side], nxt[1 - side]
                groups = _norm_msg(msg)
                remaining = _msg_len(groups)
                # The receiver answers this turn itself => its data carries the ACK.
                piggy = i + 1 < len(turns) and turns[i + 1][0] == ("s" if side == 0 else "c")
                unacked = 0
                for g in groups:
                    for payload, pv in self._segments(g, mss):
                        remaining -= len(payload)
                        fl = (PSH | ACK) if remaining == 0 else ACK
                        frame = snd.tcp(t, seq, ack, fl, payload, pv)
                        yield t, frame
                        tl = t
                        seq = (seq + len(payload)) & 0xFFFFFFFF
                        unacked += 1
                        gap = int(len(frame) * us_per_byte) + 2
                        if unacked >= ack_every and (remaining or not piggy):
                            ta = t + gap // 2
                            yield ta, rcv.tcp(ta, ack, seq, ACK, b"", 0)
                            tl = ta
                            unacked = 0
                        t += gap
                if unacked and not piggy:
                    t = tl + 1
                    yield t, rcv.tcp(t, ack, seq, ACK, b"", 0)
                    tl = t
                nxt[side] = seq
            if teardown in ("fin", "rst"):
                c = 0 if closer in ("client", "c", None) else 1
                a, b = halves[c], halves[1 - c]
                t = tl + 1000
                if teardown == "rst":
                    yield t, a.tcp(t, nxt[c], nxt[1 - c], RST | ACK, b"", 0)
                else:
                    yield t, a.tcp(t, nxt[c], nxt[1 - c], FIN | ACK, b"", 0)
                    nxt[c] = (nxt[c] + 1) & 0xFFFFFFFF
                    t += rtt_us
                    yield t, b.tcp(t, nxt[1 - c], nxt[c], FIN | ACK, b"", 0)
                    nxt[1 - c] = (nxt[1 - c] + 1) & 0xFFFFFFFF
                    t += 50
                    yield t, a.tcp(t, nxt[c], nxt[1 - c], ACK, b"", 0)
                tl = t
            elif teardown is not None:
                raise ValueError("teardown must be 'fin', 'rst' or None")
            return tl

        return gen()

    def _tcp(self, kind, client, server, sport, dport, turns, at=None, vlan=None, mss=None,
             handshake=True, teardown="fin", closer="client", ack_every=2, rtt=None,
             bandwidth=None, schedule=True):
        """Create a TCP flow running `turns`; returns (flow, conv) and
        schedules it unless schedule=False."""
        flow, hc, hs = self._new_flow(kind, "tcp", client, sport, server, dport, vlan)
        if mss is None:
            mss = 1440 if flow.ipver == 6 else 1460
        args = (mss, handshake, teardown, closer, ack_every, rtt, bandwidth)

        def conv(t0):
            return self._tcp_conv(flow, hc, hs, turns, t0, *args)

        if schedule:
            self._schedule(conv, at)
        return flow, conv

    def tcp_session(self, client, server, sport=None, dport=80, c2s=(), s2c=(), mss=None,
                    handshake=True, teardown="fin", ack_every=2, server_first=False,
                    at=None, vlan=None, rtt=None, bandwidth=None, closer="client", kind="tcp"):
        """Generic TCP conversation. c2s / s2c are lists of messages (bytes,
        str, an int = that many filler bytes, a list of those, or Segmented);
        they alternate c2s[0], s2c[0], c2s[1], ... (server first if
        server_first). Each message is split at the MSS (default 1460 for
        IPv4, 1440 for IPv6); the receiver ACKs every `ack_every` segments.
        teardown: 'fin' (FIN/ACK, FIN/ACK, ACK), 'rst' or None."""
        a, b = (("s", s2c), ("c", c2s)) if server_first else (("c", c2s), ("s", s2c))
        turns = []
        for i in range(max(len(c2s), len(s2c))):
            for who, lst in (a, b):
                if i < len(lst):
                    turns.append((who, lst[i]))
        flow, _ = self._tcp(kind, client, server, sport, dport, turns, at, vlan, mss,
                            handshake, teardown, closer, ack_every, rtt, bandwidth)
        return flow

    # ------------------------------------------------------------------ TLS

    def tls_session(self, client, server, sni, alpn=("h2", "http/1.1"), upload_bytes=0,
                    download_bytes=0, split_client_hello=False, sport=None, dport=443,
                    server_flight=2800, at=None, vlan=None, mss=None, teardown="fin",
                    rtt=None, bandwidth=None):
        """TLS 1.3-style session: ClientHello (optionally split over
        `split_client_hello` TCP segments), ServerHello + ChangeCipherSpec +
        an encrypted server flight of `server_flight` bytes, client CCS +
        Finished, then application_data records (0x17) whose bodies total
        upload_bytes (client->server) and download_bytes (server->client).
        upload_bytes / download_bytes may be lists for several request /
        response exchanges."""
        rng = self.rng
        alpn = list(alpn) if alpn else []
        ch = tls_client_hello(sni, alpn, rng)
        if split_client_hello:
            n = 2 if split_client_hello is True else int(split_client_hello)
            cuts = [len(ch) * k // n for k in range(n + 1)]
            ch_msg = Segmented([ch[cuts[k]:cuts[k + 1]] for k in range(n)])
        else:
            ch_msg = ch
        ups = list(upload_bytes) if isinstance(upload_bytes, (list, tuple)) else [upload_bytes]
        downs = list(download_bytes) if isinstance(download_bytes, (list, tuple)) else [download_bytes]
        ups = [parse_size(x) for x in ups]
        downs = [parse_size(x) for x in downs]
        turns = [("c", ch_msg),
                 ("s", [tls_server_hello(rng)] + _tls_app_pieces(server_flight))]
        fin = [b"\x14\x03\x03\x00\x01\x01"] + _tls_app_pieces(53)
        for i in range(max(len(ups), len(downs))):
            up = ups[i] if i < len(ups) else 0
            down = downs[i] if i < len(downs) else 0
            pieces = (fin if i == 0 else []) + _tls_app_pieces(up)
            if pieces:
                turns.append(("c", pieces))
            if down:
                turns.append(("s", _tls_app_pieces(down)))
        flow, _ = self._tcp("tls", client, server, sport, dport, turns, at, vlan, mss,
                            True, teardown, "client", 2, rtt, bandwidth)
        flow.l7 = {"tls_sni": sni, "tls_alpn": alpn}
        return flow

    # ----------------------------------------------------------------- HTTP

    def http_request(self, client, server, method="GET", host="example.com", path="/",
                     body_bytes=0, response_bytes=1024, status=200, sport=None, dport=80,
                     user_agent="egen/1.0", at=None, vlan=None, mss=None, teardown="fin",
                     rtt=None, bandwidth=None):
        """One HTTP/1.1 request (real request line, Host header, optional
        filler body with Content-Length) and its response."""
        body_bytes = parse_size(body_bytes)
        response_bytes = parse_size(response_bytes)
        req = "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n" % (
            method, path, host, user_agent)
        if body_bytes or method in ("POST", "PUT"):
            req += "Content-Type: application/octet-stream\r\nContent-Length: %d\r\n" % body_bytes
        req += "Connection: close\r\n\r\n"
        reasons = {200: "OK", 201: "Created", 204: "No Content", 301: "Moved Permanently",
                   302: "Found", 404: "Not Found", 500: "Internal Server Error"}
        resp = ("HTTP/1.1 %d %s\r\nServer: nginx\r\nContent-Type: application/octet-stream\r\n"
                "Content-Length: %d\r\nConnection: close\r\n\r\n"
                % (status, reasons.get(status, "Status"), response_bytes))
        turns = [("c", [req.encode("ascii")] + ([body_bytes] if body_bytes else [])),
                 ("s", [resp.encode("ascii")] + ([response_bytes] if response_bytes else []))]
        flow, _ = self._tcp("http", client, server, sport, dport, turns, at, vlan, mss,
                            True, teardown, "client", 2, rtt, bandwidth)
        flow.l7 = {"http_host": host, "http_method": method, "http_path": path}
        return flow

    # ------------------------------------------------------------------ DNS

    def dns_query(self, client, resolver, qname, qtype="A", answers=(), ttl=300, cname=None,
                  txt=None, rcode=0, tcp=False, sport=None, txid=None, at=None, vlan=None,
                  rtt=None, fragment_mtu=None):
        """A DNS query and its response (RFC 1035 wire format, name
        compression in the answers), over UDP 53 or, with tcp=True, over a TCP
        connection with the 2-byte length prefix (RFC 1035 4.2.2).
        fragment_mtu: IPv4-fragment UDP messages larger than this MTU."""
        txid = self.rng.randrange(0x10000) if txid is None else txid
        q = dns_message(txid, qname, qtype)
        r = dns_message(txid, qname, qtype, True, answers, ttl, cname, txt, rcode)
        if fragment_mtu and ipaddress.ip_address(client).version == 6:
            raise ValueError("fragmentation is only implemented for IPv4")
        l7 = {"dns_qname": qname.rstrip("."), "dns_qtype": qtype}
        if tcp:
            flow, _ = self._tcp("dns", client, resolver, sport, 53,
                                [("c", _u16len(q)), ("s", _u16len(r))], at, vlan,
                                None, True, "fin", "client", 2, rtt, None)
        else:
            flow = self._udp_exchange("dns", client, resolver, sport, 53,
                                      [("c", q), ("s", r)], at, vlan, rtt, None, fragment_mtu)
        flow.l7 = l7
        return flow

    # ------------------------------------------------------------------ UDP

    def _udp_exchange(self, kind, client, server, sport, dport, items, at, vlan, rtt,
                      interval, mtu):
        """items: list of ('c'|'s', bytes or int filler size)."""
        flow, hc, hs = self._new_flow(kind, "udp", client, sport, server, dport, vlan)
        rtt_us, us_per_byte = self._timing(rtt, None)
        ival = None if interval is None else parse_time(interval)

        def conv(t0):
            def gen():
                t = t0
                last = 0
                for i, (who, msg) in enumerate(items):
                    side = 0 if who == "c" else 1
                    if i:
                        t += ival if ival is not None else (rtt_us if side != last else 200)
                    last = side
                    h = hs if side else hc
                    if isinstance(msg, int):
                        payload = self._filler_bytes(msg)
                    else:
                        payload = msg
                    frames = h.udp(t, payload, _padval(payload), mtu)
                    yield from frames
                    t = frames[-1][0]
                return t
            return gen()

        self._schedule(conv, at)
        return flow

    def udp_flow(self, src, dst, sport=None, dport=443, sizes=(), reply_sizes=(),
                 fragment=False, mtu=1500, interval=None, at=None, vlan=None, rtt=None,
                 kind="udp"):
        """UDP datagrams (QUIC-like when dport=443): sizes[i] payload bytes
        src->dst, each followed by reply_sizes[i] dst->src if present.
        Entries may be ints (filler) or bytes. fragment=True splits IPv4
        datagrams larger than `mtu` into RFC 791 fragments. interval spaces
        all datagrams evenly (default: rtt between directions, 200us within)."""
        if fragment and ipaddress.ip_address(src).version == 6:
            raise ValueError("fragmentation is only implemented for IPv4")
        items = []
        for i in range(max(len(sizes), len(reply_sizes))):
            if i < len(sizes):
                items.append(("c", sizes[i] if isinstance(sizes[i], bytes) else parse_size(sizes[i])))
            if i < len(reply_sizes):
                items.append(("s", reply_sizes[i] if isinstance(reply_sizes[i], bytes)
                              else parse_size(reply_sizes[i])))
        return self._udp_exchange(kind, src, dst, sport, dport, items, at, vlan, rtt, interval,
                                  mtu if fragment else None)

    # ----------------------------------------------------------------- ICMP

    def icmp_echo(self, src, dst, count=4, payload_size=56, ident=None, v6=None,
                  interval="1s", at=None, vlan=None, rtt=None, random_payload=False):
        """`count` echo request / reply pairs (ICMP 8/0, or ICMPv6 128/129 for
        IPv6 addresses), Linux-ping-like payload of payload_size bytes; with
        random_payload, fresh random bytes in every request (an ICMP tunnel), echoed
        back in the reply."""
        is6 = ipaddress.ip_address(src).version == 6
        if v6 is not None and bool(v6) != is6:
            raise ValueError("v6=%r does not match the addresses" % v6)
        ident = self.rng.randrange(1, 0x10000) if ident is None else ident
        flow, hc, hs = self._new_flow("icmp", "icmpv6" if is6 else "icmp", src, 0, dst, 0, vlan)
        flow.l7 = {"icmp_id": ident}
        rtt_us, _ = self._timing(rtt, None)
        ival = parse_time(interval)
        req_t, rep_t = (128, 129) if is6 else (8, 0)
        pattern = bytes((0x10 + i) & 0xFF for i in range(max(payload_size, 0)))
        randoms = ([bytes(self.rng.getrandbits(8) for _ in range(payload_size))
                    for _ in range(count)] if random_payload else None)

        def conv(t0):
            # Requests every `interval`, replies `rtt` later; build them in
            # timestamp order (a reply may come after the next request).
            events = []
            for seq in range(1, count + 1):
                ts = t0 + (seq - 1) * ival
                events.append((ts, 0, seq, ts))
                events.append((ts + rtt_us, 1, seq, ts))
            events.sort()

            def gen():
                t = t0
                for t, is_reply, seq, sent in events:
                    # Linux ping payload: struct timeval of the request, then 0x10, 0x11, ...
                    secs, usec = divmod(sent, 1000000)
                    payload = ((struct.pack("<QQ", secs, usec) + pattern)[:payload_size]
                               if payload_size >= 16 else pattern)
                    if randoms is not None:
                        payload = randoms[seq - 1]
                    rest = struct.pack("!HH", ident, seq)
                    if is_reply:
                        yield t, hs.icmp(t, rep_t, 0, rest, payload)
                    else:
                        yield t, hc.icmp(t, req_t, 0, rest, payload)
                return t
            return gen()

        self._schedule(conv, at)
        return flow

    # ------------------------------------------------------------------ FTP

    def ftp_session(self, client, server, mode="passive", upload_bytes=0, download_bytes=0,
                    filename="upload.bin", user="anonymous", password="egen@example.com",
                    sport=None, data_port=None, at=None, vlan=None, rtt=None, bandwidth=None):
        """FTP control connection on port 21 plus one data connection.

        Upload (STOR) when upload_bytes > 0, else download (RETR) of
        download_bytes. mode='active' sends PORT (EPRT for IPv6) and the server
        connects from port 20 to the announced client port; mode='passive'
        sends PASV (EPSV for IPv6) and the client connects to the port from the
        227 (229) reply. Returns (control_flow, data_flow)."""
        upload_bytes = parse_size(upload_bytes)
        download_bytes = parse_size(download_bytes)
        if mode not in ("active", "passive"):
            raise ValueError("mode must be 'active' or 'passive'")
        is6 = ipaddress.ip_address(client).version == 6
        cmd = "STOR" if upload_bytes or not download_bytes else "RETR"
        nbytes = upload_bytes if cmd == "STOR" else download_bytes
        rng = self.rng
        if data_port is None:
            data_port = rng.randrange(40000, 50000) if mode == "passive" else self._port()
        turns = [("s", b"220 (vsFTPd 3.0.3)\r\n"),
                 ("c", ("USER %s\r\n" % user).encode()),
                 ("s", b"331 Please specify the password.\r\n"),
                 ("c", ("PASS %s\r\n" % password).encode()),
                 ("s", b"230 Login successful.\r\n"),
                 ("c", b"TYPE I\r\n"),
                 ("s", b"200 Switching to Binary mode.\r\n")]
        if mode == "active" and not is6:
            h = client.split(".")
            turns += [("c", ("PORT %s,%d,%d\r\n" % (",".join(h), data_port >> 8,
                                                     data_port & 0xFF)).encode()),
                      ("s", b"200 PORT command successful. Consider using PASV.\r\n")]
        elif mode == "active":
            turns += [("c", ("EPRT |2|%s|%d|\r\n" % (client, data_port)).encode()),
                      ("s", b"200 EPRT command successful. Consider using EPSV.\r\n")]
        elif not is6:
            h = server.split(".")
            turns += [("c", b"PASV\r\n"),
                      ("s", ("227 Entering Passive Mode (%s,%d,%d).\r\n"
                             % (",".join(h), data_port >> 8, data_port & 0xFF)).encode())]
        else:
            turns += [("c", b"EPSV\r\n"),
                      ("s", ("229 Entering Extended Passive Mode (|||%d|)\r\n" % data_port).encode())]
        if cmd == "STOR":
            r150 = b"150 Ok to send data.\r\n"
        else:
            r150 = ("150 Opening BINARY mode data connection for %s (%d bytes).\r\n"
                    % (filename, nbytes)).encode()
        turns += [("c", ("%s %s\r\n" % (cmd, filename)).encode()), ("s", r150)]
        ctrl, _ = self._tcp("ftp", client, server, sport, 21, turns, at, vlan, None, True,
                            "fin", "client", 2, rtt, bandwidth)
        # Data connection. The TCP "client" is whoever sends the SYN.
        if mode == "active":
            # server:20 -> client:data_port; the FTP client (= TCP responder) sends on STOR.
            dturns = [("s", nbytes)] if cmd == "STOR" else [("c", nbytes)]
            closer = "server" if cmd == "STOR" else "client"
            data, dconv = self._tcp("ftp-data", server, client, 20, data_port, dturns, None, vlan,
                                    None, True, "fin", closer, 2, rtt, bandwidth, schedule=False)
        else:
            dturns = [("c", nbytes)] if cmd == "STOR" else [("s", nbytes)]
            closer = "client" if cmd == "STOR" else "server"
            data, dconv = self._tcp("ftp-data", client, server, None, data_port, dturns, None, vlan,
                                    None, True, "fin", closer, 2, rtt, bandwidth, schedule=False)
        turns += [("call", dconv),
                  ("s", b"226 Transfer complete.\r\n"),
                  ("c", b"QUIT\r\n"),
                  ("s", b"221 Goodbye.\r\n")]
        ctrl.l7 = {"ftp_user": user, "ftp_command": cmd, "ftp_filename": filename,
                   "ftp_mode": mode, "ftp_data_port": data_port, "ftp_data_flows": [data.id]}
        data.l7 = {"ftp_control_flow": ctrl.id, "ftp_mode": mode}
        return ctrl, data

    # ------------------------------------------------------------------ SSH

    def ssh_session(self, client, server, sport=None, dport=22, upload_bytes=4000,
                    download_bytes=4000,
                    client_banner="SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3",
                    server_banner="SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3",
                    at=None, vlan=None, mss=None, rtt=None, bandwidth=None):
        """SSH: server banner, client banner, then encrypted-looking random
        bytes (upload_bytes c->s, download_bytes s->c)."""
        turns = [("s", (server_banner + "\r\n").encode()),
                 ("c", (client_banner + "\r\n").encode())]
        up, down = parse_size(upload_bytes), parse_size(download_bytes)
        if up:
            turns.append(("c", up))
        if down:
            turns.append(("s", down))
        flow, _ = self._tcp("ssh", client, server, sport, dport, turns, at, vlan, mss, True,
                            "fin", "client", 2, rtt, bandwidth)
        flow.l7 = {"ssh_client_banner": client_banner, "ssh_server_banner": server_banner}
        return flow

    # ----------------------------------------------------------------- SMTP

    def smtp_session(self, client, server, sport=None, dport=25, helo="client.example.com",
                     mail_from="alice@example.com", rcpt_to=("bob@example.org",),
                     body_bytes=2000, subject="report", at=None, vlan=None, mss=None,
                     rtt=None, bandwidth=None):
        """SMTP: 220 banner, EHLO, MAIL FROM, RCPT TO (each), DATA with a
        header block and a base64-text body of about body_bytes, QUIT."""
        if isinstance(rcpt_to, str):
            rcpt_to = [rcpt_to]
        raw = self._filler_bytes(parse_size(body_bytes) * 3 // 4)
        b64 = base64.b64encode(raw)
        body = b"\r\n".join(b64[i:i + 76] for i in range(0, len(b64), 76))
        msg = ("From: <%s>\r\nTo: %s\r\nSubject: %s\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\n"
               "MIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\n"
               "Content-Transfer-Encoding: base64\r\n\r\n"
               % (mail_from, ", ".join("<%s>" % r for r in rcpt_to), subject)).encode() \
            + body + b"\r\n.\r\n"
        turns = [("s", b"220 mx.example.org ESMTP Postfix (Debian/GNU)\r\n"),
                 ("c", ("EHLO %s\r\n" % helo).encode()),
                 ("s", b"250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
                       b"250-8BITMIME\r\n250 SMTPUTF8\r\n"),
                 ("c", ("MAIL FROM:<%s>\r\n" % mail_from).encode()),
                 ("s", b"250 2.1.0 Ok\r\n")]
        for r in rcpt_to:
            turns += [("c", ("RCPT TO:<%s>\r\n" % r).encode()), ("s", b"250 2.1.5 Ok\r\n")]
        turns += [("c", b"DATA\r\n"),
                  ("s", b"354 End data with <CR><LF>.<CR><LF>\r\n"),
                  ("c", msg),
                  ("s", b"250 2.0.0 Ok: queued as 4A1B2C3D4E\r\n"),
                  ("c", b"QUIT\r\n"),
                  ("s", b"221 2.0.0 Bye\r\n")]
        flow, _ = self._tcp("smtp", client, server, sport, dport, turns, at, vlan, mss, True,
                            "fin", "client", 2, rtt, bandwidth)
        flow.l7 = {"smtp_helo": helo, "smtp_mail_from": mail_from, "smtp_rcpt_to": list(rcpt_to)}
        return flow


Net = Scenario  # alias


# --------------------------------------------------------------------------
# JSON scenario steps
# --------------------------------------------------------------------------

# kind -> (method name, {json key: keyword argument})
_STEP_KINDS = {
    "tcp": ("tcp_session", {}),
    "tls": ("tls_session", {"upload": "upload_bytes", "download": "download_bytes"}),
    "http": ("http_request", {"body": "body_bytes", "response": "response_bytes"}),
    "dns": ("dns_query", {"server": "resolver"}),
    "icmp": ("icmp_echo", {"client": "src", "server": "dst"}),
    "ftp": ("ftp_session", {"upload": "upload_bytes", "download": "download_bytes"}),
    "udp": ("udp_flow", {"client": "src", "server": "dst"}),
    "ssh": ("ssh_session", {"upload": "upload_bytes", "download": "download_bytes"}),
    "smtp": ("smtp_session", {"body": "body_bytes"}),
}
_SIZE_KEYS = {"upload_bytes", "download_bytes", "body_bytes", "response_bytes", "server_flight"}


def _step_kwargs(step):
    kind = step.get("kind")
    if kind not in _STEP_KINDS:
        raise ValueError("unknown step kind %r (one of %s)" % (kind, ", ".join(_STEP_KINDS)))
    meth, aliases = _STEP_KINDS[kind]
    kw = {}
    for k, v in step.items():
        if k in ("kind", "repeat", "every", "jitter", "comment"):
            continue
        k = aliases.get(k, k)
        if k in _SIZE_KEYS:
            v = [parse_size(x) for x in v] if isinstance(v, list) else parse_size(v)
        elif k in ("c2s", "s2c"):
            v = [x if isinstance(x, (str, list)) else parse_size(x) for x in v]
        elif k in ("sizes", "reply_sizes"):
            v = [parse_size(x) for x in v]
        kw[k] = v
    return meth, kw


def build_from_steps(steps, seed=1, start=None, **scenario_kw):
    """Build a Scenario from a list of step dicts (see README.md)."""
    sc = Scenario(seed=seed, start=start, **scenario_kw)
    for n, step in enumerate(steps):
        meth, kw = _step_kwargs(step)
        method = getattr(sc, meth)

        def fn(_method=method, _n=n, _kind=step["kind"], **kwargs):
            try:
                return _method(**kwargs)
            except TypeError as e:  # unknown / missing keys: say which step
                raise ValueError("step %d (%s): %s" % (_n, _kind, e)) from None
        repeat = int(step.get("repeat", 1))
        if repeat <= 1 and "every" not in step:
            fn(**kw)
            continue
        # repeat: copies at base + k*every (+/- jitter, seeded), each its own chain.
        every = parse_time(step.get("every", "1s"))
        jitter = parse_time(step.get("jitter", 0))
        at = kw.pop("at", None)
        if at is None:
            base = sc._anchor
        elif isinstance(at, str) and at.strip().startswith("+"):
            base = sc._anchor + parse_time(at)
        else:
            base = parse_time(at)
        for k in range(repeat):
            off = base + k * every
            if jitter:
                off += sc.rng.randint(-jitter, jitter)
            fn(at="%dus" % max(off, 0), **kw)
        sc._anchor = base
    return sc


def _load_scenario_file(path):
    with open(path) as f:
        doc = json.load(f)
    if isinstance(doc, list):
        return {"steps": doc}
    if "steps" not in doc:
        raise ValueError("scenario file must be a list of steps or an object with 'steps'")
    return doc


# --------------------------------------------------------------------------
# built-in scenarios
# --------------------------------------------------------------------------

def _basic_steps():
    """One of each conversation kind, IPv4 and IPv6, one on VLAN 42."""
    c4, c6 = "10.0.0.5", "2001:db8:1::5"
    return [
        {"kind": "dns", "client": c4, "server": "10.0.0.53", "qname": "www.example.com",
         "answers": ["93.184.216.34"], "cname": "edge.example.net", "at": "0s"},
        {"kind": "dns", "client": c6, "server": "2001:db8:1::53", "qname": "v6.example.com",
         "qtype": "AAAA", "answers": ["2606:2800:220:1:248:1893:25c8:1946"]},
        {"kind": "dns", "client": c4, "server": "10.0.0.53", "qname": "t1.exfil.example.org",
         "qtype": "TXT", "txt": "v=spf1 -all", "tcp": True},
        {"kind": "tls", "client": c4, "server": "93.184.216.34", "sni": "www.dropbox.com",
         "upload": 150000, "download": 6000, "at": "+200ms"},
        {"kind": "tls", "client": c6, "server": "2606:4700::6810:84e5", "sni": "v6.cloudflare.com",
         "alpn": ["h2"], "upload": 3000, "download": 40000, "at": "+50ms"},
        {"kind": "http", "client": c4, "server": "198.51.100.7", "method": "POST",
         "host": "upload.example.net", "path": "/api/v1/put", "body": 20000, "response": 200,
         "at": "+100ms"},
        {"kind": "http", "client": c6, "server": "2001:db8:ff::80", "method": "GET",
         "host": "v6.example.net", "path": "/index.html", "response": 5000, "at": "+30ms"},
        {"kind": "icmp", "client": c4, "server": "8.8.8.8", "count": 3, "payload_size": 56,
         "ident": 4660, "interval": "200ms", "at": "+10ms"},
        {"kind": "icmp", "client": c6, "server": "2001:4860:4860::8888", "count": 2,
         "payload_size": 56, "ident": 4661, "interval": "200ms", "at": "+15ms"},
        {"kind": "ftp", "client": c4, "server": "203.0.113.21", "mode": "passive",
         "upload": 30000, "filename": "backup.tar.gz", "at": "+20ms"},
        {"kind": "ftp", "client": c6, "server": "2001:db8:21::21", "mode": "active",
         "upload": 8000, "filename": "v6.bin", "at": "+25ms"},
        {"kind": "udp", "client": c4, "server": "142.250.74.46", "dport": 443,
         "sizes": [1200, 120, 1200], "reply_sizes": [1200, 1100], "at": "+40ms"},
        {"kind": "udp", "client": c6, "server": "2a00:1450:4001::200e", "dport": 443,
         "sizes": [1200, 80], "reply_sizes": [1200], "at": "+45ms"},
        {"kind": "ssh", "client": c4, "server": "192.0.2.22", "upload": 5000, "download": 9000,
         "at": "+60ms"},
        {"kind": "smtp", "client": c4, "server": "192.0.2.25", "mail_from": "alice@corp.example",
         "rcpt_to": ["eve@mail.example.org"], "body": 6000, "at": "+70ms"},
        {"kind": "tls", "client": "10.20.0.9", "server": "104.16.0.1", "sni": "vlan.example.com",
         "upload": 2000, "download": 2000, "vlan": 42, "at": "+80ms"},
        {"kind": "tcp", "client": c4, "server": "198.51.100.99", "dport": 8080,
         "c2s": ["hello\n", 3000], "s2c": [100, "bye\n"], "teardown": "rst", "at": "+90ms"},
    ]


def _bench_steps(packets):
    """Roughly `packets` packets: staggered rounds of DNS + TLS bulk download
    + small HTTP, many flows open at once (for throughput benchmarks)."""
    steps = []
    total = 0
    i = 0
    while total < packets:
        host = "10.1.%d.%d" % ((i >> 8) & 0xFF, (i & 0xFF) or 1)
        steps.append({"kind": "dns", "client": host, "server": "10.0.0.53",
                      "qname": "cdn%d.example.com" % i, "answers": ["198.18.%d.%d" % (i % 200, 7)],
                      "at": "%dms" % (i * 5)})
        steps.append({"kind": "tls", "client": host, "server": "198.18.%d.7" % (i % 200),
                      "sni": "cdn%d.example.com" % i, "upload": 2000, "download": 1400000})
        steps.append({"kind": "http", "client": host, "server": "198.51.100.%d" % (i % 250 + 1),
                      "host": "h%d.example.net" % i, "response": 3000})
        # estimated: 2 (dns) + ~1450 (tls) + ~12 (http)
        total += 2 + 1464
        i += 1
    return steps


BUILTIN_SCENARIOS = {
    "basic": {"doc": "one of each conversation kind, IPv4+IPv6, one on VLAN 42",
              "steps": _basic_steps},
    "snaplen": {"doc": "same as basic, written with snaplen 64 unless --snaplen is given",
                "steps": _basic_steps, "snaplen": 64},
    "ftp-active": {"doc": "FTP active mode upload (PORT, server connects from port 20)",
                   "steps": lambda: [{"kind": "ftp", "client": "10.0.0.5", "server": "203.0.113.21",
                                      "mode": "active", "upload": 50000,
                                      "filename": "secrets.zip"}]},
    "ftp-passive": {"doc": "FTP passive mode upload (PASV, client connects to the 227 port)",
                    "steps": lambda: [{"kind": "ftp", "client": "10.0.0.5",
                                       "server": "203.0.113.21", "mode": "passive",
                                       "upload": 50000, "filename": "secrets.zip"}]},
    "tls-split-hello": {"doc": "TLS ClientHello split over 3 TCP segments",
                        "steps": lambda: [{"kind": "tls", "client": "10.0.0.5",
                                           "server": "93.184.216.34",
                                           "sni": "split.hello.example.com",
                                           "split_client_hello": 3, "upload": 1000,
                                           "download": 3000}]},
    "fragments": {"doc": "fragmented IPv4 UDP datagrams (MTU 1500, and MTU 576 on VLAN 7) "
                         "and a fragmented DNS TXT answer",
                  "steps": lambda: [{"kind": "udp", "client": "10.0.0.5", "server": "198.51.100.50",
                                     "sport": 40000, "dport": 5000,
                                     "sizes": [4000, 1400, 8000], "reply_sizes": [3000],
                                     "fragment": True, "mtu": 1500},
                                    {"kind": "udp", "client": "10.0.0.6",
                                     "server": "198.51.100.51", "sport": 40001, "dport": 5001,
                                     "sizes": [2000], "fragment": True, "mtu": 576,
                                     "vlan": 7},
                                    {"kind": "dns", "client": "10.0.0.5", "server": "10.0.0.53",
                                     "qname": "big.txt.example.org", "qtype": "TXT",
                                     "txt": ["k=" + "A" * 250] * 12, "fragment_mtu": 1500}]},
}


def builtin_steps(name, packets=100000):
    if name == "bench":
        return _bench_steps(packets)
    return BUILTIN_SCENARIOS[name]["steps"]()


# --------------------------------------------------------------------------
# benchmark captures: a dedicated fast path (make bench)
# --------------------------------------------------------------------------
#
# `make bench` needs millions of packets in a couple of minutes, so these three
# captures bypass the Scenario plumbing that the step-based scenarios use (address
# parsing, a 5-tuple registry, a generator chain per conversation merged by
# heapq.merge, a Flow object kept per flow for the truth file). They build frames with
# the same per-direction templates (_Half4/_Half6: precomputed L2 prefix and
# checksum constants, one struct.pack per frame, checksums summed as integers) and
# the same TCP conversation engine (Scenario._tcp_conv), keep 5-tuples unique by
# construction (so no flow key is ever reused, within or after any timeout), and
# order the frames with one bounded heap: conversations are generated in order of
# their start time and the frames older than the next start are written out.
# Their truth file is a summary: counts of flows and packets, not one entry a flow.

BENCH_SCENARIOS = {
    "bench-mix": "realistic mix, ~2.5M packets / ~280k flows over 3 min: TLS (varied SNI), "
                 "HTTP, DNS, QUIC-like UDP/443, unanswered SYNs, elephants; ~15% IPv6",
    "bench-flows1m": "1M TCP connections open at once (handshake + request/response, no FIN) "
                     "within 60 s: 4M packets",
    "bench-synflood": "1M spoofed SYNs to one server in 4 s, with a 30 MB TLS upload to "
                      "www.dropbox.com from 10.0.0.5 in the middle",
}

# First octets of public IPv4 space used for synthetic external addresses.
_PUBLIC_OCTETS = (23, 31, 37, 45, 52, 62, 77, 81, 91, 103, 104, 109, 142, 151, 157, 176,
                  178, 185, 188, 193, 195, 199, 212, 217)


class _BenchFlowStub:
    """What the frame builders touch on a flow besides the counters."""
    __slots__ = ("first", "last")

    def __init__(self):
        self.first = None
        self.last = None


class _OrderedWriter(PcapWriter):
    """PcapWriter that takes frames out of order, within a horizon: push() frames
    in any order, release(t) writes (in time order) every frame older than t.
    The caller guarantees that nothing older than t is pushed afterwards."""

    def __init__(self, path, snaplen=65535):
        super().__init__(path, linktype=1, snaplen=snaplen, chunk=4 << 20)
        self._heap = []
        self._n = 0

    def push_iter(self, it):
        heap = self._heap
        push = heapq.heappush
        n = self._n
        for ts, frame in it:
            push(heap, (ts, n, frame))
            n += 1
        self._n = n

    def release(self, t):
        heap = self._heap
        if not heap or heap[0][0] >= t:
            return
        pop = heapq.heappop
        out = []
        while heap and heap[0][0] < t:
            ts, _, frame = pop(heap)
            out.append((ts, frame))
        self.write_many(out)

    def close(self):
        self.release(float("inf"))
        super().close()


class _BenchTruth:
    """Summary truth: flows and packets by kind, IP version counts."""

    def __init__(self, name, seed, start_us, snaplen):
        self.name, self.seed, self.start_us, self.snaplen = name, seed, start_us, snaplen
        self.kinds = {}       # kind -> [flows, c2s counters, s2c counters]
        self.v = {4: 0, 6: 0}

    def kind(self, kind):
        k = self.kinds.get(kind)
        if k is None:
            k = self.kinds[kind] = [0, [0, 0, 0], [0, 0, 0]]
        return k

    def doc(self, packets, wire_bytes, first_us, last_us, extra=None):
        flows = sum(k[0] for k in self.kinds.values())
        d = {
            "generator": "egen", "format": 1, "summary": True, "scenario": self.name,
            "seed": self.seed, "start_us": self.start_us, "snaplen": self.snaplen,
            "packets": packets, "flow_count": flows,
            "flows_by_ip_version": {"4": self.v[4], "6": self.v[6]},
            "wire_bytes": wire_bytes,
            "mean_frame_bytes": round(wire_bytes / packets, 1) if packets else 0,
            "first_us": first_us, "last_us": last_us,
            "flows_by_kind": {},
            "timeouts_note": "every 5-tuple is used by one flow only; no flow is idle for "
                             "60 s or longer between two of its packets",
        }
        for name in sorted(self.kinds):
            n, c, s = self.kinds[name]
            d["flows_by_kind"][name] = {"flows": n, "packets": c[0] + s[0],
                                        "ip_bytes": c[1] + s[1], "payload_bytes": c[2] + s[2]}
        if extra:
            d.update(extra)
        return d


def _bench_halves(truth, kind, proto, cpk, spk, cport, sport, v6, ipid_c, ipid_s):
    """Both direction builders of a new flow (counted in the truth under kind)."""
    k = truth.kind(kind)
    k[0] += 1
    truth.v[6 if v6 else 4] += 1
    stub = _BenchFlowStub()
    H = _Half6 if v6 else _Half4
    hc = H(stub, k[1], cpk, spk, proto, cport, sport, None, 64, ipid_c, True)
    hs = H(stub, k[2], spk, cpk, proto, sport, cport, None, 55, ipid_s, False)
    return hc, hs


def _ext4(rng):
    """A random public-looking IPv4 address (packed)."""
    return bytes((rng.choice(_PUBLIC_OCTETS), rng.randrange(256), rng.randrange(256),
                  rng.randrange(1, 255)))


def _host4(net, i):
    """The i-th internal host of 10.<net>.0.0/10-ish: last octet 1..254, distinct for
    distinct i (packed)."""
    a, b = divmod(i, 254)
    return bytes((10, net + (a >> 8), a & 0xFF, b + 1))


def _syn_opts(mss):
    return struct.pack("!BBH", 2, 4, mss) + _SYN_OPTS_TAIL


def _write_truth(truth_path, doc):
    if truth_path:
        with open(truth_path, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")


class _WireCount:
    """Wraps a writer's write_many to total the frame bytes and note the first and
    last timestamps."""

    def __init__(self, w):
        self.bytes = 0
        self.first = None
        self.last = None
        inner = w.write_many
        w.write_many = lambda packets: inner(self._tally(packets))

    def _tally(self, packets):
        n = 0
        ts = None
        for ts, frame in packets:
            if self.first is None:
                self.first = ts
            n += len(frame)
            yield ts, frame
        if ts is not None:
            self.last = ts
        self.bytes += n


def bench_mix(path, truth_path=None, seed=1, scale=1.0, snaplen=65535):
    """bench-mix: ~280k flows (x scale), ~2.5M packets, mean frame ~500 bytes, flow
    starts spread uniformly over 180 s of packet time (plus a few elephants).
    Returns the number of records."""
    sc = Scenario(seed=seed)             # filler buffer, TCP engine, rng
    rng = sc.rng
    t0 = sc.start_us
    span = 180 * 1000000
    nflows = max(int(280000 * scale), 20)
    truth = _BenchTruth("bench-mix", seed, t0, snaplen)

    # Internal clients (v4 and v6) with a per-client port counter: a client never
    # reuses a port, so every 5-tuple in the capture is distinct.
    nclients = max(int(4000 * scale), 8)
    c4 = [_host4(1, i) for i in range(nclients)]
    c6 = [ipaddress.ip_address("fd00:1:%x::%x" % (i >> 12, (i & 0xFFF) + 1)).packed
          for i in range(nclients)]
    next_port = [rng.randrange(32768, 45000) for _ in range(nclients)]

    def port(ci):
        p = next_port[ci]
        next_port[ci] = p + 1 if p < 60999 else 32768
        return p

    resolver4 = bytes((10, 0, 0, 53))
    resolver6 = ipaddress.ip_address("fd00::53").packed

    # Names and the addresses they resolve to (DNS answers point where TLS/HTTP/QUIC go).
    bases = ("google.com", "googleapis.com", "gstatic.com", "microsoft.com", "office.com",
             "live.com", "apple.com", "icloud.com", "amazon.com", "amazonaws.com",
             "cloudfront.net", "akamaihd.net", "fastly.net", "facebook.com", "fbcdn.net",
             "slack.com", "zoom.us", "github.com", "githubusercontent.com", "wikipedia.org",
             "cdn.example.net", "example.org", "salesforce.com", "atlassian.net",
             "windowsupdate.com", "digicert.com", "linkedin.com", "twimg.com",
             "doubleclick.net", "cloudflare.com")
    prefixes = ("www", "api", "cdn", "static", "img", "login", "mail", "edge", "s", "assets")
    nnames = max(int(6000 * scale), 50)
    names = []
    for i in range(nnames):
        base = bases[i % len(bases)]
        pre = prefixes[(i // len(bases)) % len(prefixes)]
        n = i // (len(bases) * len(prefixes))
        name = "%s%s.%s" % (pre, n if n else "", base)
        a4 = _ext4(rng)
        a6 = ipaddress.ip_address("2001:db8:%x:%x::%x" % (i >> 8, i & 0xFF,
                                                          rng.randrange(1, 0xFFFF))).packed
        names.append((name, a4, a6))
    # Zipf-like popularity: name index = int(n * u^3) favours the first names.
    def pick_name():
        return names[int(nnames * rng.random() ** 3)]

    kinds = (("dns", 0.40), ("tls", 0.26), ("syn", 0.17), ("http", 0.09), ("quic", 0.08))
    cum = []
    acc = 0.0
    for k, w in kinds:
        acc += w
        cum.append((acc, k))

    starts = sorted(rng.randrange(span) for _ in range(nflows))
    # Elephants: three TLS downloads of 30 MB and one 15 MB upload, 200 Mbit/s.
    elephants = {int(nflows * f): (kind, size) for f, kind, size in (
        (0.12, "down", 30 * 10**6), (0.40, "up", 15 * 10**6), (0.63, "down", 30 * 10**6),
        (0.85, "down", 30 * 10**6))}
    w = _OrderedWriter(path, snaplen)
    wc = _WireCount(w)
    mss4, mss6 = _syn_opts(1460), _syn_opts(1440)
    alpn = ["h2", "http/1.1"]
    fin_pieces = [b"\x14\x03\x03\x00\x01\x01"] + _tls_app_pieces(53)
    tcp_conv = sc._tcp_conv
    dns_cache = {}

    def dns_msgs(name, qtype, ans):
        key = (name, qtype)
        m = dns_cache.get(key)
        if m is None:
            ans = str(ipaddress.ip_address(ans))
            m = dns_cache[key] = (dns_message(0, name, qtype),
                                  dns_message(0, name, qtype, True, [ans], 300))
        return m

    for i, t in enumerate(starts):
        t += t0
        w.release(t)
        u = rng.random()
        kind = next(k for c, k in cum if u < c or c == acc)
        v6 = rng.random() < 0.15
        ci = rng.randrange(nclients)
        cpk = c6[ci] if v6 else c4[ci]
        rtt = rng.randrange(8000, 120000)
        ele = elephants.get(i)
        if ele is not None:
            name, a4, a6 = names[i % 7]
            hc, hs = _bench_halves(truth, "tls-elephant", PROTO_TCP, cpk, a6 if v6 else a4,
                                   port(ci), 443, v6, rng.randrange(0x10000),
                                   rng.randrange(0x10000))
            up, down = (2000, ele[1]) if ele[0] == "down" else (ele[1], 4000)
            up, down = max(int(up * scale), 2000), max(int(down * scale), 4000)
            turns = [("c", tls_client_hello(name, alpn, rng)),
                     ("s", [tls_server_hello(rng)] + _tls_app_pieces(2800)),
                     ("c", fin_pieces + _tls_app_pieces(up)),
                     ("s", _tls_app_pieces(down))]
            w.push_iter(tcp_conv(_BenchFlowStub(), hc, hs, turns, t, 1440 if v6 else 1460,
                                 True, "fin", "client", 2, rtt / 1e6, 200e6))
            continue
        if kind == "dns":
            name, a4, a6 = pick_name()
            qtype = "AAAA" if (v6 or rng.random() < 0.3) else "A"
            q, r = dns_msgs(name, qtype, a6 if qtype == "AAAA" else a4)
            txid = struct.pack("!H", rng.randrange(0x10000))
            q, r = txid + q[2:], txid + r[2:]
            hc, hs = _bench_halves(truth, "dns", PROTO_UDP, cpk, resolver6 if v6 else resolver4,
                                   port(ci), 53, v6, rng.randrange(0x10000),
                                   rng.randrange(0x10000))
            w.push_iter(hc.udp(t, q, _padval(q)))
            tr = t + rng.randrange(300, 30000)
            w.push_iter(hs.udp(tr, r, _padval(r)))
        elif kind == "syn":
            spk = (ipaddress.ip_address("2001:db8:dead:%x::%x" % (rng.randrange(4096),
                                                                 rng.randrange(1, 65535))).packed
                   if v6 else _ext4(rng))
            dport = rng.choice((443, 443, 80, 22, 3389, 445, 8080, 23))
            hc, hs = _bench_halves(truth, "syn-only", PROTO_TCP, cpk, spk, port(ci), dport, v6,
                                   rng.randrange(0x10000), 0)
            seq = rng.getrandbits(32)
            opts = mss6 if v6 else mss4
            tries = rng.choice((1, 1, 2, 3))
            for k in range(tries):          # the SYN and its retransmissions (1 s, 3 s)
                ts = t + (0, 1000000, 3000000)[k]
                w.push_iter(((ts, hc.tcp(ts, seq, 0, SYN, b"", 0, opts)),))
        elif kind == "quic":
            name, a4, a6 = pick_name()
            hc, hs = _bench_halves(truth, "quic", PROTO_UDP, cpk, a6 if v6 else a4, port(ci),
                                   443, v6, rng.randrange(0x10000), rng.randrange(0x10000))
            nrt = rng.choice((2, 3, 3, 4, 6))
            ts = t
            for k in range(nrt):
                size = 1200 if k == 0 else rng.randrange(40, 400)
                p = sc._filler_bytes(size)
                w.push_iter(hc.udp(ts, p, _padval(p)))
                ts += rtt // 2 if k == 0 else 300
                size = 1200 if k == 0 else rng.randrange(40, 800)
                p = sc._filler_bytes(size)
                w.push_iter(hs.udp(ts, p, _padval(p)))
                ts += rtt // 2
        else:
            name, a4, a6 = pick_name()
            r = rng.random()
            if kind == "tls":
                up = rng.randrange(200, 1500)
                down = (rng.randrange(100, 2500) if r < 0.6 else
                        rng.randrange(2500, 8000) if r < 0.9 else
                        rng.randrange(8000, 30000) if r < 0.985 else
                        rng.randrange(30000, 150000))
                turns = [("c", tls_client_hello(name, alpn, rng)),
                         ("s", [tls_server_hello(rng)] + _tls_app_pieces(rng.choice(
                             (2800, 3600, 4500)))),
                         ("c", fin_pieces + _tls_app_pieces(up)),
                         ("s", _tls_app_pieces(down))]
                dport = 443
            else:
                resp = (rng.randrange(200, 3000) if r < 0.7 else rng.randrange(3000, 20000))
                post = rng.random() < 0.15
                body = rng.randrange(200, 5000) if post else 0
                req = ("%s /%s/%d HTTP/1.1\r\nHost: %s\r\nUser-Agent: egen/1.0\r\n"
                       "Accept: */*\r\n" % ("POST" if post else "GET",
                                            rng.choice(("api", "img", "static", "v1")),
                                            rng.randrange(100000), name))
                if post:
                    req += ("Content-Type: application/octet-stream\r\nContent-Length: %d\r\n"
                            % body)
                req += "Connection: close\r\n\r\n"
                hdr = ("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: "
                       "application/octet-stream\r\nContent-Length: %d\r\nConnection: close"
                       "\r\n\r\n" % resp)
                turns = [("c", [req.encode("ascii")] + ([body] if body else [])),
                         ("s", [hdr.encode("ascii"), resp])]
                dport = 80
            hc, hs = _bench_halves(truth, kind, PROTO_TCP, cpk, a6 if v6 else a4, port(ci),
                                   dport, v6, rng.randrange(0x10000), rng.randrange(0x10000))
            w.push_iter(tcp_conv(_BenchFlowStub(), hc, hs, turns, t, 1440 if v6 else 1460,
                                 True, "fin", "client", rng.choice((1, 2)), rtt / 1e6, 100e6))
    w.close()
    _write_truth(truth_path, truth.doc(w.count, wc.bytes, wc.first, wc.last))
    return w.count


def bench_flows1m(path, truth_path=None, seed=1, scale=1.0, snaplen=65535):
    """bench-flows1m: 1M (x scale) TCP connections, all open at the end of the capture:
    SYN, SYN-ACK, ACK carrying the request, the response; no FIN, no RST. Starts are
    spread evenly over 55 s of packet time (so no flow is idle for 60 s or more, let
    alone the 5 min TCP timeout). 70% HTTP (Host from 2000 names), 30% TLS (SNI)."""
    rng = random.Random(seed)
    t0 = BASE_TS_US
    n = max(int(1000000 * scale), 10)
    span = 55 * 1000000
    truth = _BenchTruth("bench-flows1m", seed, t0, snaplen)
    nhosts = max(int(40000 * scale), 4)
    nservers = max(int(200000 * scale), 4)
    servers = [_ext4(rng) for _ in range(nservers)]
    hosts = [_host4(64, h) for h in range(nhosts)]
    reqs = []
    for k in range(2000):
        p = ("GET /o/%d HTTP/1.1\r\nHost: s%d.example-%d.com\r\nUser-Agent: egen/1.0\r\n"
             "Accept: */*\r\n\r\n" % (k * 7919 % 100000, k, k % 97)).encode("ascii")
        reqs.append((p, _padval(p)))
    resp = b"HTTP/1.1 204 No Content\r\nServer: nginx\r\nConnection: keep-alive\r\n\r\n"
    resp_v = _padval(resp)
    hellos = []
    for k in range(256):
        p = tls_client_hello("app%d.svc-%d.example.net" % (k, k % 31), ["h2", "http/1.1"], rng)
        hellos.append((p, _padval(p)))
    shellos = []
    for k in range(16):
        p = tls_server_hello(rng)
        shellos.append((p, _padval(p)))
    opts = _syn_opts(1460)
    k_http, k_tls = truth.kind("http"), truth.kind("tls")
    w = _OrderedWriter(path, snaplen)
    wc = _WireCount(w)
    push = heapq.heappush
    heap = w._heap
    seqn = 0
    stub = _BenchFlowStub()
    rand32 = rng.getrandbits
    for i in range(n):
        t = t0 + i * span // n
        w.release(t)
        h = i % nhosts
        cpk = hosts[h]
        # (client, port) is unique: port is injective in i // nhosts (< 28232 of them).
        cport = 32768 + ((i // nhosts) * 1117 + h * 31) % 28232
        spk = servers[(i * 7 + h) % nservers]
        tls = (i % 10) < 3
        kd = k_tls if tls else k_http
        kd[0] += 1
        truth.v[4] += 1
        dport = 443 if tls else 80
        hc = _Half4(stub, kd[1], cpk, spk, PROTO_TCP, cport, dport, None, 64, i & 0xFFFF, True)
        hs = _Half4(stub, kd[2], spk, cpk, PROTO_TCP, dport, cport, None, 55, (i * 3) & 0xFFFF,
                    False)
        rtt = 8000 + (i * 2654435761 >> 7) % 110000
        a, b = rand32(32), rand32(32)
        if tls:
            q, qv = hellos[i & 0xFF]
            r, rv = shellos[i & 0xF]
        else:
            q, qv = reqs[(i * 13) % 2000]
            r, rv = resp, resp_v
        a1 = (a + 1) & 0xFFFFFFFF
        b1 = (b + 1) & 0xFFFFFFFF
        t2 = t + rtt
        t3 = t2 + 60
        t4 = t3 + rtt + 40
        push(heap, (t, seqn, hc.tcp(t, a, 0, SYN, b"", 0, opts)))
        push(heap, (t2, seqn + 1, hs.tcp(t2, b, a1, SYN | ACK, b"", 0, opts)))
        push(heap, (t3, seqn + 2, hc.tcp(t3, a1, b1, PSH | ACK, q, qv)))
        push(heap, (t4, seqn + 3, hs.tcp(t4, b1, (a1 + len(q)) & 0xFFFFFFFF, PSH | ACK, r, rv)))
        seqn += 4
    w._n = seqn
    w.close()
    _write_truth(truth_path, truth.doc(w.count, wc.bytes, wc.first, wc.last,
                                       {"concurrent_flows_at_end": n}))
    return w.count


def bench_synflood(path, truth_path=None, seed=1, scale=1.0, snaplen=65535):
    """bench-synflood: 1M (x scale) SYNs from distinct spoofed external sources to
    10.0.0.80:443 over 4 s, unanswered (each its own flow), and in the middle (from
    1.5 s) a DNS lookup of www.dropbox.com and a 30 MB TLS upload to it from 10.0.0.5
    (egressd's t1567 cloud-storage alert)."""
    rng = random.Random(seed)
    t0 = BASE_TS_US
    n = max(int(1000000 * scale), 10)
    span = 4 * 1000000
    truth = _BenchTruth("bench-synflood", seed, t0, snaplen)
    # The exfiltration: the ordinary Scenario machinery (its own flows in its truth).
    sc = Scenario(seed=seed, start=t0)
    sc.dns_query("10.0.0.5", "10.0.0.53", "www.dropbox.com", answers=["162.125.1.18"],
                 at="1500ms")
    sc.tls_session("10.0.0.5", "162.125.1.18", "www.dropbox.com", upload_bytes=30 * 10**6,
                   download_bytes=4000, at="+2ms", rtt="15ms", bandwidth=400e6)
    server = bytes((10, 0, 0, 80))
    k_syn = truth.kind("syn-flood")
    opts = _syn_opts(1460)
    stub = _BenchFlowStub()
    st = k_syn[1]
    rand32 = rng.getrandbits
    nocts = len(_PUBLIC_OCTETS)

    def syns():
        for i in range(n):
            t = t0 + i * span // n
            # Distinct sources: a bijection of i over 28 bits (odd multiplier), spread
            # over public /8s (16 of them x 2^24 addresses).
            p = (i * 0x9E3779B1) & 0xFFFFFFF
            o = _PUBLIC_OCTETS[(p >> 24) % nocts]
            src = bytes((o, (p >> 16) & 0xFF, (p >> 8) & 0xFF, p & 0xFF))
            h = _Half4(stub, st, src, server, PROTO_TCP, 1024 + rand32(16) % 64000, 443, None,
                       rng.randrange(40, 128), i & 0xFFFF, False)
            yield t, h.tcp(t, rand32(32), 0, SYN, b"", 0, opts)

    k_syn[0] = n
    truth.v[4] += n
    with PcapWriter(path, linktype=1, snaplen=snaplen, chunk=4 << 20) as w:
        wc = _WireCount(w)
        w.write_many(heapq.merge(syns(), sc.packets(), key=operator.itemgetter(0)))
    for f in sc.flows:
        k = truth.kind("exfil-" + f.kind)
        k[0] += 1
        truth.v[f.ipver] += 1
        for a, b in ((k[1], f.c2s), (k[2], f.s2c)):
            for j in range(3):
                a[j] += b[j]
    _write_truth(truth_path, truth.doc(w.count, wc.bytes, wc.first, wc.last, {
        "exfil": {"client": "10.0.0.5", "server": "162.125.1.18", "sni": "www.dropbox.com",
                  "upload_bytes": 30 * 10**6,
                  "expected_alert_rule": "t1567.002-cloud-storage-new"}}))
    return w.count


_BENCH_FUNCS = {"bench-mix": bench_mix, "bench-flows1m": bench_flows1m,
                "bench-synflood": bench_synflood}


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description="deterministic pcap traffic generator (egressd tests)")
    ap.add_argument("scenario_file", nargs="?", help="scenario JSON (list of steps or {steps:[...]})")
    ap.add_argument("--scenario", help="built-in scenario name (see --list)")
    ap.add_argument("-o", "--output", help="output pcap path")
    ap.add_argument("--truth", help="write the truth JSON here")
    ap.add_argument("--snaplen", type=int, help="pcap snaplen (default 65535)")
    ap.add_argument("--seed", type=int, help="random seed (default 1, or the file's 'seed')")
    ap.add_argument("--packets", type=int, default=100000,
                    help="approximate packet count for --scenario bench")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="size factor for the bench-* scenarios (flows, packets)")
    ap.add_argument("--list", action="store_true", help="list built-in scenarios")
    args = ap.parse_args(argv)

    if args.list:
        for name, d in BUILTIN_SCENARIOS.items():
            print("%-16s %s" % (name, d["doc"]))
        print("%-16s %s" % ("bench", "~--packets packets of mixed DNS/TLS/HTTP, interleaved"))
        for name, doc in BENCH_SCENARIOS.items():
            print("%-16s %s" % (name, doc))
        return 0
    if bool(args.scenario) == bool(args.scenario_file):
        ap.error("give exactly one of SCENARIO.json or --scenario NAME")
    if not args.output:
        ap.error("-o/--output is required")

    snaplen = 65535
    if args.scenario in _BENCH_FUNCS:
        if args.scale <= 0:
            ap.error("--scale must be positive")
        _BENCH_FUNCS[args.scenario](args.output, args.truth, seed=1 if args.seed is None
                                    else args.seed, scale=args.scale,
                                    snaplen=snaplen if args.snaplen is None else args.snaplen)
        return 0
    if args.scenario:
        if args.scenario != "bench" and args.scenario not in BUILTIN_SCENARIOS:
            ap.error("unknown scenario %r (try --list)" % args.scenario)
        doc = {"steps": builtin_steps(args.scenario, args.packets)}
        snaplen = BUILTIN_SCENARIOS.get(args.scenario, {}).get("snaplen", snaplen)
    else:
        doc = _load_scenario_file(args.scenario_file)
        snaplen = doc.get("snaplen", snaplen)
    if args.snaplen is not None:
        snaplen = args.snaplen
    seed = args.seed if args.seed is not None else doc.get("seed", 1)
    extra = {k: doc[k] for k in ("gap", "rtt", "bandwidth") if k in doc}
    try:
        sc = build_from_steps(doc["steps"], seed=seed, start=doc.get("start"), **extra)
        sc.write(args.output, snaplen=snaplen, truth=args.truth)
    except (ValueError, KeyError) as e:
        print("egen: error: %s" % (e,), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
