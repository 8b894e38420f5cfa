"""`zoombot attendance backfill`, `zoombot zoom sync` and `zoombot zoom reconcile` through the real CLI,
against a real database, with Zoom's HTTP API mocked by `responses`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import responses
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.helpers.zoom_api import API, OAUTH, zoom_api
from zoombot.cli.main import main
from zoombot.runtime import Runtime
from zoombot.store.models import AuditEntry, Community, CreditLine, Meeting, Occurrence, Participant, ZoomEvent
from zoombot.zoom.client import encode_uuid

MEETING_ID = "81234567890"
AUG, SEP, OCT = "Aug1xAAiAAAAAiAiAiiAii==", "/Sep//2AAiAAAAAiAiAii==", "Oct3xAAiAAAAAiAiAiiAii=="
UTC = UTC
FIRST_PAGE = {"page_size": "300", "include_fields": "registrant_id"}  # a report's first page, as zoombot asks for it


@pytest.fixture
def cli(database_url, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    env = {
        "ZOOMBOT_CONFIG": str(config),
        "ZOOMBOT_DATABASE_URL": database_url,
        "ZOOMBOT_ZOOM_ACCOUNT_ID": "acct",
        "ZOOMBOT_ZOOM_CLIENT_ID": "cid",
        "ZOOMBOT_ZOOM_CLIENT_SECRET": "csecret",
        "ZOOMBOT_ZOOM_API_BASE_URL": API,
        "ZOOMBOT_ZOOM_OAUTH_URL": OAUTH,
        "ZOOMBOT_WEB_SECRET_KEY": "k",
    }

    def invoke(*args: str, credentials: bool = True):
        run_env = dict(env)
        if not credentials:
            for key in ("ZOOMBOT_ZOOM_ACCOUNT_ID", "ZOOMBOT_ZOOM_CLIENT_ID", "ZOOMBOT_ZOOM_CLIENT_SECRET"):
                run_env[key] = ""
        return CliRunner().invoke(main, list(args), env=run_env, catch_exceptions=False)

    return invoke


@pytest.fixture
def rsps():
    with zoom_api(strict=False) as mock:
        yield mock


@pytest.fixture
def db(make_settings):
    rt = Runtime.from_settings(make_settings())
    yield rt.db
    rt.db.dispose()


def add_community(db) -> None:
    with db.begin() as s:
        community = Community(
            name="Infant-Toddler CoP",
            first_start_local=datetime(2026, 8, 11, 18, 30),
            timezone="America/New_York",
            duration_minutes=120,
            rrule="FREQ=MONTHLY;BYDAY=2TU",
            zoom_meeting_id=MEETING_ID,
        )
        s.add(community)


def row(name: str, email: str, join: str, leave: str) -> dict:
    return {
        "id": "",
        "user_id": "1677",
        "name": name,
        "user_email": email,
        "join_time": join,
        "leave_time": leave,
        "duration": 0,
        "registrant_id": "",
        "status": "in_meeting",
        "ip_address": "203.0.113.9",
    }


def zoom_history(rsps) -> None:
    rsps.add(
        responses.GET,
        f"{API}/past_meetings/{MEETING_ID}/instances",
        json={
            "meetings": [
                {"uuid": OCT, "start_time": "2026-10-13T22:30:00Z"},
                {"uuid": SEP, "start_time": "2026-09-08T22:30:00Z"},
                {"uuid": AUG, "start_time": "2026-08-11T22:30:00Z"},
                {"uuid": SEP, "start_time": "2026-09-08T22:30:00Z"},  # Zoom may list an instance twice
            ]
        },
    )
    for uuid, day, end in ((AUG, "2026-08-11", "2026-08-12T00:30:00Z"), (SEP, "2026-09-08", "2026-09-09T00:30:00Z")):
        rsps.add(
            responses.GET,
            f"{API}/past_meetings/{encode_uuid(uuid)}",
            json={
                "uuid": uuid,
                "id": int(MEETING_ID),
                "topic": "Infant-Toddler CoP",
                "start_time": f"{day}T22:30:00Z",
                "end_time": end,
                "duration": 120,
            },
        )
    aug = f"{API}/report/meetings/{encode_uuid(AUG)}/participants"
    rsps.add(
        responses.GET,
        aug,
        match=[responses.matchers.query_param_matcher(FIRST_PAGE)],
        json={
            "next_page_token": "t2",
            "participants": [
                row("Alice Ames", "alice@example.org", "2026-08-11T22:31:00Z", "2026-08-12T00:30:00Z"),
                row("Bob Boyd", "bob@example.org", "2026-08-11T22:40:00Z", "2026-08-11T23:10:00Z"),
            ],
        },
    )
    rsps.add(
        responses.GET,
        aug,
        match=[responses.matchers.query_param_matcher({**FIRST_PAGE, "next_page_token": "t2"})],
        json={
            "next_page_token": "",
            "participants": [row("Bob Boyd", "bob@example.org", "2026-08-11T23:05:00Z", "2026-08-11T23:40:00Z")],
        },
    )
    rsps.add(
        responses.GET,
        f"{API}/report/meetings/{encode_uuid(SEP)}/participants",
        json={
            "next_page_token": "",
            "participants": [row("Alice Ames", "alice@example.org", "2026-09-08T22:30:00Z", "2026-09-08T23:30:00Z")],
        },
    )


def human_lines(stderr: str) -> list[str]:
    """Standard error without the structured (JSON) log lines the service writes there too."""
    return [line for line in stderr.splitlines() if line and not line.startswith("{")]


def snapshot(db) -> dict:
    with db.begin() as s:
        return {
            "events": s.scalar(select(func.count()).select_from(ZoomEvent)),
            "meetings": sorted(
                (m.uuid, m.status, m.ended_at, m.report_status, repr(m.discrepancies))
                for m in s.scalars(select(Meeting))
            ),
            "sessions": sorted((m.uuid, m.session_id) for m in s.scalars(select(Meeting))),
            "records": sorted(
                (
                    r.id,
                    r.session_id,
                    r.participant_key,
                    r.attended_seconds,
                    str(r.growth_hours),
                    str(r.training_hours),
                    r.status,
                    r.updated_at,
                )
                for r in s.scalars(select(CreditLine))
            ),
            "audit": s.scalar(select(func.count()).select_from(AuditEntry)),
        }


def report_calls(rsps) -> int:
    return len([c for c in rsps.calls if "/report/" in c.request.url])


def test_backfill_imports_past_instances_and_twice_changes_nothing(cli, db, rsps):
    add_community(db)
    zoom_history(rsps)

    first = cli("attendance", "backfill", "--meeting-id", MEETING_ID, "--from", "2026-08-01", "--to", "2026-09-30")

    assert first.exit_code == 0, first.output
    assert (
        "2 instances in range, 0 already reconciled (skipped), 2 imported, 0 without a report, 0 failed; "
        "4 new report rows"
    ) in first.output
    assert report_calls(rsps) == 3  # August over two pages, September one; October out of range
    with db.begin() as s:
        meetings = {m.uuid: m for m in s.scalars(select(Meeting))}
        assert set(meetings) == {AUG, SEP}
        aug = meetings[AUG]
        assert (aug.status, aug.report_status, aug.finalized_by) == ("ended", "done", "report")
        assert (aug.started_at, aug.ended_at) == (
            datetime(2026, 8, 11, 22, 30, tzinfo=UTC),
            datetime(2026, 8, 12, 0, 30, tzinfo=UTC),
        )
        assert aug.community_id is not None and aug.scheduled_minutes == 120
        assert [d["kind"] for d in aug.discrepancies] == ["no_webhooks"]
        # each instance is its own session (one a month), dated in the community's zone
        aug_session, sep_session = aug.session, meetings[SEP].session
        assert (aug_session.key, aug_session.status, aug_session.community_id) == (
            f"c{aug.community_id}:2026-08-11",
            "ended",
            aug.community_id,
        )
        assert (sep_session.key, sep_session.status) == (f"c{aug.community_id}:2026-09-08", "ended")
        seconds = {(p.session_id, p.name): p.attended_seconds for p in s.scalars(select(Participant))}
        # Aug: Alice 22:31 -> 00:30; Bob 22:40 -> 23:10 and 23:05 -> 23:40, a union: 22:40 -> 23:40
        # Sep: Alice 22:30 -> 23:30
        assert seconds == {
            (aug_session.id, "Alice Ames"): 7140,
            (aug_session.id, "Bob Boyd"): 3600,
            (sep_session.id, "Alice Ames"): 3600,
        }
        hours = sorted(
            (r.session_id, r.attended_seconds, r.growth_hours, r.training_hours, r.status)
            for r in s.scalars(select(CreditLine))
        )
        zero = Decimal("0.00")
        assert hours == sorted(
            [
                (aug_session.id, 7140, Decimal("1.75"), zero, "pending"),
                (aug_session.id, 3600, Decimal("1.00"), zero, "pending"),
                (sep_session.id, 3600, Decimal("1.00"), zero, "pending"),
            ]
        )
        # the stored rows keep no IP address
        bodies = [e.body for e in s.scalars(select(ZoomEvent).where(ZoomEvent.event == "report.participant"))]
        assert len(bodies) == 4 and all("ip_address" not in b["payload"]["object"]["participant"] for b in bodies)
    before = snapshot(db)

    second = cli("attendance", "backfill", "--meeting-id", MEETING_ID, "--from", "2026-08-01", "--to", "2026-09-30")

    assert second.exit_code == 0, second.output
    assert "2 instances in range, 2 already reconciled (skipped), 0 imported" in second.output
    assert report_calls(rsps) == 3  # nothing fetched again
    assert snapshot(db) == before

    forced = cli("attendance", "backfill", "--meeting-id", MEETING_ID, "--to", "2026-09-30", "--force")

    assert forced.exit_code == 0, forced.output
    assert "2 imported, 0 without a report, 0 failed; 0 new report rows" in forced.output
    assert report_calls(rsps) == 6
    assert snapshot(db) == before


def test_backfill_resumes_after_a_failure(cli, db, rsps):
    zoom_history(rsps)
    # a failure that is not "no report" (and not retried in-process, so the test never sleeps)
    rsps.replace(
        responses.GET,
        f"{API}/report/meetings/{encode_uuid(SEP)}/participants",
        status=400,
        json={"code": 300, "message": "Invalid request"},
    )

    failed = cli("attendance", "backfill", "--meeting-id", MEETING_ID, "--to", "2026-09-30")

    assert failed.exit_code == 1
    assert "1 imported, 0 without a report, 1 failed" in failed.output
    assert "Error: 1 instances failed; run the same command again to resume" in failed.output
    with db.begin() as s:
        assert dict(s.execute(select(Meeting.uuid, Meeting.report_status)).all()) == {AUG: "done"}
    rsps.replace(
        responses.GET,
        f"{API}/report/meetings/{encode_uuid(SEP)}/participants",
        json={
            "next_page_token": "",
            "participants": [row("Alice Ames", "alice@example.org", "2026-09-08T22:30:00Z", "2026-09-08T23:30:00Z")],
        },
    )
    calls_before = report_calls(rsps)

    resumed = cli("attendance", "backfill", "--meeting-id", MEETING_ID, "--to", "2026-09-30")

    assert resumed.exit_code == 0, resumed.output
    assert "1 already reconciled (skipped), 1 imported" in resumed.output
    assert report_calls(rsps) == calls_before + 1  # only September asked again
    with db.begin() as s:
        assert dict(s.execute(select(Meeting.uuid, Meeting.report_status)).all()) == {AUG: "done", SEP: "done"}


@pytest.mark.parametrize(
    "args",
    [
        ("attendance", "backfill", "--meeting-id", MEETING_ID),
        ("zoom", "sync"),
        ("zoom", "reconcile"),
    ],
)
def test_without_credentials_one_line_and_non_zero(cli, rsps, args):
    result = cli(*args, credentials=False)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert human_lines(result.stderr) == [
        "Error: Zoom API credentials are not configured ([zoom] account_id, client_id, client_secret)"
    ]
    assert len(rsps.calls) == 0


def test_zoom_sync_command(cli, db, rsps):
    add_community(db)
    start = datetime(2026, 10, 13, 22, 30, tzinfo=UTC)
    with db.begin() as s:
        community = s.scalars(select(Community)).one()
        s.add(Occurrence(community_id=community.id, original_start=start, start=start, end=start + timedelta(hours=2)))
    occurrence_id = str(int(start.timestamp() * 1000))
    rsps.add(
        responses.GET,
        f"{API}/meetings/{MEETING_ID}",
        json={
            "id": int(MEETING_ID),
            "join_url": "https://zoom.us/j/81234567890",
            "occurrences": [
                {
                    "occurrence_id": occurrence_id,
                    "start_time": "2026-10-13T23:00:00Z",
                    "duration": 120,
                    "status": "available",
                }
            ],
        },
    )

    result = cli("zoom", "sync")

    assert result.exit_code == 0, result.output
    assert result.stdout == "Infant-Toddler CoP: 1 moved, 1 linked, join link updated\n"
    with db.begin() as s:
        occurrence = s.scalars(select(Occurrence)).one()
        assert (occurrence.start, occurrence.sequence, occurrence.zoom_occurrence_id) == (
            start + timedelta(minutes=30),
            1,
            occurrence_id,
        )
    assert cli("zoom", "sync").stdout == "Infant-Toddler CoP: up to date\n"


def test_zoom_sync_reports_a_meeting_zoom_no_longer_has(cli, db, rsps):
    add_community(db)
    rsps.add(
        responses.GET,
        f"{API}/meetings/{MEETING_ID}",
        status=404,
        json={"code": 3001, "message": "Meeting does not exist: 81234567890."},
    )
    result = cli("zoom", "sync")
    assert result.exit_code == 1
    assert human_lines(result.stderr) == [
        "Infant-Toddler CoP: meeting 81234567890 could not be read: Zoom API error (HTTP 404, code 3001): "
        "Meeting does not exist: 81234567890.",
        "Error: 1 of 1 communities could not be synced",
    ]
