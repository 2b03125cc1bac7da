"""Network fits around PDT (steps 3 and 4) and the refits built on them.

Multi-arm studies are reduced to a spanning tree of their contrasts with the covariance of
contrasts that share an arm (``_contrasts``); :func:`fit_network` fits the connected part of the
network that holds PDT. The refits (sensitivity scenarios, leave-one-PDT-trial-out for a fragile
link) and the direct PDT-vs-node estimates per study are here too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .effects import _ORDER

#: Reference node of a network fit, first present wins.
NETWORK_REFERENCES = ("waitlist", "usual_care")
#: Number of PDT trials up to which a PDT node linked to the network through one node is fragile
#: (issue 13 asks this of one control type; the rule here also covers one active node, e.g.
#: ed-psyctr, where PDT meets only CBT). The link is read from each study's spanning tree, so a
#: three-arm PDT / CBT / waitlist trial links PDT through its waitlist arm.
FRAGILE_MAX_TRIALS = 2


def _arm_var(n: np.ndarray, e: np.ndarray, measure: str) -> np.ndarray:
    """Variance of one arm's summary: ``1/n`` (SMD) or ``1/e + 1/(n - e)`` (log odds, 1/2 added
    to a zero cell); 1 where the arm size is unknown (effect-only rows: equal arms assumed)."""
    n, e = np.asarray(n, dtype=float), np.asarray(e, dtype=float)
    known = np.isfinite(n) & (n > 0)
    out = np.where(known, 1 / np.where(known, n, 1.0), 1.0)
    if measure == "OR":
        ok = known & np.isfinite(e)
        zero = ok & ((e == 0) | (e == n))
        ee, nn = np.where(zero, e + 0.5, e), np.where(zero, n + 1.0, n)
        with np.errstate(divide="ignore", invalid="ignore"):
            v = 1 / ee + 1 / (nn - ee)
        out = np.where(ok, v, out)
    return out


def _tree(a: list[str], b: list[str]) -> list[int]:
    """Positions of a spanning forest of one study's contrasts (breadth first from its most
    connected node, ties in node order; a node outside
    :data:`~evidence.review.network_data.NODES`, e.g. a format-split node, after every listed
    one, by name)."""
    deg: dict[str, int] = {}
    for x in (*a, *b):
        deg[x] = deg.get(x, 0) + 1
    todo = sorted(deg, key=lambda x: (-deg[x], _ORDER.get(x, len(_ORDER)), x))
    seen: set[str] = set()
    used: list[int] = []
    for root in todo:
        if root in seen:
            continue
        seen.add(root)
        frontier = [root]
        while frontier:
            nxt = []
            for node in frontier:
                for i, (x, y) in enumerate(zip(a, b, strict=True)):
                    other = y if x == node else x if y == node else None
                    if other is not None and other not in seen:
                        seen.add(other)
                        used.append(i)
                        nxt.append(other)
            frontier = nxt
    return sorted(used)


def _contrasts(eff: pd.DataFrame, measure: str) -> tuple[pd.DataFrame, np.ndarray, int]:
    """A spanning tree of each study's contrasts and their covariance matrix."""
    eff = eff.sort_values(["study_id", "node_a", "node_b"], kind="stable").reset_index(drop=True)
    sid = eff["study_id"].to_numpy()
    multi = pd.Series(sid).duplicated(keep=False).to_numpy()
    keep = np.ones(len(eff), dtype=bool)
    for _s, idx in eff[multi].groupby("study_id", sort=False).indices.items():
        rows = np.flatnonzero(multi)[idx]
        used = _tree(list(eff["node_a"].iloc[rows]), list(eff["node_b"].iloc[rows]))
        keep[rows] = False
        keep[rows[used]] = True
    kept = eff[keep].reset_index(drop=True)
    dropped = int((~keep).sum())
    vi = kept["vi"].to_numpy()
    cov = np.diag(vi)
    va_a = _arm_var(kept["n_a"], kept["e_a"], measure)
    va_b = _arm_var(kept["n_b"], kept["e_b"], measure)
    a, b = kept["node_a"].to_numpy(), kept["node_b"].to_numpy()
    ks = kept["study_id"].to_numpy()
    # pairs of contrasts of one study: their shared arm gives the covariance
    order = pd.Series(ks).duplicated(keep=False).to_numpy()
    for _s, idx in kept[order].groupby("study_id", sort=False).indices.items():
        rows = np.flatnonzero(order)[idx]
        for p, i in enumerate(rows):
            for j in rows[p + 1 :]:
                c = 0.0
                for ni, si, vi_arm in ((a[i], 1, va_a[i]), (b[i], -1, va_b[i])):
                    for nj, sj in ((a[j], 1), (b[j], -1)):
                        if ni == nj:
                            c += si * sj * vi_arm
                if c:
                    r = c / np.sqrt((va_a[i] + va_b[i]) * (va_a[j] + va_b[j]))
                    cov[i, j] = cov[j, i] = r * np.sqrt(vi[i] * vi[j])
    return kept, cov, dropped


def _component(eff: pd.DataFrame, node: str = "pdt") -> pd.DataFrame:
    """The contrasts of the connected part of the network that holds ``node``."""
    reach, changed = {node}, True
    while changed:
        hit = eff["node_a"].isin(reach) | eff["node_b"].isin(reach)
        new = set(eff.loc[hit, "node_a"]) | set(eff.loc[hit, "node_b"])
        changed = not new <= reach
        reach |= new
    return eff[eff["node_a"].isin(reach)]


def fit_network(
    eff: pd.DataFrame, *, measure: str = "SMD", method: str = "REML", reference: str | None = None
):
    """Fit the network of ``eff`` (from :func:`network_effects`) around PDT.

    Returns ``(result, kept, dropped)``: the :class:`evidence.network.NetworkResult`, the
    contrasts fitted and the number of redundant within-study contrasts left out; ``None`` for
    the result when PDT is not in ``eff`` or the part of the network that holds PDT has no
    second treatment.

    Examples
    --------
    >>> from evidence.review.network_data import load_network
    >>> from evidence.review.network_report import network_effects
    >>> net = load_network()
    >>> eff = network_effects(net[net["database"] == "sad-psyctr"])
    >>> res, kept, dropped = fit_network(eff)
    >>> res.reference, res.k
    ('waitlist', 65)
    """
    from evidence.meta.nma import network

    if eff.empty or not ((eff["node_a"] == "pdt") | (eff["node_b"] == "pdt")).any():
        return None, eff.iloc[:0], 0
    part = _component(eff)
    kept, cov, dropped = _contrasts(part, measure)
    nodes = set(kept["node_a"]) | set(kept["node_b"])
    if reference is None:
        reference = next((r for r in NETWORK_REFERENCES if r in nodes), None)
        if reference is None:
            reference = sorted(nodes - {"pdt"}, key=_ORDER.get)[0]
    res = network(
        kept["yi"],
        kept["vi"],
        kept["node_a"],
        kept["node_b"],
        kept["study_id"],
        cov=cov,
        reference=reference,
        method=method,
        measure=measure,
    )
    return res, kept, dropped


def _choose_measure(eff_by_measure: dict[str, pd.DataFrame]) -> str:
    """The measure under which most studies compare PDT (ties: SMD)."""

    def k(e: pd.DataFrame) -> int:
        if e.empty:
            return 0
        return e.loc[(e["node_a"] == "pdt") | (e["node_b"] == "pdt"), "study_id"].nunique()

    return max(("SMD", "OR"), key=lambda m: (k(eff_by_measure[m]), m == "SMD"))


def _low_rob(rob: pd.Series) -> pd.Series:
    """Low risk of bias: a score of 4 of 4 (depression databases, 0 = high to 4 = low risk) or
    a RoB 2 label "low" / "low risk"."""
    num = pd.to_numeric(rob, errors="coerce")
    text = rob.astype(str).str.strip().str.lower()
    return (num == 4) | text.isin(("low", "low risk"))


def _direct_pairs(kept: pd.DataFrame, cov: np.ndarray, a: str, b: str) -> pd.DataFrame:
    """Direct ``a`` minus ``b`` per study that has both arms: the fitted contrast, or the
    difference of two contrasts against a shared arm (variance from their covariance)."""
    rows = []
    for sid, idx in kept.groupby("study_id", sort=True).indices.items():
        g = kept.iloc[idx]
        hit = g[(g["node_a"] == a) & (g["node_b"] == b)]
        if len(hit):
            rows.append((sid, float(hit["yi"].iloc[0]), float(hit["vi"].iloc[0])))
            continue
        # a vs x and b vs x (x shared; each contrast is node_a minus node_b)
        eff = {}
        for i in idx:
            r = kept.iloc[i]
            for me, other, s in ((r.node_a, r.node_b, 1.0), (r.node_b, r.node_a, -1.0)):
                if me in (a, b):
                    eff.setdefault(other, {})[me] = (i, s)
        for _x, d in eff.items():
            if a in d and b in d:
                (i, si), (j, sj) = d[a], d[b]
                y = si * kept["yi"].iloc[i] - sj * kept["yi"].iloc[j]
                v = cov[i, i] + cov[j, j] - 2 * si * sj * cov[i, j]
                rows.append((sid, float(y), float(v)))
                break
    return pd.DataFrame(rows, columns=["study_id", "yi", "vi"])


def _pdt_vs(res, node: str) -> tuple[float, float, float, float]:
    """PDT minus ``node`` from the network: estimate, se, CI."""
    lg = res.league()
    r = lg[(lg["treat1"] == "pdt") & (lg["treat2"] == node)].iloc[0]
    return float(r.estimate), float(r.se), float(r.ci_low), float(r.ci_high)


def _refit_pdt(eff: pd.DataFrame, measure: str, method: str, ref: str) -> dict:
    """PDT vs CBT and vs the reference in a refit of ``eff`` (NaN where not estimable)."""
    out = {"studies": eff["study_id"].nunique()}
    try:
        res, kept, _ = fit_network(eff, measure=measure, method=method, reference=None)
    except ValueError as err:
        return out | {"note": f"fit failed: {err}"}
    if res is None:
        return out | {"note": "PDT not in this network"}
    out["studies"] = res.k
    nodes = set(res.treatments)
    pdt_studies = kept.loc[(kept["node_a"] == "pdt") | (kept["node_b"] == "pdt"), "study_id"]
    out["pdt_trials"] = pdt_studies.nunique()
    comp = res.comparisons()
    for node in (ref, "cbt"):
        if node in nodes:
            e, _, lo, hi = _pdt_vs(res, node)
            out[f"pdt_vs_{node}"] = f"{e:.2f} [{lo:.2f}, {hi:.2f}]"
            k = comp.loc[comp[["treat1", "treat2"]].isin(["pdt", node]).all(axis=1), "k"]
            out[f"k_direct_{node}"] = int(k.sum())
    out["tau2"] = res.tau2
    out["global_inconsistency_p"] = global_test(res.inconsistency())["pvalue"]
    out["reference"] = res.reference
    return out


def global_test(inc: pd.DataFrame) -> dict:
    """The global inconsistency test of a network from :meth:`NetworkResult.inconsistency`.

    With random effects it is the Wald test of the design-by-treatment interaction terms at the
    interaction model's own tau^2 (Higgins et al. 2012; Jackson et al. 2014), the published
    global test; the common-effect Q between designs mixes heterogeneity with inconsistency
    when tau^2 > 0 and is a description only. With a common-effect network the two coincide.
    """
    between = inc.loc["between designs"]
    row = inc.loc["wald (interaction)"] if "wald (interaction)" in inc.index else between
    random = "wald (interaction)" in inc.index
    return {
        "statistic": float(row.q),
        "df": int(row.df),
        "pvalue": float(row.pvalue),
        "name": "random-effects design-by-treatment test" if random else "Q between designs",
        "q_between_fe": float(between.q),
        "p_between_fe": float(between.pvalue),
    }


def _sensitivity(
    eff: pd.DataFrame,
    measure: str,
    method: str,
    reference: str,
    extra: dict[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """PDT refitted on all trials, without waitlist-controlled trials, low risk of bias only,
    and the ``extra`` scenarios (effects computed from a subset of the rows: without suspect
    rows, without add-on designs)."""
    wl = set(eff.loc[(eff["node_a"] == "waitlist") | (eff["node_b"] == "waitlist"), "study_id"])
    scen = {
        "all trials": eff,
        "without waitlist-controlled trials": eff[~eff["study_id"].isin(wl)],
        "low risk of bias only": eff[_low_rob(eff["rob"])],
        **(extra or {}),
    }
    none = {"note": "no row of this network is dropped by this rule"}
    return pd.DataFrame(
        [
            {"scenario": k} | (none if v is None else _refit_pdt(v, measure, method, reference))
            for k, v in scen.items()
        ]
    )


def _fragility(
    kept: pd.DataFrame, eff: pd.DataFrame, measure: str, method: str, reference: str
) -> tuple[bool, pd.DataFrame | None]:
    """Whether PDT is linked only to one control node through 1-2 trials, and then the
    leave-one-trial-out refits."""
    pdt_rows = kept[(kept["node_a"] == "pdt") | (kept["node_b"] == "pdt")]
    neighbours = set(pdt_rows["node_a"]) | set(pdt_rows["node_b"]) - {"pdt"}
    neighbours.discard("pdt")
    trials = sorted(pdt_rows["study_id"].unique())
    fragile = len(neighbours) == 1 and len(trials) <= FRAGILE_MAX_TRIALS
    if not fragile:
        return fragile, None
    loo = pd.DataFrame(
        [
            {"left_out": t.split(":", 1)[1]}
            | _refit_pdt(eff[eff["study_id"] != t], measure, method, reference)
            for t in trials
        ]
    )
    loo.attrs["node"] = next(iter(neighbours))
    return fragile, loo
