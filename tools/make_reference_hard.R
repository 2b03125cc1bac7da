# Reference values for likelihoods of tau^2 with more than one local maximum, from metafor.
#
# Usage: Rscript tools/make_reference_hard.R [OUTPUT_JSON]   (default tests/reference/hard.json)
#
# Data sets of the kind that real PDT data produce: one very precise study (vi = 0.0005) beside
# several imprecise heterogeneous ones (vi 0.2 to 0.3), drawn with a fixed seed. For each we
# record what metafor 3.8 returns for ML and REML (tau^2, estimate, log-likelihood, and whether
# it converged), the same for leave-one-out, and metafor's log-likelihood at fixed tau^2 values
# (rma(..., tau2 = t)), so the tests can check our likelihood and show where metafor stops at a
# point that is not the global maximum. metafor's own warning ("may have gotten stuck at a local
# maximum") and its error when Fisher scoring does not converge are recorded as they are.
# Deterministic output; never edit the JSON by hand.

suppressMessages(library(metafor))
suppressMessages(library(jsonlite))

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "tests/reference/hard.json"

ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000, stepadj = 1)
set.seed(20261130)

fit_or_null <- function(y, v, method, tau2 = NULL) {
  warned <- ""
  res <- tryCatch(withCallingHandlers(
    rma(y, v, method = method, control = ctrl, tau2 = tau2),
    warning = function(w) {
      warned <<- conditionMessage(w)
      invokeRestart("muffleWarning")
    }), error = function(e) conditionMessage(e))
  if (is.character(res)) return(list(converged = FALSE, error = res))
  list(converged = TRUE, tau2 = res$tau2, estimate = c(res$beta), se = res$se,
       loglik = c(logLik(res)), warning = warned)
}

# Profile log-likelihood on a dense grid, computed directly (metafor's constants), to find
# the data sets where metafor's answer is not the global maximum.
dense <- c(0, exp(seq(log(1e-7), log(20), length.out = 4000)))
ll_dense <- function(y, v, method) {
  sapply(dense, function(t) {
    w <- 1 / (v + t)
    mu <- sum(w * y) / sum(w)
    ll <- -0.5 * (length(y) * log(2 * pi) + sum(log(v + t)) + sum(w * (y - mu)^2))
    if (method == "REML") ll <- ll + 0.5 * (log(2 * pi) + log(length(y)) - log(sum(w)))
    ll
  })
}

record <- function(kind, y, v) {
  fits <- list()
  for (method in c("ML", "REML")) {
    full <- fit_or_null(y, v, method)
    loo <- lapply(seq_along(y), function(j) fit_or_null(y[-j], v[-j], method))
    grid <- c(0, 0.01, 0.05, 0.1, 0.2, 0.4)
    at <- sapply(grid, function(t) fit_or_null(y, v, method, tau2 = t)$loglik)
    fits[[method]] <- list(full = full, leave1out = loo, grid = grid, loglik_at_grid = at)
  }
  list(kind = kind, yi = y, vi = v, fits = fits)
}

# kind "one": one study with vi = 0.0005, the others 0.2 to 0.3 (30 data sets as drawn).
# kind "two": two precise studies (vi 0.0005, 0.002 or 0.01) beside imprecise ones (0.05 to
# 0.5), where the likelihood can have two interior maxima; draws are kept only when metafor's
# ML or REML fit (after its own check of tau^2 = 0) is more than 1e-6 below the dense profile,
# until 8 such data sets are found.
datasets <- list()
for (i in 1:30) {
  k <- sample(4:7, 1)
  v <- c(0.0005, round(runif(k - 1, 0.2, 0.3), 4))
  y <- round(rnorm(k, 0, runif(1, 0.2, 1.0)), 4)
  datasets[[length(datasets) + 1]] <- record("one", y, v)
}
found <- 0
while (found < 8) {
  k <- sample(4:8, 1)
  v <- c(sample(c(0.0005, 0.002, 0.01), 2, replace = TRUE), round(runif(k - 2, 0.05, 0.5), 4))
  y <- round(rnorm(k, 0, runif(1, 0.2, 1.5)), 4)
  below <- FALSE
  for (method in c("ML", "REML")) {
    f <- fit_or_null(y, v, method)
    if (f$converged && f$loglik < max(ll_dense(y, v, method)) - 1e-6) below <- TRUE
  }
  if (below) {
    found <- found + 1
    datasets[[length(datasets) + 1]] <- record("two", y, v)
  }
}

ref <- list(
  meta = list(generator = "tools/make_reference_hard.R", r_version = R.version.string,
              metafor = as.character(packageVersion("metafor")), control = ctrl,
              seed = 20261130),
  datasets = datasets
)
dir.create(dirname(out), showWarnings = FALSE, recursive = TRUE)
writeLines(toJSON(ref, digits = I(15), auto_unbox = TRUE, pretty = TRUE, na = "null"), out)
