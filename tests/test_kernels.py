"""Kernels forked from a warm server (evidence.site.kernels): same outputs as ordinary kernels,
one fresh process per notebook, and no process left behind."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import nbformat
import pytest

from evidence.site import build
from evidence.site.kernels import kernel_server

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="forked kernels need os.fork")

PROBE = [
    "import os, sys\nimport numpy as np\n"
    "import matplotlib\n"
    "print(os.getcwd().endswith('nbdir'), os.environ['EVIDENCE_OUTPUT'], os.environ['PROBE'])\n"
    "print(matplotlib.get_backend())\n"
    "print(sys.argv[0].endswith('ipykernel_launcher.py') or sys.argv[0] == 'ipykernel_launcher')",
    "import evidence\nprint(hasattr(evidence, '_leaked'))\nevidence._leaked = True",
    "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([0, 1])",
    "print(os.getpid(), np.random.random())",
]


def _run(tmp_path: Path, server: Path | None, monkeypatch) -> list[list[dict]]:
    from nbclient import NotebookClient

    monkeypatch.setenv("PROBE", "from the launcher's environment")
    (tmp_path / "nbdir").mkdir(exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in PROBE]
    env = build.kernel_env(tmp_path, tmp_path / "out")
    forked = {"kernel_manager_class": build._forked_manager(server)} if server else {}
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path / "nbdir")}},
        **forked,
    )
    client.execute(env=env)
    return [c.outputs for c in nb.cells]


def _text(outputs: list[dict]) -> str:
    return "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")


def test_a_forked_kernel_behaves_as_an_ordinary_one(tmp_path, monkeypatch):
    """Working directory, environment, inline backend, argv and figure output as in an
    ordinary kernel; a module attribute set in one kernel is absent in the next; every kernel
    is its own process with its own random state."""
    plain = _run(tmp_path, None, monkeypatch)
    env = build.kernel_env(tmp_path, tmp_path / "out")
    with kernel_server(env) as server:
        assert server is not None
        first = _run(tmp_path, server, monkeypatch)
        second = _run(tmp_path, server, monkeypatch)
    assert _text(first[0]) == _text(plain[0])
    assert _text(first[0]).splitlines() == [
        f"True {tmp_path / 'out'} from the launcher's environment",
        "module://matplotlib_inline.backend_inline",
        "True",
    ]
    assert _text(first[1]) == _text(second[1]) == "False\n"  # nothing leaks between kernels
    images = [o for o in first[2] if "image/png" in o.get("data", {})]
    assert len(images) == 1  # the inline backend shows the figure, as in an ordinary kernel
    pid1, rand1 = _text(first[3]).split()
    pid2, rand2 = _text(second[3]).split()
    assert pid1 != pid2 and rand1 != rand2


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie counts as gone (the server reaps its children)
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


def _wait_gone(pid: int, bound: float = 30.0) -> bool:
    deadline = time.monotonic() + bound  # a bound on waiting, not a timing assertion
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


def test_a_killed_launcher_takes_its_kernel_and_the_server_ends_with_the_block(tmp_path):
    """The build kills a kernel on Ctrl-C through its launcher (SIGKILL): the forked kernel
    must go too, and the server must not outlive the build."""
    from jupyter_client.manager import KernelManager

    env = build.kernel_env(tmp_path, tmp_path)
    with kernel_server(env) as server:
        spec = build._forked_manager(server).kernel_spec.fget(None)
        km = KernelManager(kernel_name="python3")
        km._kernel_spec = spec
        km.start_kernel(env=env)
        client = km.client()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        out: list[str] = []

        def hook(msg):
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])

        code = "import os; print(os.getpid(), os.getppid())"
        reply = client.execute_interactive(code, output_hook=hook, timeout=60)
        assert reply["content"]["status"] == "ok"
        client.stop_channels()
        launcher = km.provisioner.pid
        kernel, server_pid = map(int, "".join(out).split())
        assert kernel != launcher and _alive(kernel) and _alive(server_pid)
        os.kill(launcher, signal.SIGKILL)
        assert _wait_gone(kernel), "the forked kernel outlived its launcher"
        km.cleanup_resources()
    assert _wait_gone(server_pid), "the kernel server outlived the build"
