"""tools/figure_review.py: before/after composites of the images a change alters, and only those."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fr():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import figure_review

        yield figure_review
    finally:
        sys.path.remove(str(ROOT / "tools"))


def _png(path: Path, square_at: int) -> None:
    """A 60 x 40 white image with a black 10-pixel square at x = ``square_at``."""
    a = np.full((40, 60), 255, np.uint8)
    a[15:25, square_at : square_at + 10] = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(a).save(path)


def _git(repo: Path, *args: str) -> None:
    cmd = ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args]
    subprocess.run(cmd, cwd=repo, check=True, capture_output=True)


def test_changed_added_and_removed_images_are_reviewed_unchanged_ones_are_not(fr, tmp_path):
    repo = tmp_path / "repo"
    for name, x in (("same", 5), ("moved", 5), ("removed", 5)):
        _png(repo / "figures" / f"{name}.png", x)
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "images")
    _png(repo / "figures" / "moved.png", 30)
    _png(repo / "figures" / "added.png", 5)
    (repo / "figures" / "removed.png").unlink()
    out = tmp_path / "review"
    rows = dict(fr.review("HEAD", out, ("figures",), root=repo))
    assert sorted(rows) == ["figures/added.png", "figures/moved.png", "figures/removed.png"]
    # two 100-pixel squares differ in full (0 vs 255) on a 2,400-pixel canvas
    assert rows["figures/moved.png"] == pytest.approx(255 * np.sqrt(200 / 2400))
    img = np.asarray(Image.open(out / "figures" / "moved.png").convert("RGB"))
    third = img[:, 2 * (fr.PANEL_WIDTH + 20) :]
    assert ((third[..., 0] > 200) & (third[..., 1] < 60)).any()  # the differing pixels in red
    assert not (out / "figures" / "same.png").exists()
    index = (out / "index.html").read_text()
    assert "3 images changed since HEAD" in index and "figures/moved.png" in index


def test_identical_images_have_zero_rms(fr, tmp_path):
    _png(tmp_path / "a.png", 5)
    png = (tmp_path / "a.png").read_bytes()
    _, rms = fr.composite(png, png, "HEAD")
    assert rms == 0.0
