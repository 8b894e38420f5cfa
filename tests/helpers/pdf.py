"""Reading PDFs as a person would: poppler's pdftotext for the words, pdftoppm for a rendered page.

`make test` installs poppler-utils when they are missing (tests/ensure-debian-package.sh); without them these
helpers fail the test with one clear line (never a skip).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is missing: install poppler-utils (apt-get install poppler-utils, or make test)", pytrace=False
        )
    return path


def pdf_text(data: bytes, tmp_path: Path, name: str = "doc") -> str:
    """The PDF's text in reading order, lines joined as pdftotext -layout lays them out."""
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(data)
    result = subprocess.run(
        [_tool("pdftotext"), "-layout", str(source), "-"], capture_output=True, check=True, timeout=60
    )
    return result.stdout.decode("utf-8")


def words(text: str) -> str:
    """Text with runs of spaces made one, per line, so layout columns do not matter to assertions."""
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def render_page(data: bytes, tmp_path: Path, name: str = "page", page: int = 1) -> Image.Image:
    """Page `page` rendered at 50 dpi (pdftoppm), as an image; also kept as NAME-1.png for a person to look at."""
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(data)
    subprocess.run(
        [_tool("pdftoppm"), "-png", "-r", "50", "-f", str(page), "-l", str(page), str(source), str(tmp_path / name)],
        check=True,
        timeout=60,
    )
    found = sorted(tmp_path.glob(f"{name}-*.png"))
    assert found, "pdftoppm wrote no page"
    return Image.open(found[0]).convert("L")


def ink_rows(image: Image.Image, threshold: int = 128) -> int:
    """How many pixel rows hold dark ink (text): a blank or broken page has none."""
    width, height = image.size
    pixels = image.load()
    return sum(1 for y in range(height) if any(pixels[x, y] < threshold for x in range(0, width, 2)))
