"""Counted nouns in English: "1 day", "2 days", never "2 day(s)".

One home for the rule, registered as the `plural` filter in the mail templates and the staff pages
(`{{ agenda_days|plural("day") }}`), and called directly where Python builds a sentence.
"""

from __future__ import annotations


def noun(count: int, singular: str, plural: str | None = None) -> str:
    """The noun alone, agreeing with `count`: only exactly 1 (or -1) takes the singular."""
    return singular if abs(count) == 1 else (plural or singular + "s")


def plural(count: int, singular: str, plural: str | None = None) -> str:
    """`count` and its noun: plural(1, "day") -> "1 day"; plural(2, "day") -> "2 days";
    plural(0, "entry", "entries") -> "0 entries"."""
    return f"{count} {noun(count, singular, plural)}"
