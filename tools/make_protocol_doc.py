"""Write docs/protocol.md from data/protocol.toml (tests/test_protocol.py checks they agree).

Usage: python tools/make_protocol_doc.py
"""

from __future__ import annotations

from pathlib import Path

from evidence.review.protocol import load_protocol, protocol_markdown

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    (ROOT / "docs" / "protocol.md").write_text(protocol_markdown(load_protocol(ROOT / "data")))
