"""`zoombot community`, `members import` and `staff create` through the real CLI against a real database."""

import json
from datetime import datetime

import pytest
import responses
from sqlalchemy import select

from zoombot.core.passwords import check_password
from zoombot.store.models import Community, Member, Membership, StaffUser

API = "https://zoom.test/v2"
OAUTH = "https://zoom.test/oauth/token"


@pytest.fixture
def cli(zoombot_cli):
    invoke = zoombot_cli('[schedule]\ntimezone = "America/Chicago"\n[web]\nsecret_key = "test"\n')

    def run(*args, input=None, extra_config=""):
        if extra_config:
            invoke.config.write_text(invoke.config.read_text(encoding="utf-8") + extra_config, encoding="utf-8")
        return invoke(*args, input=input)

    return run


def add_community(cli, name="Infant-Toddler CoP", meeting_id="81234567890", facilitator="Maria@Example.org", *extra):
    return cli(
        "community",
        "add",
        name,
        "--zoom-meeting-id",
        meeting_id,
        "--facilitator",
        facilitator,
        "--start",
        "2026-09-08T18:30",
        "--duration",
        "120",
        *extra,
    )


def test_community_add_stores_the_schedule_and_the_facilitator(cli, runtime):
    result = add_community(
        cli,
        "Infant-Toddler CoP",
        "855 0000 0001",
        "Maria@Example.org",
        "--rrule",
        "FREQ=MONTHLY;BYDAY=2TU",
        "--timezone",
        "America/New_York",
        "--audience",
        "Teachers",
        "--region",
        "North",
    )
    assert result.exit_code == 0, result.output
    assert "added community 1 'Infant-Toddler CoP' (Zoom meeting 85500000001)" in result.stdout
    with runtime.db.begin() as s:
        c = s.scalars(select(Community)).one()
        assert (c.zoom_meeting_id, c.timezone, c.rrule, c.duration_minutes, c.audience, c.region) == (
            "85500000001",
            "America/New_York",
            "FREQ=MONTHLY;BYDAY=2TU",
            120,
            "Teachers",
            "North",
        )
        assert c.first_start_local == datetime(2026, 9, 8, 18, 30) and c.is_demo is False
        member = s.scalars(select(Member)).one()
        assert (member.email, member.name) == ("maria@example.org", "maria")
        assert s.scalars(select(Membership.role)).all() == ["facilitator"]


def test_community_add_defaults_to_the_configured_zone_and_refuses_duplicates(cli, runtime):
    assert add_community(cli).exit_code == 0
    with runtime.db.begin() as s:
        assert s.scalar(select(Community.timezone)) == "America/Chicago"
        assert s.scalar(select(Community.rrule)) is None
    again = add_community(cli, "infant-toddler cop", "81234567891")
    assert again.exit_code == 1
    assert again.stderr == "Error: a community named 'infant-toddler cop' already exists\n"
    same_meeting = add_community(cli, "Preschool CoP", "81234567890")
    assert same_meeting.exit_code == 1
    assert "Zoom meeting 81234567890 already belongs to another community" in same_meeting.stderr
    # the facilitator of a second community is the same member, now with two memberships
    assert add_community(cli, "Preschool CoP", "81234567892", "maria@example.org").exit_code == 0
    with runtime.db.begin() as s:
        assert len(s.scalars(select(Member)).all()) == 1
        assert len(s.scalars(select(Membership)).all()) == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["--rrule", "FREQ=HOURLY"], "Error: --rrule: RRULE FREQ=HOURLY is not supported"),
        (["--timezone", "Nowhere/Land"], "Error: --timezone: unknown timezone 'Nowhere/Land'"),
    ],
)
def test_community_add_rejects_bad_options_in_one_line(cli, runtime, args, message):
    result = add_community(cli, "X", "81234567890", "m@example.org", *args)
    assert result.exit_code == 1
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    with runtime.db.begin() as s:
        assert s.scalars(select(Community)).all() == []


def test_community_add_without_meeting_id_or_start_format(cli):
    result = cli(
        "community", "add", "X", "--facilitator", "m@example.org", "--start", "2026-09-08T18:30", "--duration", "60"
    )
    assert result.exit_code == 1 and "--zoom-meeting-id is required" in result.stderr
    result = cli(
        "community",
        "add",
        "X",
        "--zoom-meeting-id",
        "81234567890",
        "--facilitator",
        "m@example.org",
        "--start",
        "8 Sept 2026",
        "--duration",
        "60",
    )
    assert result.exit_code == 1 and "--start must be a local date and time as YYYY-MM-DDTHH:MM" in result.stderr


def test_create_zoom_meeting_without_credentials_says_so(cli, runtime):
    result = cli(
        "community",
        "add",
        "X",
        "--create-zoom-meeting",
        "--facilitator",
        "m@example.org",
        "--start",
        "2026-09-08T18:30",
        "--duration",
        "60",
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: cannot create the Zoom meeting: Zoom API credentials are not configured "
        "([zoom] account_id, client_id, client_secret)\n"
    )
    with runtime.db.begin() as s:
        assert s.scalars(select(Community)).all() == []


ZOOM_CONFIG = (
    f'[zoom]\naccount_id = "acc"\nclient_id = "cid"\nclient_secret = "sec"\n'
    f'api_base_url = "{API}"\noauth_url = "{OAUTH}"\n'
)


@responses.activate
def test_create_zoom_meeting_stores_what_zoom_answers(cli, runtime):
    responses.add(responses.POST, OAUTH, json={"access_token": "tok", "expires_in": 3600})
    responses.add(
        responses.POST,
        f"{API}/users/me/meetings",
        status=201,
        json={"id": 85512345678, "uuid": "abc==", "join_url": "https://zoom.us/j/85512345678?pwd=x", "occurrences": []},
    )
    result = cli(
        "community",
        "add",
        "Preschool CoP",
        "--create-zoom-meeting",
        "--facilitator",
        "m@example.org",
        "--start",
        "2026-09-08T18:30",
        "--duration",
        "90",
        "--rrule",
        "FREQ=MONTHLY;BYDAY=2TU",
        extra_config=ZOOM_CONFIG,
    )
    assert result.exit_code == 0, result.output
    assert "join link: https://zoom.us/j/85512345678?pwd=x" in result.stdout
    sent = json.loads(responses.calls[-1].request.body)
    assert sent["topic"] == "Preschool CoP" and sent["duration"] == 90 and sent["timezone"] == "America/Chicago"
    with runtime.db.begin() as s:
        c = s.scalars(select(Community)).one()
        assert (c.zoom_meeting_id, c.join_url) == ("85512345678", "https://zoom.us/j/85512345678?pwd=x")


@responses.activate
def test_zoom_refusal_stores_nothing(cli, runtime):
    responses.add(responses.POST, OAUTH, json={"access_token": "tok", "expires_in": 3600})
    responses.add(
        responses.POST, f"{API}/users/me/meetings", status=400, json={"code": 300, "message": "Invalid recurrence"}
    )
    result = cli(
        "community",
        "add",
        "Preschool CoP",
        "--create-zoom-meeting",
        "--facilitator",
        "m@example.org",
        "--start",
        "2026-09-08T18:30",
        "--duration",
        "90",
        extra_config=ZOOM_CONFIG,
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Zoom did not create the meeting, nothing stored: Zoom API error (HTTP 400")
    with runtime.db.begin() as s:
        assert s.scalars(select(Community)).all() == [] and s.scalars(select(Member)).all() == []


def test_community_list(cli, clock):
    assert cli("community", "list").stdout == "no communities yet: add one with `zoombot community add`\n"
    add_community(
        cli,
        "Infant-Toddler CoP",
        "81234567890",
        "m@example.org",
        "--rrule",
        "FREQ=MONTHLY;BYDAY=2TU",
        "--timezone",
        "America/New_York",
    )
    lines = cli("community", "list").stdout.splitlines()
    assert lines[0].split() == ["id", "name", "zoom", "meeting", "next", "meeting", "members"]
    # the system clock decides the next meeting: it is a second Tuesday at 18:30 New York time
    fields = lines[1].split()
    assert fields[:4] == ["1", "Infant-Toddler", "CoP", "81234567890"]
    next_day = datetime.strptime(fields[4], "%Y-%m-%d")
    assert next_day.weekday() == 1 and 8 <= next_day.day <= 14
    assert fields[5] == "18:30" and fields[6] in ("EST", "EDT") and fields[7] == "1"


# --- members import --------------------------------------------------------------------------------------


def write(tmp_path, text, name="members.csv", bom=False):
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return str(path)


def members(runtime):
    with runtime.db.begin() as s:
        rows = s.execute(
            select(Member.email, Member.name, Member.registry_id, Community.name, Membership.role)
            .join(Membership, Membership.member_id == Member.id)
            .join(Community, Community.id == Membership.community_id)
            .order_by(Member.email, Community.name)
        ).all()
    return [tuple(r) for r in rows]


def test_import_loads_good_rows_and_reports_bad_ones_by_line(cli, runtime, tmp_path):
    add_community(cli, "Infant-Toddler CoP", "81234567890", "maria@example.org")
    add_community(cli, "Preschool CoP", "81234567891", "maria@example.org")
    path = write(
        tmp_path,
        "name, email ,registry_id,community,role\r\n"
        "Ana Ruiz,ANA@example.org,R-1,Infant-Toddler CoP,\r\n"
        "\r\n"
        "Bo Chen,bo@example,R-2,Infant-Toddler CoP,\r\n"
        "Cy Diaz,cy@example.org,,Toddler Lounge,\r\n"
        "Maria Lopez,maria@example.org,R-3,preschool cop,facilitator\r\n"
        "Ana Ruiz,ana@example.org,R-1,Infant-Toddler CoP,\r\n"
        "Di Ek,di@example.org,R-1,Preschool CoP,member\r\n",
        bom=True,
    )
    result = cli("members", "import", path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}: line 4: email is not a valid address",
        f"{path}: line 5: unknown community 'Toddler Lounge' (add it first with `zoombot community add`)",
        f"{path}: line 7: duplicate of line 2 (same email and community)",
        f"{path}: line 8: registry_id is also given to another member on line 2",
        "loaded 1, updated 1, rejected 4 (0 unchanged)",
    ]
    assert result.stdout == ""
    assert members(runtime) == [
        ("ana@example.org", "Ana Ruiz", "R-1", "Infant-Toddler CoP", "member"),
        ("maria@example.org", "Maria Lopez", "R-3", "Infant-Toddler CoP", "facilitator"),
        ("maria@example.org", "Maria Lopez", "R-3", "Preschool CoP", "facilitator"),
    ]


def test_reimport_updates_and_never_duplicates(cli, runtime, tmp_path):
    add_community(cli, "Infant-Toddler CoP", "81234567890", "maria@example.org")
    first = write(
        tmp_path,
        "name,email,registry_id,community\n"
        "Ana Ruiz,ana@example.org,R-1,Infant-Toddler CoP\n"
        "Bo Chen,bo@example.org,R-2,Infant-Toddler CoP\n",
    )
    result = cli("members", "import", first)
    assert (result.exit_code, result.stdout) == (0, "loaded 2, updated 0, rejected 0 (0 unchanged)\n")
    assert cli("members", "import", first).stdout == "loaded 0, updated 0, rejected 0 (2 unchanged)\n"
    second = write(
        tmp_path,
        "name,email,registry_id,community,role\n"
        "Ana Ruiz-Soto,Ana@Example.org,R-1b,Infant-Toddler CoP,facilitator\n"
        "Bo Chen,bo@example.org,,Infant-Toddler CoP,member\n"
        "Cy Diaz,cy@example.org,R-1,Infant-Toddler CoP,\n",
        name="second.csv",
    )
    result = cli("members", "import", second)
    # R-1 is still Ana's when the file is checked: handing it on takes a second import
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{second}: line 4: registry_id already belongs to another member",
        "loaded 0, updated 1, rejected 1 (1 unchanged)",
    ]
    assert cli("members", "import", second).stdout == "loaded 1, updated 0, rejected 0 (2 unchanged)\n"
    assert members(runtime) == [
        ("ana@example.org", "Ana Ruiz-Soto", "R-1b", "Infant-Toddler CoP", "facilitator"),
        ("bo@example.org", "Bo Chen", "R-2", "Infant-Toddler CoP", "member"),  # empty registry id keeps R-2
        ("cy@example.org", "Cy Diaz", "R-1", "Infant-Toddler CoP", "member"),
        ("maria@example.org", "maria", None, "Infant-Toddler CoP", "facilitator"),
    ]
    taken = write(
        tmp_path, "name,email,registry_id,community\nDi Ek,di@example.org,R-2,Infant-Toddler CoP\n", name="taken.csv"
    )
    result = cli("members", "import", taken)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{taken}: line 2: registry_id already belongs to another member",
        "loaded 0, updated 0, rejected 1 (0 unchanged)",
    ]


def test_import_with_a_wrong_header_loads_nothing(cli, runtime, tmp_path):
    add_community(cli, "Infant-Toddler CoP", "81234567890", "maria@example.org")
    path = write(tmp_path, "Ana Ruiz,ana@example.org,R-1,Infant-Toddler CoP\n")
    result = cli("members", "import", path)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {path}: line 1: the first line must be the header "
        "name,email,registry_id,community[,role] (missing column(s) name, email, registry_id, "
        "community); nothing loaded\n"
    )
    assert len(members(runtime)) == 1
    missing = cli("members", "import", str(tmp_path / "absent.csv"))
    assert missing.exit_code == 2 and "absent.csv" in missing.stderr


# --- staff create ----------------------------------------------------------------------------------------


def staff_users(runtime):
    with runtime.db.begin() as s:
        return {u.email: u for u in s.scalars(select(StaffUser))}


def test_staff_create_from_stdin_then_reset(cli, runtime):
    result = cli("staff", "create", "Lee@Example.org", "--password-stdin", input="a long passphrase\n")
    assert (result.exit_code, result.stdout) == (0, "created staff login lee@example.org\n")
    user = staff_users(runtime)["lee@example.org"]
    assert user.role == "staff" and check_password(user.password_hash, "a long passphrase")
    assert "a long passphrase" not in user.password_hash

    result = cli(
        "staff", "create", "lee@example.org", "--password-stdin", "--role", "facilitator", input="another passphrase\n"
    )
    assert result.stdout == "lee@example.org already had a login: password reset (role facilitator)\n"
    assert result.stderr == (
        "warning: lee@example.org facilitates no community, so this login sees nothing yet: "
        "make the member with this e-mail a facilitator or co-facilitator (members import, or "
        "the community page)\n"
    )
    users = staff_users(runtime)
    assert len(users) == 1
    assert check_password(users["lee@example.org"].password_hash, "another passphrase")
    assert not check_password(users["lee@example.org"].password_hash, "a long passphrase")
    assert users["lee@example.org"].role == "facilitator"
    # a reset without --role keeps the role
    cli("staff", "create", "lee@example.org", "--password-stdin", input="third passphrase\n")
    assert staff_users(runtime)["lee@example.org"].role == "facilitator"


def test_a_facilitator_login_of_a_facilitator_gets_no_warning(cli, runtime):
    assert (
        cli(
            "community",
            "add",
            "Infant-Toddler CoP",
            "--zoom-meeting-id",
            "81234567890",
            "--facilitator",
            "Maria@example.org",
            "--start",
            "2026-09-08T18:30",
            "--duration",
            "120",
        ).exit_code
        == 0
    )
    result = cli(
        "staff", "create", "maria@example.org", "--role", "facilitator", "--password-stdin", input="a long passphrase\n"
    )
    assert (result.exit_code, result.stdout, result.stderr) == (0, "created facilitator login maria@example.org\n", "")


def test_staff_create_prompts_hidden_and_confirmed(cli, runtime):
    result = cli("staff", "create", "kim@example.org", input="prompted secret\nprompted secret\n")
    assert result.exit_code == 0
    assert "prompted secret" not in result.output
    assert check_password(staff_users(runtime)["kim@example.org"].password_hash, "prompted secret")


def test_staff_create_refuses_short_passwords_and_bad_emails(cli, runtime):
    short = cli("staff", "create", "kim@example.org", "--password-stdin", input="short\n")
    assert (short.exit_code, short.stderr) == (1, "Error: the password must be at least 10 characters long\n")
    bad = cli("staff", "create", "kim", "--password-stdin", input="long enough pass\n")
    assert (bad.exit_code, bad.stderr) == (1, "Error: EMAIL must be an e-mail address\n")
    assert staff_users(runtime) == {}
