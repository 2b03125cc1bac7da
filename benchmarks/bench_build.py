"""Wall-clock and CPU time of the README's two commands: the build and the test suite.

Run from the repository root, in an installed checkout (``.venv``)::

    python benchmarks/bench_build.py            # the build only
    python benchmarks/bench_build.py --tests    # the build, then the README's test command

The build writes into a temporary folder (``evidence build --out``), so the committed outputs are
never touched; per-notebook times are read from the build's own progress lines. CPU time is that
of the command and every process it started (kernels, Sphinx, pytest workers). The numbers the
README states come from this script, run in a fresh clone on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DONE = re.compile(r"^\s*(\S+\.py) done in ([0-9.]+) s")


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """Run ``cmd`` in the repository; its wall-clock seconds, CPU seconds and output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if run.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    return wall, cpu, run.stdout + run.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", action="store_true", help="also time the README's tests")
    args = parser.parse_args()
    bindir = Path(sys.executable).parent
    print(f"{date.today()}  {os.cpu_count()} cores  python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="bench-build-") as out:
        wall, cpu, log = timed([str(bindir / "evidence"), "build", "--out", out])
    for line in log.splitlines():
        if m := DONE.match(line):
            print(f"  {m[1]:<28} {float(m[2]):6.1f} s")
    print(f"build: {wall:.0f} s wall, {cpu:.0f} s CPU (target: under 60 s wall on 2 cores)")
    if args.tests:
        pytest = [str(bindir / "pytest"), "-n", "auto", "-q", "-p", "no:cacheprovider"]
        wall, cpu, log = timed(pytest)
        summary = log.strip().splitlines()[-1]
        shared = (ROOT.parent / "shared").is_dir()
        print(f"tests: {wall:.0f} s wall, {cpu:.0f} s CPU: {summary}")
        print(f"  ../shared {'present' if shared else 'absent: its tests skipped'}")


if __name__ == "__main__":
    main()
