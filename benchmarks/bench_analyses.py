"""Benchmark: GOSH (k = 15), influence (k = 200), a 1,000-permutation meta-regression test,
leave-one-out REML at k = 10,000 and Begg's rank test at k = 5,000.

Usage: .venv/bin/python benchmarks/bench_analyses.py [task name prefix ...] (default: all tasks)

Each task runs in evidence and, when ``Rscript`` is on the PATH, in metafor (``gosh()``,
``influence()``, ``permutest()``, ``leave1out()``, ``ranktest()``) on the same data, and the
ratio of the best-of-N wall times is printed (target: evidence at least 50x faster). Two tasks
cannot run in metafor at their k: ``leave1out()`` refits k models of k - 1 studies with k x k
matrices, O(k^3) (tens of seconds at k = 200, so weeks at 10,000), and ``ranktest()``'s exact
p-value is NaN from k = 171 on (R's permutation counts overflow) after an O(k^3) recursion
(30 s at k = 400). For those the evidence time at the large k is printed alone, followed by a
line timing both on the first rows of the same data at the k metafor can do, with the ratio.
The inputs are synthetic (seeded) because only the timing matters here; they never enter data/.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from evidence import pool
from evidence.meta.analyses import gosh, influence, meta_regression, rank_test


def _data(k: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.2, k)
    x = rng.uniform(0, 10, k)
    yi = 0.3 + 0.03 * x + rng.normal(0, np.sqrt(vi + 0.05))
    return pd.DataFrame({"yi": yi, "vi": vi, "x": x})


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


#: name: (k, seed, metafor call, k at which metafor is timed when it cannot run at k)
TASKS = {
    "gosh_k15_FE": (15, 1, "gosh(rma(yi, vi, data = d, method = 'FE'), progbar = FALSE)", None),
    "gosh_k15_REML": (
        15,
        1,
        "gosh(rma(yi, vi, data = d, method = 'REML'), progbar = FALSE)",
        None,
    ),
    "influence_k200_REML": (200, 2, "influence(rma(yi, vi, data = d, method = 'REML'))", None),
    "permutest_1000_k30_REML": (
        30,
        3,
        "permutest(rma(yi, vi, mods = ~ x, data = d, method = 'REML'), iter = 1000, "
        "progbar = FALSE)",
        None,
    ),
    "leave1out_k10000_REML": (10_000, 4, "leave1out(rma(yi, vi, data = d, method = 'REML'))", 200),
    "ranktest_k5000": (5_000, 5, "ranktest(d$yi, d$vi)", 170),
}


def run_python(name: str, d: pd.DataFrame) -> float:
    if name.startswith("gosh"):
        method = name.rsplit("_", 1)[1]
        return _best(lambda: gosh(d.yi, d.vi, method=method), 3)
    if name.startswith("influence"):
        return _best(lambda: influence(pool(d.yi, d.vi)), 5)
    if name.startswith("leave1out"):
        res = pool(d.yi, d.vi, method="REML")
        return _best(res.leave_one_out, 3)
    if name.startswith("ranktest"):
        return _best(lambda: rank_test(d.yi, d.vi), 3)
    res = meta_regression(d.yi, d.vi, {"x": d.x})
    return _best(lambda: res.permutation_test(n=1000, seed=1), 5)


def run_r(call: str, csv: Path) -> float | None:
    if shutil.which("Rscript") is None:
        return None
    script = (
        "suppressMessages(library(metafor)); "
        f"d <- read.csv('{csv}'); "
        f"t <- system.time(invisible(suppressMessages({call})))[['elapsed']]; "
        "cat(t)"
    )
    out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().split()[-1])


def main(prefixes: list[str]) -> None:
    """Run the tasks whose names start with one of ``prefixes`` (all tasks without any)."""
    print(f"{'task':<30}{'evidence (s)':>14}{'metafor (s)':>13}{'ratio':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, (k, seed, call, k_r)) in enumerate(TASKS.items()):
            if prefixes and not name.startswith(tuple(prefixes)):
                continue
            d = _data(k, seed + i)
            csv = Path(tmp) / f"{name}.csv"
            d.iloc[: k_r or k].to_csv(csv, index=False, float_format="%.17g")
            t_py = run_python(name, d)
            if k_r:  # metafor cannot run at k: this k, then both at k_r on the first k_r rows
                print(f"{name:<30}{t_py:14.4f}{'(not at k)':>13}{'':>9}", flush=True)
                name, t_py = f"  same task at k = {k_r}", run_python(name, d.iloc[:k_r])
            t_r = run_r(call, csv)
            ratio = f"{t_r / t_py:8.0f}x" if t_r else "     n/a"
            r_txt = f"{t_r:13.3f}" if t_r else f"{'(no R)':>13}"
            print(f"{name:<30}{t_py:14.4f}{r_txt}{ratio}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
