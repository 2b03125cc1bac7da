"""Many Bayesian fits at once: :func:`bayes_batch`, :func:`prior_sensitivity` and more.

The batch stage of the Bayesian engine. Everything in :mod:`.posterior` is array arithmetic over
a batch axis, so 1,000 fits (a prior grid, leave-one-out) are one computation
(:func:`bayes_batch`); :func:`prior_sensitivity` fits the same data under several tau priors and
:func:`compare_cells` puts each pooled cell's Bayesian estimate beside REML + Knapp-Hartung.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..checks import check_level
from ..pooling import check_inputs
from .marginals import _mix_cdf, _mix_ppf, _tau_ppf
from .pool import _check_mu_prior, bayes_pool
from .posterior import _N_COARSE, _NODES, _PANELS, _TAIL_PANELS, _finite_moment, _posterior
from .priors import TauPrior, _prior_table, make_prior

__all__ = ["SENSITIVITY_PRIORS", "bayes_batch", "prior_sensitivity", "compare_cells"]


_CHUNK_ELEMENTS = 4_000_000


def _batch_summaries(Y, V, M, priors, mu_prior, lv):
    B = Y.shape[0]
    post = _posterior(Y, V, M, priors, mu_prior)
    w = post.w
    probs = np.tile([(1 - lv) / 2, 0.5, (1 + lv) / 2], (B, 1))
    mu_mean = (w * post.mean).sum(axis=1)
    mu_sd = np.sqrt((w * (post.sd**2 + (post.mean - mu_mean[:, None]) ** 2)).sum(axis=1))
    ks = M.sum(axis=1)
    finite = np.array(
        [_finite_moment(p, kk, mu_prior, 2) for p, kk in zip(priors, ks, strict=True)]
    )
    mu_sd = np.where(finite, mu_sd, np.inf)
    mu_q = _mix_ppf(probs, w, post.mean, post.sd)
    pi_q = _mix_ppf(probs[:, [0, 2]], w, post.mean, np.sqrt(post.sd**2 + post.tau**2))
    tau_q = _tau_ppf(post, priors, probs)
    p_pos = 1 - _mix_cdf(np.zeros((B, 1)), w, post.mean, post.sd)[:, 0]
    return mu_mean, mu_sd, mu_q, pi_q, tau_q, p_pos


def bayes_batch(
    Y,
    V,
    mask=None,
    *,
    tau_prior: str | TauPrior | Sequence[str | TauPrior] = "halfnormal",
    tau_scale: float = 0.5,
    mu_prior: tuple[float, float] | None = None,
    level: float = 95.0,
) -> pd.DataFrame:
    """Many fits at once: rows of ``Y``/``V`` (B, k) with an optional boolean ``mask``.

    ``tau_prior`` is one prior for all rows or a sequence of B priors (a prior-sensitivity grid).
    Returns one row per fit with ``k``, ``mu_mean``, ``mu_median``, ``mu_sd``, ``mu_ci_low``,
    ``mu_ci_high``, ``tau_median``, ``tau_ci_low``, ``tau_ci_high``, ``pi_low``, ``pi_high`` and
    ``p_mu_positive`` (central intervals at ``level`` percent; 0.95 is read as 95%). No Python
    loop runs over fits, except over quantiles of tau (a root on one Legendre polynomial each).

    Examples
    --------
    >>> y = np.array([[0.2, 0.5, 0.1], [0.2, 0.5, 0.1]]); v = np.full((2, 3), 0.04)
    >>> f = bayes_batch(y, v, tau_prior=["halfnormal", "halfcauchy"])
    >>> bool(np.isclose(f.mu_median[0], bayes_pool(y[0], v[0]).mu_median))
    True
    """
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    V = np.atleast_2d(np.asarray(V, dtype=float))
    if Y.shape != V.shape:
        raise ValueError(f"Y and V have different shapes {Y.shape} and {V.shape}")
    M = np.ones(Y.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if M.shape != Y.shape:
        raise ValueError(f"mask has shape {M.shape}, Y has {Y.shape}")
    bad = np.argwhere(M & ~(np.isfinite(Y) & np.isfinite(V) & (V > 0)))
    if bad.size:
        r, c = bad[0]
        raise ValueError(f"non-finite yi or vi <= 0 at row {r}, column {c}")
    if np.any(M.sum(axis=1) == 0):
        raise ValueError(f"row {int(np.flatnonzero(M.sum(axis=1) == 0)[0])} has no studies")
    B = Y.shape[0]
    Y, V = np.where(M, Y, 0.0), np.where(M, V, 1.0)
    if isinstance(tau_prior, str | TauPrior):
        priors = [make_prior(tau_prior, tau_scale)] * B
    else:
        priors = [make_prior(p, tau_scale) for p in tau_prior]
        if len(priors) != B:
            raise ValueError(f"tau_prior: {len(priors)} priors for {B} rows")
    mu_prior = _check_mu_prior(mu_prior)
    lv = check_level(level) / 100
    # chunks of rows keep the (rows, nodes, k) temporaries near _CHUNK_ELEMENTS floats
    step = max(1, _CHUNK_ELEMENTS // ((_N_COARSE + _NODES * (_PANELS + _TAIL_PANELS)) * Y.shape[1]))
    parts = [
        _batch_summaries(
            Y[i : i + step], V[i : i + step], M[i : i + step], priors[i : i + step], mu_prior, lv
        )
        for i in range(0, B, step)
    ]
    mu_mean, mu_sd, mu_q, pi_q, tau_q, p_pos = (
        np.concatenate([part[i] for part in parts]) for i in range(6)
    )
    return pd.DataFrame(
        {
            "k": M.sum(axis=1),
            "tau_prior": [p.label for p in priors],
            "mu_mean": mu_mean,
            "mu_median": mu_q[:, 1],
            "mu_sd": mu_sd,
            "mu_ci_low": mu_q[:, 0],
            "mu_ci_high": mu_q[:, 2],
            "tau_median": tau_q[:, 1],
            "tau_ci_low": tau_q[:, 0],
            "tau_ci_high": tau_q[:, 2],
            "pi_low": pi_q[:, 0],
            "pi_high": pi_q[:, 1],
            "p_mu_positive": p_pos,
        }
    )


#: Priors of the sensitivity table: the weakly informative half-normal and half-Cauchy priors
#: of Friede et al. (2017) / Roever (2020) at two scales, and the empirical priors.
SENSITIVITY_PRIORS: tuple[str | TauPrior, ...] = (
    TauPrior("halfnormal", scale=0.5),
    TauPrior("halfnormal", scale=1.0),
    TauPrior("halfcauchy", scale=0.5),
    TauPrior("halfcauchy", scale=1.0),
)


def prior_sensitivity(
    yi,
    vi=None,
    priors: Sequence[str | TauPrior] | None = None,
    *,
    measure: str | None = None,
    level: float = 95.0,
) -> pd.DataFrame:
    """The same data under several tau priors, one row per prior (one batched computation).

    ``yi`` may be a pooled result (anything with ``yi``, ``vi`` and ``measure``), with ``vi``
    left out. Default priors: :data:`SENSITIVITY_PRIORS`, then the empirical priors that match
    ``measure`` (Rhodes et al. for SMD, Turner et al. for OR) from :func:`empirical_priors`.

    Examples
    --------
    >>> t = prior_sensitivity([0.3, 0.6, 0.1], [0.05, 0.04, 0.06], measure="SMD")
    >>> len(t), t.index[0]
    (8, 'half-normal(scale = 0.5)')
    """
    level = check_level(level)
    if vi is None and hasattr(yi, "yi") and hasattr(yi, "vi"):
        yi, vi, measure = yi.yi, yi.vi, measure or getattr(yi, "measure", None)
    if vi is None:
        raise ValueError("prior_sensitivity needs vi (or a pooled result as its first argument)")
    y, v = check_inputs(yi, vi)
    if priors is None:
        fam = {"SMD": "SMD", "MD": None, "OR": "logOR"}.get(measure or "", None)
        table = _prior_table()
        extra = list(table.loc[table["measure"] == fam, "name"]) if fam else []
        priors = list(SENSITIVITY_PRIORS) + extra
    B = len(priors)
    f = bayes_batch(np.tile(y, (B, 1)), np.tile(v, (B, 1)), tau_prior=list(priors), level=level)
    return f.set_index("tau_prior")


def compare_cells(
    cells, *, tau_prior: str | TauPrior = "halfnormal", tau_scale: float = 0.5, level: float = 95.0
) -> pd.DataFrame:
    """Bayesian estimate beside the REML + Knapp-Hartung one for each pooled cell.

    Parameters
    ----------
    cells : mapping or sequence
        ``{name: (yi, vi)}``, ``{name: (yi, vi, measure)}`` or ``{name: pooled_result}`` (any
        object with ``yi``, ``vi`` and ``measure``, e.g. ``Analysis.results`` of
        :mod:`evidence.review`), or a sequence of ``(name, yi, vi[, measure])``.

    Returns
    -------
    DataFrame indexed by cell with ``k``, the frequentist ``reml_estimate``, ``reml_ci_low``,
    ``reml_ci_high``, ``reml_pi_low``, ``reml_pi_high``, the Bayesian ``bayes_median``,
    ``bayes_ci_low``, ``bayes_ci_high``, ``bayes_pi_low``, ``bayes_pi_high``, ``tau_median``,
    ``p_mu_positive`` and ``tau_prior`` (the prior named, for footnotes).

    Examples
    --------
    >>> t = compare_cells({"A": ([0.3, 0.6], [0.05, 0.04]), "B": ([0.1, 0.2, 0.4], [.1, .1, .1])})
    >>> list(t.index), int(t.loc["A", "k"])
    (['A', 'B'], 2)
    """
    from ..pooling import pool

    level = check_level(level)  # one rule for both intervals (95 or 0.95 mean 95%)
    items = cells.items() if hasattr(cells, "items") else ((c[0], c[1:]) for c in cells)
    rows = []
    for name, spec in items:
        if hasattr(spec, "yi") and hasattr(spec, "vi"):  # a pooled result
            yi, vi, measure = spec.yi, spec.vi, getattr(spec, "measure", None)
        else:
            yi, vi, *rest = spec
            measure = rest[0] if rest else None
        f = pool(yi, vi, method="REML", test="knha", level=level, measure=measure)
        b = bayes_pool(
            yi, vi, tau_prior=tau_prior, tau_scale=tau_scale, level=level, measure=measure
        )
        rows.append(
            {
                "cell": name,
                "measure": measure,
                "k": f.k,
                "reml_estimate": f.estimate,
                "reml_ci_low": f.ci_low,
                "reml_ci_high": f.ci_high,
                "reml_pi_low": f.pi_low,
                "reml_pi_high": f.pi_high,
                "bayes_median": b.mu_median,
                "bayes_ci_low": b.mu_ci_low,
                "bayes_ci_high": b.mu_ci_high,
                "bayes_pi_low": b.pi_low,
                "bayes_pi_high": b.pi_high,
                "tau_median": b.tau_median,
                "p_mu_positive": b.p_mu_positive,
                "tau_prior": b.prior.label,
            }
        )
    return pd.DataFrame(rows).set_index("cell")
