"""Pure: is this text a plain whole number ("0"-"9" only)?

`str.isdigit()` alone says yes to "²" and "①", which `int()` then refuses; Zoom ids, durations and form
fields are ASCII digits, so every check that guards an `int()` asks here.
"""

from __future__ import annotations

from typing import Any


def is_digits(value: Any) -> bool:
    """True for a non-empty string of ASCII digits (other values are read as their `str`)."""
    text = value if isinstance(value, str) else str(value)
    return text.isascii() and text.isdigit()
