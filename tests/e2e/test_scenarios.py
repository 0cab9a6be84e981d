"""egressd against captures written by the generator (tests/gen/egen.py), whose truth
file records what each flow carried as the packets were built."""
import json
import os
import subprocess
import sys

import pytest

import flowcmp as fc

GEN = os.path.join(fc.ROOT, "tests", "gen", "egen.py")


def generate(tmp, scenario, snaplen=None, steps=None):
    pcap = os.path.join(tmp, f"{scenario}-{snaplen}.pcap")
    truth = os.path.join(tmp, f"{scenario}-{snaplen}.json")
    cmd = [sys.executable, GEN, "-o", pcap, "--truth", truth]
    if steps is not None:
        spec = os.path.join(tmp, f"{scenario}.steps.json")
        with open(spec, "w") as f:
            json.dump(steps, f)
        cmd.append(spec)
    else:
        cmd += ["--scenario", scenario]
    if snaplen:
        cmd += ["--snaplen", str(snaplen)]
    subprocess.run(cmd, check=True)
    return pcap, json.load(open(truth))


def truth_key(t):
    proto = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}[t["transport"]]
    return (proto, t["vlan"] or 0, fc.canon_ip(t["initiator"]["ip"]),
            fc.canon_ip(t["responder"]["ip"]))


def rec_key(r):
    k = fc.key_of_record(r)
    return (k[0], k[1], k[2], k[4])


def truth_counts(t):
    return (t["c2s"]["packets"], t["c2s"]["ip_bytes"], t["s2c"]["packets"], t["s2c"]["ip_bytes"])


def by_ports(recs, t):
    """The records of truth flow t (ICMP has no ports: match on addresses)."""
    out = []
    for r in recs:
        if rec_key(r) != truth_key(t):
            continue
        if t["transport"] in ("tcp", "udp") and (
                r["source"].get("port") != t["initiator"]["port"] or
                r["destination"].get("port") != t["responder"]["port"]):
            continue
        out.append(r)
    return out


@pytest.fixture(scope="module")
def basic(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("basic"))
    pcap, truth = generate(tmp, "basic")
    p, recs = fc.flows_of(pcap)
    assert p.returncode == 0, p.stderr
    return truth, recs, p


def test_basic_every_flow_counted_exactly(basic):
    truth, recs, _ = basic
    assert len(recs) == len(truth["flows"])
    for t in truth["flows"]:
        rs = by_ports(recs, t)
        assert len(rs) == 1, (t, rs)
        r = rs[0]
        assert fc.counts_of_record(r) == truth_counts(t), t["id"]
        assert r["egressd"]["flow"]["source_payload_bytes"] == t["c2s"]["payload_bytes"], t["id"]
        assert r["egressd"]["flow"]["destination_payload_bytes"] == t["s2c"]["payload_bytes"], t["id"]


def test_basic_names(basic):
    truth, recs, _ = basic
    seen = 0
    for t in truth["flows"]:
        r = by_ports(recs, t)[0]
        l7 = t.get("l7", {})
        if "tls_sni" in l7:
            assert r["tls"]["client"]["server_name"] == l7["tls_sni"]
            assert r["destination"]["domain"] == l7["tls_sni"]
            assert r["egressd"]["tls"]["alpn"] == ",".join(l7["tls_alpn"])
            assert r["network"]["protocol"] == "tls"
            seen += 1
        if "http_host" in l7:
            assert r["url"]["domain"] == l7["http_host"]
            assert r["http"]["request"]["method"] == l7["http_method"]
            seen += 1
        if "dns_qname" in l7:
            assert r["dns"]["question"]["name"] == l7["dns_qname"]
            seen += 1
        if "ssh_client_banner" in l7:
            assert r["egressd"]["ssh"]["client"] == l7["ssh_client_banner"]
            assert r["egressd"]["ssh"]["server"] == l7["ssh_server_banner"]
            seen += 1
        if "smtp_helo" in l7:
            assert r["egressd"]["smtp"]["helo"] == l7["smtp_helo"]
            assert r["egressd"]["smtp"]["mail_from"] == l7["smtp_mail_from"]
            seen += 1
    assert seen >= 10


def test_basic_direction_vlan_and_initiator(basic):
    truth, recs, _ = basic
    for t in truth["flows"]:
        r = by_ports(recs, t)[0]
        src_internal = t["initiator"]["ip"].startswith(("10.", "2001:db8:1::"))
        if t["initiator"]["ip"].startswith("10."):
            assert r["network"]["direction"] == ("internal" if t["responder"]["ip"].startswith("10.") else "outbound")
        if t["vlan"]:
            assert r["network"]["vlan"]["id"] == str(t["vlan"])
        if t["transport"] == "tcp":
            assert r["egressd"]["flow"]["initiator"] == "syn"
        del src_internal


def test_basic_ftp_data_tied_to_control(basic):
    truth, recs, _ = basic
    byid = {t["id"]: t for t in truth["flows"]}
    n = 0
    for t in truth["flows"]:
        if t["kind"] != "ftp-data":
            continue
        data = by_ports(recs, t)[0]
        ctrl = by_ports(recs, byid[t["l7"]["ftp_control_flow"]])[0]
        assert data["egressd"]["flow"]["parent_id"] == ctrl["egressd"]["flow"]["id"]
        assert data["network"]["protocol"] == "ftp-data"
        assert ctrl["egressd"]["ftp"]["user"] == byid[t["l7"]["ftp_control_flow"]]["l7"]["ftp_user"]
        n += 1
    assert n == 2  # one passive (PASV) over IPv4, one active (EPRT) over IPv6


def test_dns_answer_names_later_flow(tmp_path):
    # the resolver says exfil.example.net is 198.51.100.77; a later TLS flow to that
    # address without SNI (split hello is not needed) carries the name from DNS
    steps = [
        {"kind": "dns", "client": "10.0.0.5", "resolver": "10.0.0.53",
         "qname": "files.example.net", "answers": ["198.51.100.77"], "ttl": 300},
        {"kind": "tcp", "client": "10.0.0.5", "server": "198.51.100.77", "dport": 8443,
         "c2s": [5000], "s2c": [100]},
    ]
    pcap, truth = generate(str(tmp_path), "dnsname", steps=steps)
    _, recs = fc.flows_of(pcap)
    tcp = [r for r in recs if r["network"]["transport"] == "tcp"]
    assert len(tcp) == 1
    assert tcp[0]["destination"]["domain"] == "files.example.net"
    assert tcp[0]["egressd"]["dns"]["resolved_name"] == "files.example.net"


@pytest.mark.parametrize("scenario", ["ftp-active", "ftp-passive", "tls-split-hello", "fragments"])
def test_named_scenarios(tmp_path, scenario):
    pcap, truth = generate(str(tmp_path), scenario)
    p, recs = fc.flows_of(pcap)
    assert p.returncode == 0, p.stderr
    assert len(recs) == len(truth["flows"])
    for t in truth["flows"]:
        rs = by_ports(recs, t)
        assert len(rs) == 1, t
        assert fc.counts_of_record(rs[0]) == truth_counts(t), t
        if "tls_sni" in t.get("l7", {}):
            assert rs[0]["tls"]["client"]["server_name"] == t["l7"]["tls_sni"]
        if t["kind"] == "ftp-data":
            assert "parent_id" in rs[0]["egressd"]["flow"]


def test_snaplen_counts_real_volume(tmp_path):
    # snaplen 96 keeps every header of the basic scenario (Ethernet + IPv6 + TCP is 74
    # bytes): counts must equal the full capture's, although most bytes were not captured
    pcap, truth = generate(str(tmp_path), "basic", snaplen=96)
    p, recs = fc.flows_of(pcap)
    full = sum(t["c2s"]["ip_bytes"] + t["s2c"]["ip_bytes"] for t in truth["flows"])
    assert "capture.wire_bytes" in p.stderr
    assert len(recs) == len(truth["flows"])
    assert sum(r["network"]["bytes"] for r in recs) == full
    for t in truth["flows"]:
        assert fc.counts_of_record(by_ports(recs, t)[0]) == truth_counts(t)


def test_snaplen_64_loses_only_what_it_must(tmp_path):
    # at 64 bytes, IPv6 TCP headers (Ethernet 14 + IPv6 40 + TCP 20) are cut: those
    # packets are counted as tcp.truncated; every IPv4 flow is still exact
    pcap, truth = generate(str(tmp_path), "basic", snaplen=64)
    p, recs = fc.flows_of(pcap)
    assert p.returncode == 0
    assert "anomaly.tcp.truncated" in p.stderr
    for t in truth["flows"]:
        if ":" in t["initiator"]["ip"] or t["vlan"]:
            continue
        rs = by_ports(recs, t)
        assert len(rs) == 1 and fc.counts_of_record(rs[0]) == truth_counts(t), t


def test_generator_deterministic_flows(tmp_path):
    a, _ = generate(str(tmp_path), "basic")
    _, r1 = fc.flows_of(a)
    _, r2 = fc.flows_of(a)
    assert r1 == r2
