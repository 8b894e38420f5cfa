"""Pure rules behind members' proof of hours: licensing years, verification codes, page-link expiry,
what a certificate and a transcript say, whether a certificate still holds, and claims."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoombot.core import claims
from zoombot.core import verification_codes as codes
from zoombot.core.certificates import (
    CORRECTED,
    UNDER_REVIEW,
    VALID,
    WITHDRAWN,
    Certificate,
    Credit,
    LineNow,
    SessionFacts,
    TrainingPart,
    initials,
    standing,
    training_parts,
    transcript,
)
from zoombot.core.licensing_year import LicensingYear, year_of
from zoombot.core.member_tokens import (
    MemberLink,
    PageLink,
    make_page_token,
    make_token,
    page_link_works,
    read_page_token,
    read_token,
)

UTC = UTC


# --- licensing years -----------------------------------------------------------------------------------


def test_calendar_and_july_years():
    assert year_of(date(2026, 10, 13)) == LicensingYear(2026, 1)
    assert year_of(date(2026, 10, 13)).label == "2026"
    assert year_of(date(2026, 10, 13)).span == "January 1 – December 31, 2026"
    july = year_of(date(2026, 6, 30), 7)
    assert july == LicensingYear(2025, 7) and july.label == "2025–26"
    assert july.span == "July 1, 2025 – June 30, 2026"
    assert year_of(date(2026, 7, 1), 7).label == "2026–27"
    assert year_of(date(2099, 12, 31), 7).label == "2099–00"
    with pytest.raises(ValueError):
        year_of(date(2026, 1, 1), 13)


@given(st.dates(min_value=date(1901, 1, 1), max_value=date(9998, 1, 1)), st.integers(1, 12))
def test_every_day_lies_in_exactly_its_year_and_years_tile(day, month):
    year = year_of(day, month)
    assert year.contains(day)
    assert not year.previous().contains(day)
    assert year.previous().last_day + timedelta(days=1) == year.first_day
    assert 365 <= (year.last_day - year.first_day).days + 1 <= 366


# --- verification codes --------------------------------------------------------------------------------


def test_code_shape_and_forgiving_typing():
    code = codes.new_code(bytes.fromhex("0123456789abcdef"))
    assert code == "04HMASW9NF6Y"  # 0x0123456789abcde (the top 60 bits) in Crockford base32, by hand
    assert codes.display(code) == "04HM-ASW9-NF6Y"
    assert codes.normalize("04hm asw9-nf6y") == code
    assert codes.normalize("O4HM-ASW9-NF6Y") == code  # O read as zero
    assert codes.normalize("04HM-ASW9-NF6") is None
    assert codes.normalize("04HM-ASW9-NF6U") is None  # U is not in the alphabet
    assert codes.normalize("") is None
    with pytest.raises(ValueError):
        codes.new_code(b"short")


@given(st.binary(min_size=8, max_size=8))
def test_codes_survive_display_and_typing_back(random):
    code = codes.new_code(random)
    assert len(code) == 12 and set(code) <= set(codes.ALPHABET)
    assert codes.normalize(codes.display(code).lower()) == code


def test_codes_are_random_not_sequential():
    drawn = {codes.new_code(secrets.token_bytes(8)) for _ in range(2000)}
    assert len(drawn) == 2000


# --- personal page links -------------------------------------------------------------------------------

ISSUED = datetime(2026, 10, 14, 2, 0, tzinfo=UTC)


def test_page_links_are_signed_and_expire():
    token = make_page_token("secret", 7, ISSUED)
    link = read_page_token("secret", token)
    assert link == PageLink(7, ISSUED)
    assert read_page_token("other secret", token) is None
    assert read_page_token("secret", token[:-2] + "xx") is None
    # a page link is no unsubscribe link, and the other way round
    assert read_token("secret", "unsubscribe", token) is None
    assert read_page_token("secret", make_token("secret", "unsubscribe", MemberLink(7, 1))) is None
    assert page_link_works(link, ISSUED, 30)
    assert page_link_works(link, ISSUED + timedelta(days=30) - timedelta(seconds=1), 30)
    assert not page_link_works(link, ISSUED + timedelta(days=30), 30)
    assert not page_link_works(link, ISSUED - timedelta(minutes=2), 30)


@given(st.integers(0, 10**9), st.integers(1, 365), st.integers(-(10**6), 400 * 86400))
def test_a_page_link_works_exactly_for_its_days(member, days, offset):
    issued = datetime.fromtimestamp(1_700_000_000, tz=UTC)
    link = read_page_token("k", make_page_token("k", member, issued))
    assert link.member_id == member
    now = issued + timedelta(seconds=offset)
    assert page_link_works(link, now, days) == (-60 <= offset < days * 86400)


# --- what a certificate says ------------------------------------------------------------------------------

SEGMENTS = [
    {
        "segment_id": 1,
        "title": "Safe sleep",
        "category": "Health, Safety and Nutrition",
        "approval_code": "NV-114",
        "live_seconds": 1800,
        "attended_seconds": 1620,
        "credited_seconds": 900,
        "hours": "0.25",
        "refused": None,
    },
    {
        "segment_id": 2,
        "title": "Late topic",
        "category": "",
        "approval_code": "",
        "live_seconds": 1800,
        "attended_seconds": 300,
        "credited_seconds": 0,
        "hours": "0",
        "refused": "missed more than 15 minutes",
    },
]


def credit(**overrides) -> Credit:
    values = dict(
        line_id=5,
        member_id=9,
        growth_hours=Decimal("1.50"),
        training_hours=Decimal("0.25"),
        training=training_parts(SEGMENTS),
    )
    values.update(overrides)
    return Credit(**values)


def test_only_credited_training_is_listed():
    assert training_parts(SEGMENTS) == (
        TrainingPart("Safe sleep", "Health, Safety and Nutrition", "NV-114", Decimal("0.25")),
    )
    assert training_parts(None) == ()


def test_certificate_lines():
    start = datetime(2026, 10, 13, 22, 30, tzinfo=UTC)
    session = SessionFacts(
        "Infant-Toddler CoP",
        date(2026, 10, 13),
        start,
        start + timedelta(hours=2),
        "America/New_York",
        ("Maria Lopez",),
    )
    paper = Certificate(
        issuer="Network",
        member_name="Ana Ruiz",
        registry_id="R-10442",
        session=session,
        attended_seconds=7020,
        credit=credit(),
        code="04HM-ASW9-NF6Y",
        verify_url="https://x/verify/04HM-ASW9-NF6Y",
        issued_on=date(2026, 10, 20),
    )
    assert paper.lines() == [
        ("Name", "Ana Ruiz"),
        ("Registry ID", "R-10442"),
        ("Community of Practice", "Infant-Toddler CoP"),
        ("Session", "Tuesday, October 13, 2026 at 6:30 PM – 8:30 PM EDT"),
        ("Facilitator", "Maria Lopez"),
        ("Time attended", "1 h 57 min"),
        ("Professional growth hours", "1.50"),
        ("Training hours", "0.25"),
        ("Total hours", "1.75"),
    ]


def test_fingerprint_ignores_decimal_form_and_sees_every_attested_change():
    assert credit().fingerprint() == credit(growth_hours=Decimal("1.5")).fingerprint()
    assert credit().fingerprint() != credit(growth_hours=Decimal("1.25")).fingerprint()
    assert credit().fingerprint() != credit(member_id=10).fingerprint()
    other_code = (TrainingPart("Safe sleep", "Health, Safety and Nutrition", "NV-115", Decimal("0.25")),)
    assert credit().fingerprint() != credit(training=other_code).fingerprint()
    assert Credit.from_json(credit().to_json()) == credit()


def test_standing():
    paper = credit()
    now = lambda **o: LineNow(**{"status": "approved", "flagged": False, "credit": credit(), **o})  # noqa: E731
    assert standing(paper, now()).state == VALID
    reopened = standing(paper, now(status="pending", flagged=True))
    assert reopened.state == UNDER_REVIEW and "reviewed again" in reopened.summary
    assert standing(paper, now(status="rejected")).state == WITHDRAWN
    assert standing(paper, now(status="no_credit")).state == WITHDRAWN
    assert standing(paper, None).state == WITHDRAWN
    assert standing(paper, now(credit=credit(member_id=3))).state == WITHDRAWN
    changed = standing(paper, now(credit=credit(growth_hours=Decimal("1.25"))))
    assert changed.state == CORRECTED
    assert changed.summary.endswith("it is now 1.25 growth + 0.25 training = 1.50 hours.")
    # a correction is the line's next revision: another line id, so always another paper
    corrected = standing(paper, now(credit=credit(line_id=99, training_hours=Decimal("0"))))
    assert corrected.state == CORRECTED and corrected.summary.endswith("it is now 1.50 growth = 1.50 hours.")
    assert corrected.current == credit(line_id=99, training_hours=Decimal("0"))


@pytest.mark.parametrize(
    "name,shown",
    [
        ("Ana María Ruiz-López", "A. M. R."),
        ("ana", "A."),
        ("  ", "—"),
        ("Émile Zola", "É. Z."),
        ("+1 555 0100", "—"),
        ("ßara", "ß."),
    ],
)
def test_initials(name, shown):
    assert initials(name) == shown


@given(st.text(max_size=60))
def test_initials_never_show_more_than_three_letters(name):
    shown = initials(name)
    assert shown == "—" or all(len(part) == 2 and part[1] == "." for part in shown.split())
    assert len(shown.split()) <= 3


def test_transcript_lists_approved_lines_of_the_year_and_counts_the_rest():
    def at(day: date) -> SessionFacts:
        return SessionFacts("CoP", day, None, None, "America/New_York")

    lines = [
        (at(date(2026, 3, 10)), "approved", credit(line_id=1, training=(), training_hours=Decimal("0")), "A"),
        (at(date(2026, 1, 5)), "approved", credit(line_id=2), "B"),
        (
            at(date(2026, 11, 2)),
            "pending",
            credit(line_id=3, growth_hours=Decimal("2.00"), training_hours=Decimal("0")),
            None,
        ),
        (at(date(2026, 12, 1)), "rejected", credit(line_id=4), None),
        (at(date(2025, 12, 31)), "approved", credit(line_id=5), "C"),  # the year before
    ]
    paper = transcript(
        issuer="N",
        member_name="Ana",
        registry_id=None,
        year=LicensingYear(2026),
        lines=lines,
        requirement=15,
        verify_url="u",
        issued_on=date(2026, 12, 2),
    )
    assert [r.code for r in paper.rows] == ["B", "A"]
    assert paper.hours.approved == {"growth": Decimal("3.00"), "training": Decimal("0.25")}
    assert paper.hours.pending == {"growth": Decimal("2.00"), "training": Decimal("0")}
    assert paper.hours.remaining == Decimal("11.75") and paper.hours.percent == 21
    assert paper.pending_sessions == 1
    empty = transcript(
        issuer="N",
        member_name="Ana",
        registry_id=None,
        year=LicensingYear(2030),
        lines=lines,
        requirement=15,
        verify_url="u",
        issued_on=date(2030, 1, 2),
    )
    assert empty.rows == () and empty.hours.approved_total == 0 and empty.hours.remaining == 15


# --- claims -----------------------------------------------------------------------------------------------

T = datetime(2026, 10, 13, 22, 30, tzinfo=UTC)


def test_choices_show_unmatched_guests_by_time_only():
    people = [
        claims.Unmatched("name:+1 555 0100", None, False, ((T + timedelta(minutes=1), T + timedelta(hours=2)),)),
        claims.Unmatched("email:alice@example.org", 4, False, ((T, T + timedelta(hours=2)),)),
        claims.Unmatched("name:host", None, True, ((T, T + timedelta(hours=2)),)),
        claims.Unmatched("name:nobody", None, False, ()),
        claims.Unmatched(
            "name:Gina (iPad)",
            None,
            False,
            ((T + timedelta(minutes=40), T + timedelta(hours=1)), (T, T + timedelta(minutes=20))),
        ),
    ]
    found = claims.choices(people, secret="s", session_id=3)
    assert [c.first_join for c in found] == [T, T + timedelta(minutes=1)]
    assert found[0].last_leave == T + timedelta(hours=1)
    assert found[0].ref == claims.participant_ref("s", 3, "name:Gina (iPad)")
    assert all("555" not in c.ref and "Gina" not in c.ref for c in found)
    pairs = [(p.identity_key, claims.participant_ref("s", 3, p.identity_key)) for p in people]
    assert claims.find(pairs, found[1].ref) == "name:+1 555 0100"
    assert claims.find(pairs, "0" * 20) is None
    # the reference depends on the session and the installation's secret
    assert claims.participant_ref("s", 4, "name:Gina (iPad)") != found[0].ref
    assert claims.participant_ref("t", 3, "name:Gina (iPad)") != found[0].ref


def test_claim_transitions():
    claims.check_submission(None, ref="r", description="", session_ended=True)
    claims.check_submission(claims.DECLINED, ref=None, description="by phone", session_ended=True)
    claims.check_submission(claims.OPEN, ref="r", description="", session_ended=True)
    with pytest.raises(claims.ClaimError, match="accepted already"):
        claims.check_submission(claims.ACCEPTED, ref="r", description="", session_ended=True)
    with pytest.raises(claims.ClaimError, match="Choose when"):
        claims.check_submission(None, ref=None, description="", session_ended=True)
    with pytest.raises(claims.ClaimError, match="ended"):
        claims.check_submission(None, ref="r", description="", session_ended=False)
    claims.check_withdrawal(claims.OPEN)
    with pytest.raises(claims.ClaimError):
        claims.check_withdrawal(claims.DECLINED)
    claims.check_decision(claims.OPEN, decider_email="staff@x.org", member_email="ana@x.org")
    with pytest.raises(claims.ClaimError, match="your own"):
        claims.check_decision(claims.OPEN, decider_email="Ana@X.org ", member_email="ana@x.org")
    with pytest.raises(claims.ClaimError, match="not open"):
        claims.check_decision(claims.ACCEPTED, decider_email="staff@x.org", member_email="ana@x.org")
    assert claims.resolution(True) == "merge" and claims.resolution(False) == "match"
    assert claims.clean_description("  by   phone\n\nfrom my car ") == "by phone from my car"
    assert len(claims.clean_description("x" * 5000)) == claims.MAX_DESCRIPTION
