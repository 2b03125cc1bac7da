# Reference values for evidence's network meta-analysis (evidence/meta/nma/), computed with
# metafor's rma.mv: the contrast-based model of the metafor NMA examples (common effect, and REML
# with random = ~ comp | study, rho = 1/2), the node-splitting model (an indicator moderator per
# split comparison) and the design-by-treatment interaction model (interaction moderators).
# Contrasts of a multi-arm study given in other orientations than "arm minus baseline" (the
# "oriented" entries, issue 23) use random = ~ 1 | row with the known correlation matrix
# R = list(row = Rmat) instead of rho = 1/2 (see re_cor() below).
#
# Usage: Rscript tools/make_reference_network.R [OUTPUT_JSON]
#        (default tests/reference/network.json; run from the repository root, because the
#        project network is read from data/)
#
# Requires R 4.2 with metafor 3.8, metadat and jsonlite. No random numbers are drawn, so rerunning
# with the same versions and the same data/ gives identical bytes. Never edit the JSON by hand.
#
# Contrasts from arm-level data (the rules evidence.network_from_arms implements; the tests check
# that it reproduces yi and V below):
# * treatment order: the reference first, then the other treatments in sorted (C locale) order;
#   each study's baseline arm is its arm that comes first in that order; one contrast per other
#   arm, "arm minus baseline", in treatment order.
# * MD: m_t - m_b, variance sd_t^2/n_t + sd_b^2/n_b, covariance of two contrasts sd_b^2/n_b.
# * OR: log odds ratio; if any arm of a study has 0 events or n events, 1/2 is added to the
#   events and non-events of every arm of that study (for a two-arm study this is escalc's
#   add = 1/2, to = "only0"); variance 1/a_t + 1/(n_t - a_t) + 1/a_b + 1/(n_b - a_b), covariance
#   1/a_b + 1/(n_b - a_b).
# * SMD: Hedges' g with the exact correction J(n_t + n_b - 2) (escalc "SMD"), variance
#   1/n_t + 1/n_b + g^2 / (2 (n_t + n_b)); covariance of g_1 and g_2 sharing the baseline
#   1/n_b + g_1 g_2 / (2 N), N the study's total size (Gleser and Olkin 2009, eq. 19.19).

suppressMessages(library(metafor))
suppressMessages(library(metadat))
suppressMessages(library(jsonlite))

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "tests/reference/network.json"

ctrl <- list(rel.tol = 1e-10, iter.max = 10000, eval.max = 10000)

# ---- contrasts from arms -----------------------------------------------------------------------
contrasts_from_arms <- function(arms, measure, reference) {
  others <- sort(setdiff(unique(arms$treatment), reference), method = "radix")
  lev <- c(reference, others)
  rows <- list()
  blocks <- list()
  for (s in unique(arms$study)) {
    a <- arms[arms$study == s, ]
    a <- a[order(match(a$treatment, lev)), ]
    b <- 1
    t <- 2:nrow(a)
    if (measure == "MD") {
      yi <- a$mean[t] - a$mean[b]
      vb <- a$sd[b]^2 / a$n[b]
      vi <- a$sd[t]^2 / a$n[t] + vb
      cv <- matrix(vb, length(t), length(t))
    } else if (measure == "OR") {
      ev <- a$events
      ne <- a$n - a$events
      if (any(ev == 0 | ne == 0)) {
        ev <- ev + 1 / 2
        ne <- ne + 1 / 2
      }
      yi <- log(ev[t] / ne[t]) - log(ev[b] / ne[b])
      vb <- 1 / ev[b] + 1 / ne[b]
      vi <- 1 / ev[t] + 1 / ne[t] + vb
      cv <- matrix(vb, length(t), length(t))
    } else if (measure == "SMD") {
      e <- escalc("SMD", m1i = a$mean[t], sd1i = a$sd[t], n1i = a$n[t],
                  m2i = rep(a$mean[b], length(t)), sd2i = rep(a$sd[b], length(t)),
                  n2i = rep(a$n[b], length(t)))
      yi <- c(e$yi)
      vi <- c(e$vi)
      cv <- 1 / a$n[b] + outer(yi, yi) / (2 * sum(a$n))
    }
    diag(cv) <- vi
    rows[[length(rows) + 1]] <- data.frame(study = s, treat1 = a$treatment[t],
                                           treat2 = a$treatment[b], yi = yi, vi = vi,
                                           stringsAsFactors = FALSE)
    blocks[[length(blocks) + 1]] <- cv
  }
  d <- do.call(rbind, rows)
  list(dat = d, V = bldiag(blocks), lev = lev)
}

design_matrix <- function(d, lev) {
  X <- sapply(lev[-1], function(t) (d$treat1 == t) - (d$treat2 == t))
  matrix(X, nrow = nrow(d), dimnames = list(NULL, lev[-1]))
}

# REML: nlminb (rel.tol 1e-10; tighter settings stop with "false convergence") leaves tau^2 up to
# about 5e-7 from the optimum on these data, so the optimum is then polished by maximising
# metafor's own restricted log-likelihood (logLik of rma.mv with tau2 fixed) with optimize()
# (tol 1e-12) on [0, 2 tau^2_nlminb + 0.01], and the model is refitted with that tau^2 fixed. A
# flat likelihood still limits tau^2 to about 1e-8.
#
# With Rmat (the random-effects correlation matrix of the contrasts, from re_cor()) the random
# effects are random = ~ 1 | row, R = list(row = Rmat): tau^2 is then rma.mv's sigma2 (tau2_of).
fit_nma <- function(d, V, X, method, btt = NULL, test = "z", Rmat = NULL) {
  d$comp <- paste(d$treat1, d$treat2, sep = "-")
  if (method == "FE") {
    return(rma.mv(d$yi, V, mods = X, intercept = FALSE, method = "FE", btt = btt, test = test))
  }
  fit <- function(t2 = NA, ...) {
    if (!is.null(Rmat)) {
      d$row <- factor(rownames(Rmat), levels = rownames(Rmat))
      return(rma.mv(d$yi, V, mods = X, intercept = FALSE, random = ~ 1 | row,
                    R = list(row = Rmat), data = d, method = method, control = ctrl, btt = btt,
                    sigma2 = t2, test = test, ...))
    }
    rma.mv(d$yi, V, mods = X, intercept = FALSE, random = ~ comp | study, rho = 1 / 2,
           data = d, method = method, control = ctrl, btt = btt, tau2 = t2, test = test, ...)
  }
  # saturated (no residual degree of freedom): the REML likelihood is flat in tau^2, which is not
  # identifiable; metafor's rma.mv then returns tau^2 = 0, and so does this reference
  if (nrow(d) == ncol(X)) return(fit(0))
  t0 <- tau2_of(fit())
  ll <- function(t2) c(logLik(fit(t2)))
  opt <- optimize(ll, c(0, 2 * t0 + 0.01), maximum = TRUE, tol = 1e-12)
  best <- if (opt$objective >= ll(t0)) opt$maximum else t0
  if (ll(0) >= ll(best)) best <- 0
  fit(best)
}

# tau^2 of a fit: tau2 of random = ~ comp | study, sigma2 of random = ~ 1 | row (Rmat), 0 for FE
tau2_of <- function(res) {
  if (isTRUE(res$withS) && !isTRUE(res$withG)) return(res$sigma2)
  if (is.null(res$tau2)) 0 else res$tau2
}

summ <- function(res, lev) {
  p <- length(lev) - 1
  pr <- predict(res, newmods = diag(p))
  # a common-effect model has no prediction interval: predict() gives the CI there
  list(treatment = lev[-1], estimate = c(res$beta)[1:p], se = res$se[1:p],
       pvalue = res$pval[1:p], ci_low = res$ci.lb[1:p], ci_high = res$ci.ub[1:p],
       pi_low = if (is.null(pr$pi.lb)) pr$ci.lb else pr$pi.lb,
       pi_high = if (is.null(pr$pi.ub)) pr$ci.ub else pr$pi.ub,
       vcov = unname(split(vcov(res)[1:p, 1:p], seq_len(p))),
       tau2 = tau2_of(res), q = res$QE, q_df = res$k - res$p,
       q_pvalue = res$QEp)
}

# node-splitting: for comparison (A, B) the moderator is 1 on every contrast that involves A in
# a study that contains both A and B (+1 where A is treat1, -1 where A is treat2): the direct
# A-vs-B evidence gets its own parameter (A's arm shifted by alpha, B and any other arms of those
# studies consistent), so indirect = d_A - d_B and direct = d_A - d_B + alpha.
node_split <- function(d, V, X, lev, method, Rmat = NULL) {
  p <- length(lev) - 1
  arms <- lapply(split(d, d$study), function(s) unique(c(s$treat1, s$treat2)))
  out <- list()
  for (i in 2:length(lev)) for (j in 1:(i - 1)) {
    A <- lev[i]
    B <- lev[j]
    both <- names(arms)[sapply(arms, function(a) A %in% a && B %in% a)]
    if (length(both) == 0) next
    ind <- ifelse(d$study %in% both, (d$treat1 == A) - (d$treat2 == A), 0)
    Xs <- cbind(X, alpha = ind)
    row <- list(treat1 = A, treat2 = B, k_direct = length(both))
    if (qr(Xs)$rank < ncol(Xs)) {
      row$identifiable <- FALSE
      out[[length(out) + 1]] <- row
      next
    }
    res <- fit_nma(d, V, Xs, method, Rmat = Rmat)
    cc <- c(as.numeric(lev[-1] == A) - as.numeric(lev[-1] == B), 0)
    cd <- c(cc[1:p], 1)
    vb <- vcov(res)
    b <- c(res$beta)
    row$identifiable <- TRUE
    row$indirect <- sum(cc * b)
    row$indirect_se <- sqrt(c(t(cc) %*% vb %*% cc))
    row$direct <- sum(cd * b)
    row$direct_se <- sqrt(c(t(cd) %*% vb %*% cd))
    row$difference <- b[p + 1]
    row$difference_se <- res$se[p + 1]
    row$difference_pvalue <- res$pval[p + 1]
    row$tau2 <- tau2_of(res)
    out[[length(out) + 1]] <- row
  }
  out
}

# design-by-treatment interaction: each design (the set of treatments of a study) gets its own
# parameters (its treatments vs the design's first treatment); fitted as the consistency design
# plus the interaction columns that add rank, and the Wald test of those columns (QM, btt).
# Direct and indirect evidence separated (netmeta's netsplit with SIDDE; evidence's
# NetworkResult.netsplit): direct = rma.uni pool of each head-to-head study's A vs B contrast
# (from its contrasts by least squares, variance l' V l) at the network's tau^2 (fixed);
# indirect = the network refitted without every study holding both treatments (SIDDE), or, when
# that no longer connects them, back-calculated from network and direct (P = var net / var dir).
netsplit_ref <- function(d, V, X, lev, method, Rmat = NULL) {
  full <- fit_nma(d, V, X, method, Rmat = Rmat)
  tau2 <- tau2_of(full)
  b <- c(full$beta)
  vb <- vcov(full)
  arms <- lapply(split(d, d$study), function(s) unique(c(s$treat1, s$treat2)))
  out <- list()
  for (i in 2:length(lev)) for (j in 1:(i - 1)) {
    A <- lev[i]
    B <- lev[j]
    both <- names(arms)[sapply(arms, function(a) A %in% a && B %in% a)]
    if (length(both) == 0) next
    cc <- as.numeric(lev[-1] == A) - as.numeric(lev[-1] == B)
    ys <- vs <- numeric(0)
    for (s in both) {
      r <- which(d$study == s)
      l <- qr.solve(t(X[r, , drop = FALSE]), cc)
      ys <- c(ys, sum(l * d$yi[r]))
      vs <- c(vs, c(t(l) %*% V[r, r, drop = FALSE] %*% l))
    }
    dir <- rma(ys, vs, tau2 = tau2, method = "REML")
    net <- sum(cc * b)
    net_var <- c(t(cc) %*% vb %*% cc)
    share <- min(net_var / dir$se^2, 1)
    row <- list(treat1 = A, treat2 = B, k_direct = length(both), direct = c(dir$beta),
                direct_se = dir$se, network = net, network_se = sqrt(net_var),
                direct_share = share, indirect_method = "none")
    keep <- !(d$study %in% both)
    ds <- d[keep, , drop = FALSE]
    lev_s <- lev[lev %in% c(ds$treat1, ds$treat2)]
    Xs <- if (nrow(ds) > 0) design_matrix(ds, lev_s) else NULL
    if (A %in% lev_s && B %in% lev_s && qr(Xs)$rank == ncol(Xs)) {
      Rs <- if (is.null(Rmat)) NULL else Rmat[keep, keep, drop = FALSE]
      fs <- fit_nma(ds, V[keep, keep, drop = FALSE], Xs, method, Rmat = Rs)
      cs <- as.numeric(lev_s[-1] == A) - as.numeric(lev_s[-1] == B)
      row$indirect <- sum(cs * c(fs$beta))
      row$indirect_se <- sqrt(c(t(cs) %*% vcov(fs) %*% cs))
      row$indirect_method <- "SIDDE"
    } else if (share < 1 - 1e-9) {
      row$indirect <- (net - share * row$direct) / (1 - share)
      row$indirect_se <- sqrt(net_var / (1 - share))
      row$indirect_method <- "back-calculation"
    }
    out[[length(out) + 1]] <- row
  }
  out
}

# Krahn's design decomposition (netmeta's decomp.design, common effect) from rma.mv FE fits:
# Q within designs = QE of the design-by-treatment model; per design, the residual quadratic form
# of each fit over the design's rows; Q between designs after detaching a design = QE of the
# consistency model plus that design's own columns (redundant ones dropped by rma.mv) minus Q
# within. heat[i, j] = design i's contribution to Q between minus it after detaching design j.
decomp_ref <- function(d, V, X, lev) {
  arms <- lapply(split(d, d$study), function(s) sort(match(unique(c(s$treat1, s$treat2)), lev)))
  design <- sapply(arms, function(a) paste(lev[a], collapse = ":"))[as.character(d$study)]
  names_d <- sort(unique(design), method = "radix")
  Z <- NULL
  owner <- NULL
  for (g in names_d) {
    tr <- strsplit(g, ":", fixed = TRUE)[[1]]
    for (t in tr[-1]) {
      Z <- cbind(Z, ifelse(design == g, (d$treat1 == t) - (d$treat2 == t), 0))
      owner <- c(owner, g)
    }
  }
  per_design <- function(M) {
    f <- suppressWarnings(rma.mv(d$yi, V, mods = M, intercept = FALSE, method = "FE"))
    r <- d$yi - c(fitted(f))
    sapply(names_d, function(g) {
      i <- which(design == g)
      c(t(r[i]) %*% solve(V[i, i, drop = FALSE]) %*% r[i])
    })
  }
  het <- per_design(Z)
  net <- per_design(X)
  heat <- matrix(NA, length(names_d), length(names_d))
  detached <- numeric(length(names_d))
  for (j in seq_along(names_d)) {
    after <- per_design(cbind(X, Z[, owner == names_d[j], drop = FALSE]))
    detached[j] <- sum(after) - sum(het)
    heat[, j] <- (net - het) - (after - het)
  }
  list(designs = names_d, q_total = sum(net), q_within = sum(het),
       q_between = sum(net) - sum(het), q_within_design = unname(het),
       q_contribution = unname(net - het), q_detached = detached,
       heat = unname(split(heat, seq_len(nrow(heat)))))
}

dbt <- function(d, V, X, lev, method, Rmat = NULL) {
  arms <- lapply(split(d, d$study), function(s) sort(match(unique(c(s$treat1, s$treat2)), lev)))
  design <- sapply(arms, function(a) paste(lev[a], collapse = ":"))[as.character(d$study)]
  Z <- NULL
  for (g in sort(unique(design), method = "radix")) {
    tr <- strsplit(g, ":", fixed = TRUE)[[1]]
    for (t in tr[-1]) {
      z <- ifelse(design == g, (d$treat1 == t) - (d$treat2 == t), 0)
      Z <- cbind(Z, z)
    }
  }
  keep <- X
  for (c in seq_len(ncol(Z))) {
    cand <- cbind(keep, Z[, c])
    if (qr(cand)$rank == ncol(cand)) keep <- cand
  }
  q_between_df <- ncol(keep) - ncol(X)
  res <- if (q_between_df > 0) fit_nma(d, V, unname(keep), method,
                                      btt = (ncol(X) + 1):ncol(keep), Rmat = Rmat) else NULL
  list(designs = length(unique(design)), q_between_df = q_between_df,
       q_within = if (is.null(res)) NA else res$QE,
       q_within_df = if (is.null(res)) NA else res$k - res$p,
       tau2 = if (is.null(res)) 0 else tau2_of(res),
       wald = if (is.null(res)) NA else res$QM,
       wald_pvalue = if (is.null(res)) NA else res$QMp)
}

network_ref <- function(arms, measure, reference, kind) {
  cn <- contrasts_from_arms(arms, measure, reference)
  d <- cn$dat
  X <- design_matrix(d, cn$lev)
  res <- list(kind = kind, measure = measure, reference = reference, treatments = cn$lev,
              arms = as.list(arms), contrasts = as.list(d),
              V = unname(split(cn$V, seq_len(nrow(cn$V)))))
  for (m in c("FE", "REML")) {
    f <- fit_nma(d, cn$V, X, m)
    res[[m]] <- summ(f, cn$lev)
    res[[m]]$split <- node_split(d, cn$V, X, cn$lev, m)
    res[[m]]$dbt <- dbt(d, cn$V, X, cn$lev, m)
    res[[m]]$netsplit <- netsplit_ref(d, cn$V, X, cn$lev, m)
  }
  # test = "t": t with k - p df for tests, confidence and prediction intervals
  res$decomposition <- decomp_ref(d, cn$V, X, cn$lev)
  res$REML_t <- summ(fit_nma(d, cn$V, X, "REML", test = "t"), cn$lev)
  res
}

# ---- datasets ----------------------------------------------------------------------------------
# ---- saturated networks (issue 27): no residual degree of freedom, tau^2 not identifiable ------
# The REML likelihood is flat in tau^2 when the model is saturated; fit_nma's rule (keep 0 when
# ll(0) >= ll(best)) gives tau^2 = 0, which is metafor's answer for these fits. Contrasts are
# given directly (yi = treat1 minus treat2); V is diagonal except where a block is given.
contrast_ref <- function(study, treat1, treat2, yi, vi, reference, V = diag(vi), kind = "") {
  others <- sort(setdiff(unique(c(treat1, treat2)), reference), method = "radix")
  lev <- c(reference, others)
  d <- data.frame(study = study, treat1 = treat1, treat2 = treat2, yi = yi, vi = vi,
                  stringsAsFactors = FALSE)
  X <- design_matrix(d, lev)
  res <- list(kind = kind, reference = reference, treatments = lev, contrasts = as.list(d),
              V = unname(split(V, seq_len(nrow(V)))))
  for (m in c("FE", "REML")) {
    res[[m]] <- summ(fit_nma(d, V, X, m), lev)
    res[[m]]$split <- node_split(d, V, X, lev, m)
  }
  res
}

saturated <- list(
  chain = contrast_ref(c("s1", "s2"), c("B", "C"), c("A", "B"), c(0.2, -0.4), c(0.04, 0.05),
                       "A", kind = "two studies in a chain A-B-C: saturated fit"),
  loop = contrast_ref(c("1", "2", "3", "4"), c("B", "C", "C", "D"), c("A", "A", "B", "C"),
                      c(0.34, -0.07, -0.19, 0.23), c(0.04, 0.05, 0.06, 0.05), "A",
                      kind = "one loop A-B-C and a spur C-D: the split of C vs A is saturated"),
  star = contrast_ref(c("s1", "s2", "s3"), c("B", "C", "D"), c("A", "A", "A"),
                      c(0.5, 0.1, -0.3), c(0.02, 0.08, 0.05), "A",
                      kind = "a star of three two-arm studies: saturated fit"),
  multiarm = contrast_ref(c("s1", "s1", "s2"), c("B", "C", "D"), c("A", "A", "C"),
                          c(0.3, 0.6, -0.2), c(0.05, 0.06, 0.04), "A",
                          V = matrix(c(0.05, 0.02, 0, 0.02, 0.06, 0, 0, 0, 0.04), 3),
                          kind = "a three-arm study and a two-arm study: saturated fit")
)

# ---- contrasts of multi-arm studies in any orientation (issue 23) -------------------------------
# The random effect of contrast "t1 minus t2" of a study is theta_t1 - theta_t2, with independent
# arm effects theta of variance tau^2 / 2, so the random-effects correlation of two contrasts of
# one study is half the inner product of their arm incidences (+1 treat1, -1 treat2): +1/2 when
# they share an arm on the same side (B-A and C-A, A-B and A-C), -1/2 when the shared arm is on
# opposite sides (B-A and A-C), 0 when they share no arm (netmeta's B B' o E / 2). rma.mv's
# rho = 1/2 gives +1/2 to every pair, so these fits give metafor the matrix itself:
# random = ~ 1 | row, R = list(row = re_cor(d)) (one level of `row` per contrast; tau^2 is sigma2).
re_cor <- function(d) {
  lev <- sort(unique(c(d$treat1, d$treat2)), method = "radix")
  B <- sapply(lev, function(t) (d$treat1 == t) - (d$treat2 == t))
  Rmat <- (B %*% t(B)) / 2 * outer(d$study, d$study, "==")
  dimnames(Rmat) <- list(paste0("r", seq_len(nrow(d))), paste0("r", seq_len(nrow(d))))
  Rmat
}

# Contrasts given directly (yi = treat1 minus treat2) with the full V and the fits of
# contrast_ref plus the design-by-treatment model and netsplit, all with R = re_cor(d).
oriented_ref <- function(study, treat1, treat2, yi, V, reference, kind) {
  others <- sort(setdiff(unique(c(treat1, treat2)), reference), method = "radix")
  lev <- c(reference, others)
  d <- data.frame(study = study, treat1 = treat1, treat2 = treat2, yi = yi, vi = diag(V),
                  stringsAsFactors = FALSE)
  X <- design_matrix(d, lev)
  Rmat <- re_cor(d)
  res <- list(kind = kind, reference = reference, treatments = lev, contrasts = as.list(d),
              V = unname(split(V, seq_len(nrow(V)))), R = unname(split(Rmat, seq_len(nrow(V)))))
  for (m in c("FE", "REML")) {
    res[[m]] <- summ(fit_nma(d, V, X, m, Rmat = Rmat), lev)
    res[[m]]$split <- node_split(d, V, X, lev, m, Rmat = Rmat)
    res[[m]]$dbt <- dbt(d, V, X, lev, m, Rmat = Rmat)
    res[[m]]$netsplit <- netsplit_ref(d, V, X, lev, m, Rmat = Rmat)
  }
  res
}

# Within-study covariances from arm variances: a contrast's variance is the sum of its two arms',
# two contrasts sharing an arm have covariance +-(that arm's variance) (sign as in re_cor).
arm_cov <- function(study, treat1, treat2, armvar) {
  key1 <- paste(study, treat1)
  key2 <- paste(study, treat2)
  V <- outer(key1, key1, "==") * armvar[key1] - outer(key1, key2, "==") * armvar[key1] -
    outer(key2, key1, "==") * armvar[key2] + outer(key2, key2, "==") * armvar[key2]
  unname(V)
}

oriented <- local({
  # s1: three arms given as B-A and A-C (A shared on opposite sides: correlation -1/2);
  # s2: four arms given as the path B-A, C-B, D-C (-1/2, -1/2, and 0 for B-A with D-C);
  # s3: three arms given as A-B and A-C (A shared on the same side: +1/2); eight two-arm studies
  study <- c("s1", "s1", "s2", "s2", "s2", "s3", "s3", "s4", "s5", "s6", "s7", "s8", "s9",
             "s10", "s11")
  treat1 <- c("B", "A", "B", "C", "D", "A", "A", "B", "C", "D", "C", "D", "B", "C", "D")
  treat2 <- c("A", "C", "A", "B", "C", "B", "C", "A", "A", "A", "B", "B", "A", "A", "C")
  yi <- c(0.45, -0.20, 0.10, 0.55, -0.60, -0.05, -0.75, 0.62, 0.31, -0.15, 0.02, -0.48, 0.05,
          0.88, -0.25)
  armvar <- c("s1 A" = 0.02, "s1 B" = 0.03, "s1 C" = 0.025,
              "s2 A" = 0.03, "s2 B" = 0.02, "s2 C" = 0.025, "s2 D" = 0.035,
              "s3 A" = 0.02, "s3 B" = 0.03, "s3 C" = 0.04,
              "s4 A" = 0.02, "s4 B" = 0.02, "s5 A" = 0.03, "s5 C" = 0.03,
              "s6 A" = 0.025, "s6 D" = 0.025, "s7 B" = 0.035, "s7 C" = 0.035,
              "s8 B" = 0.0225, "s8 D" = 0.0225, "s9 A" = 0.015, "s9 B" = 0.015,
              "s10 A" = 0.025, "s10 C" = 0.025, "s11 C" = 0.04, "s11 D" = 0.04)
  V <- arm_cov(study, treat1, treat2, armvar)
  list(multiarm = oriented_ref(study, treat1, treat2, yi, V, "A",
                               kind = paste("multi-arm studies given as B-A and A-C, as the path",
                                            "B-A, C-B, D-C and as A-B and A-C, with eight",
                                            "two-arm studies: random = ~ 1 | row, R = re_cor")))
})

hb <- dat.hasselblad1998
hasselblad <- data.frame(study = hb$study, treatment = hb$trt, events = hb$xi, n = hb$ni,
                         stringsAsFactors = FALSE)
sn <- dat.senn2013
senn <- data.frame(study = sn$study, treatment = sn$treatment, mean = sn$mi, sd = sn$sdi,
                   n = sn$ni, stringsAsFactors = FALSE)

# The project's own data (data/): depression trials, post-treatment mean/SD/n rows of
# outcomes_metapsy.csv. One instrument per trial: the first (sorted) instrument reported for every
# comparison of the trial. Arms are classed by arms.csv arm_class (every PDT variant is
# "psychodynamic"); an arm's values are read from the first comparison row that carries it (rows
# sharing an arm agree: tools/extract_metapsy.py checks it). Derived: means are multiplied by -1
# where the instrument's higher_is_better is false, so that positive contrasts favour treat1.
project <- local({
  o <- read.csv("data/outcomes_metapsy.csv", stringsAsFactors = FALSE)
  cmp <- read.csv("data/comparisons.csv", stringsAsFactors = FALSE)
  tr <- read.csv("data/trials.csv", stringsAsFactors = FALSE)
  ins <- read.csv("data/instruments.csv", stringsAsFactors = FALSE)
  am <- read.csv("data/arms.csv", stringsAsFactors = FALSE)
  o <- o[o$stats_form == "msd" & o$timepoint == "post", ]
  o <- merge(o, cmp[, c("comparison_id", "trial_id", "arm1_id", "arm2_id")], by = "comparison_id")
  o <- merge(o, tr[, c("trial_id", "condition")], by = "trial_id")
  o <- o[o$condition == "depression", ]
  o <- o[order(o$trial_id, o$comparison_id, o$instrument), ]
  rows <- list()
  for (t in unique(o$trial_id)) {
    ot <- o[o$trial_id == t, ]
    common <- Reduce(intersect, split(ot$instrument, ot$comparison_id))
    inst <- sort(common, method = "radix")[1]
    ot <- ot[ot$instrument == inst, ]
    sgn <- if (tolower(ins$higher_is_better[ins$instrument == inst]) == "true") 1 else -1
    a <- rbind(data.frame(arm = ot$arm1_id, mean = ot$mean1, sd = ot$sd1, n = ot$n1,
                          effect_id = ot$effect_id, stringsAsFactors = FALSE),
               data.frame(arm = ot$arm2_id, mean = ot$mean2, sd = ot$sd2, n = ot$n2,
                          effect_id = ot$effect_id, stringsAsFactors = FALSE))
    a <- a[!duplicated(a$arm), ]
    a$study <- t
    a$instrument <- inst
    a$mean <- sgn * a$mean
    rows[[length(rows) + 1]] <- a
  }
  a <- do.call(rbind, rows)
  a$treatment <- am$arm_class[match(a$arm, am$arm_id)]
  data.frame(study = a$study, treatment = a$treatment, mean = a$mean, sd = a$sd, n = a$n,
             arm_id = a$arm, instrument = a$instrument, source_effect_id = a$effect_id,
             stringsAsFactors = FALSE)
})

ref <- list(
  versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                  metafor = as.character(packageVersion("metafor")),
                  metadat = as.character(packageVersion("metadat"))),
  networks = list(
    hasselblad1998 = network_ref(hasselblad, "OR", "no_contact",
                                 "log OR, smoking cessation (dat.hasselblad1998)"),
    senn2013 = network_ref(senn, "MD", "placebo", "MD in HbA1c (dat.senn2013)"),
    project_depression = network_ref(project, "SMD", "usual_care",
                                     paste("project data/: depression trials, Hedges g",
                                           "(positive favours treat1), arm classes"))
  ),
  saturated = saturated,
  oriented = oriented
)

writeLines(toJSON(ref, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"), out)
