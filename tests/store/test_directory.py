"""The directory's pure half: community options and the members CSV plan (line numbers exact)."""

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoombot.core.passwords import check_password, hash_password, validate_password
from zoombot.store.directory import (
    HeaderError,
    MemberRow,
    RowError,
    clean_text,
    community_spec,
    decode_csv,
    is_valid_email,
    normalize_zoom_meeting_id,
    parse_local_start,
    plan_import,
)

COMMUNITIES = {"infant-toddler cop": 1, "preschool cop": 2}


def plan(text, owners=None):
    return plan_import(text, communities=COMMUNITIES, registry_owners=owners or {})


def errors(text, owners=None):
    return [(e.line, e.message) for e in plan(text, owners).errors]


# --- community add -------------------------------------------------------------------------------------


def spec(**overrides):
    values = dict(
        name="  Infant-Toddler   CoP ",
        zoom_meeting_id="855 0000 0001",
        facilitator=" Maria@Example.ORG ",
        start="2026-09-08T18:30",
        duration=120,
        rrule="rrule:freq=monthly;byday=2tu",
        timezone=None,
        audience=" Teachers ",
        region="North",
        default_timezone="America/Chicago",
    )
    values.update(overrides)
    return community_spec(**values)


def test_community_spec_normalises_every_field():
    s = spec()
    assert s.name == "Infant-Toddler CoP"
    assert s.zoom_meeting_id == "85500000001"
    assert s.facilitator_email == "maria@example.org"
    assert s.first_start_local == datetime(2026, 9, 8, 18, 30)
    assert s.first_start_local.tzinfo is None
    assert s.rrule == "FREQ=MONTHLY;BYDAY=2TU"
    assert s.timezone == "America/Chicago"  # the configured default
    assert (s.audience, s.region, s.duration_minutes) == ("Teachers", "North", 120)
    assert spec(timezone="America/New_York", rrule=None).timezone == "America/New_York"
    assert spec(rrule="  ").rrule is None


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"name": "   "}, "name must not be empty"),
        ({"zoom_meeting_id": None}, "--zoom-meeting-id is required"),
        ({"zoom_meeting_id": "12ab"}, "--zoom-meeting-id must be a Zoom meeting number"),
        ({"zoom_meeting_id": "1234"}, "--zoom-meeting-id must be a Zoom meeting number"),
        ({"create_zoom_meeting": True}, "either --zoom-meeting-id or --create-zoom-meeting"),
        ({"facilitator": "maria"}, "--facilitator must be an e-mail address"),
        ({"start": "2026-09-08"}, "--start must be a local date and time"),
        ({"start": "2026-02-30T18:30"}, "--start must be a local date and time"),
        ({"duration": 0}, "--duration must be a number of minutes"),
        ({"duration": 1441}, "--duration must be a number of minutes"),
        ({"rrule": "FREQ=HOURLY"}, "--rrule: RRULE FREQ=HOURLY is not supported"),
        ({"rrule": "FREQ=MONTHLY;BYDAY=9TU"}, "--rrule:"),
        ({"timezone": "Mars/Olympus"}, "--timezone: unknown timezone"),
        ({"region": "x" * 201}, "--region is longer than 200"),
    ],
)
def test_community_spec_rejects_with_the_option_named(overrides, message):
    with pytest.raises(ValueError) as info:
        spec(**overrides)
    assert message in str(info.value)


def test_create_zoom_meeting_needs_no_meeting_id():
    assert spec(zoom_meeting_id=None, create_zoom_meeting=True).zoom_meeting_id is None


def test_local_start_accepts_a_space_and_meeting_ids_with_dashes():
    assert parse_local_start("2026-09-08 18:30") == datetime(2026, 9, 8, 18, 30)
    assert normalize_zoom_meeting_id("855-0000-0001") == "85500000001"


@pytest.mark.parametrize(
    "email, ok",
    [
        ("a@example.org", True),
        ("first.last+cop@sub.example.co", True),
        ("a@b", False),
        ("a@@b.org", False),
        ("a b@example.org", False),
        ("@example.org", False),
        ("a@example.", False),
        ("a@example..org", False),
        ("", False),
        ("x" * 320 + "@example.org", False),
    ],
)
def test_email_validation(email, ok):
    assert is_valid_email(email) is ok


# --- members CSV ---------------------------------------------------------------------------------------

HEADER = "name,email,registry_id,community,role\n"


def test_good_rows_are_normalised():
    p = plan(
        HEADER + "  Ana   Ruiz ,ANA@Example.org , R-1 , infant-toddler  COP ,\n"
        "Bo,bo@example.org,,Preschool CoP,Facilitator\n"
    )
    assert p.errors == []
    assert p.rows == [
        MemberRow(line=2, name="Ana Ruiz", email="ana@example.org", registry_id="R-1", community_id=1, role="member"),
        MemberRow(line=3, name="Bo", email="bo@example.org", registry_id=None, community_id=2, role="facilitator"),
    ]


def test_role_column_is_optional_and_columns_may_come_in_any_order():
    p = plan("community,email,name,registry_id\nPreschool CoP,c@example.org,Cy,R-9\n")
    assert p.rows == [MemberRow(2, "Cy", "c@example.org", "R-9", 2, "member")]


def test_bad_rows_are_reported_by_line_and_good_rows_kept():
    text = (
        HEADER  # line 1
        + "Ana,ana@example.org,R-1,Infant-Toddler CoP,\n"  # 2 ok
        + "\n"  # 3 blank
        + ",nobody@example.org,,Infant-Toddler CoP,\n"  # 4 no name
        + "Bo,,,Infant-Toddler CoP,\n"  # 5 no email
        + "Cy,cy-at-example.org,,Infant-Toddler CoP,\n"  # 6 invalid email
        + "Di,di@example.org,,Toddler Lounge,\n"  # 7 unknown community
        + "Ed,ed@example.org,,Infant-Toddler CoP,host\n"  # 8 bad role
        + "Fay,fay@example.org,R-TAKEN,Infant-Toddler CoP,\n"  # 9 registry id of another member
        + "Ana,ANA@example.org,R-1,Infant-Toddler CoP,\n"  # 10 duplicate of 2
        + "Gus,gus@example.org,R-1,Preschool CoP,\n"  # 11 R-1 already given on line 2
        + "Ana B,ana@example.org,R-1,Preschool CoP,\n"  # 12 same email, other name
        + "Hal,hal@example.org,,,\n"  # 13 no community
        + "Ivy,ivy@example.org,,Preschool CoP,member,extra\n"  # 14 too many fields
        + "   ,  ,  ,  ,\n"  # 15 blank in effect
        + "Jo,jo@example.org,,Preschool CoP\n"
    )  # 16 ok (role omitted)
    p = plan(text, owners={"R-TAKEN": "someone@example.org"})
    assert [(e.line, e.message) for e in p.errors] == [
        (4, "name is missing"),
        (5, "email is missing"),
        (6, "email is not a valid address"),
        (7, "unknown community 'Toddler Lounge' (add it first with `zoombot community add`)"),
        (8, "role must be one of facilitator, co-facilitator, note-taker, timekeeper, member, got 'host'"),
        (9, "registry_id already belongs to another member"),
        (10, "duplicate of line 2 (same email and community)"),
        (11, "registry_id is also given to another member on line 2"),
        (12, "same email as line 2 but a different name or registry_id"),
        (13, "community is missing"),
        (14, "6 fields where the header has 5"),
    ]
    assert [r.line for r in p.rows] == [2, 16]
    assert str(p.errors[0]) == "line 4: name is missing"


def test_same_person_in_two_communities_is_two_good_rows():
    p = plan(
        HEADER + "Ana,ana@example.org,R-1,Infant-Toddler CoP,\nAna,ana@example.org,R-1,Preschool CoP,facilitator\n"
    )
    assert p.errors == [] and [(r.community_id, r.role) for r in p.rows] == [(1, "member"), (2, "facilitator")]


def test_a_member_keeps_their_own_registry_id():
    assert errors(HEADER + "Ana,ana@example.org,R-1,Infant-Toddler CoP,\n", owners={"R-1": "ana@example.org"}) == []


def test_quoted_fields_spanning_lines_keep_the_line_numbers_of_their_start():
    text = HEADER + '"Ana\nRuiz",ana@example.org,,Infant-Toddler CoP,\nBo,bad,,Infant-Toddler CoP,\n'
    p = plan(text)
    assert p.rows[0].name == "Ana Ruiz" and p.rows[0].line == 2
    assert errors(text) == [(4, "email is not a valid address")]


def test_windows_line_endings_bom_and_semicolons():
    text = decode_csv(
        "\ufeffname;email;registry_id;community\r\nAna;ana@example.org;;Preschool CoP\r\n".encode("utf-8")
    )
    assert plan(text).rows == [MemberRow(2, "Ana", "ana@example.org", None, 2, "member")]


def test_leading_blank_lines_shift_the_header():
    p = plan("\n\n" + HEADER + "Bo,bad,,Preschool CoP,\n")
    assert p.errors == [RowError(4, "email is not a valid address")]


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "the file is empty"),
        ("\n  \n", "the file is empty"),
        ("Ana,ana@example.org,R-1,Infant-Toddler CoP\n", "line 1: the first line must be the header"),
        ("name,email,community\n", "missing column(s) registry_id"),
        ("name,email,registry_id,community,phone\n", "unknown column(s) phone"),
        ("name,email,email,registry_id,community\n", "column(s) email given twice"),
    ],
)
def test_header_problems_are_one_error(text, message):
    with pytest.raises(HeaderError) as info:
        plan(text)
    assert message in str(info.value)


def test_not_utf8_is_one_clear_error():
    with pytest.raises(HeaderError, match="not UTF-8"):
        decode_csv("name,email\nJosé".encode("latin-1"))


@given(
    st.lists(
        st.tuples(
            st.text(max_size=12),
            st.sampled_from(["a@example.org", "B@example.org", "bad", ""]),
            st.sampled_from(["", "R-1", "R-2"]),
            st.sampled_from(["Preschool CoP", "Nope", ""]),
            st.sampled_from(["", "member", "facilitator", "x"]),
        ),
        max_size=12,
    )
)
def test_every_row_is_either_loaded_or_reported_once(rows):
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["name", "email", "registry_id", "community", "role"])
    writer.writerows(rows)
    p = plan(out.getvalue())
    non_blank = [i + 2 for i, row in enumerate(rows) if any(clean_text(f) for f in row)]
    # rows may contain embedded newlines, so compare counts, and lines must be strictly increasing
    reported = sorted([r.line for r in p.rows] + [e.line for e in p.errors])
    assert len(reported) == len(non_blank) == len(set(reported))
    assert len({(r.email, r.community_id) for r in p.rows}) == len(p.rows)
    registry = {}
    for r in p.rows:
        if r.registry_id:
            assert registry.setdefault(r.registry_id, r.email) == r.email


# --- passwords -----------------------------------------------------------------------------------------


def test_passwords_hash_with_scrypt_and_check():
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("scrypt:") and "correct" not in hashed
    assert check_password(hashed, "correct horse battery")
    assert not check_password(hashed, "correct horse batterY")
    assert not check_password("", "anything at all")
    assert not check_password("md5$nonsense", "anything at all")


@pytest.mark.parametrize("password", ["short", "123456789", " " * 12])
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValueError):
        validate_password(password)
