"""Benchmark the network meta-analysis engine against metafor's rma.mv on the same data.

Run: ``.venv/bin/python benchmarks/bench_network.py``. Two simulated networks:

* small (seed 20261130): 300 two-arm studies of 8 treatments (every pair of treatments is a
  possible design; true effects 0, 0.1, ..., 0.7 against treatment A, tau^2 = 0.04): a REML fit
  and the full node-split (one REML refit per comparison with direct and indirect evidence);
* large (seed 20261201, :func:`simulate_large`): 300 studies of 40 treatments, one in ten with
  three arms, arm-level mean differences: the design-by-treatment model
  (:meth:`~evidence.meta.nma.NetworkResult.inconsistency`), the node-split
  (:meth:`~evidence.meta.nma.NetworkResult.split`), SIDDE
  (:meth:`~evidence.meta.nma.NetworkResult.netsplit`) and the design decomposition at tau^2 = 0
  (:meth:`~evidence.meta.nma.NetworkResult.design_decomposition`).

Best of several repeats. When ``Rscript`` with metafor is available, metafor ``rma.mv``
(``random = ~ comp | study, rho = 1/2``, REML, default control; the within-study covariance of
the multi-arm studies as ``V``) is timed on the same data in the same run: the consistency model,
the design-by-treatment model (``mods`` = consistency columns plus the interaction columns that
add rank, ``btt`` on them), and for the large network's per-comparison refits (split models,
SIDDE refits with the ``rma.uni`` direct pool, per-design FE fits of the decomposition) a subset
of evenly spaced comparisons (designs), extrapolated to all of them (the printed line says so).
The estimates are compared and the ratios printed.
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
SEED_LARGE = 20261201
#: Comparisons (designs) on which metafor's per-comparison refits are timed at 300 x 40: a refit
#: takes ~3 s there, all of them would take about 15 minutes per kind.
R_SUBSET = 8

R_LARGE = r"""
suppressMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
cv <- read.csv(args[2])
m <- as.integer(args[3])
V <- diag(d$vi)
V[cbind(cv$i, cv$j)] <- cv$v
lev <- sort(unique(c(d$treat1, d$treat2)), method = "radix")
dm <- function(dd, lv) matrix(sapply(lv[-1], function(t) (dd$treat1 == t) - (dd$treat2 == t)),
                              nrow = nrow(dd))
X <- dm(d, lev)
d$comp <- paste(d$treat1, d$treat2, sep = "-")
fit <- function(M, dd = d, VV = V, ...) rma.mv(dd$yi, VV, mods = M, intercept = FALSE,
  random = ~ comp | study, rho = 1 / 2, data = dd, method = "REML", ...)
el <- function(expr) system.time(expr)[["elapsed"]]
pick <- function(n) unique(round(seq(1, n, length.out = min(m, n))))
t_fit <- el(res <- fit(X))
cat("fit", t_fit, res$tau2, "
")
# design-by-treatment interaction (as tools/make_reference_network.R)
arms <- lapply(split(d, d$study), function(s) sort(match(unique(c(s$treat1, s$treat2)), lev)))
design <- sapply(arms, function(a) paste(lev[a], collapse = ":"))[as.character(d$study)]
names_d <- sort(unique(design), method = "radix")
Z <- NULL
owner <- c()
for (g in names_d) {
  tr <- strsplit(g, ":", fixed = TRUE)[[1]]
  for (t in tr[-1]) {
    Z <- cbind(Z, ifelse(design == g, (d$treat1 == t) - (d$treat2 == t), 0))
    owner <- c(owner, g)
  }
}
keep <- X
for (c in seq_len(ncol(Z))) {
  cand <- cbind(keep, Z[, c])
  if (qr(cand)$rank == ncol(cand)) keep <- cand
}
t_dbt <- el(dbt <- fit(unname(keep), btt = (ncol(X) + 1):ncol(keep)))
cat("dbt", t_dbt, dbt$QE, dbt$QM, dbt$tau2, "
")
# node-split and SIDDE: the comparisons with direct evidence
held <- list()
for (i in 2:length(lev)) for (j in 1:(i - 1)) {
  both <- names(arms)[sapply(arms, function(a) i %in% a && j %in% a)]
  if (length(both)) held[[length(held) + 1]] <- list(A = lev[i], B = lev[j], both = both)
}
ident <- Filter(function(h) {
  ind <- ifelse(d$study %in% h$both, (d$treat1 == h$A) - (d$treat2 == h$A), 0)
  qr(cbind(X, ind))$rank > ncol(X)
}, held)
t_split <- 0
for (h in ident[pick(length(ident))]) {
  ind <- ifelse(d$study %in% h$both, (d$treat1 == h$A) - (d$treat2 == h$A), 0)
  t_split <- t_split + el(f <- fit(cbind(X, ind)))
  cat("split_est", h$A, h$B, coef(f)[ncol(X) + 1], "
")
}
cat("split", t_split, length(pick(length(ident))), length(ident), "
")
t_ns <- 0
for (h in held[pick(length(held))]) {
  t_ns <- t_ns + el({
    cc <- as.numeric(lev[-1] == h$A) - as.numeric(lev[-1] == h$B)
    ys <- vs <- numeric(0)
    for (s in h$both) {
      r <- which(d$study == s)
      l <- qr.solve(t(X[r, , drop = FALSE]), cc)
      ys <- c(ys, sum(l * d$yi[r]))
      vs <- c(vs, c(t(l) %*% V[r, r, drop = FALSE] %*% l))
    }
    dir <- rma(ys, vs, tau2 = res$tau2, method = "REML")
    kp <- !(d$study %in% h$both)
    ds <- d[kp, , drop = FALSE]
    lv <- lev[lev %in% c(ds$treat1, ds$treat2)]
    Xs <- dm(ds, lv)
    if (h$A %in% lv && h$B %in% lv && qr(Xs)$rank == ncol(Xs)) {
      fs <- fit(Xs, ds, V[kp, kp, drop = FALSE])
      cat("netsplit_est", h$A, h$B,
          sum((as.numeric(lv[-1] == h$A) - as.numeric(lv[-1] == h$B)) * coef(fs)), "
")
    }
  })
}
cat("netsplit", t_ns, length(pick(length(held))), length(held), "
")
# design decomposition at tau^2 = 0: one FE fit per design with its own columns
fe <- function(M) rma.mv(d$yi, V, mods = M, intercept = FALSE, method = "FE")
t_dec <- el({fe(X); fe(Z)})
for (g in names_d[pick(length(names_d))]) {
  t_dec <- t_dec + el(fe(cbind(X, Z[, owner == g, drop = FALSE])))
}
cat("decomposition", t_dec, length(pick(length(names_d))), length(names_d), "
")
"""


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


def simulate_large(k: int = 300, treatments: int = 40) -> pd.DataFrame:
    """Seeded arm-level network (one row per arm): the first ``treatments - 1`` studies compare
    T(i) with T(i+1) (the network is connected), the others two random treatments (three with
    probability 1/10); true means ~ N(0, 0.3^2), study-arm random effects of variance 0.02, SD 1
    and 20-200 participants per arm, so that ``network_from_arms(measure="MD")`` applies."""
    rng = np.random.default_rng(SEED_LARGE)
    names = [f"T{i:02d}" for i in range(1, treatments + 1)]
    true = np.r_[0.0, rng.normal(0.0, 0.3, treatments - 1)]
    rows = []
    for s in range(k):
        size = 3 if s >= treatments - 1 and rng.random() < 0.1 else 2
        arms = [s, s + 1] if s < treatments - 1 else rng.choice(treatments, size, replace=False)
        for a, u in zip(arms, rng.normal(0.0, np.sqrt(0.02), size), strict=True):
            n = int(rng.integers(20, 200))
            mean = true[a] + u + rng.normal(0.0, 1.0 / np.sqrt(n))
            rows.append((f"s{s:04d}", names[a], mean, 1.0, n))
    return pd.DataFrame(rows, columns=["study", "treatment", "mean", "sd", "n"])


def _run_r(script: str, frames: dict[str, pd.DataFrame], *extra: str) -> str | None:
    """Run the R ``script`` on the data frames (written as CSV files, in order); its stdout, or
    None without Rscript."""
    if not shutil.which("Rscript"):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.R"
        path.write_text(script)
        files = []
        for name, frame in frames.items():
            files.append(str(Path(tmp) / f"{name}.csv"))
            frame.to_csv(files[-1], index=False)
        out = subprocess.run(
            ["Rscript", str(path), *files, *extra], capture_output=True, text=True, check=True
        )
    return out.stdout


def large() -> None:
    """The 300-study, 40-treatment network: inconsistency, split, netsplit, decomposition."""
    res = ev.network_from_arms(simulate_large(), measure="MD", method="REML")
    ours = {
        "dbt": _best(res.inconsistency, 3),
        "split": _best(res.split, 2),
        "netsplit": _best(res.netsplit, 2),
        "decomposition": _best(res.design_decomposition, 3),
    }
    multi = sum(len(a) > 2 for a in res._study_arms().values())
    print(
        f"\ndata: simulated, {res.k} studies ({multi} three-arm), {len(res.treatments)} "
        f"treatments, {res.n_contrasts} contrasts (seed {SEED_LARGE})"
    )
    i, j = np.nonzero(np.triu(res.cov, 1))
    frames = {
        "contrasts": pd.DataFrame(
            {"study": res.study, "treat1": res.treat1, "treat2": res.treat2}
        ).assign(yi=res.yi, vi=res.vi),
        "cov": pd.DataFrame(
            {"i": np.r_[i, j] + 1, "j": np.r_[j, i] + 1, "v": res.cov[i, j].tolist() * 2}
        ),
    }
    out = _run_r(R_LARGE, frames, str(R_SUBSET))
    r = {}
    for line in (out or "").splitlines():
        key, *vals = line.split()
        r.setdefault(key, []).append(vals)
    inc = res.inconsistency()
    sp, ns = res.split(), res.netsplit()
    n_split, n_pairs = int(sp["identifiable"].sum()), len(sp)
    G = len(res.design_decomposition().designs)
    lines = [
        ("dbt", "design-by-treatment (inconsistency())", None),
        ("split", f"node-split, {n_split} REML refits", 3),
        ("netsplit", f"netsplit, {n_pairs} comparisons", 3),
        ("decomposition", f"design decomposition, {G} designs", 3),
    ]
    for key, name, subset in lines:
        line = f"{name:40s} evidence {ours[key]:8.3f} s"
        if key in r:
            vals = [float(x) for x in r[key][0]]
            if subset is None:
                theirs, note = vals[0], ""
            else:
                base = vals[3] if len(vals) > 3 else 0.0
                theirs = base + vals[0] / vals[1] * vals[2]
                note = f" (timed on {vals[1]:.0f} of {vals[2]:.0f}, extrapolated)"
            line += f"   metafor {theirs:8.1f} s   ratio {theirs / ours[key]:6.0f}x{note}"
        print(line)
    if not r:
        print("Rscript not found: no ratios")
        return
    diffs = [abs(float(r["fit"][0][1]) - res.tau2)]
    dbt = [float(x) for x in r["dbt"][0][1:]]
    diffs += [abs(inc.loc["within designs", "q"] - dbt[0]) / dbt[0]]
    diffs += [abs(inc.loc["wald (interaction)", "q"] - dbt[1]) / dbt[1]]
    diffs += [abs(inc.loc["wald (interaction)", "tau2"] - dbt[2])]
    key = sp.set_index(["treat1", "treat2"])
    diffs += [abs(key.loc[(a, b), "difference"] - float(v)) for a, b, v in r.get("split_est", [])]
    key = ns.set_index(["treat1", "treat2"])
    diffs += [abs(key.loc[(a, b), "indirect"] - float(v)) for a, b, v in r.get("netsplit_est", [])]
    print(
        "largest |difference| from metafor (tau^2s, split and SIDDE estimates; Q within and "
        f"QM relative): {max(diffs):.1e}"
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
    large()


if __name__ == "__main__":
    main()
