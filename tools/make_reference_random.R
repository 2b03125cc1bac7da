# Agreement grid: every tau^2 estimator of metafor on a few hundred generated data sets.
#
# Usage: Rscript tools/make_reference_random.R [OUTPUT_JSON]
#        (default tests/reference/random.json)
#
# Data sets are drawn with a fixed seed: k from 2 to 10, sampling variances from 0.005 to 0.5
# (a quarter of the sets with one study 100 times more precise than the rest), true effects
# with tau^2 from 0 to 0.3, effects rounded to 4 decimals. For each set and estimator we store
# metafor's estimate, SE, tau^2 and (ML, REML) log-likelihood, or the error message when rma()
# fails. Compact JSON (no indentation) keeps the file small. Deterministic; never edit by hand.

suppressMessages(library(metafor))
suppressMessages(library(jsonlite))

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "tests/reference/random.json"
ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000, stepadj = 1)
methods <- c("FE", "DL", "HE", "HS", "SJ", "PM", "EB", "ML", "REML")
set.seed(9)

sets <- list()
for (i in 1:250) {
  k <- sample(2:10, 1)
  v <- round(runif(k, 0.005, 0.5), 4)
  if (i %% 4 == 0) v[1] <- round(v[1] / 100, 6)
  tau2 <- runif(1, 0, 0.3)
  y <- round(rnorm(k, runif(1, -0.5, 0.8), sqrt(v + tau2)), 4)
  fits <- list()
  for (method in methods) {
    res <- tryCatch(suppressWarnings(rma(y, v, method = method, control = ctrl)),
                    error = function(e) conditionMessage(e))
    fits[[method]] <- if (is.character(res)) list(error = res) else
      list(estimate = c(res$beta), se = res$se, tau2 = res$tau2, loglik = c(logLik(res)))
  }
  sets[[i]] <- list(yi = y, vi = v, fits = fits)
}

ref <- list(
  meta = list(generator = "tools/make_reference_random.R", r_version = R.version.string,
              metafor = as.character(packageVersion("metafor")), control = ctrl, seed = 9),
  sets = sets
)
dir.create(dirname(out), showWarnings = FALSE, recursive = TRUE)
writeLines(toJSON(ref, digits = I(15), auto_unbox = TRUE, na = "null"), out)
