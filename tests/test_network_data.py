"""Network data (data/network/): agreement with the generator, source rows, mapping, loader."""

from __future__ import annotations

import csv
import importlib
import io
import os
import re
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evidence.review.data import DataValidationError, default_path
from evidence.review.network_data import (
    COLUMNS,
    NODES,
    arm_table,
    edges,
    load_network,
    load_nodes,
)
from evidence.review.sources import read_metapsy

ROOT = Path(__file__).resolve().parents[1]
METAPSY = ROOT.parent / "shared" / "metapsy"
NETWORK = default_path() / "network"


@pytest.fixture(scope="module")
def metapsy_dir() -> Path:
    if not METAPSY.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{METAPSY} is missing; the network agreement tests must run in CI")
        pytest.skip(f"{METAPSY} not present (fresh clone without ../shared)")
    return METAPSY


@pytest.fixture(scope="module")
def tool(tools_module):
    return tools_module("make_network_data")


@cache
def _frame(folder: str, db: str) -> pd.DataFrame:
    return read_metapsy(Path(folder) / db)


def _csv(frame: pd.DataFrame) -> str:
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return buf.getvalue()


# ------------------------------------------------------------------ agreement with the generator


def test_regenerated_table_equals_committed(tool, metapsy_dir):
    frame, exc = tool.build(metapsy_dir)
    assert _csv(frame) == (NETWORK / "comparisons.csv").read_text(encoding="utf-8")
    assert _csv(exc) == (NETWORK / "exclusions.csv").read_text(encoding="utf-8")


def test_every_row_resolves_to_its_source_row(net, tool, metapsy_dir):
    stats = {  # table column -> source column, by statistics form
        "msd": {"n1": "n_arm1", "mean1": "mean_arm1", "sd1": "sd_arm1"}
        | {"n2": "n_arm2", "mean2": "mean_arm2", "sd2": "sd_arm2"},
        "change": {"n1": "n_change_arm1", "mean1": "mean_change_arm1", "sd1": "sd_change_arm1"}
        | {"n2": "n_change_arm2", "mean2": "mean_change_arm2", "sd2": "sd_change_arm2"},
        "events": {"n1": "totaln_arm1", "events1": "event_arm1"}
        | {"n2": "totaln_arm2", "events2": "event_arm2"},
        "precalc_g": {"effect": ".g", "effect_se": ".g_se"},
    }
    # curated rows from a database that is no network (depression-anxiety-transdiagnostic) keep
    # their curated row id and are checked against the curated data
    rows = net[net["source"].str.startswith("metapsy:") & ~net["row_id"].str.startswith("curated:")]
    assert len(rows) > 2000
    for r in rows.itertuples():
        db, rest = r.source.removeprefix("metapsy:").split("@")
        commit, _, n = rest.partition(" row ")
        assert tool.COMMITS[db].startswith(commit), r.row_id
        assert r.row_id == f"{db}:{n}"
        src = _frame(str(metapsy_dir), db).iloc[int(n) - 1]
        assert src["source_row"] == int(n)
        assert src["study"] == r.study, r.row_id
        assert r.arm1.startswith(str(src["condition_arm1"])), r.row_id
        assert r.arm2.startswith(str(src["condition_arm2"])), r.row_id
        assert (src.get("instrument") or "") == r.instrument, r.row_id
        if r.stats_form == "reported":  # the curated row's effect replaced the source row's
            assert r.curated_effect_ids, r.row_id
            continue
        sign = tool.STORED_G.get((db, src.get("outcome_type")))
        if sign is not None and src["stats_form"] is None:  # stored .g, oriented: + = arm 1
            assert r.stats_form == "precalc_g", r.row_id
            assert r.effect == sign * src[".g"] and r.effect_se == src[".g_se"], r.row_id
            continue
        assert src["stats_form"] == r.stats_form, r.row_id
        curated_cols = set()
        if r.curated_effect_ids:  # curated values win: checked against the curated rows below
            curated_cols = {"n1", "mean1", "sd1", "events1", "n2", "mean2", "sd2", "events2"}
        for col, scol in stats[r.stats_form].items():
            if col in curated_cols:
                continue
            mine, theirs = getattr(r, col), float(src[scol])
            assert mine == theirs, (r.row_id, col, mine, theirs)


def test_curated_rows_carry_the_curated_values(net, ds):
    o = ds.outcomes.set_index("effect_id")
    cur = net[net["curated_effect_ids"] != ""]
    assert len(cur) > 0
    for r in cur.itertuples():
        for eid in r.curated_effect_ids.split(";"):
            c = o.loc[eid]
            if r.row_id.startswith("curated:"):
                pairs = [("n1", "n1"), ("n2", "n2")]
            elif c["source_arm2_columns"] == "arm2":
                pairs = [(a, a) for a in ("n1", "mean1", "sd1", "events1")]
                pairs += [(a, a) for a in ("n2", "mean2", "sd2", "events2")]
            elif r.row_id.endswith(f":{int(c['source_row1'])}"):  # direct: the PDT row
                pairs = [(a, a) for a in ("n1", "mean1", "sd1", "events1")]
            else:  # direct: the other active arm's row; its arm 1 is the curated arm 2
                pairs = [("n1", "n2"), ("mean1", "mean2"), ("sd1", "sd2"), ("events1", "events2")]
            for mine, theirs in pairs:
                a, b = getattr(r, mine), float(c[theirs])
                assert (np.isnan(a) and np.isnan(b)) or a == b, (r.row_id, eid, mine)


# ------------------------------------------------------------------ reconciliation


def test_no_trial_enters_twice(net, ds):
    o = ds.outcomes
    # a curated trial is one study within each database network, never also a curated: row
    per_db = net[net["trial_id"] != ""].groupby(["database", "trial_id"])["study_id"].nunique()
    assert (per_db == 1).all(), per_db[per_db > 1]
    # every curated outcome row of a network database is in the table exactly where it belongs
    in_net = o["source"].str.contains("|".join(f"metapsy:{db}@" for db in net.database.unique()))
    used = net["curated_effect_ids"].str.split(";").explode()
    excluded = set(
        ds.exclusions.loc[ds.exclusions["source"].str.startswith("metapsy:"), "source_row"]
    )
    for r in o[in_net].itertuples():
        assert r.effect_id in set(used) or int(r.source_row1) in excluded, r.effect_id

    # a curated-only trial is not also in its network under a Metapsy label (surname + year)
    def key(study: str) -> str:
        year = re.search(r"(19|20)\d\d", study)
        return "".join(c for c in study.split()[0].lower() if c.isalpha()) + (
            year.group(0) if year else ""
        )

    assert key("Johansson, 2012a") == key("Johansson 2012") == "johansson2012"
    for r in net[net["row_id"].str.startswith("curated:")].itertuples():
        labels = net.loc[(net["database"] == r.database) & (net["study_id"] != r.study_id)]
        assert key(r.study) not in set(labels["study"].map(key)), r.row_id
    # direct comparisons are not added as rows of their own: their two arm-vs-control rows
    # share the control arm
    direct = o[o["source_arm2_columns"] == "arm1"]
    for r in direct.itertuples():
        rows = net[net["curated_effect_ids"].str.contains(r.effect_id, regex=False)]
        assert len(rows) == 2, r.effect_id
        assert rows["arm2_id"].nunique() == 1, r.effect_id
    # the curated PDT arm is the pdt node
    pdt_rows = net[net["curated_effect_ids"] != ""]
    for r in pdt_rows.itertuples():
        if any(o.set_index("effect_id").loc[e, "source_arm2_columns"] == "arm2"
               for e in r.curated_effect_ids.split(";")):  # fmt: skip
            assert r.node1 == "pdt", r.row_id


def test_every_metapsy_row_is_in_the_table_or_excluded(net, tool, metapsy_dir):
    exc = pd.read_csv(NETWORK / "exclusions.csv", dtype=str, keep_default_na=False)
    for db in tool.NETWORKS:
        n = len(_frame(str(metapsy_dir), db))
        used = set(net.loc[net["database"] == db, "row_id"])
        dropped = {
            f"{db}:{s.rsplit(' row ', 1)[1]}" for s in exc.loc[exc["database"] == db, "source"]
        }
        assert not used & dropped, db
        assert used | dropped >= {f"{db}:{i}" for i in range(1, n + 1)}, db
    assert (exc["reason"].str.strip() != "").all()


# ------------------------------------------------------------------ node mapping


def test_every_label_of_every_database_is_mapped(tool, metapsy_dir):
    nodes = load_nodes()
    used = set()
    for db in tool.NETWORKS:
        frame = _frame(str(metapsy_dir), db)
        for side in "12":
            for label in frame[f"condition_arm{side}"].map(lambda s: s or "NA").unique():
                key = (db, f"condition_arm{side}", label)
                assert key in nodes, f"{db}: condition_arm{side} {label!r} not mapped"
                used.add(key)
        multi = frame.get("multi_arm1")
        for key in nodes:
            if key[0] == db and key[1] == "multi_arm1":
                assert multi is not None and (multi == key[2]).any(), key
                used.add(key)
    stale = {k for k in nodes if k[0] not in ("*", "curated")} - used
    assert not stale, f"mapping rows that match no label: {sorted(stale)}"
    assert set(nodes.values()) <= set(NODES) | {"unmapped"}


def test_pdt_node_is_exactly_the_psychodynamic_arms(net, tool, metapsy_dir):
    for db in tool.NETWORKS:
        frame = _frame(str(metapsy_dir), db)
        pdt = {f"{db}:{i}" for i in frame.loc[frame["arm1_class"] == "psychodynamic", "source_row"]}
        rows = net[(net["database"] == db) & net["row_id"].str.startswith(f"{db}:")]
        assert set(rows.loc[rows["node1"] == "pdt", "row_id"]) == pdt & set(rows["row_id"]), db
        assert not (rows["node2"] == "pdt").any(), db


# ------------------------------------------------------------------ the table itself


def test_table_shape(net):
    assert list(net.columns) == list(COLUMNS)
    assert net["row_id"].is_unique
    assert (net["node1"] != net["node2"]).all()
    arm_rows = ~net["stats_form"].isin(("precalc_g", "reported"))
    assert net.loc[arm_rows, "higher_is_better"].notna().all()
    # one node per arm id
    arms = pd.concat(
        [
            net[["arm1_id", "node1"]].set_axis(["a", "n"], axis=1),
            net[["arm2_id", "node2"]].set_axis(["a", "n"], axis=1),
        ]
    )
    assert (arms.groupby("a")["n"].nunique() == 1).all()


def test_arm_table_has_one_row_per_arm_and_outcome(net):
    arms = arm_table(net)
    assert not arms.duplicated(["outcome_id", "arm_id"]).any()
    arm_rows = net[~net["stats_form"].isin(("precalc_g", "reported"))]
    assert arms["n_rows"].sum() == 2 * len(arm_rows)
    # multi-arm: a shared control arm is carried by several rows
    assert (arms["n_rows"] > 1).sum() > 100


# ------------------------------------------------------------------ loader errors


def _broken(tmp_path: Path, row: int, col: str, value: str) -> Path:
    text = (NETWORK / "comparisons.csv").read_text(encoding="utf-8")
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    frame.loc[row - 1, col] = value
    path = tmp_path / "comparisons.csv"
    path.write_text(_csv(frame), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("row", "col", "value", "rule"),
    [
        (3, "node1", "psychoanalysis", "vocabulary"),
        (5, "n1", "twelve", "number"),
        (7, "sd2", "0", "minimum"),
        (9, "source", "metapsy:x row", "locator"),
        (11, "higher_is_better", "yes", "boolean"),
        (13, "timepoint", "later", "vocabulary"),
        (15, "study_id", "", "required"),
    ],
)
def test_loader_names_file_row_and_column(tmp_path, row, col, value, rule):
    with pytest.raises(DataValidationError) as err:
        load_network(_broken(tmp_path, row, col, value))
    assert err.value.file == "comparisons.csv"
    assert (err.value.row, err.value.column, err.value.rule) == (row, col, rule)


def test_loader_rejects_a_missing_column(tmp_path):
    frame = pd.read_csv(NETWORK / "comparisons.csv", dtype=str, keep_default_na=False)
    path = tmp_path / "comparisons.csv"
    path.write_text(_csv(frame.drop(columns="arm2_id")), encoding="utf-8")
    with pytest.raises(DataValidationError, match="arm2_id"):
        load_network(path)


def test_node_mapping_rejects_unknown_node(tmp_path):
    text = (default_path() / "network_nodes.csv").read_text(encoding="utf-8")
    path = tmp_path / "network_nodes.csv"
    path.write_text(text + "ed-psyctr,condition_arm2,xyz,nonsense,because\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        load_nodes(path)
    assert err.value.column == "node"


def test_edges_count_each_study_once_per_node_pair(net):
    e = edges(net)
    assert not e.duplicated(["database", "node_a", "node_b"]).any()
    assert e["rows"].sum() == len(net)
    # PDT is in every network but the two whose Metapsy rows hold no PDT arm, where it enters
    # through curated trials
    pdt = e[(e["node_a"] == "pdt") | (e["node_b"] == "pdt")]
    assert set(pdt["database"]) == set(net["database"])


def test_every_hand_direction_is_used_and_reasoned(net):
    d = pd.read_csv(NETWORK / "directions.csv", dtype=str, keep_default_na=False)
    assert set(d["higher_is_better"]) <= {"true", "false"}
    assert (d["reason"].str.strip() != "").all()
    assert not d.duplicated(["database", "instrument", "outcome_type"]).any()
    rows = net[net["direction_rule"] == "directions_table"]
    keys = ["database", "instrument", "outcome_type"]
    present = set(net[keys].itertuples(index=False, name=None))  # incl. rows curated data set
    listed = set(d[keys].itertuples(index=False, name=None))
    assert listed <= present, sorted(listed - present)[:5]
    # the table's values are the hand table's
    hib = d.set_index(["database", "instrument", "outcome_type"])["higher_is_better"] == "true"
    for r in rows.itertuples():
        assert r.higher_is_better == hib[(r.database, r.instrument, r.outcome_type)], r.row_id


def test_node_mapping_rejects_a_malformed_line(tmp_path):
    text = (default_path() / "network_nodes.csv").read_text(encoding="utf-8")
    path = tmp_path / "network_nodes.csv"
    path.write_text(text + "ed-psyctr,condition_arm2,xyz,waitlist,a reason, with a comma\n")
    with pytest.raises(DataValidationError) as err:
        load_nodes(path)
    assert (err.value.file, err.value.row, err.value.rule) == ("network_nodes.csv", 131, "CSV")


# Metapsy's .g uses d * (1 - 3/(4N - 9)); recomputed the same way from the arm statistics it
# agrees to rounding error, so 0.01 separates rounding from a real disagreement.
TOL_G = 0.01
# Rows whose oriented .g does not follow from their arm statistics (data/network/README.md).
G_MISMATCH = {
    "depression-psyctr:457",  # Mueller-Weinitschke 2023: .g 0.705 vs 0.787 from the means
    "depression-psyctr:605",  # Rohde 2014b K-SADS: .g sign opposite to the instrument direction
    "depression-psyctr:830",  # Victor-Aigbodion 2023: .g 0.589 vs 3.95 from the means
}


def test_direction_reproduces_oriented_metapsy_g(net, tool):
    """In databases whose .g favours arm 1 when positive, g from the arm statistics times the
    direction equals .g: checks the direction of every such row (all but three rows)."""
    m = net[
        (net["stats_form"] == "msd")
        & net["database"].isin(tool.ORIENTED_G)
        & (net["curated_effect_ids"] == "")
    ]
    n = m["n1"] + m["n2"]
    sp = np.sqrt(((m["n1"] - 1) * m["sd1"] ** 2 + (m["n2"] - 1) * m["sd2"] ** 2) / (n - 2))
    g = (m["mean1"] - m["mean2"]) / sp * (1 - 3 / (4 * n - 9))
    sign = np.where(m["higher_is_better"].astype(bool), 1.0, -1.0)
    off = set(m.loc[(sign * g - m["metapsy_g"]).abs() > TOL_G, "row_id"])
    assert len(m) > 1000
    assert off == G_MISMATCH


def test_every_curated_arm_class_is_mapped(ds):
    """Curated trials that no network database holds take their nodes from the curated class:
    every class of the vocabulary has a row (medication included), unmapped ones with a reason."""
    import json

    schema = json.loads((default_path() / "datapackage.json").read_text(encoding="utf-8"))
    arms = next(r for r in schema["resources"] if r["name"] == "arms")
    vocab = next(f for f in arms["schema"]["fields"] if f["name"] == "arm_class")
    nodes = load_nodes()
    for cls in vocab["constraints"]["enum"]:
        assert ("curated", "arm_class", cls) in nodes, cls
    assert set(ds.arms["arm_class"]) <= set(vocab["constraints"]["enum"])


def test_effect_only_curated_rows_replace_their_source_rows(net, ds):
    """A curated reported effect (e.g. suicide-psyctr ideation, stored only as .g) replaces the
    Metapsy row it was taken from: same row id, the curated yi, flagged as replaced."""
    o = ds.outcomes.set_index("effect_id")
    rows = net[(net["stats_form"] == "reported") & ~net["row_id"].str.startswith("curated:")]
    assert {"suicide-psyctr:77", "suicide-psyctr:177"} <= set(rows["row_id"])
    for r in rows.itertuples():
        c = o.loc[r.curated_effect_ids]
        assert r.effect == pytest.approx(c["yi"], abs=1e-12)
        assert r.effect_se == pytest.approx(np.sqrt(c["vi"]), abs=1e-12)
        assert r.node1 == "pdt"


def test_risk_of_bias_comes_from_the_documented_column(net, tool, metapsy_dir):
    """borderline-psyctr's overall_RoB (RoB 2 labels), not its undocumented ``rob``."""
    bpd = net[(net["database"] == "borderline-psyctr") & net["row_id"].str.startswith("border")]
    src = _frame(str(metapsy_dir), "borderline-psyctr")
    for r in bpd.itertuples():
        n = int(r.row_id.split(":")[1])
        assert r.rob == str(src.iloc[n - 1]["overall_RoB"]), r.row_id
    assert set(bpd["rob"]) <= {"low", "some concerns", "high"}


def test_arm_sizes_are_whole_numbers_and_fractional_sources_are_listed():
    """Fractional n in Metapsy (e.g. Jesse 2015, 19.5) are excluded with a reason, never rounded."""
    from evidence.review.network_data import load_network

    net = load_network()
    for col in ("n1", "n2"):
        n = net[col].dropna()
        assert (n % 1 == 0).all(), col
    exc = pd.read_csv(Path(__file__).parents[1] / "data" / "network" / "exclusions.csv")
    assert exc["reason"].str.contains("not a whole number of participants").sum() == 3


# ------------------------------------------------------------------ issue 21: rows, flags, minor


def test_a_duplicate_exclusion_applies_only_inside_its_database(net, ds):
    """A curated exclusion as a duplicate of a trial taken from another database does not remove
    the row from the network of its own database; every other curated exclusion does."""
    exc = ds.exclusions[ds.exclusions["source"].str.startswith("metapsy:")]
    o = ds.outcomes
    for r in exc.itertuples():
        db = r.source.split(":")[1].split("@")[0]
        rid = f"{db}:{int(r.source_row)}"
        if isinstance(r.duplicate_of, str):
            held = o.loc[o["comparison_id"] == r.duplicate_of, "source"]
            assert not held.str.startswith(f"metapsy:{db}@").any(), rid
            row = net[net["row_id"] == rid]
            assert len(row) == 1, rid
            trial = ds.comparisons.set_index("comparison_id").loc[r.duplicate_of, "trial_id"]
            assert row["trial_id"].iloc[0] == trial and row["curated_effect_ids"].iloc[0] == ""
        else:
            assert rid not in set(net["row_id"]), rid


def test_self_harm_network_keeps_its_seven_pdt_trials(net):
    rows = net[(net["database"] == "suicide-psyctr") & (net["node1"] == "pdt")]
    attempts = rows[rows["outcome_type"] == "attempts"]
    assert {
        "suicide-psyctr:2",
        "suicide-psyctr:18",
        "suicide-psyctr:51",
        "suicide-psyctr:74",
    } <= set(attempts["row_id"])
    assert sorted(attempts["study"].unique()) == [
        "Amianto 2011", "Andreoli 2016", "Bateman 1999", "Bateman 2009", "Doering 2010",
        "Gregory 2008", "Walker 2016",
    ]  # fmt: skip
    # values are suicide-psyctr's own (not the borderline counts the curated data use)
    r = net.set_index("row_id").loc["suicide-psyctr:2"]
    assert (r["events1"], r["n1"], r["events2"], r["n2"]) == (6, 18, 7, 17)


def test_every_ideation_row_follows_one_rule(net, tool, metapsy_dir):
    """suicide-psyctr ideation: the stored g (sign turned so that + = less ideation in arm 1)
    for every row, the curated Guthrie and Walker rows included; none left out for lack of
    statistics."""
    src = _frame(str(metapsy_dir), "suicide-psyctr")
    ideation = src[src["outcome_type"] == "ideation"]
    exc = pd.read_csv(NETWORK / "exclusions.csv", dtype=str, keep_default_na=False)
    rows = net.set_index("row_id")
    for _, r in ideation.iterrows():
        rid = f"suicide-psyctr:{r['source_row']}"
        if rid in rows.index:  # the stored g, turned: + = less ideation in arm 1
            assert rows.loc[rid, "effect"] == pytest.approx(-r[".g"], abs=1e-12), rid
            assert rows.loc[rid, "effect_se"] == pytest.approx(r[".g_se"], abs=1e-12), rid
            assert rows.loc[rid, "stats_form"] in ("precalc_g", "reported"), rid
        else:  # only the mislabelled Britton 2020 rows
            hit = exc["source"].str.endswith(f"row {r['source_row']}") & (
                exc["database"] == "suicide-psyctr"
            )
            assert exc.loc[hit, "reason"].str.contains("mislabelled").all() and hit.sum() == 1
    assert ideation["source_row"].map(lambda n: f"suicide-psyctr:{n}").isin(rows.index).sum() == 100
    assert (
        not exc["reason"]
        .str.startswith("no complete statistics")
        .where(exc["database"] == "suicide-psyctr", False)
        .any()
    )


def test_one_trial_under_two_labels_is_found_by_rule(tool, ds, metapsy_dir):
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        rules = importlib.import_module("network_rules")
    finally:
        sys.path.remove(str(ROOT / "tools"))
    frame, _ = tool.candidate_rows(metapsy_dir, ds)
    pairs = {(p["database"], p["keep"], p["drop"]) for p in rules.duplicate_pairs(frame)}
    assert pairs == {
        ("depression-psyctr", "Chan, 2013", "Ng, 2013"),
        ("gad-psyctr", "Titov, 2009", "Lorian, 2012"),
    }
    _, split = rules.separate_trials(tool._arm_ids(tool._consensus(frame.copy())))
    assert split == ["depression-psyctr:Araya, 2021"]


def test_double_counts_are_excluded_and_separate_trials_split(net):
    exc = pd.read_csv(NETWORK / "exclusions.csv", dtype=str, keep_default_na=False)
    dup = exc[exc["reason"].str.startswith("same trial as")]
    assert set(dup["source"].str.rsplit(" row ", n=1).str[1] + "@" + dup["database"]) == {
        "488@depression-psyctr", "59@gad-psyctr", "60@gad-psyctr",
    }  # fmt: skip
    ids = set(net["row_id"])
    assert {"depression-psyctr:106", "gad-psyctr:98", "gad-psyctr:99"} <= ids
    assert not {"depression-psyctr:488", "gad-psyctr:59", "gad-psyctr:60"} & ids
    araya = net[net["study"] == "Araya, 2021"].set_index("row_id")
    assert araya["study_id"].nunique() == 2 and araya["arm2_id"].nunique() == 2
    assert not araya["note"].str.contains("kept as one arm").any()


def test_curated_flags_and_add_on_reach_the_network(net, ds):
    o = ds.outcomes.set_index("effect_id")
    suspect = set(o.index[o["flag"] == "suspect"])
    flagged = {
        "bateman2009-mbt-scm:iip:post",
        "heshmati2023-pdt-wl:wai-d:post",
        "scheidt2013-pdt-cau:hads-d:post",
        "scheidt2013-pdt-cau:hads-a:post",
    }
    assert flagged <= suspect
    add_on = ds.comparisons.set_index("comparison_id")["add_on"]
    for r in net[net["curated_effect_ids"] != ""].itertuples():
        ids = set(r.curated_effect_ids.split(";"))
        assert (r.flag == "suspect") == bool(ids & suspect), r.row_id
        assert r.add_on == bool(add_on[o.loc[list(ids), "comparison_id"]].any()), r.row_id
    by_id = net.set_index("row_id")
    assert by_id.loc["borderline-psyctr:8", "flag"] == "suspect"
    assert by_id.loc["depression-psyctr:281", "flag"] == "suspect"
    assert by_id.loc["borderline-psyctr:8", "sd1"] == 0.13  # the source value is kept
    assert set(net.loc[net["add_on"], "trial_id"]) == {
        "fonagy2015", "roten2017", "amianto2011", "wiborg1996",
    }  # fmt: skip
    assert by_id.loc["suicide-psyctr:2", "add_on"]  # Amianto 2011 in the suicide network too
    assert (net.loc[net["flag"] == "suspect", "flag_reason"].str.strip() != "").all()
    assert (net.loc[net["flag"] == "", "flag_reason"] == "").all()


def test_unverifiable_signs_are_flagged(net):
    by_id = net.set_index("row_id")
    for rid in ("depression-psyctr:518", "ed-psyctr:19"):
        assert by_id.loc[rid, "flag"] == "suspect", rid
        assert by_id.loc[rid, "flag_reason"].startswith("sign cannot be checked"), rid
    assert (net["flag"] == "suspect").sum() == 6


@pytest.mark.parametrize(
    ("col", "value", "where", "rule"),
    [
        ("add_on", "yes", "add_on", "boolean"),
        ("add_on", "", "add_on", "required"),
        ("flag", "doubtful", "flag", "vocabulary"),
        ("flag", "suspect", "flag_reason", "required"),  # a flag without its reason
        ("flag_reason", "looks odd", "flag", "flag has a reason"),  # a reason without a flag
    ],
)
def test_loader_checks_flags_and_add_on(tmp_path, col, value, where, rule):
    row = 17  # a row without flag or reason
    with pytest.raises(DataValidationError) as err:
        load_network(_broken(tmp_path, row, col, value))
    assert (err.value.row, err.value.column, err.value.rule) == (row, where, rule)


def test_add_on_is_read_as_bool(net):
    assert net["add_on"].dtype == bool and net["add_on"].sum() == 14


def test_zero_week_post_rows_are_emptied_as_in_the_curated_data(net, metapsy_dir):
    post = net[net["timepoint"] == "post"]
    assert not (post["time_weeks"] == 0).any()
    src = _frame(str(metapsy_dir), "depression-psyctr")
    zero = set(src.loc[(src["timepoint"] == "post") & (src["time_weeks"] == 0), "source_row"])
    rows = net[net["row_id"].isin({f"depression-psyctr:{n}" for n in zero})]
    assert len(rows) == 281
    assert rows["time_weeks"].isna().all()
    assert rows["note"].str.contains("time_weeks: source 0 on a post row").all()


def test_heimberg_and_power_directions(net):
    exc = pd.read_csv(NETWORK / "exclusions.csv", dtype=str, keep_default_na=False)
    heimberg = exc.loc[exc["source"].str.endswith("sad-psyctr@cc33ac1 row 117"), "reason"]
    assert len(heimberg) == 1
    assert "not oriented" not in heimberg.iloc[0] and ".g = 0" in heimberg.iloc[0]
    power = net.set_index("row_id").loc["gad-psyctr:79"]
    assert power["higher_is_better"] and power["direction_rule"] == "directions_table"
    assert (power["events1"], power["n1"], power["events2"], power["n2"]) == (9, 11, 6, 11)
