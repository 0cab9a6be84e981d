"""make install / uninstall: every file a user gets, with its mode, in the right place;
an installed binary that finds its installed rules; nothing left behind by uninstall.

The tests build in a copy of the sources (in a temporary directory), so that installing
with other PREFIXes never rebuilds the checkout's build/egressd under the other tests.
They test the Makefile, not a build of egressd, so they run once: in the pass of the
optimised build, skipped in the pass of the sanitizer build (tests/run-tests runs this
suite for build/ and build/asan/).
"""
import os
import re
import shutil
import stat
import subprocess

import pytest

import flowcmp as fc

WIKI = os.path.join(fc.ROOT, "pcaps", "zeek", "wikipedia.pcap")
SOURCES = ["Makefile", "README.md", "sensor.yaml.example", "sensor", "include", "rules",
           "docs", "tools"]
RULES = sorted(f for f in os.listdir(os.path.join(fc.ROOT, "rules")) if f.endswith(".yaml"))
LISTS = sorted(os.listdir(os.path.join(fc.ROOT, "rules", "lists")))


pytestmark = pytest.mark.skipif(
    fc.is_sanitized(fc.EGRESSD),
    reason="make install is tested once, in the pass of the optimised build")


def expected_files(prefix):
    """Every file `make install PREFIX=prefix` installs, relative to /, with its mode."""
    p = prefix.lstrip("/")
    files = {f"{p}/bin/egressd": 0o755,
             f"{p}/share/man/man8/egressd.8": 0o644,
             f"{p}/lib/systemd/system/egressd.service": 0o644}
    for d in ("sensor.yaml.example", "README.md", "rules.md"):
        files[f"{p}/share/doc/egressd/{d}"] = 0o644
    for r in RULES:
        files[f"{p}/share/egressd/rules/{r}"] = 0o644
    for lst in LISTS:
        files[f"{p}/share/egressd/rules/lists/{lst}"] = 0o644
    return files


def files_under(root):
    return {os.path.relpath(os.path.join(r, n), root): stat.S_IMODE(os.lstat(os.path.join(r, n)).st_mode)
            for r, _, ns in os.walk(root) for n in ns}


def make(src, *args):
    env = dict(os.environ, MAKEFLAGS="", MAKELEVEL="")
    p = subprocess.run(["make", "-s", "-j2", "-C", src] + list(args), env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert p.returncode == 0, f"make {' '.join(args)}:\n{p.stdout[-4000:]}"
    return p


@pytest.fixture(scope="module")
def src(tmp_path_factory):
    """A copy of the sources, built once with the default PREFIX (/usr/local)."""
    d = tmp_path_factory.mktemp("install") / "src"
    d.mkdir()
    for s in SOURCES:
        a = os.path.join(fc.ROOT, s)
        if os.path.isdir(a):
            shutil.copytree(a, d / s)
        else:
            shutil.copy2(a, d / s)
    make(str(d))
    assert (d / "build" / "datadir").read_text() == "/usr/local/share/egressd\n"
    return str(d)


def test_install_destdir_layout_and_uninstall(src, tmp_path):
    dest = str(tmp_path / "root")
    # built for /usr/local above: installing for /usr must rebuild with the new DATADIR
    make(src, "install", "PREFIX=/usr", f"DESTDIR={dest}")
    assert open(os.path.join(src, "build", "datadir")).read() == "/usr/share/egressd\n"
    want = expected_files("/usr")
    got = files_under(dest)
    assert got == want
    for r, ds, _ in os.walk(dest):
        for n in ds:
            assert stat.S_IMODE(os.stat(os.path.join(r, n)).st_mode) == 0o755, os.path.join(r, n)

    # installed copies are the sources (the man page with the installed paths)
    for name, rel in [("sensor.yaml.example", "usr/share/doc/egressd/sensor.yaml.example"),
                      ("rules/generic.yaml", "usr/share/egressd/rules/generic.yaml"),
                      ("rules/lists/paste.txt", "usr/share/egressd/rules/lists/paste.txt")]:
        with open(os.path.join(src, name), "rb") as a, open(os.path.join(dest, rel), "rb") as b:
            assert a.read() == b.read(), rel

    unit = open(os.path.join(dest, "usr/lib/systemd/system/egressd.service")).read()
    assert "ExecStart=/usr/bin/egressd -C /etc/egressd/sensor.yaml\n" in unit
    assert not re.search(r"@[A-Z_]+@", unit)
    assert "ExecReload=/bin/kill -HUP $MAINPID" in unit
    for line in ("Restart=on-failure", "DynamicUser=yes", "NoNewPrivileges=yes",
                 "AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN",
                 "CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN", "ProtectSystem=strict",
                 "StateDirectory=egressd", "LogsDirectory=egressd"):
        assert "\n" + line + "\n" in unit, line

    man = open(os.path.join(dest, "usr/share/man/man8/egressd.8")).read()
    assert "/usr/share/egressd/rules" in man and "/usr/local" not in man

    # the installed binary looks in /usr/share/egressd: from outside the checkout and
    # with nothing installed there, it names that directory when the lists are missing
    if not os.path.exists("/usr/share/egressd"):
        p = subprocess.run([os.path.join(dest, "usr/bin/egressd"), "-T"], cwd=str(tmp_path),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert p.returncode == 78
        assert "/usr/share/egressd/rules/lists/" in p.stderr, p.stderr

    # installing again with the same PREFIX does not rebuild
    before = os.stat(os.path.join(src, "build", "egressd")).st_mtime_ns
    make(src, "install", "PREFIX=/usr", f"DESTDIR={dest}")
    assert os.stat(os.path.join(src, "build", "egressd")).st_mtime_ns == before
    assert files_under(dest) == want

    make(src, "uninstall", "PREFIX=/usr", f"DESTDIR={dest}")
    assert files_under(dest) == {}
    # the directories egressd owns are gone too; shared ones (bin, man8...) may stay
    for d in ("usr/share/egressd", "usr/share/doc/egressd"):
        assert not os.path.exists(os.path.join(dest, d)), d


def test_uninstall_keeps_what_it_did_not_install(src, tmp_path):
    dest = str(tmp_path / "root")
    make(src, "install", "PREFIX=/usr", f"DESTDIR={dest}")
    mine = os.path.join(dest, "usr/share/egressd/rules/local.yaml")
    other = os.path.join(dest, "usr/bin/other-tool")
    for f in (mine, other):
        with open(f, "w") as fh:
            fh.write("# not installed by egressd\n")
    make(src, "uninstall", "PREFIX=/usr", f"DESTDIR={dest}")
    assert set(files_under(dest)) == {"usr/share/egressd/rules/local.yaml", "usr/bin/other-tool"}


def test_installed_man_page_renders(src, tmp_path):
    dest = str(tmp_path / "root")
    make(src, "install", "PREFIX=/usr", f"DESTDIR={dest}")
    page = os.path.join(dest, "usr/share/man/man8/egressd.8")
    if shutil.which("groff"):
        p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", page],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert p.returncode == 0 and p.stderr == "", p.stderr
    if not shutil.which("man"):
        pytest.skip("man is not installed (Debian package man-db; make deps installs it)")
    env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="", LC_ALL="C.UTF-8",
               MANPAGER="cat", PAGER="cat")
    p = subprocess.run(["man", "-l", page], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    text = p.stdout
    for word in ("NAME", "SYNOPSIS", "OPTIONS", "EXIT STATUS", "SIGNALS", "FILES",
                 "SEE ALSO", "--report", "--no-progress", "--no-summary",
                 "/usr/share/egressd/rules", "/usr/lib/systemd/system/egressd.service"):
        assert word in text, word


def test_installed_binary_finds_its_rules(src, tmp_path):
    """PREFIX in a temporary directory, no DESTDIR: the binary, run from elsewhere and
    with the sources' rules gone, loads the installed rule packs and lists."""
    prefix = str(tmp_path / "usr")
    make(src, "install", f"PREFIX={prefix}")
    want = expected_files(prefix)
    for rel, mode in want.items():
        assert stat.S_IMODE(os.stat("/" + rel).st_mode) == mode, rel
    unit = open(os.path.join(prefix, "lib/systemd/system/egressd.service")).read()
    assert f"ExecStart={prefix}/bin/egressd -C /etc/egressd/sensor.yaml\n" in unit

    if shutil.which("systemd-analyze"):
        p = subprocess.run(["systemd-analyze", "verify", os.path.join(
            prefix, "lib/systemd/system/egressd.service")], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
            env=dict(os.environ, MANPATH=os.path.join(prefix, "share/man")))
        assert p.returncode == 0 and p.stdout == "", p.stdout

    hidden = os.path.join(src, "rules.away")
    os.rename(os.path.join(src, "rules"), hidden)
    try:
        run_dir = tmp_path / "elsewhere"
        run_dir.mkdir()
        exe = os.path.join(prefix, "bin", "egressd")
        p = subprocess.run([exe, "-T"], cwd=str(run_dir), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        assert p.returncode == 0, p.stderr
        p = subprocess.run([exe, "-r", WIKI, "--home-net", "141.142.0.0/16", "--stats", "-q"],
                           cwd=str(run_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
        assert p.returncode == 0, p.stderr
        st = fc.stats_of(p.stderr)
        assert st.get("detect.rules", 0) > 0, p.stderr
        assert st["capture.packets"] == 136
    finally:
        os.rename(hidden, os.path.join(src, "rules"))

    make(src, "uninstall", f"PREFIX={prefix}")
    assert files_under(prefix) == {}


def test_man_page_covers_every_option():
    """Every option `egressd --help` lists, and the offline-analysis options, are in
    docs/egressd.8 (the source, with groff's \\- read as - and font changes as spaces)."""
    p = fc.run(["--help"])
    assert p.returncode == 0
    opts = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-[a-zA-Z])\b", p.stdout))
    assert {"-r", "-i", "-o", "--flows", "--stats"} <= opts
    opts |= {"--report", "--no-progress", "--no-summary"}
    page = open(os.path.join(fc.ROOT, "docs", "egressd.8")).read().replace("\\-", "-")
    page = re.sub(r"\\f[BIRP]", " ", page)
    missing = sorted(o for o in opts
                     if not re.search(r"(?<![\w-])" + re.escape(o) + r"(?![\w-])", page))
    assert missing == []
    for section in ("SYNOPSIS", "OPTIONS", "EXIT STATUS", "SIGNALS", "FILES", "SEE ALSO"):
        assert f".SH {section}" in page, section
