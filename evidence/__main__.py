"""``python -m evidence``: a small example that pools a bundled reference dataset."""

from __future__ import annotations

import json
from pathlib import Path

import evidence as ev


def main() -> None:
    path = Path(__file__).resolve().parents[1] / "tests" / "reference" / "core.json"
    data = json.loads(path.read_text())["datasets"]["normand1999_smd"]
    print("Example: dat.normand1999 (metadat), standardized mean differences\n")
    print(ev.pool(data["yi"], data["vi"], method="REML", test="knha", measure="SMD").summary())


if __name__ == "__main__":
    main()
