"""The built site in headless Chromium: every page loads offline with no console error and every
image loads; the sidebar, previous/next and home links reach every page and back; code is
hidden behind a toggle while figures and tables stay visible; table headers link to glossary
entries that exist; search works. Screenshots of the landing page and a condition page go to
``artifacts/``."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from evidence.review.tables import GLOSSARY

CONDITION_PAGE = "01_depression.html"
#: Text that must never reach a reader: build paths, Python reprs, tracebacks.
LEAKS = re.compile(
    r"/work/|/tmp/|/home/|site-packages|np\.float64|Traceback|<evidence\.|object at 0x"
    r"|\{'[a-z_]+': |DataFrame\(|dtype: "
)


#: The text a reader sees in prose and outputs (code, shown or collapsed, may name anything).
READER_TEXT = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('.cell_input, script, style').forEach(e => e.remove());
  return body.textContent;
}"""


def pages(site: Path) -> list[str]:
    return sorted(p.name for p in site.glob("*.html"))


def open_page(browser, url: str):
    """A new page that records console errors, page errors and any request off this machine."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))

    def offline(route):
        if urlsplit(route.request.url).scheme in ("file", "data", "blob", "about"):
            route.continue_()
        else:
            problems.append(f"network request: {route.request.url}")
            route.abort()

    page.route("**/*", offline)
    page.goto(url)
    page.wait_for_load_state("load")
    return page, problems


def broken_images(page) -> list[str]:
    return page.eval_on_selector_all(
        "img", "els => els.filter(e => !(e.complete && e.naturalWidth > 0)).map(e => e.src)"
    )


def name_of(url: str) -> str:
    return Path(urlsplit(url).path).name


def test_every_page_loads_offline_with_no_console_error_and_every_image(browser, site):
    found = pages(site)
    assert {"index.html", "glossary.html", CONDITION_PAGE} <= set(found)
    images = 0
    for name in found:
        page, problems = open_page(browser, (site / name).as_uri())
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        assert broken_images(page) == [], name
        images += page.locator("img").count()
        text = page.evaluate(READER_TEXT)
        assert not LEAKS.findall(text), f"{name}: {LEAKS.findall(text)[:5]}"
        assert problems == [], f"{name}: {problems}"
        # every table is formatted for reading: no raw pandas frame with its row index
        assert page.locator("table.dataframe").count() == 0, name
        page.close()
    assert images >= 10  # figures are images, not lost on the way


def test_sidebar_reaches_every_page_and_home_leads_back(browser, site):
    page, problems = open_page(browser, (site / "index.html").as_uri())
    links = page.locator("nav.bd-docs-nav a.reference")
    targets = [name_of(h) for h in links.evaluate_all("els => els.map(e => e.href)")]
    content = {n for n in pages(site) if n not in ("index.html", "genindex.html", "search.html")}
    assert content <= set(targets) | {"index.html"}, content - set(targets)
    for target in (t for t in targets if t != "index.html"):
        page.locator(f'nav.bd-docs-nav a.reference[href="{target}"]').first.click()
        page.wait_for_load_state("load")
        assert name_of(page.url) == target
        assert page.locator("h1").count() >= 1
        page.locator("a.navbar-brand").first.click()  # the site title: back to the landing page
        page.wait_for_load_state("load")
        assert name_of(page.url) == "index.html"
    assert problems == []


def test_next_links_walk_the_sidebar_order(browser, site):
    page, problems = open_page(browser, (site / "index.html").as_uri())
    order = [
        name_of(h)
        for h in page.locator("nav.bd-docs-nav a.reference").evaluate_all(
            "els => els.map(e => e.href)"
        )
    ]
    walked = []
    while page.locator("a.right-next").count():
        page.locator("a.right-next").first.click()
        page.wait_for_load_state("load")
        walked.append(name_of(page.url))
        assert page.locator("a.left-prev").count() == 1  # and a way back
        assert len(walked) <= len(order) + 1
    assert walked == [n for n in order if n != "index.html"]
    assert problems == []


def test_landing_page_answers_first_and_links_every_condition(browser, site, artifacts):
    page, problems = open_page(browser, (site / "index.html").as_uri())
    table = page.locator("table.landing-table")
    assert table.count() == 1
    headers = table.locator("th").all_inner_texts()
    assert headers[:3] == ["Condition", "PDT vs CBT", "PDT vs CBT, network"] and len(headers) == 5
    assert "trial" in table.inner_text()
    # small cells carry their Bayesian estimate, visible as a line of its own
    bayes = table.locator("span.bayes")
    assert bayes.count() > 0 and bayes.first.is_visible()
    assert bayes.first.inner_text().startswith("Bayesian ")
    # the sidebar keeps the equivalence page out of the conditions
    captions = page.locator("nav.bd-docs-nav p.caption").all_inner_texts()
    assert [c.strip() for c in captions] == [
        "Overview",
        "Conditions",
        "Across conditions",
        "Methods and reference",
    ]
    links = table.locator("a").evaluate_all("els => els.map(e => e.href)")
    assert links and all((site / name_of(h)).exists() for h in links if "glossary" not in h)
    figure = page.locator("figure img").first
    assert figure.is_visible()
    # the answer (the table) comes before the figure and the rest of the page
    table_top = table.bounding_box()["y"]
    assert table_top < figure.bounding_box()["y"]
    assert table_top < 900  # on the first screen
    page.screenshot(path=str(artifacts / "landing.png"), full_page=True)
    condition, problems2 = open_page(browser, (site / CONDITION_PAGE).as_uri())
    condition.screenshot(path=str(artifacts / "condition_depression.png"), full_page=True)
    assert problems == [] and problems2 == []


def test_code_is_hidden_behind_a_toggle_figures_and_tables_stay_visible(browser, site):
    page, problems = open_page(browser, (site / CONDITION_PAGE).as_uri())
    hidden = page.locator("div.cell.tag_hide-input")
    assert hidden.count() >= 5
    first = hidden.first
    code = first.locator("div.cell_input")
    assert not code.is_visible()
    first.locator("summary").first.click()
    assert code.is_visible()
    assert page.locator("div.cell_output img").first.is_visible()
    tables = page.locator("table.evidence-table")
    assert tables.count() >= 3 and tables.first.is_visible()
    # tables are formatted for reading: no pandas index column, no raw NaN
    assert page.locator("table.dataframe").count() == 0
    assert "NaN" not in tables.first.inner_text()
    assert problems == []


def test_table_terms_link_to_glossary_entries(browser, site):
    glossary, problems = open_page(browser, (site / "glossary.html").as_uri())
    ids = set(glossary.locator("[id]").evaluate_all("els => els.map(e => e.id)"))
    assert set(GLOSSARY) <= ids, set(GLOSSARY) - ids
    text = glossary.inner_text("body").lower().replace("\u2019", "'")  # smart quotes
    for term in ("tau", "I²", "prediction interval", "Knapp-Hartung", "Hedges' g", "rstudent"):
        assert term.lower() in text
    linked = set()
    for name in pages(site):
        page, _ = open_page(browser, (site / name).as_uri())
        hrefs = page.locator('a[href*="glossary.html#"]').evaluate_all(
            "els => els.map(e => e.getAttribute('href'))"
        )
        linked |= {h.split("#", 1)[1] for h in hrefs}
        page.close()
    assert {"tau2", "i2", "prediction-interval", "rstudent", "cooks-distance"} <= linked
    assert linked <= ids, linked - ids
    assert problems == []


@pytest.mark.parametrize("term", ["heterogeneity", "Knapp"])
def test_search_finds_pages(browser, site, term):
    page, problems = open_page(browser, (site / "search.html").as_uri() + f"?q={term}")
    results = page.locator("#search-results li")
    results.first.wait_for(timeout=15_000)
    assert results.count() >= 1
    assert problems == []


def test_claims_page_is_in_the_sidebar_and_linked_under_the_landing_table(browser, site):
    assert (site / "09_claims.html").exists()
    page, problems = open_page(browser, (site / "index.html").as_uri())
    nav = page.locator('nav.bd-docs-nav a.reference[href="09_claims.html"]')
    assert nav.count() == 1
    caption = nav.locator("xpath=ancestor::ul[1]/preceding-sibling::p[1]").inner_text()
    assert caption.strip() == "Across conditions"
    link = page.get_by_role("link", name="See the claims checked one by one")
    assert name_of(link.get_attribute("href")) == "09_claims.html"
    table_y = page.locator("table.landing-table").bounding_box()["y"]
    assert link.bounding_box()["y"] > table_y  # under the first table
    assert "Is PDT as good as CBT?" in link.locator("xpath=..").inner_text()
    link.click()
    page.wait_for_load_state("load")
    assert page.locator("h1").first.inner_text().startswith("What is claimed")
    assert page.locator("table.evidence-table").count() >= 4
    assert problems == []
