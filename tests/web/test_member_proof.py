"""Members see and prove their hours: the personal page behind a signed, expiring link, certificates and
transcripts as PDF (read back with poppler), public verification that follows later changes, claims for
uncounted time decided by staff, mail preferences, and fresh links by e-mail address.

The session is played through the real webhook endpoint (staff_support.meeting_events): Alice
22:30:10-00:25 (1.75 h), Bob 22:45-00:00 (1.25 h), a phone dial-in 22:31-00:25 (1.75 h, unmatched), a guest
23:00-23:20 (20 min, unmatched, no credit); live 22:30-00:30 UTC = 6:30-8:30 PM in New York on Tuesday
13 October 2026. Carla, a member, was the phone.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.helpers.pdf import ink_rows, pdf_text, render_page, words
from tests.helpers.staff import add_community, add_staff, login, meeting_events, member_id, play, session_id, token_from
from zoombot.core.member_tokens import make_page_token
from zoombot.runtime import signing_secret
from zoombot.store import registry, review
from zoombot.store.models import (
    AuditEntry,
    CertificateRecord,
    CreditLine,
    Member,
    MemberClaim,
    Membership,
    OutboxMessage,
    TrainingSegment,
)

ALICE_KEY, BOB_KEY = "email:alice@example.org", "email:bob@example.org"
PHONE_KEY, GUEST_KEY = "name:+1 555 0100", "name:gina guest"
STAFF = "staff@example.org"
UTC = UTC
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def runtime(make_runtime):
    return make_runtime(
        registry={"issuer_name": "Silver State PD Network"},
        web={"base_url": "https://cop.example.org", "member_link_days": 30},
    )


@pytest.fixture
def held(runtime, post_event, clock) -> int:
    add_community(
        runtime,
        "Infant-Toddler CoP",
        "81234567890",
        members=[
            ("Alice Ames", "alice@example.org"),
            ("Bob Brown", "bob@example.org"),
            ("Carla Cruz", "carla@example.org"),
        ],
        facilitators=[("Fran Facil", "fran@example.org")],
    )
    with runtime.db.begin() as s:
        s.get(Member, member_id(runtime, "alice@example.org")).registry_id = "R-10442"
    play(post_event, meeting_events())
    clock.set(datetime(2026, 10, 15, 12, 0, tzinfo=UTC))
    return session_id(runtime)


def page_path(runtime, email: str, issued: datetime | None = None) -> str:
    token = make_page_token(signing_secret(runtime), member_id(runtime, email), issued or runtime.now())
    return f"/me/{token}"


def lines(runtime, sid) -> dict[str, CreditLine]:
    with runtime.db.begin() as s:
        return {r.participant_key: r for r in s.scalars(select(CreditLine).where(CreditLine.session_id == sid))}


def segment_and_approve(runtime, sid) -> None:
    """Training 19:00-19:30 New York (Alice and Bob were there all along: 0.50 training each, so Alice has 1.25
    growth + 0.50 training, Bob 0.75 + 0.50), then approve Alice's and Bob's lines."""
    with runtime.db.begin() as s:
        review.save_segment(
            s,
            sid,
            start=datetime(2026, 10, 13, 23, 0, tzinfo=UTC),
            end=datetime(2026, 10, 13, 23, 30, tzinfo=UTC),
            title="Safe sleep practices",
            category="Health, Safety and Nutrition",
            approval_code="NV-2026-114",
            actor=STAFF,
            now=runtime.now(),
            settings=runtime.settings,
        )
    found = lines(runtime, sid)
    with runtime.db.begin() as s:
        review.approve(s, [found[ALICE_KEY].id, found[BOB_KEY].id], actor=STAFF, now=runtime.now())


def csrf(client, path: str) -> str:
    return CSRF.search(client.get(path).get_data(as_text=True)).group(1)


# --- the page and its link ----------------------------------------------------------------------------


def test_members_link_prints_a_working_personal_link(runtime, held, client, zoombot_cli, clock):
    invoke = zoombot_cli('[web]\nsecret_key = "test-secret-key"\nbase_url = "https://cop.example.org"\n')
    made = datetime.now(UTC)  # the command runs on the real clock
    result = invoke("members", "link", "ALICE@example.org")
    assert result.exit_code == 0, result.output
    url = result.stdout.strip()
    assert url.startswith("https://cop.example.org/me/")
    until = (made + timedelta(days=30)).astimezone(ZoneInfo("America/New_York"))
    assert f"Alice Ames's page; the link works until {until:%A, %B} {until.day}, {until.year} at" in result.stderr
    clock.set(made + timedelta(minutes=1))
    body = client.get(url.removeprefix("https://cop.example.org")).get_data(as_text=True)
    assert "Alice Ames · Registry ID R-10442" in body
    assert "Tue, Oct 13, 2026" in body and "6:30 PM – 8:30 PM EDT" in body
    assert "Bob Brown" not in body and "bob@example.org" not in body  # only her own data
    missing = invoke("members", "link", "nobody@example.org")
    assert (
        missing.exit_code == 1
        and missing.stderr.strip() == "Error: no member with the e-mail address 'nobody@example.org'"
    )


def test_the_page_shows_sessions_hours_by_kind_and_status_and_yearly_progress(runtime, held, client):
    segment_and_approve(runtime, held)
    alice = client.get(page_path(runtime, "alice@example.org"))
    assert alice.status_code == 200
    text = " ".join(re.sub(r"<[^>]+>", " ", alice.get_data(as_text=True)).split())
    assert "Licensing year 2026" in text and "January 1 – December 31, 2026" in text
    # 1.25 growth + 0.50 training approved of 15: 11% (1.75 * 100 / 15 = 11.67, shown whole)
    assert "1.75 of 15.00 hours approved (11%), 13.25 to go" in text
    assert "Approved" in text and "Attended 1 h 54 min Growth 1.25 Training 0.50 Total 1.75" in text
    assert "Training: Safe sleep practices · Health, Safety and Nutrition · approval NV-2026-114 (0.50 h)" in text
    assert "Certificate of attendance (PDF)" in text
    carla = " ".join(
        re.sub(r"<[^>]+>", " ", client.get(page_path(runtime, "carla@example.org")).get_data(as_text=True)).split()
    )
    assert "Not counted" in carla and "Certificate of attendance" not in carla
    assert "0.00 of 15.00 hours approved (0%), 15.00 to go" in carla


def test_links_expire_and_forged_ones_open_nothing(runtime, held, client, clock):
    path = page_path(runtime, "alice@example.org")
    clock.set(clock() + timedelta(days=30) - timedelta(seconds=1))
    assert client.get(path).status_code == 200
    clock.set(clock() + timedelta(seconds=1))
    expired = client.get(path)
    assert expired.status_code == 410
    assert "This link to your page has expired" in expired.get_data(as_text=True)
    assert "Alice" not in expired.get_data(as_text=True)
    for broken in (path[:-3] + "abc", path[:-5]):  # forged, or cut short by a mail program: nobody's page
        answer = client.get(broken)
        text = answer.get_data(as_text=True)
        assert answer.status_code == 404 and "This link to a personal page does not work" in text
        assert 'name="email"' in text and "Alice" not in text  # the way to a fresh link, nothing of anyone
    assert client.get(path + "/certificates/1.pdf").status_code == 410


def test_a_july_licensing_year_counts_from_july(make_runtime, held, clock):
    from zoombot.app import create_app

    july = make_runtime(hours={"licensing_year_start_month": 7}, web={"base_url": "https://cop.example.org"})
    client = create_app(runtime=july, test_config={"TESTING": True}).test_client()
    text = client.get(page_path(july, "alice@example.org")).get_data(as_text=True)
    assert "Licensing year 2026–27" in text and "July 1, 2026 – June 30, 2027" in text


# --- certificates, transcripts, verification -------------------------------------------------------------


def test_certificate_pdf_says_everything_and_verifies(runtime, held, client, tmp_path):
    path = page_path(runtime, "alice@example.org")
    alice_line = lines(runtime, held)[ALICE_KEY].id
    assert client.get(f"{path}/certificates/{alice_line}.pdf").status_code == 404  # pending: no certificate yet
    segment_and_approve(runtime, held)
    bob_line = lines(runtime, held)[BOB_KEY].id
    assert client.get(f"{path}/certificates/{bob_line}.pdf").status_code == 404  # Bob's, not hers

    response = client.get(f"{path}/certificates/{alice_line}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    with runtime.db.begin() as s:
        code = s.scalar(select(CertificateRecord.code).where(CertificateRecord.line_id == alice_line))
    shown = f"{code[:4]}-{code[4:8]}-{code[8:]}"
    assert response.headers["Content-Disposition"] == f'attachment; filename="certificate-2026-10-13-{shown}.pdf"'
    text = words(pdf_text(response.data, tmp_path, "certificate"))
    for expected in [
        "Silver State PD Network",
        "Certificate of Attendance",
        "Alice Ames",
        "Registry ID R-10442",
        "Community of Practice Infant-Toddler CoP",
        "Session Tuesday, October 13, 2026 at 6:30 PM – 8:30 PM EDT",
        "Facilitator Fran Facil",
        "Time attended 1 h 54 min",
        "Professional growth hours 1.25",
        "Training hours 0.50",
        "Total hours 1.75",
        "Safe sleep practices Health, Safety and Nutrition NV-2026-114 0.50",
        f"Verification code: {shown}",
        f"Anyone can check this certificate at https://cop.example.org/verify/{shown}",
        "Issued October 15, 2026 by Silver State PD Network.",
    ]:
        assert expected in text, expected
    assert ink_rows(render_page(response.data, tmp_path, "certificate")) > 100  # a Letter page at 50 dpi: 550 rows

    # the same credit, the same code
    again = client.get(f"{path}/certificates/{alice_line}.pdf")
    assert f"Verification code: {shown}" in words(pdf_text(again.data, tmp_path, "again"))
    with runtime.db.begin() as s:
        assert s.scalar(select(func.count()).select_from(CertificateRecord)) == 1

    verified = client.get(f"/verify/{shown}").get_data(as_text=True)
    assert "Valid: the credit is approved and unchanged since this certificate was issued." in verified
    flat = " ".join(re.sub(r"<[^>]+>", " ", verified).split())
    assert "Attendee A. A. (initials only)" in flat and "Alice" not in flat and "R-10442" not in flat
    assert "Session Tuesday, October 13, 2026 at 6:30 PM – 8:30 PM EDT" in flat
    assert "Growth hours 1.25 Training hours 0.50" in flat and "Total hours 1.75" in flat
    # forgiving typing leads to the canonical address; unknown codes are not found
    assert client.get(f"/verify/{code.lower()}").headers["Location"].endswith(f"/verify/{shown}")
    assert client.get(f"/verify?code={code[:4]} {code[4:]}").headers["Location"].endswith(f"/verify/{shown}")
    assert client.get("/verify/0000-0000-0000").status_code == 404
    assert client.get("/verify/not-a-code").status_code == 404


def test_a_certificate_whose_line_changed_says_so(runtime, held, client, tmp_path):
    segment_and_approve(runtime, held)
    path = page_path(runtime, "alice@example.org")
    alice_line = lines(runtime, held)[ALICE_KEY].id
    client.get(f"{path}/certificates/{alice_line}.pdf")
    with runtime.db.begin() as s:
        first = s.scalar(select(CertificateRecord.code).where(CertificateRecord.line_id == alice_line))
    first_url = f"/verify/{first[:4]}-{first[4:8]}-{first[8:]}"

    with runtime.db.begin() as s:
        review.reopen(
            s, alice_line, actor=STAFF, now=runtime.now(), reason="check the training", settings=runtime.settings
        )
    assert "being reviewed again" in client.get(first_url).get_data(as_text=True)
    assert client.get(f"{path}/certificates/{alice_line}.pdf").status_code == 404  # no certificate while pending

    with runtime.db.begin() as s:
        review.adjust(
            s,
            alice_line,
            Decimal("1.00"),
            Decimal("0.50"),
            actor=STAFF,
            now=runtime.now(),
            reason="left during the break",
            settings=runtime.settings,
        )
        review.approve(s, [alice_line], actor=STAFF, now=runtime.now())
    changed = " ".join(re.sub(r"<[^>]+>", " ", client.get(first_url).get_data(as_text=True)).split())
    assert (
        "The credit was changed after this certificate was issued; it is now 1.00 growth + 0.50 training = "
        "1.50 hours." in changed
    )
    assert "Growth hours 1.25" in changed  # what the old paper says
    assert "Credit now 1.00 growth + 0.50 training" in changed

    new = client.get(f"{path}/certificates/{alice_line}.pdf")
    text = words(pdf_text(new.data, tmp_path, "new"))
    assert "Professional growth hours 1.00" in text
    assert f"{first[:4]}-{first[4:8]}-{first[8:]}" not in text
    with runtime.db.begin() as s:
        codes = s.scalars(select(CertificateRecord.code).where(CertificateRecord.line_id == alice_line)).all()
    assert len(codes) == 2
    second = next(c for c in codes if c != first)
    assert "Valid" in client.get(f"/verify/{second[:4]}-{second[4:8]}-{second[8:]}").get_data(as_text=True)

    with runtime.db.begin() as s:
        review.reject(s, alice_line, actor=STAFF, now=runtime.now(), reason="not a member of this CoP")
    assert "withdrawn on review" in client.get(first_url).get_data(as_text=True)


def test_a_correction_of_submitted_credit_shows_on_the_certificate_the_page_and_the_transcript(
    runtime, held, client, tmp_path
):
    """Alice's 1.25 growth + 0.50 training is submitted to the registry; then the training segment is removed,
    so her credit would be 1.75 growth: the submitted line stays as sent and a correction (revision 1) is
    made. Her old certificate reads "being reviewed again" while the correction waits and "changed" once it
    is approved; her page and transcript then count the correction alone (1.75 h, not 3.50)."""
    segment_and_approve(runtime, held)
    path = page_path(runtime, "alice@example.org")
    submitted = lines(runtime, held)[ALICE_KEY].id
    client.get(f"{path}/certificates/{submitted}.pdf")
    with runtime.db.begin() as s:
        first = s.scalar(select(CertificateRecord.code).where(CertificateRecord.line_id == submitted))
        outcome = registry.submit(s, runtime.settings, actor=STAFF, now=runtime.now())
    assert outcome.batch_id == 1  # Alice's line went; Bob's (no registry id) was held back
    first_url = f"/verify/{first[:4]}-{first[4:8]}-{first[8:]}"
    with runtime.db.begin() as s:
        segment = s.scalar(select(TrainingSegment.id).where(TrainingSegment.session_id == held))
        review.delete_segment(s, held, segment, actor=STAFF, now=runtime.now(), settings=runtime.settings)
    with runtime.db.begin() as s:
        chain = [
            (ln.revision, ln.status, ln.growth_hours, ln.training_hours, ln.corrects_id)
            for ln in s.scalars(
                select(CreditLine).where(CreditLine.participant_key == ALICE_KEY).order_by(CreditLine.revision)
            )
        ]
        correction = s.scalar(select(CreditLine.id).where(CreditLine.corrects_id == submitted))
    assert chain == [
        (0, "approved", Decimal("1.25"), Decimal("0.50"), None),
        (1, "pending", Decimal("1.75"), Decimal("0.00"), submitted),
    ]
    assert "being reviewed again" in client.get(first_url).get_data(as_text=True)
    waiting = " ".join(re.sub(r"<[^>]+>", " ", client.get(path).get_data(as_text=True)).split())
    # the submitted line counts until the correction is approved; the correction waits for review
    assert "1.75 of 15.00 hours approved (11%), 13.25 to go" in waiting
    assert "Waiting for review 0.00" in waiting  # the correction replaces the hours sent: it adds nothing
    add_staff(runtime, STAFF)  # staff's page of her counts the same: 1.25 + 0.50 approved, nothing pending
    staff = runtime_client(runtime)
    login(staff, STAFF)
    year = re.search(
        r'<tr data-year="2026">(.*?)</tr>',
        staff.get(f"/staff/members/{member_id(runtime, 'alice@example.org')}").get_data(as_text=True),
        re.S,
    )
    assert year is not None
    assert re.findall(r'<td class="num">([\d.]+)</td>', year.group(1)) == ["1.25", "0.50", "0.00", "0.00"]
    assert waiting.count("Tue, Oct 13, 2026") == 1  # one row for the session, the hours sent, told of it
    assert (
        "Approved Staff are reviewing a correction of these hours, already sent to the registry: 1.75 h growth "
        "instead. Until it is approved, the hours sent count. Attended 1 h 54 min Growth 1.25 Training 0.50"
    ) in waiting

    with runtime.db.begin() as s:
        review.approve(s, [correction], actor=STAFF, now=runtime.now())
    changed = " ".join(re.sub(r"<[^>]+>", " ", client.get(first_url).get_data(as_text=True)).split())
    assert "The credit was changed after this certificate was issued; it is now 1.75 growth = 1.75 hours." in changed
    assert "Growth hours 1.25 Training hours 0.50" in changed  # what the old paper says

    page = " ".join(re.sub(r"<[^>]+>", " ", client.get(path).get_data(as_text=True)).split())
    assert "1.75 of 15.00 hours approved (11%), 13.25 to go" in page  # not 3.50: the correction replaced it
    assert page.count("Certificate of attendance (PDF)") == 1
    assert f"/certificates/{correction}.pdf" in client.get(path).get_data(as_text=True)
    assert client.get(f"{path}/certificates/{submitted}.pdf").status_code == 404  # replaced: no new paper for it
    text = words(pdf_text(client.get(f"{path}/transcripts/2026.pdf").data, tmp_path, "transcript"))
    assert "Professional growth hours (approved) 1.75" in text and "Training hours (approved) 0.00" in text
    assert "Total approved 1.75" in text and "Safe sleep practices" not in text


def test_the_transcript_lists_the_year_with_totals_and_codes(runtime, held, client, tmp_path):
    segment_and_approve(runtime, held)
    path = page_path(runtime, "alice@example.org")
    response = client.get(f"{path}/transcripts/2026.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="transcript-2026.pdf"'
    with runtime.db.begin() as s:
        code = s.scalar(select(CertificateRecord.code))  # issued for the transcript
    text = words(pdf_text(response.data, tmp_path, "transcript"))
    for expected in [
        "Transcript of Professional Development Hours",
        "Licensing year 2026 (January 1 – December 31, 2026)",
        "Alice Ames · Registry ID R-10442",
        "Professional growth hours (approved) 1.25",
        "Training hours (approved) 0.50",
        "Total approved 1.75",
        "Yearly requirement 15.00",
        "Progress 11% · 13.25 hours to go",
        # the date and figures sit mid-row, beside the community and its training on three lines
        f"Infant-Toddler CoP\nTraining: Safe sleep practices,\n"
        f"2026-10-13 1.25 0.50 1.75 {code[:4]}-{code[4:8]}-{code[8:]}\n"
        "Health, Safety and Nutrition,\napproval NV-2026-114 (0.50 h)",
    ]:
        assert expected in text, text
    assert ink_rows(render_page(response.data, tmp_path, "transcript")) > 100
    empty = words(pdf_text(client.get(f"{path}/transcripts/2025.pdf").data, tmp_path, "empty"))
    assert "No approved sessions in this licensing year yet." in empty and "Total approved 0.00" in empty


# --- claims -----------------------------------------------------------------------------------------------


def claim_form(client, path: str, sid: int) -> tuple[str, list[tuple[str, str]]]:
    """(csrf token, [(participant ref, times shown)]) from the member's page."""
    html = client.get(path).get_data(as_text=True)
    block = html.split(f'id="session-{sid}"')[1].split("</li>")[0]
    choices = re.findall(r'name="participant" value="([0-9a-f]{20})"> ([^<]+?)\s*</label>', block)
    return token_from(html), choices


def test_a_phone_caller_claims_their_time_and_staff_match_it(runtime, held, client):
    carla = page_path(runtime, "carla@example.org")
    html = client.get(carla).get_data(as_text=True)
    assert "+1 555" not in html and "555 0100" not in html and "Gina" not in html  # others' names and numbers
    token, choices = claim_form(client, carla, held)
    assert [times for _, times in choices] == ["6:31 PM – 8:25 PM EDT", "7:00 PM – 7:20 PM EDT"]
    response = client.post(
        f"{carla}/claims/{held}",
        data={"csrf_token": token, "participant": choices[0][0], "description": "I dialled in from the car"},
    )
    assert response.status_code == 302
    page = client.get(carla).get_data(as_text=True)
    assert "You told us you were there (6:31 PM – 8:25 PM EDT): “I dialled in from the car”" in page

    add_staff(runtime, STAFF)
    staff = runtime_client(runtime)
    login(staff, STAFF)
    listing = staff.get("/staff/claims").get_data(as_text=True)
    assert "Carla Cruz" in listing and "22:31–00:25" not in listing and "18:31–20:25: +1 555 0100" in listing
    # the claim is a reason in the needs-attention queue too, on the phone's line, and counted at the top
    queue = " ".join(re.sub(r"<[^>]+>", " ", staff.get("/staff/attention?reason=claim").get_data(as_text=True)).split())
    assert "1 open claim from members waiting for a decision" in queue
    assert (
        "+1 555 0100 1.75 pending unmatched no member matched claim Carla Cruz claims this attendance as theirs"
        in queue
    )
    assert "Alice Ames" not in queue  # the filter shows the claimed line alone
    with runtime.db.begin() as s:
        claim_id = s.scalar(select(MemberClaim.id))
    staff.post(f"/staff/claims/{claim_id}/accept", data={"csrf_token": token_from(listing), "identity_key": PHONE_KEY})
    phone = lines(runtime, held)[PHONE_KEY]
    assert (phone.member_id, phone.status, phone.total_hours) == (
        member_id(runtime, "carla@example.org"),
        "pending",
        Decimal("1.75"),
    )
    with runtime.db.begin() as s:
        actions = [
            (e.actor, e.action)
            for e in s.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity.in_(("member_claim", "participant_alias")))
                .order_by(AuditEntry.id)
            )
        ]
    assert actions == [("member (personal page)", "claimed"), (STAFF, "matched"), (STAFF, "claim_accepted")]
    after = " ".join(re.sub(r"<[^>]+>", " ", client.get(carla).get_data(as_text=True)).split())
    assert "Staff accepted your claim: your time in this meeting counts" in after
    assert "Waiting for staff review" in after and "Total 1.75" in after


def runtime_client(runtime):
    from zoombot.app import create_app

    return create_app(runtime=runtime, test_config={"TESTING": True}).test_client()


def test_a_declined_claim_shows_the_reason_and_a_merge_adds_the_time(runtime, held, client):
    bob = page_path(runtime, "bob@example.org")
    token, choices = claim_form(client, bob, held)
    guest_ref = choices[1][0]
    client.post(f"{bob}/claims/{held}", data={"csrf_token": token, "participant": guest_ref})
    add_staff(runtime, STAFF)
    add_staff(runtime, "bob@example.org")  # Bob is staff too, but never decides his own claim
    with runtime.db.begin() as s:
        claim_id = s.scalar(select(MemberClaim.id))
    himself = runtime_client(runtime)
    login(himself, "bob@example.org")
    himself.post(
        f"/staff/claims/{claim_id}/decline",
        data={"csrf_token": token_from(himself.get("/staff/claims").get_data(as_text=True)), "reason": "mine"},
    )
    assert "you cannot decide a claim about your own attendance" in himself.get("/staff/claims").get_data(as_text=True)

    staff = runtime_client(runtime)
    login(staff, STAFF)
    staff_token = token_from(staff.get("/staff/claims").get_data(as_text=True))
    staff.post(f"/staff/claims/{claim_id}/decline", data={"csrf_token": staff_token, "reason": ""})
    with runtime.db.begin() as s:
        assert s.get(MemberClaim, claim_id).status == "open"  # no reason, no decline
    staff.post(
        f"/staff/claims/{claim_id}/decline",
        data={"csrf_token": staff_token, "reason": "That guest was Gina, who told us so."},
    )
    page = " ".join(re.sub(r"<[^>]+>", " ", client.get(bob).get_data(as_text=True)).split())
    assert "Staff declined your claim: That guest was Gina, who told us so." in page

    # Bob tries again: the phone was him (he has his own line, so accepting merges it into his attendance)
    token, choices = claim_form(client, bob, held)
    client.post(f"{bob}/claims/{held}", data={"csrf_token": token, "participant": choices[0][0]})
    staff.post(f"/staff/claims/{claim_id}/accept", data={"csrf_token": staff_token, "identity_key": ""})
    found = lines(runtime, held)
    # 22:31-00:25 together with 22:45-00:00 is 114 minutes: 1.75 h, one line
    assert PHONE_KEY not in found and found[BOB_KEY].total_hours == Decimal("1.75")
    with runtime.db.begin() as s:
        claim = s.get(MemberClaim, claim_id)
        assert (claim.status, claim.resolution, claim.decided_by) == ("accepted", "merge", STAFF)


def test_a_member_can_withdraw_and_claims_stay_in_their_communities(runtime, held, client):
    carla = page_path(runtime, "carla@example.org")
    token, choices = claim_form(client, carla, held)
    client.post(f"{carla}/claims/{held}", data={"csrf_token": token, "description": "by phone"})
    client.post(f"{carla}/claims/{held}", data={"csrf_token": token, "action": "withdraw"})
    with runtime.db.begin() as s:
        assert s.scalar(select(MemberClaim.status)) == "withdrawn"
    empty = client.post(f"{carla}/claims/{held}", data={"csrf_token": token}, follow_redirects=True)
    assert "Choose when you were there, or describe how you joined." in empty.get_data(as_text=True)
    stranger = add_community(runtime, "Other CoP", "89999999999", members=[("Olga Other", "olga@example.org")])
    assert stranger
    olga = page_path(runtime, "olga@example.org")
    refused = client.post(
        f"{olga}/claims/{held}", data={"csrf_token": token, "description": "me"}, follow_redirects=True
    )
    assert "That meeting is not in one of your communities." in refused.get_data(as_text=True)
    forged = client.post(
        f"{carla}/claims/{held}", data={"csrf_token": token, "participant": "f" * 20}, follow_redirects=True
    )
    assert "That entry is no longer in the list" in forged.get_data(as_text=True)


def test_facilitators_see_claims_but_do_not_decide_them(runtime, held, client):
    carla = page_path(runtime, "carla@example.org")
    token, _ = claim_form(client, carla, held)
    client.post(f"{carla}/claims/{held}", data={"csrf_token": token, "description": "by phone"})
    add_staff(runtime, "fran@example.org", role="facilitator")
    fran = runtime_client(runtime)
    login(fran, "fran@example.org")
    listing = fran.get("/staff/claims").get_data(as_text=True)
    assert "Carla Cruz" in listing and "Decline" not in listing
    with runtime.db.begin() as s:
        claim_id = s.scalar(select(MemberClaim.id))
    assert (
        fran.post(
            f"/staff/claims/{claim_id}/decline", data={"csrf_token": token_from(listing), "reason": "no"}
        ).status_code
        == 403
    )


# --- mail preferences and link requests -------------------------------------------------------------------


def test_mail_preferences_per_community(runtime, held, client):
    fran = page_path(runtime, "fran@example.org")
    html = client.get(fran).get_data(as_text=True)
    assert "Facilitator e-mails (Facilitator): agenda preparation and meeting closure" in html
    community = re.search(r'name="member_mail_shown_(\d+)"', html).group(1)
    client.post(
        f"{fran}/preferences",
        data={
            "csrf_token": token_from(html),
            f"member_mail_shown_{community}": "1",
            f"facilitator_mail_shown_{community}": "1",
            f"facilitator_mail_{community}": "on",
        },
    )
    with runtime.db.begin() as s:
        membership = s.scalar(select(Membership).where(Membership.member_id == member_id(runtime, "fran@example.org")))
        assert membership.unsubscribed_at == runtime.now() and membership.facilitator_mail_unsubscribed_at is None
    client.post(
        f"{fran}/preferences",
        data={
            "csrf_token": token_from(html),
            f"member_mail_shown_{community}": "1",
            f"facilitator_mail_shown_{community}": "1",
            f"member_mail_{community}": "on",
        },
    )
    with runtime.db.begin() as s:
        membership = s.scalar(select(Membership).where(Membership.member_id == member_id(runtime, "fran@example.org")))
        assert membership.unsubscribed_at is None and membership.facilitator_mail_unsubscribed_at == runtime.now()
        assert [
            (e.action, e.reason)
            for e in s.scalars(select(AuditEntry).where(AuditEntry.entity == "membership").order_by(AuditEntry.id))
        ] == [("unsubscribed", "member mail"), ("resubscribed", "member mail"), ("unsubscribed", "facilitator mail")]
    alice = client.get(page_path(runtime, "alice@example.org")).get_data(as_text=True)
    assert "Facilitator e-mails" not in alice  # a member gets none, so has no such preference

    # staff see whose choices these were, and find them under Fran's name (with her claim, not with anyone else's)
    carla = page_path(runtime, "carla@example.org")
    token, _ = claim_form(client, carla, held)
    client.post(f"{carla}/claims/{held}", data={"csrf_token": token, "description": "by phone"})
    add_staff(runtime, STAFF)
    staff = runtime_client(runtime)
    login(staff, STAFF)

    def about(url: str) -> list[tuple[str, str]]:
        rows = re.findall(r"<tr><td>.*?</tr>", staff.get(url).get_data(as_text=True), re.S)
        cells = [
            [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in re.findall(r"<td>(.*?)</td>", r, re.S)] for r in rows
        ]
        return [(c[2], c[3]) for c in cells]

    fran_id, carla_id = member_id(runtime, "fran@example.org"), member_id(runtime, "carla@example.org")
    assert about(f"/staff/audit?member={fran_id}") == [  # newest first
        ("unsubscribed", "Fran Facil"),
        ("resubscribed", "Fran Facil"),
        ("unsubscribed", "Fran Facil"),
    ]
    assert about(f"/staff/audit?member={carla_id}") == [("claimed", "Carla Cruz Infant-Toddler CoP · Tue Oct 13, 2026")]


def test_asking_for_a_link_answers_the_same_for_known_and_unknown_addresses(runtime, held, client):
    token = csrf(client, "/me")
    known = client.post("/me", data={"csrf_token": token, "email": " Alice@Example.org "}, follow_redirects=True)
    unknown = client.post("/me", data={"csrf_token": token, "email": "nobody@example.org"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    assert "If that address belongs to a member, a link to their page is on its way" in known.get_data(as_text=True)
    with runtime.db.begin() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "member_link")).all()
        assert [(r.recipient, r.occurrence_id, r.due_at) for r in rows] == [("alice@example.org", None, runtime.now())]
    # a second request right away queues nothing more; the fourth in 15 minutes is refused, known or not
    client.post("/me", data={"csrf_token": token, "email": "alice@example.org"})
    third = client.post("/me", data={"csrf_token": token, "email": "alice@example.org"})
    assert third.status_code == 302
    fourth = client.post("/me", data={"csrf_token": token, "email": "alice@example.org"})
    assert fourth.status_code == 429 and "Too many requests" in fourth.get_data(as_text=True)
    with runtime.db.begin() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    assert client.post("/me", data={"csrf_token": token, "email": "not an address"}).status_code == 400
    assert client.post("/me", data={"email": "alice@example.org"}).status_code == 400  # no CSRF token


def test_retention_waits_for_an_open_claim_then_strips_the_members_words(runtime, held, client, clock):
    """A claim names a participant of the session by a keyed reference to their identity: stripping the
    session first would leave staff nothing to resolve it to, so retention waits while it is open. Once it is
    decided, the member's own words (which may name anyone) and staff's reason lose their personal data with
    the rest of the session; the claim's outcome stays."""
    from jobs.retention import strip_due
    from zoombot.store import claims as claims_store
    from zoombot.store import export

    carla = page_path(runtime, "carla@example.org")
    token, _ = claim_form(client, carla, held)
    said = "I called in from Dana Diaz's phone, +1 555 0177, after dropping the twins at school"
    client.post(f"{carla}/claims/{held}", data={"csrf_token": token, "description": said})
    with runtime.db.begin() as s:
        review.approve_session(s, held, actor=STAFF, now=runtime.now())
        ids = s.scalars(select(CreditLine.id).where(CreditLine.session_id == held)).all()
        export.mark_exported(s, ids, actor=STAFF, now=runtime.now())
        claim_id = s.scalar(select(MemberClaim.id))

    clock.set(clock() + timedelta(days=400))
    assert (strip_due(runtime).sessions, strip_due(runtime).events) == (0, 0)  # every line settled, the claim open
    with runtime.db.begin() as s:
        assert s.get(MemberClaim, claim_id).description == said
        claims_store.decline(
            s, claim_id, reason="Not you: that was dana@example.org, who told us so.", actor=STAFF, now=runtime.now()
        )

    summary = strip_due(runtime)
    assert (summary.sessions, summary.failed) == (1, [])
    with runtime.db.begin() as s:
        claim = s.get(MemberClaim, claim_id)
        assert (claim.status, claim.decided_by, claim.description) == ("declined", STAFF, "[redacted]")
        assert claim.decision_reason == "Not you: that was [redacted], who told us so."
        trail = [
            (a.action, a.from_value, a.to_value, a.reason)
            for a in s.scalars(select(AuditEntry).where(AuditEntry.entity == "member_claim").order_by(AuditEntry.id))
        ]
    assert trail == [
        ("claimed", None, "said: [redacted]", None),
        ("claim_declined", "said: [redacted]", "declined", "Not you: that was [redacted], who told us so."),
    ]
    assert all("Dana" not in str(row) and "0177" not in str(row) for row in trail)
    page = client.get(page_path(runtime, "carla@example.org")).get_data(as_text=True)  # a fresh link, a year on
    page = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "Staff declined your claim: Not you: that was [redacted], who told us so." in page
    assert "twins" not in page


def test_a_rejected_correction_leaves_the_hours_sent_alone_on_the_page(runtime, held, client):
    """Staff reject the correction (the training did happen after all): the page shows the hours sent, as
    sent, with no word of a correction and nothing waiting."""
    segment_and_approve(runtime, held)
    path = page_path(runtime, "alice@example.org")
    with runtime.db.begin() as s:
        registry.submit(s, runtime.settings, actor=STAFF, now=runtime.now())
        segment = s.scalar(select(TrainingSegment.id).where(TrainingSegment.session_id == held))
        review.delete_segment(s, held, segment, actor=STAFF, now=runtime.now(), settings=runtime.settings)
    with runtime.db.begin() as s:
        correction = s.scalar(select(CreditLine.id).where(CreditLine.corrects_id.is_not(None)))
        review.reject(s, correction, actor=STAFF, now=runtime.now(), reason="the training took place")
    page = " ".join(re.sub(r"<[^>]+>", " ", client.get(path).get_data(as_text=True)).split())
    assert page.count("Tue, Oct 13, 2026") == 1 and "correction" not in page.lower()
    assert "1.75 of 15.00 hours approved (11%), 13.25 to go" in page and "Waiting for review 0.00" in page
    assert "Approved Attended 1 h 54 min Growth 1.25 Training 0.50" in page


def test_a_name_in_korean_chinese_or_japanese_prints_and_no_letter_is_logged(runtime, held, client, tmp_path, caplog):
    """DejaVu Sans has no Hangul or Han letters: the fallback font prints them. A letter no font has (Ethiopic
    here) prints as a blank, and the PDF library's warning, which quotes it, never reaches the logs."""
    with runtime.db.begin() as s:
        s.get(Member, member_id(runtime, "alice@example.org")).name = "김은지 王小明 山田花子 ሰላም"
    segment_and_approve(runtime, held)
    path = page_path(runtime, "alice@example.org")
    alice_line = lines(runtime, held)[ALICE_KEY].id
    with caplog.at_level(logging.DEBUG):
        response = client.get(f"{path}/certificates/{alice_line}.pdf")
        transcript = client.get(f"{path}/transcripts/2026.pdf")
    assert response.status_code == 200 and transcript.status_code == 200
    assert "김은지 王小明 山田花子" in words(pdf_text(response.data, tmp_path, "certificate"))
    assert "김은지 王小明 山田花子" in words(pdf_text(transcript.data, tmp_path, "transcript"))
    logged = " ".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    assert not any(letter in logged for letter in "김은지王小明山田花子ሰላም")
