"""Plots of a network meta-analysis (:class:`evidence.meta.nma.NetworkResult`).

* :func:`network_graph`: the network. Treatments sit on a circle in the result's order (the
  reference at the top, then clockwise in sorted order), so the layout never depends on a random
  seed. Node **area** is proportional to the number of participants (sum of arm sizes, known
  when the network was fitted from arms) or of studies; edge **width** is proportional to the
  number of studies comparing the two treatments directly, and that number is printed on the
  edge.
* :func:`network_forest`: every treatment vs the reference (the result's estimates and
  confidence intervals).
* :func:`split_forest`: direct, indirect and network estimates per comparison (netmeta
  ``forest(netsplit(...))``).
* :func:`net_heat_plot`: where the inconsistency is (Krahn et al. 2013, netmeta ``netheat``):
  the net heat matrix of :meth:`NetworkResult.design_decomposition`, designs in loops only.

Both forests are drawn by :func:`evidence.plots.forest_from_frame`, so they share the layout,
fonts and determinism of the project's other forests; save any of these figures with
:func:`evidence.io.save_figure`. matplotlib is imported only when a function is called.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .sensitivity import forest_from_frame
from .style import GREY, INK, NOTE_PT, SQUARE
from .style import style as _style

__all__ = ["network_graph", "network_forest", "split_forest", "net_heat_plot"]

#: Node areas (points^2) of the smallest possible and the largest node.
NODE_AREA = (60.0, 900.0)
#: Edge widths (points) of one study and of the most-studied comparison.
EDGE_WIDTH = (0.8, 5.0)


def network_graph(
    result: Any,
    *,
    size: str | None = None,
    ax: Any = None,
    title: str | None = None,
    labels: Mapping[str, str] | None = None,
):
    """Draw the network: nodes are treatments, edges direct comparisons.

    Parameters
    ----------
    result : NetworkResult
    size : {"participants", "studies"}, optional
        What node area is proportional to. Default: participants when the result was fitted
        from arm-level data (:func:`evidence.network_from_arms`), else studies.
    ax : matplotlib Axes, optional
        Axes to draw into; default a new 5.2 x 5.6 inch figure.
    title : str, optional
    labels : mapping, optional
        Display name of each treatment (default: the treatment as given).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import evidence as ev
    >>> from evidence.plots.network import network_graph
    >>> res = ev.network([0.5, 0.3, 0.2], [0.04, 0.05, 0.06], ["B", "C", "C"],
    ...                  ["A", "A", "B"], [1, 2, 3], method="FE")
    >>> ax = network_graph(res)
    >>> sorted(t.get_text() for t in ax.texts if t.get_gid() == "node-label")
    ['A', 'B', 'C']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    known = getattr(result, "participants", None)
    if size is None:
        size = "participants" if known is not None else "studies"
    if size not in ("participants", "studies"):
        raise ValueError("size must be 'participants' or 'studies'")
    if size == "participants" and known is None:
        raise ValueError(
            "size='participants' needs arm sizes: fit with network_from_arms() or use "
            "size='studies'"
        )
    treatments = list(result.treatments)
    T = len(treatments)
    comps = result.comparisons()
    if size == "participants":
        value = known.reindex(treatments).to_numpy(float)
        what = "participants (sum of arm sizes)"
    else:
        arms = result._study_arms()
        value = np.array([sum(t in a for a in arms.values()) for t in treatments], float)
        what = "studies"
    angle = np.pi / 2 - 2 * np.pi * np.arange(T) / T
    xy = np.column_stack([np.cos(angle), np.sin(angle)])
    pos = {t: i for i, t in enumerate(treatments)}
    k = comps["k"].to_numpy(float)
    widths = EDGE_WIDTH[0] + (EDGE_WIDTH[1] - EDGE_WIDTH[0]) * (k - 1) / max(k.max() - 1, 1)
    areas = NODE_AREA[0] + (NODE_AREA[1] - NODE_AREA[0]) * value / value.max()
    note = (
        f"Node area proportional to the number of {what}; edge width proportional to the "
        "number of studies comparing the two treatments directly (the number on the edge). "
        f"{result.methods_text()}."
    )
    with _style():
        import matplotlib.pyplot as plt

        if ax is None:
            fig = plt.figure(figsize=(5.2, 5.6))
            ax = fig.add_axes((0.02, 0.14, 0.96, 0.80))
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_xlim(-1.8, 1.8)
        ax.set_ylim(-1.35, 1.35)
        segs = [
            [xy[pos[a]], xy[pos[b]]] for a, b in zip(comps["treat1"], comps["treat2"], strict=True)
        ]
        names = [(labels or {}).get(t, t) for t in treatments]
        texts = _draw_nodes(
            ax, xy, areas, names, (labels or {}).get(result.reference, result.reference)
        )
        _fit_labels(ax, texts)
        _draw_edges(ax, segs, widths, k, _node_boxes(ax, xy, areas))
        fig = ax.figure
        import textwrap

        fig.text(
            0.03,
            0.11,
            "\n".join(textwrap.wrap(note, 92)),
            fontsize=NOTE_PT,
            color=GREY,
            va="top",
            gid="footnote",
        )
        if title:
            fig.text(0.03, 0.98, title, fontsize=9.0, fontweight="bold", va="top", gid="title")
    return ax


#: Where along its edge a count may sit (share of the way from one node to the other), in the
#: order tried: the middle first, then further out, until it overlaps no count placed before.
_EDGE_SPOTS = (0.5, 0.4, 0.6, 0.32, 0.68, 0.45, 0.55, 0.25, 0.75, 0.36, 0.64, 0.2, 0.8)


def _node_boxes(ax: Any, xy: np.ndarray, areas: np.ndarray) -> list:
    """The display boxes of the node discs (scatter areas are in points squared)."""
    from matplotlib.transforms import Bbox

    centres = ax.transData.transform(xy)
    radii = np.sqrt(areas) / 2 * ax.figure.dpi / 72
    return [
        Bbox.from_extents(x - r, y - r, x + r, y + r)
        for (x, y), r in zip(centres, radii, strict=True)
    ]


def _fit_labels(ax: Any, texts: list) -> None:
    """Widen the axes' limits (the drawing shrinks) until every node label lies inside the
    figure, with a margin of 2% of its width (long names on the left and right were cut)."""
    fig = ax.figure
    for _ in range(6):
        renderer = fig.canvas.get_renderer()
        ax.apply_aspect()
        margin = 0.02 * fig.bbox.width
        lo, hi = fig.bbox.x0 + margin, fig.bbox.x1 - margin
        boxes = [t.get_window_extent(renderer) for t in texts]
        if all(b.x0 >= lo and b.x1 <= hi for b in boxes):
            return
        centre = ax.transData.transform((0.0, 0.0))[0]
        # a label's anchor scales with the drawing, its width does not: the largest scale at
        # which the anchor plus the width still fits, relative to the current one
        shrink = 1.0
        for b, t in zip(boxes, texts, strict=True):
            anchor = ax.transData.transform(t.get_position())[0] - centre
            if t.get_ha() == "center" or abs(anchor) < 1e-9:
                continue
            room = (centre - lo) if anchor < 0 else (hi - centre)
            if abs(anchor) + b.width > room:
                shrink = min(shrink, max(room - b.width, 1.0) / abs(anchor))
        ax.set_xlim(*(np.asarray(ax.get_xlim()) / shrink))
        ax.set_ylim(*(np.asarray(ax.get_ylim()) / shrink))


def _draw_edges(
    ax: Any, segs: list, widths: np.ndarray, k: np.ndarray, nodes: list | None = None
) -> None:
    """Edges of the given widths, each with its number of studies on it: at the middle, or moved
    along the edge where the middle would overlap a node (``nodes``: their display boxes) or a
    count already placed (longest edges first, so short edges near crowded nodes get the free
    spots closest to their middle)."""
    from matplotlib.collections import LineCollection

    ax.add_collection(LineCollection(segs, linewidths=widths, colors=GREY, zorder=1, gid="edges"))
    renderer = ax.figure.canvas.get_renderer()
    lengths = [float(np.hypot(*(np.asarray(q) - np.asarray(p)))) for p, q in segs]
    placed: list = []
    blocked = list(nodes or [])
    for i in sorted(range(len(segs)), key=lambda i: -lengths[i]):
        p, q = (np.asarray(v, dtype=float) for v in segs[i])
        text = ax.text(
            *((p + q) / 2),
            f"{int(k[i])}",
            ha="center",
            va="center",
            fontsize=NOTE_PT,
            color=INK,
            zorder=3,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"},
            gid="edge-count",
        )
        # the first free spot; where none is free, the one that overlaps the fewest
        best, fewest = _EDGE_SPOTS[0], None
        for t in _EDGE_SPOTS:
            n = _overlaps(text, p + t * (q - p), renderer, placed, blocked)
            if fewest is None or n < fewest:
                best, fewest = t, n
            if n == 0:
                break
        text.set_position(tuple(p + best * (q - p)))
        placed.append(text.get_window_extent(renderer).expanded(1.25, 1.3))


def _overlaps(text: Any, at: np.ndarray, renderer: Any, placed: list, nodes: list) -> int:
    """How many counts already placed (and, counting twice, nodes) ``text`` overlaps at ``at``."""
    text.set_position(tuple(at))
    box = text.get_window_extent(renderer).expanded(1.25, 1.3)
    return sum(box.overlaps(o) for o in placed) + 2 * sum(box.overlaps(n) for n in nodes)


def _draw_nodes(
    ax: Any, xy: np.ndarray, areas: np.ndarray, treatments: list[str], reference: str
) -> list:
    """Nodes of the given areas, labelled outside the circle (the reference in bold)."""
    ax.scatter(xy[:, 0], xy[:, 1], s=areas, color=SQUARE, edgecolors="white", zorder=2, gid="nodes")
    texts = []
    for (x, y), name in zip(xy, treatments, strict=True):
        ha = "left" if x > 0.05 else "right" if x < -0.05 else "center"
        va = "bottom" if y > 0.3 else "top" if y < -0.3 else "center"
        r = 1.0 + 0.5 * np.sqrt(areas.max()) / 72 / 1.2  # clear of the largest node
        text = ax.text(
            x * r,
            y * r,
            name,
            ha=ha,
            va=va,
            fontsize=8.0,
            fontweight="bold" if name == reference else "normal",
            color=INK,
            gid="node-label",
        )
        texts.append(text)
    return texts


def _rows_forest(frame: pd.DataFrame, result: Any, note: str, ax: Any, **kwargs):
    """``frame``'s rows drawn by :func:`evidence.plots.forest_from_frame` on the result's
    measure and level."""
    return forest_from_frame(
        frame, kind="rows", measure=result.measure, level=result.level, note=note, ax=ax, **kwargs
    )


def network_forest(result: Any, *, ax: Any = None, **kwargs):
    """Forest of every treatment vs the reference (estimates and confidence intervals).

    ``k`` is the number of studies with an arm of the treatment. Further keywords go to
    :func:`evidence.plots.forest_from_frame` (``xlim``, ``digits``, ``title``, ...).

    Examples
    --------
    >>> import evidence as ev
    >>> from evidence.plots.network import network_forest
    >>> res = ev.network([0.5, 0.3, 0.2], [0.04, 0.05, 0.06], ["B", "C", "C"],
    ...                  ["A", "A", "B"], [1, 2, 3], method="FE")
    >>> ax = network_forest(res)
    >>> [t.get_text() for t in ax.texts if t.get_gid() == "row-0-label"]
    ['B']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    eff = result.effects
    arms = result._study_arms()
    frame = pd.DataFrame(
        {
            "k": [sum(t in a for a in arms.values()) for t in eff.index],
            "estimate": eff["estimate"].to_numpy(),
            "ci_low": eff["ci_low"].to_numpy(),
            "ci_high": eff["ci_high"].to_numpy(),
        },
        index=pd.Index(eff.index, name=f"Treatment vs {result.reference}"),
    )
    note = (
        f"Each treatment vs {result.reference} from the network (direct and indirect "
        f"evidence); k = studies with an arm of the treatment. {result.methods_text()}; "
        f"tau\u00b2 = {result.tau2:.3g}, Q({result.q_df}) = {result.q:.2f}."
    )
    return _rows_forest(frame, result, note, ax, **kwargs)


def split_forest(result: Any, *, split: pd.DataFrame | None = None, ax: Any = None, **kwargs):
    """Direct, indirect and network estimates of every comparison with direct evidence.

    Parameters
    ----------
    result : NetworkResult
    split : DataFrame, optional
        ``result.split()`` if already computed.
    ax, **kwargs
        Passed to :func:`evidence.plots.forest_from_frame` (``label_width`` defaults to 3.2
        inches here, for the long labels).

    Comparisons without independent indirect evidence show their network (= direct) estimate
    only. ``k`` counts studies: with both treatments (direct), the other studies (indirect),
    all studies (network). The p-values of the direct-vs-indirect tests are in the footnote.

    Examples
    --------
    >>> import evidence as ev
    >>> from evidence.plots.network import split_forest
    >>> res = ev.network([0.5, 0.3, 0.2], [0.04, 0.05, 0.06], ["B", "C", "C"],
    ...                  ["A", "A", "B"], [1, 2, 3], method="FE")
    >>> ax = split_forest(res)
    >>> [t.get_text() for t in ax.texts if t.get_gid() == "row-1-label"]
    ['B vs A: indirect']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    sp = result.split() if split is None else split
    crit = result._crit()
    rows = []
    tests = []
    for r in sp.itertuples():
        parts = [("direct", r.direct, r.direct_se, r.k_direct)]
        if r.identifiable:
            parts.append(("indirect", r.indirect, r.indirect_se, result.k - r.k_direct))
            tests.append(f"{r.comparison} p = {r.pvalue:.3f}")
        parts.append(("network", r.network, r.network_se, result.k))
        for kind, est, se, k in parts:
            rows.append(
                {
                    "label": f"{r.comparison}: {kind}",
                    "k": int(k),
                    "estimate": est,
                    "ci_low": est - crit * se,
                    "ci_high": est + crit * se,
                }
            )
    frame = pd.DataFrame(rows).set_index("label")
    frame.index.name = "Comparison"
    kwargs.setdefault("label_width", 3.2)
    note = (
        "Node-splitting (indicator moderator per comparison, tau\u00b2 re-estimated). "
        "Direct vs indirect: "
        + ("; ".join(tests) if tests else "no testable comparison")
        + f". {result.methods_text()}."
    )
    return _rows_forest(frame, result, note, ax, **kwargs)


def net_heat_plot(
    decomposition: Any,
    *,
    labels: Mapping[str, str] | None = None,
    ax: Any = None,
    title: str | None = None,
    note: str | None = None,
    max_designs: int = 14,
):
    """Draw the net heat matrix of a :class:`~evidence.meta.nma.decomposition.DesignDecomposition`.

    Cell (row i, column j) is the change in design i's contribution to Q between designs when
    design j is detached; red cells (a drop) mark designs whose evidence disagrees with the row
    design, blue cells (a rise) designs that agree with it; the value is printed in every cell.
    The diagonal holds each design's own contribution. Rows and columns are the designs in
    loops, in the decomposition's order; ``labels`` renames treatments inside design names.
    Large networks show the ``max_designs`` designs that contribute most to Q between designs
    (the footnote says how many are shown).

    Examples
    --------
    >>> import evidence as ev
    >>> res = ev.network([0.5, 0.3, 0.2, 0.1, 0.45], [0.04, 0.05, 0.06, 0.05, 0.05],
    ...                  ["B", "C", "C", "C", "B"], ["A", "A", "B", "B", "A"],
    ...                  [1, 2, 3, 4, 5], method="FE")
    >>> ax = net_heat_plot(res.design_decomposition())
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['A : B', 'A : C', 'B : C']
    """
    heat = decomposition.heat
    shown = heat.shape[0]
    if shown > max_designs:
        top = np.sort(np.argsort(-np.diag(heat.to_numpy(float)), kind="stable")[:max_designs])
        heat = heat.iloc[top, top]
    if heat.shape[0] < 2:
        raise ValueError(
            "net heat plot: fewer than two designs are in loops, so there is no inconsistency "
            "to locate"
        )

    def name(design: str) -> str:
        return " : ".join((labels or {}).get(t, t) for t in design.split(":"))

    values = heat.to_numpy(float)
    m = values.shape[0]
    scale = max(float(np.nanmax(np.abs(values))), 1e-12)
    rows = [name(d) for d in heat.index]
    text = note or (
        "Change in each row design's contribution to Q between designs when the column "
        "design is detached (Krahn et al. 2013); red: detaching the column design removes "
        f"inconsistency at the row design. Q at \u03c4\u00b2 = {decomposition.tau2:.3g}."
    )
    if shown > m:
        text += f" The {m} of {shown} designs in loops that contribute most are shown."
    # the figure is sized from its content (inches): labels, cells, footnote
    char, cell = 0.052, 0.34
    label = max(len(r) for r in rows) * char
    width = max(label + 0.45 + m * cell + 0.3, 4.0)
    lines = textwrap.wrap(text, int(width * 19))
    bottom = label + 0.4 + 0.13 * len(lines) + 0.1
    height = 0.4 * bool(title) + 0.1 + m * cell + bottom
    with _style():
        import matplotlib.pyplot as plt

        if ax is None:
            fig = plt.figure(figsize=(width, height))
            ax = fig.add_axes(
                ((label + 0.45) / width, bottom / height, m * cell / width, m * cell / height)
            )
        ax.imshow(values, cmap="RdBu_r", vmin=-scale, vmax=scale, aspect="equal")
        for i in range(m):
            for j in range(m):
                v = values[i, j]
                ink = "white" if abs(v) > 0.6 * scale else INK
                ax.text(
                    j,
                    i,
                    f"{0.0 if abs(v) < 0.05 else v:.1f}",
                    ha="center",
                    va="center",
                    fontsize=NOTE_PT,
                    color=ink,
                )
        ax.set_xticks(range(m), [name(d) for d in heat.columns], rotation=90, fontsize=NOTE_PT)
        ax.set_yticks(range(m), rows, fontsize=NOTE_PT)
        ax.set_xlabel("design detached", fontsize=NOTE_PT, color=GREY)
        ax.set_ylabel("design whose inconsistency changes", fontsize=NOTE_PT, color=GREY)
        fig = ax.figure
        fig.text(0.02, 0.1 / height, "\n".join(lines), fontsize=NOTE_PT, color=GREY, gid="footnote")
        if title:
            fig.text(0.02, 0.985, title, fontsize=9.0, fontweight="bold", va="top", gid="title")
    return ax
