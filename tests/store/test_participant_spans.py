"""A participant's stored intervals read back as aware (join, leave) pairs; a damaged one is said plainly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from zoombot.store.models import Participant


def test_stored_intervals_read_back_as_utc_spans():
    p = Participant(
        id=7,
        intervals=[
            ["2026-10-13T22:30:10+00:00", "2026-10-13T23:00:00+00:00", "zoom"],
            ["2026-10-13T23:05:00Z", "2026-10-14T00:30:00Z", "staff"],
        ],
    )
    assert p.spans() == [
        (datetime(2026, 10, 13, 22, 30, 10, tzinfo=UTC), datetime(2026, 10, 13, 23, 0, tzinfo=UTC)),
        (datetime(2026, 10, 13, 23, 5, tzinfo=UTC), datetime(2026, 10, 14, 0, 30, tzinfo=UTC)),
    ]
    assert Participant(id=8, intervals=[]).spans() == []


def test_an_unreadable_stored_interval_is_an_error_not_a_none():
    p = Participant(id=7, intervals=[["2026-10-13T22:30:10+00:00", "soon", "zoom"]])
    with pytest.raises(ValueError, match="participant 7: unreadable stored interval"):
        p.spans()
