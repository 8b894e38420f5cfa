"""`zoombot hours export` and zoombot.store.export on credit lines built from real deliveries to /zoom/webhook."""

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update

from tests.helpers.zoom_events import zoom_event
from zoombot.store import review
from zoombot.store.export import ALL_COLUMNS, export_rows, mark_exported
from zoombot.store.models import AuditEntry, Community, CreditLine, CreditSession, Meeting

UUID = "4444AAAiAAAAAiAiAiiAii=="  # the recorded fixtures' instance of meeting 81234567890
OTHER = "OtherInstance0000000001=="  # a meeting no community owns
ALICE = dict(
    user_id="16778240", user_name="Alice Ames", participant_uuid="Pp7YyHm2Q2uJbQk0bS1xWw", email="Alice@Example.org"
)
PHONE = dict(user_id="16785408", user_name="+1 555 0100", participant_uuid="Dq3TtLm9R5aXcVb2nW8yZw", email="")
BOB = dict(
    user_id="16790000", user_name="Bob Guest", participant_uuid="BobDevice000000000000w", email="bob@example.org"
)


@pytest.fixture
def cli(zoombot_cli):
    # the default zone (for meetings without a community) differs from the community's and from UTC
    return zoombot_cli('[schedule]\ntimezone = "America/Los_Angeles"\n')


def play(post_event, events):
    for body in events:
        response = post_event(body)
        assert response.status_code == 200 and response.json["status"] == "stored", response.json


@pytest.fixture
def records(cli, post_event, runtime, make_settings, tmp_path):
    """Meeting 1 (community in Pacific/Auckland): Alice (a member) and a dial-in; meeting 2 (no community):
    Bob. Returns {participant name: credit line id, and "s1"/"s2": the two sessions' ids}.

    The receiver runs with the CLI's `[schedule] timezone`: a session's date is fixed when its first
    instance is placed, in that zone for a meeting of no community."""
    runtime.settings = make_settings(schedule={"timezone": "America/Los_Angeles"})
    assert (
        cli(
            "community",
            "add",
            "Infant-Toddler CoP",
            "--zoom-meeting-id",
            "81234567890",
            "--facilitator",
            "maria@example.org",
            "--start",
            "2026-09-08T18:30",
            "--duration",
            "120",
            "--timezone",
            "Pacific/Auckland",
            "--region",
            "North",
        ).exit_code
        == 0
    )
    roster = tmp_path / "members.csv"
    roster.write_text(
        "name,email,registry_id,community\nAlice A. Member,alice@example.org,R-1,Infant-Toddler CoP\n", encoding="utf-8"
    )
    assert cli("members", "import", str(roster)).exit_code == 0
    play(
        post_event,
        [
            zoom_event("meeting_started"),  # 2026-10-13T22:30:00Z
            zoom_event("participant_joined", **ALICE),  # 22:30:10
            zoom_event("participant_left", **ALICE),  # 00:25:00 -> 6890 s
            zoom_event("participant_joined", join_time="2026-10-13T22:40:00Z", **PHONE),
            zoom_event("participant_left", leave_time="2026-10-13T23:40:00Z", **PHONE),  # 3600 s
            zoom_event("meeting_ended"),  # 2026-10-14T00:30:00Z
            zoom_event(
                "meeting_started",
                meeting_id="89999999999",
                meeting_uuid=OTHER,
                meeting_start_time="2026-10-20T05:30:00Z",
            ),
            zoom_event(
                "participant_joined",
                meeting_id="89999999999",
                meeting_uuid=OTHER,
                join_time="2026-10-20T05:30:00Z",
                **BOB,
            ),
            zoom_event(
                "participant_left",
                meeting_id="89999999999",
                meeting_uuid=OTHER,
                leave_time="2026-10-20T06:10:00Z",
                **BOB,
            ),  # 2400 s
            zoom_event(
                "meeting_ended",
                meeting_id="89999999999",
                meeting_uuid=OTHER,
                meeting_start_time="2026-10-20T05:30:00Z",
                meeting_end_time="2026-10-20T06:30:00Z",
            ),
        ],
    )
    with runtime.db.begin() as s:
        ids = dict(s.execute(select(CreditLine.participant_key, CreditLine.id)).all())
        sessions = dict(s.execute(select(CreditSession.zoom_meeting_id, CreditSession.id)).all())
        s.execute(
            update(CreditLine).where(CreditLine.participant_key == "email:alice@example.org").values(status="approved")
        )
    assert len(ids) == 3 and len(sessions) == 2  # one line per person per session
    return {
        "alice": ids["email:alice@example.org"],
        "phone": ids["name:+1 555 0100"],
        "bob": ids["email:bob@example.org"],
        "s1": sessions["81234567890"],
        "s2": sessions["89999999999"],
    }


NO_TRAINING = {
    "training_titles": "",
    "training_categories": "",
    "approval_codes": "",
    "override_reason": None,
    "no_credit_reason": None,
}


def expected(records):
    common = {
        "meeting_id": "81234567890",
        "meeting_uuid": UUID,
        "session_date": "2026-10-14",
        "community": "Infant-Toddler CoP",
        "community_region": "North",
        "kind": "growth",
        "flagged": False,
        "session_start": "2026-10-13T22:30:00Z",
        "exported_at": None,
        "session_id": records["s1"],
        "meeting_uuids": UUID,
        **NO_TRAINING,
    }
    return [
        {
            **common,
            "record_id": records["phone"],
            "participant_name": "+1 555 0100",
            "participant_email": None,
            "registry_id": None,
            "matched": False,
            "member_id": None,
            "attended_seconds": 3600,
            "hours": 1.0,
            "proposed_hours": 1.0,
            "status": "pending",
        },
        {
            **common,
            "record_id": records["alice"],
            "participant_name": "Alice A. Member",
            "participant_email": "alice@example.org",
            "registry_id": "R-1",
            "matched": True,
            "member_id": 2,
            "attended_seconds": 6890,
            "hours": 1.75,
            "proposed_hours": 1.75,
            "status": "approved",
        },
        # 22:30 on 19 October in Los Angeles: neither the UTC date nor New York's (both 20 October)
        {
            "record_id": records["bob"],
            "community": None,
            "meeting_id": "89999999999",
            "meeting_uuid": OTHER,
            "session_date": "2026-10-19",
            "participant_name": "Bob Guest",
            "participant_email": "bob@example.org",
            "registry_id": None,
            "matched": False,
            "attended_seconds": 2400,
            "hours": 0.5,
            "kind": "growth",
            "status": "pending",
            "community_region": None,
            "member_id": None,
            "proposed_hours": 0.5,
            "flagged": False,
            "session_start": "2026-10-20T05:30:00Z",
            "exported_at": None,
            "session_id": records["s2"],
            "meeting_uuids": OTHER,
            **NO_TRAINING,
        },
    ]


def test_json_export_has_every_column_with_exact_values(cli, records):
    result = cli("hours", "export", "--format", "json", "--status", "any")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected(records)
    assert list(json.loads(result.stdout)[0]) == list(ALL_COLUMNS)


def test_csv_export_has_the_same_columns(cli, records):
    result = cli("hours", "export", "--status", "any")  # csv is the default
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == list(ALL_COLUMNS)
    assert [
        (
            r["record_id"],
            r["participant_name"],
            r["participant_email"],
            r["registry_id"],
            r["matched"],
            r["attended_seconds"],
            r["hours"],
            r["status"],
            r["session_date"],
        )
        for r in rows
    ] == [
        (str(records["phone"]), "'+1 555 0100", "", "", "false", "3600", "1.00", "pending", "2026-10-14"),
        (
            str(records["alice"]),
            "Alice A. Member",
            "alice@example.org",
            "R-1",
            "true",
            "6890",
            "1.75",
            "approved",
            "2026-10-14",
        ),
        (str(records["bob"]), "Bob Guest", "bob@example.org", "", "false", "2400", "0.50", "pending", "2026-10-19"),
    ]


@pytest.mark.parametrize(
    "args, names",
    [
        (["--status", "approved"], ["alice"]),
        (["--status", "pending"], ["phone", "bob"]),
        (["--status", "rejected"], []),
        (["--to", "2026-10-14", "--status", "any"], ["phone", "alice"]),
        (["--to", "2026-10-14"], ["alice"]),  # approved by default
        (["--from", "2026-10-15", "--to", "2026-10-18"], []),
        (["--from", "2026-10-19", "--status", "any"], ["bob"]),
        (["--from", "2026-10-14", "--to", "2026-10-19", "--status", "pending"], ["phone", "bob"]),
    ],
)
def test_filters(cli, records, args, names):
    result = cli("hours", "export", "--format", "json", *args)
    assert result.exit_code == 0
    assert [r["record_id"] for r in json.loads(result.stdout)] == [records[n] for n in names]


def test_bad_filters_are_one_line(cli, records):
    result = cli("hours", "export", "--from", "2026-10-20", "--to", "2026-10-01")
    assert (result.exit_code, result.stderr) == (1, "Error: --from is after --to\n")
    result = cli("hours", "export", "--from", "13/10/2026")
    assert result.exit_code == 2 and "'13/10/2026' is not a date as YYYY-MM-DD" in result.stderr
    result = cli("hours", "export", "--status", "done")
    assert result.exit_code == 2


def test_output_file(cli, records, runtime, tmp_path):
    target = tmp_path / "hours.csv"
    result = cli("hours", "export", "--output", str(target))
    assert result.exit_code == 0
    assert result.stderr == f"exported 1 records to {target}\n" and result.stdout == ""
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [(r["record_id"], r["exported_at"]) for r in rows] == [(str(records["alice"]), "")]


def test_unwritable_output_is_one_line(cli, records, runtime, tmp_path):
    result = cli("hours", "export", "--output", str(tmp_path / "missing" / "hours.csv"))
    assert result.exit_code == 1 and result.stderr.startswith("Error: cannot write ")


def test_api_for_the_web_ui(records, runtime, make_settings):
    """What the staff UI calls: community filter, date objects, and mark_exported with an audit entry."""
    # The caller's [schedule] timezone is New York's: the session's date (placed in Los Angeles) stays its own.
    settings = make_settings()
    with runtime.db.begin() as s:
        community_id = s.scalar(select(Community.id))
        rows = export_rows(s, settings=settings)
        assert [(r["record_id"], r["session_date"]) for r in rows] == [
            (records["phone"], "2026-10-14"),
            (records["alice"], "2026-10-14"),
            (records["bob"], "2026-10-19"),
        ]
        mine = export_rows(s, settings=settings, community_ids=[community_id])
        assert [r["record_id"] for r in mine] == [records["phone"], records["alice"]]
        assert export_rows(s, settings=settings, community_ids=[]) == []
        assert [
            r["record_id"]
            for r in export_rows(s, settings=settings, date_from=date(2026, 10, 19), date_to=date(2026, 10, 19))
        ] == [records["bob"]]
        assert export_rows(s, settings=settings, date_from=date(2026, 10, 20)) == []
        with pytest.raises(ValueError):
            export_rows(s, settings=settings, status="done")
        now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
        assert (
            mark_exported(s, [records["phone"], records["bob"], records["phone"]], actor="lee@example.org", now=now)
            == 2
        )
        assert mark_exported(s, [], actor="lee@example.org", now=now) == 0
    with runtime.db.begin() as s:
        rows = {r["record_id"]: r for r in export_rows(s, settings=settings)}
        assert rows[records["phone"]]["exported_at"] == "2026-11-01T12:00:00Z"
        assert rows[records["alice"]]["exported_at"] is None
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "exported")).one()
        low, high = sorted([records["phone"], records["bob"]])
        assert (entry.actor, entry.entity, entry.entity_id, entry.to_value, entry.at) == (
            "lee@example.org",
            "credit_line",
            None,
            "2 lines",
            now,
        )
        assert entry.reason == (f"lines {low}-{high}" if high == low + 1 else f"lines {low},{high}")


def test_meeting_without_records_or_start_is_not_exported(records, runtime):
    with runtime.db.begin() as s:
        s.add(Meeting(uuid="NoRecords==", zoom_meeting_id="81234567890", discrepancies=[]))
    with runtime.db.begin() as s:
        assert [r["record_id"] for r in export_rows(s, settings=runtime.settings)] == [
            records["phone"],
            records["alice"],
            records["bob"],
        ]


def test_training_segment_gives_each_line_a_training_row(cli, records, runtime):
    """A session with a training segment exports two rows per line (growth, training) under the line's id,
    their time and hours adding up to the line's total; a session without one keeps one growth row."""
    with runtime.db.begin() as s:
        review.save_segment(
            s,
            records["s1"],
            start=datetime(2026, 10, 13, 23, 0, tzinfo=UTC),
            end=datetime(2026, 10, 13, 23, 30, tzinfo=UTC),
            title="Responsive caregiving",
            category="Child Growth and Development",
            approval_code="NV-123",
            actor="lee@example.org",
            now=datetime(2026, 10, 15, 9, 0, tzinfo=UTC),
            settings=runtime.settings,
        )
    result = cli("hours", "export", "--format", "json", "--status", "any")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [
        (
            r["record_id"],
            r["kind"],
            r["attended_seconds"],
            r["hours"],
            r["proposed_hours"],
            r["status"],
            r["flagged"],
            r["training_titles"],
            r["training_categories"],
            r["approval_codes"],
        )
        for r in rows
    ] == [
        # the dial-in, 22:40-23:40: 1.00 h in all, 30 of its minutes inside the segment
        (records["phone"], "growth", 1800, 0.5, 0.5, "pending", False, "", "", ""),
        (
            records["phone"],
            "training",
            1800,
            0.5,
            0.5,
            "pending",
            False,
            "Responsive caregiving",
            "Child Growth and Development",
            "NV-123",
        ),
        # Alice, 6890 s: still 1.75 h in all (not 1.50 h from rounding growth and training apart); her
        # approved line's split changed, so it is reopened for review
        (records["alice"], "growth", 5090, 1.25, 1.25, "pending", True, "", "", ""),
        (
            records["alice"],
            "training",
            1800,
            0.5,
            0.5,
            "pending",
            True,
            "Responsive caregiving",
            "Child Growth and Development",
            "NV-123",
        ),
        (records["bob"], "growth", 2400, 0.5, 0.5, "pending", False, "", "", ""),
    ]
    with runtime.db.begin() as s:
        alice = s.get(CreditLine, records["alice"])
        assert alice.flag_reason == (
            "approved line reopened: was approved, 1:54 attended, 1.75 h growth; "
            "now 1.25 h growth + 0.50 h training proposed"
        )
