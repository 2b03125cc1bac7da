"""save_figure: identical bytes for identical input, no dates or software tags, clear errors.

Inputs are synthetic (seeded numpy generator) and the figures say so in their titles.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import evidence as ev  # noqa: E402
from evidence.io import save_figure  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _result():
    rng = np.random.default_rng(7)
    k = 6
    vi = rng.uniform(0.02, 0.1, k)
    yi = rng.normal(-0.3, 0.2, k) + rng.normal(0, np.sqrt(vi))
    labels = [f"Synthetic {c} {2000 + i}" for i, c in enumerate("ABCDEF")]
    return ev.pool(yi, vi, labels=labels, measure="SMD")


def _forest():
    return ev.forest_plot(_result(), title="Synthetic data (software test)").figure


@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_saving_twice_gives_identical_bytes(fmt, tmp_path):
    fig = _forest()
    a = save_figure(fig, tmp_path / f"a.{fmt}")
    b = save_figure(fig, tmp_path / f"b.{fmt}")
    assert a.read_bytes() == b.read_bytes()
    # a freshly drawn figure from the same input gives the same bytes too
    c = save_figure(_forest(), tmp_path / f"c.{fmt}")
    assert a.read_bytes() == c.read_bytes()


@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_global_rcparams_do_not_change_the_bytes(fmt, tmp_path):
    fig = _forest()
    a = save_figure(fig, tmp_path / f"a.{fmt}")
    rc = {
        "svg.hashsalt": "something else",
        "svg.fonttype": "none",
        "pdf.fonttype": 3,
        "savefig.dpi": 50,
        "savefig.bbox": "tight",
        "savefig.facecolor": "red",
        "path.simplify": True,
    }
    with matplotlib.rc_context(rc):
        b = save_figure(fig, tmp_path / f"b.{fmt}")
    assert a.read_bytes() == b.read_bytes()


def test_no_dates_or_software_tags(tmp_path):
    fig = _forest()
    svg = save_figure(fig, tmp_path / "f.svg").read_bytes()
    assert b"<dc:date>" not in svg and b"Matplotlib" not in svg and b"matplotlib.org" not in svg
    png = save_figure(fig, tmp_path / "f.png").read_bytes()
    assert b"Software" not in png and b"tIME" not in png
    pdf = save_figure(fig, tmp_path / "f.pdf").read_bytes()
    assert b"/CreationDate" not in pdf and b"/Producer" not in pdf and b"/Creator" not in pdf


def test_formats_dpi_and_axes_input(tmp_path):
    ax = ev.forest_plot(_result())
    p = save_figure(ax, tmp_path / "fig.png", dpi=100)  # an Axes is accepted
    from PIL import Image

    w, h = ax.figure.get_size_inches()
    pw, ph = Image.open(p).size
    assert abs(pw - w * 100) <= 1 and abs(ph - h * 100) <= 1
    assert save_figure(ax, tmp_path / "noext", format="svg").read_bytes().startswith(b"<?xml")
    assert save_figure(ax, tmp_path / "fig.pdf").read_bytes().startswith(b"%PDF")


def test_errors(tmp_path):
    fig = _forest()
    with pytest.raises(ValueError, match=r"format 'jpg' is not one of"):
        save_figure(fig, tmp_path / "f.jpg")
    with pytest.raises(ValueError, match="format '\\(none\\)'"):
        save_figure(fig, tmp_path / "f")
    with pytest.raises(TypeError, match="expected a matplotlib Figure or Axes"):
        save_figure("not a figure", tmp_path / "f.png")
    with pytest.raises(ValueError, match="bbox_inches"):
        save_figure(fig, tmp_path / "f.png", bbox_inches="loose")
