"""Resource bounds end to end: each test builds input that pushes one bound past its
limit and checks, against values worked out from the construction, that the bound held
and was counted (--stats), that detection still works, and that nothing crashed or hung.

  * the flow table under a SYN flood (flows.max_flows; flows.evicted,
    flows.peak_active; peak RSS set by the cap, not by the flood);
  * the IP fragment table (flows.fragments; anomaly.fragment.table_full);
  * the L7 reassembly buffers (l7.reassembly_buffers, l7.reassembly_buffer_size;
    anomaly.l7.reassembly_buffers_exhausted, anomaly.l7.reassembly_buffer_overflow);
  * DNS names from the wire (253 characters, 63 per label, compression pointers;
    anomaly.dns.malformed);
  * alert documents with the longest names a rule file and the wire can give.
"""
import json
import os
import struct
import subprocess
import sys

import pytest

import flowcmp as fc

GEN = os.path.join(fc.ROOT, "tests", "gen", "egen.py")
sys.path.insert(0, os.path.dirname(GEN))
import egen  # noqa: E402

EXFIL_RULE = "t1567.002-cloud-storage-new"  # tests/bench/run-bench checks the same alert


ASAN = fc.is_sanitized(fc.EGRESSD)


stats_of = fc.stats_of


def write_config(tmp, name, text):
    path = os.path.join(tmp, name + ".yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def run(pcap, cfg, flows=False, timeout=120):
    """egressd -r pcap -C cfg --stats: (process, parsed JSON lines, stats dict)."""
    args = ["-r", pcap, "-C", cfg, "--stats", "-q"] + (["--flows"] if flows else [])
    p = fc.run(args, timeout=timeout)
    assert p.returncode == 0, p.stderr[-3000:]
    docs = [json.loads(line) for line in p.stdout.splitlines()]
    return p, docs, stats_of(p.stderr)


def flow_records(docs):
    return [d for d in docs if d["event"].get("dataset") == "egressd.flow"]


def alerts(docs):
    return [d for d in docs if d["event"]["kind"] == "alert"]


def bench_capture(tmp, name, scale):
    pcap = os.path.join(tmp, name + ".pcap")
    truth = os.path.join(tmp, name + ".truth.json")
    subprocess.run([sys.executable, GEN, "--scenario", "bench-synflood", "--scale", str(scale),
                    "-o", pcap, "--truth", truth], check=True)
    with open(truth) as f:
        return pcap, json.load(f)


# A fresh interpreter runs egressd and reports RUSAGE_CHILDREN: its only child is
# egressd, so ru_maxrss (KiB on Linux) is egressd's peak RSS and nothing else's.
RSS_PROBE = """
import resource, subprocess, sys
with open(sys.argv[1], "w") as out, open(sys.argv[2], "w") as err:
    rc = subprocess.run(sys.argv[3:], stdout=out, stderr=err).returncode
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def run_rss(tmp, tag, pcap, cfg):
    """Peak RSS in KiB of egressd -r pcap -C cfg --stats, and its alerts and stats."""
    out, err = os.path.join(tmp, tag + ".out"), os.path.join(tmp, tag + ".err")
    p = subprocess.run([sys.executable, "-c", RSS_PROBE, out, err, fc.EGRESSD, "-r", pcap,
                        "-C", cfg, "--stats", "-q"], stdout=subprocess.PIPE, text=True,
                       check=True, timeout=300)
    rc, kib = (int(x) for x in p.stdout.split())
    with open(err) as f:
        err_text = f.read()
    assert rc == 0, err_text[-3000:]
    with open(out) as f:
        docs = [json.loads(line) for line in f]
    return kib, docs, stats_of(err_text)


def exfil_alerts(docs):
    return [a for a in alerts(docs) if a["rule"]["id"] == EXFIL_RULE
            and a["source"]["ip"] == "10.0.0.5"
            and a["destination"].get("domain") == "www.dropbox.com"]


# ---- 1. the flow table under a SYN flood --------------------------------------------

MAX_FLOWS = 20000
# Bytes a flow may cost at most once the table is full: the pool holds max_flows flows
# of sizeof(struct flow) + DETECT_FLOW_EXT_SIZE bytes (280 today) and the slot array
# fewer than 3 x max_flows slots of 8 bytes (a power of two >= 1.5 x max_flows): about
# 300 bytes. 512 leaves room for those structures to grow without this test failing.
FLOW_BYTES_MAX = 512
# Allocator and page granularity (4 KiB pages touched at random by the slot array).
RSS_SLACK_KIB = 4096


def test_syn_flood_is_bounded_by_max_flows(tmp_path):
    """A million spoofed SYNs, each its own flow, into a table of 20000: the table stays at
    20000, the rest is evicted and counted, the 30 MB upload to Dropbox in the middle of
    the flood still raises its alert, and peak RSS is what the flood-free capture needs
    plus at most a full table's worth."""
    tmp = str(tmp_path)
    pcap, truth = bench_capture(tmp, "synflood", 1.0)
    syns = truth["flows_by_kind"]["syn-flood"]["flows"]
    assert syns == 1000000
    flows_total = truth["flow_count"]  # the SYNs, the DNS lookup and the TLS upload
    capped = write_config(tmp, "capped", "home_net: [10.0.0.0/8]\nflows:\n  max_flows: %d\n"
                          % MAX_FLOWS)

    if ASAN:
        # AddressSanitizer's shadow memory and quarantine make RSS say nothing about the
        # table: the counters and the alert are checked, RSS is not.
        _, docs, st = run(pcap, capped, timeout=600)
    else:
        kib, docs, st = run_rss(tmp, "capped", pcap, capped)

    # Every flow was created once at least; all but max_flows of those alive at once
    # had to make room, so evictions are at least (flows - max_flows).
    assert st["flows.created"] >= flows_total
    assert st["flows.evicted"] >= syns - MAX_FLOWS, st
    assert st["flows.evicted"] >= st["flows.created"] - MAX_FLOWS, st
    assert st["flows.peak_active"] == MAX_FLOWS, st
    assert exfil_alerts(docs), [a["rule"]["id"] for a in alerts(docs)]

    if ASAN:
        return
    # The same configuration on the same exfiltration with 10 SYNs (the generator's
    # minimum): what egressd needs without the flood.
    quiet, _ = bench_capture(tmp, "quiet", 0.00001)
    base_kib, qdocs, _ = run_rss(tmp, "quiet", quiet, capped)
    assert exfil_alerts(qdocs)
    bound_kib = base_kib + MAX_FLOWS * FLOW_BYTES_MAX // 1024 + RSS_SLACK_KIB
    # The default table (1,000,000 flows) on the same flood: it keeps every SYN's flow,
    # and the same bound does not hold, so it is the cap that keeps RSS down.
    uncapped = write_config(tmp, "uncapped", "home_net: [10.0.0.0/8]\nflows:\n"
                            "  max_flows: 1000000\n")
    big_kib, bdocs, bst = run_rss(tmp, "uncapped", pcap, uncapped)
    assert bst["flows.peak_active"] > MAX_FLOWS
    assert exfil_alerts(bdocs)
    msg = ("peak RSS: max_flows %d: %d KiB, max_flows 1000000: %d KiB; bound %d KiB = "
           "%d KiB without the flood + %d flows x %d B + %d KiB"
           % (MAX_FLOWS, kib, big_kib, bound_kib, base_kib, MAX_FLOWS, FLOW_BYTES_MAX,
              RSS_SLACK_KIB))
    assert kib <= bound_kib, msg
    assert big_kib > bound_kib, msg


# ---- 2. the IP fragment table ------------------------------------------------------------

def fragmented_capture(tmp, name, n, spacing_s):
    """n UDP datagrams of 2000 bytes, each from its own host (so its own flow), each cut
    into two IPv4 fragments at MTU 1500 (the first carries the UDP header, the second
    follows 1 us later), starting every spacing_s seconds (0: all at once)."""
    sc = egen.Scenario(seed=5)
    for i in range(n):
        sc.udp_flow("10.0.%d.%d" % (2 + i // 200, 1 + i % 200), "198.51.100.9", dport=5000,
                    sizes=[2000], fragment=True, mtu=1500, at="%ds" % (i * spacing_s))
    pcap = os.path.join(tmp, name + ".pcap")
    sc.write(pcap)
    return pcap


@pytest.mark.parametrize("spacing_s", [0, 2])
def test_fragment_table_full(tmp_path, spacing_s):
    """flows.fragments 16 (the smallest table) and 100 fragmented datagrams.

    All at once: at most 16 first fragments are remembered. Each one refused for room
    is counted, and so is its second fragment a microsecond later: the probe window that
    was full of live entries is still full (entries live fragment_timeout, and only more
    arrive), so table_full is twice the refused datagrams, at least 2 x (100 - 16). A
    remembered datagram's flow has both fragments; a refused one's only the first.

    One every 2 s with fragment_timeout 1s: the table never holds more than one live
    entry, nothing is refused and every flow has both fragments."""
    tmp = str(tmp_path)
    n, cap = 100, 16
    pcap = fragmented_capture(tmp, "frags", n, spacing_s)
    cfg = write_config(tmp, "frag", "home_net: [10.0.0.0/8]\nflows:\n  fragments: %d\n"
                       "  fragment_timeout: 1s\n" % cap)
    _, docs, st = run(pcap, cfg, flows=True)
    recs = flow_records(docs)
    assert len(recs) == n
    full = st.get("anomaly.fragment.table_full", 0)
    packets = sum(r["source"]["packets"] for r in recs)
    if spacing_s:
        assert full == 0, st
        assert packets == 2 * n
    else:
        assert full % 2 == 0 and full >= 2 * (n - cap), st
        refused = full // 2
        assert packets == 2 * n - refused
        assert sorted({r["source"]["packets"] for r in recs}) == [1, 2]
    assert st.get("anomaly.fragment.orphan", 0) == 0, st


# ---- 3. L7 reassembly buffers ----------------------------------------------------------

def sni_of(rec):
    return rec.get("tls", {}).get("client", {}).get("server_name")


def split_hello_capture(tmp, split, whole):
    """`split` TLS sessions whose ClientHello comes in 3 TCP segments and `whole` whose
    ClientHello is one segment, all starting at the same instant. SNIs of equal length
    make every ClientHello the same size, so the sessions run in lockstep: every split
    session's first segment (which takes a reassembly buffer) is in the capture before
    any session's second segment (which its buffer waits for)."""
    steps = []
    for i in range(split + whole):
        steps.append({"kind": "tls", "client": "10.0.1.%d" % (10 + i),
                      "server": "198.51.100.%d" % (10 + i), "sni": "host%02d.example.com" % i,
                      "split_client_hello": 3 if i < split else False,
                      "upload": 2000, "download": 2000, "at": "0s"})
    spec = os.path.join(tmp, "hellos.json")
    with open(spec, "w") as f:
        json.dump(steps, f)
    pcap = os.path.join(tmp, "hellos.pcap")
    subprocess.run([sys.executable, GEN, spec, "-o", pcap], check=True)
    return pcap


@pytest.mark.parametrize("buffers", [0, 5, 12])
def test_reassembly_buffers_exhausted(tmp_path, buffers):
    """12 split ClientHellos at once and l7.reassembly_buffers of 0, 5 and 12: the first
    `buffers` of them are reassembled and give their SNI, each of the others finds no
    buffer (counted once) and gives none; the 3 one-segment ClientHellos need no
    buffer and always give theirs."""
    tmp = str(tmp_path)
    split, whole = 12, 3
    pcap = split_hello_capture(tmp, split, whole)
    cfg = write_config(tmp, "l7", "home_net: [10.0.0.0/8]\nl7:\n  reassembly_buffers: %d\n"
                       % buffers)
    _, docs, st = run(pcap, cfg, flows=True)
    recs = flow_records(docs)
    assert len(recs) == split + whole
    got = sorted(sni_of(r) for r in recs if sni_of(r))
    exhausted = split - min(buffers, split)
    assert st.get("anomaly.l7.reassembly_buffers_exhausted", 0) == exhausted, st
    assert st["l7.reassembly_buffers_peak"] == min(buffers, split), st
    assert len(got) == split - exhausted + whole, got
    # the one-segment ClientHellos (numbered after the split ones) always have their SNI
    for i in range(split, split + whole):
        assert "host%02d.example.com" % i in got
    assert st.get("anomaly.l7.reassembly_buffer_overflow", 0) == 0
    assert st.get("anomaly.tls.malformed_client_hello", 0) == 0


def u16len(b):
    return struct.pack("!H", len(b)) + b


def big_client_hello(sni, record_len):
    """A TLS record of `record_len` bytes holding one ClientHello (RFC 8446 4.1.2) with
    server_name and a padding extension (RFC 7685) making up the length."""
    name = sni.encode()
    sni_ext = struct.pack("!H", 0) + u16len(u16len(b"\x00" + u16len(name)))
    head = (b"\x03\x03" + bytes(32) + b"\x00" + u16len(struct.pack("!H", 0x1301)) +
            b"\x01\x00")
    # record header 5, handshake header 4, head, extensions length 2, padding header 4
    pad = record_len - 5 - 4 - len(head) - 2 - len(sni_ext) - 4
    exts = sni_ext + struct.pack("!HH", 21, pad) + bytes(pad)
    body = head + u16len(exts)
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    rec = b"\x16\x03\x01" + u16len(hs)
    assert len(rec) == record_len
    return rec


@pytest.mark.parametrize("size,overflows", [("12KiB", 2), ("16KiB", 0)])
def test_reassembly_buffer_overflow(tmp_path, size, overflows):
    """Two connections (one after the other) each send a 14000-byte ClientHello record
    (valid: a record may hold 16384 bytes) in 1460-byte segments. A 12 KiB buffer is
    full before the record ends: one overflow per connection, no SNI. A 16 KiB buffer
    holds it: no overflow, both SNIs."""
    tmp = str(tmp_path)
    sc = egen.Scenario(seed=3)
    snis = ["big-hello-%d.example.com" % i for i in range(2)]
    for i, sni in enumerate(snis):
        sc.tcp_session("10.0.0.5", "203.0.113.%d" % (20 + i), dport=443,
                       c2s=[big_client_hello(sni, 14000), 500], s2c=[3000, 200])
    pcap = os.path.join(tmp, "big-hello.pcap")
    sc.write(pcap)
    cfg = write_config(tmp, "l7", "home_net: [10.0.0.0/8]\nl7:\n  reassembly_buffers: 4\n"
                       "  reassembly_buffer_size: %s\n" % size)
    _, docs, st = run(pcap, cfg, flows=True)
    recs = flow_records(docs)
    assert len(recs) == 2
    assert st.get("anomaly.l7.reassembly_buffer_overflow", 0) == overflows, st
    assert st.get("anomaly.l7.reassembly_buffers_exhausted", 0) == 0, st
    assert st["l7.reassembly_buffers_peak"] == 1, st  # one connection at a time
    assert st.get("anomaly.tls.malformed_client_hello", 0) == 0, st
    assert sorted(sni_of(r) for r in recs if sni_of(r)) == ([] if overflows else snis)


# ---- 4. DNS names from the wire ------------------------------------------------------------

def ip_checksum(hdr):
    s = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp4_frame(src, dst, sport, dport, payload, ident):
    """Ethernet II / IPv4 (header checksum set) / UDP (checksum 0: none, RFC 768)."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ident, 0, 64, 17, 0,
                     bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
    eth = bytes.fromhex("020000000002" "020000000001") + b"\x08\x00"
    return eth + ip + udp


def dns_query(txid, qname_wire):
    """A standard query (RD set) with one question of type A, class IN."""
    return struct.pack("!HHHHHH", txid, 0x0100, 1, 0, 0, 0) + qname_wire + \
        struct.pack("!HH", 1, 1)


def labels_wire(labels):
    return b"".join(bytes([len(x)]) + x.encode() for x in labels) + b"\x00"


def test_dns_name_limits(tmp_path):
    """Queries with names at and just past the limits of RFC 1035 (2.3.4: 63 octets a
    label, 255 octets a name, i.e. 253 characters dotted) and with compression pointer
    loops. Names within the limits are read whole; each of the others is a malformed
    message (anomaly.dns.malformed) whose flow has no name, and the loops end."""
    tmp = str(tmp_path)
    at_limit = ["a" * 63, "b" * 63, "c" * 63, "d" * 61]       # 4 + 250 + 1 = 255 octets
    past_limit = ["a" * 63, "b" * 63, "c" * 63, "d" * 62]     # 256 octets
    assert len(".".join(at_limit)) == 253 and len(".".join(past_limit)) == 254
    label63 = ["x" * 63, "example", "com"]
    label64 = ["y" * 64, "example", "com"]
    queries = [
        # (source port, question name on the wire, the name egressd must give or None)
        (40001, labels_wire(at_limit), ".".join(at_limit)),
        (40002, labels_wire(past_limit), None),
        (40003, labels_wire(label63), ".".join(label63)),
        (40004, labels_wire(label64), None),
        # a pointer to itself (the question starts at offset 12)
        (40005, b"\xc0\x0c", None),
        # a label, then a pointer back to that label: a loop through one label
        (40006, b"\x01a\xc0\x0c", None),
        # a pointer forward to a pointer back to the first one
        (40007, b"\xc0\x0e\xc0\x0c", None),
        # mixed case is read lowercased; a 253-character name from 127 labels
        (40008, labels_wire(["E"] * 127), ".".join(["e"] * 127)),
    ]
    malformed = sum(1 for q in queries if q[2] is None)
    pcap = os.path.join(tmp, "dns-names.pcap")
    t0 = 1704067200 * 10**6
    with egen.PcapWriter(pcap) as w:
        for i, (sport, wire, _) in enumerate(queries):
            w.write(t0 + i * 1000, udp4_frame("10.0.0.5", "10.0.0.53", sport, 53,
                                              dns_query(0x1000 + i, wire), 100 + i))
    cfg = write_config(tmp, "dns", "home_net: [10.0.0.0/8]\n")
    _, docs, st = run(pcap, cfg, flows=True, timeout=30)
    recs = {r["source"]["port"]: r for r in flow_records(docs)}
    assert sorted(recs) == [q[0] for q in queries]
    for sport, _, name in queries:
        got = recs[sport].get("dns", {}).get("question", {}).get("name")
        assert got == name, (sport, got)
    assert st.get("anomaly.dns.malformed", 0) == malformed, st
    assert st["l7.flows.dns"] == len(queries), st


# ---- 5. the alert document --------------------------------------------------------------

def test_alert_with_longest_names(tmp_path):
    """A rule whose name is 200 bytes (the loader's limit) of characters JSON escapes,
    matched by an upload whose SNI is 253 characters (the longest DNS name): the alert
    is one line of valid JSON holding both whole, and is not cut (include/alert.h sizes
    the document for every field at its longest)."""
    tmp = str(tmp_path)
    name = '"\\\t' * 66 + "ab"                       # 200 bytes, 132 of them escaped
    assert len(name.encode()) == 200
    sni = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 57 + ".com"])
    assert len(sni) == 253
    rules = os.path.join(tmp, "rules-long.yaml")
    with open(rules, "w") as f:
        f.write("ruleset: long\nrules:\n  - id: long-name\n    name: %s\n"
                "    technique: T1048\n    severity: low\n    condition:\n"
                "      detector: volume\n      key: destination\n      window: 1h\n"
                "      bytes_out: 1MB\n" % json.dumps(name))
    pcap = os.path.join(tmp, "long.pcap")
    sc = egen.Scenario(seed=9)
    sc.tls_session("10.0.0.5", "203.0.113.50", sni, upload_bytes=3 * 10**6)
    sc.write(pcap)
    cfg = write_config(tmp, "long", "home_net: [10.0.0.0/8]\nrules: [%s]\n" % rules)
    p = fc.run(["-r", pcap, "-C", cfg, "-q"], timeout=60)
    assert p.returncode == 0, p.stderr[-3000:]
    lines = p.stdout.splitlines()
    docs = [json.loads(line) for line in lines]  # each line is one whole document
    got = [d for d in docs if d["rule"]["id"] == "long-name"]
    assert got, lines
    for d in got:
        assert d["rule"]["name"] == name
        assert d["destination"]["domain"] == sni
        assert "truncated" not in d["egressd"]
