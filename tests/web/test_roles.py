"""CoP roles: configurable, imported, set on the community page and named on each meeting's agenda; a
co-facilitator facilitates (preparation and closure mail, the facilitator login's view); the agenda mail
says who takes notes and keeps time. Mail through a real SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.helpers.mail import EVERYONE, FACILITATOR, add_community, at, by_kind, runtime, smtp  # noqa: F401
from tests.helpers.staff import add_staff, login, token_from
from zoombot.store import directory
from zoombot.store.models import Member, Membership, Occurrence

UTC = UTC
START = datetime(2026, 11, 10, 23, 30, tzinfo=UTC)
CSV = (
    "name,email,registry_id,community,role\n"
    "Cody Co,cody@example.org,,Infant-Toddler CoP,co-facilitator\n"
    "Alice Ames,alice@example.org,,Infant-Toddler CoP,note-taker\n"
    "Bob Brown,bob@example.org,,Infant-Toddler CoP,Timekeeper\n"
    "Hal Host,hal@example.org,,Infant-Toddler CoP,host\n"
)


def roles_of(runtime) -> dict[str, str]:
    with runtime.db.begin() as s:
        return dict(s.execute(select(Member.email, Membership.role).join(Membership)).all())


def test_members_import_takes_the_configured_roles(runtime, zoombot_cli, tmp_path):
    add_community(runtime)
    members = tmp_path / "members.csv"
    members.write_text(CSV)
    result = zoombot_cli()("members", "import", str(members))
    assert result.exit_code == 1
    assert (
        f"{members}: line 5: role must be one of facilitator, co-facilitator, note-taker, timekeeper, member, "
        "got 'host'"
    ) in result.stderr
    assert roles_of(runtime) == {
        "fran@example.org": "facilitator",
        "cody@example.org": "co-facilitator",
        "alice@example.org": "note-taker",
        "bob@example.org": "timekeeper",
    }
    custom = zoombot_cli('[community]\nroles = "facilitator, host, member"\n')("members", "import", str(members))
    assert "got 'co-facilitator'" in custom.stderr and "got 'note-taker'" in custom.stderr
    assert roles_of(runtime)["hal@example.org"] == "host"
    bad = zoombot_cli('[community]\nroles = "host, member"\n')("members", "import", str(members))
    assert bad.exit_code == 1 and bad.stderr == "Error: [community] roles: the roles must include 'facilitator'\n"


def with_roles(runtime) -> int:
    community_id = add_community(
        runtime,
        members=[
            ("Alice Ames", "alice@example.org"),
            ("Bob Brown", "bob@example.org"),
            ("Cody Co", "cody@example.org"),
        ],
    )
    with runtime.db.begin() as s:
        for email, role in (("cody@example.org", "co-facilitator"), ("alice@example.org", "note-taker")):
            directory.set_membership(s, community_id, directory.ensure_member(s, email).id, role)
    return community_id


def test_a_co_facilitator_gets_facilitator_mail_and_sees_the_community(runtime, clock, smtp, client):
    community_id = with_roles(runtime)
    everyone = sorted(EVERYONE + ["cody@example.org"])
    at(clock, smtp, runtime, datetime(2026, 10, 14, 2, 0, tzinfo=UTC))
    assert by_kind(at(clock, smtp, runtime, START - timedelta(days=14))) == {"invite": everyone}
    prep = at(clock, smtp, runtime, START - timedelta(days=7))
    assert by_kind(prep) == {"facilitator_prep": ["cody@example.org", FACILITATOR[1]]}
    # The draft names who holds each role in the community.
    assert (
        "Roles this meeting\n  - Facilitator: Fran Facil\n  - Co-facilitator: Cody Co\n  - Note-taker: Alice Ames\n"
    ) in prep[0].text.replace("\r\n", "\n")
    # The closure request goes to both facilitators and the note-taker.
    closure = at(clock, smtp, runtime, START + timedelta(hours=2))
    assert by_kind(closure) == {"facilitator_closure": ["alice@example.org", "cody@example.org", FACILITATOR[1]]}

    add_staff(runtime, "cody@example.org", role="facilitator")
    assert login(client, "cody@example.org").status_code == 302
    assert client.get(f"/staff/communities/{community_id}").status_code == 200
    client.post("/staff/logout", data={"csrf_token": token_from(client.get("/staff/").get_data(as_text=True))})
    add_staff(runtime, "alice@example.org", role="facilitator")  # a login, but Alice only takes notes
    login(client, "alice@example.org")
    assert client.get(f"/staff/communities/{community_id}").status_code == 404


def test_the_facilitator_names_this_meetings_roles_and_the_agenda_mail_says_who(runtime, clock, smtp, client):
    with_roles(runtime)
    at(clock, smtp, runtime, datetime(2026, 10, 14, 2, 0, tzinfo=UTC))
    with runtime.db.begin() as s:
        occurrence_id = s.scalar(select(Occurrence.id).where(Occurrence.start == START))
        people = dict(s.execute(select(Member.email, Member.id)).all())
    add_staff(runtime, "fran@example.org", role="facilitator")
    login(client, "fran@example.org")
    page = client.get(f"/staff/agendas/{occurrence_id}").get_data(as_text=True)
    assert '<select id="role-note-taker" name="role:note-taker">' in page
    assert f'<option value="{people["alice@example.org"]}" selected>Alice Ames</option>' in page
    saved = client.post(
        f"/staff/agendas/{occurrence_id}",
        data={
            "csrf_token": token_from(page),
            "objectives": "Share routines",
            "topics": "Transitions",
            "next_steps": "Try a song",
            "expectations": "",
            "confidentiality": "",
            "resources": "",
            "status": "ready",
            "role:facilitator": str(people["fran@example.org"]),
            "role:co-facilitator": "",
            "role:note-taker": str(people["bob@example.org"]),
            "role:timekeeper": str(people["alice@example.org"]),
            "role:member": str(people["alice@example.org"]),
        },
    )  # not a meeting role: ignored
    assert saved.status_code == 302
    got = at(clock, smtp, runtime, START - timedelta(days=2))
    agenda_mail = next(r for r in got if r.kind == "agenda")
    assert (
        "Roles this meeting\n  - Facilitator: Fran Facil\n  - Note-taker: Bob Brown\n  - Timekeeper: Alice Ames\n"
        in agenda_mail.text.replace("\r\n", "\n")
    )
    assert "<li>Note-taker: Bob Brown</li>" in agenda_mail.html and "Co-facilitator" not in agenda_mail.text
    # This meeting's note-taker (Bob), not the community's (Alice), is asked for the closure.
    closure = at(clock, smtp, runtime, START + timedelta(hours=2))
    assert by_kind(closure) == {"facilitator_closure": ["bob@example.org", "cody@example.org", FACILITATOR[1]]}


def test_roles_on_the_community_page(runtime, client):
    community_id = with_roles(runtime)
    with runtime.db.begin() as s:
        bob = s.scalar(select(Member.id).where(Member.email == "bob@example.org"))
    add_staff(runtime, "fran@example.org", role="facilitator")
    login(client, "fran@example.org")
    page = client.get(f"/staff/communities/{community_id}").get_data(as_text=True)
    token = token_from(page)
    url = f"/staff/communities/{community_id}/members/{bob}/role"
    assert 'value="co-facilitator"' not in page.split(f'id="role-{bob}"')[1].split("</select>")[0]
    refused = client.post(url, data={"csrf_token": token, "role": "co-facilitator"})
    assert "Only network staff give or take" in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert roles_of(runtime)["bob@example.org"] == "member"
    client.post(url, data={"csrf_token": token, "role": "timekeeper"})
    assert roles_of(runtime)["bob@example.org"] == "timekeeper"
    unknown = client.post(url, data={"csrf_token": token, "role": "boss"})
    assert "Choose one of the roles" in client.get(unknown.headers["Location"]).get_data(as_text=True)
    client.post("/staff/logout", data={"csrf_token": token})
    add_staff(runtime, "staff@example.org")
    login(client, "staff@example.org")
    client.post(
        url, data={"csrf_token": token_from(client.get("/staff/").get_data(as_text=True)), "role": "co-facilitator"}
    )
    assert roles_of(runtime)["bob@example.org"] == "co-facilitator"
    trail = client.get("/staff/audit").get_data(as_text=True)
    assert "role changed" in trail and "timekeeper" in trail
