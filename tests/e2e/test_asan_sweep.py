"""Sanitizer sweep: every capture in pcaps/, and damaged variants of it, through the
binary under test ($EGRESSD) when it is the ASan/UBSan build.

Variants of each capture:
  * cut at byte offsets: for a capture of at most SMALL_RECORDS records (pcap) or blocks
    (pcapng), around every record boundary (one byte before, one after, mid record
    header, one byte after the header); for a larger one, SPREAD_CUTS evenly spaced
    offsets plus the same four around the first few boundaries; and inside the file
    header;
  * rewritten with the snaplens in SNAPLENS (records cut to N bytes, the wire length
    kept), with `editcap -s N` when wireshark-common's editcap is installed, else by
    the small rewriter below (classic pcap only: pcapng captures are then not
    rewritten, and the test says so).

Each run must exit 0 or 65 (a damaged capture: what came before was processed), or 66
(cannot be opened) for a cut inside the file header (pcap: its 24 bytes; pcapng: up to
the end of the first interface description block, which libpcap reads when opening),
print no sanitizer report (tests/run-tests sets ASAN_OPTIONS and UBSAN_OPTIONS with
halt_on_error=1 and abort_on_error=1 for every build, so a report also aborts the run)
and finish within RUN_TIMEOUT seconds. The runs use a sensor.yaml with small tables:
under ASan the default tables take ~0.2 s to set up and tear down per run, the small
ones ~0.05 s, and table sizes do not change how a capture is read and decoded.

On the optimised build the module is skipped: the point is the sanitizers' reports,
and the same captures already run there in test_real_captures.py and
test_hostile_captures.py.
"""
import concurrent.futures
import os
import shutil
import struct
import subprocess

import pytest

import flowcmp as fc

PCAPS = os.path.join(fc.ROOT, "pcaps")
SNAPLENS = (14, 20, 34, 42, 54, 64, 78, 96)
SMALL_RECORDS = 16   # below this, cut around every record boundary
SPREAD_CUTS = 24     # evenly spaced cuts of larger captures
FIRST_BOUNDARIES = 4  # ... plus cuts around this many of their first boundaries
HEADER_CUTS = (0, 3, 4, 12, 23)  # inside the file header (pcap: 24 bytes)
RUN_TIMEOUT = 60
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "UndefinedBehaviorSanitizer", "SUMMARY: ")
WORKERS = max(1, min(2, os.cpu_count() or 1))

SMALL_TABLES = """\
flows:
  max_flows: 4096
  fragments: 1024
l7:
  reassembly_buffers: 64
  names: 4096
  dns_cache: 4096
baseline:
  max_entries: 4096
detection:
  windows: 4096
  tunnels: 256
"""


if not fc.is_sanitized(fc.EGRESSD):
    pytest.skip(f"{fc.EGRESSD} is not an ASan build: the sanitizer sweep runs with "
                "build/asan/egressd", allow_module_level=True)


def captures():
    out = []
    for dirpath, dirnames, files in os.walk(PCAPS):
        dirnames.sort()
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                magic = f.read(4)
            if magic in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1",
                         b"\xa1\xb2\x3c\x4d", b"\x0a\x0d\x0d\x0a"):
                out.append(path)
    return out


def boundaries(raw):
    """Byte offsets where records (pcap) or blocks (pcapng) start, after the first."""
    out = []
    if raw[:4] == b"\x0a\x0d\x0d\x0a":
        e = "<" if raw[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        off = 0
        while off + 8 <= len(raw):
            blen = struct.unpack(e + "I", raw[off + 4:off + 8])[0]
            if blen < 12 or off + blen > len(raw):
                break
            off += blen
            out.append(off)
        return out
    e = "<" if raw[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    off = 24
    while off + 16 <= len(raw):
        off += 16 + struct.unpack(e + "I", raw[off + 8:off + 12])[0]
        out.append(off)
    return out


def header_end(raw):
    """Bytes libpcap reads when it opens the capture: a cut before this cannot open."""
    if raw[:4] != b"\x0a\x0d\x0d\x0a":
        return 24
    e = "<" if raw[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    off = 0
    while off + 8 <= len(raw):
        btype, blen = struct.unpack(e + "II", raw[off:off + 8])
        if blen < 12:
            break
        off += blen
        if btype == 1:
            return off
    return len(raw)


def cut_offsets(raw):
    """Where to cut the capture (sorted, each strictly inside the file)."""
    bounds = [b for b in boundaries(raw) if b < len(raw)]
    near = bounds if len(bounds) <= SMALL_RECORDS else bounds[:FIRST_BOUNDARIES]
    cuts = set(HEADER_CUTS)
    for b in [24] + near:
        cuts.update((b - 1, b + 1, b + 8, b + 17))
    if len(bounds) > SMALL_RECORDS:
        cuts.update(len(raw) * i // (SPREAD_CUTS + 1) for i in range(1, SPREAD_CUTS + 1))
    return sorted(c for c in cuts if 0 <= c < len(raw))


def rewrite_snaplen(raw, snaplen):
    """A classic pcap with every record cut to snaplen captured bytes (wire length kept)
    and the header's snaplen set; None for pcapng."""
    if raw[:4] == b"\x0a\x0d\x0d\x0a":
        return None
    e = "<" if raw[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    out = [raw[:16], struct.pack(e + "I", snaplen), raw[20:24]]
    off = 24
    while off + 16 <= len(raw):
        sec, frac, cl, ln = struct.unpack(e + "IIII", raw[off:off + 16])
        data = raw[off + 16:off + 16 + cl]
        keep = min(len(data), snaplen)
        out.append(struct.pack(e + "IIII", sec, frac, keep, ln) + data[:keep])
        off += 16 + cl
    out.append(raw[off:])  # a trailing partial record stays
    return b"".join(out)


def snaplen_variant(src, raw, snaplen, dst):
    """Write the snaplen-N variant of src to dst; False if it cannot be made here."""
    if shutil.which("editcap"):
        fmt = "pcapng" if raw[:4] == b"\x0a\x0d\x0d\x0a" else "pcap"
        p = subprocess.run(["editcap", "-F", fmt, "-s", str(snaplen), src, dst],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if p.returncode == 0:
            return True
        # editcap refuses some damaged files that egressd reads up to the damage
    data = rewrite_snaplen(raw, snaplen)
    if data is None:
        return False
    with open(dst, "wb") as f:
        f.write(data)
    return True


def run_one(path, config, allowed=(0, 65)):
    cmd = [fc.EGRESSD, "-C", config, "-r", path, "--flows", "--stats", "-q"]
    try:
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"{path}: no exit within {RUN_TIMEOUT}s"
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode not in allowed or any(m in err for m in SANITIZER_MARKS):
        return (f"{path}: exit status {p.returncode}\n  {' '.join(cmd)}\n"
                + err[-3000:])
    return None


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    path = tmp_path_factory.mktemp("sweep") / "sensor.yaml"
    path.write_text(SMALL_TABLES)
    return str(path)


@pytest.mark.parametrize("capture", captures(), ids=lambda p: os.path.relpath(p, PCAPS))
def test_sweep(capture, config, tmp_path):
    raw = open(capture, "rb").read()
    ext = ".pcapng" if raw[:4] == b"\x0a\x0d\x0d\x0a" else ".pcap"
    variants = [(capture, (0, 65))]
    hend = header_end(raw)
    for c in cut_offsets(raw):
        v = str(tmp_path / f"cut-{c}{ext}")
        with open(v, "wb") as f:
            f.write(raw[:c])
        variants.append((v, (66,) if c < hend else (0, 65)))
    not_rewritten = False
    for n in SNAPLENS:
        v = str(tmp_path / f"snaplen-{n}{ext}")
        if snaplen_variant(capture, raw, n, v):
            variants.append((v, (0, 65)))
        else:
            not_rewritten = True
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        problems = [r for r in pool.map(lambda v: run_one(v[0], config, v[1]), variants) if r]
    assert not problems, f"{len(problems)} of {len(variants)} runs failed " \
        f"(variants kept in {tmp_path}):\n" + "\n".join(problems[:5])
    if not_rewritten:
        pytest.skip(f"cut variants passed; snaplen variants not made: {ext} needs editcap "
                    "(wireshark-common), which is not installed")
