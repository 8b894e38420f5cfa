"""Unit tests for zoombot.core.json_codec: whichever library reads a text, the value is json.loads' own, and
what dumps writes reads back as the value (the receiver's rule and the database's are the same)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zoombot.core import json_codec

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=8)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


def _typed(value):
    """The value with each leaf's type beside it: 1 == 1.0 == True in Python, not in JSON."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, value)


@settings(max_examples=400)
@given(value=values, as_bytes=st.booleans(), ascii_only=st.booleans())
def test_a_text_reads_as_json_loads_reads_it(value, as_bytes, ascii_only):
    text = json.dumps(value, ensure_ascii=ascii_only)
    expected = json.loads(text)
    assert _typed(json_codec.loads(text.encode() if as_bytes else text)) == _typed(expected)


@settings(max_examples=400)
@given(value=values)
def test_what_dumps_writes_reads_back_as_the_value(value):
    assert _typed(json_codec.loads(json_codec.dumps(value))) == _typed(value)


def test_an_integer_beyond_64_bits_stays_exact():
    """orjson alone would read 2**64 as a float (18446744073709551616.0); a meeting id must not change."""
    assert json_codec.loads(b'{"id": 18446744073709551616}') == {"id": 18446744073709551616}
    assert type(json_codec.loads("[123456789012345678901234567890]")[0]) is int
    assert json_codec.dumps({"id": 2**64}) == '{"id":18446744073709551616}'


@pytest.mark.parametrize(
    "text, found",
    [
        (b'{"id": 1234567890123456789}', True),  # 19 digits
        (b'{"id": 123456789012345678}', False),  # 18
        (b'{"a": "12345678901234567890"}', True),  # in a string: a false alarm, only slower
        (b'{"a": 123456789.0123456789}', False),  # digits split by the point
        (b"", False),
    ],
)
def test_a_long_run_of_digits_is_found(text, found):
    assert json_codec.may_hold_long_integer(text) is found


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}', "1e400", "[1e999999]"])
def test_non_finite_numbers_are_refused_with_a_reason(text):
    with pytest.raises(ValueError, match="non-finite|out of range"):
        json_codec.loads(text)


def test_a_lone_surrogate_is_read_by_the_standard_library():
    assert json_codec.loads('"\\ud800"') == "\ud800"
    assert json_codec.loads('["\ud800"]') == ["\ud800"]  # a str that cannot be encoded to UTF-8


def test_datetimes_and_non_string_keys_are_written():
    moment = datetime(2026, 10, 13, 22, 30, tzinfo=UTC)
    assert json_codec.dumps({"at": moment}) == '{"at":"2026-10-13T22:30:00+00:00"}'
    assert json_codec.loads(json_codec.dumps({1: "a"})) == {"1": "a"}


def test_malformed_text_is_a_value_error():
    with pytest.raises(ValueError):
        json_codec.loads(b"{not json")
