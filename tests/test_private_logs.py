"""No personal data reaches the logs when the database refuses a row that holds some: the engines hide
bound parameters, and a traceback shows a database error without the text in which the server quotes the
failing row. Logs are read as zoombot's own handler writes them (JSON lines)."""

from __future__ import annotations

import io
import json
import logging
from datetime import date

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError

from tests.helpers.zoom_events import signed_headers, zoom_event
from zoombot import logging_setup
from zoombot.app import create_app
from zoombot.runtime import Runtime
from zoombot.store.models import CreditLine, CreditSession, Participant

NAME, REGISTRANT, EMAIL = "Zelda Quokkaberg", "REG-ZQ-77123", "zelda.quokkaberg@example.org"
PERSONAL = ("Zelda", "Quokkaberg", "REG-ZQ-77123", "zelda")
log = logging.getLogger("zoombot.test_private_logs")


@pytest.fixture
def captured(runtime):
    stream = io.StringIO()
    handler = logging_setup.configure(runtime.settings, stream)
    yield stream
    logging.getLogger().removeHandler(handler)


def entries(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def assert_nothing_personal(stream: io.StringIO) -> None:
    text = stream.getvalue()
    assert text  # something was logged: the check below is about its content
    for secret in PERSONAL:
        assert secret not in text, f"{secret!r} reached the log: {text}"


def refuse_a_participant(rt: Runtime, **values) -> None:
    """Write a participant row the database refuses, and log the failure as zoombot code does."""
    with rt.db.begin() as s:
        held = CreditSession(
            key="z81234567890:2026-10-13", zoom_meeting_id="81234567890", local_date=date(2026, 10, 13)
        )
        s.add(held)
    row = {
        "session_id": held.id,
        "identity_key": f"registrant:{REGISTRANT}",
        "name": NAME,
        "email": EMAIL,
        "registrant_id": REGISTRANT,
        **values,
    }
    with pytest.raises(DBAPIError):
        try:
            with rt.db.begin() as s:
                s.execute(insert(Participant).values(**row))
        except DBAPIError:
            log.exception("could not store a participant")
            raise


def test_a_refused_row_is_logged_without_its_values(runtime, captured):
    """NOT NULL: on PostgreSQL the server's DETAIL line quotes the whole failing row."""
    refuse_a_participant(runtime, identity_key=None)
    [entry] = entries(captured)
    assert entry["message"] == "could not store a participant"
    exception = entry["exception"]
    assert "IntegrityError" in exception and "[SQL: INSERT INTO participants" in exception
    assert "participants" in exception and "identity_key" in exception  # what failed, by name
    assert_nothing_personal(captured)


@pytest.fixture
def on_postgres(make_runtime, postgres_url):
    """A runtime on PostgreSQL in every run: only PostgreSQL checks column lengths."""
    return make_runtime(database={"url": postgres_url})


def test_a_value_too_long_for_its_column_is_logged_without_it(on_postgres, captured):
    refuse_a_participant(on_postgres, registrant_id=REGISTRANT * 400, name=NAME)
    [entry] = entries(captured)
    assert "StringDataRightTruncation" in entry["exception"] and "SQLSTATE 22001" in entry["exception"]
    assert_nothing_personal(captured)


def test_a_webhook_delivery_with_an_oversized_id_is_credited_and_logs_no_personal_data(on_postgres):
    """The issue's case through the real endpoint: a registrant id of 5,000 characters. It no longer makes the
    database refuse anything (identifiers too long for their column are kept as their hash), so the session
    ends with its line; whatever is logged on the way holds no personal data."""
    client = create_app(runtime=on_postgres, test_config={"TESTING": True}).test_client()
    captured = io.StringIO()
    handler = logging_setup.configure(on_postgres.settings, captured)  # after create_app, which sets up its own
    for body in (
        zoom_event("meeting_started"),
        zoom_event("participant_joined", user_name=NAME, email=EMAIL, registrant_id=REGISTRANT * 400),
        zoom_event("meeting_ended"),
    ):
        raw = json.dumps(body).encode()
        response = client.post("/zoom/webhook", data=raw, headers=signed_headers(raw))
        assert response.status_code == 200 and response.json["status"] == "stored", response.json
    logging.getLogger().removeHandler(handler)
    for secret in PERSONAL:
        assert secret not in captured.getvalue()
    with on_postgres.db.begin() as s:
        [key] = s.scalars(select(CreditLine.participant_key)).all()
        assert key.startswith("registrant:sha256:") and len(key) == len("registrant:") + 71


def test_the_formatter_keeps_ordinary_tracebacks_whole(runtime, captured):
    try:
        try:
            {}["missing"]
        except KeyError as exc:
            raise ValueError("could not read the setting") from exc
    except ValueError:
        log.exception("failed")
    exception = entries(captured)[0]["exception"]
    assert (
        exception.index("KeyError: 'missing'")
        < exception.index("direct cause")
        < exception.index("ValueError: could not read the setting")
    )
    assert exception.count("Traceback (most recent call last):") == 2
