"""The README's Redis recipes, run as written against a stream egressd wrote: the
least-privilege ACL user, the redis-cli consumer-group commands, and the Python worker
(consumer group, XREADGROUP, XACK, XAUTOCLAIM of what a dead worker left pending). The
reference is the file output of the same egressd run."""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

import flowcmp as fc
import redisenv as R

README = os.path.join(fc.ROOT, "README.md")
REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"


def readme_block(after, lang=""):
    """The first fenced block after the line containing `after`."""
    text = open(README).read()
    at = text.index(after)
    m = re.compile(r"^```" + lang + r"\n(.*?)^```", re.S | re.M).search(text, at)
    assert m, "no ```%s block after %r in README.md" % (lang, after)
    return m.group(1)


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    d = tmp_path_factory.mktemp("recipe")
    pcap_a, _ = R.many_alerts_capture(str(d), "10.1.")
    pcap_b, _ = R.many_alerts_capture(str(d), "10.2.")
    cfg = R.sensor_config(str(d / "sensor.yaml"), "sensor-recipe")
    return str(d), pcap_a, pcap_b, cfg


@pytest.fixture
def srv():
    s = R.RedisServer()
    yield s
    s.close()


def run_egressd(workdir, pcap, cfg, out, tag, env=None):
    ref = os.path.join(workdir, tag + ".json")
    e = R.run(["-r", pcap, "-C", cfg, "-o", "file:" + ref, "-o", out], workdir, env=env,
              tag=tag)
    assert e.rc == 0, e.stderr()
    docs = [json.loads(line) for line in R.file_lines(ref)]
    assert len(docs) >= R.HOSTS, "the capture was built to give an alert per host"
    return docs


def worker(srv, workdir, consumer, min_idle_ms="60000"):
    script = os.path.join(workdir, "siem-worker.py")
    with open(script, "w") as f:
        f.write(readme_block("<!-- consumer-recipe -->", "python"))
    env = dict(os.environ, REDIS_URL="unix://" + srv.sock, CONSUMER=consumer, ONCE="1",
               MIN_IDLE_MS=min_idle_ms)
    p = subprocess.run([sys.executable, script], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return [json.loads(line) for line in p.stdout.splitlines()]


def test_python_worker_reads_acks_and_claims(capture, srv, tmp_path):
    _, pcap_a, pcap_b, cfg = capture
    w = str(tmp_path)
    first = run_egressd(w, pcap_a, cfg, srv.unix(), "a")
    # the worker forwards every alert once, in stream order, and acknowledges it
    assert worker(srv, w, "worker-1") == first
    c = srv.client()
    assert c.xpending("egressd:alerts", "siem")["pending"] == 0

    # a second run; a worker reads 7 entries and dies without XACK
    second = run_egressd(w, pcap_b, cfg, srv.unix(), "b")
    dead = c.xreadgroup("siem", "worker-dead", {"egressd:alerts": ">"}, count=7)
    assert len(dead[0][1]) == 7
    assert c.xpending("egressd:alerts", "siem")["pending"] == 7
    # worker-2 claims them (XAUTOCLAIM, idle >= 0 ms here) and reads the rest
    got = worker(srv, w, "worker-2", min_idle_ms="0")
    assert got == second, "claimed entries first, then the new ones: stream order"
    assert c.xpending("egressd:alerts", "siem")["pending"] == 0
    # a repeat delivery of the same document is forwarded once: event.id
    assert len({d["event"]["id"] for d in got}) == len(got)


def test_redis_cli_commands_as_written(capture, srv, tmp_path):
    _, pcap_a, _, cfg = capture
    docs = run_egressd(str(tmp_path), pcap_a, cfg, srv.unix(), "cli")
    block = readme_block("By hand, with redis-cli")
    replies = {}
    for line in block.strip().splitlines():
        argv = line.split()
        p = subprocess.run([REDIS_CLI, "-s", srv.sock, "--no-raw"] + argv,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=20)
        assert p.returncode == 0 and "(error)" not in p.stdout, (line, p.stdout)
        replies[argv[0]] = p.stdout
    assert replies["XGROUP"].strip() == "OK"
    # XREADGROUP ... COUNT 100 hands out the first 100 entries (or all, if fewer)
    n = min(100, len(docs))
    assert replies["XREADGROUP"].count('"event"') == n
    assert docs[0]["event"]["id"] in replies["XREADGROUP"]
    assert replies["XACK"].strip() == "(integer) 0"   # the example id is not in the stream
    assert replies["XPENDING"].splitlines()[0].strip() == "1) (integer) %d" % n


def acl_line():
    line = [ln for ln in readme_block("A least-privilege user").splitlines()
            if ln.startswith("ACL SETUSER")]
    assert len(line) == 1
    return line[0].split()


def test_least_privilege_user_as_written(capture, srv, tmp_path):
    _, pcap_a, _, cfg = capture
    argv = acl_line()
    assert argv[:3] == ["ACL", "SETUSER", "egressd"] and ">CHANGE-ME" in argv
    srv.client().execute_command(*argv)
    env = dict(os.environ, SENSOR_PW="CHANGE-ME")
    docs = run_egressd(str(tmp_path), pcap_a, cfg,
                       srv.unix("user=egressd&password_env=SENSOR_PW"), "acl", env=env)
    got = [json.loads(f["event"]) for _, f in srv.entries()]
    assert got == docs
    # the user can do nothing else: not even read the stream it writes
    import redis
    u = redis.Redis(unix_socket_path=srv.sock, username="egressd", password="CHANGE-ME")
    with pytest.raises(redis.exceptions.NoPermissionError):
        u.xrange("egressd:alerts")
    with pytest.raises(redis.exceptions.NoPermissionError):
        u.set("egressd:other", "1")
    u.close()


def test_least_privilege_user_for_event_id_dedupe(capture, srv, tmp_path):
    """The README's additions for dedupe=event-id are enough, and needed."""
    _, pcap_a, _, cfg = capture
    text = open(README).read()
    m = re.search(r"With `dedupe=event-id` add `([^`]*)`", text)
    assert m, "README names the extra ACL rules for dedupe=event-id"
    srv.client().execute_command(*(acl_line() + m.group(1).split()))
    env = dict(os.environ, SENSOR_PW="CHANGE-ME")
    docs = run_egressd(str(tmp_path), pcap_a, cfg,
                       srv.unix("user=egressd&password_env=SENSOR_PW&dedupe=event-id"),
                       "acl-eid", env=env)
    got = [json.loads(f["event"]) for _, f in srv.entries()]
    assert got == docs
    c = srv.client()
    seen = c.keys("egressd:alerts:seen:*")
    assert len(seen) == len(docs)
    # a second run of the same capture adds nothing: every event.id was seen
    again = run_egressd(str(tmp_path), pcap_a, cfg,
                        srv.unix("user=egressd&password_env=SENSOR_PW&dedupe=event-id"),
                        "acl-eid-2", env=env)
    assert again == docs
    assert c.xlen("egressd:alerts") == len(docs)
