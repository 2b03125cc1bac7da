"""The site's glossary (docs/glossary.md) explains every term the pages use (issue 26)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

GLOSSARY = Path(__file__).resolve().parents[1] / "docs" / "glossary.md"

#: Term -> the glossary anchor (MyST target) that must exist and the words its entry must use.
TERMS = {
    "Bayesian": ("bayesian", "prior"),
    "prior": ("prior", "distribution"),
    "posterior": ("posterior", "distribution"),
    "credible interval": ("credible-interval", "95%"),
    "network meta-analysis": ("network-meta-analysis", "indirectly"),
    "transitivity": ("transitivity", "effect modifiers"),
    "direct and indirect evidence": ("direct-and-indirect-evidence", "indirect"),
    "P-score": ("p-score", "rank"),
    "league table": ("league-table", "pairwise"),
    "design-by-treatment": ("design-by-treatment", "inconsistency"),
    "node-splitting": ("node-splitting", "direct"),
    "Holm": ("holm", "family-wise"),
    "Benjamini-Hochberg": ("benjamini-hochberg", "false discovery rate"),
    "add-on design": ("add-on-design", "PDT + X vs X"),
    "comparator classes": ("comparator-classes", "Waitlist"),
    "GRADE": ("grade", "Very low"),
    "PRISMA": ("prisma", "flow diagram"),
    "CINeMA": ("cinema", "contribution matrix"),
}


def entries() -> dict[str, str]:
    """Anchor -> the text of its entry (up to the next anchor)."""
    text = GLOSSARY.read_text(encoding="utf-8")
    parts = re.split(r"^\(([\w-]+)\)=\s*$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


@pytest.mark.parametrize("term", sorted(TERMS))
def test_glossary_explains_the_term(term):
    anchor, word = TERMS[term]
    found = entries()
    assert anchor in found, f"docs/glossary.md has no entry ({anchor})= for {term!r}"
    assert word.lower() in found[anchor].lower(), (term, found[anchor][:200])


def test_glossary_names_every_comparator_class_and_grade_level():
    from evidence.review import COMPARATOR_NAMES

    body = entries()["comparator-classes"].lower() + entries()["add-on-design"].lower()
    for name in COMPARATOR_NAMES.values():
        assert name.split(" (")[0].lower() in body, name
    levels = entries()["grade"]
    for level in ("High", "Moderate", "Low", "Very low"):
        assert re.search(rf"^{level}\n: ", levels, flags=re.M), level
