# Reference values for evidence.meta.bayes (exact Bayesian random-effects meta-analysis, the
# normal-normal hierarchical model of bayesmeta; Roever 2020, J Stat Softw 93(6)).
#
# Usage: Rscript tools/make_reference_bayes.R [OUTPUT_JSON]
#        (default tests/reference/bayes.json)
#
# bayesmeta is not in Debian, so the posterior is computed here independently from its
# definition, with base R's adaptive quadrature integrate() and root finder uniroot() at tight
# tolerance (no random numbers, no grid shared with the Python code):
#
#   y_i ~ N(theta_i, v_i),  theta_i ~ N(mu, tau^2),  flat (or normal) prior on mu, prior p(tau).
#   Integrating mu out, p(tau | y) is proportional to p(tau) * L(tau) with
#   log L(tau) = -1/2 [ sum log(v_i + tau^2) + sum (y_i - m)^2 / (v_i + tau^2)
#                       + log sum 1 / (v_i + tau^2) ]   (constants dropped),
#   m(tau) = sum w y / sum w, s(tau)^2 = 1 / sum w, w = 1 / (v + tau^2);
#   mu | tau, y ~ N(m, s^2), so the marginal CDF of mu is the tau-integral of pnorm((x - m) / s).
#   A new trial's effect: theta_new | tau, y ~ N(m, s^2 + tau^2) (the predictive interval).
#   A study's shrunken effect: theta_i | tau, y ~ N(b y_i + (1 - b) m, b v_i + (1 - b)^2 s^2)
#   with b = tau^2 / (v_i + tau^2).
#   With a normal prior N(m0, s0^2) on mu the prior enters as one more "study" (m0, s0^2) whose
#   variance does not grow with tau. Bayes factors (bayesmeta's definition, proper priors):
#   BF(tau = 0) = L(0) / int L(t) p(t) dt and BF(mu = 0) = int p(y | t, mu = 0) p(t) dt /
#   int L(t) p(t) dt, where L now includes the normalising constants and the mu prior.
#
# Requires R 4.2 with metafor 3.8, metadat and jsonlite. Output is deterministic.

suppressMessages(library(metafor))
suppressMessages(library(jsonlite))

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "tests/reference/bayes.json"

REL_TOL <- 1e-12  # integrate() relative tolerance
ABS_TOL <- 1e-14  # and absolute tolerance (integrals are probabilities and moments of order 1)
ROOT_TOL <- 1e-13 # uniroot() tolerance on the quantile

bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
normand <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
                  data = dat.normand1999)

# Cases: real data only. k = 2 and k = 3 are subsets of dat.bcg (log RR): trials 1-2, and
# trials 4, 6, 8, whose estimates (-1.44, -0.79, 0.01) with small variances give I^2 > 95%.
datasets <- list(
  bcg_k2 = list(yi = c(bcg$yi[1:2]), vi = c(bcg$vi[1:2]),
                source = "metadat dat.bcg rows 1-2, escalc(\"RR\")"),
  bcg_k3_het = list(yi = c(bcg$yi[c(4, 6, 8)]), vi = c(bcg$vi[c(4, 6, 8)]),
                    source = "metadat dat.bcg rows 4, 6, 8, escalc(\"RR\")"),
  normand1999 = list(yi = c(normand$yi), vi = c(normand$vi),
                     source = "metadat dat.normand1999, escalc(\"SMD\")"),
  bcg = list(yi = c(bcg$yi), vi = c(bcg$vi), source = "metadat dat.bcg, escalc(\"RR\")")
)

priors <- list(
  halfnormal = function(scale) function(t) ifelse(t < 0, 0, 2 * dnorm(t, 0, scale)),
  halfcauchy = function(scale) {
    structure(function(t) ifelse(t < 0, 0, 2 * dcauchy(t, 0, scale)), tail = 2)
  }
)

posterior <- function(y, v, dprior, mu_prior = NULL) {
  yy <- if (is.null(mu_prior)) y else c(mu_prior[1], y)
  vfun <- function(t) if (is.null(mu_prior)) v + t^2 else c(mu_prior[2]^2, v + t^2)
  cm <- function(t) {
    w <- 1 / vfun(t)
    m <- sum(w * yy) / sum(w)
    c(m = m, s = sqrt(1 / sum(w)), logl = -0.5 * (sum(log(1 / w)) + sum(w * (yy - m)^2)
                                                  + log(sum(w))))
  }
  # scale the integrand by its value at the REML-like mode of L to avoid underflow
  grid <- c(0, exp(seq(log(1e-4), log(1e3), length.out = 400)))
  lmax <- max(sapply(grid, function(t) cm(t)["logl"]))
  # beyond tau = 1e50 the integrand is below 1e-100 (prior tail times L(tau) ~ tau^-(k-1)),
  # and tau^2 would overflow: it is set to 0 there
  dens0 <- function(t) {
    sapply(t, function(u) if (u > 1e50) 0 else dprior(u) * exp(cm(u)["logl"] - lmax))
  }
  # split [0, Inf) at the bulk of the posterior so integrate() sees the peak
  brk <- c(0, 0.01, 0.1, 0.3, 1, 3, 10, Inf)
  integ <- function(f, lo = 0, hi = Inf) {
    pts <- sort(unique(c(lo, brk[brk > lo & brk < hi], hi)))
    s <- 0
    for (j in seq_len(length(pts) - 1)) {
      s <- s + integrate(f, pts[j], pts[j + 1], rel.tol = REL_TOL, abs.tol = ABS_TOL,
                       subdivisions = 10000L)$value
    }
    s
  }
  Z <- integ(dens0)
  dens <- function(t) dens0(t) / Z
  mix <- function(g) integ(function(t) sapply(t, function(u) if (u > 1e50) 0 else dens(u) * g(u)))
  list(dens = dens, cm = cm, integ = integ, mix = mix, lmax = lmax, Z = Z)
}

summaries <- function(y, v, dprior, level = 0.95) {
  p <- posterior(y, v, dprior)
  cm <- p$cm
  mix <- p$mix
  a <- (1 - level) / 2
  qroot <- function(cdf, prob, lo, hi) {
    uniroot(function(x) cdf(x) - prob, c(lo, hi), tol = ROOT_TOL, extendInt = "yes")$root
  }
  mu_cdf <- function(x) mix(function(t) pnorm(x, cm(t)["m"], cm(t)["s"]))
  pred_cdf <- function(x) mix(function(t) pnorm(x, cm(t)["m"], sqrt(cm(t)["s"]^2 + t^2)))
  tau_cdf <- function(x) p$integ(p$dens, 0, x)
  mu_mean <- mix(function(t) cm(t)["m"])
  # Var(mu | y) is finite iff E(tau^2 | y) is: the posterior of tau decays like
  # tau^-(a + k - 1) for a prior with tail tau^-a (half-Cauchy: a = 2; half-normal: no power),
  # so with k = 2 and a half-Cauchy prior it is infinite (integrate() would return a number)
  heavy <- identical(attr(dprior, "tail"), 2)
  mu_sd <- if (heavy && length(y) + 2 - 1 <= 3) Inf else
    sqrt(mix(function(t) cm(t)["s"]^2 + cm(t)["m"]^2) - mu_mean^2)
  lo <- min(y) - 10
  hi <- max(y) + 10
  theta_mean <- sapply(seq_along(y), function(i) mix(function(t) {
    b <- t^2 / (v[i] + t^2)
    b * y[i] + (1 - b) * cm(t)["m"]
  }))
  list(
    mu_mean = mu_mean,
    mu_sd = mu_sd,
    mu_median = qroot(mu_cdf, 0.5, lo, hi),
    mu_ci_low = qroot(mu_cdf, a, lo, hi),
    mu_ci_high = qroot(mu_cdf, 1 - a, lo, hi),
    tau_median = qroot(tau_cdf, 0.5, 0, 5),
    tau_ci_low = qroot(tau_cdf, a, 0, 5),
    tau_ci_high = qroot(tau_cdf, 1 - a, 0, 5),
    pi_low = qroot(pred_cdf, a, lo, hi),
    pi_high = qroot(pred_cdf, 1 - a, lo, hi),
    prob_mu_gt_0 = 1 - mu_cdf(0),
    theta_mean = theta_mean
  )
}

cases <- list()
for (dname in names(datasets)) {
  d <- datasets[[dname]]
  for (pname in names(priors)) {
    for (scale in c(0.5, 1)) {
      s <- summaries(d$yi, d$vi, priors[[pname]](scale))
      cases[[length(cases) + 1]] <- c(list(data = dname, tau_prior = pname, tau_scale = scale),
                                      s)
    }
  }
}

# P(-m < mu < m): the posterior probability that the mean effect lies within a margin m
# (bayesmeta's pposterior gives P(mu <= x); this is the difference of two such values),
# integrating the same posterior as above, for every case and the margins below.
MARGINS <- c(0.1, 0.25, 0.5)
prob_within <- list()
for (dname in names(datasets)) {
  d <- datasets[[dname]]
  for (pname in names(priors)) {
    for (scale in c(0.5, 1)) {
      p <- posterior(d$yi, d$vi, priors[[pname]](scale))
      for (m in MARGINS) {
        inside <- p$mix(function(t) {
          cc <- p$cm(t)
          pnorm(m, cc["m"], cc["s"]) - pnorm(-m, cc["m"], cc["s"])
        })
        prob_within[[length(prob_within) + 1]] <- list(
          data = dname, tau_prior = pname, tau_scale = scale, margin = m, prob = inside
        )
      }
    }
  }
}

# Bayes factors need a proper prior on mu: normal(0, 4) on log RR, half-normal(0.5) on tau,
# dat.bcg. Likelihoods keep all normalising constants here.
bayes_factors <- local({
  y <- datasets$bcg$yi
  v <- datasets$bcg$vi
  m0 <- 0
  s0 <- 4
  dprior <- priors$halfnormal(0.5)
  k <- length(y)
  loglik_tau <- function(t) {  # mu integrated out against its normal prior
    yy <- c(m0, y)
    vv <- c(s0^2, v + t^2)
    w <- 1 / vv
    m <- sum(w * yy) / sum(w)
    -0.5 * (k * log(2 * pi) + sum(log(vv)) + sum(w * (yy - m)^2) + log(sum(w)))
  }
  loglik_mu0 <- function(t) sum(dnorm(y, 0, sqrt(v + t^2), log = TRUE))
  brk <- c(0, 0.1, 0.3, 1, 3, Inf)
  integ <- function(f) {
    s <- 0
    for (j in seq_len(length(brk) - 1)) {
      s <- s + integrate(f, brk[j], brk[j + 1], rel.tol = REL_TOL, abs.tol = ABS_TOL,
                       subdivisions = 10000L)$value
    }
    s
  }
  marg <- integ(function(t) sapply(t, function(u) if (u > 1e50) 0 else
                                                   exp(loglik_tau(u)) * dprior(u)))
  l_mu0 <- integ(function(t) sapply(t, function(u) if (u > 1e50) 0 else
                                                    exp(loglik_mu0(u)) * dprior(u)))
  list(data = "bcg", tau_prior = "halfnormal", tau_scale = 0.5, mu_prior = c(m0, s0),
       log_marginal_likelihood = log(marg),
       bf_tau0 = exp(loglik_tau(0)) / marg, bf_mu0 = l_mu0 / marg)
})

# ---- Edge cases: data far wider than the prior, and one study under every prior family ------
#
# The cases above integrate in tau with densities on the natural scale. Here the posterior lies
# where the prior density underflows (data far wider than the prior), or, with one study, the
# posterior is the prior itself, whose log-t tail holds mass beyond tau = 1e50. So these cases
# integrate in u = log(tau) over the whole real line with log densities (Jacobian included) and
# overflow-safe conditional moments; the priors are those of bayes_pool(..., **prior) named in
# each case. With one study and a flat prior on mu, L(tau) is constant: the posterior of tau is
# the prior, computed here through the same integrals as the others (not from its quantiles).

edge_datasets <- list(
  wide_k2 = list(yi = c(-1000, 1000), vi = c(0.1, 0.1),
                 source = "synthetic: two studies 2000 apart, far wider than the tau prior"),
  wide_k3 = list(yi = c(-20, 5, 30), vi = c(0.04, 0.05, 0.03),
                 source = "synthetic: three studies 50 apart"),
  bcg_k1 = list(yi = c(bcg$yi[1]), vi = c(bcg$vi[1]),
                source = "metadat dat.bcg row 1, escalc(\"RR\")")
)

empirical <- read.csv("evidence/meta/bayes/priors.csv", stringsAsFactors = FALSE)

# log density of u = log(tau) and its support in u, from bayes_pool's prior arguments
log_prior_u <- function(spec) {
  fam <- spec$tau_prior
  if (!fam %in% c("halfnormal", "halfcauchy", "halfstudent", "uniform", "lognormal", "logt")) {
    row <- empirical[empirical$name == fam, ]
    stopifnot(nrow(row) == 1)
    spec <- list(tau_prior = row$distribution, tau_params = c(row$location, row$scale),
                 tau_df = row$df)
    fam <- row$distribution
  }
  s <- spec$tau_scale
  support <- c(-Inf, Inf)
  f <- switch(fam,
    halfnormal = function(u) log(2) + dnorm(exp(u), 0, s, log = TRUE) + u,
    halfcauchy = function(u) log(2) + dcauchy(exp(u), 0, s, log = TRUE) + u,
    halfstudent = function(u) log(2) - log(s) + dt(exp(u) / s, spec$tau_df, log = TRUE) + u,
    uniform = {
      a <- spec$tau_range[1]
      b <- spec$tau_range[2]
      support <- c(log(a), log(b))
      function(u) u - log(b - a)
    },
    lognormal = function(u) log(2) + dnorm(2 * u, spec$tau_params[1], spec$tau_params[2],
                                           log = TRUE),
    logt = {
      df <- if (is.null(spec$tau_df) || is.na(spec$tau_df)) 5 else spec$tau_df
      function(u) log(2) - log(spec$tau_params[2]) +
        dt((2 * u - spec$tau_params[1]) / spec$tau_params[2], df, log = TRUE)
    }
  )
  # tau^-a tail (Var(mu | y) is infinite when a + k - 1 <= 3, as above; log-t: a = 1)
  tail <- switch(fam, halfcauchy = 2, halfstudent = spec$tau_df + 1, logt = 1, Inf)
  list(logd = f, support = support, tail = tail)
}

# conditional moments given u = log(tau), flat prior on mu, without overflow for huge tau:
# log(v + tau^2), weights relative to the largest; returns m, log s and log L
cm_u <- function(u, y, v) {
  lvt <- if (u > 0) 2 * u + log1p(v * exp(-2 * u)) else log(v + exp(2 * u))
  a <- min(lvt)
  wr <- exp(a - lvt)
  m <- sum(wr * y) / sum(wr)
  lsw <- log(sum(wr)) - a
  q <- sum(exp(-lvt) * (y - m)^2)
  c(m = m, ls = -0.5 * lsw, lvt = lvt,
    logl = -0.5 * ((length(y) - 1) * log(2 * pi) + sum(lvt) + q + lsw))
}

posterior_u <- function(y, v, prior) {
  logf <- function(u) prior$logd(u) + cm_u(u, y, v)["logl"]
  lo_u <- max(prior$support[1], -60)
  hi_u <- min(prior$support[2], 60)
  grid <- seq(lo_u, hi_u, length.out = 4001)
  lg <- sapply(grid, logf)
  lmax <- max(lg)
  # pieces: the range where the integrand is within e^-40 of its maximum, cut in 16, plus the
  # two tails out to the support's ends (integrate() maps infinite ends to finite ones)
  inside <- range(grid[lg > lmax - 40])
  brk <- unique(c(prior$support[1], seq(inside[1], inside[2], length.out = 17), prior$support[2]))
  brk <- brk[brk >= prior$support[1] & brk <= prior$support[2]]
  ldens0 <- function(u) logf(u) - lmax
  integ <- function(g, hi = Inf) {  # int over u < hi of exp(ldens0(u)) g(u)
    f <- function(uu) sapply(uu, function(u) {
      d <- exp(ldens0(u))  # 0 where g may be infinite (tau^2 beyond overflow): 0, not NaN
      if (d == 0) 0 else d * g(u)
    })
    pts <- c(brk[brk < hi], min(hi, brk[length(brk)]))
    s <- 0
    for (j in seq_len(length(pts) - 1)) {
      if (pts[j + 1] > pts[j]) {
        s <- s + integrate(f, pts[j], pts[j + 1], rel.tol = REL_TOL, abs.tol = ABS_TOL,
                           subdivisions = 10000L)$value
      }
    }
    s
  }
  Z <- integ(function(u) 1)
  list(mix = function(g) integ(g) / Z, cdf = function(u) integ(function(x) 1, u) / Z)
}

summaries_u <- function(y, v, prior, level = 0.95) {
  p <- posterior_u(y, v, prior)
  cm <- function(u) cm_u(u, y, v)
  a <- (1 - level) / 2
  qroot <- function(cdf, prob, lo, hi) {
    uniroot(function(x) cdf(x) - prob, c(lo, hi), tol = ROOT_TOL, extendInt = "yes")$root
  }
  # sd of the predictive component, sqrt(s^2 + tau^2), as exp of a log-sum
  lpred <- function(u, ls) {
    hi <- max(2 * ls, 2 * u)
    exp(0.5 * (hi + log1p(exp(-abs(2 * ls - 2 * u)))))
  }
  mu_cdf <- function(x) p$mix(function(u) {
    cc <- cm(u)
    pnorm(x, cc["m"], exp(cc["ls"]))
  })
  pred_cdf <- function(x) p$mix(function(u) {
    cc <- cm(u)
    pnorm(x, cc["m"], lpred(u, cc["ls"]))
  })
  mu_mean <- p$mix(function(u) cm(u)["m"])
  mu_sd <- if (prior$tail + length(y) - 1 <= 3) Inf else
    sqrt(p$mix(function(u) {
      cc <- cm(u)
      exp(2 * cc["ls"]) + cc["m"]^2
    }) - mu_mean^2)
  tau_q <- function(prob) {
    lo <- max(prior$support[1], -30)
    hi <- min(prior$support[2], 30)
    if (is.finite(prior$support[2])) {  # bounded: bisect inside the support
      return(exp(uniroot(function(u) p$cdf(u) - prob, c(lo, hi), tol = ROOT_TOL)$root))
    }
    exp(qroot(p$cdf, prob, lo, 5))
  }
  lo <- min(y) - 10
  hi <- max(y) + 10
  theta_mean <- sapply(seq_along(y), function(i) p$mix(function(u) {
    cc <- cm(u)
    b <- exp(2 * u - cc[paste0("lvt", if (length(y) > 1) i else "")])
    b * y[i] + (1 - b) * cc["m"]
  }))
  list(
    mu_mean = mu_mean,
    mu_sd = mu_sd,
    mu_median = qroot(mu_cdf, 0.5, lo, hi),
    mu_ci_low = qroot(mu_cdf, a, lo, hi),
    mu_ci_high = qroot(mu_cdf, 1 - a, lo, hi),
    tau_median = tau_q(0.5),
    tau_ci_low = tau_q(a),
    tau_ci_high = tau_q(1 - a),
    pi_low = qroot(pred_cdf, a, lo, hi),
    pi_high = qroot(pred_cdf, 1 - a, lo, hi),
    prob_mu_gt_0 = 1 - mu_cdf(0),
    theta_mean = theta_mean
  )
}

edge_specs <- list(
  list(data = "wide_k2", prior = list(tau_prior = "halfnormal", tau_scale = 0.5)),
  list(data = "wide_k2", prior = list(tau_prior = "turner_mental_pharm_placebo")),
  list(data = "wide_k3", prior = list(tau_prior = "halfnormal", tau_scale = 1)),
  list(data = "bcg_k1", prior = list(tau_prior = "halfnormal", tau_scale = 0.5)),
  list(data = "bcg_k1", prior = list(tau_prior = "halfcauchy", tau_scale = 0.5)),
  list(data = "bcg_k1", prior = list(tau_prior = "halfstudent", tau_scale = 0.5, tau_df = 3)),
  list(data = "bcg_k1", prior = list(tau_prior = "uniform", tau_range = c(0.1, 2))),
  list(data = "bcg_k1", prior = list(tau_prior = "lognormal", tau_params = c(-2.56, 1.74))),
  list(data = "bcg_k1", prior = list(tau_prior = "logt", tau_params = c(-3.44, 2.59),
                                     tau_df = 5)),
  list(data = "bcg_k1", prior = list(tau_prior = "rhodes_mental_nonpharm")),
  list(data = "bcg_k1", prior = list(tau_prior = "turner_mental_nonpharm_control"))
)
edge_cases <- lapply(edge_specs, function(e) {
  d <- edge_datasets[[e$data]]
  c(e, summaries_u(d$yi, d$vi, log_prior_u(e$prior)))
})

result <- list(
  generator = "tools/make_reference_bayes.R",
  r_version = paste(R.version$major, R.version$minor, sep = "."),
  metafor_version = as.character(packageVersion("metafor")),
  integrate_rel_tol = REL_TOL,
  uniroot_tol = ROOT_TOL,
  level = 95,
  datasets = datasets,
  cases = cases,
  bayes_factors = bayes_factors,
  prob_within = prob_within,
  edge_datasets = edge_datasets,
  edge_cases = edge_cases
)
writeLines(toJSON(result, digits = NA, auto_unbox = TRUE, pretty = TRUE), out)
