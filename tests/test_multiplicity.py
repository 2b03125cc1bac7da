"""Multiplicity adjustment, and statsmodels' meta-analysis as an independent cross-check."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.meta_analysis import combine_effects

import evidence as ev

REF = json.loads((Path(__file__).parent / "reference" / "core.json").read_text())
#: Closed-form estimators computed two ways in double precision.
TOL_CLOSED = 1e-10


def test_holm_and_bh_by_hand():
    p = pd.Series([0.01, 0.04, 0.03, 0.2], index=["a", "b", "c", "d"])
    holm = ev.adjust_pvalues(p, "holm")
    # Holm: sorted p times (m - i), running maximum
    np.testing.assert_allclose(
        holm.loc[["a", "c", "b", "d"], "p_adjusted"], [0.04, 0.09, 0.09, 0.2]
    )
    bh = ev.adjust_pvalues(p, "fdr_bh")
    np.testing.assert_allclose(
        bh.loc[["a", "c", "b", "d"], "p_adjusted"], [0.04, 0.0533333333, 0.0533333333, 0.2]
    )
    assert list(holm.index) == list("abcd") and holm["method"].iloc[0].startswith("Holm")
    with pytest.raises(ValueError, match="position 1"):
        ev.adjust_pvalues([0.1, np.nan])
    with pytest.raises(ValueError, match="unknown adjustment"):
        ev.adjust_pvalues([0.1], "sidak")


@pytest.mark.parametrize("name", ["normand1999_smd", "bcg_logrr", "hackshaw1998_logor"])
def test_statsmodels_combine_effects_agrees(name):
    d = REF["datasets"][name]
    y, v = np.array(d["yi"]), np.array(d["vi"])
    sm = combine_effects(y, v, method_re="chi2")  # DerSimonian-Laird
    fe, dl = ev.pool(y, v, method="FE"), ev.pool(y, v, method="DL")
    assert fe.estimate == pytest.approx(sm.mean_effect_fe, abs=TOL_CLOSED)
    assert fe.se == pytest.approx(np.sqrt(sm.var_eff_w_fe), abs=TOL_CLOSED)
    assert dl.tau2 == pytest.approx(max(sm.tau2, 0.0), abs=TOL_CLOSED)
    assert dl.estimate == pytest.approx(sm.mean_effect_re, abs=TOL_CLOSED)
    assert dl.q == pytest.approx(sm.q, abs=TOL_CLOSED * max(1, sm.q))
    pm = combine_effects(y, v, method_re="iterated")  # Paule-Mandel
    assert ev.pool(y, v, method="PM").tau2 == pytest.approx(pm.tau2, rel=1e-6, abs=1e-8)
