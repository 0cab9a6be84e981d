"""Harness for the Redis output tests (test_redis.py): a private redis-server, a slow
pcap feeder, an egressd process wrapper and the capture with many alerts.

* RedisServer runs a real redis-server in its own temporary directory, on a private unix
  socket (mode 700) and, when asked, on a free loopback TCP port; always with an
  append-only file fsynced at every write (--appendonly yes --appendfsync always) and no
  RDB snapshots, so what Redis acknowledged survives kill9() and comes back on restart().
  stop()/cont() send SIGSTOP/SIGCONT to the server's own pid (stop() waits until /proc
  shows it stopped); close() resumes and kills it (by pid) and removes the directory.
  client(), config_set(), acl_setuser(), protect_default() (a password on the default
  user, for NOAUTH), monitor() (redis-cli monitor into a file), entries() (XRANGE).
  Only processes this module started are ever signalled.
* Egressd starts build/egressd (or $EGRESSD) with stdout/stderr in files, optionally with
  its standard input as a pipe for a Feeder.
* Feeder writes a pcap into egressd's standard input from a thread: the global header,
  then the packet records in `chunks` pieces with `pause` seconds between them, so a
  fault injected after chunk k lands in the middle of the alerts. wait_chunks(k) lets the
  test act at a point of the data rather than at a guessed time.
* many_alerts_capture() writes the capture of data/redis/many-alerts.json with egen
  (48 uploading hosts -> 48 alerts + 48 updates under data/redis/rules.yaml).
"""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import redis

import flowcmp as fc

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "redis")
GEN = os.path.join(fc.ROOT, "tests", "gen", "egen.py")
SCENARIO = os.path.join(DATA, "many-alerts.json")
RULES = os.path.join(DATA, "rules.yaml")
SNAPLEN = 400          # short records keep the capture small; the ClientHello still fits
HOSTS = 48             # uploading hosts in many-alerts.json: one alert + one update each
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def _deadline_loop(timeout, step=0.02):
    """Yield until timeout seconds have passed, sleeping step between iterations."""
    end = time.monotonic() + timeout
    while True:
        yield
        if time.monotonic() >= end:
            return
        time.sleep(step)


def wait_for(pred, timeout, step=0.02):
    """Poll pred() until it is true (returns its value) or timeout (returns the last)."""
    v = None
    for _ in _deadline_loop(timeout, step):
        v = pred()
        if v:
            return v
    return v


def free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server of our own. Unix socket always (DIR/redis.sock); TCP on 127.0.0.1
    when tcp=True. The directory is short (under /tmp) so the socket path fits in
    sun_path whatever pytest's tmp_path is."""

    def __init__(self, tcp=False, extra=()):
        self.dir = tempfile.mkdtemp(prefix="egr-redis-", dir="/tmp")
        self.sock = os.path.join(self.dir, "redis.sock")
        self.tcp = tcp
        self.port = 0
        self.extra = list(extra)
        self.proc = None
        self.log = os.path.join(self.dir, "redis.log")
        self._clients = []
        self._stopped = False
        self.admin_password = None   # set by protect_default()
        try:
            if tcp:
                for _ in range(5):
                    self.port = free_tcp_port()
                    if self._start(raise_=False):
                        break
                else:
                    raise RuntimeError("redis-server did not start on a free port:\n"
                                       + self.log_text())
            else:
                self._start()
        except BaseException:
            self.close()
            raise

    # -- process control --

    def _argv(self):
        return [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                "--unixsocket", self.sock, "--unixsocketperm", "700",
                "--appendonly", "yes", "--appendfsync", "always", "--dir", self.dir,
                "--save", "", "--daemonize", "no", "--logfile", self.log,
                "--protected-mode", "no"] + self.extra

    def _start(self, raise_=True):
        self.proc = subprocess.Popen(self._argv(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._stopped = False
        ok = wait_for(self._ready, 10, 0.02)
        if not ok:
            self._kill_proc()
            if raise_:
                raise RuntimeError("redis-server did not answer PING in 10 s:\n" + self.log_text())
            return False
        return True

    def _ready(self):
        if self.proc.poll() is not None:
            return False
        try:
            c = redis.Redis(unix_socket_path=self.sock, socket_timeout=1,
                            socket_connect_timeout=1, password=self.admin_password)
            try:
                return c.ping() and c.info("persistence").get("loading") == 0
            finally:
                c.close()
        except redis.exceptions.RedisError:
            return False

    def _kill_proc(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.kill(self.proc.pid, signal.SIGCONT)
            os.kill(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        """SIGKILL the server and reap it; acknowledged writes are in the AOF."""
        self._close_clients()
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._stopped = False

    def restart(self):
        """Start again on the same directory, socket and port: the AOF is replayed."""
        if self.alive():
            self.kill9()
        self._start()

    def state(self):
        """The server's scheduler state letter from /proc (R, S, T ...)."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return "?"

    def stop(self):
        """SIGSTOP, and wait until the kernel shows it stopped (delivery is async)."""
        os.kill(self.proc.pid, signal.SIGSTOP)
        self._stopped = True
        if not wait_for(lambda: self.state() == "T", 5, 0.005):
            raise RuntimeError(f"redis-server {self.proc.pid} not stopped: {self.state()}")

    def cont(self):
        os.kill(self.proc.pid, signal.SIGCONT)
        self._stopped = False
        wait_for(lambda: self.state() != "T", 5, 0.005)

    def close(self):
        """Resume, kill (by pid) and remove the directory. Safe to call twice."""
        self._close_clients()
        self._kill_proc()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    # -- clients and admin --

    def client(self, **kw):
        """A redis-py client on the unix socket as the default (all-powerful) user."""
        kw.setdefault("socket_timeout", 5)
        kw.setdefault("password", self.admin_password)
        c = redis.Redis(unix_socket_path=self.sock, **kw)
        self._clients.append(c)
        return c

    def _close_clients(self):
        for c in self._clients:
            try:
                c.close()
            except Exception:
                pass
        self._clients = []

    def config_set(self, name, value):
        c = self.client()
        return c.config_set(name, value)

    def acl_setuser(self, user, *rules):
        """ACL SETUSER user rule...; e.g. acl_setuser("sensor", "reset", "on", ">pw",
        "~egressd:alerts", "+xadd", "+ping")."""
        return self.client().execute_command("ACL", "SETUSER", user, *rules)

    def protect_default(self, password):
        """Give the default user a password (clients without one get NOAUTH); this
        harness's own clients use it from now on."""
        self.client().execute_command("ACL", "SETUSER", "default", "resetpass", ">" + password)
        self._close_clients()
        self.admin_password = password

    def monitor(self, path):
        """Start `redis-cli monitor` writing to path; returns the Popen (stop it with
        its terminate(); the servers fixture does not know it)."""
        cmd = [shutil.which("redis-cli") or "/usr/bin/redis-cli", "-s", self.sock]
        env = dict(os.environ)
        if self.admin_password:
            env["REDISCLI_AUTH"] = self.admin_password
        out = open(path, "wb")
        p = subprocess.Popen(cmd + ["monitor"], stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, env=env)
        out.close()
        if not wait_for(lambda: os.path.getsize(path) > 0, 5):   # "OK" once it listens
            p.kill()
            p.wait()
            raise RuntimeError("redis-cli monitor did not start")
        return p

    def url(self, user=None, db=None, params=""):
        """redis://[USER@]127.0.0.1:PORT[/DB][?PARAMS] (TCP servers only)."""
        assert self.tcp, "url() needs a TCP server"
        u = "redis://" + (user + "@" if user else "") + f"127.0.0.1:{self.port}"
        if db is not None:
            u += f"/{db}"
        return u + ("?" + params if params else "")

    def unix(self, params=""):
        """unix:SOCKET[?PARAMS]"""
        return "unix:" + self.sock + ("?" + params if params else "")

    def entries(self, key="egressd:alerts", db=0):
        """XRANGE key - +: [(id str, {field str: value bytes})]."""
        c = self.client(db=db)
        out = []
        for eid, fields in c.xrange(key, "-", "+"):
            out.append((eid.decode(), {k.decode(): v for k, v in fields.items()}))
        return out

    def xlen(self, key="egressd:alerts", db=0):
        return self.client(db=db).xlen(key)


# ---- egressd ----

def parse_stats(text):
    """`name value` lines of --stats."""
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            out[parts[0]] = int(parts[1])
    return out


class Egressd:
    """One egressd process. stdin: a pipe when feed=True (for a Feeder), else /dev/null.
    stdout and stderr go to files in workdir, read after it ends."""

    def __init__(self, args, workdir, feed=False, env=None, tag="egressd"):
        self.args = [fc.EGRESSD] + list(args)
        self.out_path = os.path.join(workdir, tag + ".stdout")
        self.err_path = os.path.join(workdir, tag + ".stderr")
        e = dict(os.environ)
        e.update(env or {})
        with open(self.out_path, "wb") as o, open(self.err_path, "wb") as er:
            self.proc = subprocess.Popen(self.args, stdin=subprocess.PIPE if feed else
                                         subprocess.DEVNULL, stdout=o, stderr=er, env=e)
        self.rc = None

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def cmdline(self):
        """/proc/PID/cmdline as bytes (b"" once the process is gone)."""
        try:
            with open(f"/proc/{self.proc.pid}/cmdline", "rb") as f:
                return f.read()
        except OSError:
            return b""

    def wait(self, timeout=60):
        try:
            self.rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise AssertionError(f"egressd did not exit within {timeout} s: {self.args}\n"
                                 + self.stderr()[-3000:])
        return self.rc

    def kill9(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.rc = self.proc.wait(timeout=10)
        if self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        return self.rc

    def stop_if_running(self):
        if self.proc.poll() is None:
            self.kill9()

    def stderr(self):
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def stderr_bytes(self):
        with open(self.err_path, "rb") as f:
            return f.read()

    def stats(self):
        return parse_stats(self.stderr())


def run(args, workdir, env=None, timeout=120, tag="egressd"):
    """Run egressd to completion (stdin /dev/null); returns the Egressd (rc set)."""
    e = Egressd(args, workdir, env=env, tag=tag)
    e.wait(timeout)
    return e


# ---- the slow feeder ----

def pcap_records(path):
    """(global header bytes, [record bytes]) of a classic little-endian pcap."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"\xd4\xc3\xb2\xa1", "feeder wants a little-endian µs pcap"
    recs = []
    off = 24
    while off < len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        recs.append(data[off:off + 16 + incl])
        off += 16 + incl
    assert off == len(data), "truncated pcap"
    return data[:24], recs


class Feeder(threading.Thread):
    """Writes a pcap into a process's stdin: header, then the packet records in `chunks`
    pieces of equal packet count, `pause` seconds apart; closes stdin at the end (or
    when the reader dies: the error is kept in .error)."""

    def __init__(self, proc, pcap, chunks=10, pause=0.6):
        super().__init__(daemon=True)
        self.stdin = proc.proc.stdin
        self.header, recs = pcap_records(pcap)
        n = len(recs)
        self.chunks = [b"".join(recs[i * n // chunks:(i + 1) * n // chunks])
                       for i in range(chunks)]
        self.pause = pause
        self.written = 0
        self.error = None
        self.cv = threading.Condition()
        self._abort = threading.Event()
        self._hold = False

    def run(self):
        try:
            self.stdin.write(self.header)
            self.stdin.flush()
            for i, c in enumerate(self.chunks):
                if i and self._abort.wait(self.pause):
                    break
                self.stdin.write(c)
                self.stdin.flush()
                with self.cv:
                    self.written = i + 1
                    self.cv.notify_all()
        except (BrokenPipeError, ValueError, OSError) as e:
            self.error = e
        finally:
            if not self._hold:
                try:
                    self.stdin.close()
                except OSError:
                    pass
            with self.cv:
                self.cv.notify_all()

    def wait_chunks(self, k, timeout=30):
        """Wait until k chunks are written (True), or timeout/feeder end (False)."""
        end = time.monotonic() + timeout
        with self.cv:
            while self.written < k and self.is_alive():
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.cv.wait(left)
            return self.written >= k

    def abort(self):
        """Stop after the current chunk and close stdin (egressd sees the end of input)."""
        self._abort.set()

    def hold(self):
        """Stop after the current chunk but keep stdin open: egressd keeps running, idle,
        until it is killed (Egressd.kill9 closes the pipe)."""
        self._hold = True
        self._abort.set()
        self.join(10)

    def finish(self, timeout=60):
        self.join(timeout)
        assert not self.is_alive(), "feeder stuck: egressd stopped reading its input"


# ---- captures ----

def generate(scenario_path, pcap, snaplen=SNAPLEN):
    subprocess.run([sys.executable, GEN, scenario_path, "-o", pcap, "--snaplen", str(snaplen)],
                   check=True)
    return pcap


def many_alerts_capture(tmpdir, net="10.1."):
    """The many-alerts capture, its hosts moved to `net` (e.g. "10.2.") for a second,
    distinct sensor. Returns (pcap path, list of the uploading hosts' addresses)."""
    with open(SCENARIO) as f:
        sc = json.load(f)
    for st in sc["steps"]:
        assert st["client"].startswith("10.1.")
        st["client"] = net + st["client"][len("10.1."):]
    name = "many-" + net.strip(".").replace(".", "-")
    spec = os.path.join(tmpdir, name + ".json")
    with open(spec, "w") as f:
        json.dump(sc, f)
    pcap = generate(spec, os.path.join(tmpdir, name + ".pcap"))
    return pcap, [st["client"] for st in sc["steps"]]


def empty_capture(path, snaplen=SNAPLEN):
    """A pcap with the global header and no packet."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, 1))
    return path


def sensor_config(path, name="egressd", extra=""):
    """sensor.yaml with the test rules, 10.0.0.0/8 internal, observer name `name`."""
    with open(path, "w") as f:
        f.write(f"sensor_name: {name}\nhome_net: [10.0.0.0/8]\nrules: [{RULES}]\n" + extra)
    return path


def file_lines(path, killed=False):
    """Lines of an output file as bytes, without their newlines ([] if absent). killed:
    the writer was killed, so a partly written last line (stdio buffering) is dropped."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    assert killed or not data or data.endswith(b"\n"), f"{path}: last line not terminated"
    return data.split(b"\n")[:-1]
