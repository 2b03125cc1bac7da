"""evidence build: executes notebooks, names the failing notebook and cell, writes the site."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evidence.site import build
from evidence.site.render import notebook_title

ROOT = Path(__file__).resolve().parents[1]
FAILING = """# %% [markdown]
# # A notebook that fails

# %% tags=["parameters"]
X = 1

# %%
y = X + 1

# %%
raise RuntimeError("boom")
"""


@pytest.fixture()
def repo(tmp_path):
    for folder in ("data", "notebooks"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    shutil.copytree(ROOT / "tests" / "reference", tmp_path / "tests" / "reference")
    return tmp_path


def test_one_notebook_builds_figures_tables_and_page(repo):
    messages = []
    steps = build.build(
        repo, only="90_methods_validation", params={"METHOD": "DL"}, progress=messages.append
    )
    out = repo / "builds" / "method-DL"  # a build with choices never writes the committed outputs
    assert not (repo / "results").exists() and not (repo / "site").exists()
    assert [s.notebook for s in steps] == ["90_methods_validation.py"]
    assert steps[0].title.startswith("Methods and validation")
    assert steps[0].html == out / "site" / "90_methods_validation.html"
    html = (out / "site" / "90_methods_validation.html").read_text()
    assert "injected by evidence build" in html
    assert "Choices of this build:" in html  # the page states the choices under its title
    assert html.index("Choices of this build:") < html.index("injected by evidence build")
    assert "DL (DerSimonian-Laird)" in html  # the injected parameter reached the kernel
    assert 'src="_images/' in html  # the figure, extracted by the site renderer
    assert "without encryption" not in html
    assert (out / "site" / "index.html").exists()  # one notebook still rebuilds the index
    table = (out / "results" / "validation_vs_metafor.csv").read_text().splitlines()
    assert table[0] == "method,fits,within 1e-6" and len(table) == 10
    assert all(line.endswith(",True") for line in table[1:])
    assert any(m.startswith("data: ") for m in messages)
    assert any("[1/1] 90_methods_validation.py" in m for m in messages)
    assert (
        "choices METHOD=DL -> outputs in builds/method-DL/ (committed outputs untouched)"
        in messages
    )
    assert messages[-1].endswith("open builds/method-DL/site/90_methods_validation.html")
    assert not list(out.glob(build._STAGING + "*"))


def test_failure_names_notebook_and_cell(repo):
    (repo / "notebooks" / "zz_fail.py").write_text(FAILING)
    with pytest.raises(build.BuildError, match=r"zz_fail\.py: cell 3 failed \('raise Runtime"):
        build.build(repo, only="zz_fail", progress=lambda m: None)


def test_unknown_notebook_and_missing_parameters_cell(repo):
    with pytest.raises(build.BuildError, match="no notebook named 'nope'"):
        build.build(repo, only="nope", progress=lambda m: None)
    (repo / "notebooks" / "zz_noparams.py").write_text("# %%\nx = 1\n")
    with pytest.raises(build.BuildError, match="no cell tagged 'parameters'"):
        build.build(repo, only="zz_noparams", params={"X": 2}, progress=lambda m: None)


def test_every_notebook_has_a_title_and_parameters_cell():
    import jupytext

    paths = build.notebook_paths(ROOT)
    assert len(paths) >= 10
    for path in paths:
        nb = jupytext.read(path)
        assert notebook_title(nb) != "untitled", path.name
        tags = [t for c in nb.cells for t in c.get("metadata", {}).get("tags", [])]
        assert "parameters" in tags, path.name


def test_overview_shows_every_saved_figure_inline(repo):
    """Each figure a notebook saves is also shown in its page (once)."""
    build.build(repo, only="00_overview", progress=lambda m: None)
    html = (repo / "site" / "00_overview.html").read_text()
    saved = sorted((repo / "figures").glob("*.png"))
    assert len(saved) >= 4
    assert html.count('src="_images/') == len(saved)


# ------------------------------------------------------------------ outputs change all or nothing

WRITER = """# %% [markdown]
# # Writer

# %% tags=["parameters"]
X = 1

# %%
import matplotlib.pyplot as plt
import pandas as pd

from evidence import review
from evidence.review.data import load

n = len(load(review.output_root() / "data").outcomes)
review.save_table(pd.DataFrame({{"rows": [n]}}), "{name}")
fig, ax = plt.subplots()
ax.set_title(f"{{n}} outcome rows")
review.save_plot(fig, "{name}")
"""

SLOW = """
# %%
import os, time
if os.environ.get("EVIDENCE_TEST_SLOW"):
    (review.output_root() / "slow-notebook-started").touch()
    time.sleep(120)
"""


@pytest.fixture()
def small_repo(tmp_path):
    """A repository with two quick notebooks; the second one sleeps when asked to."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "a_first.py").write_text(WRITER.format(name="first"))
    (tmp_path / "notebooks" / "b_second.py").write_text(WRITER.format(name="second") + SLOW)
    return tmp_path


def _outputs(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for folder in build.OUTPUTS
        for p in sorted((root / folder).rglob("*"))
        if p.is_file()
    }


def _drop_an_outcome_row(root: Path) -> None:
    """Drop the first data row of outcomes_reports.csv (one the reading log and the derived
    counts do not name, so the data stay valid)."""
    path = root / "data" / "outcomes_reports.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines[1].startswith("poulsen2014-pdt-cbt:")
    path.write_text("".join(lines[:1] + lines[2:]), encoding="utf-8")


def test_failed_notebook_leaves_every_output_unchanged(small_repo):
    build.build(small_repo, progress=lambda m: None)
    old = _outputs(small_repo)
    assert {"results/first.csv", "figures/second.svg", "site/index.html"} <= set(old)
    _drop_an_outcome_row(small_repo)  # the first notebook's outputs would change
    (small_repo / "notebooks" / "c_fail.py").write_text(FAILING)
    with pytest.raises(build.BuildError, match="c_fail.py: cell 3 failed"):
        build.build(small_repo, progress=lambda m: None)
    assert _outputs(small_repo) == old
    assert not list(small_repo.glob(build._STAGING + "*"))
    (small_repo / "notebooks" / "c_fail.py").unlink()
    build.build(small_repo, progress=lambda m: None)
    new = _outputs(small_repo)

    # the site names images by their content hash: the same files, images renamed as they changed
    def layout(files):
        return sorted("site/_images/*" if k.startswith("site/_images/") else k for k in files)

    assert layout(new) == layout(old) and new["results/first.csv"] != old["results/first.csv"]


@pytest.mark.parametrize("when", ["kernel starting", "cell running"])
def test_interrupted_build_leaves_each_file_old_or_new(small_repo, when):
    """SIGINT in the middle of a build: one line, non-zero exit, every file old or new."""
    build.build(small_repo, progress=lambda m: None)
    old = _outputs(small_repo)
    _drop_an_outcome_row(small_repo)
    env = dict(os.environ, EVIDENCE_ROOT=str(small_repo), EVIDENCE_TEST_SLOW="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "evidence", "build"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a shell's background job inherits SIGINT ignored; a user's terminal delivers it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    seen = []
    for line in proc.stdout:  # wait until the first notebook has written its (staged) outputs
        seen.append(line)
        if "a_first.py done in" in line:  # the second runs alongside it (two kernels at once)
            break
    if when == "cell running":
        marker = small_repo / "slow-notebook-started"
        deadline = time.monotonic() + 120  # a bound on waiting, not a timing assertion
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert marker.exists()
    (stage,) = small_repo.glob(build._STAGING + "*")
    staged = stage / "results" / "first.csv"
    assert staged.is_file() and staged.read_bytes() != old["results/first.csv"]
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (seen, out, err)
    assert err.strip().splitlines() == ["interrupted; committed outputs unchanged"], err
    assert "Traceback" not in err and "Traceback" not in out
    # nothing was swapped in: every committed file is the old version byte for byte (the
    # staged new version of results/first.csv, checked above, differs)
    assert _outputs(small_repo) == old
    assert not list(small_repo.glob(build._STAGING + "*"))


def test_choices_never_overwrite_the_committed_outputs(small_repo):
    with pytest.raises(build.BuildError, match="--out names the folder of the committed"):
        build.build(small_repo, params={"METHOD": "DL"}, out=small_repo, progress=print)
    out = small_repo / "elsewhere"
    build.build(small_repo, params={"METHOD": "DL", "TEST": "z"}, out=out, progress=print)
    assert (out / "results" / "first.csv").is_file() and not (small_repo / "results").exists()
    assert build.output_folder(small_repo, {"METHOD": "PM"}) == small_repo / "builds/method-PM"


def test_dead_kernel_is_a_build_error(small_repo):
    (small_repo / "notebooks" / "c_dies.py").write_text(
        '# %% [markdown]\n# # Dies\n\n# %% tags=["parameters"]\nX = 1\n\n'
        "# %%\nimport os\nos._exit(3)\n"
    )
    with pytest.raises(build.BuildError, match=r"c_dies\.py: the kernel failed: DeadKernelError"):
        build.build(small_repo, only="c_dies", progress=lambda m: None)
    assert not (small_repo / "results").exists()


PAIR = """# %% [markdown]
# # {name}

# %% tags=["parameters"]
X = 1

# %%
import os
import time
from pathlib import Path

root = Path(os.environ["EVIDENCE_ROOT"])
(root / "started-{name}").touch()
deadline = time.monotonic() + 60  # a bound on waiting, not a timing assertion
while not (root / "started-{other}").exists() and time.monotonic() < deadline:
    time.sleep(0.05)
assert (root / "started-{other}").exists(), "the other notebook never ran alongside this one"
"""


def test_two_notebooks_run_at_once(tmp_path):
    """Each notebook waits for the other to start: only concurrent execution lets both pass."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    (tmp_path / "notebooks").mkdir()
    for name, other in (("a", "b"), ("b", "a")):
        (tmp_path / "notebooks" / f"{name}.py").write_text(PAIR.format(name=name, other=other))
    done = build.execute_all(
        build.notebook_paths(tmp_path), {}, tmp_path, tmp_path, progress=lambda m: None, jobs=2
    )
    assert [path.name for path, _, _ in done] == ["a.py", "b.py"]


# ------------------------------------------------------------------ hard edges (issue 27)


def test_relative_out_is_resolved_against_the_working_directory(small_repo, tmp_path, monkeypatch):
    """``--out outrel`` writes to ``./outrel``, not under notebooks/ where the kernels run."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    build.build(small_repo, only="a_first", params={"METHOD": "DL"}, out="outrel", progress=print)
    assert (work / "outrel" / "results" / "first.csv").is_file()
    assert (work / "outrel" / "figures" / "first.svg").is_file()
    assert not (small_repo / "notebooks" / "outrel").exists()
    assert not list((work / "outrel").glob(build._STAGING + "*"))


@pytest.fixture
def terminal_sigint():
    """Python's own Ctrl-C handler, as in a terminal (a shell's background job starts with
    SIGINT ignored, and Python then installs none); the previous handler comes back after."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_interrupt_during_the_swap_completes_and_says_so(small_repo, monkeypatch, terminal_sigint):
    """Ctrl-C while the new outputs are moved in (or the staging folder is removed) is held
    back: the new outputs are complete, no staging folder is left, and the build says so."""
    swap, rmtree = build._swap_in, shutil.rmtree

    def interrupted_swap(stage, target):
        os.kill(os.getpid(), signal.SIGINT)  # arrives in the middle of moving outputs in
        swap(stage, target)

    def interrupted_rmtree(path, *args, **kwargs):
        if build._STAGING in str(path):
            os.kill(os.getpid(), signal.SIGINT)  # and while the staging folder is removed
        rmtree(path, *args, **kwargs)

    monkeypatch.setattr(build, "_swap_in", interrupted_swap)
    monkeypatch.setattr(build.shutil, "rmtree", interrupted_rmtree)
    messages = []
    build.build(small_repo, only="a_first", progress=messages.append)
    assert (small_repo / "results" / "first.csv").is_file()
    assert not list(small_repo.glob(build._STAGING + "*"))
    assert "interrupt received while the new outputs were moved in; they are complete" in messages
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_interrupt_while_the_command_line_starts_is_one_line(monkeypatch, capsys):
    """Building the parser imports the engine: Ctrl-C there is the same one-line message."""
    from evidence import cli

    def interrupted(parser):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.COMMANDS, "build", ("build", interrupted, cli.COMMANDS["build"][2]))
    assert cli.main(["build"]) == 130
    assert capsys.readouterr().err == "interrupted; committed outputs unchanged\n"


def test_kernels_analyse_the_data_of_the_repository_being_built(small_repo):
    """``load()`` with no path in a notebook reads the built repository's data/, not the installed
    package's: one data root for the build and every kernel (issue 27)."""
    (small_repo / "notebooks" / "a_first.py").write_text(
        WRITER.format(name="first").replace('load(review.output_root() / "data")', "load()")
    )
    _drop_an_outcome_row(small_repo)
    build.build(small_repo, only="a_first", progress=lambda m: None)
    from evidence.review.data import load

    rows = (small_repo / "results" / "first.csv").read_text().splitlines()[1]
    assert int(rows.split(",")[1]) == len(load(small_repo / "data").outcomes)
    assert int(rows.split(",")[1]) == len(load().outcomes) - 1


def test_a_notebook_run_by_hand_never_touches_the_committed_outputs():
    """Issue 26: a notebook run in a kernel outside `evidence build` (here with METHOD = "DL",
    as a researcher would set it in JupyterLab) writes to builds/<choices>/ and says so in its
    first output line; `git status` of figures/ and results/ is unchanged."""
    import jupytext
    from nbclient import NotebookClient

    def status() -> str:
        return subprocess.run(
            ["git", "status", "--porcelain", "--", "figures", "results"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    before = status()
    nb = jupytext.read(ROOT / "notebooks" / "90_methods_validation.py")
    build._inject_parameters(nb, {"METHOD": "DL"})
    env = {k: v for k, v in os.environ.items() if k not in ("EVIDENCE_OUTPUT", "EVIDENCE_ROOT")}
    env["MPLBACKEND"] = "Agg"
    out = ROOT / "builds" / "method-DL_test-z"
    shutil.rmtree(out, ignore_errors=True)
    try:
        client = NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": "notebooks"}}
        )
        client.execute(env=env, cwd=str(ROOT / "notebooks"))
        assert status() == before
        assert (out / "results" / "validation_vs_metafor.csv").is_file()
        cell = next(
            c
            for c in nb.cells
            if c.cell_type == "code"
            and any(o.get("output_type") == "stream" for o in c.get("outputs", []))
        )
        first = "".join(
            o["text"] for o in cell["outputs"] if o.get("output_type") == "stream"
        ).splitlines()
        assert first[0].startswith("Outputs of this run go to builds/method-DL_test-z/"), first
        assert first[1].startswith("Built under protocol version "), first
    finally:
        shutil.rmtree(out, ignore_errors=True)
