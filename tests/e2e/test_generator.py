"""Tests of the traffic generator tests/gen/egen.py against independent readers.

Every capture egen writes is re-read with tshark (and tcpdump) and compared
with what was asked and with egen's own truth file:

* all IPv4 header, TCP, UDP and ICMP checksums verify;
* TLS SNI / ALPN, HTTP Host / method, DNS names, FTP commands decode as asked;
* per-flow packet and IP-byte counts, payload bytes and first/last timestamps
  computed from tshark's dissection equal the truth file;
* snaplen captures keep frame.len and truncate frame.cap_len;
* the port announced by FTP PORT / PASV / EPRT / EPSV is the data connection's;
* identical arguments give identical bytes.

Run: cd /work/main && /usr/bin/python3 -m pytest -q tests/e2e/test_generator.py
"""

import collections
import decimal
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EGEN = os.path.join(ROOT, "tests", "gen", "egen.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

sys.path.insert(0, os.path.dirname(EGEN))
import egen  # noqa: E402

TSHARK = shutil.which("tshark")
TCPDUMP = shutil.which("tcpdump")

if not TSHARK:
    pytest.skip("*** tshark NOT FOUND: cannot check egen output against an independent "
                "dissector; install tshark (apt-get install tshark) ***",
                allow_module_level=True)

need_tcpdump = pytest.mark.skipif(not TCPDUMP, reason="*** tcpdump NOT FOUND: tcpdump checks skipped ***")

CHECK_OPTS = ["-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
              "-o", "ip.check_checksum:TRUE"]
BAD_CKSUM = ("ip.checksum.status==0 || tcp.checksum.status==0 || udp.checksum.status==0 "
             "|| icmp.checksum.status==0 || icmpv6.checksum.status==0")
SCENARIOS = ["basic", "ftp-active", "ftp-passive", "tls-split-hello", "fragments"]


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def run_egen(*args):
    r = subprocess.run([PYTHON, EGEN, *args], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, "egen failed: %s\n%s" % (args, r.stderr)
    return r


def tshark(pcap, fields, dfilter=None, opts=(), occurrence=None):
    """Rows of tshark -T fields output (tab separated, one row per frame)."""
    cmd = [TSHARK, "-n", "-r", pcap, *opts, "-T", "fields", "-E", "separator=/t"]
    if occurrence:
        cmd += ["-E", "occurrence=%s" % occurrence]
    for f in fields:
        cmd += ["-e", f]
    if dfilter:
        cmd += ["-Y", dfilter]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return [line.split("\t") for line in r.stdout.splitlines()]


def epoch_us(s):
    return int(decimal.Decimal(s) * 1000000)


def load_truth(path):
    with open(path) as f:
        return json.load(f)


@pytest.fixture(scope="session")
def gen(tmp_path_factory):
    """gen(name, *extra_args) -> (pcap, truth dict), cached per argument list."""
    d = tmp_path_factory.mktemp("egen")
    cache = {}

    def make(name, *extra):
        key = (name, extra)
        if key not in cache:
            tag = "%s-%d" % (name, len(cache))
            pcap, tj = str(d / (tag + ".pcap")), str(d / (tag + ".json"))
            src = ["--scenario", name] if not name.endswith(".json") else [name]
            run_egen(*src, "-o", pcap, "--truth", tj, *extra)
            cache[key] = (pcap, load_truth(tj))
        return cache[key]

    make.dir = d
    return make


def flow_table(pcap, truth):
    """Per-flow statistics recomputed from tshark's dissection, keyed like the
    truth flows. Non-first IPv4 fragments are attributed through (src, dst, ip.id)
    of the first fragment."""
    fields = ["frame.time_epoch", "vlan.id", "ip.src", "ip.dst", "ip.proto", "ip.len", "ip.id",
              "ip.frag_offset", "ipv6.src", "ipv6.dst", "ipv6.nxt", "ipv6.plen",
              "tcp.srcport", "tcp.dstport", "tcp.len", "udp.srcport", "udp.dstport",
              "udp.length", "icmp.ident", "icmpv6.echo.identifier", "data.len"]
    rows = tshark(pcap, fields, opts=["-o", "ip.defragment:FALSE"], occurrence="f")
    by_key = {}
    for f in truth["flows"]:
        a = (f["initiator"]["ip"], f["initiator"]["port"])
        b = (f["responder"]["ip"], f["responder"]["port"])
        if f["transport"].startswith("icmp"):
            a = (a[0], f["l7"]["icmp_id"])
            b = (b[0], f["l7"]["icmp_id"])
        by_key[(f["vlan"], f["transport"], a, b)] = (f["id"], "c2s")
        by_key[(f["vlan"], f["transport"], b, a)] = (f["id"], "s2c")
    frag_owner = {}
    stats = collections.defaultdict(lambda: {"packets": 0, "ip_bytes": 0, "payload_bytes": 0})
    times = {}
    unmatched = []
    for (ts, vlan, s4, d4, p4, len4, ipid, fragoff, s6, d6, p6, plen6, tsp, tdp, tlen,
         usp, udp_, ulen, icid, ic6id, dlen) in rows:
        vlan = int(vlan) if vlan else None
        if s4:
            src, dst, proto, iplen = s4, d4, int(p4), int(len4)
        else:
            src, dst, proto, iplen = s6, d6, int(p6), int(plen6) + 40
        if proto == 6:
            key = (vlan, "tcp", (src, int(tsp)), (dst, int(tdp)))
            payload = int(tlen)
        elif proto == 17 and usp:
            key = (vlan, "udp", (src, int(usp)), (dst, int(udp_)))
            payload = int(ulen) - 8
            if s4:
                frag_owner[(src, dst, ipid)] = key
        elif proto == 17:  # a non-first fragment: no UDP header
            key = frag_owner[(src, dst, ipid)]
            payload = 0
        elif proto == 1:
            key = (vlan, "icmp", (src, int(icid, 0)), (dst, int(icid, 0)))
            payload = iplen - 20 - 8
        elif proto == 58:
            key = (vlan, "icmpv6", (src, int(ic6id, 0)), (dst, int(ic6id, 0)))
            payload = iplen - 40 - 8
        else:
            unmatched.append((src, dst, proto))
            continue
        if key not in by_key:
            unmatched.append(key)
            continue
        fid, direction = by_key[key]
        st = stats[(fid, direction)]
        st["packets"] += 1
        st["ip_bytes"] += iplen
        st["payload_bytes"] += payload
        t = epoch_us(ts)
        lo, hi = times.get(fid, (t, t))
        times[fid] = (min(lo, t), max(hi, t))
    return stats, times, unmatched, len(rows)


# --------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------

def test_determinism(gen, tmp_path):
    """Same arguments => byte-identical pcap and truth; another seed differs."""
    outs = []
    for i in range(2):
        p, t = str(tmp_path / ("a%d.pcap" % i)), str(tmp_path / ("a%d.json" % i))
        run_egen("--scenario", "basic", "-o", p, "--truth", t)
        outs.append((open(p, "rb").read(), open(t, "rb").read()))
    assert outs[0][0] == outs[1][0]
    assert outs[0][1] == outs[1][1]
    p2 = str(tmp_path / "seed2.pcap")
    run_egen("--scenario", "basic", "-o", p2, "--seed", "2")
    other = open(p2, "rb").read()
    assert other != outs[0][0]
    # the library gives the same bytes as the CLI
    p3 = str(tmp_path / "lib.pcap")
    egen.build_from_steps(egen.builtin_steps("basic"), seed=1).write(p3)
    assert open(p3, "rb").read() == outs[0][0]


@pytest.mark.parametrize("name", SCENARIOS)
def test_checksums_valid(gen, name):
    pcap, truth = gen(name)
    bad = tshark(pcap, ["frame.number"], BAD_CKSUM, opts=CHECK_OPTS)
    assert bad == [], "frames with a bad checksum: %s" % bad[:20]
    # and every checksum was actually verified (status 1 = good), none left unverified
    rows = tshark(pcap, ["ip.checksum.status", "tcp.checksum.status", "udp.checksum.status",
                         "icmp.checksum.status", "icmpv6.checksum.status"], opts=CHECK_OPTS)
    assert len(rows) == truth["packets"]
    for r in rows:
        assert set(x for x in r if x) <= {"1"}, r


@need_tcpdump
@pytest.mark.parametrize("name", SCENARIOS)
def test_tcpdump_reads_and_agrees(gen, name):
    pcap, truth = gen(name)
    r = subprocess.run([TCPDUMP, "-vv", "-nn", "-r", pcap], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if l[:1].isdigit()]
    assert len(lines) == truth["packets"]
    # tcpdump marks header truncation as "[|ip]", "[|tcp]"...; "[|smtp]" & co only
    # mean a text line continues in the next segment.
    for needle in ("bad cksum", "incorrect", "[|ip", "[|tcp]", "[|udp]", "[|icmp",
                   "[|ether]", "[|vlan]"):
        assert needle not in r.stdout, needle


@pytest.mark.parametrize("name", SCENARIOS)
def test_flow_counts_match_truth(gen, name):
    """Per-flow per-direction packets, IP bytes, payload bytes and first/last
    timestamps recomputed from tshark equal the truth file."""
    pcap, truth = gen(name)
    stats, times, unmatched, nrows = flow_table(pcap, truth)
    assert unmatched == []
    assert nrows == truth["packets"] == sum(f["c2s"]["packets"] + f["s2c"]["packets"]
                                            for f in truth["flows"])
    for f in truth["flows"]:
        for d in ("c2s", "s2c"):
            got = stats.get((f["id"], d), {"packets": 0, "ip_bytes": 0, "payload_bytes": 0})
            assert got == f[d], "flow %d (%s) %s: tshark %s, truth %s" % (
                f["id"], f["kind"], d, got, f[d])
        assert times[f["id"]] == (f["first_us"], f["last_us"]), f["id"]


def test_timestamps(gen):
    pcap, truth = gen("basic")
    ts = [epoch_us(r[0]) for r in tshark(pcap, ["frame.time_epoch"])]
    assert ts == sorted(ts)
    assert ts[0] == truth["start_us"] == 1704067200000000   # 2024-01-01T00:00:00Z


def test_basic_covers_everything(gen):
    _, truth = gen("basic")
    kinds = collections.Counter(f["kind"] for f in truth["flows"])
    for k in ("dns", "tls", "http", "icmp", "ftp", "ftp-data", "udp", "ssh", "smtp", "tcp"):
        assert kinds[k] >= 1, k
    assert {f["ip_version"] for f in truth["flows"]} == {4, 6}
    assert any(f["vlan"] == 42 for f in truth["flows"])
    assert {f["transport"] for f in truth["flows"]} == {"tcp", "udp", "icmp", "icmpv6"}


def test_tls_sni_alpn(gen):
    pcap, truth = gen("basic")
    rows = tshark(pcap, ["tcp.srcport", "tls.handshake.extensions_server_name",
                         "tls.handshake.extensions_alpn_str", "vlan.id"], "tls.handshake.type==1")
    got = {int(r[0]): (r[1], r[2].split(","), r[3]) for r in rows}
    tls = [f for f in truth["flows"] if f["kind"] == "tls"]
    assert len(got) == len(tls) >= 3
    for f in tls:
        sni, alpn, vlan = got[f["initiator"]["port"]]
        assert sni == f["l7"]["tls_sni"]
        assert alpn == f["l7"]["tls_alpn"]
        assert vlan == ("" if f["vlan"] is None else str(f["vlan"]))
    # the server answered with a TLS 1.3 ServerHello and application data records follow
    assert tshark(pcap, ["frame.number"], "tls.handshake.type==2")
    assert tshark(pcap, ["frame.number"],
                  "tls.record.opaque_type==23 || tls.record.content_type==23")


def test_tls_split_client_hello(gen):
    pcap, truth = gen("tls-split-hello")
    (f,) = truth["flows"]
    rows = tshark(pcap, ["tcp.segment.count", "tls.handshake.extensions_server_name"],
                  "tls.handshake.type==1")
    assert rows == [["3", f["l7"]["tls_sni"]]]
    # exactly three client data segments before the server's first data
    segs = tshark(pcap, ["tcp.srcport", "tcp.len"], "tcp.len>0")
    first = []
    for sp, ln in segs:
        if int(sp) != f["initiator"]["port"]:
            break
        first.append(int(ln))
    assert len(first) == 3


def test_http_host_method(gen):
    pcap, truth = gen("basic")
    rows = tshark(pcap, ["tcp.srcport", "http.host", "http.request.method", "http.request.uri"],
                  "http.request")
    got = {int(r[0]): tuple(r[1:]) for r in rows}
    http = [f for f in truth["flows"] if f["kind"] == "http"]
    assert len(got) == len(http) == 2
    for f in http:
        l7 = f["l7"]
        assert got[f["initiator"]["port"]] == (l7["http_host"], l7["http_method"], l7["http_path"])
    # responses decode too, with the status asked for
    assert len(tshark(pcap, ["http.response.code"], "http.response.code==200")) == 2


def test_dns_names(gen):
    pcap, truth = gen("basic")
    rows = tshark(pcap, ["udp.srcport", "tcp.srcport", "dns.flags.response", "dns.qry.name",
                         "dns.resp.name", "dns.cname", "dns.a", "dns.aaaa", "dns.txt"], "dns")
    dns = [f for f in truth["flows"] if f["kind"] == "dns"]
    queries = {int(r[0] or r[1]): r[3] for r in rows if r[2] in ("0", "False")}
    assert len(queries) == len(dns)
    for f in dns:
        assert queries[f["initiator"]["port"]] == f["l7"]["dns_qname"]
    resp = {r[3]: r for r in rows if r[2] in ("1", "True")}
    assert resp["www.example.com"][5] == "edge.example.net"
    assert resp["www.example.com"][6] == "93.184.216.34"
    assert resp["www.example.com"][4] == "www.example.com,edge.example.net"
    assert resp["v6.example.com"][7] == "2606:2800:220:1:248:1893:25c8:1946"
    assert resp["t1.exfil.example.org"][8] == "v=spf1 -all"


def test_dns_compression_on_the_wire():
    """Answers use pointers: the first owner name is 0xC00C (the question)."""
    msg = egen.dns_message(0x1234, "www.example.com", "A", response=True,
                           answers=["192.0.2.1", "192.0.2.2"], cname="cdn.example.com")
    q_end = 12 + len(b"\x03www\x07example\x03com\x00") + 4
    assert msg[q_end:q_end + 2] == b"\xc0\x0c"
    # cname target "cdn.example.com" compresses its "example.com" suffix (offset 16)
    assert b"\x03cdn\xc0\x10" in msg
    assert msg.count(b"example") == 1


def test_icmp_echo(gen):
    pcap, truth = gen("basic")
    v4 = tshark(pcap, ["icmp.type", "icmp.ident", "icmp.seq"], "icmp")
    v6 = tshark(pcap, ["icmpv6.type", "icmpv6.echo.identifier"], "icmpv6")
    assert [r[0] for r in v4] == ["8", "0"] * 3
    assert {int(r[1], 0) for r in v4} == {4660}
    assert [r[0] for r in v6] == ["128", "129"] * 2
    # tshark pairs every reply with its request
    assert len(tshark(pcap, ["frame.number"], "icmp.resp_to || icmpv6.resp_to")) == 5


@pytest.mark.parametrize("name,field", [("ftp-active", "ftp.active.port"),
                                        ("ftp-passive", "ftp.passive.port")])
def test_ftp_announced_port_is_data_port(gen, name, field):
    pcap, truth = gen(name)
    ctrl, data = truth["flows"]
    ann = tshark(pcap, [field], field)
    assert len(ann) == 1
    port = int(ann[0][0])
    assert port == ctrl["l7"]["ftp_data_port"]
    assert data["l7"]["ftp_control_flow"] == ctrl["id"]
    assert ctrl["l7"]["ftp_data_flows"] == [data["id"]]
    # the data connection on the wire (tshark links it to the control session as ftp-data)
    rows = tshark(pcap, ["ip.src", "tcp.srcport", "ip.dst", "tcp.dstport"],
                  "tcp.flags.syn==1 && tcp.flags.ack==0 && !(tcp.port==21)")
    assert len(rows) == 1
    src, sp, dst, dp = rows[0]
    if name == "ftp-active":     # server:20 -> client:PORT
        assert (src, int(sp), dst, int(dp)) == (ctrl["responder"]["ip"], 20,
                                                ctrl["initiator"]["ip"], port)
    else:                        # client -> server:PASV port
        assert (src, dst, int(dp)) == (ctrl["initiator"]["ip"], ctrl["responder"]["ip"], port)
    assert (data["initiator"]["port"], data["responder"]["port"]) == (int(sp), int(dp))
    ftpdata = tshark(pcap, ["tcp.len"], "ftp-data")
    assert sum(int(r[0]) for r in ftpdata) == 50000
    # control dialogue in order
    cmds = [r[0] for r in tshark(pcap, ["ftp.request.command"], "ftp.request.command")]
    assert cmds == ["USER", "PASS", "TYPE", "PORT" if name == "ftp-active" else "PASV",
                    "STOR", "QUIT"]
    codes = [r[0] for r in tshark(pcap, ["ftp.response.code"], "ftp.response.code")]
    assert codes == ["220", "331", "230", "200", "200" if name == "ftp-active" else "227",
                     "150", "226", "221"]


def test_ftp_ipv6_eprt_epsv(gen):
    pcap, truth = gen("basic")
    ctrls = {f["l7"]["ftp_mode"]: f for f in truth["flows"] if f["kind"] == "ftp"}
    flows = {f["id"]: f for f in truth["flows"]}
    eprt = tshark(pcap, ["ftp.eprt.port"], "ftp.eprt.port")
    assert [int(r[0]) for r in eprt] == [ctrls["active"]["l7"]["ftp_data_port"]]
    data = flows[ctrls["active"]["l7"]["ftp_data_flows"][0]]
    assert data["initiator"]["port"] == 20
    assert data["responder"]["port"] == int(eprt[0][0])
    # the v4 passive one in basic
    pasv = tshark(pcap, ["ftp.passive.port"], "ftp.passive.port")
    data = flows[ctrls["passive"]["l7"]["ftp_data_flows"][0]]
    assert [int(r[0]) for r in pasv] == [data["responder"]["port"]]


def test_snaplen(gen):
    full_pcap, full_truth = gen("basic")
    snap_pcap, snap_truth = gen("snaplen", "--snaplen", "64")
    full = tshark(full_pcap, ["frame.len", "frame.cap_len"])
    snap = tshark(snap_pcap, ["frame.len", "frame.cap_len"])
    assert [r[0] for r in snap] == [r[0] for r in full]        # same wire lengths
    assert all(r[0] == r[1] for r in full)
    truncated = 0
    for ln, cap in ((int(a), int(b)) for a, b in snap):
        assert cap == min(ln, 64)
        truncated += ln > cap
    assert truncated > len(snap) // 2
    assert snap_truth["flows"] == full_truth["flows"]         # truth is about the wire
    with open(snap_pcap, "rb") as f:
        assert int.from_bytes(f.read(24)[16:20], "little") == 64   # header snaplen
    # the built-in default for the "snaplen" scenario is 64 as well
    default_pcap, _ = gen("snaplen")
    assert open(default_pcap, "rb").read() == open(snap_pcap, "rb").read()


def test_fragments(gen):
    pcap, truth = gen("fragments")
    rows = tshark(pcap, ["ip.id", "ip.flags.mf", "ip.frag_offset", "ip.len", "vlan.id"],
                  opts=["-o", "ip.defragment:FALSE"])
    by_id = collections.defaultdict(list)
    for ipid, mf, off, ln, vlan in rows:
        by_id[ipid].append((int(mf in ("1", "True")), int(off), int(ln), vlan))
    fragmented = {k: v for k, v in by_id.items() if len(v) > 1}
    assert len(fragmented) >= 5
    for frags in fragmented.values():
        assert [f[0] for f in frags] == [1] * (len(frags) - 1) + [0]
        pos = 0
        for mf, off, ln, vlan in frags:
            assert off * 8 == pos                 # contiguous, in order (8-byte units)
            if mf:
                assert (ln - 20) % 8 == 0
            pos += ln - 20
    # mtu 576 on VLAN 7
    small = [v for v in fragmented.values() if v[0][3] == "7"]
    assert small and all(ln <= 576 for v in small for _, _, ln, _ in v)
    # reassembled by tshark: UDP lengths are the sizes asked for
    ulen = [int(r[0]) - 8 for r in tshark(pcap, ["udp.length"], "udp && !dns")]
    assert ulen == [4000, 3000, 1400, 8000, 2000]
    dns = tshark(pcap, ["dns.count.answers", "dns.qry.name"], "dns.flags.response==1")
    assert dns == [["1", "big.txt.example.org"]]


def test_tcp_sequence_numbers(gen):
    """tshark's TCP analysis finds no lost / retransmitted / out-of-order
    segments and no ACK of unseen data: seq/ack bookkeeping is consistent."""
    pcap, _ = gen("basic")
    bad = tshark(pcap, ["frame.number", "_ws.col.Info"],
                 "tcp.analysis.flags && !tcp.analysis.window_update")
    assert bad == []


def test_ssh_smtp_decode(gen):
    pcap, truth = gen("basic")
    banners = [r[0] for r in tshark(pcap, ["ssh.protocol"], "ssh.protocol")]
    assert banners == ["SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"] * 2
    cmds = [r[0] for r in tshark(pcap, ["smtp.req.command"], "smtp.req.command")]
    assert cmds == ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"]
    codes = [r[0] for r in tshark(pcap, ["smtp.response.code"], "smtp.response.code",
                                  occurrence="f")]
    assert codes == ["220", "250", "250", "250", "354", "250", "221"]


def test_json_scenario_file(gen, tmp_path):
    """The CLI scenario format: absolute / relative / sequential timing,
    repeat+every, size strings, VLAN, IPv6, library-equivalent output."""
    doc = {
        "seed": 5,
        "steps": [
            {"kind": "dns", "client": "10.9.0.2", "server": "10.9.0.1", "qname": "a.example.com",
             "answers": ["192.0.2.10"], "at": "1s"},
            {"kind": "tls", "client": "10.9.0.2", "server": "192.0.2.10", "sni": "a.example.com",
             "upload": "64KiB", "download": "2k"},
            {"kind": "http", "client": "10.9.0.2", "server": "192.0.2.80", "host": "beacon.example",
             "path": "/b", "repeat": 4, "every": "30s", "at": "+10s"},
            {"kind": "tcp", "client": "2001:db8::2", "server": "2001:db8::99", "dport": 9000,
             "c2s": ["ping\n"], "s2c": ["pong\n"], "vlan": 100, "at": "+500ms"},
            {"kind": "udp", "client": "10.9.0.2", "server": "192.0.2.53", "dport": 443,
             "sizes": [1200, 1200], "reply_sizes": ["1.2k"], "interval": "5ms", "at": "2s"},
        ],
    }
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    pcap, truth = gen(str(path))
    start = truth["start_us"]
    flows = truth["flows"]
    assert [f["kind"] for f in flows] == ["dns", "tls", "http", "http", "http", "http", "tcp", "udp"]
    assert flows[0]["first_us"] == start + 1000000
    assert flows[1]["first_us"] == flows[0]["last_us"] + 1000            # sequential, gap 1ms
    assert flows[1]["c2s"]["payload_bytes"] > 65536
    assert [f["first_us"] - start for f in flows[2:6]] == [11000000, 41000000, 71000000, 101000000]
    assert flows[6]["first_us"] == start + 11500000                      # +500ms from anchor 11s
    assert flows[6]["vlan"] == 100 and flows[6]["ip_version"] == 6
    assert flows[7]["c2s"]["packets"] == 2 and flows[7]["s2c"]["payload_bytes"] == 1200
    assert flows[7]["last_us"] - flows[7]["first_us"] == 10000           # interval 5ms
    stats, _, unmatched, n = flow_table(pcap, truth)
    assert unmatched == [] and n == truth["packets"]
    for f in flows:
        assert stats[(f["id"], "c2s")] == f["c2s"]
    # the same steps through the library give the same bytes
    lib = str(tmp_path / "lib.pcap")
    egen.build_from_steps(doc["steps"], seed=5).write(lib)
    assert open(lib, "rb").read() == open(pcap, "rb").read()


def test_library_api(tmp_path):
    """Direct use of Scenario: explicit payloads, sizes and Segmented, rst
    teardown, no handshake; the truth counts what was asked."""
    sc = egen.Scenario(seed=11)
    f1 = sc.tcp_session("192.0.2.1", "198.51.100.1", sport=40000, dport=7000,
                        c2s=[b"A" * 3000, 10], s2c=[egen.Segmented([b"x" * 10, b"y" * 20]), 0],
                        mss=1000, ack_every=1, teardown="rst")
    f2 = sc.tcp_session("192.0.2.1", "198.51.100.1", sport=40001, dport=7000, c2s=[500],
                        handshake=False, teardown=None)
    ctrl, data = sc.ftp_session("2001:db8::1", "2001:db8::2", mode="passive",
                                download_bytes=12345, filename="get.bin")
    p, t = str(tmp_path / "lib.pcap"), str(tmp_path / "lib.json")
    n = sc.write(p, truth=t)
    truth = load_truth(t)
    assert truth["packets"] == n
    assert f1.c2s[2] == 3010 and f1.s2c[2] == 30
    # c2s: SYN, ACK, 3000 bytes @ mss 1000 = 3 segments, ACK of the server's first
    # segment (its second is answered by the client's data), 10 bytes, RST.
    assert f1.c2s[0] == 1 + 1 + 3 + 1 + 1 + 1
    # s2c: SYN-ACK, ACKs of the 1st and 2nd segment (the 3rd is answered by data),
    # 2 forced segments, ACK of the 10 bytes (the empty s2c message is skipped).
    assert f1.s2c[0] == 1 + 2 + 2 + 1
    assert f2.c2s == [1, 540, 500] and f2.s2c == [1, 40, 0]
    assert data.s2c[2] == 12345 and ctrl.l7["ftp_command"] == "RETR"
    stats, _, unmatched, rows = flow_table(p, truth)
    assert unmatched == [] and rows == n
    assert tshark(p, ["frame.number"], BAD_CKSUM, opts=CHECK_OPTS) == []
    epsv = tshark(p, ["ftp.epsv.port"], "ftp.epsv.port")
    assert [int(r[0]) for r in epsv] == [data.sport]
    assert (data.client, data.server) == (ctrl.client, ctrl.server)


def test_parse_helpers():
    assert egen.parse_time("+5s") == 5000000
    assert egen.parse_time("250ms") == 250000
    assert egen.parse_time(1.5) == 1500000
    assert egen.parse_time("2m") == 120000000
    assert egen.parse_size("150M") == 150000000
    assert egen.parse_size("64KiB") == 65536
    assert egen.parse_size(1000) == 1000


def test_speed(tmp_path):
    """Throughput sanity check (the benchmark generates ~2.5M packets).
    Lenient bound so a loaded machine does not fail it; prints the rate."""
    p = str(tmp_path / "bench.pcap")
    sc = egen.build_from_steps(egen.builtin_steps("bench", 60000), seed=1)
    t0 = time.perf_counter()
    n = sc.write(p)
    dt = time.perf_counter() - t0
    rate = n / dt
    print("egen: %d packets in %.2fs = %.0f packets/s" % (n, dt, rate))
    assert n >= 60000
    assert rate > 40000, "egen too slow: %.0f packets/s" % rate
