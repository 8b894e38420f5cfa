"""Pure: keeping personal data and secrets out of text that leaves zoombot's hands (logs, stored error
messages, stripped events). One recognition of an e-mail address for all of them, generous on purpose:
masking a little too much costs nothing, letting one address through breaks the confidentiality rule."""

from __future__ import annotations

import re
from collections.abc import Iterable

#: Anything shaped like an e-mail address (no dot required: `root@localhost` is one too).
EMAIL = re.compile(r"[^\s<>\"'(),;:@\[\]]+@[^\s<>\"'(),;:@\[\]]+")


def mask_emails(text: str, mark: str) -> str:
    return EMAIL.sub(mark, text)


def mask_values(text: str, values: Iterable[str], mark: str) -> str:
    """`text` with each of `values` (secrets, names) replaced, longest first so no part of one survives."""
    for value in sorted({v for v in values if v}, key=len, reverse=True):
        text = text.replace(value, mark)
    return text


def one_line(text: object, limit: int = 300) -> str:
    """Text as one line (runs of white space made one space), cut to `limit` characters."""
    return " ".join(str(text).split())[:limit]
