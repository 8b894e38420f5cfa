"""POST /zoom/webhook as Zoom and an attacker see it (contract section 4): every refusal stores nothing,
the challenge is answered, verified events are durable before the 200, redeliveries are stored once."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import time

import pytest
from sqlalchemy import create_engine, func, select

from tests.helpers.zoom_events import WEBHOOK_SECRET, load_fixture, signed_headers, zoom_event
from zoombot.store.models import CreditLine, CreditSession, Meeting, Participant, ZoomEvent

TABLES = (ZoomEvent, Meeting, CreditSession, Participant, CreditLine)


def counts(runtime) -> dict[str, int]:
    with runtime.db.begin() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model)) for model in TABLES}


NOTHING = {"zoom_events": 0, "meetings": 0, "sessions": 0, "participants": 0, "credit_lines": 0}


def by_hand(body: bytes, ts: str, secret: str = WEBHOOK_SECRET) -> str:
    """Zoom's recipe, written out independently of webhooks.signature."""
    return "v0=" + hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()


def raw(body: dict) -> bytes:
    return json.dumps(body).encode()


def post(client, body: bytes, headers: dict, **kwargs):
    return client.post("/zoom/webhook", data=body, headers=headers, **kwargs)


# --- signature and timestamp -------------------------------------------------------------------------


def test_event_signed_by_hand_is_accepted(client, runtime):
    body = raw(zoom_event("participant_joined"))
    ts = str(int(time.time()))
    response = post(
        client,
        body,
        {"x-zm-request-timestamp": ts, "x-zm-signature": by_hand(body, ts), "content-type": "application/json"},
    )
    assert response.status_code == 200 and response.json == {"status": "stored"}
    assert counts(runtime)["zoom_events"] == 1


@pytest.mark.parametrize("drop", ["x-zm-signature", "x-zm-request-timestamp", "both"])
def test_missing_headers_are_refused(client, runtime, drop):
    body = raw(zoom_event("participant_joined"))
    headers = signed_headers(body)
    for name in ["x-zm-signature", "x-zm-request-timestamp"] if drop == "both" else [drop]:
        del headers[name]
    assert post(client, body, headers).status_code == 401
    assert counts(runtime) == NOTHING


def test_wrong_secret_is_refused(client, runtime):
    body = raw(zoom_event("participant_joined"))
    assert post(client, body, signed_headers(body, secret="not-the-secret")).status_code == 401
    assert counts(runtime) == NOTHING


def test_signature_over_different_bytes_is_refused(client, runtime):
    """Re-serialised JSON (same value, other bytes) must not verify: the signature covers raw bytes."""
    original = raw(zoom_event("participant_joined"))
    reserialised = json.dumps(json.loads(original), separators=(",", ":"), sort_keys=True).encode()
    assert reserialised != original
    assert post(client, reserialised, signed_headers(original)).status_code == 401
    tampered = original.replace(b"Alice Ames", b"Mallory M.")
    assert post(client, tampered, signed_headers(original)).status_code == 401
    assert counts(runtime) == NOTHING


@pytest.mark.parametrize("offset", [-5401, -86400, 5401, 3 * 86400])
def test_timestamp_outside_tolerance_is_refused(client, runtime, offset):
    body = raw(zoom_event("participant_joined"))
    assert post(client, body, signed_headers(body, timestamp=int(time.time()) + offset)).status_code == 401
    assert counts(runtime) == NOTHING


def test_tolerance_follows_the_setting(make_settings, clock):
    from zoombot.app import create_app
    from zoombot.runtime import Runtime

    rt = Runtime.from_settings(make_settings(zoom={"timestamp_tolerance_seconds": 60}))
    rt.clock = clock
    client = create_app(runtime=rt, test_config={"TESTING": True}).test_client()
    body = raw(zoom_event("participant_joined"))
    assert post(client, body, signed_headers(body, timestamp=int(time.time()) - 120)).status_code == 401
    assert post(client, body, signed_headers(body, timestamp=int(time.time()) - 30)).status_code == 200
    rt.db.dispose()


def test_retry_at_plus_60_minutes_with_first_timestamp_is_accepted_and_stored_once(client, runtime):
    """Zoom's third retry comes about 85 minutes after the first attempt, possibly with its timestamp."""
    body = raw(zoom_event("participant_joined"))
    first_attempt = int(time.time()) - 85 * 60
    assert post(client, body, signed_headers(body, timestamp=first_attempt)).json == {"status": "stored"}
    assert post(client, body, signed_headers(body, timestamp=first_attempt)).json == {"status": "duplicate"}
    assert counts(runtime)["zoom_events"] == 1


# --- url validation ------------------------------------------------------------------------------------


def test_url_validation_is_answered(client, runtime):
    body = raw(load_fixture("url_validation"))
    response = post(client, body, signed_headers(body))
    assert response.status_code == 200
    token = "qgg8vlvZRS6UYooatFL8Aw"
    expected = hmac.new(WEBHOOK_SECRET.encode(), token.encode(), hashlib.sha256).hexdigest()
    assert response.json == {"plainToken": token, "encryptedToken": expected}
    assert counts(runtime) == NOTHING  # a challenge is not an event


def test_unsigned_url_validation_is_refused(client, runtime):
    """Answering an unsigned challenge would hand anyone signatures for forged events."""
    body = raw(load_fixture("url_validation"))
    response = post(client, body, {"content-type": "application/json"})
    assert response.status_code == 401
    assert "encryptedToken" not in response.get_data(as_text=True)
    wrongly_signed = post(client, body, signed_headers(body, secret="guess"))
    assert wrongly_signed.status_code == 401
    assert counts(runtime) == NOTHING


def test_url_validation_without_plain_token_is_a_bad_request(client, runtime):
    body = raw({"event": "endpoint.url_validation", "event_ts": 1760394000000, "payload": {}})
    assert post(client, body, signed_headers(body)).status_code == 400
    assert counts(runtime) == NOTHING


# --- malformed and oversized bodies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'"meeting.started"',
        b"42",
        b'{"payload": {"object": {}}}',
        b'{"event": ""}',
        b'{"event": null}',
    ],
)
def test_signed_body_that_is_not_an_event_is_400(client, runtime, body):
    response = post(client, body, signed_headers(body))
    assert response.status_code == 400
    assert counts(runtime) == NOTHING


def big_event() -> bytes:
    body = zoom_event("participant_joined")
    body["payload"]["object"]["topic"] = "x" * (1024 * 1024)
    return raw(body)


def test_body_over_one_mib_is_413(client, runtime):
    body = big_event()
    response = post(client, body, signed_headers(body))
    assert response.status_code == 413
    assert counts(runtime) == NOTHING


def test_body_of_exactly_one_mib_is_accepted(client, runtime):
    body = zoom_event("participant_joined")
    filler = 1024 * 1024 - len(raw(body)) - len(', "padding": ""')
    body["padding"] = "p" * filler
    data = raw(body)
    assert len(data) == 1024 * 1024
    assert post(client, data, signed_headers(data)).status_code == 200


def test_chunked_body_over_one_mib_without_content_length_is_413(client, runtime):
    """No Content-Length (chunked transfer): the limit is enforced while reading."""
    body = big_event()
    response = client.post(
        "/zoom/webhook",
        input_stream=io.BytesIO(body),
        headers=signed_headers(body),
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert counts(runtime) == NOTHING


def test_chunked_small_body_is_accepted(client, runtime):
    body = raw(zoom_event("participant_joined"))
    response = client.post(
        "/zoom/webhook",
        input_stream=io.BytesIO(body),
        headers=signed_headers(body),
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 200 and response.json == {"status": "stored"}


def test_other_methods_are_not_allowed(client, runtime):
    assert client.get("/zoom/webhook").status_code == 405
    assert counts(runtime) == NOTHING


# --- storage ---------------------------------------------------------------------------------------------


def test_verified_event_is_committed_before_the_200(client, runtime, database_url):
    """Another connection (another process, in effect) sees the row as soon as the 200 is out."""
    body = raw(zoom_event("participant_joined"))
    assert post(client, body, signed_headers(body)).status_code == 200
    from zoombot.store.db import normalize_url

    other = create_engine(normalize_url(database_url))
    with other.connect() as conn:
        row = conn.execute(
            select(
                ZoomEvent.event,
                ZoomEvent.status,
                ZoomEvent.meeting_uuid,
                ZoomEvent.meeting_id,
                ZoomEvent.account_id,
                ZoomEvent.body,
            )
        ).one()
    other.dispose()
    assert row.event == "meeting.participant_joined" and row.status == "processed"
    assert row.meeting_uuid == "4444AAAiAAAAAiAiAiiAii==" and row.meeting_id == "81234567890"
    assert row.account_id == "AbCdEfGh123"
    assert row.body == json.loads(body)


def test_same_delivery_again_is_stored_once(client, runtime):
    body = raw(zoom_event("participant_joined"))
    assert post(client, body, signed_headers(body)).json == {"status": "stored"}
    for _ in range(3):
        response = post(client, body, signed_headers(body))
        assert response.status_code == 200 and response.json == {"status": "duplicate"}
    assert counts(runtime)["zoom_events"] == 1
    assert counts(runtime)["meetings"] == 1


def test_redelivery_reserialised_by_a_proxy_is_still_one_event(client, runtime):
    body = zoom_event("participant_joined")
    first, second = raw(body), json.dumps(body, indent=2, sort_keys=True).encode()
    assert post(client, first, signed_headers(first)).json == {"status": "stored"}
    assert post(client, second, signed_headers(second)).json == {"status": "duplicate"}
    assert counts(runtime)["zoom_events"] == 1


def test_distinct_events_are_all_stored(client, runtime):
    for name in ("meeting_started", "participant_joined", "participant_left"):
        body = raw(zoom_event(name))
        assert post(client, body, signed_headers(body)).json == {"status": "stored"}
    assert counts(runtime)["zoom_events"] == 3


def test_unknown_event_type_is_kept_and_ignored(client, runtime):
    body = raw(
        {
            "event": "meeting.sharing_started",
            "event_ts": 1760395000000,
            "payload": {
                "account_id": "AbCdEfGh123",
                "object": {
                    "id": "81234567890",
                    "uuid": "4444AAAiAAAAAiAiAiiAii==",
                    "host_id": "x1yCzABCDEfg23HiJKl4mN",
                    "topic": "Infant-Toddler CoP",
                    "type": 8,
                    "start_time": "2026-10-13T22:30:00Z",
                    "timezone": "America/New_York",
                    "duration": 120,
                    "participant": {
                        "user_id": "16778240",
                        "user_name": "Alice Ames",
                        "id": "",
                        "sharing_details": {
                            "content": "application",
                            "date_time": "2026-10-13T22:36:40Z",
                            "source": "deskshare",
                        },
                    },
                },
            },
        }
    )
    response = post(client, body, signed_headers(body))
    assert response.status_code == 200 and response.json == {"status": "ignored"}
    with runtime.db.begin() as session:
        event = session.scalars(select(ZoomEvent)).one()
        assert event.status == "ignored" and event.event == "meeting.sharing_started"
    assert counts(runtime) == {**NOTHING, "zoom_events": 1}  # no effect
    assert post(client, body, signed_headers(body)).json == {"status": "duplicate"}


@pytest.mark.parametrize("mangle", ["no_participant", "participant_not_object", "no_uuid"])
def test_authentic_event_that_cannot_be_processed_is_kept_as_failed(client, runtime, mangle):
    """Zoom never retries a 4xx, and a 5xx would retry forever: keep it for staff review with a 200."""
    body = zoom_event("participant_joined")
    obj = body["payload"]["object"]
    if mangle == "no_participant":
        del obj["participant"]
    elif mangle == "participant_not_object":
        obj["participant"] = "Alice"
    else:
        del obj["uuid"]
    data = raw(body)
    response = post(client, data, signed_headers(data))
    assert response.status_code == 200 and response.json == {"status": "failed"}
    with runtime.db.begin() as session:
        event = session.scalars(select(ZoomEvent)).one()
        assert event.status == "failed"
        assert event.error and "ValueError" in event.error
    assert counts(runtime) == {**NOTHING, "zoom_events": 1}  # the handler's partial work was rolled back
    assert post(client, data, signed_headers(data)).json == {"status": "duplicate"}


def test_odd_scheduled_duration_is_tolerated(client, runtime):
    """A field zoombot only uses as a hint (the scheduled length) must not cost the meeting its end."""
    body = zoom_event("meeting_ended")
    body["payload"]["object"]["duration"] = "ninety"
    data = raw(body)
    assert post(client, data, signed_headers(data)).status_code == 200
    with runtime.db.begin() as session:
        meeting = session.scalars(select(Meeting)).one()
        assert meeting.scheduled_minutes is None and meeting.status == "ended"


def test_healthz_and_readyz(client):
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json == {"status": "ready"}


# --- hardening (issue 15, items 5 and 6) --------------------------------------------------------------------


def test_absurd_timestamp_is_refused_not_a_server_error(client, runtime):
    """400 nines parse as an integer too big for a float: refused as a bad timestamp, before the HMAC."""
    body = raw(zoom_event("participant_joined"))
    ts = "9" * 400
    response = post(
        client,
        body,
        {"x-zm-request-timestamp": ts, "x-zm-signature": by_hand(body, ts), "content-type": "application/json"},
    )
    assert response.status_code == 401
    assert counts(runtime) == NOTHING


def test_signed_challenge_with_a_lone_surrogate_token_is_a_bad_request(client, runtime):
    """A plainToken that is not text (a lone UTF-16 surrogate) cannot be HMACed as UTF-8: 400, not 500."""
    body = b'{"event": "endpoint.url_validation", "event_ts": 1760394000000, "payload": {"plainToken": "\\ud800"}}'
    response = post(client, body, signed_headers(body))
    assert response.status_code == 400
    assert "encryptedToken" not in response.get_data(as_text=True)
    assert counts(runtime) == NOTHING


@pytest.mark.parametrize("escape", [b"\\u0000", b"\\ud800", b"\\udc00"])
def test_authentic_event_with_a_nul_or_lone_surrogate_is_stored_with_a_replacement_character(client, runtime, escape):
    """Neither PostgreSQL's text nor UTF-8 can hold U+0000 or a lone surrogate; Zoom never retries a 400.
    So the character becomes U+FFFD, everywhere in the event (keys, values, the meeting uuid), and a
    redelivery is still the same event."""
    data = raw(zoom_event("participant_joined")).replace(b'"Alice Ames"', b'"Alice' + escape + b'Ames"')
    data = data.replace(b'"uuid": "4444AAAiAAAAAiAiAiiAii=="', b'"uuid": "4444AAAiAAAAAiAiAiiAii==' + escape + b'"')
    data = data.replace(b'"payload": {', b'"payload": {"odd' + escape + b'key": 1, ', 1)
    assert data.count(escape) == 3
    response = post(client, data, signed_headers(data))
    assert response.status_code == 200 and response.json == {"status": "stored"}
    with runtime.db.begin() as session:
        event = session.scalars(select(ZoomEvent)).one()
        assert event.meeting_uuid == "4444AAAiAAAAAiAiAiiAii==\ufffd"
        assert event.body["payload"]["object"]["participant"]["user_name"] == "Alice\ufffdAmes"
        assert event.body["payload"]["odd\ufffdkey"] == 1
        assert session.scalars(select(Meeting.uuid)).all() == ["4444AAAiAAAAAiAiAiiAii==\ufffd"]
    assert post(client, data, signed_headers(data)).json == {"status": "duplicate"}
    assert counts(runtime)["zoom_events"] == 1


def test_escaped_backslash_before_u0000_is_text_not_a_nul(client, runtime):
    r"""`\\u0000` in JSON is a backslash followed by "u0000": kept exactly as sent."""
    data = raw(zoom_event("participant_joined")).replace(b'"Alice Ames"', b'"Alice \\\\u0000 Ames"')
    assert post(client, data, signed_headers(data)).json == {"status": "stored"}
    with runtime.db.begin() as session:
        name = session.scalars(select(ZoomEvent)).one().body["payload"]["object"]["participant"]["user_name"]
    assert name == "Alice \\u0000 Ames"


def exactly(size: int) -> bytes:
    body = zoom_event("participant_joined")
    body["padding"] = ""
    body["padding"] = "p" * (size - len(raw(body)))
    data = raw(body)
    assert len(data) == size
    return data


@pytest.mark.parametrize("size, status", [(1024 * 1024, 200), (1024 * 1024 + 1, 413)])
@pytest.mark.parametrize("chunked", [False, True])
def test_one_body_limit_whether_chunked_or_not(client, runtime, size, status, chunked):
    """1 MiB is allowed and one byte more is not, with a Content-Length or without one (chunked)."""
    data = exactly(size)
    if chunked:
        response = client.post(
            "/zoom/webhook",
            input_stream=io.BytesIO(data),
            headers=signed_headers(data),
            environ_overrides={"wsgi.input_terminated": True},
        )
    else:
        response = post(client, data, signed_headers(data))
    assert response.status_code == status
    assert counts(runtime)["zoom_events"] == (1 if status == 200 else 0)


def test_an_unexpected_error_is_logged_masked_and_answered_500(make_settings, clock, monkeypatch, caplog):
    """Outside tests the endpoint logs a bug through zoombot's logging (not the server's error log) and
    answers 500, as Flask would; the log line names no participant."""
    from webhooks import endpoint
    from zoombot.app import create_app
    from zoombot.runtime import Runtime

    rt = Runtime.from_settings(make_settings())
    rt.clock = clock

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(endpoint, "deliver", broken)
    client = create_app(runtime=rt).test_client()
    body = raw(zoom_event("participant_joined"))
    response = post(client, body, signed_headers(body))
    rt.db.dispose()
    assert response.status_code == 500 and response.json == {"error": "internal error"}
    assert [r.getMessage() for r in caplog.records if r.name == "webhooks.endpoint"] == [
        "unexpected error answering a zoom webhook"
    ]
