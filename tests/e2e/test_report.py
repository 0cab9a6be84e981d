"""The analyst's view: the end-of-run summary on standard error, the progress line on a
terminal, and the HTML report (--report), rendered in headless Chromium. Figures are
checked against tshark's packet fields and the generator's truth, not against egressd's
own output."""
import html.parser
import ipaddress
import json
import os
import pty
import re
import select
import shutil
import subprocess
import time

import pytest

import flowcmp as fc

GEO = os.path.join(fc.ROOT, "tests", "data", "geoip")
WIKI = os.path.join(fc.ROOT, "pcaps", "zeek", "wikipedia.pcap")
HOME = "141.142.0.0/16"
CHROMIUM = shutil.which("chromium")
ASAN = "asan" in os.environ.get("EGRESSD", "")


def tshark_egress(pcap, home):
    """IP bytes sent from inside home to outside it, back, and the outside addresses
    that were sent something."""
    out = subprocess.run(["tshark", "-r", pcap, "-Y", "ip", "-T", "fields", "-e", "ip.src",
                          "-e", "ip.dst", "-e", "ip.len"], capture_output=True, text=True,
                         check=True).stdout
    net = ipaddress.ip_network(home)
    eg = ig = 0
    dst = set()
    for line in out.splitlines():
        s, d, n = line.split("\t")
        s, d, n = ipaddress.ip_address(s), ipaddress.ip_address(d.split(",")[0]), int(n.split(",")[0])
        if (s in net) == (d in net):
            continue
        if s in net:
            eg += n
            dst.add(d)
        else:
            ig += n
    return eg, ig, dst


class Dom(html.parser.HTMLParser):
    """Elements with their attributes and text, as a flat list (enough for these checks)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.els = []
        self.stack = []

    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, "attrs": dict(attrs), "text": "", "parents": list(self.stack)}
        self.els.append(el)
        if tag not in ("meta", "br", "line", "circle", "path", "input", "img", "rect"):
            self.stack.append(el)

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i]["tag"] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        for el in self.stack:
            el["text"] += data

    def find(self, tag=None, cls=None, id=None):
        r = []
        for e in self.els:
            if tag and e["tag"] != tag:
                continue
            if cls and cls not in e["attrs"].get("class", "").split():
                continue
            if id and e["attrs"].get("id") != id:
                continue
            r.append(e)
        return r

    def within(self, ancestor, tag=None, cls=None):
        return [e for e in self.find(tag, cls) if any(p is ancestor for p in e["parents"])]


def parse(text):
    d = Dom()
    d.feed(text)
    return d


def chromium(args, timeout=120):
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--hide-scrollbars", "--user-data-dir=" + args[0]] + args[1:],
                          capture_output=True, text=True, timeout=timeout)


def render(report, tmp, height=2400):
    """The report as Chromium's DOM after loading it, and a screenshot (PIL image)."""
    profile = os.path.join(tmp, "chromium-profile")
    dom = chromium([profile, "--dump-dom", "file://" + report])
    assert dom.returncode == 0, dom.stderr[-2000:]
    png = os.path.join(tmp, "shot.png")
    shot = chromium([profile, "--window-size=1200,%d" % height, "--screenshot=" + png,
                     "file://" + report])
    assert shot.returncode == 0 and os.path.exists(png), shot.stderr[-2000:]
    from PIL import Image
    return parse(dom.stdout), Image.open(png).convert("RGB")


def pixels_near(img, rgb, tol=12):
    """How many pixels are within tol of colour rgb in every channel."""
    n = 0
    r0, g0, b0 = rgb
    for r, g, b in img.getdata():
        if abs(r - r0) <= tol and abs(g - g0) <= tol and abs(b - b0) <= tol:
            n += 1
    return n


def hexrgb(h):
    return tuple(int(h[i:i + 2], 16) for i in (1, 3, 5))


def blend(rgb, alpha, bg=(255, 255, 255)):
    return tuple(round(alpha * c + (1 - alpha) * b) for c, b in zip(rgb, bg))


def self_contained(text):
    """Nothing a browser would fetch or run."""
    assert "<script" not in text.lower()
    assert not re.search(r"""\b(src|href)\s*=""", text, re.I)
    assert "url(" not in text and "@import" not in text
    # the only URL is the SVG namespace name, which is not fetched
    assert set(re.findall(r"https?://[^\s\"'<>]+", text)) <= {"http://www.w3.org/2000/svg"}


def cells(dom, row):
    return [c["text"] for c in dom.within(row, "td")]


def row_addr(dom, row):
    """The address of a destination row (its second cell, "addr:port new")."""
    return cells(dom, row)[1].split()[0].rsplit(":", 1)[0]


def card(dom, name):
    return int(dom.find(id="card-" + name)[0]["attrs"]["data-v"])


# ---- the summary -------------------------------------------------------------------

def test_summary_figures_match_tshark():
    p = fc.run(["-r", WIKI, "--home-net", HOME])
    assert p.returncode == 0, p.stderr
    eg, ig, dst = tshark_egress(WIKI, HOME)
    err = p.stderr
    assert "egressd summary" in err
    # tcpdump/tshark: 136 frames; their sizes add up to the file's wire bytes
    assert re.search(r"input: +136 packets, .*, 1 file", err), err
    m = re.search(r"egress: +(\S+ \S+) out, (\S+ \S+) in, (\d+) destinations", err)
    assert m, err
    human = lambda n: "%.1f KB" % (n / 1000)
    assert (m.group(1), m.group(2), int(m.group(3))) == (human(eg), human(ig), len(dst))
    assert re.search(r"alerts: +none", err)
    # the top source by egress, as tshark sums it per internal address
    top = re.search(r"top egress sources:\n +(\S+) ", err).group(1)
    assert top == "141.142.220.118"
    assert "upload.wikimedia.org" in err  # the largest new destination's name (its SNI/Host)


def test_quiet_and_no_summary_are_silent():
    for extra in (["-q"], ["--no-summary"]):
        p = fc.run(["-r", WIKI, "--home-net", HOME] + extra)
        assert p.returncode == 0
        assert "summary" not in p.stderr and "egress:" not in p.stderr, p.stderr


def test_no_progress_when_stderr_is_not_a_terminal():
    p = fc.run(["-r", WIKI, "--home-net", HOME])
    assert "packets/s" not in p.stderr and "\r" not in p.stderr


def run_on_pty(argv, stdin=None, feed=None):
    """Run egressd with standard error on a pseudo-terminal; returns (rc, what it wrote
    there). feed(proc) may write to its standard input."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([fc.EGRESSD] + argv, stdin=stdin, stdout=subprocess.DEVNULL,
                            stderr=slave)
    os.close(slave)
    if feed:
        feed(proc)
    out = b""
    while True:
        r, _, _ = select.select([master], [], [], 60)
        if not r:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    rc = proc.wait(timeout=60)
    os.close(master)
    return rc, out.decode("utf-8", "replace")


def test_progress_on_a_terminal():
    rc, out = run_on_pty(["-r", WIKI, "--home-net", HOME])
    assert rc == 0
    # the last line: all 136 packets (tshark counts 136 frames), 34 flows (tests/expected)
    m = re.search(r"egressd: (\d+) packets \((\S+ \S+)\) in [\d.]+ s, \S+ packets/s, "
                  r"(\d+) flows, (\d+) alerts", out)
    assert m, out
    assert int(m.group(1)) == 136 and int(m.group(3)) == 34 and m.group(4) == "0"
    assert "egressd summary" in out
    rc, out = run_on_pty(["-r", WIKI, "--home-net", HOME, "--no-progress"])
    assert rc == 0 and "packets/s" not in out
    rc, out = run_on_pty(["-r", WIKI, "--home-net", HOME, "-q"])
    assert rc == 0 and out.strip() == "", out


def test_progress_redraws_while_reading_slowly():
    """A capture arriving slowly on standard input: the line is redrawn (about twice a
    second) with what was read so far; no total, so no percentage or time left."""
    data = open(WIKI, "rb").read()

    def feed(proc):
        # the file header and the first records, then the rest over ~2 s
        proc.stdin.write(data[:24])
        proc.stdin.flush()
        step = max(1, (len(data) - 24) // 20)
        for i in range(24, len(data), step):
            proc.stdin.write(data[i:i + step])
            proc.stdin.flush()
            time.sleep(0.1)
        proc.stdin.close()

    # a redraw is considered every 8192 packets: feed enough packets for that
    big = data + b"".join(data[24:] for _ in range(200))
    data = big
    rc, out = run_on_pty(["-r", "-", "--home-net", HOME], stdin=subprocess.PIPE, feed=feed)
    assert rc == 0, out
    redraws = re.findall(r"\r\x1b\[Kegressd: (\S+ \S+) read, \S+ packets/s, (\d+) flows, "
                         r"(\d+) alerts", out)
    assert len(redraws) >= 2, out
    assert "%" not in "".join(r[0] for r in redraws) and "left" not in out
    assert re.search(r"egressd: %d packets" % (136 * 201), out), out


# ---- the HTML report ---------------------------------------------------------------

@pytest.fixture(scope="module")
def wiki_report(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("wiki"))
    path = os.path.join(tmp, "report.html")
    p = fc.run(["-r", WIKI, "--home-net", HOME, "--report", path, "-q"])
    assert p.returncode == 0, p.stderr
    assert not os.path.exists(path + ".tmp")
    return tmp, path


def test_report_is_self_contained(wiki_report):
    _, path = wiki_report
    text = open(path, encoding="utf-8").read()
    self_contained(text)
    assert text.startswith("<!DOCTYPE html>")


def test_report_figures_match_tshark(wiki_report):
    _, path = wiki_report
    dom = parse(open(path, encoding="utf-8").read())
    eg, ig, dst = tshark_egress(WIKI, HOME)
    assert card(dom, "packets") == 136
    assert card(dom, "egress-bytes") == eg
    assert card(dom, "ingress-bytes") == ig
    assert card(dom, "destinations") == len(dst)
    assert card(dom, "alerts") == 0
    # the timeline holds every egress byte: its series add up to the total
    svg = dom.find(id="timeline")[0]
    paths = dom.find("path", "series")
    assert int(svg["attrs"]["data-bytes"]) == eg
    assert sum(int(p["attrs"]["data-bytes"]) for p in paths) == eg
    # destinations: one row per outside address, with tshark's egress to it
    rows = dom.within(dom.find(id="destination-table")[0], "tr")[1:]
    assert len(rows) == len(dst)
    per = {}
    out = subprocess.run(["tshark", "-r", WIKI, "-Y", "ip", "-T", "fields", "-e", "ip.src",
                          "-e", "ip.dst", "-e", "ip.len"], capture_output=True, text=True).stdout
    net = ipaddress.ip_network(HOME)
    for line in out.splitlines():
        s, d, n = line.split("\t")
        if ipaddress.ip_address(s) in net and ipaddress.ip_address(d) not in net:
            per[d] = per.get(d, 0) + int(n)
    for row in rows:
        addr = row_addr(dom, row)
        spans = [e for e in dom.els if e["tag"] == "span" and "data-v" in e["attrs"]
                 and any(p is row for p in e["parents"])]
        assert int(spans[0]["attrs"]["data-v"]) == per.get(addr, 0), row["text"]


@pytest.mark.skipif(not CHROMIUM, reason="chromium is not installed (make deps)")
def test_report_renders_in_chromium(wiki_report):
    tmp, path = wiki_report
    dom, img = render(path, tmp)
    for sec in ("overview", "timeline-section", "techniques", "destinations", "sources",
                "alerts"):
        assert dom.find(id=sec), sec
    assert len(dom.find("path", "series")) >= 2
    # tshark: 5 addresses in 141.142.0.0/16 sent something outside (ip.src in home,
    # ip.dst not): one row each, under the header row
    assert len(dom.within(dom.find(id="source-table")[0], "tr")) == 1 + 5
    # the largest source's band is drawn: pixels of its colour (blended at 0.85)
    assert pixels_near(img, blend(hexrgb("#4e79a7"), 0.85)) > 2000


# ---- a capture with alerts ----------------------------------------------------------

generate = fc.generate


EXFIL = [
    {"kind": "dns", "client": "10.0.0.5", "server": "10.0.0.53", "qname": "www.dropbox.com",
     "answers": ["162.125.1.1"], "at": "0s"},
    {"kind": "tls", "client": "10.0.0.5", "server": "162.125.1.1", "sni": "www.dropbox.com",
     "upload": "30MB", "download": "200KB", "at": "10s"},
    # GeoLite2 test data: 1.0.0.0/24 is AS15169 "Google Inc.", 67.43.156.0/24 is BT
    {"kind": "tls", "client": "10.0.0.7", "server": "1.0.0.1", "sni": "one.example.net",
     "upload": 400000, "at": "20s"},
    {"kind": "tls", "client": "10.0.0.8", "server": "67.43.156.1", "sni": "bt.example.net",
     "upload": 200000, "at": "30s"},
]


@pytest.fixture(scope="module")
def exfil_report(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("exfil"))
    pcap, truth = generate(tmp, "exfil", EXFIL)
    cfg = os.path.join(tmp, "sensor.yaml")
    with open(cfg, "w") as f:
        f.write("home_net: [10.0.0.0/8]\ngeoip:\n  country: %s/GeoLite2-Country-Test.mmdb\n"
                "  asn: %s/GeoLite2-ASN-Test.mmdb\n" % (GEO, GEO))
    path = os.path.join(tmp, "report.html")
    p = fc.run(["-r", pcap, "-C", cfg, "--report", path])
    assert p.returncode == 0, p.stderr
    alerts = [json.loads(l) for l in p.stdout.splitlines()]
    return tmp, path, truth, alerts, p.stderr


def truth_egress(truth, server):
    return sum(f["c2s"]["ip_bytes"] for f in truth["flows"]
               if f["responder"]["ip"] == server)


def test_exfil_summary(exfil_report):
    _, _, truth, alerts, err = exfil_report
    first = [a for a in alerts if "update_of" not in a["egressd"]]
    techs = {}
    for a in first:
        t = a["threat"]["technique"]["id"][0]
        techs[t] = techs.get(t, 0) + 1
    assert techs.get("T1567")
    want = ", ".join("%s %d" % kv for kv in techs.items())
    assert "alerts:       %d (%s)" % (len(first), want) in err, err
    assert re.search(r"top egress sources:\n +10\.0\.0\.5 ", err), err
    assert re.search(r"new destinations by egress bytes:\n +162\.125\.1\.1 +\S+ MB from "
                     r"10\.0\.0\.5 +www\.dropbox\.com cloud_storage", err), err


def test_exfil_report_tables(exfil_report):
    _, path, truth, alerts, _ = exfil_report
    text = open(path, encoding="utf-8").read()
    self_contained(text)
    dom = parse(text)
    rows = dom.within(dom.find(id="destination-table")[0], "tr")[1:]
    by_addr = {row_addr(dom, r): r for r in rows}
    drop = cells(dom, by_addr["162.125.1.1"])
    assert drop[1].endswith("new") and drop[2] == "www.dropbox.com"
    assert drop[3] == "cloud_storage"
    assert cells(dom, by_addr["1.0.0.1"])[5] == "AS15169 Google Inc."
    assert cells(dom, by_addr["67.43.156.1"])[4] == "BT"
    # the first row is the largest egress: the generator's bytes to Dropbox
    v = [e for e in dom.els if e["tag"] == "span" and "data-v" in e["attrs"]
         and any(p is rows[0] for p in e["parents"])]
    assert rows[0] is by_addr["162.125.1.1"]
    assert int(v[0]["attrs"]["data-v"]) == truth_egress(truth, "162.125.1.1")
    # each alert's evidence, with the figures of its latest update
    first = [a for a in alerts if "update_of" not in a["egressd"]]
    last = {a["event"]["id"]: a for a in first}
    for a in alerts:
        if "update_of" in a["egressd"]:
            last[a["egressd"]["update_of"]] = a
    assert card(dom, "alerts") == len(first)
    evs = dom.find("dl", "ev")
    assert len(evs) == len(first)
    for a in first:
        ev = [e for e in evs if a["event"]["id"] in e["text"]]
        assert len(ev) == 1
        assert str(last[a["event"]["id"]]["source"]["bytes"]) in \
            " ".join(e["attrs"].get("data-v", "") for e in dom.els
                     if any(p is ev[0] for p in e["parents"]))
    assert dom.find("circle", "alert")
    assert {c["attrs"]["data-technique"] for c in dom.find("circle", "alert")} == \
        {a["threat"]["technique"]["id"][0] for a in first}


@pytest.mark.skipif(not CHROMIUM, reason="chromium is not installed (make deps)")
def test_exfil_report_renders(exfil_report):
    tmp, path, _, alerts, _ = exfil_report
    dom, img = render(path, tmp)
    assert dom.find(id="timeline") and dom.find("circle", "alert")
    assert pixels_near(img, blend(hexrgb("#4e79a7"), 0.85)) > 2000  # the largest source
    # the alert dot, red for a high-severity alert (blended at 0.85)
    assert pixels_near(img, blend(hexrgb("#d62728"), 0.85), tol=20) > 20
    # groups of few alerts are shown open: their evidence summary is on the page
    assert dom.find("details", "group")


# ---- thousands of alerts -----------------------------------------------------------

MANY_RULES = """ruleset: many
rules:
  - id: any-upload
    name: Any upload of a kilobyte
    technique: T1048
    severity: low
    condition:
      detector: volume
      key: destination
      window: 1h
      bytes_out: 1KB
"""


@pytest.fixture(scope="module")
def many_report(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("many"))
    steps = [{"kind": "tcp", "client": "10.0.%d.%d" % (i % 3, 5), "server":
              "198.%d.%d.%d" % (51 + i // 60000, i // 250 % 240, 1 + i % 250),
              "dport": 4444, "c2s": [3000], "s2c": [100], "at": "%dms" % (i * 40)}
             for i in range(3000)]
    pcap, truth = generate(tmp, "many", steps)
    rules = os.path.join(tmp, "many.yaml")
    open(rules, "w").write(MANY_RULES)
    cfg = os.path.join(tmp, "sensor.yaml")
    open(cfg, "w").write("home_net: [10.0.0.0/8]\nrules: [%s]\ndetection:\n"
                         "  rule_alerts_per_minute: 0\n  source_alerts_per_minute: 0\n" % rules)
    path = os.path.join(tmp, "report.html")
    p = fc.run(["-r", pcap, "-C", cfg, "--report", path, "-q"])
    assert p.returncode == 0, p.stderr
    alerts = [json.loads(l) for l in p.stdout.splitlines()]
    return tmp, path, alerts


def test_thousands_of_alerts_stay_readable(many_report):
    tmp, path, alerts = many_report
    first = [a for a in alerts if "update_of" not in a["egressd"]]
    assert len(first) == 3000  # one per destination
    size = os.path.getsize(path)
    assert size < 8_000_000, size
    text = open(path, encoding="utf-8").read()
    self_contained(text)
    dom = parse(text)
    assert card(dom, "alerts") == 3000
    assert len(dom.find("tr", "alert-row")) == 2000  # evidence for the first 2,000
    note = dom.find(id="alerts-not-shown")[0]["text"]
    assert "1,000 alerts are counted but not shown" in note
    groups = dom.find("details", "group")
    assert len(groups) == 3 and not any("open" in g["attrs"] for g in groups)
    counts = sorted(int(re.search(r"([\d,]+) alerts?,", g["text"]).group(1).replace(",", ""))
                    for g in groups)
    assert counts == [1000, 1000, 1000]  # one group per rule and source
    # the timeline aggregates: one dot per bin, not one per alert
    assert 0 < len(dom.find("circle", "alert")) <= 240


@pytest.mark.skipif(not CHROMIUM, reason="chromium is not installed (make deps)")
def test_thousands_of_alerts_render(many_report):
    tmp, path, _ = many_report
    dom, img = render(path, tmp, height=1600)
    assert len(dom.find("tr", "alert-row")) == 2000
    assert dom.find(id="timeline")
    assert pixels_near(img, blend(hexrgb("#bcbd22"), 0.85), tol=20) > 20  # low severity dots


def test_report_path_not_writable_fails_first(tmp_path):
    p = fc.run(["-r", WIKI, "--report", str(tmp_path / "no" / "such" / "dir.html")])
    assert p.returncode == 73 and "--report" in p.stderr, p.stderr


def test_no_summary_or_report_when_nothing_could_be_read(tmp_path):
    path = str(tmp_path / "r.html")
    p = fc.run(["-r", str(tmp_path / "missing.pcap"), "--report", path])
    assert p.returncode == 66
    assert "egressd summary" not in p.stderr and not os.path.exists(path), p.stderr
    p = fc.run(["-r", WIKI, "-F", "not a filter (", "--report", path])
    assert p.returncode == 64
    assert "egressd summary" not in p.stderr and not os.path.exists(path), p.stderr


def test_report_with_hostile_names(tmp_path):
    """Names from the wire reach the page escaped: no markup from a Host header."""
    steps = [{"kind": "http", "client": "10.0.0.5", "server": "198.51.100.9", "method": "POST",
              "host": "<script>alert(1)</script>.example", "path": "/", "body_bytes": 5000}]
    pcap, _ = generate(str(tmp_path), "hostile", steps)
    path = str(tmp_path / "r.html")
    p = fc.run(["-r", pcap, "--home-net", "10.0.0.0/8", "--report", path, "-q"])
    assert p.returncode == 0, p.stderr
    text = open(path, encoding="utf-8").read()
    self_contained(text)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.example" in text
