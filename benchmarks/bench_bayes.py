"""Benchmark the Bayesian random-effects fit (evidence.meta.bayes).

Run: ``PYTHONPATH=$PWD /work/venv/bin/python benchmarks/bench_bayes.py`` (any Python with the
package importable). Times, best of several repeats:

* one fit for k = 20 (posterior summaries, shrunken study effects excluded: they are computed on
  first use) and the same fit with the k shrunken intervals;
* a batch of 1,000 fits of the same k = 20 data under 1,000 half-normal priors (a prior grid);
* leave-one-out over k = 300 (300 fits of k = 299).

When ``Rscript`` with metadat is available the data are Fisher-z correlations from metadat's
``dat.moura2021`` (the first 20 and the first 300 effects; bench_core.py uses the same data);
without R a seeded synthetic data set of the same size is used. No R timing is compared:
bayesmeta is not installed here.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from _timing import best as _best

from evidence.meta.bayes import TauPrior, bayes_batch, bayes_pool

R_SCRIPT = r"""
suppressMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
d <- escalc("ZCOR", ri = ri, ni = ni, data = dat.moura2021$dat)[1:900, ]
write.csv(data.frame(yi = c(d$yi), vi = c(d$vi)), args[1], row.names = FALSE)
"""


def _data() -> tuple[np.ndarray, np.ndarray, str]:
    if shutil.which("Rscript"):
        with tempfile.TemporaryDirectory() as tmp:
            script, csv = Path(tmp) / "data.R", Path(tmp) / "data.csv"
            script.write_text(R_SCRIPT)
            subprocess.run(["Rscript", str(script), str(csv)], check=True, capture_output=True)
            d = pd.read_csv(csv)
        return d["yi"].to_numpy(), d["vi"].to_numpy(), "dat.moura2021 (Fisher-z)"
    rng = np.random.default_rng(20261125)
    v = 1 / (rng.integers(20, 400, 900) - 3)
    return rng.normal(0.2, np.sqrt(v + 0.04)), v, "seeded synthetic (no R)"


def main() -> None:
    y, v, source = _data()
    y20, v20 = y[:20], v[:20]
    one = _best(lambda: bayes_pool(y20, v20), 20)
    one_theta = _best(lambda: bayes_pool(y20, v20).theta_ci_low, 20)
    priors = [TauPrior("halfnormal", scale=s) for s in np.linspace(0.05, 2.0, 1000)]
    Y, V = np.tile(y20, (1000, 1)), np.tile(v20, (1000, 1))
    grid = _best(lambda: bayes_batch(Y, V, tau_prior=priors), 3)
    y, v = y[:300], v[:300]
    k = y.size
    mask = ~np.eye(k, dtype=bool)
    Yl, Vl = np.tile(y, (k, 1)), np.tile(v, (k, 1))
    loo = _best(lambda: bayes_batch(Yl, Vl, mask, tau_prior="halfnormal"), 1)
    print(f"data: {source}")
    print(f"one fit, k = 20                         {one * 1e3:8.2f} ms")
    print(f"one fit, k = 20, with shrunken CrIs     {one_theta * 1e3:8.2f} ms")
    print(f"1,000 fits, k = 20 (prior grid)         {grid * 1e3:8.1f} ms")
    print(f"leave-one-out, k = {k} ({k} fits)       {loo * 1e3:8.1f} ms")
    print("(best of several repeats; the machine's load average was", end=" ")
    print(f"{_load():.1f} on {_cores()} cores)")


def _load() -> float:
    import os

    return os.getloadavg()[0]


def _cores() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
