"""Figure text is readable on the site (issue 26): shown at most as wide as the 688 px content
column of a page at 1280 px, every text of a condition page's forest plots and network graphs is
at least 9 px on screen.

On screen a text of ``pt`` points is ``pt * dpi / 72 * shown / natural`` px: the notebook shows the
saved figure (its whole canvas) at ``figure.dpi`` (100), ``natural = width_in * dpi`` px, and the
site shrinks it to the column (``shown = min(natural, 688)``).
"""

from __future__ import annotations

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

COLUMN_PX = 688  # the content column of sphinx-book-theme at a 1280 px viewport
DPI = 100  # the inline backend's figure.dpi (evidence.plots.style)
MIN_PX = 9.0


def smallest_text_px(fig) -> tuple[float, str]:
    """The smallest on-screen size (px) of a visible text inside the saved figure, and the text."""
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    natural = fig.get_figwidth() * DPI  # the saved canvas, shown as evidence.review.output does
    scale = min(natural, COLUMN_PX) / natural
    sizes = [
        (t.get_fontsize() * DPI / 72 * scale, t.get_text())
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and t.get_window_extent(renderer).width > 0
    ]
    return min(sizes)


@pytest.fixture(scope="module")
def page():
    from evidence.review.pages import ConditionPage

    return ConditionPage.load("depression")


def test_forest_plot_text_is_at_least_9_px_in_the_column(page):
    import matplotlib.pyplot as plt

    from evidence.review import forest

    for key, an in page.analyses.items():  # odds ratios too (four arm columns, intervals to 10^8)
        ax = forest(an, save=False)
        px, text = smallest_text_px(ax.figure)
        plt.close("all")
        assert px >= MIN_PX, (key, round(px, 2), text[:60])


def test_bayes_forest_text_is_at_least_9_px_in_the_column(page):
    import matplotlib.pyplot as plt

    from evidence.plots.bayes import cell_forest
    from evidence.review.bayes_report import cell_table

    an = page.analyses["SMD post"]
    ax = cell_forest(cell_table(an), measure="SMD", title="cells", footnote="Prior on tau.")
    px, text = smallest_text_px(ax.figure)
    plt.close("all")
    assert px >= MIN_PX, (round(px, 2), text[:60])


def test_max_width_narrows_the_plot_then_the_labels():
    import matplotlib.pyplot as plt

    import evidence as ev
    from evidence.plots import forest_plot

    res = ev.pool([0.1, 1.5, -0.3], [0.04, 2.0, 0.05], measure="OR", labels=["A study", "B", "C"])
    natural = forest_plot(res, label_width=3.0, plot_width=3.0).figure.get_figwidth()
    capped = forest_plot(res, label_width=3.0, plot_width=3.0, max_width=natural - 1.0)
    assert abs(capped.figure.get_figwidth() - (natural - 1.0)) < 1e-9
    floor = forest_plot(res, label_width=3.0, plot_width=3.0, max_width=1.0)
    assert floor.figure.get_figwidth() > 1.0  # the plot and labels do not shrink without end
    plt.close("all")
