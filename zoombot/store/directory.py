"""The directory: communities, members (with their registry ids), memberships and staff logins.

Two halves. The pure half (no database) checks what operators type or import: `community_spec` for
`zoombot community add`, `plan_import` for a members CSV (rows -> an ImportPlan with each bad row's
line number and reason). The store half applies a checked value in a session the caller opened.
E-mail addresses are the members' key and are always stored lower-cased. Error messages name the line
and the field, never a person's name or address (they end up in terminals and logs).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zoombot.core.digits import is_digits
from zoombot.core.join_link import check_join_url, check_passcode
from zoombot.core.ledger import words
from zoombot.core.passwords import hash_password, validate_password
from zoombot.core.registry_rows import registry_id_ok
from zoombot.core.roles import DEFAULT_ROLES, FACILITATOR, MEMBER
from zoombot.core.schedule import validate_rrule, zone
from zoombot.store.audit import audit
from zoombot.store.models import Community, Member, Membership, StaffUser
from zoombot.store.replanning import ReplanResult, announce_details, replan_community

STAFF_ROLES = ("staff", "facilitator")
REQUIRED_COLUMNS = ("name", "email", "registry_id", "community")
OPTIONAL_COLUMNS = ("role",)
HEADER_HINT = "name,email,registry_id,community[,role]"
MAX_NAME = 200
MAX_REGISTRY_ID = 64

_EMAIL_RE = re.compile(r"^[^\s@<>()\[\],;:\"]+@[^\s@<>()\[\],;:\"]+\.[^\s@<>()\[\],;:\".]{2,}$")
_ZOOM_ID_RE = re.compile(r"^[0-9]{9,12}$")


# --- pure: values --------------------------------------------------------------------------------


def normalize_email(value: str) -> str:
    return (value or "").strip().lower()


def is_valid_email(value: str) -> bool:
    return len(value) <= 320 and bool(_EMAIL_RE.match(value)) and ".." not in value


def clean_text(value: str | None) -> str:
    """Trimmed, inner runs of white space collapsed (names typed in spreadsheets carry stray spaces)."""
    return " ".join((value or "").split())


def community_key(name: str) -> str:
    """How a community name is looked up: case and spacing do not matter."""
    return clean_text(name).casefold()


def name_from_email(email: str) -> str:
    """A stand-in name until a members import brings the real one: the address's part before '@'."""
    return email.split("@", 1)[0]


# --- pure: `zoombot community add` -------------------------------------------------------------------


@dataclass(frozen=True)
class CommunitySpec:
    name: str
    zoom_meeting_id: str | None
    facilitator_email: str
    first_start_local: datetime
    duration_minutes: int
    rrule: str | None
    timezone: str
    audience: str
    region: str
    join_url: str | None = None  # None: the standard link from the meeting id
    passcode: str | None = None


def parse_local_start(value: str) -> datetime:
    """ "YYYY-MM-DDTHH:MM" (a space instead of T is accepted) -> a naive local wall time."""
    text = (value or "").strip().replace(" ", "T", 1)
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M")
    except ValueError:
        raise ValueError(f"--start must be a local date and time as YYYY-MM-DDTHH:MM, got {value!r}") from None


def normalize_zoom_meeting_id(value: str) -> str:
    """Zoom shows meeting ids grouped ("855 0000 0001"); stored as the bare digits."""
    digits = re.sub(r"[\s-]", "", value or "")
    if not _ZOOM_ID_RE.match(digits):
        raise ValueError(f"--zoom-meeting-id must be a Zoom meeting number (9 to 12 digits), got {value!r}")
    return digits


def _minutes(duration: object) -> int:
    """A meeting's length as `--duration` gives it; ValueError unless a whole number from 1 to 1440."""
    if isinstance(duration, bool) or not isinstance(duration, int) or not 1 <= duration <= 1440:
        raise ValueError(f"--duration must be a number of minutes between 1 and 1440, got {duration!r}")
    return duration


def community_spec(
    *,
    name: str,
    zoom_meeting_id: str | None,
    facilitator: str,
    start: str,
    duration: int,
    rrule: str | None,
    timezone: str | None,
    audience: str | None,
    region: str | None,
    default_timezone: str,
    create_zoom_meeting: bool = False,
    join_url: str | None = None,
    passcode: str | None = None,
) -> CommunitySpec:
    """Check `zoombot community add`'s options (and `edit`'s, merged with what is stored); ValueError with
    one line naming the option."""
    name = clean_text(name)
    if not name:
        raise ValueError("the community name must not be empty")
    if len(name) > MAX_NAME:
        raise ValueError(f"the community name is longer than {MAX_NAME} characters")
    if zoom_meeting_id:
        meeting_id: str | None = normalize_zoom_meeting_id(zoom_meeting_id)
        if create_zoom_meeting:
            raise ValueError("give either --zoom-meeting-id or --create-zoom-meeting, not both")
    elif create_zoom_meeting:
        meeting_id = None
    else:
        raise ValueError("--zoom-meeting-id is required (or --create-zoom-meeting to create the meeting in Zoom)")
    email = normalize_email(facilitator)
    if not is_valid_email(email):
        raise ValueError("--facilitator must be an e-mail address")
    first = parse_local_start(start)
    duration = _minutes(duration)
    rule = None
    if rrule is not None and rrule.strip():
        try:
            rule = validate_rrule(rrule)
        except ValueError as exc:
            raise ValueError(f"--rrule: {exc}") from None
    tz_name = (timezone or "").strip() or default_timezone
    try:
        zone(tz_name)
    except ValueError as exc:
        raise ValueError(f"--timezone: {exc}") from None
    audience, region = clean_text(audience), clean_text(region)
    for option, value in (("--audience", audience), ("--region", region)):
        if len(value) > MAX_NAME:
            raise ValueError(f"{option} is longer than {MAX_NAME} characters")
    if create_zoom_meeting and ((join_url or "").strip() or (passcode or "").strip()):
        raise ValueError(
            "Zoom sets the join link and passcode of a meeting it creates: "
            "leave out --join-url and --passcode with --create-zoom-meeting"
        )
    return CommunitySpec(
        name=name,
        zoom_meeting_id=meeting_id,
        facilitator_email=email,
        first_start_local=first,
        duration_minutes=duration,
        rrule=rule,
        timezone=tz_name,
        audience=audience,
        region=region,
        join_url=check_join_url(join_url, meeting_id),
        passcode=check_passcode(passcode),
    )


#: What `zoombot community edit` can change: CommunitySpec field -> how people call it.
EDITABLE = {
    "name": "name",
    "zoom_meeting_id": "Zoom meeting id",
    "facilitator_email": "facilitator",
    "first_start_local": "start",
    "duration_minutes": "duration",
    "rrule": "rrule",
    "timezone": "timezone",
    "audience": "audience",
    "region": "region",
    "join_url": "join link",
    "passcode": "passcode",
}
#: Fields whose change alters what members' calendar entries say (so those entries get an update).
ANNOUNCED = ("name", "zoom_meeting_id", "join_url", "passcode")


def edited_spec(
    current: CommunitySpec, changes: Mapping[str, str | int | None], *, default_timezone: str
) -> CommunitySpec:
    """The spec after `zoombot community edit`: `changes` maps option names as `community_spec` takes them
    (name, zoom_meeting_id, facilitator, start, duration, rrule, timezone, audience, region, join_url,
    passcode) to new values, an empty string clearing an optional one. Checked like `add`; ValueError."""
    options: dict[str, str | int | None] = {
        "name": current.name,
        "zoom_meeting_id": current.zoom_meeting_id,
        "facilitator": current.facilitator_email,
        "start": current.first_start_local.strftime("%Y-%m-%dT%H:%M"),
        "duration": current.duration_minutes,
        "rrule": current.rrule,
        "timezone": current.timezone,
        "audience": current.audience,
        "region": current.region,
        "join_url": current.join_url,
        "passcode": current.passcode,
    }
    unknown = set(changes) - set(options)
    if unknown:
        raise ValueError(f"cannot edit {', '.join(sorted(unknown))}")
    options.update(changes)
    if not options["zoom_meeting_id"]:
        raise ValueError("--zoom-meeting-id cannot be removed: attendance is matched by it")
    if "zoom_meeting_id" in changes:
        # The stored link and passcode were the old meeting's: members must not be sent them for the new one.
        for key, option, empty in (("join_url", "--join-url", "the standard link"), ("passcode", "--passcode", "none")):
            if key not in changes and getattr(current, key):
                raise ValueError(
                    f'a new --zoom-meeting-id needs the new meeting\'s {option} too ({option} "" for {empty})'
                )

    def text(key: str) -> str | None:
        value = options[key]
        if isinstance(value, int):
            raise ValueError(f"--{key.replace('_', '-')} must be text, got {value!r}")
        return value

    return community_spec(
        name=text("name") or "",
        zoom_meeting_id=text("zoom_meeting_id"),
        facilitator=text("facilitator") or "",
        start=text("start") or "",
        duration=_minutes(options["duration"]),
        rrule=text("rrule"),
        timezone=text("timezone"),
        audience=text("audience"),
        region=text("region"),
        join_url=text("join_url"),
        passcode=text("passcode"),
        default_timezone=default_timezone,
    )


def spec_changes(before: CommunitySpec, after: CommunitySpec) -> list[str]:
    """The EDITABLE fields that differ, in EDITABLE order."""
    return [name for name in EDITABLE if getattr(before, name) != getattr(after, name)]


# --- pure: `zoombot members import` ------------------------------------------------------------------


class HeaderError(ValueError):
    """The file cannot be read as a members CSV at all (nothing is loaded)."""


@dataclass(frozen=True)
class MemberRow:
    line: int
    name: str
    email: str
    registry_id: str | None
    community_id: int
    role: str


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ImportPlan:
    rows: list[MemberRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def decode_csv(data: bytes) -> str:
    """UTF-8 text, with or without a byte-order mark (spreadsheets add one)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HeaderError('the file is not UTF-8 text: save it from the spreadsheet as "CSV UTF-8"') from None


def _records(text: str) -> list[tuple[int, list[str]]]:
    """(first line number, fields) for each non-blank CSV record; ';' when the header uses it (some
    spreadsheet locales), else ','."""
    text = text.lstrip("\ufeff")
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    out = []
    previous_end = 0
    try:
        for fields in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if not any(f.strip() for f in fields):
                continue
            out.append((start, fields))
    except csv.Error as exc:
        raise HeaderError(f"line {reader.line_num}: not readable as CSV ({exc})") from None
    return out


def _columns(header: list[str], line: int) -> dict[str, int]:
    names = [clean_text(h).lower().replace(" ", "_") for h in header]
    problem = None
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    unknown = [n for n in names if n and n not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if missing:
        problem = f"missing column(s) {', '.join(missing)}"
    elif unknown:
        problem = f"unknown column(s) {', '.join(unknown)}"
    elif repeated:
        problem = f"column(s) {', '.join(repeated)} given twice"
    if problem:
        raise HeaderError(f"line {line}: the first line must be the header {HEADER_HINT} ({problem})")
    return {n: i for i, n in enumerate(names) if n}


def plan_import(
    text: str,
    *,
    communities: Mapping[str, int],
    registry_owners: Mapping[str, str],
    roles: tuple[str, ...] = DEFAULT_ROLES,
    registry_id_pattern: str = "",
) -> ImportPlan:
    """Check every row of a members CSV; good rows go to `rows`, bad ones to `errors` by line.

    `roles`: the configured CoP roles (`[community] roles`); a row without a role is a member.
    `registry_id_pattern`: `[registry] registry_id_pattern` (empty: any id), so a mistyped id is caught
    here rather than held back at submission.

    `communities`: `community_key(name)` -> id. `registry_owners`: registry id -> the e-mail of the member
    holding it now. Raises HeaderError when the file has no usable header (then nothing can be loaded).
    """
    records = _records(text)
    if not records:
        raise HeaderError(f"the file is empty: expected the header {HEADER_HINT}")
    header_line, header = records[0]
    columns = _columns(header, header_line)
    plan = ImportPlan()
    seen_pairs: dict[tuple[str, int], int] = {}
    seen_people: dict[str, tuple[int, str, str | None]] = {}
    seen_registry: dict[str, tuple[int, str]] = {}
    for line, fields in records[1:]:
        if len(fields) > len(header) and any(f.strip() for f in fields[len(header) :]):
            plan.errors.append(RowError(line, f"{len(fields)} fields where the header has {len(header)}"))
            continue

        def get(column: str, fields: list[str] = fields) -> str:
            index = columns.get(column)
            return fields[index] if index is not None and index < len(fields) else ""

        error = None
        name, email = clean_text(get("name")), normalize_email(get("email"))
        registry_id = clean_text(get("registry_id"))
        community_name, role = clean_text(get("community")), clean_text(get("role")).lower() or MEMBER
        community_id = communities.get(community_key(community_name))
        if not name:
            error = "name is missing"
        elif len(name) > MAX_NAME:
            error = f"name is longer than {MAX_NAME} characters"
        elif not email:
            error = "email is missing"
        elif not is_valid_email(email):
            error = "email is not a valid address"
        elif len(registry_id) > MAX_REGISTRY_ID:
            error = f"registry_id is longer than {MAX_REGISTRY_ID} characters"
        elif registry_id and not registry_id_ok(registry_id_pattern, registry_id):
            error = f"registry_id does not look like the registry's ({registry_id_pattern})"
        elif not community_name:
            error = "community is missing"
        elif community_id is None:
            error = f"unknown community {community_name!r} (add it first with `zoombot community add`)"
        elif role not in roles:
            error = f"role must be one of {', '.join(roles)}, got {role!r}"
        elif registry_id and registry_owners.get(registry_id, email) != email:
            error = "registry_id already belongs to another member"
        elif registry_id and seen_registry.get(registry_id, (0, email))[1] != email:
            error = f"registry_id is also given to another member on line {seen_registry[registry_id][0]}"
        elif (email, community_id) in seen_pairs:
            error = f"duplicate of line {seen_pairs[(email, community_id)]} (same email and community)"
        elif email in seen_people and seen_people[email][1:] != (name, registry_id or None):
            error = f"same email as line {seen_people[email][0]} but a different name or registry_id"
        if error:
            plan.errors.append(RowError(line, error))
            continue
        assert community_id is not None  # an unknown community is an error above
        seen_pairs[(email, community_id)] = line
        seen_people.setdefault(email, (line, name, registry_id or None))
        if registry_id:
            seen_registry.setdefault(registry_id, (line, email))
        plan.rows.append(
            MemberRow(
                line=line, name=name, email=email, registry_id=registry_id or None, community_id=community_id, role=role
            )
        )
    return plan


# --- store ----------------------------------------------------------------------------------------------


class DirectoryError(Exception):
    """An operator request the directory cannot honour (one line, safe to print)."""


def community_lookup(session: Session) -> dict[str, int]:
    return {community_key(name): cid for cid, name in session.execute(select(Community.id, Community.name))}


def registry_owners(session: Session) -> dict[str, str]:
    rows = session.execute(select(Member.registry_id, Member.email).where(Member.registry_id.is_not(None)))
    return {registry_id: email for registry_id, email in rows if registry_id is not None}


def ensure_member(session: Session, email: str, *, name: str | None = None, is_demo: bool = False) -> Member:
    """The member with this address, created (named from the address until an import names them)."""
    email = normalize_email(email)
    member = session.scalar(select(Member).where(Member.email == email))
    if member is None:
        member = Member(email=email, name=name or name_from_email(email), is_demo=is_demo)
        session.add(member)
        session.flush()
    return member


def set_membership(session: Session, community_id: int, member_id: int, role: str) -> str:
    """'created', 'updated' (role changed) or 'unchanged'."""
    membership = session.scalar(
        select(Membership).where(Membership.community_id == community_id, Membership.member_id == member_id)
    )
    if membership is None:
        session.add(Membership(community_id=community_id, member_id=member_id, role=role))
        session.flush()
        return "created"
    if membership.role != role:
        membership.role = role
        return "updated"
    return "unchanged"


def add_community(
    session: Session, spec: CommunitySpec, *, is_demo: bool = False, join_url: str | None = None
) -> Community:
    """Store a new community and make its facilitator a member with the facilitator role (`join_url`, when
    given, wins over the spec's)."""
    if session.scalar(select(Community.id).where(func.lower(Community.name) == spec.name.lower())) is not None:
        raise DirectoryError(f"a community named {spec.name!r} already exists")
    if (
        spec.zoom_meeting_id
        and session.scalar(select(Community.name).where(Community.zoom_meeting_id == spec.zoom_meeting_id)) is not None
    ):
        raise DirectoryError(f"Zoom meeting {spec.zoom_meeting_id} already belongs to another community")
    community = Community(
        name=spec.name,
        zoom_meeting_id=spec.zoom_meeting_id,
        join_url=join_url or spec.join_url,
        passcode=spec.passcode,
        first_start_local=spec.first_start_local,
        timezone=spec.timezone,
        duration_minutes=spec.duration_minutes,
        rrule=spec.rrule,
        audience=spec.audience,
        region=spec.region,
        is_demo=is_demo,
    )
    session.add(community)
    session.flush()
    facilitator = ensure_member(session, spec.facilitator_email, is_demo=is_demo)
    set_membership(session, community.id, facilitator.id, FACILITATOR)
    return community


def communities_by_id(session: Session, ids: Collection[int]) -> dict[int, Community]:
    """These communities by id, in one query (none for no ids)."""
    if not ids:
        return {}
    return {c.id: c for c in session.scalars(select(Community).where(Community.id.in_(list(ids))))}


def find_community(session: Session, name: str) -> Community:
    """The community with this name (any case or spacing); DirectoryError naming it otherwise."""
    community_id = community_lookup(session).get(community_key(name))
    community = session.get(Community, community_id) if community_id is not None else None
    if community is None:
        raise DirectoryError(f"no community named {clean_text(name)!r} (see `zoombot community list`)")
    return community


def facilitator_email(session: Session, community_id: int) -> str:
    """The address of the community's (first) facilitator, '' when it has none."""
    return (
        session.scalar(
            select(Member.email)
            .join(Membership, Membership.member_id == Member.id)
            .where(Membership.community_id == community_id, Membership.role == FACILITATOR)
            .order_by(Membership.id)
            .limit(1)
        )
        or ""
    )


def spec_of(session: Session, community: Community) -> CommunitySpec:
    """What `zoombot community add` would have been given to make the community as it is now."""
    return CommunitySpec(
        name=community.name,
        zoom_meeting_id=community.zoom_meeting_id,
        facilitator_email=facilitator_email(session, community.id),
        first_start_local=community.first_start_local,
        duration_minutes=community.duration_minutes,
        rrule=community.rrule,
        timezone=community.timezone,
        audience=community.audience,
        region=community.region,
        join_url=community.join_url,
        passcode=community.passcode,
    )


def apply_spec(session: Session, community: Community, spec: CommunitySpec) -> list[str]:
    """Store an edited spec; returns what changed (EDITABLE names). A new facilitator takes the role from
    the previous one, who stays a member (co-facilitators keep theirs)."""
    before = spec_of(session, community)
    changed = spec_changes(before, spec)
    if (
        "name" in changed
        and session.scalar(
            select(Community.id).where(func.lower(Community.name) == spec.name.lower(), Community.id != community.id)
        )
        is not None
    ):
        raise DirectoryError(f"a community named {spec.name!r} already exists")
    if (
        "zoom_meeting_id" in changed
        and session.scalar(
            select(Community.id).where(Community.zoom_meeting_id == spec.zoom_meeting_id, Community.id != community.id)
        )
        is not None
    ):
        raise DirectoryError(f"Zoom meeting {spec.zoom_meeting_id} already belongs to another community")
    community.name, community.zoom_meeting_id = spec.name, spec.zoom_meeting_id
    community.first_start_local, community.duration_minutes = spec.first_start_local, spec.duration_minutes
    community.rrule, community.timezone = spec.rrule, spec.timezone
    community.audience, community.region = spec.audience, spec.region
    community.join_url, community.passcode = spec.join_url, spec.passcode
    if "facilitator_email" in changed:
        new = ensure_member(session, spec.facilitator_email, is_demo=community.is_demo)
        for membership in session.scalars(
            select(Membership).where(
                Membership.community_id == community.id, Membership.role == FACILITATOR, Membership.member_id != new.id
            )
        ):
            membership.role = MEMBER
        set_membership(session, community.id, new.id, FACILITATOR)
    session.flush()
    return changed


@dataclass(frozen=True)
class EditOutcome:
    changed: list[str]  # EDITABLE names
    replanned: ReplanResult  # upcoming meetings moved, cancelled, planned
    announced: int  # other upcoming meetings whose calendar entries get an update (new link, name...)


def edit_community(
    session: Session,
    community: Community,
    changes: Mapping[str, str | int | None],
    *,
    default_timezone: str,
    now: datetime,
    horizon: datetime,
) -> EditOutcome:
    """`zoombot community edit` and the staff community page: check, store, and re-plan at once, so the
    upcoming meetings move (an update to members who hold the invitation) or are cancelled right away, and
    a new link or name reaches every calendar entry. ValueError or DirectoryError, nothing stored."""
    spec = edited_spec(spec_of(session, community), changes, default_timezone=default_timezone)
    changed = apply_spec(session, community, spec)
    replanned = replan_community(session, community, now, horizon) if changed else ReplanResult()
    announced = announce_details(session, community.id, now) if set(changed) & set(ANNOUNCED) else 0
    return EditOutcome(changed=changed, replanned=replanned, announced=announced)


@dataclass(frozen=True)
class ImportResult:
    loaded: int
    updated: int
    unchanged: int


def apply_import(session: Session, plan: ImportPlan) -> ImportResult:
    """Store the plan's good rows: new rows are loaded, known ones updated (name, registry id, role).

    An empty registry id leaves a member's stored one as it is; an unsubscribed member stays unsubscribed.
    """
    emails = {row.email for row in plan.rows}
    members = {m.email: m for m in session.scalars(select(Member).where(Member.email.in_(emails)))} if emails else {}
    loaded = updated = unchanged = 0
    for row in plan.rows:
        member = members.get(row.email)
        changed = False
        if member is None:
            member = Member(email=row.email, name=row.name, registry_id=row.registry_id)
            session.add(member)
            session.flush()
            members[row.email] = member
        else:
            if member.name != row.name:
                member.name, changed = row.name, True
            if row.registry_id and member.registry_id != row.registry_id:
                member.registry_id, changed = row.registry_id, True
            session.flush()
        outcome = set_membership(session, row.community_id, member.id, row.role)
        if outcome == "created":
            loaded += 1
        elif outcome == "updated" or changed:
            updated += 1
        else:
            unchanged += 1
    return ImportResult(loaded=loaded, updated=updated, unchanged=unchanged)


def set_staff_user(session: Session, email: str, password: str, *, role: str | None) -> tuple[StaffUser, bool]:
    """Create a login, or reset an existing one's password (and role, when given), which ends every session
    of that user; (user, created)."""
    email = normalize_email(email)
    if not is_valid_email(email):
        raise DirectoryError("EMAIL must be an e-mail address")
    if role is not None and role not in STAFF_ROLES:
        raise DirectoryError("--role must be staff or facilitator")
    try:
        validate_password(password)
    except ValueError as exc:
        raise DirectoryError(str(exc)) from None
    user = session.scalar(select(StaffUser).where(StaffUser.email == email))
    created = user is None
    if user is None:
        user = StaffUser(email=email, role=role or "staff", password_hash=hash_password(password))
        session.add(user)
    else:
        user.password_hash = hash_password(password)
        user.end_sessions()  # whoever held the old password, or a copied cookie, is signed out
        if role is not None:
            user.role = role
    session.flush()
    return user, created


def facilitated_communities(session: Session, email: str) -> list[str]:
    """Names of the communities where the member with this e-mail facilitates (what a facilitator login sees)."""
    from zoombot.core.roles import FACILITATING

    return list(
        session.scalars(
            select(Community.name)
            .join(Membership)
            .join(Member)
            .where(Member.email == normalize_email(email), Membership.role.in_(FACILITATING))
            .order_by(Community.name)
        )
    )


# --- credit rules of a community ----------------------------------------------------------------------

#: A community's own credit rules (None: the installation's `[hours]` default) and their bounds.
CREDIT_RULES = {
    "minimum_minutes": (0, 600),
    "attendance_percent_minimum": (0, 100),
    "training_missed_minutes": (0, 600),
    "training_minimum_minutes": (0, 600),
}


def parse_credit_rules(form: Mapping[str, str]) -> dict[str, int | bool | None]:
    """Pure: the rules as typed on the community page ('' means the default) -> column values."""
    out: dict[str, int | bool | None] = {}
    for key, (low, high) in CREDIT_RULES.items():
        text = (form.get(key) or "").strip()
        if not text:
            out[key] = None
            continue
        if not is_digits(text) or not low <= int(text) <= high:
            raise DirectoryError(f"{words(key)} must be a whole number from {low} to {high}")
        out[key] = int(text)
    full = (form.get("training_full_attendance") or "").strip().lower()
    if full not in ("", "yes", "no"):
        raise DirectoryError("training full attendance must be yes, no or default")
    out["training_full_attendance"] = None if not full else full == "yes"
    return out


def set_credit_rules(
    session: Session, community: Community, form: Mapping[str, str], *, actor: str, now: datetime
) -> bool:
    """Store a community's own credit rules (audited); False when nothing changed."""
    wanted = parse_credit_rules(form)
    before = {key: getattr(community, key) for key in wanted}
    if before == wanted:
        return False
    for key, value in wanted.items():
        setattr(community, key, value)
    audit(
        session,
        actor=actor,
        entity="community",
        entity_id=community.id,
        action="credit_rules",
        from_value=_rules_text(before),
        to_value=_rules_text(wanted),
        at=now,
    )
    return True


def _rules_text(rules: Mapping[str, object]) -> str:
    return ", ".join(f"{words(key)} {'default' if value is None else value}" for key, value in rules.items())
