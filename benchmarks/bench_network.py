"""Benchmark the network meta-analysis engine against metafor's rma.mv on the same data.

Run: ``.venv/bin/python benchmarks/bench_network.py``. Simulates (seed 20261130) a network of 300
two-arm studies of 8 treatments (every pair of treatments is a possible design; true effects
0, 0.1, ..., 0.7 against treatment A, tau^2 = 0.04), then times a REML fit and the full
node-split (one REML refit per comparison with direct and indirect evidence), best of several
repeats. When ``Rscript`` with metafor is available, metafor ``rma.mv`` (``random = ~ comp |
study, rho = 1/2``, REML, default control) is timed on the same data in the same run, the
estimates are compared, and the ratios are printed.
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
d <- read.csv(args[1], stringsAsFactors = FALSE)
lev <- sort(unique(c(d$treat1, d$treat2)), method = "radix")
X <- sapply(lev[-1], function(t) (d$treat1 == t) - (d$treat2 == t))
d$comp <- paste(d$treat1, d$treat2, sep = "-")
fit <- function(M) rma.mv(d$yi, d$vi, mods = M, intercept = FALSE, random = ~ comp | study,
                          rho = 1 / 2, data = d, method = "REML")
split_all <- function() {
  out <- c()
  for (i in 2:length(lev)) for (j in 1:(i - 1)) {
    A <- lev[i]; B <- lev[j]
    dir <- (d$treat1 == A & d$treat2 == B) | (d$treat1 == B & d$treat2 == A)
    if (!any(dir)) next
    ind <- ifelse(dir, (d$treat1 == A) - (d$treat2 == A), 0)
    Xs <- cbind(X, ind)
    if (qr(Xs)$rank < ncol(Xs)) next
    out <- c(out, coef(fit(Xs))[ncol(Xs)])
  }
  out
}
best <- function(f, n) min(replicate(n, system.time(f())[["elapsed"]]))
res <- fit(X)
cat(best(function() fit(X), 3), best(split_all, 1), res$tau2, coef(res), "\n")
"""

SEED = 20261130


def simulate(k: int = 300, treatments: int = 8) -> pd.DataFrame:
    """Seeded two-arm network: random designs, arm sizes 20-200, SMD-like variances."""
    rng = np.random.default_rng(SEED)
    names = [chr(ord("A") + i) for i in range(treatments)]
    pairs = [(i, j) for i in range(treatments) for j in range(i)]
    pick = np.r_[np.arange(len(pairs)), rng.integers(0, len(pairs), k - len(pairs))]
    t1 = np.array([pairs[p][0] for p in pick])
    t2 = np.array([pairs[p][1] for p in pick])
    n1, n2 = rng.integers(20, 200, k), rng.integers(20, 200, k)
    vi = 1 / n1 + 1 / n2
    true = 0.1 * np.arange(treatments)
    yi = rng.normal(true[t1] - true[t2], np.sqrt(vi + 0.04))
    return pd.DataFrame(
        {
            "study": [f"s{i:03d}" for i in range(k)],
            "treat1": [names[i] for i in t1],
            "treat2": [names[i] for i in t2],
            "yi": yi,
            "vi": vi,
        }
    )


def main() -> None:
    data = simulate()
    args = (data["yi"], data["vi"], data["treat1"], data["treat2"], data["study"])
    res = ev.network(*args, method="REML")
    ours = [_best(lambda: ev.network(*args, method="REML"), 10), _best(res.split, 3)]
    r_out = None
    if shutil.which("Rscript"):
        with tempfile.TemporaryDirectory() as tmp:
            script, csv = Path(tmp) / "bench.R", Path(tmp) / "data.csv"
            script.write_text(R_SCRIPT)
            data.to_csv(csv, index=False)
            out = subprocess.run(
                ["Rscript", str(script), str(csv)], capture_output=True, text=True, check=True
            )
            r_out = [float(x) for x in out.stdout.split()]
    n_split = int(res.split()["identifiable"].sum())
    print(
        f"data: simulated, {res.k} two-arm studies, {len(res.treatments)} treatments "
        f"(seed {SEED}); {n_split} comparisons split"
    )
    names = ["REML fit", f"node-split, {n_split} REML refits"]
    for i, name in enumerate(names):
        line = f"{name:32s} evidence {ours[i] * 1e3:9.2f} ms"
        if r_out:
            line += f"   metafor {r_out[i] * 1e3:9.1f} ms   ratio {r_out[i] / ours[i]:7.0f}x"
        print(line)
    if r_out:
        diff = max(abs(res.tau2 - r_out[2]), float(np.max(np.abs(res.beta - r_out[3:]))))
        print(f"largest |difference| from metafor (tau^2 and effects): {diff:.1e}")
    else:
        print("Rscript not found: no ratios")


if __name__ == "__main__":
    main()
