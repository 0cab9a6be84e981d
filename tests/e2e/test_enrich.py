"""Destination enrichment in flow records: registered domain (public suffix list),
category lists, cloud tenants and the organisation's own, allowlists, country and AS
(MaxMind's test databases; expected values from their JSON sources)."""
import json
import os
import subprocess
import sys

import pytest

import flowcmp as fc

GEN = os.path.join(fc.ROOT, "tests", "gen", "egen.py")
GEO = os.path.join(fc.ROOT, "tests", "data", "geoip")

CONFIG = f"""
home_net: [10.0.0.0/8]
allowlist:
  domains: [backup.example.com, amazonaws.com]
  cidrs: [203.0.113.0/24]
cloud:
  own_tenants: [corp-logs.s3.amazonaws.com]
geoip:
  country: {GEO}/GeoLite2-Country-Test.mmdb
  asn: {GEO}/GeoLite2-ASN-Test.mmdb
"""

STEPS = [
    {"kind": "tls", "client": "10.0.0.5", "server": "162.125.1.1", "sni": "www.dropbox.com",
     "upload": 20000},
    {"kind": "tls", "client": "10.0.0.5", "server": "52.216.1.1",
     "sni": "evil-drop.s3.us-east-1.amazonaws.com", "upload": 20000},
    {"kind": "tls", "client": "10.0.0.5", "server": "52.216.1.2",
     "sni": "corp-logs.s3.amazonaws.com", "upload": 20000},
    {"kind": "tls", "client": "10.0.0.5", "server": "198.51.100.20",
     "sni": "files.backup.example.com", "upload": 1000},
    {"kind": "tls", "client": "10.0.0.5", "server": "203.0.113.9", "sni": "cdn.example.org",
     "upload": 1000},
    # GeoLite2-ASN-Test.json: 1.0.0.0/24 is AS15169 "Google Inc."
    {"kind": "tls", "client": "10.0.0.5", "server": "1.0.0.1", "sni": "one.example.net",
     "upload": 1000},
    # GeoLite2-Country-Test.json: 67.43.156.0/24 is BT
    {"kind": "tls", "client": "10.0.0.5", "server": "67.43.156.1", "sni": "bt.example.co.uk",
     "upload": 1000},
]


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("enrich")
    spec = tmp / "steps.json"
    spec.write_text(json.dumps(STEPS))
    pcap = tmp / "e.pcap"
    subprocess.run([sys.executable, GEN, str(spec), "-o", str(pcap)], check=True)
    cfg = tmp / "sensor.yaml"
    cfg.write_text(CONFIG)
    p, recs = fc.flows_of(str(pcap), ["-C", str(cfg)])
    assert p.returncode == 0, p.stderr
    return {r["destination"]["ip"]: r for r in recs}


def test_registered_domain_and_category(records):
    r = records["162.125.1.1"]
    assert r["destination"]["registered_domain"] == "dropbox.com"
    assert r["egressd"]["category"] == "cloud_storage"
    # public suffix list: co.uk is a public suffix
    assert records["67.43.156.1"]["destination"]["registered_domain"] == "example.co.uk"


def test_foreign_tenant_not_hidden_by_allowlisted_provider(records):
    r = records["52.216.1.1"]
    assert r["egressd"]["cloud"]["tenant"] == "s3:evil-drop"
    assert r["egressd"]["cloud"]["own_tenant"] is False
    assert "allowlisted" not in r["egressd"]


def test_own_tenant(records):
    r = records["52.216.1.2"]
    assert r["egressd"]["cloud"]["tenant"] == "s3:corp-logs"
    assert r["egressd"]["cloud"]["own_tenant"] is True
    assert r["egressd"]["allowlisted"] is True


def test_allowlist_domain_and_cidr(records):
    assert records["198.51.100.20"]["egressd"]["allowlisted"] is True
    assert records["203.0.113.9"]["egressd"]["allowlisted"] is True
    assert "allowlisted" not in records["162.125.1.1"]["egressd"]


def test_geoip(records):
    a = records["1.0.0.1"]["destination"]
    assert a["as"]["number"] == 15169
    assert a["as"]["organization"]["name"] == "Google Inc."
    assert records["67.43.156.1"]["destination"]["geo"]["country_iso_code"] == "BT"
    assert "geo" not in records["162.125.1.1"]["destination"]


@pytest.mark.parametrize("yaml_text,expect", [
    ("cloud:\n  own_tenants: [not a tenant]\n", ":2:17: cloud.own_tenants:"),
    ("allowlist:\n  domains: [bad..domain]\n", ":2:13: allowlist.domains:"),
    ("geoip:\n  country: /nonexistent/x.mmdb\n", ":2:12: geoip: /nonexistent/x.mmdb"),
    ("geoip:\n  country: " + GEO + "/GeoLite2-ASN-Test.mmdb\n", "expected a Country or City"),
    ("geoip:\n  asn: " + GEO + "/broken/MaxMind-DB-test-broken-pointers-24.mmdb\n", ":2:8: geoip:"),
    ("lists: /nonexistent/lists\n", "/nonexistent/lists"),
])
def test_check_config_names_the_place(tmp_path, yaml_text, expect):
    cfg = tmp_path / "s.yaml"
    cfg.write_text(yaml_text)
    p = fc.run(["-T", "-C", str(cfg)])
    assert p.returncode == 78, p.stderr
    assert expect in p.stderr, p.stderr
    p = fc.run(["-r", os.path.join(fc.ROOT, "pcaps", "zeek", "wikipedia.pcap"), "-C", str(cfg)])
    assert p.returncode == 78
