"""Shared helpers for the end-to-end tests: run egressd, read its flow records, and put
them in the same shape as the tshark-derived expectations in tests/expected/."""
import ipaddress
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EGRESSD = os.environ.get("EGRESSD", os.path.join(ROOT, "build", "egressd"))


GEN = os.path.join(ROOT, "tests", "gen", "egen.py")


def generate(workdir, name, steps, snaplen=None, seed=None):
    """egen a step list (or scenario object) into workdir/name.pcap; returns
    (pcap path, truth dict)."""
    spec = os.path.join(workdir, name + ".json")
    with open(spec, "w") as f:
        json.dump(steps, f)
    pcap = os.path.join(workdir, name + ".pcap")
    truth = os.path.join(workdir, name + ".truth.json")
    cmd = [sys.executable, GEN, spec, "-o", pcap, "--truth", truth]
    if snaplen:
        cmd += ["--snaplen", str(snaplen)]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    subprocess.run(cmd, check=True)
    with open(truth) as f:
        return pcap, json.load(f)


def is_sanitized(path):
    """True if the binary was linked with AddressSanitizer (build/asan/egressd)."""
    try:
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def run(args, **kw):
    """Run egressd with args; returns the CompletedProcess (text mode)."""
    return subprocess.run([EGRESSD] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, errors="strict", **kw)


def stats_of(text):
    """The --stats lines ("name value") of egressd's standard error as a dict; anomalies
    that never happened are not printed, so a missing anomaly.* reads as 0 via .get."""
    st = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            st[parts[0]] = int(parts[1])
    return st


def flows_of(capture, extra=()):
    """Flow records of a capture, parsed, plus the stats text."""
    p = run(["-r", capture, "--flows", "--stats", "-q"] + list(extra))
    docs = [json.loads(line) for line in p.stdout.splitlines()]
    recs = [d for d in docs if d["event"].get("dataset") == "egressd.flow"]
    return p, recs


def alerts_of(capture, extra=()):
    """Alerts (and alert updates) of a capture, parsed, plus the process."""
    p = run(["-r", capture, "--stats", "-q"] + list(extra))
    docs = [json.loads(line) for line in p.stdout.splitlines()]
    return p, [d for d in docs if d["event"]["kind"] == "alert"]


def canon_ip(s):
    return str(ipaddress.ip_address(s))


def key_of_record(r):
    """(proto, vlan, orig ip, orig port, resp ip, resp port) of a flow record; ICMP
    ports are (request type, code) as in the expectations."""
    proto = int(r["network"]["iana_number"])
    vlan = int(r["network"].get("vlan", {}).get("id", 0))
    f = r["egressd"]["flow"]
    if "icmp" in f:
        sp, dp = f["icmp"]["type"], f["icmp"]["code"]
    else:
        sp, dp = r["source"].get("port", 0), r["destination"].get("port", 0)
    return (proto, vlan, canon_ip(r["source"]["ip"]), sp, canon_ip(r["destination"]["ip"]), dp)


def key_of_expected(e):
    return (e["proto"], e["vlan"], canon_ip(e["orig_ip"]), e["orig_port"] or 0,
            canon_ip(e["resp_ip"]), e["resp_port"] or 0)


def counts_of_record(r):
    return (r["source"]["packets"], r["source"]["bytes"],
            r["destination"]["packets"], r["destination"]["bytes"])


def counts_of_expected(e):
    return (e["orig_pkts"], e["orig_ip_bytes"], e["resp_pkts"], e["resp_ip_bytes"])


def group(items, keyf):
    out = {}
    for it in items:
        out.setdefault(keyf(it), []).append(it)
    return out
