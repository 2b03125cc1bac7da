"""The results one build's kernels share (evidence.review.cache): a hit only for the same
arguments and the same bytes, never outside a build."""

from __future__ import annotations

import csv
import shutil

import pandas as pd
import pytest

from evidence.review.cache import CACHE_ENV, cached
from evidence.review.data import default_path, load
from evidence.review.network_data import load_network
from evidence.review.network_report import network_report


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    folder.mkdir()
    monkeypatch.setenv(CACHE_ENV, str(folder))
    return folder


def test_nothing_is_cached_outside_a_build(monkeypatch):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    calls = []
    for _ in range(2):
        cached("t", lambda: (1,), lambda: calls.append(1))
    assert len(calls) == 2


def test_errors_are_not_cached(cache):
    def fail():
        raise ValueError("bad data")

    for _ in range(2):
        with pytest.raises(ValueError, match="bad data"):
            cached("t", lambda: (1,), fail)
    assert not list(cache.iterdir())


def test_a_changed_data_file_is_a_new_key(cache, tmp_path):
    """The dataset is cached under the bytes of its files: edit one value, get the new value
    (and the unchanged folder still gets the cached dataset, equal to a fresh load)."""
    data = tmp_path / "data"
    shutil.copytree(default_path(), data)
    first = load(data)
    assert len(list(cache.iterdir())) == 1
    again = load(data)
    pd.testing.assert_frame_equal(first.outcomes, again.outcomes)
    trials = data / "trials.csv"
    with trials.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    col = rows[0].index("year")
    new_year = str(int(rows[1][col]) - 1)
    rows[1][col] = new_year
    with trials.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    edited = load(data)
    assert (
        str(int(edited.trials["year"].iloc[0]))
        == new_year
        != str(int(first.trials["year"].iloc[0]))
    )
    assert len(list(cache.iterdir())) == 2


def test_a_network_report_is_keyed_by_its_rows(cache, monkeypatch):
    """The same rows give the cached report (equal to a fresh fit); other rows (one trial left
    out) a fit of their own."""
    net = load_network()
    cached_rep = network_report(net, "sad-psyctr")
    again = network_report(net, "sad-psyctr")
    monkeypatch.delenv(CACHE_ENV)
    fresh = network_report(net, "sad-psyctr")
    pd.testing.assert_frame_equal(again.pdt_table, fresh.pdt_table)
    pd.testing.assert_frame_equal(cached_rep.pdt_table, fresh.pdt_table)
    monkeypatch.setenv(CACHE_ENV, str(cache))
    rows = net[net["database"] == "sad-psyctr"]
    fewer = net.drop(rows.index[rows["study_id"] == rows["study_id"].iloc[0]])
    other = network_report(fewer, "sad-psyctr")
    assert other.result.k == fresh.result.k - 1
