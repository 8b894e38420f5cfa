"""The staff pages through the Flask test client: what they show, and the review actions they post."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event, select, update

from tests.helpers.staff import (
    add_community,
    add_staff,
    csrf_of,
    login,
    meeting_events,
    meeting_id,
    member_id,
    play,
    session_id,
)
from zoombot.store.models import (
    AuditEntry,
    CreditLine,
    CreditSession,
    Meeting,
    Member,
    Participant,
    ParticipantAlias,
    TrainingSegment,
)

ALICE_KEY, PHONE_KEY, GUEST_KEY = "email:alice@example.org", "name:+1 555 0100", "name:gina guest"
BOB_KEY = "email:bob@example.org"


@pytest.fixture
def signed_in(client, runtime, post_event, clock):
    add_community(
        runtime,
        "Infant-Toddler CoP",
        "81234567890",
        members=[
            ("Alice Ames", "alice@example.org"),
            ("Bob Brown", "bob@example.org"),
            ("Gina Guest", "gina@example.org"),
        ],
        facilitators=[("Fran Facil", "fran@example.org")],
    )
    play(post_event, meeting_events())
    clock.set(datetime(2026, 10, 15, 12, 0, tzinfo=UTC))
    add_staff(runtime, "staff@example.org")
    assert login(client, "staff@example.org").status_code == 302
    return client


def records(runtime) -> dict[str, CreditLine]:
    with runtime.db.begin() as s:
        return {r.participant_key: r for r in s.scalars(select(CreditLine))}


def test_dashboard_lists_the_session_awaiting_review(signed_in, runtime):
    page = signed_in.get("/staff/").get_data(as_text=True)
    assert f'href="/staff/sessions/{session_id(runtime)}"' in page
    assert re.search(r"<strong>3</strong><span>pending lines</span>", page)  # the guest's line has no credit


def test_an_instance_page_is_its_session_page(signed_in, runtime):
    response = signed_in.get(f"/staff/meetings/{meeting_id(runtime)}")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/staff/sessions/{session_id(runtime)}"
    )


def test_session_page_shows_participants_flags_timeline_and_local_times(signed_in, runtime):
    page = signed_in.get(f"/staff/sessions/{session_id(runtime)}").get_data(as_text=True)
    assert "Live 18:30–20:30 (America/New_York)" in page
    for text in ("Alice Ames", "Bob Brown", "+1 555 0100", "Gina Guest"):
        assert text in page
    assert page.count('<span class="badge bad">unmatched</span>') == 2  # phone and guest
    assert '<span class="badge warn">below minimum</span>' in page  # the guest's 20 minutes
    assert page.count('<span class="badge warn">late join</span>') == 2  # Bob (22:45) and the guest (23:00)
    assert page.count('<span class="badge warn">early leave</span>') == 2  # Bob (00:00) and the guest
    assert ">1:54<" in page  # Alice's 6890 s as h:mm
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and 'aria-label="Alice Ames: 18:30–20:25"' in page
    assert page.count("<title>Alice Ames: 18:30–20:25</title>") == 1


def test_review_actions_through_the_forms(signed_in, runtime):
    sid = session_id(runtime)
    token = csrf_of(signed_in)
    before = records(runtime)
    response = signed_in.post(f"/staff/lines/{before[ALICE_KEY].id}/approve", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/staff/sessions/{sid}#line-{before[ALICE_KEY].id}"
    )
    signed_in.post(
        f"/staff/records/{before[PHONE_KEY].id}/adjust",  # the old address still works
        data={"csrf_token": token, "growth": "1,5", "training": "0", "reason": "joined by phone, camera off"},
    )
    bad = signed_in.post(
        f"/staff/lines/{before[BOB_KEY].id}/reject", data={"csrf_token": token, "reason": ""}, follow_redirects=True
    )
    assert "a reason is required" in bad.get_data(as_text=True)
    signed_in.post(
        f"/staff/sessions/{sid}/match",
        data={"csrf_token": token, "identity_key": GUEST_KEY, "member": "Gina Guest <gina@example.org>"},
    )
    after = records(runtime)
    assert after[ALICE_KEY].status == "approved"
    assert (after[PHONE_KEY].growth_hours, after[PHONE_KEY].status) == (Decimal("1.50"), "pending")
    assert (after[GUEST_KEY].status, after[GUEST_KEY].member_id) == (
        "no_credit",
        member_id(runtime, "gina@example.org"),
    )
    with runtime.db.begin() as s:
        s.execute(update(Member).where(Member.email == "bob@example.org").values(registry_id="R-10443"))
    confirm = signed_in.get(f"/staff/sessions/{sid}/approve-clean").get_data(as_text=True)
    assert "1 line will be approved" in confirm and "1 line will be left pending" in confirm
    assert "no matched member" in confirm  # the phone dial-in, left for a person
    page = signed_in.post(
        f"/staff/sessions/{sid}/approve-clean",
        follow_redirects=True,
        data={"csrf_token": token, "line": str(before[BOB_KEY].id)},
    ).get_data(as_text=True)
    assert "Approved 1 clean line." in page
    assert {k: r.status for k, r in records(runtime).items()} == {
        ALICE_KEY: "approved",
        BOB_KEY: "approved",
        PHONE_KEY: "pending",
        GUEST_KEY: "no_credit",
    }
    with runtime.db.begin() as s:
        actions = [
            (e.actor, e.action)
            for e in s.scalars(select(AuditEntry).where(AuditEntry.actor != "system").order_by(AuditEntry.id))
        ]
    assert actions == [("staff@example.org", a) for a in ["approved", "adjusted", "matched", "approved"]]
    assert "joined by phone, camera off" in page  # the trail is on the session page


def test_match_by_typed_email_and_unknown_email(signed_in, runtime):
    mid = session_id(runtime)
    token = csrf_of(signed_in)
    page = signed_in.post(
        f"/staff/sessions/{mid}/match",
        follow_redirects=True,
        data={"csrf_token": token, "identity_key": PHONE_KEY, "member": "nobody@example.org"},
    )
    assert "no member with that email address" in page.get_data(as_text=True)
    signed_in.post(
        f"/staff/sessions/{mid}/match",
        data={"csrf_token": token, "identity_key": PHONE_KEY, "member": " BOB@example.org "},
    )
    bob = member_id(runtime, "bob@example.org")
    with runtime.db.begin() as s:
        assert s.scalar(select(ParticipantAlias.member_id)) == bob


def test_merge_undo_and_training_segment_forms(signed_in, runtime):
    sid = session_id(runtime)
    token = csrf_of(signed_in)
    signed_in.post(f"/staff/sessions/{sid}/merge", data={"csrf_token": token, "source": PHONE_KEY, "target": ALICE_KEY})
    assert PHONE_KEY not in records(runtime)
    page = signed_in.get(f"/staff/sessions/{sid}").get_data(as_text=True)
    assert "+1 555 0100 is Alice Ames" in page
    undo = re.search(r'action="(/staff/sessions/\d+/merges/\d+/undo)"', page).group(1)
    signed_in.post(undo, data={"csrf_token": token})
    assert PHONE_KEY in records(runtime)
    page = signed_in.post(
        f"/staff/sessions/{sid}/segments",
        follow_redirects=True,
        data={
            "csrf_token": token,
            "start": "19:00",
            "end": "19:30",
            "title": "Safe sleep practices",
            "category": "Health, Safety and Nutrition",
            "approval_code": "NV-114",
        },
    ).get_data(as_text=True)
    assert "Training segment saved" in page
    with runtime.db.begin() as s:
        segment = s.scalars(select(TrainingSegment)).one()
        assert (segment.start, segment.end, segment.title, segment.category, segment.approval_code) == (
            datetime(2026, 10, 13, 23, 0, tzinfo=UTC),
            datetime(2026, 10, 13, 23, 30, tzinfo=UTC),
            "Safe sleep practices",
            "Health, Safety and Nutrition",
            "NV-114",
        )
    alice = records(runtime)[ALICE_KEY]
    assert (alice.growth_hours, alice.training_hours) == (Decimal("1.25"), Decimal("0.50"))
    assert "<title>Elective training 19:00–19:30</title>" in page
    wrong = signed_in.post(
        f"/staff/sessions/{sid}/segments",
        follow_redirects=True,
        data={"csrf_token": token, "start": "17:00", "end": "17:30", "title": "Too early"},
    ).get_data(as_text=True)
    assert "within the time the session was live" in wrong
    signed_in.post(f"/staff/sessions/{sid}/segments/{segment.id}/delete", data={"csrf_token": token})
    alice = records(runtime)[ALICE_KEY]
    assert (alice.growth_hours, alice.training_hours) == (Decimal("1.75"), Decimal("0.00"))


def test_member_page_counts_hours_per_local_year(signed_in, runtime):
    token = csrf_of(signed_in)
    alice = records(runtime)[ALICE_KEY]
    signed_in.post(f"/staff/lines/{alice.id}/approve", data={"csrf_token": token})
    page = signed_in.get(f"/staff/members/{member_id(runtime, 'alice@example.org')}").get_data(as_text=True)
    assert re.search(r"<td>2026</td>\s*<td class=\"num\">1.75</td>\s*<td class=\"num\">0.00</td>", page)
    assert "1.75 of 15 h approved, 13.25 h to go" in page
    bob_page = signed_in.get(f"/staff/members/{member_id(runtime, 'bob@example.org')}").get_data(as_text=True)
    assert "0.00 of 15 h approved" in bob_page and re.search(r'<td class="num">1.25', bob_page)


def test_members_search(signed_in):
    page = signed_in.post("/staff/members", data={"q": "BOB", "csrf_token": csrf_of(signed_in)}).get_data(as_text=True)
    assert "Bob Brown" in page and "Alice Ames" not in page


def test_export_download_defaults_to_approved(signed_in, runtime):
    token = csrf_of(signed_in)
    alice = records(runtime)[ALICE_KEY]
    signed_in.post(f"/staff/records/{alice.id}/approve", data={"csrf_token": token})
    response = signed_in.get("/staff/export/download?format=csv&from=2026-10-13&to=2026-10-13&status=approved")
    assert response.headers["Content-Disposition"] == 'attachment; filename="hours-2026-10-13-2026-10-13-approved.csv"'
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["participant_email"], r["hours"], r["session_date"], r["status"]) for r in rows] == [
        ("alice@example.org", "1.75", "2026-10-13", "approved")
    ]
    assert signed_in.get("/staff/export/download?format=csv&from=2026-10-14").get_data(as_text=True).count("\n") == 1
    page = signed_in.get("/staff/export?from=2026-10-13&to=2026-10-13").get_data(as_text=True)
    assert "1 line chosen" in page  # approved by default
    assert '<option value="no_credit">no credit</option>' in page  # the filter says the status in words
    every = signed_in.get("/staff/export/download?format=json&status=").get_json()
    assert len(every) == 4
    assert signed_in.post("/staff/export/mark", data={"csrf_token": token}).status_code == 404  # gone: see registry


def test_audit_page_filters_by_record(signed_in, runtime):
    token = csrf_of(signed_in)
    phone = records(runtime)[PHONE_KEY]
    signed_in.post(f"/staff/records/{phone.id}/reject", data={"csrf_token": token, "reason": "wrong number"})
    page = signed_in.get(f"/staff/audit?line={phone.id}").get_data(as_text=True)
    assert "wrong number" in page and page.count("<tr><td>") == 2  # created, rejected
    guest = records(runtime)[GUEST_KEY]
    trail = signed_in.get(f"/staff/audit?line={guest.id}").get_data(as_text=True)
    assert "<td>no credit, 0:20 attended, 0.00 h growth" in trail and "no_credit" not in trail


def test_audit_page_names_a_community_an_entry_is_about(signed_in, runtime):
    """An entry about a community (its join details or rules saved) reads with the community's name; it once
    took the whole trail down with a 500 for every staff user."""
    from zoombot.store.audit import audit
    from zoombot.store.models import Community

    with runtime.db.begin() as s:
        cid = s.scalar(select(Community.id))
        audit(s, actor="staff@example.org", entity="community", entity_id=cid, action="edited", to_value="passcode")
    for url in ("/staff/audit", f"/staff/audit?community={cid}"):
        response = signed_in.get(url)
        assert response.status_code == 200, url
        assert "Infant-Toddler CoP" in response.get_data(as_text=True)


def test_community_page(signed_in, runtime):
    with runtime.db.begin() as s:
        from zoombot.store.models import Community

        cid = s.scalar(select(Community.id))
    page = signed_in.get(f"/staff/communities/{cid}").get_data(as_text=True)
    assert "Facilitators:</strong>" in page and "Fran Facil" in page and "Members (4)" in page


def test_session_page_queries_do_not_grow_with_participants(signed_in, runtime):
    """No N+1: 300 participants cost no more queries than 4."""
    small_member = member_id(runtime, "alice@example.org")

    def queries_for(mid: int) -> int:
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(runtime.db.engine, "before_cursor_execute", listener)
        try:
            assert signed_in.get(f"/staff/sessions/{mid}").status_code == 200
        finally:
            event.remove(runtime.db.engine, "before_cursor_execute", listener)
        return len(seen)

    with runtime.db.begin() as s:  # rows as the webhook handlers derive them (playing 600 events is slow)
        small = s.get(CreditSession, session_id(runtime))
        held = CreditSession(
            key="big",
            zoom_meeting_id="81234567890",
            local_date=small.local_date,
            community_id=small.community_id,
            topic="Big",
            status="ended",
            started_at=small.started_at,
            ended_at=small.ended_at,
            scheduled_minutes=120,
        )
        s.add(held)
        s.flush()
        s.add(
            Meeting(
                uuid="BIGmeeting000000000000==",
                zoom_meeting_id="81234567890",
                session_id=held.id,
                community_id=small.community_id,
                topic="Big",
                status="ended",
                started_at=small.started_at,
                ended_at=small.ended_at,
                scheduled_minutes=120,
            )
        )
        big = held.id
        for i in range(300):
            key = f"email:p{i:03d}@example.org"
            s.add(
                Participant(
                    session_id=big,
                    identity_key=key,
                    name=f"Person {i:03d}",
                    email=key[6:],
                    attended_seconds=6000,
                    devices=1,
                    member_id=small_member if i % 2 else None,
                    intervals=[["2026-10-13T22:31:00+00:00", "2026-10-14T00:11:00+00:00", "webhook"]],
                )
            )
            s.add(
                CreditLine(
                    session_id=big,
                    participant_key=key,
                    attended_seconds=6000,
                    proposed_growth_hours=Decimal("1.50"),
                    growth_hours=Decimal("1.50"),
                    member_id=small_member if i % 2 else None,
                )
            )
    assert queries_for(big) <= queries_for(session_id(runtime))


def test_community_credit_rules_are_set_by_staff_and_used_by_the_lines(signed_in, runtime, clock):
    from zoombot.store import review
    from zoombot.store.models import Community

    with runtime.db.begin() as s:
        cid = s.scalar(select(Community.id))
    sid = session_id(runtime)
    token = csrf_of(signed_in)
    bad = signed_in.post(
        f"/staff/communities/{cid}/rules", follow_redirects=True, data={"csrf_token": token, "minimum_minutes": "-5"}
    ).get_data(as_text=True)
    assert "minimum minutes must be a whole number from 0 to 600" in bad
    page = signed_in.post(
        f"/staff/communities/{cid}/rules",
        follow_redirects=True,
        data={
            "csrf_token": token,
            "minimum_minutes": "15",
            "attendance_percent_minimum": "",
            "training_full_attendance": "yes",
            "training_missed_minutes": "10",
            "training_minimum_minutes": "",
        },
    ).get_data(as_text=True)
    assert "Credit rules saved" in page
    assert "Attendance under 15 minutes earns no hours." in page
    assert "missing more than 10 minutes of it" in page
    with runtime.db.begin() as s:
        rules = s.get(Community, cid)
        assert (
            rules.minimum_minutes,
            rules.attendance_percent_minimum,
            rules.training_full_attendance,
            rules.training_missed_minutes,
            rules.training_minimum_minutes,
        ) == (15, None, True, 10, None)
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "credit_rules")).one()
        assert entry.actor == "staff@example.org" and entry.to_value.startswith("minimum minutes 15")
        # a segment 19:00-19:30: Bob (from 18:45) and Alice were there all along; the guest (19:00-19:20)
        # missed 10 minutes (allowed) and, at 20 minutes, now passes the community's 15-minute minimum
        review.save_segment(
            s,
            sid,
            start=datetime(2026, 10, 13, 23, 0, tzinfo=UTC),
            end=datetime(2026, 10, 13, 23, 30, tzinfo=UTC),
            title="Safe sleep",
            category="",
            approval_code="",
            actor="staff@example.org",
            now=clock(),
            settings=runtime.settings,
        )
    guest = records(runtime)[GUEST_KEY]
    assert (guest.status, guest.growth_hours, guest.training_hours) == ("pending", Decimal("0.00"), Decimal("0.25"))


def test_facilitators_cannot_change_credit_rules(client, runtime, post_event, clock):
    from zoombot.store.models import Community

    add_community(runtime, "Infant-Toddler CoP", "81234567890", facilitators=[("Fran Facil", "fran@example.org")])
    add_staff(runtime, "fran@example.org", role="facilitator")
    login(client, "fran@example.org")
    with runtime.db.begin() as s:
        cid = s.scalar(select(Community.id))
    response = client.post(
        f"/staff/communities/{cid}/rules", data={"csrf_token": csrf_of(client), "minimum_minutes": "1"}
    )
    assert response.status_code == 403
    with runtime.db.begin() as s:
        assert s.get(Community, cid).minimum_minutes is None
