"""The export's formats: exact CSV and JSON text for known rows."""

import csv
import io
import json

from zoombot.store.export import ALL_COLUMNS, COLUMNS, _ranges, to_csv, to_json

ROW = {
    "record_id": 7,
    "community": "Infant-Toddler CoP",
    "meeting_id": "81234567890",
    "meeting_uuid": "4444AAAiAAAAAiAiAiiAii==",
    "session_date": "2026-10-13",
    "participant_name": 'Ana, "Annie" Ruiz',
    "participant_email": "ana@example.org",
    "registry_id": "R-1",
    "matched": True,
    "attended_seconds": 6890,
    "hours": 1.75,
    "kind": "growth",
    "status": "approved",
    "session_id": 4,
    "community_region": "North",
    "member_id": 3,
    "proposed_hours": 1.5,
    "flagged": False,
    "session_start": "2026-10-13T22:30:00Z",
    "exported_at": None,
    "meeting_uuids": "4444AAAiAAAAAiAiAiiAii== 5555BBB==",
    "training_titles": "",
    "training_categories": "",
    "approval_codes": "",
    "override_reason": None,
    "no_credit_reason": None,
}
UNMATCHED = dict(
    ROW,
    record_id=8,
    participant_name='=HYPERLINK("http://x")',
    participant_email=None,
    registry_id=None,
    matched=False,
    member_id=None,
    hours=0.0,
    proposed_hours=0.0,
    community=None,
    community_region=None,
    kind="training",
    training_titles="Safe sleep",
    training_categories="Health, Safety and Nutrition",
    approval_codes="=NV-1",
    override_reason="host's own records",
)


def test_contract_columns_come_first_in_order():
    assert ALL_COLUMNS[:13] == (
        "record_id",
        "community",
        "meeting_id",
        "meeting_uuid",
        "session_date",
        "participant_name",
        "participant_email",
        "registry_id",
        "matched",
        "attended_seconds",
        "hours",
        "kind",
        "status",
    )
    assert COLUMNS == ALL_COLUMNS[:13]


def test_csv_text_is_exact():
    assert to_csv([ROW, UNMATCHED]) == (
        "record_id,community,meeting_id,meeting_uuid,session_date,participant_name,participant_email,registry_id,"
        "matched,attended_seconds,hours,kind,status,session_id,community_region,member_id,proposed_hours,flagged,"
        "session_start,exported_at,meeting_uuids,training_titles,training_categories,approval_codes,"
        "override_reason,no_credit_reason\r\n"
        '7,Infant-Toddler CoP,81234567890,4444AAAiAAAAAiAiAiiAii==,2026-10-13,"Ana, ""Annie"" Ruiz",ana@example.org,'
        "R-1,true,6890,1.75,growth,approved,4,North,3,1.50,false,2026-10-13T22:30:00Z,,"
        "4444AAAiAAAAAiAiAiiAii== 5555BBB==,,,,,\r\n"
        '8,,81234567890,4444AAAiAAAAAiAiAiiAii==,2026-10-13,"\'=HYPERLINK(""http://x"")",,,false,6890,0.00,'
        "training,approved,4,,,0.00,false,2026-10-13T22:30:00Z,,4444AAAiAAAAAiAiAiiAii== 5555BBB==,Safe sleep,"
        "\"Health, Safety and Nutrition\",'=NV-1,host's own records,\r\n"
    )


def test_csv_reads_back_with_the_same_columns():
    parsed = list(csv.DictReader(io.StringIO(to_csv([ROW]))))
    assert list(parsed[0]) == list(ALL_COLUMNS)
    assert parsed[0]["participant_name"] == 'Ana, "Annie" Ruiz'


def test_empty_export_is_a_header_or_an_empty_list():
    assert to_csv([]) == ",".join(ALL_COLUMNS) + "\r\n"
    assert json.loads(to_json([])) == []


def test_json_keeps_types_and_nulls():
    [record] = json.loads(to_json([UNMATCHED]))
    assert list(record) == list(ALL_COLUMNS)
    assert record["participant_email"] is None and record["registry_id"] is None and record["matched"] is False
    assert record["attended_seconds"] == 6890 and record["hours"] == 0.0
    assert record["participant_name"] == '=HYPERLINK("http://x")'  # JSON is not a spreadsheet: unchanged
    assert json.loads(to_json([ROW]))[0]["hours"] == 1.75


def test_ranges_are_compact():
    assert _ranges([1, 2, 3, 7, 9, 10]) == "1-3,7,9-10"
    assert _ranges([5]) == "5"
    assert _ranges([]) == ""


def test_instants_are_written_as_utc_whatever_the_driver_returns():
    """SQLite gives stored instants back naive (UTC as stored), PostgreSQL aware in the connection's zone."""
    from datetime import UTC, datetime, timedelta, timezone

    from zoombot.store.export import _iso

    assert _iso(datetime(2026, 10, 13, 22, 30)) == "2026-10-13T22:30:00Z"
    assert _iso(datetime(2026, 10, 13, 22, 30, tzinfo=UTC)) == "2026-10-13T22:30:00Z"
    assert _iso(datetime(2026, 10, 13, 18, 30, 5, tzinfo=timezone(timedelta(hours=-4)))) == "2026-10-13T22:30:05Z"
    assert _iso(None) is None
