"""The protocol as data (issue 22): read and checked, followed by every pool, stated everywhere."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import evidence.review.data
from evidence import review
from evidence.review.protocol import ProtocolError, load_protocol, protocol_markdown

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def data():
    return evidence.review.data.load()


@pytest.fixture(scope="module")
def analyses(data):
    return review.build_analyses(data)


def test_the_protocol_is_read_with_its_version_sources_and_rules(data):
    p = data.protocol
    assert p.version == "1.1.0" and p.changelog[0]["version"] == p.version
    assert p.mid == 0.24 and "Cuijpers" in p.mid_source
    assert p.equivalence_margin == 0.25 and "Steinert" in p.equivalence_source
    assert p.rule("depression", "SMD").priority[0] == "HDRS-17"  # clinician-rated first
    assert p.rule("depression", "OR").construct == "depression remission"
    assert "add_on" in p.comparator_classes
    assert p.stated().startswith("Built under protocol version 1.1.0")
    assert p.rule("social_anxiety", "OR").priority == ("LSAS remission",)


def test_no_instrument_of_another_construct_enters_a_pool(data, analyses):
    """GAD-7 and HADS-A never in a depression pool, IIP never in the borderline pool: every
    pooled row's instrument measures its condition's target construct."""
    construct = dict(
        zip(data.instruments["instrument"], data.instruments["construct"], strict=True)
    )
    rows = data.outcomes.set_index("effect_id")
    seen = 0
    for an in analyses.values():
        for ids in an.effects["effect_ids"]:
            for effect_id in ids:
                row = rows.loc[effect_id]
                rule = data.protocol.rule(row["condition"], row["measure"])
                assert construct[row["instrument"]] == rule.construct, (an.name, effect_id)
                seen += 1
    assert seen > 40
    pooled = {e for an in analyses.values() for ids in an.effects["effect_ids"] for e in ids}
    off_construct = rows[rows["instrument"].isin(["GAD-7", "HADS-A", "IIP"])].index
    assert len(off_construct) >= 3 and not set(off_construct) & pooled


def test_one_primary_outcome_per_trial_comparison(data, analyses):
    """Each comparison and timepoint contributes one row, the first instrument of the priority
    list it reports (Johansson 2012: BDI-II, not MADRS-S or PHQ-9)."""
    rows = data.outcomes.set_index("effect_id")
    for an in analyses.values():
        for ids in an.effects["effect_ids"]:
            comps = rows.loc[list(ids), "comparison_id"]
            assert comps.is_unique, (an.name, ids)
    dep = review.condition_analyses(data, "depression")["SMD post"].effects
    joh = dep[dep["study"] == "Johansson 2012"]
    assert joh["instruments"].tolist() == ["BDI-II"]


def test_the_all_instruments_sensitivity_stays_within_the_construct(data):
    sens = review.sensitivity_scenarios(data, "depression")
    every = sens.loc["all instruments of the construct"]
    assert "Johansson 2012" in every["changed"].iloc[0]
    an = review.analyse(data, "depression", outcomes_rule="construct")
    assert "GAD-7" not in ";".join(an.effects["instruments"])
    assert any(";" in s for s in an.effects["instruments"])  # several instruments aggregated


def test_add_on_designs_are_a_class_of_their_own(data):
    """Fonagy 2015 (TADS: PDT + usual care vs usual care) is not pooled as PDT vs usual care."""
    dep = review.condition_analyses(data, "depression")["SMD post"].effects
    fonagy = dep[dep["study"] == "Fonagy 2015"]
    assert fonagy["comparator_class"].tolist() == ["add_on"]
    assert all(len(classes) == 1 for classes in review.COMPARATOR_FAMILIES.values())
    assert "add_on" not in review.SECONDARY_FAMILIES["any_control"]


def test_unpooled_rows_say_which_protocol_rule_left_them_out(data):
    acc = review.row_accounting(data)
    gad7 = acc[(acc["study"] == "Johansson 2013") & (acc["instrument"] == "GAD-7")]["reason"]
    assert len(gad7) and gad7.str.contains("not an instrument of the target construct").all()
    phq9 = acc[(acc["study"] == "Johansson 2012") & (acc["instrument"] == "PHQ-9")]["reason"]
    assert len(phq9) and phq9.str.contains("comes first in the protocol").all()


def test_the_rules_elsewhere_are_the_protocols(data):
    from evidence.review.small_cells import SMALL_K

    assert SMALL_K == data.protocol.small_k


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('continuous_priority = ["HDRS-17"', 'continuous_priority = ["GAD-7"', "measures"),
        ('continuous_priority = ["HDRS-17"', 'continuous_priority = ["NOPE"', "not in"),
        ("[outcomes.substance_use]", "[outcomes.no_such_condition]", "unknown condition"),
        ("equivalence_margin = 0.25", "", "missing field 'equivalence_margin'"),
    ],
)
def test_a_protocol_that_contradicts_the_data_is_refused(tmp_path, old, new, message):
    folder = tmp_path / "data"
    shutil.copytree(ROOT / "data", folder)
    path = folder / "protocol.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ProtocolError, match=message):
        load_protocol(folder)
    with pytest.raises(evidence.review.data.DataValidationError, match="protocol.toml"):
        evidence.review.data.load(folder)


def test_docs_protocol_md_is_generated_from_the_toml():
    assert (ROOT / "docs" / "protocol.md").read_text() == protocol_markdown(load_protocol())


def test_no_rule_is_called_pre_specified():
    """Version 1.0.0 was written after the results were seen: nothing may claim otherwise."""
    paths = [*ROOT.glob("evidence/**/*.py"), *ROOT.glob("notebooks/*.py"), *ROOT.glob("docs/*.md")]
    found = [p for p in paths if re.search(r"pre-?specified", p.read_text(), re.IGNORECASE)]
    assert found == []


def test_each_condition_page_gives_the_effects_it_pools(data):
    """results/<condition>_effects.csv: one row per pooled trial comparison, with the one
    instrument the priority rule chose and its construct (issue 22)."""
    from evidence.review.pages import ConditionPage

    for key in review.CONDITION_GROUPS:
        page = ConditionPage.load(key, data=data)
        eff = page.effects()
        assert len(eff) == sum(len(an.effects) for an in page.analyses.values()), key
        assert not eff["instrument"].str.contains(";").any(), key  # one primary instrument
        for r in eff.itertuples():
            rule = data.protocol.rule(r.condition, r.analysis.split(": ")[-1].split(" ")[0])
            assert r.construct == rule.construct and r.instrument in rule.priority, (key, r)
