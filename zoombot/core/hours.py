"""Hours policy on one total: how many seconds of attendance a person is credited for a session.

Pure standard-library code so that the rules staff are audited against can be tested exhaustively,
without a database or the Zoom API. `zoombot.core.credit` applies it once per person per session and carves
training out of the result.

* *Attended seconds* is the length of the union of a person's presence in the session (see
  `zoombot.core.intervals`), so no second is ever counted twice.
* *Credited seconds* is what the policy grants: the attended seconds after the minimums, the cap and
  the rounding. Hours are credited seconds / 3600, as a ``Decimal`` with exactly 2 decimal places
  (half-up).

Policy for one total (``credited_seconds``)
-------------------------------------------
1. Attendance under ``minimum_minutes`` earns 0 hours; so does attendance under
   ``attendance_percent_minimum`` percent of the scheduled length (of the actual length when the
   scheduled one is unknown; 0 turns this rule off).
2. The cap limits the time: ``"scheduled"`` to the scheduled length,
   ``"meeting"`` to how long the meeting actually ran, ``"none"`` never.
   An unknown length (``None``) means no cap for that mode.
3. The capped time is rounded to a multiple of ``increment_minutes``:
   ``"down"`` floors; ``"nearest"`` picks the closest multiple with exact
   halves rounding up -- except that if rounding up would pass the cap, it
   rounds down instead, so credit never exceeds the cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

ROUNDING_MODES = ("down", "nearest")
CAP_MODES = ("scheduled", "meeting", "none")
MAX_INCREMENT_MINUTES = 240

_SECONDS_PER_HOUR = 3600


def _require_int(key: str, value: object) -> int:
    """Reject bools, floats and strings: config typos must fail loudly, not coerce."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be a whole number, got {value!r}")
    return value


@dataclass(frozen=True)
class Policy:
    """How attendance becomes hours; mirrors the ``[hours]`` config section."""

    increment_minutes: int = 15
    rounding: str = "down"
    minimum_minutes: int = 30
    cap: str = "scheduled"
    attendance_percent_minimum: int = 0

    def __post_init__(self) -> None:
        increment = _require_int("increment_minutes", self.increment_minutes)
        if not 1 <= increment <= MAX_INCREMENT_MINUTES:
            raise ValueError(f"increment_minutes must be between 1 and {MAX_INCREMENT_MINUTES}, got {increment}")
        if _require_int("minimum_minutes", self.minimum_minutes) < 0:
            raise ValueError(f"minimum_minutes must not be negative, got {self.minimum_minutes}")
        if not 0 <= _require_int("attendance_percent_minimum", self.attendance_percent_minimum) <= 100:
            raise ValueError(
                f"attendance_percent_minimum must be between 0 and 100, got {self.attendance_percent_minimum}"
            )
        if self.rounding not in ROUNDING_MODES:
            raise ValueError(f"rounding must be one of {', '.join(ROUNDING_MODES)}; got {self.rounding!r}")
        if self.cap not in CAP_MODES:
            raise ValueError(f"cap must be one of {', '.join(CAP_MODES)}; got {self.cap!r}")

    def describe(self) -> str:
        """Plain-English summary for staff pages and emails."""
        if self.minimum_minutes == 0:
            minimum = "Any attendance can earn hours."
        else:
            minimum = f"Attendance under {_minutes(self.minimum_minutes)} earns no hours."
        if self.attendance_percent_minimum:
            minimum += f" Attending less than {self.attendance_percent_minimum}% of the scheduled time earns no hours."
        cap = {
            "scheduled": "Time is capped at the scheduled length of the meeting and",
            "meeting": "Time is capped at how long the meeting actually ran and",
            "none": "Time is not capped and is",
        }[self.cap]
        step = "minute" if self.increment_minutes == 1 else f"{self.increment_minutes} minutes"
        if self.rounding == "down":
            rounding = f"rounded down to the nearest {step}."
        else:
            rounding = f"rounded to the nearest {step} (exactly halfway rounds up)."
        return f"{minimum} {cap} {rounding}"


def _minutes(count: int) -> str:
    return "1 minute" if count == 1 else f"{count} minutes"


# --- policy arithmetic -----------------------------------------------------


def _require_seconds(key: str, value: int | None, *, optional: bool) -> None:
    if value is None and optional:
        return
    if _require_int(key, value) < 0:
        raise ValueError(f"{key} must not be negative, got {value}")


def cap_limit(policy: Policy, scheduled_seconds: int | None, meeting_seconds: int | None) -> int | None:
    """The cap in seconds for this meeting, or None when nothing limits the time."""
    return {"scheduled": scheduled_seconds, "meeting": meeting_seconds, "none": None}[policy.cap]


def _capped(seconds: int, limit: int | None) -> int:
    return seconds if limit is None else min(seconds, limit)


def rounded(seconds: int, policy: Policy) -> int:
    """Round to a multiple of the increment; "nearest" sends exact halves up."""
    increment = policy.increment_minutes * 60
    down = seconds - seconds % increment
    if policy.rounding == "nearest" and 2 * (seconds - down) >= increment:
        return down + increment
    return down


def below_minimum(
    attended_seconds: int, policy: Policy, *, scheduled_seconds: int | None, meeting_seconds: int | None
) -> str | None:
    """Why this attendance earns nothing by the minimums (for staff and members), or None."""
    if attended_seconds < policy.minimum_minutes * 60:
        return f"attended {attended_seconds // 60} min, under the {_minutes(policy.minimum_minutes)} minimum"
    length = scheduled_seconds if scheduled_seconds is not None else meeting_seconds
    if policy.attendance_percent_minimum and length:
        if attended_seconds * 100 < policy.attendance_percent_minimum * length:
            share = attended_seconds * 100 // length
            return (
                f"attended {share}% of the {'scheduled' if scheduled_seconds is not None else 'actual'} "
                f"{length // 60} min, under the {policy.attendance_percent_minimum}% minimum"
            )
    return None


def credited_seconds(
    attended_seconds: int,
    policy: Policy,
    *,
    scheduled_seconds: int | None,
    meeting_seconds: int | None,
) -> int:
    """Seconds the policy grants for one total; exact, unlike the 2-dp hours."""
    _require_seconds("attended_seconds", attended_seconds, optional=False)
    _require_seconds("scheduled_seconds", scheduled_seconds, optional=True)
    _require_seconds("meeting_seconds", meeting_seconds, optional=True)
    if below_minimum(attended_seconds, policy, scheduled_seconds=scheduled_seconds, meeting_seconds=meeting_seconds):
        return 0
    limit = cap_limit(policy, scheduled_seconds, meeting_seconds)
    capped = _capped(attended_seconds, limit)
    result = rounded(capped, policy)
    if limit is not None and result > limit:
        return capped - capped % (policy.increment_minutes * 60)
    return result


def seconds_to_hours(seconds: int) -> Decimal:
    """Hours with exactly 2 decimal places, half-up, computed in integers."""
    cents = (seconds * 200 + _SECONDS_PER_HOUR) // (2 * _SECONDS_PER_HOUR)
    return Decimal(cents).scaleb(-2)


def hours_for(
    attended_seconds: int,
    policy: Policy,
    *,
    scheduled_seconds: int | None,
    meeting_seconds: int | None,
) -> Decimal:
    """Hours earned for ``attended_seconds`` under ``policy`` (see module docstring)."""
    return seconds_to_hours(
        credited_seconds(attended_seconds, policy, scheduled_seconds=scheduled_seconds, meeting_seconds=meeting_seconds)
    )
