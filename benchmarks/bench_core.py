"""Benchmark the statistical core against metafor on the same data.

Run: ``.venv/bin/python benchmarks/bench_core.py``. Times one REML fit for k = 900 and REML
leave-one-out and cumulative analyses for k = 200, best of several repeats. When ``Rscript`` with
metafor is available, the data are Fisher-z correlations from metadat's ``dat.moura2021`` (the first
900 effects) and metafor is timed on the same data, and the ratios are printed. Without R a seeded
synthetic data set of the same size is used and only our timings are printed.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from _timing import best as _best

import evidence as ev

R_SCRIPT = r"""
suppressMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
d <- escalc("ZCOR", ri = ri, ni = ni, data = dat.moura2021$dat)[1:900, ]
write.csv(data.frame(yi = c(d$yi), vi = c(d$vi)), args[1], row.names = FALSE)
ctrl <- list(threshold = 1e-12, maxiter = 1000)
best <- function(f, n) min(replicate(n, system.time(f())[["elapsed"]]))
small <- d[1:200, ]
fit <- rma(small$yi, small$vi, method = "REML", control = ctrl)
cat(best(function() rma(d$yi, d$vi, method = "REML", control = ctrl), 3),
    best(function() leave1out(fit), 1), best(function() cumul(fit), 1), "\n")
"""


def main() -> None:
    r_times = None
    with tempfile.TemporaryDirectory() as tmp:
        if shutil.which("Rscript"):
            script, csv = Path(tmp) / "bench.R", Path(tmp) / "data.csv"
            script.write_text(R_SCRIPT)
            out = subprocess.run(
                ["Rscript", str(script), str(csv)], capture_output=True, text=True, check=True
            )
            r_times = [float(x) for x in out.stdout.split()]
            data = pd.read_csv(csv)
            y, v = data["yi"].to_numpy(), data["vi"].to_numpy()
            source = "dat.moura2021 (first 900 Fisher-z effects)"
        else:
            rng = np.random.default_rng(20261125)
            v = rng.uniform(0.005, 0.1, 900)
            y = rng.normal(0.2, np.sqrt(v + 0.05))
            source = "synthetic (seed 20261125); Rscript not found, no ratios"
    fit200 = ev.pool(y[:200], v[:200], method="REML")
    ours = [
        _best(lambda: ev.pool(y, v, method="REML"), 20),
        _best(fit200.leave_one_out, 10),
        _best(fit200.cumulative, 10),
    ]
    names = ["REML fit, k = 900", "leave-one-out REML, k = 200", "cumulative REML, k = 200"]
    print(f"data: {source}")
    for i, name in enumerate(names):
        line = f"{name:30s} evidence {ours[i] * 1e3:9.2f} ms"
        if r_times:
            line += f"   metafor {r_times[i] * 1e3:9.1f} ms   ratio {r_times[i] / ours[i]:8.0f}x"
        print(line)


if __name__ == "__main__":
    main()
