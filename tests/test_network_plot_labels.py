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
    segs = [np.asarray(s) for s in ax.collections[0].get_segments()]
    for t in (t for t in ax.texts if t.get_gid() == "edge-count"):
        x = np.asarray(t.get_position())
        dist = [  # distance from the line, plus how far beyond either end
            abs((q - p)[0] * (x - p)[1] - (q - p)[1] * (x - p)[0]) / np.linalg.norm(q - p)
            + max(0.0, np.dot(x - p, x - q))
            for p, q in segs
        ]
        assert min(dist) < 1e-9
    plt.close("all")
