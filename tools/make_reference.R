# Reference values for evidence's statistical core, computed with metafor.
#
# Usage: Rscript tools/make_reference.R [OUTPUT_JSON]   (default tests/reference/core.json)
#
# Requires R 4.2 with metafor 3.8 and metadat (Debian: r-cran-metafor r-cran-metadat
# r-cran-jsonlite). The output is deterministic: rerunning with the same versions gives the same
# bytes, and .ci/run regenerates it into a temporary folder and fails if it differs from the
# committed file. Never edit the JSON by hand.

suppressMessages(library(metafor))
suppressMessages(library(jsonlite))

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "tests/reference/core.json"

ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000, stepadj = 1)
methods <- c("FE", "DL", "HE", "HS", "SJ", "PM", "EB", "ML", "REML")
tests <- c("z", "knha", "adhoc")

# ---- datasets (yi, vi) ------------------------------------------------------------------------
normand <- dat.normand1999
smd <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
              data = normand)
bcg <- dat.bcg
rr <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
hack <- dat.hackshaw1998
mcd <- escalc("ZCOR", ri = ri, ni = ni, data = dat.mcdaniel1994)
niel <- dat.nielweise2007

datasets <- list(
  normand1999_smd = list(kind = "SMD from means (dat.normand1999)", yi = c(smd$yi), vi = c(smd$vi)),
  bcg_logrr = list(kind = "log RR from counts (dat.bcg)", yi = c(rr$yi), vi = c(rr$vi)),
  hackshaw1998_logor = list(kind = "log OR as reported (dat.hackshaw1998)",
                            yi = hack$yi, vi = hack$vi),
  mcdaniel1994_zcor = list(kind = "Fisher z, k = 160 (dat.mcdaniel1994)",
                           yi = c(mcd$yi), vi = c(mcd$vi)),
  edge_k2 = list(kind = "edge: k = 2 (first two studies of dat.normand1999)",
                 yi = c(smd$yi)[1:2], vi = c(smd$vi)[1:2]),
  edge_homogeneous = list(kind = "edge: identical effects, tau^2 on the boundary",
                          yi = rep(c(rr$yi)[1], 6), vi = c(rr$vi)[1:6]),
  edge_dominant = list(kind = "edge: one study with 1/1000 of the others' variance",
                       yi = c(smd$yi), vi = c(c(smd$vi)[1] / 1000, c(smd$vi)[-1])),
  edge_extreme = list(kind = "edge: extreme heterogeneity (dat.bcg log RR times 10)",
                      yi = 10 * c(rr$yi), vi = c(rr$vi))
)

fit_row <- function(name, d, method, test) {
  res <- rma(d$yi, d$vi, method = method, test = test, control = ctrl)
  p <- predict(res)
  row <- list(dataset = name, method = method, test = test, k = res$k,
              estimate = c(res$beta), se = res$se, statistic = res$zval, pvalue = res$pval,
              ci_low = res$ci.lb, ci_high = res$ci.ub, tau2 = res$tau2, i2 = res$I2,
              h2 = res$H2, q = res$QE, q_pvalue = res$QEp, pi_low = p$pi.lb, pi_high = p$pi.ub)
  if (method == "FE") {
    row$pi_low <- p$ci.lb
    row$pi_high <- p$ci.ub
  }
  row
}

fits <- list()
for (name in names(datasets)) for (method in methods) for (test in tests) {
  fits[[length(fits) + 1]] <- fit_row(name, datasets[[name]], method, test)
}

# ---- Q-profile confidence intervals for tau^2 ------------------------------------------------
qprofile <- list()
for (name in names(datasets)) for (method in setdiff(methods, "FE")) {
  d <- datasets[[name]]
  res <- rma(d$yi, d$vi, method = method, control = ctrl)
  ci <- confint(res, control = list(tol = 1e-12, maxiter = 10000))
  qprofile[[length(qprofile) + 1]] <- list(
    dataset = name, method = method,
    tau2_ci_low = ci$random["tau^2", "ci.lb"], tau2_ci_high = ci$random["tau^2", "ci.ub"])
}

# ---- leave-one-out and cumulative ------------------------------------------------------------
frame_rows <- function(x) {
  x <- as.data.frame(x)
  zero <- rep(0, nrow(x))  # common-effect fits carry no tau2 column
  list(estimate = x$estimate, se = x$se, ci_low = x$ci.lb, ci_high = x$ci.ub, q = x$Q,
       tau2 = if (is.null(x$tau2)) zero else x$tau2, i2 = x$I2)
}
sens <- list()
for (name in c("normand1999_smd", "bcg_logrr", "hackshaw1998_logor", "edge_dominant"))
  for (method in c("FE", "DL", "PM", "REML")) for (test in c("z", "knha")) {
    d <- datasets[[name]]
    res <- rma(d$yi, d$vi, method = method, test = test, control = ctrl)
    sens[[length(sens) + 1]] <- list(dataset = name, method = method, test = test,
                                     leave1out = frame_rows(leave1out(res)),
                                     cumul = frame_rows(cumul(res)))
  }

# ---- effect sizes from raw data --------------------------------------------------------------
es <- function(e) list(yi = c(e$yi), vi = c(e$vi))
raw <- list(
  normand1999 = as.list(normand[, c("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")]),
  bcg = list(events1 = bcg$tpos, n1 = bcg$tpos + bcg$tneg, events2 = bcg$cpos,
             n2 = bcg$cpos + bcg$cneg),
  nielweise2007 = list(events1 = niel$ai, n1 = niel$n1i, events2 = niel$ci, n2 = niel$n2i)
)
effects <- list(
  normand1999_SMD = es(smd),
  normand1999_MD = es(escalc("MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
                             n2i = n2i, data = normand))
)
for (b in c("bcg", "nielweise2007")) for (measure in c("OR", "RR", "RD")) {
  r <- raw[[b]]
  effects[[paste(b, measure, sep = "_")]] <- es(escalc(measure, ai = r$events1, n1i = r$n1,
                                                      ci = r$events2, n2i = r$n2))
}

# ---- Mantel-Haenszel and Peto ----------------------------------------------------------------
binary <- list()
for (b in c("bcg", "nielweise2007")) {
  r <- raw[[b]]
  for (measure in c("OR", "RR", "RD")) {
    res <- rma.mh(ai = r$events1, n1i = r$n1, ci = r$events2, n2i = r$n2, measure = measure)
    binary[[length(binary) + 1]] <- list(data = b, method = "MH", measure = measure,
                                         estimate = c(res$beta), se = res$se, q = res$QE,
                                         ci_low = res$ci.lb, ci_high = res$ci.ub)
  }
  res <- rma.peto(ai = r$events1, n1i = r$n1, ci = r$events2, n2i = r$n2)
  binary[[length(binary) + 1]] <- list(data = b, method = "Peto", measure = "OR",
                                       estimate = c(res$beta), se = res$se, q = res$QE,
                                       ci_low = res$ci.lb, ci_high = res$ci.ub)
}

ref <- list(
  meta = list(generator = "tools/make_reference.R", r_version = R.version.string,
              metafor = as.character(packageVersion("metafor")),
              metadat = as.character(packageVersion("metadat")),
              control = ctrl),
  datasets = datasets, fits = fits, qprofile = qprofile, sensitivity = sens,
  raw = raw, effects = effects, binary = binary
)
dir.create(dirname(out), showWarnings = FALSE, recursive = TRUE)
writeLines(toJSON(ref, digits = I(15), auto_unbox = TRUE, pretty = TRUE, na = "null"), out)
