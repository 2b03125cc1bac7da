"""The package's import graph has no cycle (issue 11).

Every ``import``/``from ... import`` of an ``evidence`` module is an edge, wherever it stands:
module level or inside a function (a lazy import is still a dependency). The package's
``evidence/__init__.py`` is the composition root and may import anything; no module imports it
back. A subpackage (``evidence.plots``) is a node of its own: importing it runs its
``__init__``. The test parses the source, so it needs no import of the package and cannot be
fooled by import order.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "evidence"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _targets(node: ast.AST, name: str, is_pkg: bool, known: set[str]) -> list[str]:
    """The evidence modules an import statement of module ``name`` refers to."""
    out = []
    if isinstance(node, ast.Import):
        out = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = name.split(".") if is_pkg else name.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            mod = ".".join(base + ([node.module] if node.module else []))
        else:
            mod = node.module or ""
        subs = [f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in known]
        out = subs or [mod]
    return [m for m in out if m in known]


def import_graph() -> dict[str, set[str]]:
    """Module -> the evidence modules it imports (the root ``evidence/__init__`` left out)."""
    mods = _modules()
    known = set(mods)
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"
        if name == "evidence":
            continue
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                edges.update(_targets(node, name, is_pkg, known))
        graph[name] = {e for e in edges if e not in (name, "evidence")}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph (as a path that returns to its start), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m) :] + [m]
            if m not in state and (found := visit(m)):
                return found
        state[n] = 2
        stack.pop()
        return None

    for n in sorted(graph):
        if n not in state and (found := visit(n)):
            return found
    return None


def test_the_package_import_graph_has_no_cycle():
    cycle = _cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle():
    """The check can fail: a graph with a loop is reported."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_lazy_imports():
    """Imports inside functions count: results -> pooling, e.g., would be found."""
    graph = import_graph()
    assert "evidence.meta.pooling" in graph["evidence.meta.dependence"]
    assert "evidence.meta.results" in graph["evidence.meta.pooling.fit"]
    assert any("evidence.plots" in t for t in graph["evidence.meta.subgroups"])  # a lazy import


#: The wings of the package (issue 20) and what each may import. The dependency runs one way:
#: the engine knows nothing of this review or the site; the review uses the engine and the
#: figures, never the site; the site uses everything. ``evidence.io`` (byte-stable files) is
#: shared by every wing and imports no wing.
WINGS = {
    "evidence.meta": {"evidence.meta", "evidence.plots", "evidence.io"},
    "evidence.plots": {"evidence.plots", "evidence.meta", "evidence.io"},
    "evidence.review": {"evidence.review", "evidence.meta", "evidence.plots", "evidence.io"},
    "evidence.site": {
        "evidence.site",
        "evidence.review",
        "evidence.meta",
        "evidence.plots",
        "evidence.io",
    },
    "evidence.io": {"evidence.io"},
}

#: The public face: the only modules at the top level of ``evidence/``.
TOP_LEVEL = {"__init__", "__main__", "cli", "io"}


def _wing(module: str) -> str | None:
    return next((w for w in WINGS if module == w or module.startswith(w + ".")), None)


def wing_violations(graph: dict[str, set[str]]) -> list[str]:
    """Edges that run against the wings' one-way dependency (``a -> b``)."""
    bad = []
    for a, targets in sorted(graph.items()):
        wing = _wing(a)
        if wing is None:
            continue
        bad += [f"{a} -> {b}" for b in sorted(targets) if _wing(b) not in WINGS[wing] | {None}]
    return bad


def test_the_wings_depend_one_way():
    assert wing_violations(import_graph()) == []


def test_the_wing_check_can_fail():
    """An engine module importing a review or site module is reported, and so is the review
    importing the site."""
    graph = {
        "evidence.meta.pooling": {"evidence.review.data"},
        "evidence.meta.nma": {"evidence.site.build"},
        "evidence.review.pages": {"evidence.site.render", "evidence.meta.pooling"},
        "evidence.site.build": {"evidence.review.data"},
    }
    assert wing_violations(graph) == [
        "evidence.meta.nma -> evidence.site.build",
        "evidence.meta.pooling -> evidence.review.data",
        "evidence.review.pages -> evidence.site.render",
    ]


def test_every_module_belongs_to_a_wing_or_the_public_face():
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top <= TOP_LEVEL, top - TOP_LEVEL
    assert all(_wing(m) or m in ("evidence.cli", "evidence.__main__") for m in import_graph())


def test_no_module_is_over_600_lines():
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 600
    }
    assert long == {}


def test_old_module_paths_warn_with_the_new_one():
    """``ev.nma`` and the other pre-wing paths still work for one release and name the new path."""
    import warnings

    import evidence as ev
    from evidence.meta import nma
    from evidence.review import data, pages

    for old, new in (("nma", nma), ("data", data), ("pages", pages)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert getattr(ev, old) is new
        assert [w.category for w in caught] == [DeprecationWarning]
        assert new.__name__ in str(caught[0].message)


def test_the_public_api_is_unchanged_and_listed():
    import evidence as ev

    names = ("pool", "pool_binary", "network", "network_from_arms", "bayes_pool", "forest_plot")
    assert all(callable(getattr(ev, n)) for n in names)
    assert {"bayes_pool", "network", "forest_plot", "meta_regression"} <= set(dir(ev))
    assert ev.network.__module__.startswith("evidence.meta.")
    assert ev.forest_plot.__module__.startswith("evidence.plots.")
