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
