"""Small-study effects: Egger's regression test, Begg's rank test, trim-and-fill, PET-PEESE.

Each function takes ``yi, vi`` (a :class:`~evidence.meta.results.PoolResult` carries both) and
mirrors a metafor function: ``regtest`` (``model="lm"`` for the classical Egger test, ``"rma"``
for the mixed-effects form), ``ranktest``, ``trimfill`` (estimator L0 and metafor's rule for the
side), and PET-PEESE from ``regtest(model="lm", predictor="sei" / "vi")`` limit estimates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .kendall import kendall_exact_pvalue
from .pooling import METHODS, check_inputs, check_level, pool
from .pooling.checks import _name
from .regression.fit import REG_TESTS, fit_regression_batch
from .results import PoolResult, _fmt, _html_table, _p, _rel_p

__all__ = [
    "EggerResult",
    "RankTestResult",
    "TrimFillResult",
    "PetPeeseResult",
    "egger_test",
    "rank_test",
    "trim_and_fill",
    "pet_peese",
]


class _Scalar:
    """Shared output methods for the small result objects of this module."""

    _title = ""

    def _rows(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def _note(self) -> str:
        return ""

    def summary(self) -> str:
        rows = self._rows()
        width = max(len(k) for k, _ in rows)
        lines = [self._title] + [f"  {k:<{width}} : {v}" for k, v in rows]
        if self._note():
            lines.append(f"  ({self._note()})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return _html_table(self._title, self._rows(), self._note())


def _regression(y, v, predictor, model, method, test, level):
    k = y.size
    if k < 3:
        raise ValueError(f"regression test needs at least 3 studies (k = {k})")
    x = np.sqrt(v) if predictor == "sei" else v
    if np.ptp(x) == 0:
        raise ValueError(
            "regression test: every study has the same variance, so the predictor is constant"
        )
    X = np.column_stack([np.ones(k), x])
    if model == "lm":  # weighted least squares with a multiplicative dispersion, as lm()
        method, test = "FE", "knha"
    fit = fit_regression_batch(
        y[None], v[None], np.ones((1, k), bool), X, method=method, test=test, level=level
    )
    return {key: (val[0] if np.ndim(val) else val) for key, val in fit.items()}, method, test


@dataclass(frozen=True, eq=False)
class EggerResult(_Scalar):
    """Regression test for funnel-plot asymmetry (metafor ``regtest``).

    ``statistic`` and ``pvalue`` test the slope on the predictor (t with ``df`` under the
    classical ``"lm"`` form, z under ``"rma"`` with a Wald test); ``limit_estimate`` is the
    intercept, the effect expected at predictor 0 (a study of infinite precision).
    """

    model: str
    predictor: str
    method: str
    test: str
    k: int
    statistic: float
    pvalue: float
    df: float
    slope: float
    slope_se: float
    limit_estimate: float
    limit_pvalue: float
    limit_ci_low: float
    limit_ci_high: float
    tau2: float
    _title = "Regression test for funnel plot asymmetry"

    def _rows(self):
        stat = "z" if np.isinf(self.df) else f"t({self.df:g})"
        return [
            (
                "model",
                "weighted regression (lm)"
                if self.model == "lm"
                else f"mixed-effects ({self.method}, {self.test})",
            ),
            ("predictor", self.predictor),
            ("test", f"{stat} = {_fmt(self.statistic, 3)}, p {_rel_p(self.pvalue)}"),
            (
                "limit estimate",
                f"{_fmt(self.limit_estimate)} "
                f"[{_fmt(self.limit_ci_low)}, {_fmt(self.limit_ci_high)}]",
            ),
        ]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{k: getattr(self, k) for k in self.__dataclass_fields__}])


def egger_test(
    yi,
    vi=None,
    *,
    model: str = "lm",
    predictor: str = "sei",
    method: str = "REML",
    test: str = "z",
    level: float | None = None,
) -> EggerResult:
    """Egger's regression test (metafor ``regtest``).

    ``model="lm"`` (default) is the classical test: weighted least squares of yi on the
    standard error with weights 1/vi and a t test with k - 2 df (``regtest(model="lm")``).
    ``model="rma"`` is metafor's default form: a meta-regression on the standard error with
    the given tau^2 ``method`` and ``test``. ``predictor="vi"`` uses the variance instead.
    ``yi`` may be a :class:`~evidence.meta.results.PoolResult` (then ``vi`` is omitted and, for
    ``model="rma"``, its method and test are used). ``level`` (percent, or a proportion as in
    :func:`~evidence.meta.pooling.pool`) defaults to the result's level, else 95.

    Examples
    --------
    >>> e = egger_test([0.1, 0.3, 0.35, 0.65, 0.45, 0.15], [0.03, 0.03, 0.05, 0.01, 0.05, 0.02])
    >>> print(round(e.statistic, 4), round(e.pvalue, 4), e.df)
    -1.4 0.2341 4.0
    """
    if isinstance(yi, PoolResult):
        method, test = yi.method, yi.test
        level = yi.level if level is None else level
        yi, vi = yi.yi, yi.vi
    y, v = check_inputs(yi, vi)
    level = check_level(95.0 if level is None else level)
    model = _name(model, ("lm", "rma"), "model")
    predictor = _name(predictor, ("sei", "vi"), "predictor")
    method = _name(method, METHODS, "method")
    test = _name(test, REG_TESTS, "test")
    f, method, test = _regression(y, v, predictor, model, method, test, level)
    return EggerResult(
        model=model,
        predictor=predictor,
        method=method,
        test=test,
        k=y.size,
        statistic=float(f["statistic"][1]),
        pvalue=float(f["pvalue"][1]),
        df=float(f["df"]) if test != "z" else float("inf"),
        slope=float(f["beta"][1]),
        slope_se=float(f["se"][1]),
        limit_estimate=float(f["beta"][0]),
        limit_pvalue=float(f["pvalue"][0]),
        limit_ci_low=float(f["ci_low"][0]),
        limit_ci_high=float(f["ci_high"][0]),
        tau2=float(f["tau2"]),
    )


@dataclass(frozen=True, eq=False)
class RankTestResult(_Scalar):
    """Begg and Mazumdar's rank correlation test (metafor ``ranktest``)."""

    k: int
    tau: float
    pvalue: float
    exact: bool
    _title = "Rank correlation test for funnel plot asymmetry"

    def _rows(self):
        return [
            ("Kendall's tau", _fmt(self.tau)),
            ("p", _p(self.pvalue)),
            ("p-value", "exact" if self.exact else "normal approximation (ties)"),
        ]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [{"k": self.k, "tau": self.tau, "pvalue": self.pvalue, "exact": self.exact}]
        )


def rank_test(yi, vi=None) -> RankTestResult:
    """Begg's rank correlation test (metafor ``ranktest``).

    Kendall's tau between the standardised deviations from the common-effect estimate,
    ``(y_i - theta) / sqrt(v_i - 1/sum w)``, and the variances. As metafor (``exact=TRUE``), the
    p-value is exact unless there are ties, then the tie-corrected normal approximation.

    Work O(k log k) for tau and, for the exact p-value, O(k c) up to k c = 2^24 (c discordant
    pairs) and O(k^2) beyond (:func:`evidence.meta.kendall.kendall_exact_pvalue`): 0.5 s at
    k = 5,000, where the O(k^3) recursion of scipy and R takes minutes. (metafor's exact
    p-value is NaN from k = 171 on, where R's permutation counts overflow; this one is not.)

    Examples
    --------
    >>> r = rank_test([0.1, 0.3, 0.35, 0.65, 0.45, 0.15], [0.03, 0.03, 0.05, 0.01, 0.05, 0.02])
    >>> print(round(r.tau, 4), round(r.pvalue, 4), r.exact)
    0.2148 0.5588 False
    """
    if isinstance(yi, PoolResult):
        yi, vi = yi.yi, yi.vi
    y, v = check_inputs(yi, vi)
    if y.size < 3:
        raise ValueError(f"rank test needs at least 3 studies (k = {y.size})")
    w = 1 / v
    theta = np.sum(w * y) / w.sum()
    ystar = (y - theta) / np.sqrt(v - 1 / w.sum())
    ties = np.unique(ystar).size < y.size or np.unique(v).size < v.size
    res = stats.kendalltau(ystar, v, method="asymptotic")  # tau does not depend on the method
    tau, pvalue = float(res.statistic), float(res.pvalue)
    if not ties:  # tau = (N - 2 discordant) / N with N pairs
        pairs = y.size * (y.size - 1) // 2
        pvalue = kendall_exact_pvalue(y.size, round(pairs * (1 - tau) / 2))
    return RankTestResult(k=y.size, tau=tau, pvalue=pvalue, exact=not ties)


@dataclass(frozen=True, eq=False)
class TrimFillResult(_Scalar):
    """Trim-and-fill (metafor ``trimfill``): ``k0`` studies imputed on ``side``.

    ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``pvalue`` and ``tau2`` are from the model
    refitted to the observed plus filled studies (``pooled``); ``filled_yi``/``filled_vi`` are
    the imputed studies, ``se_k0`` the standard error of the L0 estimator.
    """

    method: str
    estimator: str
    side: str
    k0: int
    se_k0: float
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    pvalue: float
    tau2: float
    filled_yi: np.ndarray = field(repr=False)
    filled_vi: np.ndarray = field(repr=False)
    pooled: PoolResult = field(repr=False)
    iterations: int = field(repr=False)
    test: str = "z"
    _title = "Trim-and-fill"

    def _rows(self):
        return [
            ("estimator", f"{self.estimator}, tau^2 {self.method}"),
            ("imputed", f"{self.k0} (SE {_fmt(self.se_k0, 2)}) on the {self.side} side"),
            (
                "adjusted estimate",
                f"{_fmt(self.estimate)} (SE {_fmt(self.se)}) "
                f"[{_fmt(self.ci_low)}, {_fmt(self.ci_high)}], p {_rel_p(self.pvalue)}",
            ),
            ("test of the filled model", self.test),
        ]

    def to_frame(self) -> pd.DataFrame:
        keys = (
            "method",
            "estimator",
            "side",
            "k0",
            "se_k0",
            "estimate",
            "se",
            "ci_low",
            "ci_high",
            "pvalue",
            "tau2",
            "test",
        )
        return pd.DataFrame([{k: getattr(self, k) for k in keys}])

    def funnel_plot(self, **kwargs):
        """Funnel plot of the augmented data; see :func:`evidence.plots.funnel_plot`."""
        from evidence.plots import funnel_plot

        return funnel_plot(self, **kwargs)  # imputed studies drawn as open markers


def _l0(y0, v0, side: str, method: str, maxiter: int):
    """The L0 iterations on one side: (k0, se_k0, filled yi, filled vi, iterations)."""
    k = y0.size
    sgn = -1.0 if side == "right" else 1.0
    order = np.argsort(sgn * y0, kind="stable")
    y, v = sgn * y0[order], v0[order]
    k0, k0_prev, it = 0, -1, 0
    while k0 != k0_prev:
        k0_prev = k0
        it += 1
        if it > maxiter:
            raise RuntimeError(f"trim-and-fill did not converge in {maxiter} iterations")
        beta = pool(y[: k - k0], v[: k - k0], method=method).estimate
        yc = y - beta
        ranks = stats.rankdata(np.abs(yc), method="ordinal")
        sr = float(np.sum(ranks[yc > 0]))
        k0_raw = (4 * sr - k * (k + 1)) / (2 * k - 1)
        var_sr = (
            k * (k + 1) * (2 * k + 1)
            + 10 * k0_raw**3
            + 27 * k0_raw**2
            + 17 * k0_raw
            - 18 * k * k0_raw**2
            - 18 * k * k0_raw
            + 6 * k**2 * k0_raw
        ) / 24
        se_k0 = max(0.0, 4 * np.sqrt(var_sr) / (2 * k - 1)) if var_sr >= 0 else float("nan")
        k0 = int(max(0, np.round(k0_raw)))
    return k0, se_k0, sgn * (2 * beta - y[k - k0 :]), v[k - k0 :], it


def _side(y0, v0, method: str, maxiter: int) -> str:
    """metafor's side: sign of the slope of yi on the standard error (negative: right).

    When every study has the same variance the slope is undefined (metafor stops with an error):
    the answer is kept only if it does not depend on the side, i.e. L0 imputes nothing on
    either side (side ``"left"``, metafor's choice for a slope that is not negative).
    """
    k = y0.size
    if np.ptp(np.sqrt(v0)) > 0:
        X = np.column_stack([np.ones(k), np.sqrt(v0)])
        f = fit_regression_batch(y0[None], v0[None], np.ones((1, k), bool), X, method=method)
        return "right" if f["beta"][0, 1] < 0 else "left"
    k0 = {s: _l0(y0, v0, s, method, maxiter)[0] for s in ("left", "right")}
    if k0["left"] == k0["right"] == 0:
        return "left"
    raise ValueError(
        "trim-and-fill: every study has the same variance, so the side of the missing studies "
        f"cannot be estimated (L0 imputes {k0['left']} on the left, {k0['right']} on the "
        "right); pass side='left' or side='right'"
    )


def trim_and_fill(
    yi, vi=None, *, method: str = "REML", side: str | None = None, maxiter: int = 100
) -> TrimFillResult:
    """Duval and Tweedie's trim-and-fill with the L0 estimator (metafor ``trimfill``).

    The side of the missing studies is chosen as metafor does: from the sign of the slope of
    the meta-regression of yi on the standard error (negative slope: missing on the right).
    When every study has the same variance that slope does not exist: the result is returned
    if L0 imputes nothing on either side (e.g. identical studies), otherwise ``side`` must be
    given. Each iteration refits the model (``method``) to the k - k0 least extreme studies; the
    filled studies mirror the k0 most extreme ones about the trimmed estimate, and the final
    model is fitted to observed plus filled studies (Wald test, as metafor). When no study is
    imputed (k0 = 0) and ``yi`` is a fitted :class:`PoolResult`, that fit is returned unchanged,
    with its own test (metafor returns the original model, e.g. its Knapp-Hartung test);
    ``test`` records which test the reported model uses.

    Examples
    --------
    >>> tf = trim_and_fill([0.1, 0.3, 0.35, 0.65, 0.45, 0.15],
    ...                    [0.03, 0.03, 0.05, 0.01, 0.05, 0.02], method="FE")
    >>> tf.k0, tf.side
    (3, 'right')
    """
    original = yi if isinstance(yi, PoolResult) else None
    if original is not None:
        method = yi.method
        yi, vi = yi.yi, yi.vi
    y0, v0 = check_inputs(yi, vi)
    method = _name(method, METHODS, "method")
    k = y0.size
    if k < 3:
        raise ValueError(f"trim-and-fill needs at least 3 studies (k = {k})")
    side = _side(y0, v0, method, maxiter) if side is None else side
    side = _name(side, ("left", "right"), "side")
    k0, se_k0, fy, fv, it = _l0(y0, v0, side, method, maxiter)
    if k0 == 0 and original is not None:
        res = original  # metafor's trimfill returns the model itself when nothing is imputed
    else:
        res = pool(np.concatenate([y0, fy]), np.concatenate([v0, fv]), method=method)
    return TrimFillResult(
        method=method,
        estimator="L0",
        side=side,
        k0=k0,
        se_k0=float(se_k0),
        estimate=res.estimate,
        se=res.se,
        ci_low=res.ci_low,
        ci_high=res.ci_high,
        pvalue=res.pvalue,
        tau2=res.tau2,
        filled_yi=fy,
        filled_vi=fv,
        pooled=res,
        iterations=it,
        test=res.test,
    )


@dataclass(frozen=True, eq=False)
class PetPeeseResult(_Scalar):
    """PET-PEESE (Stanley and Doucouliagos 2014): limit estimates and the conditional choice.

    ``pet`` and ``peese`` are the intercepts of the weighted regressions of yi on the standard
    error and on the variance (metafor ``regtest(model="lm", predictor="sei" / "vi")``).
    ``chosen`` is ``"PEESE"`` when PET's intercept differs from 0 (two-sided p < ``alpha``)
    and ``"PET"`` otherwise; ``estimate`` is the chosen limit estimate.
    """

    alpha: float
    pet: EggerResult
    peese: EggerResult
    chosen: str
    estimate: float
    ci_low: float
    ci_high: float
    _title = "PET-PEESE"

    def _rows(self):
        def row(r):
            return f"{_fmt(r.limit_estimate)} [{_fmt(r.limit_ci_low)}, {_fmt(r.limit_ci_high)}]"

        return [
            ("PET (yi ~ SE)", row(self.pet)),
            ("PEESE (yi ~ variance)", row(self.peese)),
            ("chosen", f"{self.chosen}: {_fmt(self.estimate)}"),
        ]

    def _note(self):
        return f"PEESE if PET's intercept has two-sided p < {self.alpha:g}, else PET"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "estimate": [self.pet.limit_estimate, self.peese.limit_estimate],
                "ci_low": [self.pet.limit_ci_low, self.peese.limit_ci_low],
                "ci_high": [self.pet.limit_ci_high, self.peese.limit_ci_high],
                "chosen": [self.chosen == "PET", self.chosen == "PEESE"],
            },
            index=pd.Index(["PET", "PEESE"], name="model"),
        )


def pet_peese(yi, vi=None, *, alpha: float = 0.05, level: float | None = None) -> PetPeeseResult:
    """PET-PEESE limit estimates with the conditional rule (Stanley and Doucouliagos 2014).

    ``level`` of the limit estimates' intervals defaults to the level of ``yi`` when it is a
    :class:`~evidence.meta.results.PoolResult`, else 95.

    Examples
    --------
    >>> r = pet_peese([0.1, 0.3, 0.35, 0.65, 0.45, 0.15], [0.03, 0.03, 0.05, 0.01, 0.05, 0.02])
    >>> r.chosen, round(r.estimate, 4)
    ('PET', 0.8203)
    """
    if isinstance(yi, PoolResult):
        level = yi.level if level is None else level
        yi, vi = yi.yi, yi.vi
    pet = egger_test(yi, vi, model="lm", predictor="sei", level=level)
    peese = egger_test(yi, vi, model="lm", predictor="vi", level=level)
    use = peese if pet.limit_pvalue < alpha else pet
    return PetPeeseResult(
        alpha=alpha,
        pet=pet,
        peese=peese,
        chosen="PEESE" if use is peese else "PET",
        estimate=use.limit_estimate,
        ci_low=use.limit_ci_low,
        ci_high=use.limit_ci_high,
    )
