"""Capture files with hostile record headers: what comes before the damage is processed,
the damage is reported or counted, and the exit status says which."""
import os
import shutil
import struct
import subprocess

import pytest

import flowcmp as fc

WIKI = os.path.join(fc.ROOT, "pcaps", "zeek", "wikipedia.pcap")


def records(path):
    """(global header, [[sec, usec, caplen, len, data], ...]) of a little-endian pcap."""
    raw = open(path, "rb").read()
    assert raw[:4] == b"\xd4\xc3\xb2\xa1"
    out, off = [], 24
    while off + 16 <= len(raw):
        sec, usec, cl, ln = struct.unpack("<IIII", raw[off:off + 16])
        out.append([sec, usec, cl, ln, raw[off + 16:off + 16 + cl]])
        off += 16 + cl
    assert off == len(raw)
    return raw[:24], out


def write(path, head, recs, tail=b""):
    with open(path, "wb") as f:
        f.write(head)
        for sec, usec, cl, ln, data in recs:
            f.write(struct.pack("<IIII", sec, usec, cl, ln) + data)
        f.write(tail)
    return str(path)


stats = fc.stats_of


def run(path):
    p = subprocess.run([fc.EGRESSD, "-r", path, "--home-net", "141.142.0.0/16", "--flows",
                        "--stats"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, errors="replace", timeout=60)
    return p, stats(p.stderr)


def tcpdump_count(path):
    """Packets tcpdump reads before it stops (it also stops at the damage)."""
    p = subprocess.run(["tcpdump", "-nn", "-r", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, errors="replace")
    return len(p.stdout.splitlines())


@pytest.fixture(scope="module")
def wiki():
    head, recs = records(WIKI)
    assert len(recs) == 136  # tcpdump -r wikipedia.pcap | wc -l
    return head, recs


def test_cut_mid_record(tmp_path, wiki):
    head, recs = wiki
    r = recs[20]
    cut = write(tmp_path / "cut.pcap", head, recs[:20],
                struct.pack("<IIII", *r[:4]) + r[4][:7])
    p, st = run(cut)
    assert p.returncode == 65
    assert "cut.pcap" in p.stderr and "processed" in p.stderr
    assert st["capture.packets"] == 20
    assert st["capture.damaged_files"] == 1
    if shutil.which("tcpdump"):
        assert tcpdump_count(cut) == 20


def test_cut_inside_record_header(tmp_path, wiki):
    head, recs = wiki
    cut = write(tmp_path / "cuthdr.pcap", head, recs[:33],
                struct.pack("<IIII", *recs[33][:4])[:9])
    p, st = run(cut)
    assert p.returncode == 65
    assert st["capture.packets"] == 33


def test_caplen_beyond_any_snaplen(tmp_path, wiki):
    head, recs = wiki
    bad = [list(r) for r in recs[:11]]
    bad[10][2] = 0x7FFFFFFF
    path = write(tmp_path / "huge.pcap", head, bad)
    p, st = run(path)
    assert p.returncode == 65
    assert "huge.pcap" in p.stderr
    assert st["capture.packets"] == 10


def test_caplen_above_len_is_counted(tmp_path, wiki):
    head, recs = wiki
    bad = [list(r) for r in recs]
    bad[10][3] = bad[10][2] - 10  # the record claims fewer wire bytes than it holds
    p, st = run(write(tmp_path / "caplen.pcap", head, bad))
    assert p.returncode == 0
    assert st["capture.packets"] == 136
    assert st["anomaly.capture.caplen_exceeds_len"] == 1


def test_microseconds_of_a_million_or_more(tmp_path, wiki):
    head, recs = wiki
    bad = [list(r) for r in recs]
    bad[10][1] = 1500000
    bad[50][1] = 0xFFFFFFFF
    p, st = run(write(tmp_path / "usec.pcap", head, bad))
    assert p.returncode == 0
    assert st["capture.packets"] == 136
    assert st["capture.bad_timestamps"] == 2
    # read as a time, 1.5 s would have jumped ahead of the packets that follow
    assert st.get("anomaly.capture.timestamp_went_backwards", 0) == 0
    good_p, good = run(WIKI)
    assert p.stdout.count("\n") == good_p.stdout.count("\n")


@pytest.mark.parametrize("jump", ["hour", "zero"])
def test_time_jumping_back(tmp_path, wiki, jump):
    head, recs = wiki
    bad = [list(r) for r in recs]
    if jump == "hour":
        bad[10][0] -= 3600
    else:
        bad[10][0] = bad[10][1] = 0
    p, st = run(write(tmp_path / ("back-%s.pcap" % jump), head, bad))
    assert p.returncode == 0
    assert st["capture.packets"] == 136
    # only that packet went back; it is accounted at the current packet time
    assert st["anomaly.capture.timestamp_went_backwards"] == 1
    good_p, _ = run(WIKI)
    assert p.stdout.count("\n") == good_p.stdout.count("\n")
