"""No trial drops out silently: every outcome row is pooled by the build or listed with a reason
(issue #16, section 1)."""

from __future__ import annotations

import numpy as np
import pytest

import evidence.review.data
from evidence import review


@pytest.fixture(scope="module")
def ds():
    return evidence.review.data.load()


def test_every_outcome_row_is_pooled_or_listed_with_a_reason(ds):
    acc = review.row_accounting(ds)
    assert list(acc["effect_id"]) == list(ds.outcomes["effect_id"])
    pooled, listed = acc["pooled_in"] != "", acc["reason"] != ""
    assert (pooled ^ listed).all()  # exactly one of the two
    assert not (acc["reason"] == "selected by no analysis").any(), acc[listed]


def test_pooled_rows_are_the_rows_behind_the_pooled_effects(ds):
    analyses = review.build_analyses(ds)
    for an in analyses.values():
        ids = [i for t in an.effects["effect_ids"] for i in t]
        assert len(ids) == len(set(ids)) == an.effects["n_effects"].sum(), an.name
        assert sum(r.k for r in an.results.values()) == len(an.effects), an.name


def test_pages_state_the_counts(ds):
    acc = review.row_accounting(ds)
    text = review.accounting_text(acc, scope="in the dataset")
    n_out = int((acc["pooled_in"] == "").sum())
    assert f"**Outcome rows in the dataset:** {len(acc)}; {len(acc) - n_out} enter" in text
    assert text.count("\n- ") == n_out
    eating = review.condition_analyses(ds, "eating")
    page = review.overview_text(eating)
    rows = eating.rows
    assert f"**Outcome rows of this page's conditions:** {len(rows)};" in page
    for r in rows[rows["pooled_in"] == ""].itertuples():
        assert f"{r.study}, {r.instrument}" in page


def test_selected_row_without_finite_effect_is_an_error(ds):
    o = ds.outcomes.copy()
    first = o.index[(o["measure"] == "SMD") & (o["timepoint"] == "post")][0]
    o.loc[first, "vi"] = np.inf
    with pytest.raises(ValueError, match=o.loc[first, "effect_id"]):
        review.comparison_effects(o)


def test_build_analyses_are_the_analyses_the_notebooks_run():
    """build_analyses mirrors the notebooks: the overview's headline and one condition page per
    condition group, so the accounting above is the accounting of the build."""
    from evidence.site.build import notebook_paths

    sources = "\n".join(p.read_text() for p in notebook_paths())
    assert "review.headline(data" in sources
    for key in review.CONDITION_GROUPS:
        assert f'ConditionPage.load("{key}", method=METHOD, test=TEST, rho=RHO)' in sources, key
