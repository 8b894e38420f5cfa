"""zoombot.core.zoom_occurrences: one reading of Zoom's occurrence items for the webhooks and the sync."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from zoombot.core.zoom_occurrences import Change, change, is_deleted, original_start

UTC = UTC
START, END = datetime(2026, 11, 10, 23, 30, tzinfo=UTC), datetime(2026, 11, 11, 1, 30, tzinfo=UTC)


def test_the_occurrence_id_is_the_original_start_in_milliseconds():
    assert original_start({"occurrence_id": "1794353400000"}) == START
    assert original_start({"occurrence_id": 1794353400000}) == START  # a number in some payloads


def test_what_is_not_an_occurrence_id_reads_as_none():
    # the webhook copy raised OverflowError on a huge id and accepted negative ones; now neither
    for raw in ("9" * 400, "-1794353400000", "", None, "abc", "1.5", "253402300800000"):
        assert original_start({"occurrence_id": raw}) is None


@given(st.text())
def test_any_text_is_read_without_an_error(raw):
    found = original_start({"occurrence_id": raw})
    assert found is None or found.tzinfo is UTC


def test_a_moved_occurrence_moves_with_its_own_length_when_zoom_gives_none():
    later = {"start_time": "2026-11-17T23:30:00Z"}
    assert change(later, start=START, end=END, cancelled=False) == Change(
        move=(START + timedelta(days=7), END + timedelta(days=7))
    )
    shorter = {"start_time": "2026-11-10T23:30:00Z", "duration": 90}
    assert change(shorter, start=START, end=END, cancelled=False) == Change(move=(START, START + timedelta(minutes=90)))
    assert (
        change({"start_time": "2026-11-10T23:30:00Z", "duration": 120}, start=START, end=END, cancelled=False)
        == Change()
    )
    assert change({"duration": 90}, start=START, end=END, cancelled=False) == Change()  # no start: unchanged


def test_deleted_cancels_and_a_cancelled_occurrence_stays_cancelled():
    deleted = {"status": "deleted", "start_time": "2026-11-17T23:30:00Z"}
    assert is_deleted(deleted) and change(deleted, start=START, end=END, cancelled=False) == Change(cancel=True)
    assert change({"start_time": "2026-11-17T23:30:00Z"}, start=START, end=END, cancelled=True) == Change()
