"""Replay of the fuzz corpora: every file of tests/fuzz/corpus/TARGET and
tests/fuzz/crashers/TARGET runs once through build/fuzz/TARGET (libFuzzer runs the
files named on its command line once each and exits non-zero on a crash, a sanitizer
report, a leak or a failed check).

The targets are built by `make test` and `make asan` when clang-14 is installed
(Makefile: FUZZ_TEST_BIN). Without clang-14 the tests are skipped and say so. The
replay does not depend on which egressd build is under test, so it runs once, in the
run of the ASan build (tests/run-tests runs this suite for build/ and build/asan/).
"""
import glob
import os
import shutil
import subprocess

import pytest

import flowcmp as fc

TARGETS = ("decode", "tls", "http", "dns", "config", "rules", "pipeline")
FUZZ = os.path.join(fc.ROOT, "tests", "fuzz")
BIN = os.path.join(fc.ROOT, "build", "fuzz")
BATCH = 200  # files per libFuzzer run (command-line length)


if not fc.is_sanitized(fc.EGRESSD):
    pytest.skip("the fuzz corpora are replayed once, in the run of the ASan build",
                allow_module_level=True)


def inputs(target):
    files = []
    for kind in ("corpus", "crashers"):
        files += sorted(p for p in glob.glob(os.path.join(FUZZ, kind, target, "*"))
                        if os.path.isfile(p))
    return files


def sources(target):
    """What build/fuzz/TARGET is made from (Makefile: FUZZ_BIN, FOBJ)."""
    return ([os.path.join(FUZZ, target + ".c"), os.path.join(FUZZ, "fuzz.h")]
            + glob.glob(os.path.join(fc.ROOT, "sensor", "*.c"))
            + glob.glob(os.path.join(fc.ROOT, "include", "*.h")))


@pytest.mark.parametrize("target", TARGETS)
def test_replay(target, tmp_path):
    binary = os.path.join(BIN, target)
    if not os.path.exists(binary):
        if not shutil.which("clang-14"):
            pytest.skip(f"clang-14 is missing: build/fuzz/{target} cannot be built and the "
                        f"fuzz corpus of {target} is NOT replayed (tools/install-deps "
                        "installs clang-14)")
        pytest.fail(f"build/fuzz/{target} is missing: run make fuzz-build (make test "
                    "does it when clang-14 is installed)")
    built = os.path.getmtime(binary)
    stale = [s for s in sources(target) if os.path.getmtime(s) > built]
    assert not stale, f"build/fuzz/{target} is older than {stale[0]}: run make fuzz-build"
    files = inputs(target)
    assert files, f"tests/fuzz/corpus/{target} is empty"
    for i in range(0, len(files), BATCH):
        p = subprocess.run([binary, f"-artifact_prefix={tmp_path}/"] + files[i:i + BATCH],
                           cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=600)
        out = p.stdout.decode("utf-8", "replace")
        assert p.returncode == 0, (f"build/fuzz/{target} failed on one of "
                                   f"{files[i:i + BATCH][:3]}...:\n{out[-4000:]}")
