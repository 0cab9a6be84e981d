"""Harness for the live-capture tests (test_live.py): a private network namespace with a
veth pair, tcpreplay into one end, egressd capturing on the other, and the readers for
what egressd says while it runs (JSON lines on stdout, counters on stderr, /proc).

* NetNS creates a namespace of its own (`egr-<pid>-<n>`), a veth pair `tx` <-> `rx` in
  it, both up, with IPv6 disabled (all, default and per interface) so the kernel sends
  nothing by itself: an idle `rx` sees no packet at all (selftest() proves it with
  tcpdump). Every process it starts runs inside the namespace (`ip netns exec`), so the
  replayed traffic never leaves it. close() kills the processes it started, by pid,
  and deletes the namespace. Deleting `rx` deletes both ends (del_veth); add_veth makes
  the pair again under the same names. (`ip link add name tx ...`: without `name`, ip
  reads `tx` as an abbreviation of `txqueuelen`.)
* NetNS.replay() runs `tcpreplay -i tx` and returns tcpreplay's own count of the
  packets it sent ("Successful packets:"); tcpreplay failures are errors.
* LiveEgressd runs build/egressd (or $EGRESSD) inside the namespace, stdout and stderr in
  files. Its pid is egressd's own (`ip netns exec` execs it). wait_ready() waits until
  egressd has a packet socket bound to the interface (/proc/PID/net/packet against its
  fds) and handles SIGUSR1 (SigCgt), then sends a probe frame (one IPv4/UDP datagram
  between two TEST-NET-1 addresses, port 9) until egressd's capture.packets counts it:
  from then on nothing replayed can be lost to a half-open capture. usr1() sends SIGUSR1
  and returns the counter block it prints; stats() is the last block (--stats at exit).
  LiveEgressd.replay() counts what it sends; settle() waits until capture.packets +
  capture.kernel_dropped (since readiness) account for all of it.
* If a namespace cannot be made (not root, no CAP_SYS_ADMIN, no `ip`/`tcpreplay`),
  netns_unavailable() says why: the tests skip with that reason, loudly.
"""
import json
import itertools
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

import flowcmp as fc

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "live")
GEN = os.path.join(fc.ROOT, "tests", "gen", "egen.py")


def _tool(name):
    return shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/sbin/{name}",
                                                   f"/usr/bin/{name}") if os.path.exists(p)),
                                      None)


IP = _tool("ip")
TCPREPLAY = _tool("tcpreplay")
TCPDUMP = _tool("tcpdump")
TX, RX = "tx", "rx"
PROBE_SRC, PROBE_DST = "192.0.2.250", "192.0.2.251"
CLK_TCK = os.sysconf("SC_CLK_TCK")
SIGUSR1_BIT = 1 << (signal.SIGUSR1 - 1)

_seq = itertools.count()


class Unavailable(Exception):
    """No network namespace can be made here."""


def wait_for(pred, timeout, step=0.05):
    """Poll pred() until it is true (returns its value) or timeout (returns the last)."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


def netns_unavailable():
    """Why the live tests cannot run here (a string), or None when they can."""
    if os.geteuid() != 0:
        return "not root: network namespaces, veth pairs and packet capture need root"
    for name, path in (("ip (iproute2)", IP), ("tcpreplay", TCPREPLAY)):
        if not path:
            return f"{name} is not installed"
    name = f"egr-{os.getpid()}-probe{next(_seq)}"
    p = subprocess.run([IP, "netns", "add", name], capture_output=True, text=True)
    if p.returncode != 0:
        return f"`ip netns add` failed (no CAP_SYS_ADMIN?): {p.stderr.strip()}"
    q = subprocess.run([IP, "-n", name, "link", "add", "name", TX, "type", "veth", "peer",
                        "name", RX], capture_output=True, text=True)
    subprocess.run([IP, "netns", "del", name], capture_output=True)
    if q.returncode != 0:
        return f"cannot create a veth pair in a namespace: {q.stderr.strip()}"
    return None


def _csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def probe_frame():
    """An Ethernet/IPv4/UDP frame 192.0.2.250:9 -> 192.0.2.251:9 (discard), both outside
    any home_net a test uses, so it makes no alert and no baseline entry."""
    payload = b"egressd-netenv-probe"
    src = bytes(map(int, PROBE_SRC.split(".")))
    dst = bytes(map(int, PROBE_DST.split(".")))
    udp = struct.pack("!HHHH", 9, 9, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0x4000, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    eth = bytes.fromhex("020000000002" "020000000001" "0800")
    return eth + ip + udp


def write_pcap(path, frames, t0=1704067200):
    """A classic µs pcap of the given frames, one per millisecond."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", t0, i * 1000, len(fr), len(fr)) + fr)
    return path


def pcap_records(path):
    """(global header, [record bytes]) of a classic little-endian pcap."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"\xd4\xc3\xb2\xa1", path
    recs, off = [], 24
    while off < len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        recs.append(data[off:off + 16 + incl])
        off += 16 + incl
    return data[:24], recs


def split_pcap(path, at, first, second):
    """Write records [0, at) to first and [at, end) to second."""
    hdr, recs = pcap_records(path)
    for out, part in ((first, recs[:at]), (second, recs[at:])):
        with open(out, "wb") as f:
            f.write(hdr + b"".join(part))
    return len(recs)


generate = fc.generate


class Replay:
    def __init__(self, successful, failed, output):
        self.successful, self.failed, self.output = successful, failed, output

    def __repr__(self):
        return f"Replay(successful={self.successful}, failed={self.failed})"


class NetNS:
    """A namespace with a veth pair tx <-> rx, IPv6 off. Use as a context manager or
    call close()."""

    def __init__(self, workdir=None):
        self.name = f"egr-{os.getpid()}-{next(_seq)}"
        self.procs = []
        self._own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix="egr-netns-")
        self.probe_pcap = write_pcap(os.path.join(self.dir, f"probe-{self.name}.pcap"),
                                     [probe_frame()])
        p = subprocess.run([IP, "netns", "add", self.name], capture_output=True, text=True)
        if p.returncode != 0:
            raise Unavailable(f"ip netns add {self.name}: {p.stderr.strip()}")
        try:
            self.sysctl("net.ipv6.conf.all.disable_ipv6=1",
                        "net.ipv6.conf.default.disable_ipv6=1")
            self.add_veth()
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- commands in the namespace --

    def ip(self, *args, check=True):
        p = subprocess.run([IP, "-n", self.name] + list(args), capture_output=True, text=True)
        if check and p.returncode != 0:
            raise RuntimeError(f"ip -n {self.name} {' '.join(args)}: {p.stderr.strip()}")
        return p

    def exec_argv(self, argv):
        return [IP, "netns", "exec", self.name] + list(argv)

    def run(self, argv, timeout=120, check=True):
        p = subprocess.run(self.exec_argv(argv), capture_output=True, text=True,
                           timeout=timeout)
        if check and p.returncode != 0:
            raise RuntimeError(f"in {self.name}: {' '.join(argv)} -> {p.returncode}\n"
                               f"{p.stdout[-2000:]}{p.stderr[-2000:]}")
        return p

    def popen(self, argv, **kw):
        """Start argv inside the namespace; close() kills it (by pid) if still running."""
        p = subprocess.Popen(self.exec_argv(argv), **kw)
        self.procs.append(p)
        return p

    def sysctl(self, *assignments):
        self.run(["sysctl", "-q", "-w"] + list(assignments))

    # -- the veth pair --

    def add_veth(self):
        """Create tx <-> rx (again), IPv6 off on both, both up."""
        self.ip("link", "add", "name", TX, "type", "veth", "peer", "name", RX)
        self.sysctl(f"net.ipv6.conf.{TX}.disable_ipv6=1", f"net.ipv6.conf.{RX}.disable_ipv6=1")
        self.ip("link", "set", "dev", TX, "up")
        self.ip("link", "set", "dev", RX, "up")

    def del_veth(self):
        """Delete rx (its peer tx goes with it)."""
        self.ip("link", "del", "dev", RX)

    def set_link(self, dev, up):
        self.ip("link", "set", "dev", dev, "up" if up else "down")

    def link(self, dev):
        """`ip -s -j link show dev DEV` as a dict, or None if there is no such device."""
        p = self.ip("-s", "-j", "link", "show", "dev", dev, check=False)
        if p.returncode != 0:
            return None
        return json.loads(p.stdout)[0]

    def ifindex(self, dev=RX):
        link = self.link(dev)
        return link["ifindex"] if link else None

    def rx_packets(self, dev=RX):
        """Frames the kernel received on dev, and those it dropped there."""
        st = self.link(dev)["stats64"]["rx"]
        return st["packets"], st["dropped"]

    # -- traffic --

    def replay(self, pcap, *opts, iface=TX, timeout=180):
        """tcpreplay -i IFACE OPTS PCAP inside the namespace. Returns a Replay with
        tcpreplay's "Successful packets:" / "Failed packets:"; a failed send is an error."""
        argv = [TCPREPLAY, "-i", iface, "-q"] + list(opts) + [pcap]
        p = self.run(argv, timeout=timeout, check=False)
        out = p.stdout + p.stderr
        ok = re.search(r"Successful packets:\s+(\d+)", out)
        bad = re.search(r"Failed packets:\s+(\d+)", out)
        if p.returncode != 0 or not ok:
            raise RuntimeError(f"tcpreplay failed ({p.returncode}): {' '.join(argv)}\n{out}")
        r = Replay(int(ok.group(1)), int(bad.group(1)) if bad else 0, out)
        if r.failed:
            raise RuntimeError(f"tcpreplay could not send {r.failed} packets:\n{out}")
        return r

    def probe(self):
        """Send the probe frame once on tx."""
        return self.replay(self.probe_pcap)

    def tcpdump_count(self, count, duration, iface=RX, extra=()):
        """Start tcpdump on iface (inside the namespace) and wait until it listens.
        Returns result(): the packets it captured, once it has `count` of them or
        `duration` s have passed (then it is stopped with SIGINT, by pid)."""
        out = os.path.join(self.dir, f"tcpdump-{self.name}-{next(_seq)}.err")
        with open(out, "w") as f:
            p = self.popen([TCPDUMP, "-i", iface, "-n", "-c", str(count), "-w", "/dev/null"]
                           + list(extra), stdout=subprocess.DEVNULL, stderr=f)
        t0 = time.monotonic()
        if not wait_for(lambda: "listening on" in open(out).read() or p.poll() is not None, 10):
            raise RuntimeError("tcpdump did not start: " + open(out).read())

        def result():
            try:
                p.wait(max(0.1, duration - (time.monotonic() - t0)))
            except subprocess.TimeoutExpired:
                os.kill(p.pid, signal.SIGINT)
                p.wait(10)
            txt = open(out).read()
            m = re.search(r"(\d+) packets? captured", txt)
            if not m:
                raise RuntimeError("tcpdump: " + txt)
            return int(m.group(1))
        return result

    # -- cleanup --

    def close(self):
        """Kill what we started (by pid), delete the namespace. Safe to call twice."""
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGCONT)
                    os.kill(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self.procs = []
        subprocess.run([IP, "netns", "del", self.name], capture_output=True)
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def exists(self):
        return os.path.exists(f"/run/netns/{self.name}")


# ---- counters ----

_STAT = re.compile(r"^([A-Za-z][\w.\-]*)[ \t]+(\d+)$")


def stat_blocks(text):
    """The counter blocks in stderr text: runs of `name value` lines; a name seen again
    starts a new block (other lines between counters are ignored)."""
    blocks, cur = [], None
    for line in text.splitlines():
        m = _STAT.match(line.strip())
        if not m:
            continue
        name, val = m.group(1), int(m.group(2))
        if cur is None or name in cur:
            cur = {}
            blocks.append(cur)
        cur[name] = val
    return blocks


def parse_stats_text(text):
    """The last counter block of a text (e.g. --stats of an offline run)."""
    b = stat_blocks(text)
    return b[-1] if b else {}


class LiveEgressd:
    """egressd -i IFACE ... inside a NetNS; stdout/stderr in workdir/TAG.stdout|stderr."""

    def __init__(self, ns, args, workdir, tag="live", iface=RX, binary=None, prefix=()):
        self.ns, self.iface = ns, iface
        self.binary = binary or fc.EGRESSD
        self.args = list(prefix) + [self.binary] + list(args)
        self.out_path = os.path.join(workdir, tag + ".stdout")
        self.err_path = os.path.join(workdir, tag + ".stderr")
        with open(self.out_path, "wb") as o, open(self.err_path, "wb") as e:
            self.proc = ns.popen(self.args, stdin=subprocess.DEVNULL, stdout=o, stderr=e)
        self.rc = None
        self.baseline = {}      # counters at wait_ready() (the probes are in them)
        self.sent = 0           # packets replayed (self.replay) since wait_ready()

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def cmd(self):
        return " ".join(self.args)

    # -- /proc --

    def proc_status(self):
        """/proc/PID/status as {field: value string}."""
        out = {}
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
        return out

    def cpu_seconds(self):
        """utime + stime of the whole process (all threads), in seconds."""
        with open(f"/proc/{self.pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return (int(rest[11]) + int(rest[12])) / CLK_TCK

    def is_egressd(self):
        """True once `ip netns exec` has exec'd egressd under this pid."""
        try:
            return os.path.realpath(f"/proc/{self.pid}/exe") == os.path.realpath(self.binary)
        except OSError:
            return False

    def catches_usr1(self):
        try:
            return bool(int(self.proc_status().get("SigCgt", "0"), 16) & SIGUSR1_BIT)
        except OSError:
            return False

    def packet_sockets(self):
        """[(ifindex, running)] of the AF_PACKET sockets egressd holds."""
        try:
            inodes = set()
            for fd in os.listdir(f"/proc/{self.pid}/fd"):
                try:
                    t = os.readlink(f"/proc/{self.pid}/fd/{fd}")
                except OSError:
                    continue
                if t.startswith("socket:["):
                    inodes.add(t[8:-1])
            with open(f"/proc/{self.pid}/net/packet") as f:
                rows = [ln.split() for ln in f.read().splitlines()[1:]]
        except OSError:
            return []
        # sk RefCnt Type Proto Iface R Rmem User Inode
        return [(int(r[4]), r[5] == "1") for r in rows if len(r) >= 9 and r[8] in inodes]

    def capturing(self):
        """egressd holds a running packet socket bound to the interface's current ifindex."""
        idx = self.ns.ifindex(self.iface)
        return idx is not None and (idx, True) in self.packet_sockets()

    # -- output --

    def stdout_text(self):
        with open(self.out_path, errors="replace") as f:
            return f.read()

    def stderr(self):
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def log(self):
        """stderr without the counter blocks (SIGUSR1, --stats): the log lines."""
        return "\n".join(ln for ln in self.stderr().splitlines()
                         if not _STAT.match(ln.strip())
                         and not ln.startswith("capture.interface "))

    def docs(self):
        """The JSON documents written so far (complete lines only)."""
        with open(self.out_path, "rb") as f:
            data = f.read()
        lines = data.split(b"\n")[:-1]
        return [json.loads(ln) for ln in lines if ln.strip()]

    def alerts(self):
        return [d for d in self.docs() if d.get("event", {}).get("kind") == "alert"]

    def health(self, action=None):
        return [d for d in self.docs() if d.get("event", {}).get("dataset") == "egressd.health"
                and (action is None or d["event"].get("action") == action)]

    def flows(self):
        return [d for d in self.docs() if d.get("event", {}).get("dataset") == "egressd.flow"]

    def wait_alert(self, pred, timeout=20):
        """Wait for an alert satisfying pred(alert); returns it or None."""
        def look():
            return next((a for a in self.alerts() if pred(a)), None)
        return wait_for(look, timeout, 0.1)

    def wait_health(self, action, timeout=20):
        return wait_for(lambda: self.health(action), timeout, 0.1)

    def wait_stderr(self, pred, timeout=20):
        """Wait for a stderr line with pred(line.lower()); returns the line or None."""
        def look():
            return next((ln for ln in self.stderr().splitlines() if pred(ln.lower())), None)
        return wait_for(look, timeout, 0.1)

    # -- counters --

    def stats_blocks(self):
        return stat_blocks(self.stderr())

    def stats(self):
        """The last counter block (after exit: --stats)."""
        b = self.stats_blocks()
        return b[-1] if b else {}

    def usr1(self, timeout=10):
        """SIGUSR1, then the counter block it printed."""
        assert self.alive(), f"egressd exited ({self.proc.poll()}):\n{self.log()[-3000:]}"
        n = len(self.stats_blocks())
        size0 = os.path.getsize(self.err_path)
        os.kill(self.pid, signal.SIGUSR1)
        if not wait_for(lambda: len(self.stats_blocks()) > n, timeout, 0.02):
            raise AssertionError(f"no counters on stderr {timeout} s after SIGUSR1 "
                                 f"(egressd alive: {self.alive()}); stderr:\n"
                                 + self.stderr()[size0:][-3000:])
        # the block is complete once stderr stops growing for a moment
        last = -1
        while True:
            size = os.path.getsize(self.err_path)
            if size == last:
                break
            last = size
            time.sleep(0.05)
        return self.stats_blocks()[-1]

    def wait_counter(self, pred, timeout=30, step=0.2):
        """SIGUSR1 every `step` s until pred(block) holds; returns (ok, last block)."""
        end = time.monotonic() + timeout
        while True:
            st = self.usr1()
            if pred(st):
                return True, st
            if time.monotonic() >= end:
                return False, st
            time.sleep(step)

    # -- readiness --

    def wait_ready(self, timeout=30):
        """Wait until egressd captures on the interface and has counted a probe frame
        (capture.packets went up after one was sent). Returns the counters then (also
        kept in self.baseline; self.sent starts again from 0)."""
        end = time.monotonic() + timeout

        def left():
            return max(0.1, end - time.monotonic())

        def up():
            if not self.alive():
                raise AssertionError(f"egressd exited ({self.proc.poll()}): {self.cmd()}\n"
                                     + self.log()[-3000:])
            return self.is_egressd() and self.capturing() and self.catches_usr1()
        if not wait_for(up, left(), 0.05):
            raise AssertionError(
                f"egressd not capturing on {self.iface} within {timeout} s "
                f"(packet sockets {self.packet_sockets()}, ifindex "
                f"{self.ns.ifindex(self.iface)}, SIGUSR1 handled {self.catches_usr1()}): "
                f"{self.cmd()}\n" + self.log()[-3000:])
        n0 = self.usr1().get("capture.packets", 0)   # counts are kept over a reopen
        while True:
            self.ns.probe()
            ok, st = self.wait_counter(lambda s: s.get("capture.packets", 0) > n0,
                                       timeout=0.5, step=0.1)
            if ok:
                self.baseline = st
                self.sent = 0
                return st
            if time.monotonic() >= end:
                raise AssertionError(f"probe frames sent on {TX} never counted by egressd "
                                     f"(capture.packets) within {timeout} s; last: {st}\n"
                                     + self.log()[-3000:])

    def replay(self, pcap, *opts):
        """NetNS.replay, counting what was sent into self.sent."""
        r = self.ns.replay(pcap, *opts)
        self.sent += r.successful
        return r

    def settle(self, sent=None, timeout=60):
        """After replays of `sent` packets (default: self.sent) since wait_ready(), wait
        until egressd has read or lost them all: capture.packets +
        capture.kernel_dropped, minus the baseline, reaches `sent`. Returns (ok,
        counters)."""
        b = self.baseline
        if sent is None:
            sent = self.sent

        def done(s):
            return (s.get("capture.packets", 0) - b.get("capture.packets", 0)
                    + s.get("capture.kernel_dropped", 0) - b.get("capture.kernel_dropped", 0)
                    ) >= sent
        return self.wait_counter(done, timeout, 0.2)

    # -- ending --

    def terminate(self, timeout=60, sig=signal.SIGTERM):
        """Send sig (SIGTERM), wait for the exit; returns the exit status."""
        if self.proc.poll() is None:
            os.kill(self.pid, sig)
        try:
            self.rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise AssertionError(f"egressd did not exit within {timeout} s of signal {sig}: "
                                 f"{self.cmd()}\n" + self.log()[-3000:])
        return self.rc

    def kill9(self):
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
        self.rc = self.proc.wait(timeout=10)
        return self.rc


def selftest(workdir):
    """Prove the harness on this machine, without egressd: the namespace, the veth pair,
    an idle rx that sees nothing (IPv6 off), tcpreplay into tx arriving on rx in full,
    deleting/recreating the pair, and cleanup. Returns a list of what was checked."""
    done = []
    pcap = os.path.join(workdir, "selftest.pcap")
    subprocess.run([sys.executable, GEN, "--scenario", "basic", "-o", pcap], check=True)
    n = len(pcap_records(pcap)[1])
    with NetNS(workdir) as ns:
        assert ns.exists()
        assert subprocess.run([IP, "-n", ns.name, "link", "show", "dev", RX],
                              capture_output=True).returncode == 0
        # idle: nothing at all arrives on rx for 3 s (link-up noise included)
        res = ns.tcpdump_count(1, 3)
        assert res() == 0, "idle rx saw packets (IPv6 ND/MLD?)"
        done.append("idle rx: 0 packets in 3 s")
        # a replay arrives completely, with tcpreplay's count as the truth
        res = ns.tcpdump_count(n, 20)
        r = ns.replay(pcap, "--mbps", "200")
        got = res()
        assert r.successful == n == got, (r, n, got)
        done.append(f"replay: {n} sent, {got} seen on rx")
        # the probe frame arrives
        res = ns.tcpdump_count(1, 10)
        ns.probe()
        assert res() == 1
        done.append("probe frame seen on rx")
        # delete and recreate
        ns.del_veth()
        assert ns.link(RX) is None and ns.link(TX) is None
        ns.add_veth()
        assert ns.link(RX)["operstate"] in ("UP", "UNKNOWN")
        res = ns.tcpdump_count(n, 20)
        r = ns.replay(pcap, "--mbps", "200")
        assert res() == n
        done.append("veth deleted and recreated, replay arrives again")
        # IPv6 off on the recreated pair
        v = ns.run(["sysctl", "-n", f"net.ipv6.conf.{RX}.disable_ipv6"]).stdout.strip()
        assert v == "1", v
        done.append("IPv6 disabled on the recreated rx")
        name = ns.name
        sleeper = ns.popen(["sleep", "300"])
    assert sleeper.poll() is not None, "close() left a process running"
    assert not os.path.exists(f"/run/netns/{name}"), "namespace not deleted"
    done.append("cleanup: process killed, namespace deleted")
    return done


if __name__ == "__main__":
    why = netns_unavailable()
    if why:
        print("UNAVAILABLE:", why)
        sys.exit(1)
    d = tempfile.mkdtemp(prefix="egr-selftest-")
    try:
        for line in selftest(d):
            print("ok:", line)
    finally:
        shutil.rmtree(d, ignore_errors=True)
