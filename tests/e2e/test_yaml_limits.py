"""Hostile YAML in sensor.yaml (-C, sensor/config.c) and in rule files (named by the
configuration's `rules:` list, sensor/config-rules.c).

Each limit is shown for both kinds of file by a case that fails if the check is taken
out: the file size cap, nesting depth (checked per parser event, before libyaml builds a
document: its scanner is quadratic in the depth), aliases (and, in rule files, anchors),
a second document, NUL characters in scalars; then secrets (a Redis password must never
appear in a message, whatever else is wrong) and other hostile input (invalid UTF-8, raw
NUL bytes, tags, an enormous scalar), which must give a clear error or be accepted as
egressd.8 and docs/rules.md say, within a time bound.

Messages are "FILE:LINE:COL: text", exit status 78. Expected positions come from the
way each document is built. A rule file's problems are reported through the
configuration that names it, so the tests look for "RULEFILE:LINE:COL: text" anywhere
in standard error.

Timing: a refused file must cost well under 100 ms of wall time, for the whole process
(start, the configuration, for rule files also the category lists, then the refusal).
Each case is run RUNS times and the fastest run is compared with the bound, so that a
busy machine does not fail the test; the quadratic case it guards against takes seconds
(a 400 KB file of nested flow mappings took 67 s). The ASan/UBSan build (tests/run-tests
runs this suite with build/asan/egressd too) gets ASAN_BOUND instead: instrumented code
runs 2-3x slower, its start maps the shadow memory and its exit runs the leak check, so
a refusal there takes ~20-50 ms where the optimised build takes ~10 ms.
"""
import json
import os
import re
import subprocess
import time

import pytest

import flowcmp as fc

WIKI = os.path.join(fc.ROOT, "pcaps", "zeek", "wikipedia.pcap")
RUNS = 5
BOUND = 0.100
ASAN_BOUND = 0.300
HANG = 30  # seconds: a run that takes longer is a hang, whatever the build

KINDS = ("config", "rules")


def header_value(header, name):
    """The value of `#define NAME (expression of integers)` in include/HEADER."""
    with open(os.path.join(fc.ROOT, "include", header)) as f:
        m = re.search(r"^#define\s+%s\s+([0-9()*+<< ]+?)\s*(?:/\*.*)?$" % name, f.read(), re.M)
    assert m, f"{name} not found in include/{header}"
    return eval(m.group(1), {"__builtins__": {}})  # digits, spaces, ( ) * + << only


CAP = {"config": header_value("config.h", "CONFIG_MAX_FILE_SIZE"),
       "rules": header_value("detect-rules.h", "RULES_MAX_FILE_SIZE")}
DEPTH = {"config": header_value("config.h", "CONFIG_MAX_DEPTH"),
         "rules": header_value("detect-rules.h", "RULES_MAX_DEPTH")}
ALIAS_MSG = {"config": "aliases are not allowed in the configuration",
             "rules": "aliases are not allowed in rule files"}
DOC_MSG = {"config": "a configuration file holds one YAML document",
           "rules": "a rule file holds one YAML document"}
NUL_MSG = "a NUL character (\\0) in a key or value"


LIMIT = ASAN_BOUND if fc.is_sanitized(fc.EGRESSD) else BOUND

# A valid rule file: the documents below that must load use it as their body.
RULE = """\
rules:
  - id: yaml-limits-rule
    name: Test rule
    technique: T1048
    severity: low
    condition:
      detector: volume
      key: destination
      window: 1h
      bytes_out: 100MB
"""


def run(args, env=None):
    """egressd with args, bytes out; fails the test on a hang."""
    return subprocess.run([fc.EGRESSD] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=HANG, env=env)


class Case:
    """One file of one kind under test: `subject` is the file whose content is given,
    `cfg` the configuration egressd is given (the subject itself, or a configuration
    naming it in `rules:`)."""

    def __init__(self, tmp_path, kind, content, name="subject.yaml"):
        self.kind = kind
        self.subject = tmp_path / name
        data = content.encode() if isinstance(content, str) else content
        self.subject.write_bytes(data)
        if kind == "config":
            self.cfg = self.subject
        else:
            self.cfg = tmp_path / "with-rules.yaml"
            self.cfg.write_text("rules: [%s]\n" % json.dumps(str(self.subject)))

    def check(self, extra=()):
        return run(["-T", "-C", str(self.cfg)] + list(extra))

    def timed(self):
        """(fastest wall time of RUNS runs of -T, the last run)."""
        best, p = None, None
        for _ in range(RUNS):
            t = time.monotonic()
            p = self.check()
            dt = time.monotonic() - t
            best = dt if best is None else min(best, dt)
        return best, p

    def at(self, line, col, msg):
        return f"{self.subject}:{line}:{col}: {msg}"


def refused(p, *wanted):
    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode == 78, err
    for w in wanted:
        assert w in err, f"{w!r} not in:\n{err[:2000]}"
    return err


def assert_fast(case, *wanted):
    best, p = case.timed()
    refused(p, *wanted)
    assert best < LIMIT, f"fastest of {RUNS} runs {best * 1000:.1f} ms, bound {LIMIT * 1000:.0f} ms"


# ---- 1. size cap ------------------------------------------------------------------

def padded(body, size):
    """body, then a comment line, to exactly size bytes."""
    pad = size - len(body) - 2
    assert pad >= 0
    out = body + "#" + "x" * pad + "\n"
    assert len(out.encode()) == size
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_size_cap(tmp_path, kind):
    cap = CAP[kind]
    body = "sensor_name: capped\n" if kind == "config" else RULE
    for size in (cap - 1, cap):
        c = Case(tmp_path, kind, padded(body, size), f"at{size}.yaml")
        p = c.check()
        assert p.returncode == 0, (size, p.stderr)
    c = Case(tmp_path, kind, padded(body, cap + 1), "over.yaml")
    t = time.monotonic()
    p = c.check()
    assert time.monotonic() - t < HANG
    refused(p, c.at(1, 1, f"file is larger than {cap} bytes"))


# ---- 2. nesting depth ------------------------------------------------------------------

# Documents nested `n` levels under the top-level mapping's key `rules` (a key both kinds
# of file know), and the (line, column) of the first opener deeper than `limit`: the
# top-level mapping is level 1, the k-th opener (from 0) is level k + 2.
def flow_seq(n, limit):
    return "rules: " + "[" * n + "\n", (1, len("rules: ") + 1 + (limit - 1))


def flow_map(n, limit):
    return "rules: " + "{a: " * n + "\n", (1, len("rules: ") + 1 + 4 * (limit - 1))


def block_seq(n, limit):
    return "rules:\n  " + "- " * n + "x\n", (2, 3 + 2 * (limit - 1))


def block_map(n, limit):
    return "rules:\n  " + "? " * n + "x\n", (2, 3 + 2 * (limit - 1))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", (flow_seq, flow_map, block_seq, block_map),
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("levels", (10000, 100000))
def test_deep_nesting_refused_fast(tmp_path, kind, shape, levels):
    limit = DEPTH[kind]
    text, (line, col) = shape(levels, limit)
    assert len(text) < CAP[kind]  # the depth check, not the size cap, must refuse it
    c = Case(tmp_path, kind, text)
    assert_fast(c, c.at(line, col, f"nested deeper than {limit} levels"))


@pytest.mark.parametrize("kind", KINDS)
def test_nesting_at_the_limit_is_not_refused_for_depth(tmp_path, kind):
    # exactly `limit` levels: refused only as a value of the wrong shape, if at all
    limit = DEPTH[kind]
    text, _ = flow_seq(limit - 1, limit)
    text = text.rstrip("\n") + "]" * (limit - 1) + "\n"
    p = Case(tmp_path, kind, text).check()
    assert b"nested deeper" not in p.stderr


# ---- 3. aliases and anchors ----------------------------------------------------------------

def billion_laughs():
    """The classic: 9 levels of 9 aliases each, 10^9 'lol' once expanded. Returns the
    text and the (line, column) of its first anchor and its first alias."""
    lines = ['rules: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n", (1, len("rules: ") + 1), (2, len("b: &b [") + 1)


@pytest.mark.parametrize("kind", KINDS)
def test_billion_laughs_refused_fast(tmp_path, kind):
    text, anchor, alias = billion_laughs()
    c = Case(tmp_path, kind, text)
    wanted = [c.at(*alias, ALIAS_MSG[kind])]
    if kind == "rules":
        wanted.append(c.at(*anchor, "anchors are not allowed in rule files"))
    assert_fast(c, *wanted)


def test_config_alias_of_valid_setting_refused(tmp_path):
    # a configuration that is valid once the alias is resolved
    text = "home_net: &n [10.0.0.0/8]\nallowlist:\n  cidrs: *n\n"
    c = Case(tmp_path, "config", text)
    assert_fast(c, c.at(3, len("  cidrs: ") + 1, ALIAS_MSG["config"]))
    # the same without the alias is valid: the alias alone is refused
    assert Case(tmp_path, "config", text.replace("*n", "[10.0.0.0/8]"), "b.yaml").check() \
        .returncode == 0


def test_config_anchor_without_alias_accepted(tmp_path):
    # an anchor alone changes nothing in the document: the configuration takes it
    assert Case(tmp_path, "config", "sensor_name: &n anchored\n").check().returncode == 0


def test_rules_anchor_and_alias_of_valid_rule_refused(tmp_path):
    # two rules sharing a condition through an anchor: valid once resolved
    cond = RULE[RULE.index("    condition:"):]
    second = ("  - id: yaml-limits-rule-2\n    name: Second\n    technique: T1048\n"
              "    severity: low\n    condition: *c\n")
    text = RULE.replace("    condition:\n", "    condition: &c\n") + second
    c = Case(tmp_path, "rules", text)
    lines = text.splitlines()
    aline = next(i for i, s in enumerate(lines) if "&c" in s) + 1
    sline = next(i for i, s in enumerate(lines) if "*c" in s) + 1
    assert_fast(c, c.at(aline, lines[aline - 1].index("&") + 1,
                        "anchors are not allowed in rule files"),
                c.at(sline, lines[sline - 1].index("*") + 1, ALIAS_MSG["rules"]))
    resolved = text.replace("condition: &c\n", "condition:\n").replace(
        "    condition: *c\n", cond)
    assert Case(tmp_path, "rules", resolved, "b.yaml").check().returncode == 0


# ---- 4. secrets ---------------------------------------------------------------------------

SECRET = "Pw-7fQz1xK9sE3"


def assert_secret_absent(p, secret=SECRET):
    for name, stream in (("stdout", p.stdout), ("stderr", p.stderr)):
        assert secret.encode() not in stream, f"the password is in {name}: {stream[:2000]!r}"


def redis_config(body):
    return "outputs:\n  - redis:\n" + "".join("      " + line + "\n" for line in body)


SECRET_CASES = {
    # a bad value next to the password, in block and flow style
    "bad_port_next": redis_config(["host: 127.0.0.1", "port: notaport",
                                   f"password: {SECRET}"]),
    "bad_port_flow": "outputs: [{redis: {port: 99999, password: %s}}]\n" % SECRET,
    "bad_setting_next": redis_config([f"password: {SECRET}", "dedupe: sometimes"]),
    "unknown_key_next": redis_config([f"password: {SECRET}", "pasword: x"]),
    "two_sources": redis_config([f"password: {SECRET}", "password_env: REDIS_PW"]),
    "bad_top_level": redis_config([f"password: {SECRET}"]) + "flows: {max_flows: 0}\n",
    # YAML syntax errors on the password's line
    "syntax_colon": redis_config([f"password: {SECRET}: x"]),
    "syntax_quote": redis_config([f'password: "{SECRET}']),
    "syntax_tab": redis_config([f"password: {SECRET}", f"\tpassword: {SECRET}"]),
    "syntax_flow": "outputs: [{redis: {password: %s]}\n" % SECRET,
    "syntax_indent": redis_config([f"password: {SECRET}", f" {SECRET}: 1"]),
    # the password of the wrong type
    "mapping": redis_config(["password: {%s: 1}" % SECRET]),
    "mapping_block": redis_config(["password:", f"  {SECRET}: 1"]),
    "sequence": redis_config([f"password: [{SECRET}]"]),
    "too_long": redis_config([f"password: {SECRET * 40}"]),
    # the password where a key belongs: without its key, or with '=' or no ':'
    "as_key": redis_config([f"{SECRET}: 1"]),
    "as_key_flow_no_colon": "outputs: [{redis: {port: 6379, password %s}}]\n" % SECRET,
    "as_key_flow_equals": "outputs: [{redis: {password=%s}}]\n" % SECRET,
    "as_key_spool": redis_config(["spool:", f"  {SECRET}: 1"]),
    # in a URL: refused in the configuration, also when mistyped
    "url": 'outputs: ["redis://u:%s@127.0.0.1:6379"]\n' % SECRET,
    "url_bad_port": 'outputs: ["redis://u:%s@127.0.0.1:notaport"]\n' % SECRET,
    "url_scheme_case": 'outputs: ["Redis://u:%s@127.0.0.1:6379"]\n' % SECRET,
    "url_scheme_typo": 'outputs: ["redis:/u:%s@127.0.0.1:6379"]\n' % SECRET,
    "url_raw_slash": 'outputs: ["redis://u:%s/x@127.0.0.1:6379"]\n' % SECRET,
    "url_raw_question": 'outputs: ["redis://u:%s?x@127.0.0.1:6379"]\n' % SECRET,
    "url_param": 'outputs: ["redis://127.0.0.1:6379?password=%s"]\n' % SECRET,
    "unix_param": 'outputs: ["unix:/run/redis.sock?password=%s"]\n' % SECRET,
}


@pytest.mark.parametrize("name", sorted(SECRET_CASES))
def test_password_never_in_messages(tmp_path, name):
    text = SECRET_CASES[name]
    assert SECRET in text
    c = Case(tmp_path, "config", text)
    for args in (["-T"], ["-T", "-v", "-v", "-v"], ["-r", WIKI, "--stats"]):
        p = run(args + ["-C", str(c.cfg)])
        refused(p)
        assert_secret_absent(p)


@pytest.mark.parametrize("how", ("password", "password_file", "password_env",
                                 "EGRESSD_REDIS_PASSWORD", "url_on_command_line"))
def test_password_sources_not_echoed(tmp_path, how):
    # a password from each source, with a bad value next to it in the configuration
    env = dict(os.environ)
    env.pop("EGRESSD_REDIS_PASSWORD", None)
    lines = ["port: 99999"]
    args = []
    if how == "password":
        lines.append(f"password: {SECRET}")
    elif how == "password_file":
        pw = tmp_path / "redis.pass"
        pw.write_text(SECRET + "\n")
        lines.append(f"password_file: {json.dumps(str(pw))}")
    elif how == "password_env":
        env["REDIS_PW"] = SECRET
        lines.append("password_env: REDIS_PW")
    elif how == "EGRESSD_REDIS_PASSWORD":
        env["EGRESSD_REDIS_PASSWORD"] = SECRET
    else:
        lines = ["stream: has space"]
        args = ["-o", f"redis://u:{SECRET}@127.0.0.1:99999"]
    cfg = tmp_path / "sensor.yaml"
    cfg.write_text(redis_config(lines))
    for extra in (["-T"], ["-T", "-v", "-v"], ["-r", WIKI]):
        p = run(extra + ["-C", str(cfg)] + args, env=env)
        assert p.returncode in (64, 78), p.stderr
        assert_secret_absent(p)


@pytest.mark.parametrize("how", ("password", "password_file", "password_env",
                                 "EGRESSD_REDIS_PASSWORD"))
def test_password_not_echoed_when_valid(tmp_path, how):
    # a valid configuration: -T at every verbosity, and a run whose Redis does not answer
    # (a closed local port, no spool: exit 69), print no password either
    env = dict(os.environ)
    env.pop("EGRESSD_REDIS_PASSWORD", None)
    lines = ["host: 127.0.0.1", "port: 9", "timeout: 100ms", "drain: 0s"]
    if how == "password":
        lines.append(f"password: {SECRET}")
    elif how == "password_file":
        pw = tmp_path / "redis.pass"
        pw.write_text(SECRET + "\n")
        lines.append(f"password_file: {json.dumps(str(pw))}")
    elif how == "password_env":
        env["REDIS_PW"] = SECRET
        lines.append("password_env: REDIS_PW")
    else:
        env["EGRESSD_REDIS_PASSWORD"] = SECRET
    cfg = tmp_path / "sensor.yaml"
    cfg.write_text(redis_config(lines))
    for extra in (["-T"], ["-T", "-v", "-v", "-v"]):
        p = run(extra + ["-C", str(cfg)], env=env)
        assert p.returncode == 0, p.stderr
        assert_secret_absent(p)
    p = run(["-r", WIKI, "-v", "-v", "-v", "--stats", "-C", str(cfg)], env=env)
    assert p.returncode != 0
    assert_secret_absent(p)


# ---- 5. other hostile YAML -------------------------------------------------------------------

# (name, bytes, expected) where expected is None (accepted: exit 0) or (line, col, text)
# of the message; a body that fits both kinds, with the rule file's required `rules:`.
HOSTILE = [
    ("invalid_utf8", b"rules: []\nsensor_name: \xff\xfe\n", (1, 1, "invalid leading UTF-8 octet")),
    ("truncated_utf8", b"rules: []\nsensor_name: \xc3\n", (1, 1, "invalid trailing UTF-8 octet")),
    ("overlong_utf8", b"rules: []\nsensor_name: \xc0\xaf\n",
     (1, 1, "invalid length of a UTF-8 sequence")),
    ("surrogate_utf8", b"rules: []\nsensor_name: \xed\xa0\x80\n",
     (1, 1, "invalid Unicode character")),
    ("raw_nul", b"rules: []\nsensor_name: a\x00b\n", (1, 1, "control characters are not allowed")),
    # at the opening quote (the column is found in the bytes: the key differs by kind)
    ("escaped_nul", b'rules: []\nsensor_name: "a\\0b"\n', (2, None, NUL_MSG)),
    ("escaped_nul_x", b'rules: []\n"a\\x00": 1\n', (2, None, NUL_MSG)),
    ("escaped_nul_u", b'rules: []\nsensor_name: "\\u0000"\n', (2, None, NUL_MSG)),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name,data,expected", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_bytes(tmp_path, kind, name, data, expected):
    if kind == "rules":
        data = data.replace(b"sensor_name:", b"ruleset:")
    c = Case(tmp_path, kind, data)
    line, col, msg = expected
    if col is None:
        col = data.split(b"\n")[line - 1].index(b'"') + 1
    assert_fast(c, c.at(line, col, ("YAML syntax: " if msg != NUL_MSG else "") + msg))


@pytest.mark.parametrize("kind", KINDS)
def test_several_documents_refused(tmp_path, kind):
    body = "sensor_name: first\n" if kind == "config" else RULE
    c = Case(tmp_path, kind, body + "---\n" + body + "---\n" + body)
    line = body.count("\n") + 1
    assert_fast(c, c.at(line, 1, DOC_MSG[kind]))
    # one document with explicit markers is fine
    assert Case(tmp_path, kind, "---\n" + body + "...\n", "one.yaml").check().returncode == 0


@pytest.mark.parametrize("kind", KINDS)
def test_tags_not_interpreted(tmp_path, kind):
    # a tag is not acted on: a tagged scalar is read as the text written ...
    key = "sensor_name" if kind == "config" else "ruleset"
    body = "" if kind == "config" else RULE
    for tag in ("!!python/object:os.system", "!!str", "!custom", "!<tag:yaml.org,2002:int>"):
        p = Case(tmp_path, kind, f"{key}: {tag} tagged\n{body}").check()
        assert p.returncode == 0, (tag, p.stderr)
    p = Case(tmp_path, kind, f"--- !!python/object:foo\n{key}: tagged\n{body}").check()
    assert p.returncode == 0, p.stderr
    # ... and a tagged list where a value belongs is refused like any list
    text = f'{key}: !!python/object/apply:os.system ["id"]\n{body}'
    c = Case(tmp_path, kind, text)
    refused(c.check(), c.at(1, len(key) + 3, key + ": "))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("style", ("plain", "quoted", "literal", "key"))
def test_enormous_scalar(tmp_path, kind, style):
    # one scalar filling the file up to the cap: refused for its length, quickly, with a
    # message of bounded size (the value is not printed whole)
    key = "sensor_name" if kind == "config" else "ruleset"
    body = "" if kind == "config" else RULE
    room = CAP[kind] - len(body) - len(key) - 16
    if style == "plain":
        text = f"{key}: {'x' * room}\n"
    elif style == "quoted":
        text = f'{key}: "{"x" * room}"\n'
    elif style == "literal":
        text = f"{key}: |\n" + ("  " + "x" * 98 + "\n") * (room // 101)
    else:
        text = f"{'k' * room}: 1\n"
    text += body
    assert len(text) <= CAP[kind]
    c = Case(tmp_path, kind, text)
    best, p = c.timed()
    refused(p, str(c.subject) + ":1:")
    assert best < LIMIT * 3, f"{best * 1000:.1f} ms"  # ~1 MB is read and scanned twice
    # messages quote values whole; what bounds them is the 16 KiB message buffer
    assert len(p.stderr) < 16384 + 512, len(p.stderr)
