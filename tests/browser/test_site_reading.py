"""The built site read as a student would at 1280 px (issue 26): the answer of every condition
page (its summary-of-findings table) on the first screen with the diagnostics folded away; every
table inside its column or in a scroll container whose first column stays in view; no internal
value (snake_case identifiers, format codes, counts written as floats, raw booleans) in what a
reader sees; every figure with alt text from its caption; search results with an excerpt."""

from __future__ import annotations

import re
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from evidence.review import CONDITION_GROUPS
from evidence.site.render import SHOW_CODE

from .test_site_browser import open_page, pages

VIEWPORT = {"width": 1280, "height": 800}

#: What a reader sees: the article without code (shown or collapsed), scripts and verbatim
#: program output (``pre``: a printed result quoted beside R's, on the methods page); on the pages
#: that teach code (:data:`evidence.site.render.SHOW_CODE`, the how-to) inline code too, whose
#: names are what a researcher types. Folded parts are opened first, so that they are read too.
READER_TEXT = """(teaches) => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const main = document.querySelector('article.bd-article') || document.body;
  const copy = main.cloneNode(true);
  copy.querySelectorAll('.cell_input, script, style, pre').forEach(e => e.remove());
  if (teaches) copy.querySelectorAll('code').forEach(e => e.remove());
  copy.querySelectorAll('td, th, li, p, h1, h2, h3, caption, dt, dd, summary')
      .forEach(e => e.append(' \\n '));
  return copy.textContent;
}"""

#: An identifier written as code reaches the reader: ``usual_care``, ``follow_up`` (a name in a
#: file name, path or call, ``data/arms.csv``, ``tools/make_reference.R``, is allowed).
IDENTIFIER = re.compile(r"(?<![\w/.-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/.(-])")
#: Metapsy's format codes as a count list (``gsh: 4; ind: 2``), raw booleans, R's p format,
#: ASCII tau^2, and grammar written for any number.
INTERNAL = re.compile(
    r"\b(?:gsh|ind|grp|ush|tel|oth): \d|\bTrue\b|\bFalse\b|p = <|tau\^2|\(s\)"
    r"|\b1 (?:are|were)\b|\(1 [a-z -]*trials\)"
    r"|(?<![\w/.-])(?:cbt|pdt|ipt|emdr|dbt)(?![\w/.-])"  # a class or node id, not its name
)
#: A count written as a float in prose: ``k = 3.00``, ``3.00 trials``.
FLOAT_COUNT_TEXT = re.compile(
    r"\b(?:k|n|df) = \d+\.\d+|\b\d+\.\d+ (?:trials?|studies|comparisons|nodes)\b"
)
#: Headers of table columns that hold counts or years.
COUNT_HEADER = re.compile(
    r"^(?:k\b|n\b|df\b|trials|studies|comparisons|effects combined|sessions|direct trials"
    r"|trials in network|median year|year)",
    re.I,
)

TABLE_COLUMNS = """() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  return Array.from(document.querySelectorAll('article table')).map(t => {
    const heads = Array.from(t.querySelectorAll('thead th')).map(h => h.innerText.trim());
    const rows = Array.from(t.querySelectorAll('tbody tr')).map(
      r => Array.from(r.children).map(c => c.innerText.trim()));
    return {heads, rows};
  });
}"""

OVERFLOW = """() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const column = document.querySelector('article.bd-article');
  const width = column.getBoundingClientRect().width;
  const bad = [];
  for (const t of column.querySelectorAll('table')) {
    const w = t.getBoundingClientRect().width;
    if (w <= width + 1) continue;
    let box = t.parentElement, scroller = null;
    while (box && box !== column) {
      const s = getComputedStyle(box).overflowX;
      if ((s === 'auto' || s === 'scroll') && box.getBoundingClientRect().width <= width + 1) {
        scroller = box; break;
      }
      box = box.parentElement;
    }
    const first = t.querySelector('tbody td, thead th');
    const sticky = first && getComputedStyle(first).position === 'sticky';
    if (!scroller || !sticky) {
      bad.push(`${Math.round(w)} px > ${Math.round(width)} px` +
               (scroller ? ' (first column not sticky)' : ' (no scroll container)') +
               `: ${(t.querySelector('th') || t).innerText.slice(0, 40)}`);
    }
    // a caption is as wide as its table: half of each line would scroll out of view
    if (t.querySelector('caption')) {
      bad.push(`caption inside a wide table: ${t.querySelector('caption').innerText.slice(0, 40)}`);
    }
  }
  return bad;
}"""


def condition_pages(site: Path) -> list[str]:
    out = [p for p in pages(site) if Path(p).stem.split("_", 1)[-1] in CONDITION_GROUPS]
    if not out:
        pytest.skip("no condition page in this build")
    return out


def reading_page(browser, site: Path, name: str):
    page, problems = open_page(browser, (site / name).as_uri())
    page.set_viewport_size(VIEWPORT)
    return page, problems


def test_summary_of_findings_is_on_the_first_screen_and_diagnostics_are_folded(browser, site):
    bayes_tables = 0
    for name in condition_pages(site):
        page, problems = reading_page(browser, site, name)
        # the Bayesian small cells are researchers' detail: their tables start folded
        bayes = page.locator("section#bayesian-estimates-for-small-cells table").all()
        assert not any(t.is_visible() for t in bayes), f"{name}: Bayesian cells not folded"
        bayes_tables += len(bayes)
        section = page.locator("section#summary-of-findings")
        assert section.count() == 1, f"{name}: no summary-of-findings section"
        table = section.locator("table").first
        box = table.bounding_box()
        assert box is not None and box["y"] < VIEWPORT["height"], (name, box)
        folds = page.locator("details.evidence-fold")
        assert folds.count() >= 3, f"{name}: {folds.count()} folded parts"
        assert not any(folds.evaluate_all("els => els.map(e => e.open)")), name
        # closed by default: what is folded is not shown until the toggle is clicked
        first = folds.first
        inside = first.locator(":scope > :not(summary)").first
        assert not inside.is_visible()
        first.locator("summary").click()
        assert inside.is_visible()
        assert problems == [], (name, problems)
        page.close()
    assert bayes_tables > 0, "no Bayesian small-cell table found on any condition page"


def test_every_table_fits_its_column_or_scrolls_with_its_first_column_fixed(browser, site):
    bad = {}
    for name in pages(site):
        page, _ = reading_page(browser, site, name)
        if page.locator("article.bd-article").count():
            found = page.evaluate(OVERFLOW)
            if found:
                bad[name] = found
        page.close()
    assert not bad, bad


def test_no_internal_identifier_or_float_count_reaches_a_reader(browser, site):
    found: dict[str, set[str]] = {}
    for name in pages(site):
        page, _ = reading_page(browser, site, name)
        text = page.evaluate(READER_TEXT, Path(name).stem in SHOW_CODE)
        hits = set(IDENTIFIER.findall(text)) | set(INTERNAL.findall(text))
        hits |= set(FLOAT_COUNT_TEXT.findall(text))
        for table in page.evaluate(TABLE_COLUMNS):
            for j, head in enumerate(table["heads"]):
                if COUNT_HEADER.match(head):
                    hits |= {
                        f"{head}: {row[j]}"
                        for row in table["rows"]
                        if j < len(row) and re.fullmatch(r"-?\d+\.\d+", row[j])
                    }
        if hits:
            found[name] = hits
        page.close()
    assert not found, found


def test_every_figure_has_alt_text_from_its_caption(browser, site):
    missing = {}
    for name in pages(site):
        page, _ = reading_page(browser, site, name)
        alts = page.locator("article img").evaluate_all(
            "els => els.map(e => [e.getAttribute('alt') || '', e.getAttribute('src')])"
        )
        bad = [
            src
            for alt, src in alts
            if len(alt) < 8 or re.search(r"\.(png|svg|jpe?g)\b|/|_", alt)  # a path, not words
        ]
        if bad:
            missing[name] = bad
        page.close()
    assert not missing, missing


@pytest.fixture(scope="module")
def served(site):
    """The site over HTTP on this machine (search excerpts are fetched, which file:// blocks)."""
    handler = partial(SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *a, **k: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_search_results_show_an_excerpt(browser, served):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(f"{served}/search.html?q=heterogeneity")
    results = page.locator("#search-results li")
    results.first.wait_for(timeout=15_000)
    excerpt = results.first.locator("p.context")
    excerpt.wait_for(timeout=15_000)
    assert "heterogeneity" in excerpt.inner_text().lower()
    page.close()
