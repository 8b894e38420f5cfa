"""Counted nouns agree with their number, in Python and in every template that counts something."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zoombot.core.plurals import noun, plural

ROOT = Path(__file__).resolve().parents[2] / "zoombot"


@pytest.mark.parametrize(
    "count, expected", [(0, "0 days"), (1, "1 day"), (2, "2 days"), (-1, "-1 day"), (14, "14 days")]
)
def test_regular_nouns(count, expected):
    assert plural(count, "day") == expected


def test_irregular_nouns_and_the_bare_noun():
    assert plural(1, "entry", "entries") == "1 entry" and plural(3, "entry", "entries") == "3 entries"
    assert noun(1, "has", "have") == "has" and noun(2, "has", "have") == "have"


def test_no_template_or_message_says_s_in_parentheses():
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*")
        if path.suffix in (".html", ".txt") and re.search(r"\w\((s|es)\)", path.read_text())
    ]
    assert offenders == []
