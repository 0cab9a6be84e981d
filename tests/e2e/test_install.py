"""make install / uninstall lay out and remove every file a user gets."""
import os
import subprocess

import flowcmp as fc

FILES = [
    "usr/local/bin/egressd",
    "usr/local/share/man/man8/egressd.8",
    "usr/local/share/doc/egressd/sensor.yaml.example",
    "usr/local/share/doc/egressd/rules.md",
    "usr/local/share/egressd/rules/t1567.yaml",
    "usr/local/share/egressd/rules/t1048.yaml",
    "usr/local/share/egressd/rules/t1537.yaml",
    "usr/local/share/egressd/rules/generic.yaml",
    "usr/local/lib/systemd/system/egressd.service",
] + [f"usr/local/share/egressd/rules/lists/{c}.txt" for c in (
    "cloud_storage", "paste", "code_repository", "webhook", "file_drop", "tunnel_service")]


def test_install_and_uninstall(tmp_path):
    dest = str(tmp_path / "root")
    env = dict(os.environ, MAKEFLAGS="")
    subprocess.run(["make", "-s", "-C", fc.ROOT, "install", f"DESTDIR={dest}",
                    "PREFIX=/usr/local"], check=True, env=env, stdout=subprocess.DEVNULL)
    for f in FILES:
        assert os.path.isfile(os.path.join(dest, f)), f
    assert os.access(os.path.join(dest, FILES[0]), os.X_OK)
    unit = open(os.path.join(dest, "usr/local/lib/systemd/system/egressd.service")).read()
    assert "ExecStart=/usr/local/bin/egressd -C /etc/egressd/sensor.yaml" in unit
    assert "@BINDIR@" not in unit
    subprocess.run(["make", "-s", "-C", fc.ROOT, "uninstall", f"DESTDIR={dest}",
                    "PREFIX=/usr/local"], check=True, env=env)
    left = [os.path.join(r, n) for r, _, ns in os.walk(dest) for n in ns]
    assert left == []
