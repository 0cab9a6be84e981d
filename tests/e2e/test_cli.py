"""The command line: inputs, outputs, filters, configuration errors, exit codes, stats."""
import json
import os
import subprocess

import flowcmp as fc

PCAPS = os.path.join(fc.ROOT, "pcaps")
WIKI = os.path.join(PCAPS, "zeek", "wikipedia.pcap")
SSH = os.path.join(PCAPS, "zeek", "ssh", "ssh.pcap")


stats = fc.stats_of


def test_version_and_help():
    p = fc.run(["-V"])
    assert p.returncode == 0 and p.stdout.startswith("egressd ")
    p = fc.run(["--help"])
    assert p.returncode == 0 and "-r FILE" in p.stdout


def test_usage_errors_exit_64():
    assert fc.run([]).returncode == 64
    assert fc.run(["--no-such-flag"]).returncode == 64
    assert fc.run(["-r", WIKI, "stray"]).returncode == 64
    p = fc.run(["-r", WIKI, "--home-net", "10.0.0.0/33"])
    assert p.returncode == 64 and "10.0.0.0/33" in p.stderr


def test_missing_or_bad_input_exit_66(tmp_path):
    p = fc.run(["-r", str(tmp_path / "nope.pcap")])
    assert p.returncode == 66 and "nope.pcap" in p.stderr
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"this is not a capture file at all")
    p = fc.run(["-r", str(junk)])
    assert p.returncode == 66 and "junk.pcap" in p.stderr


def test_bad_filter_exit_64():
    p = fc.run(["-r", WIKI, "-F", "tcp and and"])
    assert p.returncode == 64 and "filter" in p.stderr


def test_filter_applies():
    # tshark: wikipedia.pcap has 4 TCP conversations with port 80 (conv,tcp)
    _, recs = fc.flows_of(WIKI, ["-F", "tcp port 80"])
    assert {r["network"]["transport"] for r in recs} == {"tcp"}
    assert all(80 in (r["source"].get("port"), r["destination"].get("port")) for r in recs)


def test_stdin_and_several_files_one_timeline():
    with open(WIKI, "rb") as f:
        p = subprocess.run([fc.EGRESSD, "-r", "-", "--flows"], stdin=f, stdout=subprocess.PIPE)
    assert p.returncode == 0
    one = [json.loads(l) for l in p.stdout.splitlines()]
    _, direct = fc.flows_of(WIKI)
    assert len(one) == len(direct) == 34
    # the same file twice: 2011 timestamps again after the end of the first pass go
    # back in time, so they are counted and accounted at the current packet time
    p, two = fc.flows_of(WIKI, ["-r", WIKI])
    st = stats(p.stderr)
    assert st["capture.files"] == 2
    assert st["capture.packets"] == 2 * 136  # capinfos: 136 packets
    assert sum(r["network"]["packets"] for r in two) == 2 * sum(r["network"]["packets"] for r in one)


def test_file_output(tmp_path):
    out = tmp_path / "flows.json"
    p = fc.run(["-r", WIKI, "--flows", "-o", f"file:{out}", "-q"])
    assert p.returncode == 0 and p.stdout == ""
    lines = out.read_text().splitlines()
    assert len(lines) == 34
    p = fc.run(["-r", WIKI, "--flows", "-o", f"file:{out}", "-o", "stdout", "-q"])
    assert len(out.read_text().splitlines()) == 68  # appended
    assert len(p.stdout.splitlines()) == 34
    p = fc.run(["-r", WIKI, "-o", "file:/nonexistent-dir/x.json"])
    assert p.returncode == 78 and "/nonexistent-dir/x.json" in p.stderr


def test_config_errors_name_file_line_col(tmp_path):
    cfg = tmp_path / "sensor.yaml"
    cfg.write_text("sensor_name: s1\n"
                   "home_net: [10.0.0.0/8, 300.1.2.3/8]\n"
                   "flows:\n"
                   "  max_flows: lots\n"
                   "  tcp_timeout: 5 minutes\n"
                   "  colour: blue\n"
                   "outputs: [carrier-pigeon]\n")
    p = fc.run(["-T", "-C", str(cfg)])
    assert p.returncode == 78
    err = p.stderr
    assert f"{cfg}:2:24: home_net: '300.1.2.3/8'" in err
    assert f"{cfg}:4:14: flows.max_flows: 'lots' is not a whole number" in err
    assert f"{cfg}:5:16: flows.tcp_timeout: '5 minutes'" in err
    assert f"{cfg}:6:3: unknown key 'flows.colour'" in err
    assert f"{cfg}:7:11: outputs:" in err
    assert "5 problems" in err


def test_config_yaml_syntax_and_range(tmp_path):
    cfg = tmp_path / "s.yaml"
    cfg.write_text("flows: {max_flows: 0}\n")
    p = fc.run(["-T", "-C", str(cfg)])
    assert p.returncode == 78 and "out of range" in p.stderr
    cfg.write_text("flows: [unclosed\n")
    p = fc.run(["-T", "-C", str(cfg)])
    assert p.returncode == 78 and "YAML syntax" in p.stderr and str(cfg) in p.stderr
    p = fc.run(["-T", "-C", str(tmp_path / "absent.yaml")])
    assert p.returncode == 78 and "absent.yaml" in p.stderr


def test_dotted_key_at_top_level_is_unknown(tmp_path):
    cfg = tmp_path / "s.yaml"
    cfg.write_text("flows.max_flows: 10\n")
    p = fc.run(["-T", "-C", str(cfg)])
    assert p.returncode == 78 and f"{cfg}:1:1: unknown key 'flows.max_flows'" in p.stderr


def test_example_config_is_valid():
    p = fc.run(["-T", "-C", os.path.join(fc.ROOT, "sensor.yaml.example")])
    assert p.returncode == 0, p.stderr


def test_config_values_apply(tmp_path):
    # a 1-flow table: every new flow evicts the previous one; the records still add up
    cfg = tmp_path / "s.yaml"
    cfg.write_text("sensor_name: edge-7\nflows: {max_flows: 1}\n")
    p, recs = fc.flows_of(WIKI, ["-C", str(cfg)])
    st = stats(p.stderr)
    assert st["flows.evicted"] > 0
    assert st["flows.peak_active"] == 1
    assert {r["observer"]["name"] for r in recs} == {"edge-7"}
    assert sum(r["network"]["packets"] for r in recs) == st["packets.decoded_layers"]


def test_udp_idle_timeout_splits(tmp_path):
    cfg = tmp_path / "s.yaml"
    cfg.write_text("flows: {udp_timeout: 1s}\n")
    # pcapng-multi-interface: DNS from 172.17.0.2 at 01:31:29 and 01:37:17 (tcpdump)
    cap = os.path.join(PCAPS, "zeek", "pcapng-multi-interface.pcapng")
    p, recs = fc.flows_of(cap, ["-C", str(cfg)])
    assert stats(p.stderr)["flows.ended.idle"] >= 1


def test_truncated_headers_are_named_anomalies():
    # tcpdump -v on each file reports the damaged header named here
    cases = {
        "zeek/trunc/ip4-trunc.pcap": "anomaly.ipv4.truncated",
        "zeek/trunc/ip6-trunc.pcap": "anomaly.ipv6.truncated",
        "zeek/trunc/trunc-hdr.pcap": "anomaly.link.truncated",
        "zeek/trunc/ipv4-truncated-broken-header.pcap": "anomaly.ipv4.invalid_total_length",
    }
    for cap, name in cases.items():
        p, recs = fc.flows_of(os.path.join(PCAPS, cap))
        assert p.returncode == 0
        assert stats(p.stderr).get(name) == 1, (cap, p.stderr)


def test_damaged_file_processes_what_came_before(tmp_path):
    data = open(SSH, "rb").read()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) // 2])
    p, recs = fc.flows_of(str(cut))
    assert p.returncode == 65
    assert "cut.pcap" in p.stderr
    assert stats(p.stderr)["capture.packets"] > 100
    assert len(recs) > 0


def test_missing_syn_initiator_documented_rule():
    # zeek/tcp/missing-syn.pcap starts with the server's SYN+ACK (tcpdump: first packet
    # 125.190.109.199.80 > 141.42.64.125.56730 Flags [S.]): its receiver opened the flow
    _, recs = fc.flows_of(os.path.join(PCAPS, "zeek", "tcp", "missing-syn.pcap"))
    assert len(recs) == 1
    r = recs[0]
    assert r["egressd"]["flow"]["initiator"] == "syn_ack"
    assert (r["source"]["ip"], r["source"]["port"]) == ("141.42.64.125", 56730)
    assert (r["destination"]["ip"], r["destination"]["port"]) == ("125.190.109.199", 80)


def test_mid_stream_flow_uses_service_port(tmp_path):
    # drop the first two packets (SYN+ACK and the ACK) of missing-syn.pcap with a filter on
    # TCP flags: what is left starts mid-stream; port 80 marks the responder
    cap = os.path.join(PCAPS, "zeek", "tcp", "missing-syn.pcap")
    _, recs = fc.flows_of(cap, ["-F", "tcp[tcpflags] & tcp-push != 0"])
    assert len(recs) == 1
    r = recs[0]
    assert r["egressd"]["flow"]["initiator"] == "service_port"
    assert r["destination"]["port"] == 80


def test_config_deep_nesting_rejected_fast(tmp_path):
    # libyaml is quadratic on deep nesting: the check must stop early
    import time
    cfg = tmp_path / "deep.yaml"
    cfg.write_text("a: " + "[" * 200000 + "\n")
    t = time.monotonic()
    p = fc.run(["-T", "-C", str(cfg)])
    assert time.monotonic() - t < 5
    assert p.returncode == 78 and f"{cfg}:1:19: nested deeper than 16 levels" in p.stderr


def test_config_aliases_refused(tmp_path):
    cfg = tmp_path / "alias.yaml"
    cfg.write_text("home_net: &n [10.0.0.0/8]\nallowlist: {cidrs: *n}\n")
    p = fc.run(["-T", "-C", str(cfg)])
    assert p.returncode == 78 and f"{cfg}:2:20: aliases are not allowed" in p.stderr
