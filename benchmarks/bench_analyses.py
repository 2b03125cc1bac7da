"""Benchmark: GOSH (k = 15), influence (k = 200) and a 1,000-permutation meta-regression test.

Usage: .venv/bin/python benchmarks/bench_analyses.py

Each task runs in evidence and, when ``Rscript`` is on the PATH, in metafor (``gosh()``,
``influence()``, ``permutest()``) on the same data, and the ratio of the best-of-N wall times is
printed (target: evidence at least 50x faster). The inputs are synthetic (seeded) because only
the timing matters here; they never enter data/.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from evidence import pool
from evidence.meta.analyses import gosh, influence, meta_regression


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


TASKS = {
    "gosh_k15_FE": (15, 1, "gosh(rma(yi, vi, data = d, method = 'FE'), progbar = FALSE)"),
    "gosh_k15_REML": (15, 1, "gosh(rma(yi, vi, data = d, method = 'REML'), progbar = FALSE)"),
    "influence_k200_REML": (200, 2, "influence(rma(yi, vi, data = d, method = 'REML'))"),
    "permutest_1000_k30_REML": (
        30,
        3,
        "permutest(rma(yi, vi, mods = ~ x, data = d, method = 'REML'), iter = 1000, "
        "progbar = FALSE)",
    ),
}


def run_python(name: str, d: pd.DataFrame) -> float:
    if name.startswith("gosh"):
        method = name.rsplit("_", 1)[1]
        return _best(lambda: gosh(d.yi, d.vi, method=method), 3)
    if name.startswith("influence"):
        return _best(lambda: influence(pool(d.yi, d.vi)), 5)
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


def main() -> None:
    print(f"{'task':<26}{'evidence (s)':>14}{'metafor (s)':>13}{'ratio':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, (k, seed, call)) in enumerate(TASKS.items()):
            d = _data(k, seed + i)
            csv = Path(tmp) / f"{name}.csv"
            d.to_csv(csv, index=False, float_format="%.17g")
            t_py = run_python(name, d)
            t_r = run_r(call, csv)
            ratio = f"{t_r / t_py:8.0f}x" if t_r else "     n/a"
            r_txt = f"{t_r:13.3f}" if t_r else f"{'(no R)':>13}"
            print(f"{name:<26}{t_py:14.4f}{r_txt}{ratio}", flush=True)


if __name__ == "__main__":
    main()
