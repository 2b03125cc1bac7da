"""Command line: ``evidence <command>`` (console script ``evidence = "evidence.cli:main"``).

Commands are registered in :data:`COMMANDS` (name -> (help, add_arguments, run)); adding one is a
matter of writing two small functions and one dict entry.

``evidence validate [PATH]``
    Validate the bundled data (or a folder laid out like ``data/``), print trials by condition x
    comparator class and the exclusions; exit status 1 when the data are invalid.

``evidence build [--notebook NAME] [--method M] [--test T]``
    Validate the data, execute the notebooks, write figures and tables, render the site
    (see :mod:`evidence.build`); exit status 1 naming the notebook and cell on failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

__all__ = ["main", "COMMANDS"]


def _validate_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", nargs="?", default=None, help="folder laid out like data/ (default: bundled data)"
    )


def _validate(args: argparse.Namespace) -> int:
    from .data import DataValidationError, load

    try:
        dataset = load(args.path)
    except DataValidationError as exc:
        print(f"INVALID: {_problem_list(exc)}", file=sys.stderr)
        return 1
    print(dataset.summary())
    print("\nOK: data are valid")
    return 0


def _problem_list(exc) -> str:
    """A validation error as text: the problem itself, or a count and one line per problem."""
    if len(exc.problems) == 1:
        return str(exc)
    lines = "\n".join(f"  {p}" for p in exc.problems)
    return f"{len(exc.problems)} problems in the data:\n{lines}"


def _build_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notebook", default=None, help="build one notebook only (file stem)")
    parser.add_argument("--method", default=None, help="tau^2 estimator (e.g. REML, DL, PM)")
    parser.add_argument("--test", default=None, help="z, knha or adhoc")


def _build(args: argparse.Namespace) -> int:
    from .build import BuildError, build
    from .data import DataValidationError

    params = {k.upper(): v for k, v in (("method", args.method), ("test", args.test)) if v}
    try:
        build(only=args.notebook, params=params, progress=lambda m: print(m, flush=True))
    except (BuildError, DataValidationError) as exc:
        print(f"BUILD FAILED: {exc}", file=sys.stderr)
        return 1
    return 0


#: name -> (help text, function adding arguments, function running the command -> exit status)
COMMANDS: dict[
    str,
    tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]],
] = {
    "validate": ("validate curated trial data and print a summary", _validate_args, _validate),
    "build": (
        "validate the data, execute every notebook, write figures/, results/ and site/",
        _build_args,
        _build,
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``evidence`` command line; returns the exit status.

    Examples
    --------
    >>> main(["validate"]) == 0  # doctest: +ELLIPSIS
    data: ...
    True
    """
    parser = argparse.ArgumentParser(prog="evidence", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, add_arguments, _) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text))
    args = parser.parse_args(argv)
    return COMMANDS[args.command][2](args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
