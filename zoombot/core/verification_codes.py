"""Pure: certificate verification codes, made to be read aloud and typed from paper.

A code is 12 characters of Crockford's base32 (digits and capitals without I, L, O and U) from 60 random
bits, printed in three groups ("7KQ2-M9XD-4TRA"). Random, never derived from a line id, so nobody can
walk the sequence to see other people's certificates; 2^60 codes make guessing hopeless. Typing is
forgiving: case, spaces and dashes do not matter, and O, I and L read as 0, 1 and 1.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 12
RANDOM_BYTES = 8  # 64 bits drawn, 60 used
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code(random: bytes) -> str:
    """A code from at least RANDOM_BYTES random bytes (`secrets.token_bytes(RANDOM_BYTES)`)."""
    if len(random) < RANDOM_BYTES:
        raise ValueError(f"a code needs {RANDOM_BYTES} random bytes")
    number = int.from_bytes(random[:RANDOM_BYTES], "big") >> (RANDOM_BYTES * 8 - LENGTH * 5)
    return "".join(ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(LENGTH)))


def normalize(text: str) -> str | None:
    """The code someone typed, in its stored form; None when it cannot be a code."""
    cleaned = "".join(ch for ch in (text or "").upper() if ch not in " -\t").translate(_ALIASES)
    if len(cleaned) != LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def display(code: str) -> str:
    """'7KQ2M9XD4TRA' -> '7KQ2-M9XD-4TRA'."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
