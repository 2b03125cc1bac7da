# Reference values for edge cases of the statistical core, computed with metafor.
#
# Usage: Rscript tools/make_reference_edge.R [OUTPUT_JSON]   (default tests/reference/edge.json)
#
# * trimfill() of a Knapp-Hartung fit with no imputed study (metafor returns the fit itself);
# * rma(..., btt = ) tests of chosen coefficients, Wald chi^2 and F under Knapp-Hartung;
# * rma.mv() three-level fits with a single trial and with single-effect trials;
# * trimfill() of identical studies (nothing to impute; metafor needs side = "left").
# Deterministic output; never edit the JSON by hand.

suppressMessages(library(metafor))
suppressMessages(library(jsonlite))

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "tests/reference/edge.json"
ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000, stepadj = 1)
mvctrl <- list(rel.tol = 1e-12, iter.max = 10000, eval.max = 10000)

smd <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
              data = dat.normand1999)
trimfill_cases <- list()
for (method in c("DL", "REML")) {
  fit <- rma(smd$yi, smd$vi, method = method, test = "knha", control = ctrl)
  tf <- trimfill(fit)
  trimfill_cases[[length(trimfill_cases) + 1]] <- list(
    dataset = "normand1999_smd", method = method, test = "knha", yi = c(smd$yi), vi = c(smd$vi),
    k0 = tf$k0, estimate = c(tf$beta), se = tf$se, pvalue = tf$pval, ci_low = tf$ci.lb,
    ci_high = tf$ci.ub, filled_test = tf$test)
}

bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
btt_cases <- list()
for (test in c("z", "knha")) for (btt in list(2, 4:5, 2:3)) {
  fit <- rma(yi, vi, mods = ~ ablat + year + alloc, data = bcg, method = "REML", test = test,
             btt = btt, control = ctrl)
  btt_cases[[length(btt_cases) + 1]] <- list(
    test = test, btt = btt - 1, names = rownames(fit$beta), qm = fit$QM, qm_df = fit$QMdf[1],
    qm_pvalue = fit$QMp)
}
bcg_data <- list(yi = c(bcg$yi), vi = c(bcg$vi), ablat = bcg$ablat, year = bcg$year,
                 alloc = as.character(bcg$alloc))

y <- c(0.1, 0.3, 0.35, 0.65, 0.45, 0.15)
v <- c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02)
three <- list()
for (case in list(list(name = "one trial", trial = rep("a", 6)),
                  list(name = "single-effect trials", trial = letters[1:6]))) {
  d <- data.frame(y = y, v = v, trial = case$trial, effect = seq_along(y))
  fit <- suppressWarnings(rma.mv(y, v, random = ~ 1 | trial / effect, data = d,
                                 control = mvctrl))
  three[[length(three) + 1]] <- list(case = case$name, trial = case$trial,
                                     sigma2 = fit$sigma2, estimate = c(fit$beta), se = fit$se)
}
# a between-trial maximum next to the boundary of the within-trial component, where a joint
# Fisher scoring with a simple active set stalls (inputs from a seeded search for such cases,
# numpy default_rng(0), rounded to 4 decimals)
stall <- data.frame(y = c(-0.2443, -0.6393, 0.2905, 0.3211, -0.1897, 0.0651),
                    v = c(0.0638, 0.7262, 0.0887, 0.3957, 0.8736, 0.4728),
                    trial = c("0", "0", "1", "1", "2", "2"), effect = 1:6)
fit <- rma.mv(y, v, random = ~ 1 | trial / effect, data = stall)  # nlminb defaults converge
three_stall <- list(case = "boundary stall", yi = stall$y, vi = stall$v, trial = stall$trial,
                    sigma2 = fit$sigma2, estimate = c(fit$beta), se = fit$se)

# identical studies: every vi equal, so trimfill() cannot choose a side from the slope of yi on
# sqrt(vi) (metafor stops: "missing value where TRUE/FALSE needed"); L0 imputes nothing on the
# left (on the right metafor's iterations do not settle on rounding noise), and with nothing
# imputed the fit itself is returned
identical <- list()
for (test in c("z", "knha")) {
  fit <- rma(rep(0.2, 5), rep(0.1, 5), method = "REML", test = test, control = ctrl)
  tf <- suppressWarnings(trimfill(fit, side = "left"))  # se.k0: sqrt of a negative -> NaN
  identical[[length(identical) + 1]] <- list(
    method = "REML", test = test, yi = c(fit$yi), vi = fit$vi, side = tf$side, k0 = tf$k0,
    se_k0 = tf$se.k0, estimate = c(tf$beta), se = tf$se, pvalue = tf$pval, ci_low = tf$ci.lb,
    ci_high = tf$ci.ub, filled_test = tf$test)
}

ref <- list(
  meta = list(generator = "tools/make_reference_edge.R", r_version = R.version.string,
              metafor = as.character(packageVersion("metafor")), control = ctrl),
  trimfill = trimfill_cases, bcg = bcg_data, btt = btt_cases,
  three_level = list(yi = y, vi = v, fits = three), three_level_stall = three_stall,
  trimfill_identical = identical
)
dir.create(dirname(out), showWarnings = FALSE, recursive = TRUE)
writeLines(toJSON(ref, digits = I(15), auto_unbox = TRUE, pretty = TRUE, na = "null"), out)
