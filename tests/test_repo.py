"""Repository contracts: the README's commands and .ci/run stay in sync."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section, flags=re.S)


def test_readme_has_exactly_two_commands_and_ci_runs_the_test_one():
    commands = _commands()
    assert len(commands) == 2
    assert "pytest" in commands[1]
    assert commands[1].strip() in (ROOT / ".ci" / "run").read_text()


def test_licence_and_citation_exist():
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert "cff-version" in (ROOT / "CITATION.cff").read_text()
    assert "MIT" in (ROOT / "README.md").read_text()


def test_readme_python_examples_run_as_doctests():
    """Every ``>>>`` example in the README gives the output it shows (issue 26)."""
    import doctest

    text = (ROOT / "README.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.+?)```", text, flags=re.S) if ">>>" in b]
    assert blocks, "the README has no doctest example"
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for i, block in enumerate(blocks):
        test = parser.get_doctest(block, {}, f"README block {i}", "README.md", 0)
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


def test_readme_counts_are_the_data():
    """The README's counts of trials and of covered head-to-head trials are computed values."""
    import evidence.review.data
    from evidence.review.coverage import coverage_sentence, coverage_table

    text = " ".join((ROOT / "README.md").read_text().split())
    ds = evidence.review.data.load()
    held = re.search(r"holds (\d+ of the \d+) head-to-head", coverage_sentence(coverage_table(ds)))
    assert held and f"{held.group(1)} known head-to-head PDT vs CBT trials" in text
    n, c, rows = len(ds.trials), ds.trials["condition"].nunique(), len(ds.outcomes)
    assert f"hold {n} randomized trials of PDT in {c} conditions ({rows} outcome rows)" in text
