"""Command line: ``evidence <command>`` (console script ``evidence = "evidence.cli:main"``).

Commands are registered in :data:`COMMANDS` (name -> (help, add_arguments, run)); adding one is a
matter of writing two small functions and one dict entry.

``evidence validate [PATH]``
    Validate the bundled data (or a folder laid out like ``data/``), print trials by condition x
    comparator class and the exclusions; exit status 1 when the data are invalid.

``evidence build [--notebook NAME] [--method M] [--test T] [--out DIR]``
    Validate the data, execute the notebooks, write figures and tables, render the site
    (see :mod:`evidence.site.build`) of the repository this package is in, or of the one named by
    the ``EVIDENCE_ROOT`` environment variable. With ``--method`` or ``--test`` the outputs go to
    ``builds/<choices>/`` (or ``--out``), never over the committed ones. On failure one
    "BUILD FAILED" block names the problems (exit status 1); on Ctrl-C one line says the
    committed outputs are unchanged (exit status 130).

``python -m evidence`` is the same command line. Usage errors are one line (exit status 2).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

__all__ = ["main", "COMMANDS"]


def _validate_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", nargs="?", default=None, help="folder laid out like data/ (default: bundled data)"
    )


def _validate(args: argparse.Namespace) -> int:
    from evidence.review.data import DataValidationError, load
    from evidence.review.network_maps import validate_network

    try:
        dataset = load(args.path)
        network = validate_network(args.path)
    except DataValidationError as exc:
        print(f"INVALID: {_problem_list(exc)}", file=sys.stderr)
        return 1
    print(dataset.summary())
    print(f"network: {len(network)} comparison rows valid (data/network/)")
    print("\nOK: data are valid")
    return 0


def _problem_list(exc) -> str:
    """A validation error as text: the problem itself, or a count and one line per problem."""
    if len(exc.problems) == 1:
        return str(exc)
    lines = "\n".join(f"  {p}" for p in exc.problems)
    return f"{len(exc.problems)} problems in the data:\n{lines}"


def _build_args(parser: argparse.ArgumentParser) -> None:
    from evidence.meta.pooling import METHODS, TESTS

    parser.add_argument("--notebook", default=None, help="build one notebook only (file stem)")
    parser.add_argument(
        "--method", default=None, choices=METHODS, help="tau^2 estimator (default: REML)"
    )
    parser.add_argument("--test", default=None, choices=TESTS, help="default: knha")
    parser.add_argument(
        "--out",
        default=None,
        help="output folder for a build with choices (default: builds/<choices>/)",
    )


def _failed(lines: str) -> None:
    body = "\n".join(f"  {line}" for line in lines.splitlines())
    print(f"BUILD FAILED\n{body}\ncommitted outputs unchanged", file=sys.stderr)


def _build(args: argparse.Namespace) -> int:
    from evidence.review.data import DataValidationError
    from evidence.site.build import ROOT, BuildError, build

    params = {k.upper(): v for k, v in (("method", args.method), ("test", args.test)) if v}
    try:
        build(
            Path(os.environ.get("EVIDENCE_ROOT") or ROOT),
            only=args.notebook,
            params=params,
            out=args.out,
            progress=lambda m: print(m, flush=True),
        )
    except DataValidationError as exc:
        _failed(_problem_list(exc))
        return 1
    except BuildError as exc:
        _failed(str(exc))
        return 1
    except Exception as exc:  # an internal error: one block, the traceback only on request
        if os.environ.get("EVIDENCE_TRACEBACK"):
            raise
        _failed(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "(set EVIDENCE_TRACEBACK=1 to see the traceback)"
        )
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
    try:  # from the first moment: building the parser already imports the engine
        parser = _Parser(prog="evidence", description=__doc__.splitlines()[0])
        sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
        for name, (help_text, add_arguments, _) in COMMANDS.items():
            add_arguments(sub.add_parser(name, help=help_text))
        args = parser.parse_args(argv)
        return COMMANDS[args.command][2](args)
    except KeyboardInterrupt:
        print("interrupted; committed outputs unchanged", file=sys.stderr)
        return 130


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``evidence build: error: ...``) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
