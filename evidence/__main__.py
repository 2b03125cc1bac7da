"""``python -m evidence``: the same command line as ``evidence`` (see :mod:`evidence.cli`)."""

from __future__ import annotations

import sys

from evidence.cli import main

if __name__ == "__main__":
    sys.exit(main())
