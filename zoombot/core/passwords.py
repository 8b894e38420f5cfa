"""Staff passwords: scrypt hashes (werkzeug), a minimum length, and nothing else stored.

The command line sets passwords (`zoombot staff create`) and the staff login checks them; both go through
these three functions so the hashing scheme lives in one place.
"""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 10


def validate_password(password: str) -> str:
    """The password unchanged, or ValueError saying why it cannot be used (never echoing it)."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"the password must be at least {MIN_LENGTH} characters long")
    if not password.strip():
        raise ValueError("the password must not be only spaces")
    return password


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def check_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; False for a wrong password or an unusable hash."""
    if not password_hash:
        return False
    try:
        return check_password_hash(password_hash, password)
    except ValueError:  # a hash in a format werkzeug does not know
        return False
