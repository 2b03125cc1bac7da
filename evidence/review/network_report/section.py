"""The notebook sections (figures, tables and text) of the network analyses.

:func:`show_network_section` displays and saves a condition page's network section;
:func:`show_network_overview` the overview's PDT-vs-CBT table and figure. The forest plots of
both are drawn here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..network_data import DATABASE_NAMES, NODE_NAMES
from .fits import global_test
from .overview import overview_statements, pdt_vs_cbt_overview
from .report import NetworkReport, _pfmt, condition_networks, named_comparisons


def _favours(measure: str) -> str:
    """Which side favours PDT, in the figure's own scale (every outcome is oriented so)."""
    if measure == "SMD":
        return "Positive favours PDT."
    return (
        "OR > 1 favours PDT (outcomes where fewer events are better, such as suicide attempts, "
        "are turned so that OR > 1 means fewer events with PDT)."
    )


def _pdt_forest(rep: NetworkReport):
    """Forest of PDT vs every other node (network estimates; k = direct trials)."""
    from evidence.plots import forest_from_frame

    t = rep.pdt_table
    frame = pd.DataFrame(
        {
            "k": t["k_direct"].to_numpy(),
            "estimate": t["estimate"].to_numpy(),
            "ci_low": t["ci_low"].to_numpy(),
            "ci_high": t["ci_high"].to_numpy(),
        },
        index=pd.Index(t["node"].map(lambda n: NODE_NAMES.get(n, n)), name="PDT vs"),
    )
    note = (
        f"PDT vs each node from the network (direct and indirect evidence); k = direct trials. "
        f"{_favours(rep.measure)} {rep.result.methods_text()}."
    )
    return forest_from_frame(
        frame,
        kind="rows",
        measure=rep.measure,
        note=note,
        title=f"PDT in the {DATABASE_NAMES.get(rep.database, rep.database).lower()} network",
    )


def _overview_forest(tab: pd.DataFrame):
    from evidence.plots import forest_from_frame

    rows = []
    for r in tab[tab["measure"] == "SMD"].itertuples():
        if not np.isfinite(getattr(r, "network", np.nan)):
            continue
        name = DATABASE_NAMES.get(r.database, r.database)
        if np.isfinite(getattr(r, "direct", np.nan)):
            rows.append((f"{name}: direct", r.k_direct, r.direct, r.direct_low, r.direct_high))
        rows.append((f"{name}: network", r.k_direct, r.network, r.network_low, r.network_high))
    frame = pd.DataFrame(rows, columns=["label", "k", "estimate", "ci_low", "ci_high"])
    frame = frame.set_index(pd.Index(frame.pop("label"), name="PDT vs CBT (SMD)"))
    note = (
        "Direct: pairwise REML of the direct PDT vs CBT trials; network: NMA (REML) of the "
        "database's network; k = direct trials. Positive favours PDT."
    )
    return forest_from_frame(frame, kind="rows", measure="SMD", note=note)


#: Readable names of the rows of :meth:`NetworkResult.inconsistency` on the pages.
INCONSISTENCY_ROWS = {
    "total": "total Q (heterogeneity and inconsistency)",
    "within designs": "Q within designs (heterogeneity)",
    "between designs": "Q between designs (common effect; descriptive)",
    "wald (interaction)": "global test: random-effects design-by-treatment",
}

#: Heading and introduction of the network section of a condition page.
NETWORK_SECTION_TEXT = (
    "## PDT in the evidence network\n\n"
    "Every usable psychotherapy comparison of this condition's Metapsy databases "
    "(`data/network/`), with the curated PDT trials reconciled, in a network meta-analysis "
    "(REML): PDT is compared with every treatment and control, directly where trials compared "
    "them and indirectly through shared comparators. Indirect comparisons assume "
    "**transitivity** (the trials of each comparison are alike in what modifies the effect); "
    "the tables below show the inconsistency tests and effect modifiers that check it. Every "
    "network estimate is shown with the number of direct trials behind it."
)


def show_network_section(key: str, *, method: str = "REML", rho: float = 0.5) -> list:
    """The network section of a condition notebook (issue 13): for every database of ``key``,
    the graph, PDT vs every node, PDT's league row and column, P-scores, PDT vs CBT direct /
    indirect / network with the inconsistency tests, transitivity, sensitivity and, where the
    PDT link is fragile, leave-one-PDT-trial-out. Figures and tables are saved as
    ``network_<database>_*``."""
    from IPython.display import Markdown, display

    from evidence.review import save_plot, save_table

    from ..tables import format_table

    display(Markdown(NETWORK_SECTION_TEXT))
    reps = condition_networks(key, method=method, rho=rho)
    for rep in reps:
        name = f"network_{rep.database}"
        heading = f"### Network: {DATABASE_NAMES.get(rep.database, rep.database)} ({rep.database})"
        display(
            Markdown(f"{heading}\n\n" + rep.summary().replace("\n", "\n\n")),
            metadata={"evidence": {"unfold": True}},  # the site: after the last fold, if any
        )
        if rep.result is None:
            continue
        # the site folds the details of each network (graph, tables, tests) behind a toggle
        display(
            Markdown(f"*{rep.methods_text()}; {rep.dropped} redundant contrasts left out.*"),
            metadata={"evidence": {"fold": "Show the network graph, tables and tests"}},
        )
        scale = "g" if rep.measure == "SMD" else "log OR"
        graph = rep.result.network_plot(
            title=DATABASE_NAMES.get(rep.database, rep.database), labels=NODE_NAMES
        )
        save_plot(graph, f"{name}_graph")
        save_plot(_pdt_forest(rep), f"{name}_pdt")
        reference = NODE_NAMES.get(rep.reference, rep.reference)
        display(
            Markdown(
                f"PDT vs every node (reference of the fit: **{reference}**), with the direct "
                "trials behind each and the direct-vs-indirect test:"
            )
        )
        pdt_frame = rep.to_frame()
        display(format_table(pdt_frame, scale=scale))
        save_table(pdt_frame, f"{name}_pdt")
        odds = rep.measure == "OR"
        league_note = " (odds ratios: the league table exponentiates log ORs)" * odds
        display(Markdown(f"PDT's row and column of the league table{league_note}:"))
        display(format_table(rep.league_pdt))
        _show_pdt_cbt(rep, scale)
        _show_decomposition(rep, name)
        display(
            Markdown(
                "Transitivity: effect modifiers by comparison (baseline severity is not "
                "in the network table):"
            )
        )
        display(format_table(named_comparisons(rep.transitivity)))
        display(
            Markdown(
                "Sensitivity: without waitlist-controlled trials, low risk of bias only "
                "(score 4 of 4, or RoB 2 'low'), without rows flagged suspect, and without "
                "add-on designs (PDT + X vs X, where PDT is added to the comparator):"
            )
        )
        display(format_table(rep.sensitivity, scale=scale))
        display(Markdown(heterogeneity_text(rep)))
        if rep.fragile:
            display(Markdown("**Fragile link**: leave-one-PDT-trial-out:"))
            display(format_table(rep.leave_one_out, scale=scale))
    return reps


def _show_pdt_cbt(rep: NetworkReport, scale: str) -> None:
    """P-scores, then PDT vs CBT direct / indirect / network and the inconsistency tests."""
    from IPython.display import Markdown, display

    from ..tables import format_table

    display(
        Markdown(
            "P-scores (higher = better on average; **ranks are uncertain** where "
            "intervals overlap, and say nothing about the size of differences):"
        )
    )
    display(format_table(rep.pscores))
    display(
        Markdown(
            "**PDT vs CBT: direct, indirect and network.** Direct: the head-to-head trials; "
            "indirect: the rest of the network (SIDDE) or, where PDT reaches CBT only through "
            "those trials, back-calculated; direct share: the part of the network estimate's "
            "precision that is direct. Then the inconsistency tests: the random-effects "
            "design-by-treatment test (Higgins et al. 2012; Jackson et al. 2014) is the "
            "global test; the common-effect Q between designs also counts heterogeneity:"
        )
    )
    if rep.pdt_cbt is None:
        display(Markdown("CBT is not connected to PDT in this network."))
    else:
        cols = ["k_direct", "direct", "indirect", "indirect_method", "direct_share"]
        cols += ["network", "net_low", "net_high", "pi_low", "pi_high", "pvalue_split"]
        cols += ["cinema"]
        display(format_table(rep.pdt_cbt[cols], scale=scale))
    display(format_table(rep.inconsistency.rename(index=INCONSISTENCY_ROWS), scale=scale))


def _show_decomposition(rep: NetworkReport, name: str) -> None:
    """Where the inconsistency is: the designs whose detachment lowers Q between designs most,
    and the net heat plot (saved as ``<name>_heat``) where two or more designs form loops."""
    from IPython.display import Markdown, display

    from evidence.plots.network import net_heat_plot
    from evidence.review import save_plot, save_table

    from ..tables import format_table

    dec = rep.decomposition
    q = dec.q.loc["between designs"]
    if q.df == 0:
        display(Markdown("No loops of different designs: inconsistency cannot be located."))
        return
    top = dec.designs.assign(drop=q.q - dec.designs["q_detached"])
    top = top.sort_values("drop", ascending=False).head(8)
    top.index = top.index.map(lambda d: " : ".join(NODE_NAMES.get(t, t) for t in d.split(":")))
    table = top[["k", "q_contribution", "q_detached", "df_detached", "p_detached"]]
    g = global_test(rep.inconsistency)
    test = pd.DataFrame(
        [{"design": f"global test: {g['name']}", "q": g["statistic"], "df": g["df"]}]
    ).assign(pvalue=g["pvalue"])
    save_table(pd.concat([test, dec.to_frame()], ignore_index=True), f"{name}_designs")
    display(
        Markdown(
            "**Where is the inconsistency?** Q between designs at "
            f"\u03c4\u00b2 = {dec.tau2:.3f} (the "
            f"design-by-treatment model's) is {q.q:.1f} on {int(q.df)} df (p "
            f"{_pfmt(q.pvalue)}). The designs whose detachment lowers it most (Krahn et al. "
            "2013; a design is a set of treatments compared in one trial):"
        )
    )
    display(format_table(table.reset_index().rename(columns={"design": "design"})))
    if dec.heat.shape[0] >= 2:
        title = f"Net heat plot: {DATABASE_NAMES.get(rep.database, rep.database)}"
        save_plot(net_heat_plot(dec, labels=NODE_NAMES, title=title), f"{name}_heat")


def heterogeneity_text(rep: NetworkReport) -> str:
    """Which heterogeneity assumption moves PDT vs CBT: the head-to-head trials pooled on their
    own, the network with one common tau^2 for every comparison, and the network without
    waitlist-controlled trials, side by side in one sentence."""
    from evidence.meta.pooling import pool

    from .fits import _direct_pairs

    if rep.sensitivity is None:
        return "PDT is not in this network, so no heterogeneity check applies."
    s = rep.sensitivity.set_index("scenario")
    if not isinstance(s["pdt_vs_cbt"].get("all trials") if "pdt_vs_cbt" in s else None, str):
        return "PDT vs CBT is not estimable in this network, so no heterogeneity check applies."
    alln, nowl = s.loc["all trials"], s.loc["without waitlist-controlled trials"]
    parts = [
        f"**Heterogeneity is one number for the whole network**: \u03c4\u00b2 = {alln.tau2:.3f}, "
        "estimated from every comparison, is added to each one, PDT vs CBT included, which "
        f"gives {alln.pdt_vs_cbt}"
    ]
    d = _direct_pairs(rep.contrasts, rep.cov, "pdt", "cbt")
    if len(d):
        p = pool(d["yi"], d["vi"], method=rep.method, test="z", measure=rep.measure)
        own = (
            "the one head-to-head trial on its own gives"
            if len(d) == 1
            else f"the {len(d)} head-to-head trials pooled on their own "
            f"(\u03c4\u00b2 = {p.tau2:.3f}) give"
        )
        parts.append(f"{own} {p.estimate:.2f} [{p.ci_low:.2f}, {p.ci_high:.2f}]")
    if isinstance(nowl.get("pdt_vs_cbt"), str):
        parts.append(
            f"without waitlist-controlled trials \u03c4\u00b2 is {nowl.tau2:.3f} and PDT vs CBT is "
            f"{nowl.pdt_vs_cbt}"
        )
    else:
        parts.append("without waitlist-controlled trials PDT vs CBT is not estimable")
    return "; ".join(parts) + "."


def show_network_overview(*, method: str = "REML", rho: float = 0.5):
    """The overview's network table and figure: PDT vs CBT by condition network (the table is
    returned formatted for reading; the numbers are saved as ``results/network_pdt_vs_cbt.csv``)."""
    from IPython.display import Markdown, display

    from evidence.review import save_plot, save_table

    from ..tables import format_table

    tab = pdt_vs_cbt_overview(method=method, rho=rho)
    save_table(tab, "network_pdt_vs_cbt")
    save_plot(_overview_forest(tab), "network_pdt_vs_cbt")
    display(Markdown(overview_statements(tab)))
    display(
        Markdown(
            "The network adds indirect evidence: PDT vs CBT is also estimated through the "
            "comparators both were tested against (waitlist, usual care, ...). That rests on "
            "**transitivity**: the trials of each comparison must be alike in what modifies the "
            "effect (severity, year, risk of bias, format). Where direct and indirect disagree, "
            "or where there are no direct trials, the network estimate is an assumption, not a "
            "measurement."
        )
    )
    return format_table(tab)
