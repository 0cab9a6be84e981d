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
import resource
import struct
import subprocess
import sys

import pytest

import flowcmp as fc

GEN = os.path.join(fc.ROOT, "tests", "gen", "egen.py")
sys.path.insert(0, os.path.dirname(GEN))
import egen  # noqa: E402

EXFIL_RULE = "t1567.002-cloud-storage-new"  # tests/bench/run-bench checks the same alert


def is_sanitized(path):
    """True if the binary was linked with AddressSanitizer (build/asan/egressd)."""
    try:
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


ASAN = is_sanitized(fc.EGRESSD)


def stats_of(text):
    """The --stats lines ("name value") as a dict; anomalies that never happened are
    not printed, so a missing anomaly.* name reads as 0 through .get(name, 0)."""
    st = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            st[parts[0]] = int(parts[1])
    return st


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
    """200k spoofed SYNs, each its own flow, into a table of 20000: the table stays at
    20000, the rest is evicted and counted, the 30 MB upload to Dropbox in the middle of
    the flood still raises its alert, and peak RSS is what the flood-free capture needs
    plus at most a full table's worth."""
    tmp = str(tmp_path)
    pcap, truth = bench_capture(tmp, "synflood", 0.2)
    syns = truth["flows_by_kind"]["syn-flood"]["flows"]
    assert syns == 200000
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
