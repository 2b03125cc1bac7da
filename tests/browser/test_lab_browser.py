"""JupyterLab opens ``notebooks/*.py`` as notebooks by default: the repository ships jupytext's
default-viewer setting (``.jupyter/labconfig/default_setting_overrides.json``, found through
``JUPYTER_CONFIG_PATH`` as the README's lab command sets it). The test starts ``jupyter lab`` on
a loopback port with a token and isolated user settings, opens one notebook source in headless
Chromium and finds notebook cells, not a text editor."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import ROOT, missing

NOTEBOOK = "notebooks/03_ptsd.py"
START_TIMEOUT = 120  # seconds: JupyterLab starts slowly on a loaded 2-core machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    try:
        import jupyterlab  # noqa: F401
        import jupytext  # noqa: F401
    except ImportError:
        missing("JupyterLab or jupytext is not installed (pip install -e '.[lab]')")
    home = tmp_path_factory.mktemp("lab-home")
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_PATH": str(ROOT / ".jupyter"),  # the repository's settings
        "JUPYTER_CONFIG_DIR": str(home / "config"),  # and nothing from the user's
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTER_DATA_DIR": str(home / "data"),
    }
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.allow_root=True",  # CI runs as root
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={ROOT}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    log = (home / "lab.log").open("w")
    proc = subprocess.Popen(
        cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5) as r:
                    json.load(r)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not start:\n{(home / 'lab.log').read_text()}")
                time.sleep(1)
        yield url, token
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the server and the kernels it started
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


def test_lab_opens_a_notebook_source_as_a_notebook(browser, lab, artifacts):
    url, token = lab
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{url}/lab/tree/{NOTEBOOK}?token={token}", timeout=START_TIMEOUT * 1000)
    # cells are attached progressively (the notebook opens with one markdown cell and four code
    # cells): wait until two of each kind are there; opened as text, there are none
    page.wait_for_function(
        "document.querySelectorAll('.jp-NotebookPanel .jp-MarkdownCell').length >= 2"
        " && document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell').length >= 2",
        timeout=START_TIMEOUT * 1000,
    )
    title = page.locator(".jp-NotebookPanel .jp-MarkdownCell h1", has_text="Post-traumatic")
    title.first.wait_for(timeout=START_TIMEOUT * 1000)  # markdown cells render as markdown
    assert page.locator(".jp-FileEditor").count() == 0  # not opened as text
    page.screenshot(path=str(artifacts / "jupyterlab_notebook.png"))
    page.close()


def test_lab_setting_is_shipped_with_the_repository():
    path = Path(ROOT / ".jupyter" / "labconfig" / "default_setting_overrides.json")
    viewers = json.loads(path.read_text())["@jupyterlab/docmanager-extension:plugin"]
    assert viewers["defaultViewers"]["python"] == "Jupytext Notebook"
