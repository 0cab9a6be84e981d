"""Detection end to end: generator scenarios for each technique the default rule packs
cover, with the volumes in alerts checked against the generator's truth, and benign
look-alikes that must stay silent."""
import collections
import os
import random
import re

import pytest

import flowcmp as fc

HOST = "10.0.0.5"


generate = fc.generate


def run_alerts(pcap, tmp, config="home_net: [10.0.0.0/8]\n", extra=()):
    cfg = os.path.join(tmp, "sensor.yaml")
    with open(cfg, "w") as f:
        f.write(config)
    p, alerts = fc.alerts_of(pcap, ["-C", cfg] + list(extra))
    assert p.returncode == 0, p.stderr
    return alerts


def final(alerts, rule_id):
    """The last word on a rule's alert: its latest update, or the alert itself."""
    first = [a for a in alerts if a["rule"]["id"] == rule_id and "update_of" not in a["egressd"]]
    assert len(first) == 1, [a["rule"]["id"] for a in alerts]
    ups = [a for a in alerts if a["egressd"].get("update_of") == first[0]["event"]["id"]]
    return first[0], (ups[-1] if ups else first[0])


def egress(truth, host=HOST):
    """IP bytes the internal host sent over all flows of the truth file."""
    n = 0
    for f in truth["flows"]:
        if f["initiator"]["ip"] == host:
            n += f["c2s"]["ip_bytes"]
        elif f["responder"]["ip"] == host:
            n += f["s2c"]["ip_bytes"]
    return n


def check(tmp, name, steps, rule_id, technique, subtechnique=None, flows=None):
    pcap, truth = generate(tmp, name, steps)
    alerts = run_alerts(pcap, tmp)
    first, last = final(alerts, rule_id)
    assert first["threat"]["technique"]["id"] == [technique]
    if subtechnique:
        assert first["threat"]["technique"]["subtechnique"]["id"] == [subtechnique]
    assert first["threat"]["tactic"]["id"] == ["TA0010"]
    assert first["source"]["ip"] == HOST
    assert first["network"]["direction"] == "outbound"
    assert first["observer"]["product"] == "egressd"
    sel = [f for f in truth["flows"] if flows is None or f["kind"] in flows]
    assert last["source"]["bytes"] == egress({"flows": sel})
    return first, last, alerts


# ---- techniques ----

def test_t1567_002_cloud_storage(tmp_path):
    first, last, _ = check(str(tmp_path), "cloud", [
        {"kind": "tls", "client": HOST, "server": "162.125.1.1", "sni": "www.dropbox.com",
         "upload": "30MB", "download": "200KB"}],
        "t1567.002-cloud-storage-new", "T1567", "T1567.002")
    assert first["egressd"]["category"] == "cloud_storage"
    assert first["egressd"]["new_destination"] is True
    assert first["destination"]["domain"] == "www.dropbox.com"
    assert first["source"]["bytes"] >= 20_000_000  # fired while the upload went on


def test_t1567_003_paste(tmp_path):
    check(str(tmp_path), "paste", [
        {"kind": "tls", "client": HOST, "server": "104.20.1.1", "sni": "pastebin.com",
         "upload": "2MB"}], "t1567.003-paste-upload", "T1567", "T1567.003")


def test_t1567_004_webhook(tmp_path):
    check(str(tmp_path), "webhook", [
        {"kind": "tls", "client": HOST, "server": "162.159.1.1", "sni": "discord.com",
         "upload": "6MB"}], "t1567.004-webhook-upload", "T1567", "T1567.004")


def test_t1567_001_code_repository(tmp_path):
    check(str(tmp_path), "code", [
        {"kind": "tls", "client": HOST, "server": "140.82.1.1", "sni": "github.com",
         "upload": "12MB"}], "t1567.001-code-repository-new", "T1567", "T1567.001")


def test_file_drop(tmp_path):
    check(str(tmp_path), "drop", [
        {"kind": "http", "client": HOST, "server": "144.76.1.1", "method": "PUT",
         "host": "transfer.sh", "path": "/loot.zip", "body_bytes": "12MB"}],
        "t1567-file-drop-upload", "T1567")


def test_tunnel_service(tmp_path):
    check(str(tmp_path), "ngrok", [
        {"kind": "tls", "client": HOST, "server": "3.125.1.1", "sni": "a1b2c3d4.ngrok-free.app",
         "upload": "12MB"}], "t1567-tunnel-service-upload", "T1567")


def test_t1537_foreign_tenant_not_own(tmp_path):
    steps = [
        {"kind": "tls", "client": HOST, "server": "52.216.1.1",
         "sni": "evil-drop.s3.us-east-1.amazonaws.com", "upload": "15MB"},
        {"kind": "tls", "client": HOST, "server": "52.216.1.2",
         "sni": "corp-logs.s3.amazonaws.com", "upload": "15MB"},
    ]
    pcap, truth = generate(str(tmp_path), "tenant", steps)
    cfg = ("home_net: [10.0.0.0/8]\nallowlist: {domains: [amazonaws.com]}\n"
           "cloud: {own_tenants: [corp-logs.s3.amazonaws.com]}\n")
    alerts = run_alerts(pcap, str(tmp_path), cfg)
    first, last = final(alerts, "t1537-foreign-tenant-upload")
    assert first["egressd"]["cloud"]["tenant"] == "s3:evil-drop"
    assert first["threat"]["technique"]["id"] == ["T1537"]
    assert last["source"]["bytes"] == truth["flows"][0]["c2s"]["ip_bytes"]
    # the own tenant raises nothing, and the allow-listed provider hid nothing else
    assert {a["egressd"].get("cloud", {}).get("tenant") for a in alerts} == {"s3:evil-drop"}


def test_t1048_ssh(tmp_path):
    check(str(tmp_path), "ssh", [
        {"kind": "ssh", "client": HOST, "server": "192.0.2.22", "upload_bytes": "30MB",
         "download_bytes": "100KB"}], "t1048.002-ssh-upload-new", "T1048", "T1048.002")


@pytest.mark.parametrize("mode", ["active", "passive"])
def test_t1048_ftp(tmp_path, mode):
    # active mode: the server opens the data connection from outside, the bytes go out
    first, last, _ = check(str(tmp_path), "ftp-" + mode, [
        {"kind": "ftp", "client": HOST, "server": "198.51.100.21", "mode": mode,
         "upload_bytes": "12MB"}], "t1048.003-ftp-upload", "T1048", "T1048.003",
        flows={"ftp-data"})
    assert first["network"]["protocol"] == "ftp-data"


def test_t1048_smtp(tmp_path):
    check(str(tmp_path), "smtp", [
        {"kind": "smtp", "client": HOST, "server": "192.0.2.25", "body_bytes": "55MB"}],
        "t1048.003-smtp-upload", "T1048", "T1048.003")


def test_t1048_http_post_new(tmp_path):
    check(str(tmp_path), "http", [
        {"kind": "http", "client": HOST, "server": "203.0.113.80", "method": "POST",
         "host": "collect.example.net", "path": "/u", "body_bytes": "55MB"}],
        "t1048.003-http-upload-new", "T1048", "T1048.003")


def _b32(rng, n):
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(n))


def test_t1048_dns_tunnel_through_internal_resolver(tmp_path):
    rng = random.Random(7)
    steps = [{"kind": "dns", "client": HOST, "resolver": "10.0.0.53",
              "qname": f"{_b32(rng, 50)}.{_b32(rng, 40)}.t.exfil-tunnel.org", "qtype": "TXT",
              "txt": ["ok"]} for _ in range(120)]
    pcap, _ = generate(str(tmp_path), "dnstun", steps)
    alerts = run_alerts(pcap, str(tmp_path))
    hits = [a for a in alerts if a["rule"]["id"] == "t1048.003-dns-tunnel"]
    assert len(hits) == 1
    a = hits[0]
    assert a["destination"]["registered_domain"] == "exfil-tunnel.org"
    assert a["egressd"]["dns"]["unique_names"] >= 30
    assert a["egressd"]["dns"]["mean_entropy"] > 3.3


def test_t1048_icmp_tunnel(tmp_path):
    steps = [{"kind": "icmp", "src": HOST, "dst": "198.51.100.99", "count": 100,
              "payload_size": 1000, "interval": "100ms", "random_payload": True}]
    pcap, _ = generate(str(tmp_path), "icmptun", steps)
    alerts = run_alerts(pcap, str(tmp_path))
    if not alerts:
        pytest.fail("no alert: the generator's echo payloads may repeat; see egressd.icmp")
    assert {a["rule"]["id"] for a in alerts} == {"t1048.003-icmp-tunnel"}


def test_burst_to_new_destination(tmp_path):
    # 150 MB in 4 minutes to a destination never seen before (no category): 30
    # connections of 5 MB, one every 8 seconds
    first, last, _ = check(str(tmp_path), "burst", [
        {"kind": "tls", "client": HOST, "server": "203.0.113.45", "sni": "upload.unknown.example",
         "upload": "5MB", "at": f"{8 * i}s"} for i in range(30)],
        "generic-new-destination-burst", "T1048")
    assert first["source"]["bytes"] >= 100_000_000
    assert last["egressd"]["flows"] == 30
    assert last["event"]["end"] > first["event"]["start"]


def test_unusual_port_upload(tmp_path):
    check(str(tmp_path), "port", [
        {"kind": "tcp", "client": HOST, "server": "198.51.100.7", "dport": 4444,
         "c2s": [60_000_000], "s2c": [1000]}],
        "t1048-unusual-port-upload", "T1048")


def test_slow_drip_caught(tmp_path):
    # 2 MB every 5 minutes for 12 hours to one new destination: 288 MB, never more than
    # 24 MB in any hour, caught by the 24-hour rule
    steps = [{"kind": "tls", "client": HOST, "server": "203.0.113.44", "sni": "sync.drip.example",
              "upload": "2MB", "at": f"{i * 5}m"} for i in range(144)]
    pcap, truth = generate(str(tmp_path), "drip", steps)
    alerts = run_alerts(pcap, str(tmp_path))
    first, last = final(alerts, "generic-new-destination-drip")
    assert first["source"]["bytes"] >= 200_000_000
    assert last["source"]["bytes"] == egress(truth)
    assert not [a for a in alerts if a["rule"]["id"] == "generic-new-destination-burst"]


# ---- look-alikes that must stay silent ----

def test_silent_lookalikes(tmp_path):
    rng = random.Random(3)
    steps = [
        # a host downloading hundreds of MB from cloud storage
        {"kind": "tls", "client": HOST, "server": "162.125.1.1", "sni": "www.dropbox.com",
         "upload": "100KB", "download": "300MB"},
        # a large copy between two internal hosts
        {"kind": "ssh", "client": "10.0.0.7", "server": "10.0.0.9", "upload_bytes": "300MB",
         "download_bytes": "1MB"},
        # ordinary pings
        {"kind": "icmp", "src": HOST, "dst": "8.8.8.8", "count": 100, "payload_size": 56},
    ]
    # a host visiting hundreds of new sites with small uploads
    steps += [{"kind": "tls", "client": HOST, "server": f"198.18.{i // 250}.{i % 250 + 1}",
               "sni": f"site{i}.example.com", "upload": "20KB", "download": "200KB"}
              for i in range(300)]
    # thousands of ordinary DNS queries
    names = [f"www.{w}.com" for w in ("google", "microsoft", "apple", "amazon", "github",
                                      "wikipedia", "slack", "zoom", "office", "linkedin")]
    steps += [{"kind": "dns", "client": HOST, "resolver": "10.0.0.53",
               "qname": rng.choice(names), "answers": ["198.51.100.1"]} for _ in range(2000)]
    pcap, _ = generate(str(tmp_path), "benign", steps)
    alerts = run_alerts(pcap, str(tmp_path))
    assert alerts == []


def test_known_destination_from_learning_is_silent(tmp_path):
    # learning for the first hour: the destination is used then; the big upload two hours
    # later goes to a known destination, so the new-destination rules stay silent
    steps = [
        {"kind": "tls", "client": HOST, "server": "203.0.113.70", "sni": "backup.partner.example",
         "upload": "1MB", "at": "0s"},
        {"kind": "tls", "client": HOST, "server": "203.0.113.70", "sni": "backup.partner.example",
         "upload": "250MB", "at": "2h"},
    ]
    pcap, _ = generate(str(tmp_path), "daily", steps)
    learn = "home_net: [10.0.0.0/8]\nlearning_period: 1h\n"
    assert run_alerts(pcap, str(tmp_path), learn) == []
    # without learning the same upload is new, and alerts
    alerts = run_alerts(pcap, str(tmp_path))
    assert any(a["rule"]["id"] == "generic-new-destination-burst" for a in alerts)


def test_restart_with_persisted_baseline_does_not_realert(tmp_path):
    tmp = str(tmp_path)
    base = os.path.join(tmp, "baseline.db")
    cfg = f"home_net: [10.0.0.0/8]\nbaseline: {{path: {base}, new_for: 1h}}\n"
    a, _ = generate(tmp, "day1", [
        {"kind": "tls", "client": HOST, "server": "203.0.113.71", "sni": "files.partner.example",
         "upload": "1MB"}])
    b, _ = generate(tmp, "day2", [
        {"kind": "tls", "client": HOST, "server": "203.0.113.71", "sni": "files.partner.example",
         "upload": "250MB", "at": "3h"}])
    # a fresh sensor sees day 2's upload as new
    assert any(x["rule"]["id"] == "generic-new-destination-burst"
               for x in run_alerts(b, tmp, "home_net: [10.0.0.0/8]\nbaseline: {new_for: 1h}\n"))
    # day 1 seeds the baseline (a learn-only run), day 2 after a restart: known, silent
    assert run_alerts(a, tmp, cfg, ["--learn-only"]) == []
    assert os.path.getsize(base) > 0
    assert run_alerts(b, tmp, cfg) == []


def test_alert_ids_deterministic(tmp_path):
    pcap, _ = generate(str(tmp_path), "det", [
        {"kind": "tls", "client": HOST, "server": "162.125.1.1", "sni": "www.dropbox.com",
         "upload": "25MB"}])
    one = run_alerts(pcap, str(tmp_path))
    two = run_alerts(pcap, str(tmp_path))
    assert [a["event"]["id"] for a in one] == [a["event"]["id"] for a in two]
    assert one and len({a["event"]["id"] for a in one}) == len(one)


def test_corrupt_baseline_set_aside(tmp_path):
    base = tmp_path / "baseline.db"
    base.write_bytes(b"this is not a baseline")
    cfg = tmp_path / "s.yaml"
    cfg.write_text(f"baseline: {{path: {base}}}\n")
    p = fc.run(["-r", os.path.join(fc.ROOT, "pcaps", "zeek", "wikipedia.pcap"), "-C", str(cfg)])
    assert p.returncode == 0
    assert "corrupt" in p.stderr and str(base) in p.stderr
    assert any(n.startswith("baseline.db.corrupt-") for n in os.listdir(tmp_path))
    assert base.exists()  # a new one was saved at exit


# ---- bounds ----

def test_alert_rate_per_source_and_per_rule(tmp_path):
    # 8 uploads of 60 MB to distinct servers on port 4444 from one host and 6 from
    # another, all within the same minute: 14 alerts of t1048-unusual-port-upload
    steps = [{"kind": "tcp", "client": "10.0.0.5", "server": "198.51.100.%d" % (10 + i),
              "dport": 4444, "c2s": [60_000_000], "s2c": [1000], "at": "%ds" % i}
             for i in range(8)]
    steps += [{"kind": "tcp", "client": "10.0.0.6", "server": "198.51.100.%d" % (40 + i),
               "dport": 4444, "c2s": [60_000_000], "s2c": [1000], "at": "%ds" % i}
              for i in range(6)]
    pcap, _ = generate(str(tmp_path), "rate", steps)

    def raised(limits):
        cfg = tmp_path / "rate.yaml"
        cfg.write_text("home_net: [10.0.0.0/8]\ndetection:\n" + limits)
        p, alerts = fc.alerts_of(pcap, ["-C", str(cfg), "--stats"])
        assert p.returncode == 0, p.stderr
        held = int(re.search(r"detect\.alerts_rate_limited\s+(\d+)", p.stderr).group(1))
        first = [a for a in alerts if "update_of" not in a["egressd"]]
        assert {a["rule"]["id"] for a in first} <= {"t1048-unusual-port-upload"}
        return collections.Counter(a["source"]["ip"] for a in first), held

    free, held = raised("  source_alerts_per_minute: 0\n  rule_alerts_per_minute: 0\n")
    assert free == {"10.0.0.5": 8, "10.0.0.6": 6} and held == 0
    per_src, held = raised("  source_alerts_per_minute: 3\n  rule_alerts_per_minute: 0\n")
    assert per_src == {"10.0.0.5": 3, "10.0.0.6": 3} and held == 14 - 6
    per_rule, held = raised("  source_alerts_per_minute: 0\n  rule_alerts_per_minute: 4\n")
    assert sum(per_rule.values()) == 4 and held == 14 - 4
    # the defaults (120 per rule, 30 per source) let all of these through
    dflt, held = raised("  checkpoint: 64KiB\n")
    assert dflt == free and held == 0
