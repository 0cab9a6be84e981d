"""Redis Streams output, end to end, against a real redis-server (redisenv.RedisServer).

Every delivery test runs egressd with `-o file:REF` and a Redis output at once: the file
is the reference, and the stream (XRANGE - +) must hold exactly its lines, in its order,
byte for byte in the document field, with `kind`/`rule`/`sev` agreeing with each
document; nothing missing, nothing twice. The capture (data/redis/many-alerts.json under
data/redis/rules.yaml) makes 48 alerts and 48 updates, one pair per uploading host, which
is checked against the scenario's design (not against egressd's own output). Faults are
injected mid-stream by feeding the capture into `-r -` slowly (redisenv.Feeder) and
acting after chunk k: Redis kill -9 and restart, SIGSTOP beyond the timeout, OOM under a
tiny maxmemory, egressd kill -9 with a spool, ACL refusals, wrong passwords, a wrong key
type, two sensors on one stream. Run: /usr/bin/python3 -m pytest tests/e2e/test_redis.py
"""
import collections
import json
import os
import re
import shutil
import time

import pytest

redis = pytest.importorskip("redis")
if not shutil.which("redis-server"):
    pytest.skip("redis-server is not installed", allow_module_level=True)

import flowcmp as fc  # noqa: E402
import redisenv as R  # noqa: E402

STREAM = "egressd:alerts"
CHUNKS = 10      # the slow feed: 10 chunks 0.7 s apart, about 6.5 s of wall time
PAUSE = 0.7
ERROR_KINDS = ("io", "timeout", "oom", "noperm", "auth", "wrongtype", "other")
# rules.yaml: the destination's category decides the rule, the rule its severity
DESIGN = {"pastebin.com": ("redis-test-paste-high", 3),
          "discord.com": ("redis-test-webhook-medium", 2),
          "github.com": ("redis-test-code-low", 1)}


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """Captures, configs and the reference alerts of a plain run, checked against the
    scenario's design."""
    d = tmp_path_factory.mktemp("redis-data")
    pcap_a, hosts_a = R.many_alerts_capture(str(d), "10.1.")
    pcap_b, hosts_b = R.many_alerts_capture(str(d), "10.2.")
    cfg_a = R.sensor_config(str(d / "sensor-a.yaml"), "sensor-a")
    cfg_b = R.sensor_config(str(d / "sensor-b.yaml"), "sensor-b")
    empty = R.empty_capture(str(d / "empty.pcap"))
    refs = {}
    for tag, pcap, cfg, hosts in (("a", pcap_a, cfg_a, hosts_a), ("b", pcap_b, cfg_b, hosts_b)):
        out = str(d / f"plain-{tag}.json")
        e = R.run(["-C", cfg, "-r", pcap, "-o", "file:" + out], str(d), tag="plain-" + tag)
        assert e.rc == 0, e.stderr()
        refs[tag] = R.file_lines(out)
        check_design(refs[tag], hosts, "sensor-" + tag)
    return dict(dir=d, pcap=pcap_a, cfg=cfg_a, hosts=hosts_a, pcap_b=pcap_b, cfg_b=cfg_b,
                empty=empty, ref=refs["a"], ref_b=refs["b"])


@pytest.fixture
def servers():
    """Factory of RedisServers; every one is resumed, killed and removed at teardown."""
    made = []

    def make(tcp=False, extra=()):
        s = R.RedisServer(tcp=tcp, extra=extra)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


@pytest.fixture
def procs(tmp_path):
    """Factory of egressd processes (and their feeders); any still running at teardown
    is killed by pid."""
    made = []

    def start(args, feed=False, env=None, tag="egressd"):
        e = R.Egressd(args, str(tmp_path), feed=feed, env=env, tag=tag)
        made.append(e)
        return e
    yield start
    for e in made:
        e.stop_if_running()
    for e in made:   # shown by pytest when the test fails (or with -rP)
        print(f"--- {os.path.basename(e.err_path)}: exit {e.rc}: {' '.join(e.args)}")
        print("\n".join(x for x in e.stderr().splitlines()
                        if "redis" in x or not re.match(r"^\S+ +\d+$", x))[-6000:])


@pytest.fixture
def redis_srv(servers):
    return servers()


# ---------------------------------------------------------------- checks

def check_design(lines, hosts, sensor):
    """The reference alerts are what the scenario was built to give: per uploading host
    one alert of the rule of its destination's category, and one update of it."""
    docs = [json.loads(x) for x in lines]
    assert len(docs) == 2 * len(hosts) == 2 * R.HOSTS, f"{len(docs)} documents"
    ids = [d["event"]["id"] for d in docs]
    assert len(set(ids)) == len(ids), "event.id repeated in the reference"
    firsts = [d for d in docs if "update_of" not in d["egressd"]]
    ups = [d for d in docs if "update_of" in d["egressd"]]
    assert sorted(d["source"]["ip"] for d in firsts) == sorted(hosts)
    assert sorted(d["egressd"]["update_of"] for d in ups) == sorted(d["event"]["id"] for d in firsts)
    for d in docs:
        assert d["event"]["kind"] == "alert"
        assert (d["rule"]["id"], d["event"]["severity"]) == DESIGN[d["destination"]["domain"]]
        assert d["observer"]["name"] == sensor
    # the alerts are spread over the capture (hosts 75 s apart), not all at the end
    assert [d["source"]["ip"] for d in firsts] == hosts
    pos = [i for i, d in enumerate(docs) if "update_of" not in d["egressd"]]
    assert len(docs) // 4 <= pos[len(pos) // 2] <= 3 * len(docs) // 4, pos


def stream_lines(entries, field="event"):
    return [f.get(field) for _, f in entries]


def diff_summary(got, want):
    """A short description of how the stream's documents differ from the file's."""
    cg, cw = collections.Counter(got), collections.Counter(want)
    missing = sum((cw - cg).values())
    extra = sum(n for k, n in cg.items() if k not in cw)
    dups = sum(n - 1 for n in cg.values() if n > 1)
    first = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))

    def eid(x):
        try:
            return json.loads(x)["event"]["id"][:12]
        except Exception:
            return repr(x)[:40]
    at = (f"first difference at index {first}: stream "
          f"{eid(got[first]) if first < len(got) else '(end)'} vs file "
          f"{eid(want[first]) if first < len(want) else '(end)'}")
    return (f"stream has {len(got)} entries, file {len(want)} lines: {missing} missing, "
            f"{extra} not in the file, {dups} duplicated; {at}")


def check_stream(entries, lines, field="event", what="stream", unique_ids=True):
    """The stream holds exactly the file's lines, in order, with consistent fields."""
    assert lines, "the reference file is empty"
    got = stream_lines(entries, field)
    assert got == lines, f"{what}: " + diff_summary(got, lines)
    for (eid, f), line in zip(entries, lines):
        d = json.loads(line)
        assert set(f) == {field, "kind", "rule", "sev"}, f"entry {eid}: fields {sorted(f)}"
        assert f["kind"] == b"alert" == d["event"]["kind"].encode(), f"entry {eid}: kind {f['kind']}"
        assert f["rule"] == d["rule"]["id"].encode(), f"entry {eid}: rule {f['rule']}"
        assert f["sev"] == str(d["event"]["severity"]).encode(), f"entry {eid}: sev {f['sev']}"
    ids = [json.loads(x)["event"]["id"] for x in lines]
    assert not unique_ids or len(set(ids)) == len(ids), "event.id repeated in the file"
    eids = [tuple(int(p) for p in eid.split("-")) for eid, _ in entries]
    assert eids == sorted(eids) and len(set(eids)) == len(eids)


COUNTERS = (["sent", "retried", "spooled", "replayed", "dropped", "deduplicated", "reconnects",
             "spool.pending"] + ["errors." + k for k in ERROR_KINDS])


def check_clean_stats(st, n, what="run"):
    """Counters of a run where Redis was healthy all along."""
    missing = [c for c in COUNTERS if "output.redis." + c not in st]
    assert not missing, f"{what}: --stats lacks output.redis.{missing}"
    assert st.get("output.redis.sent") == n, f"{what}: output.redis.sent {st.get('output.redis.sent')}, want {n}"
    for k in ("dropped", "spooled", "replayed", "retried", "deduplicated", "spool.pending"):
        assert st.get("output.redis." + k, 0) == 0, f"{what}: output.redis.{k} = {st.get('output.redis.' + k)}"
    for k in ERROR_KINDS:
        assert st.get("output.redis.errors." + k) == 0, f"{what}: output.redis.errors.{k} = {st.get('output.redis.errors.' + k)}"


def check_no_secret(secret, *texts):
    for t in texts:
        b = t if isinstance(t, bytes) else t.encode()
        assert secret.encode() not in b, "the password appears in: " + repr(b[-300:])


def settle(measure, quiet=1.0, timeout=10.0):
    """Wait until measure() has not changed for `quiet` seconds (or timeout)."""
    last, since = measure(), time.monotonic()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        time.sleep(0.05)
        v = measure()
        if v != last:
            last, since = v, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return last


def dir_bytes(path):
    n = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                n += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return n


def slow_run(procs, env, tmp_path, redis_spec, extra=(), tag="egressd", cfg=None, pcap=None,
             environ=None):
    """Start egressd on `-r -` with -o file:REF and the Redis output, and a feeder.
    Returns (egressd, feeder, ref path)."""
    ref = str(tmp_path / (tag + ".json"))
    args = ["-C", cfg or env["cfg"], "-r", "-", "--stats", "-o", "file:" + ref,
            "-o", redis_spec] + list(extra)
    e = procs(args, feed=True, env=environ, tag=tag)
    f = R.Feeder(e, pcap or env["pcap"], CHUNKS, PAUSE)
    f.start()
    return e, f, ref


def finish_and_check(e, f, r, env, ref):
    """End the feed, wait for exit 0; the file holds the run's alerts, the stream holds
    exactly them, nothing was dropped. Returns the --stats counters."""
    f.finish()
    assert e.wait(60) == 0, e.stderr()
    lines = R.file_lines(ref)
    assert lines == env["ref"]
    check_stream(r.entries(), lines)
    st = e.stats()
    assert st.get("output.redis.dropped") == 0
    return st


def fast_run(procs, env, tmp_path, outputs, extra=(), environ=None, tag="egressd",
             pcap=None, cfg=None):
    ref = str(tmp_path / (tag + ".json"))
    args = ["-C", cfg or env["cfg"], "-r", pcap or env["pcap"], "--stats", "-o", "file:" + ref]
    for o in outputs:
        args += ["-o", o]
    e = procs(args + list(extra), env=environ, tag=tag)
    e.wait(90)
    return e, ref


# ---------------------------------------------------------------- the harness itself

def test_harness_redis_persists_across_kill9_and_stops(servers):
    r = servers()
    c = r.client()
    c.set("probe", "acknowledged")
    c.xadd("probe:s", {"a": "1"})
    r.kill9()
    assert not r.alive()
    r.restart()
    c = r.client()
    assert c.get("probe") == b"acknowledged" and c.xlen("probe:s") == 1
    r.stop()
    assert r.state() == "T"
    with pytest.raises(redis.exceptions.TimeoutError):
        redis.Redis(unix_socket_path=r.sock, socket_timeout=0.3).ping()
    r.cont()
    assert r.client().ping()
    pid, d = r.pid, r.dir
    r.close()
    assert not os.path.exists(d) and not os.path.exists(f"/proc/{pid}/stat")


def test_harness_feeder_gives_the_plain_run_alerts(env, procs, tmp_path):
    out = str(tmp_path / "fed.json")
    e = procs(["-C", env["cfg"], "-r", "-", "-o", "file:" + out], feed=True)
    f = R.Feeder(e, env["pcap"], chunks=5, pause=0.15)
    f.start()
    f.finish()
    assert e.wait(60) == 0, e.stderr()
    assert R.file_lines(out) == env["ref"]


# ---------------------------------------------------------------- a. healthy runs

@pytest.mark.parametrize("variant", ["unix", "tcp-db", "unix-eve-db-stream", "unix-durations"])
def test_delivery_healthy(env, servers, procs, tmp_path, variant):
    r = servers(tcp=variant.startswith("tcp"))
    key, db, field = STREAM, 0, "event"
    if variant == "unix":
        spec = r.unix()
    elif variant == "tcp-db":
        key, db = "alerts:tcp", 3
        spec = r.url(db=3, params="stream=alerts:tcp")
    elif variant == "unix-eve-db-stream":
        key, db, field = "sensor-a:eve", 2, "eve"
        spec = r.unix("db=2&field=eve&stream=sensor-a:eve")
    else:
        spec = r.unix("timeout=1m&drain=500ms&maxlen=100000&dedupe=id&field=event")
    e, ref = fast_run(procs, env, tmp_path, [spec])
    assert e.rc == 0, e.stderr()
    lines = R.file_lines(ref)
    assert lines == env["ref"], "the file output differs from a plain run"
    check_stream(r.entries(key, db=db), lines, field)
    if db:
        assert r.client().dbsize() == 0, "keys written to db 0 although db %d was asked" % db
    check_clean_stats(e.stats(), len(lines))


def test_maxlen_trims_approximately_and_keeps_the_newest(env, servers, procs, tmp_path):
    r = servers()
    # trimming with MAXLEN ~ removes whole stream nodes: small nodes make it visible
    r.config_set("stream-node-max-entries", 10)
    e, ref = fast_run(procs, env, tmp_path, [r.unix("maxlen=20&stream=short")])
    assert e.rc == 0, e.stderr()
    lines = R.file_lines(ref)
    ent = r.entries("short")
    assert 20 <= len(ent) <= 20 + 10, f"maxlen=20 (nodes of 10): XLEN {len(ent)}"
    check_stream(ent, lines[-len(ent):])
    assert e.stats().get("output.redis.sent") == len(lines)


def test_flow_records_are_not_sent(env, redis_srv, procs, tmp_path):
    r = redis_srv
    e, ref = fast_run(procs, env, tmp_path, [r.unix()], extra=["--flows"])
    assert e.rc == 0, e.stderr()
    lines = R.file_lines(ref)
    alerts = [x for x in lines if json.loads(x)["event"]["kind"] == "alert"]
    assert len(lines) > len(alerts) == len(env["ref"])
    check_stream(r.entries(), alerts)


def test_yaml_outputs(env, redis_srv, procs, tmp_path):
    r = redis_srv
    r.acl_setuser("egressd", "reset", "on", ">yaml-pw", "~egressd:yaml", "+xadd", "+ping")
    ref = tmp_path / "yaml-ref.json"
    cfg = R.sensor_config(
        str(tmp_path / "s.yaml"), "sensor-a",
        f"outputs:\n  - file: {ref}\n"
        f"  - redis: {{unix: {r.sock}, stream: \"egressd:yaml\", maxlen: 100000, dedupe: id,\n"
        f"            user: egressd, password_env: MYVAR, timeout: 2s, field: event, drain: 5s,\n"
        f"            spool: {{path: {tmp_path / 'spool'}, max_size: 1GB, fsync: batch}}}}\n")
    p = fc.run(["-T", "-C", cfg])
    assert p.returncode == 0, p.stderr
    e = procs(["-C", cfg, "-r", env["pcap"], "--stats"], env={"MYVAR": "yaml-pw"})
    assert e.wait(90) == 0, e.stderr()
    lines = R.file_lines(str(ref))
    assert lines == env["ref"]
    check_stream(r.entries("egressd:yaml"), lines)
    check_clean_stats(e.stats(), len(lines))
    check_no_secret("yaml-pw", e.stderr())


def test_bad_parameters_are_named(env, redis_srv, tmp_path):
    for bad, word in (("dedupe=maybe", "dedupe"), ("colour=blue", "colour"),
                      ("maxlen=lots", "maxlen"), ("field=kind", "field"),
                      ("timeout=soon", "timeout")):
        p = fc.run(["-r", env["empty"], "-o", redis_srv.unix(bad)])
        assert p.returncode in (64, 78), f"{bad}: exit {p.returncode}\n{p.stderr}"
        assert word in p.stderr, f"{bad}: {p.stderr}"


def test_password_source_and_yaml_problems_are_named(env, tmp_path):
    sock = str(tmp_path / "r.sock")
    missing = str(tmp_path / "no-such-password-file")
    p = fc.run(["-r", env["empty"], "-o", f"unix:{sock}?user=u&password_file={missing}"])
    assert p.returncode == 78 and missing in p.stderr, p.stderr
    env_ = {k: v for k, v in os.environ.items() if k != "EGR_UNSET_PW"}
    p = fc.run(["-r", env["empty"], "-o", f"unix:{sock}?user=u&password_env=EGR_UNSET_PW"],
               env=env_)
    assert p.returncode == 78 and "EGR_UNSET_PW" in p.stderr, p.stderr
    cfg = tmp_path / "bad.yaml"
    line = f"  - redis: {{unix: {sock}, stream: s, colour: blue}}"
    cfg.write_text(f"outputs:\n{line}\n")
    p = fc.run(["-T", "-C", str(cfg)])
    # an unknown key is named by its position, not quoted: it may be the password
    col = line.index("colour") + 1
    assert p.returncode == 78, p.stderr
    assert f"{cfg}:2:{col}: outputs: redis: unknown setting (" in p.stderr, p.stderr


def test_event_id_dedupe_drops_a_replayed_capture(env, redis_srv, procs, tmp_path):
    """dedupe=event-id: the same capture twice gives the same event ids; the second
    run's documents are all refused by the server-side check."""
    r = redis_srv
    spec = r.unix("dedupe=event-id")
    e1, ref1 = fast_run(procs, env, tmp_path, [spec], tag="first")
    assert e1.rc == 0, e1.stderr()
    e2, ref2 = fast_run(procs, env, tmp_path, [spec], tag="second")
    assert e2.rc == 0, e2.stderr()
    assert R.file_lines(ref1) == R.file_lines(ref2) == env["ref"]
    check_stream(r.entries(), env["ref"])
    st = e2.stats()
    assert st.get("output.redis.deduplicated") == len(env["ref"]), st
    assert st.get("output.redis.dropped") == 0


# ---------------------------------------------------------------- b. Redis kill -9

@pytest.mark.parametrize("keep", ["spool", "memory"])
def test_redis_kill9_and_restart(env, redis_srv, procs, tmp_path, keep):
    r = redis_srv
    spool = str(tmp_path / "spool")
    e, f, ref = slow_run(procs, env, tmp_path, r.unix("spool=" + spool + "&fsync=never"
                                                      if keep == "spool" else ""))
    assert f.wait_chunks(3)
    r.kill9()
    f.wait_chunks(8, timeout=10)    # ~3 s later, five chunks of alerts made meanwhile
    r.restart()
    st = finish_and_check(e, f, r, env, ref)
    assert st.get("output.redis.reconnects", 0) >= 1, st
    assert st.get("output.redis.spool.pending") == 0, st
    assert st.get("output.redis.errors.io", 0) >= 1, st
    if keep == "spool":
        assert st.get("output.redis.spooled", 0) >= 1, "Redis was down 3 s: nothing spooled?"
        assert st.get("output.redis.replayed", 0) >= 1, st
    else:
        assert st.get("output.redis.spooled", 0) == 0, st
        assert st.get("output.redis.retried", 0) >= 1, st


# ---------------------------------------------------------------- c. Redis SIGSTOP

@pytest.mark.parametrize("keep", ["memory", "spool"])
def test_redis_sigstop_beyond_timeout(env, redis_srv, procs, tmp_path, keep):
    """The commands egressd wrote before its timeout wait in the stopped server's socket
    and run when it resumes: the retries (from memory, or replayed from the spool) must
    not add them a second time."""
    r = redis_srv
    params = "timeout=500ms" + ("&spool=" + str(tmp_path / "spool") if keep == "spool" else "")
    e, f, ref = slow_run(procs, env, tmp_path, r.unix(params))
    assert f.wait_chunks(3)
    r.stop()
    try:
        f.wait_chunks(8, timeout=10)     # ~3 s, six times the timeout
    finally:
        r.cont()
    st = finish_and_check(e, f, r, env, ref)
    assert st.get("output.redis.retried", 0) >= 1, st
    assert st.get("output.redis.errors.timeout", 0) >= 1, st


# ---------------------------------------------------------------- d. OOM

def test_redis_oom_then_memory_raised(env, redis_srv, procs, tmp_path):
    r = redis_srv
    e, f, ref = slow_run(procs, env, tmp_path, r.unix())
    assert f.wait_chunks(2)
    c = r.client()
    c.config_set("maxmemory-policy", "noeviction")
    # below what Redis already uses: every write is refused until it is raised (a small
    # margin above the usage could be absorbed by memory Redis frees meanwhile)
    c.config_set("maxmemory", 1)
    f.wait_chunks(7, timeout=10)
    with pytest.raises(redis.exceptions.ResponseError, match="OOM"):
        c.xadd("oom-probe", {"x": "y" * 20000})  # the fault is real
    c.config_set("maxmemory", 0)
    f.finish()
    assert e.wait(60) == 0, e.stderr()
    lines = R.file_lines(ref)
    assert lines == env["ref"]
    check_stream(r.entries(), lines)
    st = e.stats()
    assert st.get("output.redis.errors.oom", 0) >= 1, st
    assert st.get("output.redis.dropped") == 0


# ---------------------------------------------------------------- e. egressd kill -9

def test_egressd_kill9_while_spooled_then_restart(env, redis_srv, procs, tmp_path):
    r = redis_srv
    spool = str(tmp_path / "spool")
    spec = r.unix("spool=" + spool + "&fsync=always&spool_max=50MB")
    e, f, ref = slow_run(procs, env, tmp_path, spec, tag="first")
    assert f.wait_chunks(2)
    before = r.xlen()
    r.kill9()
    f.wait_chunks(7, timeout=10)
    f.hold()                  # no more packets; egressd stays up with stdin open
    settle(lambda: dir_bytes(spool), quiet=1.0, timeout=8)
    assert dir_bytes(spool) > 0, "Redis down for seconds with a spool: nothing on disk"
    assert e.alive(), e.stderr()
    e.kill9()
    f.join(5)
    made = R.file_lines(ref, killed=True)     # what the first run produced (its file may lag a little)
    assert 0 < len(made) < len(env["ref"]) and made == env["ref"][:len(made)]
    r.restart()
    base = r.xlen()
    assert base >= before, "Redis lost acknowledged entries (harness problem)"
    e2, ref2 = fast_run(procs, env, tmp_path, [spec], tag="second", pcap=env["empty"])
    assert e2.rc == 0, e2.stderr()
    got = stream_lines(r.entries())
    assert got == env["ref"][:len(got)], diff_summary(got, env["ref"][:len(got)])
    assert len(got) >= len(made), ("alerts written to the file before the kill are missing: "
                                   + diff_summary(got, made))
    st = e2.stats()
    assert st.get("output.redis.replayed", 0) >= len(got) - base > 0, st
    assert st.get("output.redis.spool.pending") == 0 and st.get("output.redis.dropped") == 0, st


def test_egressd_kill9_while_redis_hangs_then_both_recover(env, redis_srv, procs, tmp_path):
    """Redis SIGSTOPped, egressd times out, spools, and is killed -9 while Redis still
    hangs; then Redis resumes (running whatever egressd had written into its sockets)
    and the next egressd replays the spool: each alert once, in order."""
    r = redis_srv
    spool = str(tmp_path / "spool")
    spec = r.unix("spool=" + spool + "&timeout=500ms")
    e, f, ref = slow_run(procs, env, tmp_path, spec, tag="first")
    assert f.wait_chunks(3)
    r.stop()
    try:
        f.wait_chunks(7, timeout=10)
        f.hold()
        settle(lambda: dir_bytes(spool), quiet=1.5, timeout=8)
        assert e.alive(), e.stderr()
        e.kill9()
    finally:
        r.cont()
    made = R.file_lines(ref, killed=True)
    assert 0 < len(made) < len(env["ref"]) and made == env["ref"][:len(made)]
    assert dir_bytes(spool) > 0
    settle(lambda: r.xlen(), quiet=0.5, timeout=5)   # the resumed server runs stale commands
    e2, _ = fast_run(procs, env, tmp_path, [spec], tag="second", pcap=env["empty"])
    assert e2.rc == 0, e2.stderr()
    got = stream_lines(r.entries())
    assert got == env["ref"][:len(got)], diff_summary(got, env["ref"][:len(got)])
    assert len(got) >= len(made), "alerts made before the kill are missing: " + diff_summary(got, made)
    st = e2.stats()
    assert st.get("output.redis.spool.pending") == 0 and st.get("output.redis.dropped") == 0, st


def test_egressd_kill9_while_healthy_does_not_duplicate(env, redis_srv, procs, tmp_path):
    """A spool episode (Redis down for ~2 s, then back and replayed), then egressd is
    killed while healthy; the next egressd on the same spool adds no second copy."""
    r = redis_srv
    spool = str(tmp_path / "spool")
    spec = r.unix("spool=" + spool)
    e, f, ref = slow_run(procs, env, tmp_path, spec, tag="first")
    assert f.wait_chunks(2)
    r.kill9()
    f.wait_chunks(5, timeout=10)
    r.restart()
    f.wait_chunks(8, timeout=10)
    f.hold()
    n1 = settle(lambda: r.xlen(), quiet=1.0, timeout=8)
    assert e.alive(), e.stderr()
    e.kill9()
    f.join(5)
    made = R.file_lines(ref, killed=True)
    got1 = stream_lines(r.entries())
    assert got1 == env["ref"][:n1], diff_summary(got1, env["ref"][:n1])
    assert n1 >= len(made) > 0, diff_summary(got1, made)
    e2, _ = fast_run(procs, env, tmp_path, [spec], tag="second", pcap=env["empty"])
    assert e2.rc == 0, e2.stderr()
    got2 = stream_lines(r.entries())
    assert got2 == got1, "restart on the same spool changed the stream: " + diff_summary(got2, got1)
    st = e2.stats()
    assert st.get("output.redis.dropped") == 0 and st.get("output.redis.spool.pending") == 0, st


# ---------------------------------------------------------------- f. ACL, auth, key type

def test_acl_user_with_only_xadd_and_ping(env, redis_srv, procs, tmp_path):
    r = redis_srv
    r.acl_setuser("sensor", "reset", "on", ">pw-acl-1", "resetkeys", "~egressd:alerts",
                  "resetchannels", "-@all", "+xadd", "+ping")
    e, ref = fast_run(procs, env, tmp_path, [r.unix("user=sensor&password_env=EGR_PW&dedupe=id")],
                      environ={"EGR_PW": "pw-acl-1"})
    assert e.rc == 0, e.stderr()
    lines = R.file_lines(ref)
    check_stream(r.entries(), lines)
    check_clean_stats(e.stats(), len(lines))
    check_no_secret("pw-acl-1", e.stderr())


def test_wrong_password_spools_then_right_password_delivers(env, redis_srv, procs, tmp_path):
    r = redis_srv
    r.acl_setuser("sensor", "reset", "on", ">right-pw-77", "~egressd:alerts", "+xadd", "+ping")
    spool = str(tmp_path / "spool")
    base = "user=sensor&password_env=EGR_PW&spool=" + spool
    e, ref = fast_run(procs, env, tmp_path, [r.unix(base + "&drain=1s")], extra=["-v"],
                      environ={"EGR_PW": "wrong-pw-13"}, tag="wrong")
    err = e.stderr()
    assert e.rc == 0, f"with a spool the alerts are kept: exit {e.rc}\n{err}"
    assert "sensor" in err and STREAM in err and re.search(r"WRONGPASS|auth", err, re.I), err
    check_no_secret("wrong-pw-13", err, e.cmdline())
    check_no_secret("right-pw-77", err)
    st = e.stats()
    lines = R.file_lines(ref)
    assert lines == env["ref"]
    assert st.get("output.redis.errors.auth", 0) >= 1, st
    assert st.get("output.redis.sent") == 0 and st.get("output.redis.dropped") == 0, st
    assert st.get("output.redis.spool.pending") == len(lines), st
    assert r.xlen() == 0
    e2, _ = fast_run(procs, env, tmp_path, [r.unix(base)], environ={"EGR_PW": "right-pw-77"},
                     tag="right", pcap=env["empty"])
    assert e2.rc == 0, e2.stderr()
    check_stream(r.entries(), lines)
    st = e2.stats()
    assert st.get("output.redis.replayed") == len(lines), st
    assert st.get("output.redis.spool.pending") == 0, st
    check_no_secret("right-pw-77", e2.stderr())


def _refused_run(env, r, procs, tmp_path, user, pw, key, tag):
    e, ref = fast_run(procs, env, tmp_path,
                      [r.unix(f"user={user}&password_env=EGR_PW&stream={key}&drain=1s")],
                      environ={"EGR_PW": pw}, tag=tag)
    err = e.stderr()
    assert e.rc == 74, f"no spool, nothing delivered: exit {e.rc}, want 74\n{err}"
    assert key in err and user in err, f"the message must name stream {key} and user {user}:\n{err}"
    check_no_secret(pw, err)
    assert R.file_lines(ref) == env["ref"], "the file output suffered from Redis refusing"
    return e.stats(), err


def test_noperm_names_stream_and_user(env, redis_srv, procs, tmp_path):
    r = redis_srv
    r.acl_setuser("sensor", "reset", "on", ">pw-np-5", "~egressd:alerts", "+xadd", "+ping")
    st, err = _refused_run(env, r, procs, tmp_path, "sensor", "pw-np-5", "elsewhere:alerts", "noperm")
    assert "NOPERM" in err or "permission" in err.lower(), err
    assert st.get("output.redis.errors.noperm", 0) >= 1, st
    assert st.get("output.redis.sent") == 0, st
    assert r.client().exists("elsewhere:alerts") == 0


def test_wrong_key_type_names_stream_and_user(env, redis_srv, procs, tmp_path):
    r = redis_srv
    r.acl_setuser("typer", "reset", "on", ">pw-wt-9", "~*", "+xadd", "+ping")
    r.client().set("taken:alerts", "a string, not a stream")
    st, err = _refused_run(env, r, procs, tmp_path, "typer", "pw-wt-9", "taken:alerts", "wrongtype")
    assert "WRONGTYPE" in err or "type" in err.lower(), err
    assert st.get("output.redis.errors.wrongtype", 0) >= 1, st
    assert r.client().get("taken:alerts") == b"a string, not a stream"


# ---------------------------------------------------------------- g. password sources

@pytest.mark.parametrize("source", ["password_env", "password_file", "EGRESSD_REDIS_PASSWORD"])
def test_password_sources(env, servers, procs, tmp_path, source):
    r = servers(tcp=source == "EGRESSD_REDIS_PASSWORD")
    pw = "pw-src-" + source.lower()
    r.acl_setuser("sensor", "reset", "on", ">" + pw, "~egressd:alerts", "+xadd", "+ping")
    environ = {}
    params = "user=sensor"
    if source == "password_env":
        params += "&password_env=SENSOR_PW"
        environ["SENSOR_PW"] = pw
        environ["EGRESSD_REDIS_PASSWORD"] = "not-this-one"
    elif source == "password_file":
        pf = tmp_path / "pw.txt"
        pf.write_text(pw + "\nsecond line is not part of it\n")
        pf.chmod(0o600)
        params += "&password_file=" + str(pf)
    else:
        environ["EGRESSD_REDIS_PASSWORD"] = pw
    spec = r.url(user="sensor") if r.tcp else r.unix(params)
    e, ref = fast_run(procs, env, tmp_path, [spec], extra=["-v"], environ=environ)
    assert e.rc == 0, e.stderr()
    check_stream(r.entries(), R.file_lines(ref))
    check_no_secret(pw, e.stderr())


def test_password_in_url_is_erased_from_argv(env, servers, procs, tmp_path):
    r = servers(tcp=True)
    pw = "Url-Secret-4242"
    r.acl_setuser("sensor", "reset", "on", ">" + pw, "~egressd:alerts", "+xadd", "+ping")
    spec = r.url(user="sensor:" + pw)
    e, f, ref = slow_run(procs, env, tmp_path, spec, extra=["-v"])
    seen = R.wait_for(lambda: r.xlen() > 0, 15)
    assert seen, "nothing reached the stream:\n" + e.stderr()
    looks = 0
    while e.alive() and f.is_alive():
        cl = e.cmdline()
        if cl:
            check_no_secret(pw, cl)
            assert b"sensor" in cl or b"redis://" in cl, cl  # the rest of argv is intact
            looks += 1
        time.sleep(0.2)
    assert looks >= 5, "egressd ended too soon to look at its command line"
    f.finish()
    assert e.wait(60) == 0, e.stderr()
    err = e.stderr()
    check_no_secret(pw, err)
    assert "password" in err.lower(), "no warning about the password in the URL:\n" + err
    check_stream(r.entries(), R.file_lines(ref))


# ---------------------------------------------------------------- h. two sensors, one stream

def test_two_sensors_event_id_dedupe_with_sigstop(env, redis_srv, procs, tmp_path):
    r = redis_srv
    spec = r.unix("dedupe=event-id&timeout=500ms&stream=shared")
    ea, fa, refa = slow_run(procs, env, tmp_path, spec, tag="sensor-a")
    eb, fb, refb = slow_run(procs, env, tmp_path, spec, tag="sensor-b", cfg=env["cfg_b"],
                            pcap=env["pcap_b"])
    assert fa.wait_chunks(3) and fb.wait_chunks(3)
    r.stop()
    try:
        fa.wait_chunks(8, timeout=10)
    finally:
        r.cont()
    fa.finish()
    fb.finish()
    assert ea.wait(60) == 0, ea.stderr()
    assert eb.wait(60) == 0, eb.stderr()
    la, lb = R.file_lines(refa), R.file_lines(refb)
    assert la == env["ref"] and lb == env["ref_b"]
    assert not set(la) & set(lb)
    ent = r.entries("shared")
    got = stream_lines(ent)
    assert collections.Counter(got) == collections.Counter(la + lb), diff_summary(got, la + lb)
    # each sensor's own documents keep their order
    assert [x for x in got if x in set(la)] == la
    assert [x for x in got if x in set(lb)] == lb
    for eid, fl in ent:
        d = json.loads(fl["event"])
        assert fl["rule"] == d["rule"]["id"].encode() and fl["sev"] == str(d["event"]["severity"]).encode()
    sa, sb = ea.stats(), eb.stats()
    assert sa.get("output.redis.dropped") == 0 and sb.get("output.redis.dropped") == 0
    assert sa.get("output.redis.retried", 0) + sb.get("output.redis.retried", 0) >= 1, (sa, sb)


# ---------------------------------------------------------------- i. exit status

def test_exit_69_when_redis_is_the_only_output_and_unreachable(env, tmp_path):
    sock = str(tmp_path / "nobody-listens.sock")
    p = fc.run(["-r", env["pcap"], "-C", env["cfg"], "-o", "unix:" + sock + "?timeout=500ms"])
    assert p.returncode == 69, p.stderr
    assert sock in p.stderr
    port = R.free_tcp_port()
    p = fc.run(["-r", env["pcap"], "-C", env["cfg"], "-o", f"redis://127.0.0.1:{port}?timeout=500ms"])
    assert p.returncode == 69, p.stderr
    assert str(port) in p.stderr


def test_exit_74_when_alerts_are_lost_without_spool(env, procs, tmp_path):
    sock = str(tmp_path / "nobody-listens.sock")
    e, ref = fast_run(procs, env, tmp_path, ["unix:" + sock + "?timeout=500ms&drain=1s"])
    assert e.rc == 74, e.stderr()
    assert R.file_lines(ref) == env["ref"]
    assert e.stats().get("output.redis.sent") == 0


def test_unreachable_at_start_with_spool_then_sent_first(env, redis_srv, procs, tmp_path):
    """Redis only output, down, with a spool: exit 0 and everything kept; the next run
    (Redis up) sends the spool first, then its own alerts."""
    r = redis_srv
    r.kill9()
    spool = str(tmp_path / "spool")
    spec = r.unix("spool=" + spool + "&timeout=500ms&drain=1s")
    e = procs(["-C", env["cfg"], "-r", env["pcap"], "--stats", "-o", spec], tag="down")
    assert e.wait(60) == 0, e.stderr()
    assert e.stats().get("output.redis.spool.pending") == len(env["ref"]), e.stats()
    r.restart()
    e2, ref2 = fast_run(procs, env, tmp_path, [r.unix("spool=" + spool)], tag="up")
    assert e2.rc == 0, e2.stderr()
    assert R.file_lines(ref2) == env["ref"]
    # dedupe=id: the second run's alerts are new entries, even with the same documents
    check_stream(r.entries(), env["ref"] + env["ref"], unique_ids=False)
    st = e2.stats()
    assert st.get("output.redis.replayed") == len(env["ref"]), st
    assert st.get("output.redis.dropped") == 0 and st.get("output.redis.spool.pending") == 0, st


# ---------------------------------------------------------------- more

@pytest.fixture
def monitors():
    made = []

    def start(server, path):
        m = server.monitor(path)
        made.append(m)
        return m
    yield start
    for m in made:
        if m.poll() is None:
            m.kill()
        m.wait(5)


def monitor_commands(path, verb):
    """The quoted arguments of each monitored command named verb (escapes kept)."""
    out = []
    with open(path, "rb") as f:
        for line in f:
            toks = re.findall(rb'"((?:[^"\\]|\\.)*)"', line)
            if toks and toks[0].upper() == verb:
                out.append(toks)
    return out


@pytest.mark.parametrize("dedupe", ["id", "none"])
def test_xadd_command_form(env, redis_srv, procs, monitors, tmp_path, dedupe):
    """XADD KEY MAXLEN ~ 100000 ID event <json> kind alert rule R sev S, with an explicit
    <ms>-<seq> id for dedupe=id and '*' for dedupe=none; seen with MONITOR."""
    r = redis_srv
    mon = str(tmp_path / "monitor.txt")
    m = monitors(r, mon)
    e, ref = fast_run(procs, env, tmp_path, [r.unix("dedupe=" + dedupe)])
    assert e.rc == 0, e.stderr()
    lines = R.file_lines(ref)
    ent = r.entries()
    check_stream(ent, lines)
    R.wait_for(lambda: len(monitor_commands(mon, b"XADD")) >= len(lines), 5)
    m.terminate()
    m.wait(5)
    cmds = monitor_commands(mon, b"XADD")
    assert len(cmds) == len(lines), f"{len(cmds)} XADD for {len(lines)} alerts"
    for toks, (eid, _), line in zip(cmds, ent, lines):
        d = json.loads(line)
        assert toks[:5] == [b"XADD", STREAM.encode(), b"MAXLEN", b"~", b"100000"], toks[:6]
        if dedupe == "id":
            assert re.fullmatch(rb"\d+-\d+", toks[5]) and toks[5].decode() == eid, toks[5]
        else:
            assert toks[5] == b"*", toks[5]
        assert toks[6] == b"event" and toks[8:] == [
            b"kind", b"alert", b"rule", d["rule"]["id"].encode(),
            b"sev", str(d["event"]["severity"]).encode()], toks[8:]


def test_yaml_tcp_with_db_password_file_eve_event_id(env, servers, procs, tmp_path):
    r = servers(tcp=True)
    r.acl_setuser("sensor", "reset", "on", ">yaml-tcp-pw", "~*", "+@all")
    pf = tmp_path / "pw"
    pf.write_text("yaml-tcp-pw\n")
    ref = tmp_path / "ref.json"
    cfg = R.sensor_config(
        str(tmp_path / "s.yaml"), "sensor-a",
        f"outputs:\n  - file: {ref}\n"
        f"  - redis:\n      host: 127.0.0.1\n      port: {r.port}\n      db: 4\n"
        f"      user: sensor\n      password_file: {pf}\n      field: eve\n"
        f"      dedupe: event-id\n      stream: yaml-tcp\n      maxlen: 5000\n")
    e = procs(["-C", cfg, "-r", env["pcap"], "--stats"])
    assert e.wait(90) == 0, e.stderr()
    lines = R.file_lines(str(ref))
    assert lines == env["ref"]
    check_stream(r.entries("yaml-tcp", db=4), lines, "eve")
    check_clean_stats(e.stats(), len(lines))
    check_no_secret("yaml-tcp-pw", e.stderr())


def test_noauth_names_stream_and_default_user(env, redis_srv, procs, tmp_path):
    r = redis_srv
    r.protect_default("admin-only-pw")
    e, ref = fast_run(procs, env, tmp_path, [r.unix("stream=guarded&drain=1s")])
    err = e.stderr()
    assert e.rc == 74, f"no spool, nothing delivered: exit {e.rc}\n{err}"
    assert "guarded" in err and "default" in err and re.search(r"NOAUTH|auth", err, re.I), err
    assert e.stats().get("output.redis.errors.auth", 0) >= 1, e.stats()
    assert R.file_lines(ref) == env["ref"]
    assert r.client().exists("guarded") == 0


def test_stream_with_a_higher_last_id_still_gets_everything(env, redis_srv, procs, tmp_path):
    """dedupe=id with a stream whose last id is ahead of egressd's clock (another writer,
    clock skew): nothing may be lost or taken for a repeat."""
    r = redis_srv
    r.client().xadd(STREAM, {"seed": "from the future"}, id="99999999999999-5")
    # writes paused at the start: the first alerts pile up behind the first, refused,
    # one and go out as pipelined batches mixing '*' and explicit ids, where an explicit
    # id given before the '*' reply came back could collide and reorder them
    r.client().execute_command("CLIENT", "PAUSE", "500", "WRITE")
    e, ref = fast_run(procs, env, tmp_path, [r.unix("dedupe=id&timeout=2s")])
    assert e.rc == 0, e.stderr()
    ent = r.entries()
    assert ent[0][0] == "99999999999999-5"
    check_stream(ent[1:], R.file_lines(ref))
    st = e.stats()
    assert st.get("output.redis.dropped") == 0 and st.get("output.redis.deduplicated") == 0, st
    # the conflict is seen and resolved once: '*' for the refused alert, then ids above
    # the stream's last one; nothing goes out of order
    assert st.get("output.redis.id_conflicts", 0) >= 1 and st.get("output.redis.reordered") == 0, st


def test_drain_bounds_the_wait_then_spool_delivers(env, redis_srv, procs, tmp_path):
    """Redis stopped before egressd starts: the run still ends about `drain` after the
    end of input, keeps everything in the spool; once Redis resumes the next run sends it,
    once, although the first run's commands were waiting in the stopped server's socket."""
    r = redis_srv
    spool = str(tmp_path / "spool")
    r.stop()
    try:
        t0 = time.monotonic()
        e, ref = fast_run(procs, env, tmp_path,
                          [r.unix(f"spool={spool}&timeout=500ms&drain=2s")], tag="stopped")
        took = time.monotonic() - t0
    finally:
        r.cont()
    assert e.rc == 0, e.stderr()
    assert 2.0 <= took <= 8.0, f"drain=2s, timeout=500ms: the run took {took:.1f} s"
    lines = R.file_lines(ref)
    assert lines == env["ref"]
    assert e.stats().get("output.redis.spool.pending") == len(lines), e.stats()
    e2, _ = fast_run(procs, env, tmp_path, [r.unix("spool=" + spool)], tag="resumed",
                     pcap=env["empty"])
    assert e2.rc == 0, e2.stderr()
    check_stream(r.entries(), lines)
    assert e2.stats().get("output.redis.spool.pending") == 0


def test_spool_full_then_memory_full_counts_every_drop(env, redis_srv, procs, tmp_path):
    """Redis away, a spool too small for the run and a small memory queue: the oldest
    alerts fill the spool, the next wait in memory, the rest are dropped; every drop is
    counted, said, and the exit status is 74. What the spool kept is delivered later,
    in order: exactly the first alerts of the run."""
    r = redis_srv
    r.kill9()
    spool = str(tmp_path / "spool")
    # 64KiB holds about half the run; the memory queue holds the rest (at exit they are
    # lost and counted), or, on a slow machine where the queue fills before the thread
    # moves it, the newest are dropped at once. Either way the spool keeps a prefix.
    spec = r.unix("spool=" + spool + "&spool_max=64KiB&queue=64&timeout=300ms&drain=1s")
    e, ref = fast_run(procs, env, tmp_path, [spec], tag="full")
    assert e.rc == 74, e.stderr()
    assert R.file_lines(ref) == env["ref"]
    st = e.stats()
    spooled, dropped = st["output.redis.spooled"], st["output.redis.dropped"]
    n = len(env["ref"])
    assert 0 < spooled < n and dropped > 0, st
    assert spooled + dropped == n, st          # nothing unaccounted for
    assert st["output.redis.spool.full"] >= 1, st
    assert st["output.redis.spool.pending"] == spooled, st
    assert dir_bytes(spool) <= 65536 + 4096, dir_bytes(spool)  # the segments, lock, position
    err = e.stderr()
    assert "spool refused" in err and "dropped" in err, err
    r.restart()
    e2, _ = fast_run(procs, env, tmp_path, [r.unix("spool=" + spool)], tag="later",
                     pcap=R.empty_capture(str(tmp_path / "empty.pcap")))
    assert e2.rc == 0, e2.stderr()
    check_stream(r.entries(), env["ref"][:spooled])
    assert e2.stats()["output.redis.replayed"] == spooled
