"""Before/after review of the committed images: what a change does to every figure, side by side.

For every PNG under ``figures/`` and ``tests/baseline/`` (or the paths given) whose bytes differ
between a git revision (``--base``) and the working tree, writes ``<out>/<path>.png``: the image
at the base revision, the image now, and the pixels that differ (red on a pale copy of the new
image), each panel headed by its name; and ``<out>/index.html`` listing every changed image with
its RMS difference (0-255 grey levels, on the common canvas). Unchanged images are not written.

Use it before committing regenerated images (``EVIDENCE_UPDATE_BASELINES=1 pytest
tests/test_plotting.py`` or ``evidence build``) and look at every panel; ``.ci/run`` writes the
review of everything changed since the revision in ``tools/figure_review.base`` (the images last
reviewed) to ``artifacts/figure-review/``, the CI artifact a reviewer opens.

Usage::

    python tools/figure_review.py [--base REV] [--out DIR] [PATH ...]

Pillow (a dependency of matplotlib) does the image work; nothing here is part of the package.
"""

from __future__ import annotations

import argparse
import html
import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
PATHS = ("figures", "tests/baseline")
PANEL_WIDTH = 900  # pixels of each panel in the composite
HEAD_PX = 44  # height of a panel's heading


def _git(root: Path, *args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True).stdout


def changed(
    base: str, paths: tuple[str, ...], root: Path = ROOT
) -> Iterator[tuple[str, bytes | None, bytes | None]]:
    """``(path, bytes at base, bytes now)`` of every PNG that differs; None where it is absent."""
    listed = _git(root, "ls-tree", "-r", "--name-only", base, "--", *paths).decode().split("\n")
    before = {n for n in listed if n.endswith(".png")}
    now = {p.relative_to(root).as_posix() for d in paths for p in (root / d).rglob("*.png")}
    for name in sorted(before | now):
        old = _git(root, "show", f"{base}:{name}") if name in before else None
        new = (root / name).read_bytes() if name in now else None
        if old != new:
            yield name, old, new


def _grey(png: bytes | None, size: tuple[int, int]) -> np.ndarray:
    """The image on a white canvas of ``size`` as grey levels (an absent image is white)."""
    canvas = Image.new("L", size, 255)
    if png is not None:
        canvas.paste(Image.open(io.BytesIO(png)).convert("L"), (0, 0))
    return np.asarray(canvas, dtype=float)


def _panel(img: Image.Image, title: str) -> Image.Image:
    """``img`` scaled to PANEL_WIDTH under a heading."""
    img = img.convert("RGB")
    h = max(1, round(img.height * PANEL_WIDTH / img.width))
    out = Image.new("RGB", (PANEL_WIDTH, h + HEAD_PX), "white")
    out.paste(img.resize((PANEL_WIDTH, h), Image.Resampling.LANCZOS), (0, HEAD_PX))
    ImageDraw.Draw(out).text((8, 8), title, fill="black", font=ImageFont.load_default(size=24))
    return out


def composite(old: bytes | None, new: bytes | None, base: str) -> tuple[Image.Image, float]:
    """Before | after | difference, and the RMS difference in grey levels."""
    sizes = [Image.open(io.BytesIO(b)).size for b in (old, new) if b is not None]
    size = (max(s[0] for s in sizes), max(s[1] for s in sizes))
    a, b = _grey(old, size), _grey(new, size)
    rms = float(np.sqrt(np.mean((a - b) ** 2)))
    diff = np.repeat((255 - (255 - b) * 0.25)[..., None], 3, axis=2)  # pale copy of "after"
    diff[np.abs(a - b) > 8] = (220, 30, 30)
    titles = (
        f"before ({base})" if old else "before: none",
        "after (working tree)" if new else "after: none",
        f"differing pixels (RMS {rms:.2f})",
    )
    panels = [
        _panel(Image.fromarray(x.astype(np.uint8)), t)
        for x, t in zip((a, b, diff), titles, strict=True)
    ]
    out = Image.new("RGB", (3 * PANEL_WIDTH + 40, max(p.height for p in panels)), "white")
    for i, p in enumerate(panels):
        out.paste(p, (i * (PANEL_WIDTH + 20), 0))
    return out, rms


def review(
    base: str, out: Path, paths: tuple[str, ...] = PATHS, root: Path = ROOT
) -> list[tuple[str, float]]:
    """Write the composites and ``index.html``; returns ``(path, rms)`` of the changed images."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, old, new in changed(base, paths, root):
        img, rms = composite(old, new, base)
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        img.save(target, optimize=True)
        rows.append((name, rms))
    items = "\n".join(
        f'<li><a href="{html.escape(n)}">{html.escape(n)}</a> RMS {r:.2f}</li>' for n, r in rows
    )
    (out / "index.html").write_text(
        f"<!doctype html><title>Images changed since {html.escape(base)}</title>"
        f"<h1>{len(rows)} images changed since {html.escape(base)}</h1><ul>\n{items}\n</ul>\n"
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", default="HEAD", help="revision to compare with (default HEAD)")
    ap.add_argument("--out", type=Path, default=ROOT / "artifacts" / "figure-review")
    ap.add_argument("paths", nargs="*", default=list(PATHS))
    args = ap.parse_args(argv)
    try:
        _git(ROOT, "rev-parse", "--verify", f"{args.base}^{{commit}}")
    except subprocess.CalledProcessError:
        print(f"figure review: revision {args.base!r} is not in this clone", file=sys.stderr)
        return 2
    rows = review(args.base, args.out, tuple(args.paths))
    for name, rms in rows:
        print(f"changed: {name} (RMS {rms:.2f})")
    print(f"{len(rows)} images changed since {args.base}; review: {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
