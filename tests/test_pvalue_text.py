"""A p-value in a sentence reads "p < .0001" or "p = 0.0123", never "p = <.0001" (issue 26)."""

from __future__ import annotations

import re

import numpy as np

import evidence as ev
from evidence.meta.results import _p, _rel_p


def test_relation_and_cell_forms():
    assert (_rel_p(1e-9), _rel_p(0.0333), _rel_p(np.nan)) == ("< .0001", "= 0.0333", "= NA")
    assert (_p(1e-9), _p(0.0333)) == ("<.0001", "0.0333")


def test_printed_results_never_say_equals_less_than():
    res = ev.pool([0.5, 0.9, 0.7, 0.8], [0.01, 0.01, 0.02, 0.01])
    text = res.summary()
    assert "p < .0001" in text and not re.search(r"=\s*<", text)
    assert not re.search(r"=\s*<", res._repr_html_())
