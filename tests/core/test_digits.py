"""Plain whole numbers: what every `int()` of a Zoom id, duration or form field is guarded by."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoombot.core.digits import is_digits


@pytest.mark.parametrize(
    "value,expected",
    [
        ("0", True),
        ("81234567890", True),
        (120, True),
        ("", False),
        ("²", False),
        ("①", False),
        ("٣", False),
        ("-5", False),
        ("1.5", False),
        (" 7", False),
        (None, False),
        (-3, False),
    ],
)
def test_only_ascii_digits_are_digits(value, expected):
    assert is_digits(value) is expected


@given(st.text())
def test_what_passes_is_read_by_int_exactly(text):
    if is_digits(text):
        assert str(int(text)).lstrip("0") == text.lstrip("0")
