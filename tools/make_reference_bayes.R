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

result <- list(
  generator = "tools/make_reference_bayes.R",
  r_version = paste(R.version$major, R.version$minor, sep = "."),
  metafor_version = as.character(packageVersion("metafor")),
  integrate_rel_tol = REL_TOL,
  uniroot_tol = ROOT_TOL,
  level = 95,
  datasets = datasets,
  cases = cases,
  bayes_factors = bayes_factors
)
writeLines(toJSON(result, digits = NA, auto_unbox = TRUE, pretty = TRUE), out)
