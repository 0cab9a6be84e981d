"""Hostile names from the wire always give strict JSON, one document per line, from
which the bytes sent can be recovered.

The capture is built here, frame by frame (Ethernet, IPv4 with its checksum, TCP with a
handshake, data, FIN exchange, or UDP): one TLS flow per name with a ClientHello whose
server_name is that name, followed by an upload; one HTTP flow per name with a POST
whose Host is that name; one DNS query per name (a question of labels that may hold any
byte). Each flow has its own server address, so the records and alerts can be matched to
the name sent. Each DNS query is answered with an A record, and an upload of bytes no
parser knows goes to that address, so that flow is named by the DNS name. A rule (key:
destination, 10 KB out in an hour) makes each of these uploads (TLS, HTTP, after DNS)
alert, so alerts carry the names too (destination.domain, message, egressd.key).

Every line of egressd's output (--flows, alerts) must decode as strict UTF-8, hold no
raw control character (0x00-0x1f, 0x7f), parse as JSON with no duplicate key and no
NaN/Infinity, and be one object. The names are then mapped back to bytes by the
convention of include/json.h (well-formed UTF-8 copied, controls as \\u00xx, each byte
of an ill-formed sequence as the characters \\xNN in lowercase hex, a backslash that is
followed by 'x' as \\x5c) and compared with what was sent, after the normalisation the
parsers document (include/l7.h, l7-tls.h, l7-http.h, l7-dns.h):
  * ASCII A-Z become a-z (TLS server_name, HTTP Host, DNS names);
  * NUL becomes '?';
  * DNS: the labels joined by '.', whatever bytes they hold;
  * HTTP Host: the value of a header line, so it cannot hold LF (the line end) and a CR
    before the LF belongs to the line end; leading and trailing spaces and tabs are
    trimmed; one ':' starts a port and a leading '[' an IP literal: the Host names here
    hold every other byte, none of those at their ends, and no ':' or '['.
Names are kept to 255 bytes (TLS, HTTP) and 253 characters (DNS): the ones here fit.
"""
import ipaddress
import json
import struct
import subprocess

import pytest

import flowcmp as fc

CLIENT = "10.0.0.5"
TLS_NET = "198.18.1.0"   # server of the i-th TLS flow: TLS_NET + 1 + i
HTTP_NET = "198.18.2.0"
DNS_NET = "198.18.3.0"    # resolver of the i-th query
RAW_NET = "198.18.4.0"    # address the i-th DNS answer gives, then uploaded to
UPLOAD = 20000           # bytes each TLS and HTTP flow sends after its name
THRESHOLD = "10KB"

ALL = bytes(range(256))

# Hostile names, as bytes on the wire.
NAMES = [
    ALL[0x00:0x80],                              # every ASCII byte, controls included
    ALL[0x80:0x100],                             # every high byte: none valid alone
    b"Upper.CASE.Example.COM",
    b"cr\rlf\nboth\r\nend",
    b'q"uo"te\'s',
    b"back\\slash\\\\two\\x41\\xZZ\\x\\",
    b"\\x00\\xff\\u0041",                         # looks like the escapes themselves
    b"bad\xffutf\xfe8\x80\xbf",                  # stray bytes, lone continuations
    b"cut\xc3 \xe2\x82 \xf0\x9f\x98",            # sequences cut short
    b"over\xc0\x80\xc0\xaf\xc1\xbf\xe0\x80\xaf\xe0\x9f\xbf\xf0\x80\x80\xaf\xf0\x8f\xbf\xbf",
    b"sur\xed\xa0\x80\xed\xbf\xbf.big\xf4\x90\x80\x80\xf5\x80\x80\x80\xf8\x88\x80\x80\x80",
    "bücher.例え.テスト.😀.\u2028\u0085\ufeff".encode(),  # well-formed UTF-8
    b"nul\x00in\x00the\x00middle",
    b"\x7f\x1b[31mred\x1b[0m\x08\x07",           # DEL, terminal escapes
    b"</script><img src=x>&amp;",
]


# ---- what egressd is documented to keep of a name ------------------------------------

def normal(raw):
    """NUL to '?', ASCII A-Z to a-z."""
    return bytes(0x3f if b == 0 else b + 32 if 0x41 <= b <= 0x5a else b for b in raw)


def http_host(raw):
    """The name as a Host value can carry it (see the module's docstring)."""
    out = bytes(b for b in raw if b not in b"\n:[")
    out = out.replace(b"\r", b"")  # a CR may end up before the LF: keep none
    return b"h" + out + b"h"       # no space or tab at either end


def dns_labels(raw):
    """Labels of at most 63 bytes holding the name, dots included as bytes, then a
    label "dns" (so that no DNS name is also an SNI: alerts are kept per name)."""
    return [raw[i:i + 63] for i in range(0, len(raw), 63)] + [b"dns"]


# ---- frames ---------------------------------------------------------------------------

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Pcap:
    def __init__(self):
        self.out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
        self.t = 1704067200 * 1000000  # 2024-01-01
        self.ipid = 1

    def frame(self, src, dst, proto, l4):
        s, d = ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), self.ipid & 0xFFFF, 0x4000,
                          64, proto, 0, s, d)
        hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
        self.ipid += 1
        eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
        pkt = eth + hdr + l4
        self.t += 1000
        self.out.append(struct.pack("<IIII", self.t // 1000000, self.t % 1000000,
                                    len(pkt), len(pkt)) + pkt)

    def tcp(self, src, dst, sport, dport, seq, ack, flags, payload=b""):
        s, d = ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed
        seg = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          5 << 4, flags, 65535, 0, 0) + payload
        pseudo = s + d + struct.pack("!BBH", 0, 6, len(seg))
        seg = seg[:16] + struct.pack("!H", csum(pseudo + seg)) + seg[18:]
        self.frame(src, dst, 6, seg)

    def udp(self, src, dst, sport, dport, payload):
        s, d = ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed
        dg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        pseudo = s + d + struct.pack("!BBH", 0, 17, len(dg))
        dg = dg[:6] + struct.pack("!H", csum(pseudo + dg) or 0xFFFF) + dg[8:]
        self.frame(src, dst, 17, dg)

    def tcp_session(self, client, server, sport, dport, data):
        """Handshake, data from the client in segments of at most 1460 bytes (each
        acknowledged), FIN from each side."""
        SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01
        c, s = 1000, 50000
        self.tcp(client, server, sport, dport, c, 0, SYN)
        self.tcp(server, client, dport, sport, s, c + 1, SYN | ACK)
        c += 1
        s += 1
        self.tcp(client, server, sport, dport, c, s, ACK)
        for i in range(0, len(data), 1460):
            piece = data[i:i + 1460]
            self.tcp(client, server, sport, dport, c, s, PSH | ACK, piece)
            c += len(piece)
            self.tcp(server, client, dport, sport, s, c, ACK)
        self.tcp(client, server, sport, dport, c, s, FIN | ACK)
        self.tcp(server, client, dport, sport, s, c + 1, FIN | ACK)
        self.tcp(client, server, sport, dport, c + 1, s + 1, ACK)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(b"".join(self.out))


def client_hello(sni):
    """A TLS 1.2 record holding a ClientHello with one server_name (RFC 6066)."""
    name = struct.pack("!BH", 0, len(sni)) + sni
    ext = struct.pack("!HHH", 0, len(name) + 2, len(name)) + name
    body = (b"\x03\x03" + bytes(range(32)) + b"\x00" + struct.pack("!HH", 2, 0xC02F)
            + b"\x01\x00" + struct.pack("!H", len(ext)) + ext)
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def app_data(n):
    return b"\x17\x03\x03" + struct.pack("!H", n) + bytes(i % 251 for i in range(n))


def http_post(host, n):
    return (b"POST /upload HTTP/1.1\r\nHost: " + host + b"\r\nContent-Length: "
            + str(n).encode() + b"\r\n\r\n" + b"u" * n)


def dns_query(txid, labels):
    q = b"".join(bytes([len(lab)]) + lab for lab in labels) + b"\x00"
    return struct.pack("!HHHHHH", txid, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", 1, 1)


def dns_answer(txid, labels, addr):
    """The response: the question again and one A record for it (owner: a pointer to
    the question's name at offset 12)."""
    q = dns_query(txid, labels)[12:]
    rr = struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4) + ipaddress.IPv4Address(addr).packed
    return struct.pack("!HHHHHH", txid, 0x8180, 1, 1, 0, 0) + q + rr


def server(net, i):
    return str(ipaddress.IPv4Address(net) + 1 + i)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The capture, the expected name of every server, and egressd's output lines."""
    d = tmp_path_factory.mktemp("hostile-names")
    pc = Pcap()
    expect = {}  # server address -> (field kind, expected bytes)
    for i, raw in enumerate(NAMES):
        srv = server(TLS_NET, i)
        pc.tcp_session(CLIENT, srv, 40000 + i, 443, client_hello(raw) + app_data(UPLOAD))
        expect[srv] = ("tls", normal(raw))
    for i, raw in enumerate(NAMES):
        srv, host = server(HTTP_NET, i), http_host(raw)
        pc.tcp_session(CLIENT, srv, 41000 + i, 80, http_post(host, UPLOAD))
        expect[srv] = ("http", normal(host))
    for i, raw in enumerate(NAMES):
        srv, labels = server(DNS_NET, i), dns_labels(raw)
        up = server(RAW_NET, i)
        pc.udp(CLIENT, srv, 42000 + i, 53, dns_query(0x1000 + i, labels))
        pc.udp(srv, CLIENT, 53, 42000 + i, dns_answer(0x1000 + i, labels, up))
        expect[srv] = ("dns", normal(b".".join(labels)))
        # then an upload of bytes no parser knows to the address the answer gave: the
        # flow takes the name asked for as its destination name
        pc.tcp_session(CLIENT, up, 43000 + i, 9999, bytes(UPLOAD))
        expect[up] = ("raw", normal(b".".join(labels)))
    cap = d / "hostile-names.pcap"
    pc.write(cap)
    rule = d / "upload.yaml"
    rule.write_text(f"""\
rules:
  - id: hostile-names-upload
    name: Upload
    technique: T1048
    severity: low
    condition:
      detector: volume
      key: destination
      window: 1h
      bytes_out: {THRESHOLD}
""")
    cfg = d / "sensor.yaml"
    cfg.write_text(f"""\
home_net: [10.0.0.0/8]
rules: [{json.dumps(str(rule))}]
detection:
  rule_alerts_per_minute: 0
  source_alerts_per_minute: 0
""")
    p = subprocess.run([fc.EGRESSD, "-r", str(cap), "--flows", "-q", "-C", str(cfg)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert p.returncode == 0, p.stderr.decode("utf-8", "replace")
    return expect, p.stdout


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), f"duplicate key in {keys}"
    return dict(pairs)


def no_constant(name):
    raise AssertionError(f"{name} is not JSON")


def strict_lines(out):
    """Every line, checked and parsed."""
    assert out.endswith(b"\n")
    docs = []
    for line in out[:-1].split(b"\n"):
        bad = [b for b in line if b < 0x20 or b == 0x7F]
        assert not bad, f"raw control bytes {bad} in {line[:200]!r}"
        text = line.decode("utf-8", "strict")
        doc = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constant)
        assert isinstance(doc, dict)
        docs.append(doc)
    return docs


HEX = "0123456789abcdef"


def unescape(s):
    """The bytes a JSON-decoded string stands for (include/json.h): each \\xNN one
    byte, every other character its UTF-8 encoding."""
    out = bytearray()
    i = 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s) and s[i + 1] == "x":
            nn = s[i + 2:i + 4]
            assert len(nn) == 2 and all(c in HEX for c in nn), f"bad \\x escape in {s!r}"
            out.append(int(nn, 16))
            i += 4
        else:
            out += s[i].encode("utf-8")
            i += 1
    return bytes(out)


def test_unescape_convention():
    # the decoder against hand-written JSON of include/json.h's examples
    assert unescape(json.loads(r'"\\x5cx41"')) == b"\\x41"
    assert unescape(json.loads(r'"\\xff"')) == b"\xff"
    assert unescape(json.loads(r'"a\\b\u0000\"é"')) == b'a\\b\x00"\xc3\xa9'


def test_every_line_is_strict_json(run):
    _, out = run
    docs = strict_lines(out)
    assert docs


def test_flow_records_carry_the_names(run):
    expect, out = run
    flows = [d for d in strict_lines(out) if d["event"].get("dataset") == "egressd.flow"]
    by_server = {}
    for r in flows:
        by_server.setdefault(r["destination"]["ip"], []).append(r)
    assert sorted(by_server) == sorted(expect)
    for srv, (kind, want) in expect.items():
        assert len(by_server[srv]) == 1, srv
        r = by_server[srv][0]
        field = {"tls": ("tls", "client", "server_name"), "http": ("url", "domain"),
                 "dns": ("dns", "question", "name"), "raw": ("destination", "domain")}[kind]
        v = r
        for k in field:
            v = v[k]
        assert unescape(v) == want, (kind, srv, v)
        if kind != "dns":  # a DNS flow's destination is the resolver, unnamed here
            assert unescape(r["destination"]["domain"]) == want, (kind, srv)


def test_alerts_carry_the_names(run):
    expect, out = run
    alerts = [d for d in strict_lines(out) if d["event"]["kind"] == "alert"]
    uploads = {srv: want for srv, (kind, want) in expect.items() if kind != "dns"}
    got = {}
    for a in alerts:
        srv = a["destination"]["ip"]
        assert srv not in got, f"two alerts for {srv}"
        got[srv] = a
    assert sorted(got) == sorted(uploads)
    for srv, a in got.items():
        want = uploads[srv]
        assert unescape(a["destination"]["domain"]) == want, srv
        assert want in unescape(a["message"]), srv
        assert unescape(a["egressd"]["key"]) == b"destination " + CLIENT.encode() + b" " + want
