"""One verdict per question across the built site (issue 24), read from its HTML.

A *question* is condition x comparator class x outcome (measure and timepoint); its *verdict*
is the sentence of :func:`evidence.review.certainty.verdict` ("PDT did better than X ...",
"... did not differ by more than ...", "We do not know ...", "The question stays open ...").
Every page states verdicts in three places: the summary-of-findings bullets, the statements
under each pooled table and the closing conclusion; the landing table gives each cell's
certainty. This module collects all of them from ``site/*.html`` with the standard library's
HTML parser and fails when one question receives two different verdicts (or certainties),
unless the difference is named in the text (network vs direct, all instruments vs primary
outcome: then they are different questions). It also checks that harmful events are shown in
one orientation per page and that every interval column of a table states its level.

It needs the built site (``evidence build``); like the rest of ``tests/browser`` it runs in
``.ci/run`` after the build and is skipped elsewhere when ``site/`` is missing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from evidence.review import CONDITION_GROUPS, CONDITION_NAMES

#: Blocks of text that can hold a verdict, a title or a table row.
_BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "caption", "th", "td", "tr"}
#: The verdict sentences of certainty.verdict, each naming the comparator.
_VERDICT = re.compile(
    r"(?P<v>(?:PDT did better than (?P<a>[^.]+?)(?: in the one trial)?"
    r"|(?P<b>[^.:;]+?) did better than PDT(?: in the one trial)?"
    r"|PDT and (?P<c>[^.]+?) did not differ by more than \d+(?:\.\d+)?(?: in the one trial)?"
    r"|We do not know how PDT compares with (?P<d>[^.]+?)"
    r"|The question stays open: (?:the one trial does|the trials do) not show whether PDT or "
    r"(?P<e>[^.]+?) is better)"
    r" \((?P<level>high|moderate|low|very low) certainty\)\.)"
)
#: Readings of a direction in other words (what the pages wrote before the one verdict code):
#: "on average PDT did better than X.", "These trials very probably favour X over PDT." and
#: "these trials do not show a difference between PDT and X".
_READING = re.compile(
    r"(?:on average PDT did better than (?P<a>[^.()]+?)\."
    r"|on average (?P<b>[^.:;()]+?) did better than PDT\."
    r"|very probably favour PDT over (?P<c>[^.()]+?)\."
    r"|very probably favour (?P<d>[^.()]+?) over PDT\."
    r"|do not show a difference between PDT and (?P<e>[^.,()]+))"
)
_LEVEL = re.compile(r"\b(high|moderate|low|very low) certainty\b")
#: "CBT (social anxiety disorder, g, post)" / "depression: PDT vs CBT (g, post)"
_SOF_LABEL = re.compile(r"^(?:(?P<cond>[^:]+): PDT vs )?(?P<comp>.+) \((?P<attrs>[^()]+)\)$")
#: an analysis title, "Social anxiety disorder (Hedges' g, post)"
_TITLE = re.compile(r"^(?P<cond>.+?) \((?P<m>Hedges' g|odds ratios?), (?P<t>post|follow-up)\)")
#: a Bayesian small-cell heading, "social anxiety disorder: SMD post (Hedges' g; ...)"
_BAYES_KEY = re.compile(r"^(?:(?P<cond>[^:()]+): )?(?P<m>SMD|OR) (?P<t>post|follow-up) \(")
_MEASURE = {"g": "g", "hedges' g": "g", "or": "OR", "odds ratio": "OR", "odds ratios": "OR"}
_MEASURE.update(smd="g")


def _norm(text: str) -> str:
    text = unescape(text).replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text).strip()


class _Blocks(HTMLParser):
    """The page as a list of (tag, text, bold-prefix) blocks in document order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str, str]] = []
        self._stack: list[list] = []  # [tag, text parts, bold text, bold depth, seen text]

    def handle_starttag(self, tag, attrs):
        if tag == "br" and self._stack:
            self._stack[-1][1].append(" ")
        if tag in _BLOCKS:
            self._stack.append([tag, [], [], 0, False])
        elif tag in ("strong", "b") and self._stack:
            top = self._stack[-1]
            if not top[4]:  # bold at the start of the block: its head
                top[3] += 1

    def handle_endtag(self, tag):
        if tag in ("strong", "b") and self._stack and self._stack[-1][3]:
            self._stack[-1][3] = -1  # the head is closed
        if tag in _BLOCKS and self._stack and self._stack[-1][0] == tag:
            t, parts, bold, _, _ = self._stack.pop()
            text = _norm("".join(parts))
            if text:
                self.blocks.append((t, text, _norm("".join(bold))))
            if self._stack:  # nested blocks also count for their parent
                self._stack[-1][1].append(" " + "".join(parts) + " ")

    def handle_data(self, data):
        if not self._stack:
            return
        top = self._stack[-1]
        top[1].append(data)
        if top[3] > 0:
            top[2].append(data)
        elif data.strip():
            top[4] = True


def _pages(site: Path) -> dict[str, list[tuple[str, str, str]]]:
    out = {}
    for path in sorted(site.glob("*.html")):
        parser = _Blocks()
        parser.feed(path.read_text(encoding="utf-8"))
        out[path.stem] = parser.blocks
    return out


def _page_condition(stem: str) -> str | None:
    """The condition of a page with one condition ("03_ptsd" -> "ptsd"), else None."""
    key = stem.split("_", 1)[-1] if "_" in stem else stem
    conds = CONDITION_GROUPS.get(key)
    return CONDITION_NAMES[conds[0]].lower() if conds and len(conds) == 1 else None


def _comparator(m: re.Match) -> str:
    return next(m.group(g) for g in "abcde" if m.group(g)).strip().lower()


def _direction(m: re.Match) -> str:
    """Which side a verdict or reading says did better: "PDT", "comparator" or "neither"."""
    if m.re is _VERDICT:
        return "PDT" if m.group("a") else "comparator" if m.group("b") else "neither"
    return "PDT" if m.group("a") or m.group("c") else "neither" if m.group("e") else "comparator"


def _variant(text: str) -> str:
    low = text.lower()
    if "network" in low:
        return "network"
    if "all instruments" in low:
        return "all instruments"
    return "primary outcome"


def _claims(pages) -> list[tuple[tuple, str | None, str, str]]:
    """(question, verdict sentence or None for a reading in other words, direction, where) for
    every verdict and every reading of a direction the pages state."""
    claims = []
    for stem, blocks in pages.items():
        if stem in ("genindex", "search"):
            continue
        page_cond = _page_condition(stem)
        ctx: dict[str, str | None] = {"cond": None, "m": None, "t": None}
        if stem == "00_overview":  # the headline families: Hedges' g at post
            ctx.update(m="g", t="post")
        for tag, text, bold in blocks:
            head = bold.rstrip(".:").strip()
            title = _TITLE.match(head) or _BAYES_KEY.match(text)
            if tag == "p" and title:
                cond = title.group("cond")
                ctx.update(
                    cond=cond.lower() if cond else None,
                    m=_MEASURE[title.group("m").lower()],
                    t=title.group("t"),
                )
            if tag not in ("p", "li"):
                continue
            label = _SOF_LABEL.match(head) if text.startswith(bold + ":") else None
            found = [*_VERDICT.finditer(text), *_READING.finditer(text)]
            for v in found:
                comp = _comparator(v)
                if label:  # a summary-of-findings bullet: the label names the question
                    attrs = [a.strip() for a in label.group("attrs").split(",")]
                    cond = label.group("cond") or (attrs[0] if len(attrs) == 3 else None)
                    m, t = _MEASURE[attrs[-2].lower()], attrs[-1]
                elif (
                    text.startswith(bold)
                    and head
                    and not head.startswith("PDT vs")
                    and ("Verdict: " in text)
                ):  # a statement headed by its condition (grouped by condition)
                    cond, m, t = head, ctx["m"], ctx["t"]
                else:  # a statement under a title, or a conclusion bullet
                    bullet = _TITLE.match(text)
                    if bullet:
                        cond = bullet.group("cond")
                        m, t = _MEASURE[bullet.group("m").lower()], bullet.group("t")
                    else:
                        cond, m, t = ctx["cond"], ctx["m"], ctx["t"]
                cond = page_cond or (cond.lower() if cond else None)
                if cond is None or m is None or t is None:
                    continue  # not tied to one question here (e.g. a methods example)
                question = (cond, comp, m, t, _variant(text[: v.start()][-200:]))
                said = v.group("v").strip() if v.re is _VERDICT else None
                claims.append((question, said, _direction(v), f"{stem}: {text[:80]}"))
    return claims


@pytest.fixture(scope="module")
def pages(site):
    """Every page of the built site as blocks (the ``site`` fixture skips, or fails under CI,
    when the site is not built)."""
    return _pages(site)


def test_every_question_has_one_verdict_on_every_page(pages):
    """One verdict sentence per question, and no reading in other words that points another
    way (before: social anxiety vs waitlist was "open" in the summary table and "on average
    PDT did better than waitlist" in the statement below it)."""
    claims = _claims(pages)
    verdicts, directions = defaultdict(dict), defaultdict(dict)
    for q, verdict, direction, where in claims:
        if verdict is not None:
            verdicts[q].setdefault(verdict, []).append(where)
        directions[q].setdefault(direction, []).append(where)
    assert len(verdicts) >= 20, "too few questions found: the parser no longer sees them"
    overview = {c[0] for c in claims if c[3].startswith("00_overview")}
    pages_ = {c[0] for c in claims if not c[3].startswith("00_overview")}
    assert len(overview & pages_) >= 10, "the overview and the pages share too few questions"
    clashes = [
        f"{q}: {', '.join(f'{v!r} ({ws[0]})' for v, ws in vs.items())}"
        for table in (verdicts, directions)
        for q, vs in table.items()
        if len(vs) > 1
    ]
    assert not clashes, "\n".join(clashes)


def test_the_landing_table_gives_the_certainty_of_the_verdict(pages):
    verdicts = {q: _LEVEL.search(v).group(1) for q, v, _, _ in _claims(pages) if v is not None}
    header = next(text for tag, text, _ in pages["index"] if tag == "tr" and "Condition" in text)
    cols = [
        h for tag, h, _ in pages["index"] if tag == "th" and h in header and h.startswith("PDT vs")
    ]
    checked = 0
    tds = [text for tag, text, _ in pages["index"] if tag == "td"]
    width = len(cols) + 1
    for i in range(0, len(tds) - width + 1, width):
        row = tds[i : i + width]
        cond = row[0].lower()
        for col, cell in zip(cols, row[1:], strict=True):
            level = _LEVEL.search(cell)
            if "network" in col or not level:
                continue
            q = (cond, col.removeprefix("PDT vs ").lower(), "g", "post", "primary outcome")
            assert q in verdicts, f"landing cell {q} has no verdict on any page"
            assert verdicts[q] == level.group(1), (q, cell, verdicts[q])
            checked += 1
    assert checked >= 5


def _orientation_clashes(pages) -> dict:
    """Per page, the harmful events whose odds ratio is shown both ways ("< 1 favours PDT" and
    "> 1 favours PDT")."""
    out = {}
    for stem, blocks in pages.items():
        sides = defaultdict(set)
        for _, text, _ in blocks:
            for event, side in re.findall(
                r"OR of ([^\d\[\]]+?) [\d.]+ \[[^\]]+\] \(([<>]) 1 favours PDT\)", text
            ):
                sides[event.strip()].add(side)
        both = {e: s for e, s in sides.items() if len(s) > 1}
        if both:
            out[stem] = both
    return out


def _unlabelled_intervals(pages) -> set[str]:
    """Table headers that name an interval (CI, CrI, PI, "interval") without its level."""
    bad = set()
    for stem, blocks in pages.items():
        for tag, text, _ in blocks:
            if tag != "th":
                continue
            if re.search(r"\b(CI|CrI|PI)\b|interval", text) and not re.search(r"\d+% ", text):
                bad.add(f"{stem}: {text}")
    return bad


def test_the_checks_see_what_they_look_for():
    """The orientation and interval-label checks flag a page that breaks them (the built site
    already passes both: these guard against a return of Walker 2016's OR 5.07 vs 0.20 and a
    90% CI labelled "95% CI")."""
    two_ways = {
        "x": [
            ("td", "OR of suicide attempt 0.20 [0.05, 0.80] (< 1 favours PDT)", ""),
            ("p", "OR of suicide attempt 5.07 [1.25, 20.0] (> 1 favours PDT)", ""),
        ]
    }
    assert _orientation_clashes(two_ways) == {"x": {"suicide attempt": {"<", ">"}}}
    headers = {"y": [("th", "95% CI", ""), ("th", "CI", ""), ("th", "Prediction interval", "")]}
    assert _unlabelled_intervals(headers) == {"y: CI", "y: Prediction interval"}
    page = {"z": [("p", "PDT did better than waitlist (low certainty).", "")]}
    assert _claims(page) == []  # no question without condition, measure and timepoint


def test_harmful_events_are_shown_in_one_orientation(pages):
    """A harmful event's odds ratio is the natural one (PDT vs comparator, < 1 favours PDT)
    wherever it is named; one event is never shown both ways on a page."""
    assert not _orientation_clashes(pages)


def test_interval_columns_state_their_level(pages):
    """Every table header naming an interval (CI, CrI, PI, "interval") states its level."""
    assert not _unlabelled_intervals(pages), sorted(_unlabelled_intervals(pages))


def test_every_landing_network_estimate_carries_the_cinema_confidence_of_its_page(pages):
    """The landing page's network column gives each PDT vs CBT network estimate with the CINeMA
    confidence that the condition page's network section gives the same estimate."""
    cells = [
        text
        for tag, text, _ in pages["index"]
        if tag == "td" and re.search(r"\d+ trials, (?:\d+% direct|indirect only)", text)
    ]
    assert cells, "the landing table has no network cell"
    rows = [text for blocks in pages.values() for tag, text, _ in blocks if tag == "tr"]
    for cell in cells:
        m = re.search(r"\b(high|moderate|low|very low) confidence \(CINeMA\)", cell)
        assert m, f"landing network cell without a CINeMA confidence: {cell!r}"
        est = re.match(r"(-?\d+\.\d+ \[[^\]]+\])", cell).group(1)
        shown = [r for r in rows if est in r and re.search(r" (high|moderate|low|very low)$", r)]
        assert shown, f"no condition page shows the network estimate {est} with its rating"
        assert all(r.endswith(" " + m.group(1)) for r in shown), (cell, shown)
