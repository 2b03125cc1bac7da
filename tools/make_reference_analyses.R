# Reference values for evidence's analyses (subgroups, meta-regression, permutation tests,
# dependent effects, influence, Baujat, GOSH, regression and rank tests, trim-and-fill), computed
# with metafor.
#
# Usage: Rscript tools/make_reference_analyses.R [OUTPUT_JSON]
#        (default tests/reference/analyses.json; run from the repository root, because the
#        project dataset is read from data/)
#
# Requires R 4.2 with metafor 3.8, metadat and jsonlite. The output is deterministic (no random
# numbers are drawn: permutation tests are exact, GOSH enumerates all subsets), so rerunning with
# the same versions and the same data/ gives identical bytes. Never edit the JSON by hand.

suppressMessages(library(metafor))
suppressMessages(library(jsonlite))

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "tests/reference/analyses.json"

ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000, stepadj = 1)
# nlminb stops with "false convergence" at rel.tol = 1e-12 when a variance component is on
# the boundary (the project data), so 1e-10 is the tightest setting that completes.
mvctrl <- list(rel.tol = 1e-10, iter.max = 10000, eval.max = 10000)

# ---- datasets --------------------------------------------------------------------------------
bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
normand <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
                  data = dat.normand1999)
hack <- dat.hackshaw1998
molloy <- escalc("ZCOR", ri = ri, ni = ni, data = dat.molloy2014)
konst <- dat.konstantopoulos2011

# The project's own data (data/): post-treatment outcomes reported as mean/SD/n, as Hedges' g
# of arm 1 (the PDT arm) vs arm 2, multiplied by -1 where the instrument's lower scores are
# better, so that positive values favour PDT. Several instruments per comparison are dependent:
# they are modelled with the three-level model or aggregated per comparison (rho = 0.5) before
# any analysis that assumes independent effects.
proj_raw <- local({
  o <- read.csv("data/outcomes_metapsy.csv", stringsAsFactors = FALSE)
  cmp <- read.csv("data/comparisons.csv", stringsAsFactors = FALSE)
  tr <- read.csv("data/trials.csv", stringsAsFactors = FALSE)
  ins <- read.csv("data/instruments.csv", stringsAsFactors = FALSE)
  o <- o[o$stats_form == "msd" & o$timepoint == "post", ]
  o <- merge(o, cmp[, c("comparison_id", "trial_id")], by = "comparison_id")
  o <- merge(o, tr[, c("trial_id", "year", "condition")], by = "trial_id")
  o <- merge(o, ins[, c("instrument", "higher_is_better")], by = "instrument")
  o <- o[order(o$trial_id, o$comparison_id, o$instrument), ]
  e <- escalc("SMD", m1i = mean1, sd1i = sd1, n1i = n1, m2i = mean2, sd2i = sd2, n2i = n2,
              data = o)
  sgn <- ifelse(tolower(as.character(e$higher_is_better)) == "true", 1, -1)
  data.frame(effect_id = e$effect_id, comparison_id = e$comparison_id, trial_id = e$trial_id,
             year = e$year, condition = e$condition, yi = sgn * c(e$yi), vi = c(e$vi),
             stringsAsFactors = FALSE)
})
proj_agg <- local({
  a <- aggregate(escalc(yi = yi, vi = vi, data = proj_raw), cluster = comparison_id,
                 rho = 0.5)
  data.frame(comparison_id = a$comparison_id, year = proj_raw$year[match(a$comparison_id,
             proj_raw$comparison_id)], condition = proj_raw$condition[match(a$comparison_id,
             proj_raw$comparison_id)], yi = c(a$yi), vi = c(a$vi), stringsAsFactors = FALSE)
})

datasets <- list(
  bcg = list(kind = "log RR (dat.bcg)", yi = c(bcg$yi), vi = c(bcg$vi),
             mods = list(ablat = bcg$ablat, year = bcg$year, alloc = bcg$alloc)),
  normand1999 = list(kind = "SMD (dat.normand1999)", yi = c(normand$yi), vi = c(normand$vi),
                     mods = list(source = normand$source)),
  hackshaw1998 = list(kind = "log OR as reported (dat.hackshaw1998)", yi = hack$yi,
                      vi = hack$vi, mods = list(year = hack$year, design = hack$design)),
  molloy2014 = list(kind = "Fisher z (dat.molloy2014)", yi = c(molloy$yi), vi = c(molloy$vi),
                    mods = list(meanage = molloy$meanage, quality = molloy$quality,
                                design = molloy$design)),
  project = list(kind = paste("project data/: Hedges g (PDT minus comparator, positive favours",
                              "PDT), post-treatment mean/SD rows, aggregated per comparison",
                              "with rho = 0.5"),
                 ids = proj_agg$comparison_id, yi = proj_agg$yi, vi = proj_agg$vi,
                 mods = list(year = proj_agg$year, condition = proj_agg$condition))
)
multilevel <- list(
  konstantopoulos2011 = list(kind = "dat.konstantopoulos2011 (schools within districts)",
                             yi = konst$yi, vi = konst$vi, trial = konst$district,
                             effect = konst$school),
  project = list(kind = "project data/: Hedges g per instrument within comparison",
                 yi = proj_raw$yi, vi = proj_raw$vi, trial = proj_raw$comparison_id,
                 effect = proj_raw$effect_id)
)

# ---- subgroups -------------------------------------------------------------------------------
subgroup_cases <- list(
  list(dataset = "bcg", by = "alloc", method = "REML", test = "z"),
  list(dataset = "bcg", by = "alloc", method = "DL", test = "knha"),
  list(dataset = "bcg", by = "alloc", method = "ML", test = "z"),
  list(dataset = "hackshaw1998", by = "design", method = "REML", test = "z"),
  list(dataset = "hackshaw1998", by = "design", method = "PM", test = "knha"),
  list(dataset = "molloy2014", by = "design", method = "REML", test = "z"),
  list(dataset = "project", by = "condition", method = "REML", test = "z"),
  list(dataset = "project", by = "condition", method = "DL", test = "z")
)
subgroups <- list()
for (case in subgroup_cases) {
  d <- datasets[[case$dataset]]
  g <- as.character(d$mods[[case$by]])
  lev <- unique(g)
  per <- lapply(lev, function(l) {
    r <- rma(d$yi, d$vi, subset = g == l, method = case$method, test = case$test,
             control = ctrl)
    list(group = l, k = r$k, estimate = c(r$beta), se = r$se, ci_low = r$ci.lb,
         ci_high = r$ci.ub, tau2 = r$tau2, i2 = r$I2, q = r$QE, q_pvalue = r$QEp)
  })
  est <- sapply(per, `[[`, "estimate")
  ses <- sapply(per, `[[`, "se")
  between <- rma(est, sei = ses, mods = ~ factor(lev), method = "FE")
  common <- rma(d$yi, d$vi, mods = ~ factor(g), method = case$method, test = case$test,
                control = ctrl)
  cells <- rma(d$yi, d$vi, mods = ~ factor(g) - 1, method = case$method, test = case$test,
               control = ctrl)
  cell_names <- sub("^factor\\(g\\)", "", rownames(cells$beta))
  subgroups[[length(subgroups) + 1]] <- c(case, list(
    separate = list(groups = per, q_between = between$QM, q_between_df = between$QMdf[1],
                    q_between_pvalue = between$QMp),
    common = list(tau2 = common$tau2, q_between = common$QM, q_between_df = common$QMdf[1],
                  q_between_pvalue = common$QMp,
                  groups = lapply(seq_along(cell_names), function(j) list(
                    group = cell_names[j], estimate = cells$beta[j, 1], se = cells$se[j],
                    ci_low = cells$ci.lb[j], ci_high = cells$ci.ub[j])))
  ))
}

# ---- meta-regression -------------------------------------------------------------------------
reg_cases <- list(
  list(dataset = "bcg", mods = c("ablat")),
  list(dataset = "bcg", mods = c("ablat", "year")),
  list(dataset = "bcg", mods = c("alloc")),
  list(dataset = "bcg", mods = c("ablat", "alloc")),
  list(dataset = "hackshaw1998", mods = c("year", "design")),
  list(dataset = "molloy2014", mods = c("meanage", "quality")),
  list(dataset = "project", mods = c("year")),
  list(dataset = "project", mods = c("year", "condition"))
)
regressions <- list()
for (case in reg_cases) for (method in c("FE", "DL", "HE", "HS", "SJ", "PM", "EB", "ML", "REML"))
  for (test in c("z", "knha")) {
    if (method == "FE" && test == "knha") next
    d <- datasets[[case$dataset]]
    md <- as.data.frame(d$mods[case$mods], stringsAsFactors = FALSE)
    f <- as.formula(paste("~", paste(case$mods, collapse = " + ")))
    r <- rma(d$yi, d$vi, mods = f, data = md, method = method, test = test, control = ctrl)
    regressions[[length(regressions) + 1]] <- list(
      dataset = case$dataset, mods = case$mods, method = method, test = test,
      names = rownames(r$beta), coef = c(r$beta), se = r$se, statistic = r$zval,
      pvalue = r$pval, ci_low = r$ci.lb, ci_high = r$ci.ub, tau2 = r$tau2, qm = r$QM,
      qm_pvalue = r$QMp, qe = r$QE, qe_pvalue = r$QEp, i2 = r$I2, h2 = r$H2,
      r2 = if (is.null(r$R2)) NA else r$R2)
  }

# ---- exact permutation tests (no random numbers: every distinct permutation is enumerated) ---
perm_cases <- list(
  list(dataset = "bcg", rows = 1:6, mods = c("ablat"), method = "REML", test = "z"),
  list(dataset = "bcg", rows = 1:7, mods = c("alloc"), method = "DL", test = "knha"),
  list(dataset = "bcg", rows = 1:8, mods = character(0), method = "DL", test = "z"),
  list(dataset = "normand1999", rows = 1:7, mods = character(0), method = "REML", test = "knha")
)
permutations <- list()
for (case in perm_cases) {
  d <- datasets[[case$dataset]]
  yi <- d$yi[case$rows]
  vi <- d$vi[case$rows]
  if (length(case$mods)) {
    md <- as.data.frame(lapply(d$mods[case$mods], function(x) x[case$rows]),
                        stringsAsFactors = FALSE)
    r <- rma(yi, vi, mods = as.formula(paste("~", paste(case$mods, collapse = " + "))),
             data = md, method = case$method, test = case$test, control = ctrl)
  } else {
    r <- rma(yi, vi, method = case$method, test = case$test, control = ctrl)
  }
  p <- permutest(r, exact = TRUE)
  permutations[[length(permutations) + 1]] <- c(case, list(
    n = length(p$QM.perm), statistic = r$zval, pvalues = p$pval, qm = r$QM,
    qm_pvalue = p$QMp))
}

# ---- dependent effects -----------------------------------------------------------------------
aggregates <- list()
for (name in names(multilevel)) for (rho in c(0.2, 0.5, 0.8)) {
  m <- multilevel[[name]]
  a <- aggregate(escalc(yi = m$yi, vi = m$vi, data = data.frame(cl = m$trial)),
                 cluster = cl, rho = rho)
  aggregates[[length(aggregates) + 1]] <- list(dataset = name, rho = rho,
                                               cluster = a$cl, yi = c(a$yi), vi = c(a$vi))
}
three_level <- list()
for (name in names(multilevel)) for (test in c("z", "t")) {
  m <- multilevel[[name]]
  dd <- data.frame(yi = m$yi, vi = m$vi, trial = m$trial, effect = m$effect)
  r <- rma.mv(yi, vi, random = ~ 1 | trial / effect, data = dd, test = test, control = mvctrl)
  three_level[[length(three_level) + 1]] <- list(
    dataset = name, test = test, sigma2 = r$sigma2, estimate = c(r$beta), se = r$se,
    statistic = r$zval, pvalue = r$pval, ci_low = r$ci.lb, ci_high = r$ci.ub, q = r$QE,
    q_pvalue = r$QEp, loglik = c(logLik(r)))
}

# ---- influence and Baujat --------------------------------------------------------------------
infl_cases <- list(
  list(dataset = "bcg", mods = character(0), method = "REML", test = "z"),
  list(dataset = "bcg", mods = character(0), method = "DL", test = "knha"),
  list(dataset = "normand1999", mods = character(0), method = "FE", test = "z"),
  list(dataset = "hackshaw1998", mods = character(0), method = "PM", test = "z"),
  list(dataset = "bcg", mods = c("ablat"), method = "REML", test = "z"),
  list(dataset = "bcg", mods = c("ablat", "alloc"), method = "DL", test = "knha"),
  list(dataset = "project", mods = character(0), method = "REML", test = "z")
)
influence_ref <- list()
for (case in infl_cases) {
  d <- datasets[[case$dataset]]
  if (length(case$mods)) {
    md <- as.data.frame(d$mods[case$mods], stringsAsFactors = FALSE)
    r <- rma(d$yi, d$vi, mods = as.formula(paste("~", paste(case$mods, collapse = " + "))),
             data = md, method = case$method, test = case$test, control = ctrl)
  } else {
    r <- rma(d$yi, d$vi, method = case$method, test = case$test, control = ctrl)
  }
  inf <- influence(r)
  b <- baujat(r, symbol = "ids")
  influence_ref[[length(influence_ref) + 1]] <- c(case, list(
    rstudent = inf$inf$rstudent, dffits = inf$inf$dffits, cook_d = inf$inf$cook.d,
    cov_r = inf$inf$cov.r, tau2_del = inf$inf$tau2.del, qe_del = inf$inf$QE.del,
    hat = inf$inf$hat, weight = inf$inf$weight, inf = inf$is.infl,
    dfbetas = lapply(unclass(inf$dfbs)[seq_len(r$p)], c),
    baujat_x = b$x, baujat_y = b$y))
}

# ---- GOSH (all subsets) ----------------------------------------------------------------------
gosh_cases <- list(
  list(dataset = "normand1999", rows = 1:9, method = "FE"),
  list(dataset = "bcg", rows = 1:8, method = "REML"),
  list(dataset = "bcg", rows = 1:8, method = "DL")
)
gosh_ref <- list()
for (case in gosh_cases) {
  d <- datasets[[case$dataset]]
  r <- rma(d$yi[case$rows], d$vi[case$rows], method = case$method, control = ctrl)
  g <- suppressMessages(gosh(r, progbar = FALSE))
  gosh_ref[[length(gosh_ref) + 1]] <- c(case, list(
    k = g$res$k, QE = g$res$QE, I2 = g$res$I2, H2 = g$res$H2, tau2 = g$res$tau2,
    estimate = g$res$estimate))
}

# ---- small-study effects ---------------------------------------------------------------------
bias_sets <- c("bcg", "normand1999", "hackshaw1998", "molloy2014", "project")
regtests <- list()
ranktests <- list()
trimfills <- list()
for (name in bias_sets) {
  d <- datasets[[name]]
  for (spec in list(list(model = "lm", predictor = "sei", method = "REML", test = "z"),
                    list(model = "lm", predictor = "vi", method = "REML", test = "z"),
                    list(model = "rma", predictor = "sei", method = "REML", test = "z"),
                    list(model = "rma", predictor = "sei", method = "DL", test = "knha"),
                    list(model = "rma", predictor = "sei", method = "FE", test = "z"))) {
    r <- rma(d$yi, d$vi, method = spec$method, test = spec$test, control = ctrl)
    e <- regtest(r, model = spec$model, predictor = spec$predictor)
    regtests[[length(regtests) + 1]] <- c(list(dataset = name), spec, list(
      statistic = e$zval, pvalue = e$pval, df = if (is.null(e$dfs)) NA else e$dfs,
      limit_estimate = e$est, limit_ci_low = e$ci.lb, limit_ci_high = e$ci.ub))
  }
  k <- ranktest(rma(d$yi, d$vi, method = "FE"))
  ranktests[[length(ranktests) + 1]] <- list(dataset = name, tau = unname(k$tau),
                                             pvalue = k$pval)
  for (method in c("FE", "DL", "REML")) {
    r <- rma(d$yi, d$vi, method = method, control = ctrl)
    t <- trimfill(r, control = ctrl)
    trimfills[[length(trimfills) + 1]] <- list(
      dataset = name, method = method, k0 = t$k0, side = t$side, se_k0 = t$se.k0,
      estimate = c(t$beta), se = t$se, ci_low = t$ci.lb, ci_high = t$ci.ub, pvalue = t$pval,
      tau2 = t$tau2)
  }
}

ref <- list(
  meta = list(generator = "tools/make_reference_analyses.R", r_version = R.version.string,
              metafor = as.character(packageVersion("metafor")),
              metadat = as.character(packageVersion("metadat")),
              control = ctrl, rma_mv_control = mvctrl),
  datasets = datasets, multilevel = multilevel, subgroups = subgroups,
  regressions = regressions, permutations = permutations, aggregates = aggregates,
  three_level = three_level, influence = influence_ref, gosh = gosh_ref,
  regtests = regtests, ranktests = ranktests, trimfills = trimfills
)
dir.create(dirname(out), showWarnings = FALSE, recursive = TRUE)
writeLines(toJSON(ref, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"), out)
