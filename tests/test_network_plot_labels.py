"""Network graphs: the study counts on the edges never overlap (issue 26; the depression graph
had counts on top of each other near waitlist and usual care)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

NODES = ["pdt", "cbt", "third_wave", "ba", "ps", "ipt", "lr", "sup", "op", "pp", "oc", "uc", "wl"]
#: Hubs every treatment was compared with (as waitlist, usual care and CBT are in depression).
HUBS = ("wl", "uc", "oc", "cbt")


def crowded_network():
    import evidence as ev

    pairs = {tuple(sorted((a, h))) for h in HUBS for a in NODES if a != h}
    pairs |= {("ipt", "pdt"), ("pdt", "sup"), ("ba", "ps"), ("lr", "ps"), ("op", "pp")}
    pairs = sorted(pairs)
    rng = np.random.default_rng(26)
    yi = rng.normal(0.3, 0.2, len(pairs))
    vi = np.full(len(pairs), 0.05)
    return ev.network(
        yi, vi, [a for a, _ in pairs], [b for _, b in pairs], list(range(len(pairs))), method="FE"
    )


def overlapping(texts, renderer) -> list[tuple[str, str]]:
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    return [(a, b) for (a, p), (b, q) in itertools.combinations(boxes, 2) if p.overlaps(q)]


def test_edge_counts_do_not_overlap_in_a_crowded_network():
    import matplotlib.pyplot as plt

    from evidence.plots.network import network_graph

    ax = network_graph(crowded_network(), size="studies", title="crowded")
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    counts = [t for t in ax.texts if t.get_gid() == "edge-count"]
    assert len(counts) == len(crowded_network().comparisons())
    assert overlapping(counts, renderer) == []
    plt.close(fig)


def test_every_count_sits_on_an_edge_between_its_nodes():
    import matplotlib.pyplot as plt

    from evidence.plots.network import network_graph

    ax = network_graph(crowded_network(), size="studies")
    (edges,) = (c for c in ax.collections if c.get_gid() == "edges")
    segs = [np.asarray(s) for s in edges.get_segments()]
    for t in (t for t in ax.texts if t.get_gid() == "edge-count"):
        x = np.asarray(t.get_position())
        dist = [  # distance from the line, plus how far beyond either end
            abs((q - p)[0] * (x - p)[1] - (q - p)[1] * (x - p)[0]) / np.linalg.norm(q - p)
            + max(0.0, np.dot(x - p, x - q))
            for p, q in segs
        ]
        assert min(dist) < 1e-9
    plt.close("all")


def test_long_node_names_stay_inside_the_figure_and_clear_of_each_other():
    """Long display names on the left and right were cut at the figure's edge ("upportive
    therapy")."""
    import matplotlib.pyplot as plt

    from evidence.plots.network import network_graph
    from evidence.review.network_data import NODE_NAMES

    names = iter(sorted(NODE_NAMES.values(), key=len, reverse=True))  # the longest names
    ax = network_graph(crowded_network(), size="studies", labels={n: next(names) for n in NODES})
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for t in (t for t in ax.texts if t.get_gid() == "node-label"):
        box = t.get_window_extent(renderer)
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1, t.get_text()
    plt.close(fig)


def test_the_depression_graph_names_do_not_run_together():
    """The two names under the bottom nodes were centred on their nodes and ran together."""
    import matplotlib.pyplot as plt

    from evidence.plots.network import network_graph
    from evidence.review.network_data import NODE_NAMES, load_network
    from evidence.review.network_report import network_report

    rep = network_report(load_network(), "depression-psyctr")
    ax = network_graph(rep.result, labels=NODE_NAMES)
    ax.figure.canvas.draw()
    names = [t for t in ax.texts if t.get_gid() == "node-label"]
    assert len(names) == len(rep.result.treatments)
    assert overlapping(names, ax.figure.canvas.get_renderer()) == []
    plt.close(ax.figure)


def test_counts_avoid_the_nodes():
    import matplotlib.pyplot as plt

    from evidence.plots.network import _node_boxes, network_graph

    res = crowded_network()
    ax = network_graph(res, size="studies")
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    (dots,) = (c for c in ax.collections if c.get_gid() == "nodes")
    nodes = _node_boxes(ax, np.asarray(dots.get_offsets()), dots.get_sizes())
    counts = [t.get_window_extent(renderer) for t in ax.texts if t.get_gid() == "edge-count"]
    on_nodes = sum(c.overlaps(n) for c in counts for n in nodes)
    assert on_nodes == 0
    plt.close(fig)
