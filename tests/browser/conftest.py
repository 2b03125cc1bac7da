"""Browser tests: the built site and JupyterLab in headless Chromium (Debian's, not Playwright's).

They need the site built by ``evidence build`` (``.ci/run`` runs them after the build) and
``/usr/bin/chromium``. Under ``CI`` a missing browser or site fails the run; on a developer's
machine they are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("EVIDENCE_SITE", ROOT / "site"))
ARTIFACTS = Path(os.environ.get("EVIDENCE_ARTIFACTS", ROOT / "artifacts"))
CHROMIUM = os.environ.get("EVIDENCE_CHROMIUM", "/usr/bin/chromium")
#: Chromium flags: headless, no sandbox (CI runs as root), and nothing that reaches the network
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def missing(reason: str):
    """Fail under CI (the browser tests must run there), skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; the browser tests must run in CI", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright for Python is not installed (pip install -e '.[site]')")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def site() -> Path:
    if not (SITE / "index.html").exists():
        missing(f"no built site at {SITE} (run `evidence build` first)")
    return SITE


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
