"""Typed SQLAlchemy models: the single source of truth and the schedule.

Invariants live in constraints (unique keys for idempotency, foreign keys, checks), not in Python
checks, because two workers racing must not both win. `zoom_events` is append-only; `participants`
is derived from it and can be rebuilt at any time; staff decisions (matches, merges, segments, reviews)
are kept in their own tables so a rebuild never loses them. The unit of credit is a *session* (one
community occurrence, however many Zoom instances it took) and one credit line per person in it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from zoombot.core.times import parse_time


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on PostgreSQL (timestamptz) and SQLite (naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC instant is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


BigId = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON(), Decimal: Numeric(7, 2)}


def table_of(model: type[Base]) -> Table:
    """The model's Table, for table-level statements (bulk INSERTs without the ORM's bookkeeping).
    Declarative types `__table__` as any FromClause; every zoombot model maps one plain table."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a plain table")
    return table


def referring_index(table: str, column: str) -> Index:
    """The index of a column that may refer to another row, holding only the rows that do. Deleting the row
    referred to (or setting a line's batch) finds them through it; the rows that refer to nothing, most of
    them as they are written (a new line has no batch or correction, most audit entries name no meeting, a
    guest has no member), cost no index entry: a statewide rebuild writes 180 000 such rows."""
    return Index(
        f"ix_{table}_{column}",
        column,
        postgresql_where=text(f"{column} IS NOT NULL"),
        sqlite_where=text(f"{column} IS NOT NULL"),
    )


# --- Zoom events (append-only) and meeting instances ---------------------------------------------


class ZoomEvent(Base):
    """One verified delivery (or one Report API row), stored once by its content-derived key."""

    __tablename__ = "zoom_events"
    __table_args__ = (
        CheckConstraint("status IN ('received', 'processed', 'ignored', 'failed')", name="status"),
        CheckConstraint("source IN ('webhook', 'report')", name="source"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    event: Mapped[str] = mapped_column(String(100))  # no index: every index costs each webhook insert
    event_ts: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(16), default="webhook")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    account_id: Mapped[str | None] = mapped_column(String(64))
    meeting_id: Mapped[str | None] = mapped_column(String(32))
    meeting_uuid: Mapped[str | None] = mapped_column(String(100), index=True)
    body: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="received")
    error: Mapped[str | None] = mapped_column(Text)
    redacted_at: Mapped[datetime | None]


class CreditSession(Base):
    """One occurrence of a community as credit sees it: every Zoom instance of its meeting in the
    occurrence's window (`zoombot.core.sessions`). Times and status summarise the instances."""

    __tablename__ = "sessions"
    __table_args__ = (CheckConstraint("status IN ('scheduled', 'live', 'ended')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)  # "c<community id>:<date>" or "z<zoom id>:<date>"
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="SET NULL"), index=True)
    occurrence_id: Mapped[int | None] = mapped_column(ForeignKey("occurrences.id", ondelete="SET NULL"), index=True)
    zoom_meeting_id: Mapped[str] = mapped_column(String(32))
    local_date: Mapped[date] = mapped_column(Date)
    topic: Mapped[str] = mapped_column(String(300), default="")
    scheduled_start: Mapped[datetime | None]
    scheduled_minutes: Mapped[int | None]
    started_at: Mapped[datetime | None] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    lines_built_at: Mapped[datetime | None]
    needs_review: Mapped[bool] = mapped_column(default=False)
    is_demo: Mapped[bool] = mapped_column(default=False)

    community: Mapped[Community | None] = relationship()
    meetings: Mapped[list[Meeting]] = relationship(back_populates="session", order_by="Meeting.id")
    segments: Mapped[list[TrainingSegment]] = relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True, order_by="TrainingSegment.start"
    )


class Meeting(Base):
    """One meeting instance (a Zoom meeting UUID); a recurring CoP has one per occurrence, and a host restart
    adds another to the same session."""

    __tablename__ = "meetings"
    __table_args__ = (CheckConstraint("status IN ('scheduled', 'live', 'ended')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(100), unique=True)
    zoom_meeting_id: Mapped[str] = mapped_column(String(32), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="SET NULL"), index=True)
    occurrence_id: Mapped[int | None] = mapped_column(ForeignKey("occurrences.id", ondelete="SET NULL"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"), index=True)
    topic: Mapped[str] = mapped_column(String(300), default="")
    scheduled_start: Mapped[datetime | None]
    scheduled_minutes: Mapped[int | None]
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    finalized_by: Mapped[str | None] = mapped_column(String(16))
    report_status: Mapped[str | None] = mapped_column(String(16))
    reconciled_at: Mapped[datetime | None]
    discrepancies: Mapped[list[Any]] = mapped_column(default=list)
    is_demo: Mapped[bool] = mapped_column(default=False)

    community: Mapped[Community | None] = relationship(back_populates="meetings")
    session: Mapped[CreditSession | None] = relationship(back_populates="meetings")


class Participant(Base):
    """Derived from events: one person in one session (all its instances), with merged intervals."""

    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("session_id", "identity_key"), referring_index("participants", "member_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    identity_key: Mapped[str] = mapped_column(String(400))
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    registrant_id: Mapped[str | None] = mapped_column(String(100))
    zoom_user_id: Mapped[str | None] = mapped_column(String(100))
    is_host: Mapped[bool] = mapped_column(default=False)
    devices: Mapped[int] = mapped_column(default=1)  # the most devices present at one moment
    rejoins: Mapped[int] = mapped_column(default=0)
    incomplete: Mapped[bool] = mapped_column(default=False)  # a leave whose join never arrived
    intervals: Mapped[list[Any]] = mapped_column(default=list)
    attended_seconds: Mapped[int] = mapped_column(default=0)
    first_join: Mapped[datetime | None]
    last_leave: Mapped[datetime | None]
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    match_method: Mapped[str | None] = mapped_column(String(16))

    member: Mapped[Member | None] = relationship()

    def spans(self) -> list[tuple[datetime, datetime]]:
        """(join, leave) of each stored interval: zoombot writes them itself (`[start, end, source]`, ISO
        8601), so a time that does not read back means a damaged row, said plainly."""
        out = []
        for start_text, end_text, *_ in self.intervals or []:
            start, end = parse_time(start_text), parse_time(end_text)
            if start is None or end is None:
                raise ValueError(f"participant {self.id}: unreadable stored interval {start_text!r} - {end_text!r}")
            out.append((start, end))
        return out


class ParticipantMerge(Base):
    """A decision about who is who in one session. `merge` (staff): treat `source_key` (e.g. a phone
    dial-in) as `target_key`; `unbind` (staff): Zoom's bind of the phone caller `source_key` to
    `target_key` does not hold. Deleting the row undoes the decision."""

    __tablename__ = "participant_merges"
    __table_args__ = (
        UniqueConstraint("session_id", "kind", "source_key"),
        CheckConstraint("kind IN ('merge', 'unbind')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default="merge")
    source_key: Mapped[str] = mapped_column(String(400))
    target_key: Mapped[str] = mapped_column(String(400))
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ParticipantAlias(Base):
    """A match staff made, remembered: this participant identity is this member in later meetings too."""

    __tablename__ = "participant_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_key: Mapped[str] = mapped_column(String(400), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- Directory --------------------------------------------------------------------------------------


class Community(Base):
    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    region: Mapped[str] = mapped_column(String(200), default="")
    audience: Mapped[str] = mapped_column(String(200), default="")
    zoom_meeting_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    join_url: Mapped[str | None] = mapped_column(String(1000))  # None: the standard link from the meeting id
    passcode: Mapped[str | None] = mapped_column(String(10))  # shown in text: app and phone users type it
    first_start_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    timezone: Mapped[str] = mapped_column(String(64))
    duration_minutes: Mapped[int]
    rrule: Mapped[str | None] = mapped_column(String(500))
    expectations: Mapped[list[Any] | None]
    confidentiality: Mapped[list[Any] | None]
    zoom_synced_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    is_demo: Mapped[bool] = mapped_column(default=False)
    # The registry's credit rules for this community; None: the installation's `[hours]` default.
    minimum_minutes: Mapped[int | None]
    attendance_percent_minimum: Mapped[int | None]
    training_full_attendance: Mapped[bool | None]
    training_missed_minutes: Mapped[int | None]
    training_minimum_minutes: Mapped[int | None]
    # How the registry knows this community's sessions (growth rows): a title (None: the name), a
    # category of `[registry] categories` and the registry's approval code.
    registry_title: Mapped[str | None] = mapped_column(String(300))
    registry_category: Mapped[str | None] = mapped_column(String(200))
    approval_code: Mapped[str | None] = mapped_column(String(100))

    meetings: Mapped[list[Meeting]] = relationship(back_populates="community")
    memberships: Mapped[list[Membership]] = relationship(back_populates="community", cascade="all, delete-orphan")


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-cased
    registry_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    is_demo: Mapped[bool] = mapped_column(default=False)

    memberships: Mapped[list[Membership]] = relationship(back_populates="member", cascade="all, delete-orphan")


class Membership(Base):
    """A member in a community, with their CoP role (one of `[community] roles`, checked where it is set,
    since the list is the operator's) and their two mail preferences: member mail (invitations, agendas,
    reminders, follow-ups) and, for those who run meetings, facilitator mail (preparation, closure)."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("community_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(40), default="member")
    unsubscribed_at: Mapped[datetime | None]
    facilitator_mail_unsubscribed_at: Mapped[datetime | None]

    community: Mapped[Community] = relationship(back_populates="memberships")
    member: Mapped[Member] = relationship(back_populates="memberships")


class StaffUser(Base):
    """Someone who logs in: network staff see everything, facilitators only their own communities."""

    __tablename__ = "staff_users"
    __table_args__ = (CheckConstraint("role IN ('staff', 'facilitator')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16), default="staff")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Signed into every session cookie; sign-out and a password change raise it, which ends every session
    # of this user (a copied cookie included).
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    def end_sessions(self) -> None:
        """Every session cookie issued to this user so far stops working, on its next request."""
        self.session_generation = (self.session_generation or 0) + 1


class LoginAttempt(Base):
    """Failed logins, for rate limiting: one row per account and one per client address, each under a
    keyed hash (never the e-mail or the address itself), kept 15 minutes."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)


# --- Schedule, agendas, outbox ----------------------------------------------------------------------


class Occurrence(Base):
    """One planned meeting of a community, identified by its original start even when moved."""

    __tablename__ = "occurrences"
    __table_args__ = (
        UniqueConstraint("community_id", "original_start"),
        CheckConstraint("status IN ('scheduled', 'cancelled')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    original_start: Mapped[datetime]
    start: Mapped[datetime] = mapped_column(index=True)
    end: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    sequence: Mapped[int] = mapped_column(default=0)
    zoom_occurrence_id: Mapped[str | None] = mapped_column(String(32))
    # The start the community's schedule gives it (None: its original start). A schedule edit that moves the
    # series moves it here too; a move made in Zoom changes `start` only, so the planner can tell them apart.
    planned_start: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    community: Mapped[Community] = relationship()


class Agenda(Base):
    """The agenda of one occurrence; `content` is `zoombot.core.agenda.to_dict(...)`."""

    __tablename__ = "agendas"
    __table_args__ = (CheckConstraint("status IN ('draft', 'ready')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("occurrences.id", ondelete="CASCADE"), unique=True)
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(320))


class ResourceSubmission(Base):
    """A resource a member sent for an upcoming meeting (a link and a title)."""

    __tablename__ = "resource_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    occurrence_id: Mapped[int | None] = mapped_column(ForeignKey("occurrences.id", ondelete="SET NULL"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ParkingLotItem(Base):
    """A question parked in a meeting; it carries forward on agendas until someone closes it."""

    __tablename__ = "parking_lot_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(1000))
    raised_occurrence_id: Mapped[int | None] = mapped_column(
        ForeignKey("occurrences.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    closed_occurrence_id: Mapped[int | None] = mapped_column(
        ForeignKey("occurrences.id", ondelete="SET NULL"), index=True
    )


class Closure(Base):
    """How a meeting closed, recorded after it by a facilitator or the note-taker: what the follow-up
    carries and the next agenda starts from. Parking-lot changes live on the items themselves
    (`raised_occurrence_id`, `closed_occurrence_id`)."""

    __tablename__ = "closures"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("occurrences.id", ondelete="CASCADE"), unique=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[list[Any]] = mapped_column(default=list)
    evaluation_url: Mapped[str | None] = mapped_column(String(2000))
    recorded_by: Mapped[str] = mapped_column(String(320))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """One message to one recipient; the unique key makes planning idempotent and sending claimable.
    Messages about a meeting name its occurrence; a member's own mail (a fresh personal-page link they
    asked for) names none, and each request is its own row."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "kind", "recipient", "revision"),
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'skipped')", name="status"),
        Index("ix_outbox_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    occurrence_id: Mapped[int | None] = mapped_column(ForeignKey("occurrences.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(320))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    revision: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    due_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- Hours and review -------------------------------------------------------------------------------


class TrainingSegment(Base):
    """Staff decision: part of a session was elective training, with what the registry needs to know."""

    __tablename__ = "training_segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    start: Mapped[datetime]
    end: Mapped[datetime]
    title: Mapped[str] = mapped_column(String(300), default="")
    category: Mapped[str] = mapped_column(String(200), default="")
    approval_code: Mapped[str] = mapped_column(String(100), default="")
    # The trainer's registry id when someone else than the community's facilitator trains ("": the facilitator).
    trainer_registry_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[CreditSession] = relationship(back_populates="segments")


class CreditLine(Base):
    """One person's credit for one session: the total and its growth/training split, reviewed by staff.

    `proposed_*` follow the attendance; `growth_hours` / `training_hours` are what counts (the proposal,
    unless staff adjusted them). `status`: pending, approved, rejected, or no_credit (zero credit with a
    plain reason, resolved by itself until staff override it).

    A line sent to the registry (`submitted_at`, in batch `batch_id`) is final. A later change to that
    person's credit creates a *correction*: a new line of the same session and participant with the next
    `revision`, `corrects_id` naming the line it replaces, reviewed and submitted like any other. The
    current line of a participant is the one with the highest revision."""

    __tablename__ = "credit_lines"
    __table_args__ = (
        UniqueConstraint("session_id", "participant_key", "revision", name="uq_credit_lines_session_key_revision"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected', 'no_credit')", name="status"),
        CheckConstraint("proposal IN ('confirmed', 'disputed')", name="proposal"),
        # the unique constraint leads with session_id: it is the index by session too
        referring_index("credit_lines", "corrects_id"),
        referring_index("credit_lines", "member_id"),
        referring_index("credit_lines", "batch_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    participant_key: Mapped[str] = mapped_column(String(400))
    revision: Mapped[int] = mapped_column(default=0, server_default="0")
    corrects_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("credit_lines.id", ondelete="SET NULL"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    attended_seconds: Mapped[int] = mapped_column(default=0)
    training_attended_seconds: Mapped[int] = mapped_column(default=0)  # inside training segments
    proposed_growth_hours: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    proposed_training_hours: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    growth_hours: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    training_hours: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    adjusted: Mapped[bool] = mapped_column(default=False)
    override_reason: Mapped[str | None] = mapped_column(Text)  # hours above what the session allows
    no_credit_reason: Mapped[str | None] = mapped_column(Text)
    segments: Mapped[list[Any]] = mapped_column(default=list)  # per training segment: time, credit, refusal
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    flagged: Mapped[bool] = mapped_column(default=False)
    flag_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(320))
    decided_at: Mapped[datetime | None]
    exported_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("submission_batches.id", ondelete="RESTRICT"))
    # A facilitator's proposal (never a decision): confirmed attended, or disputed, with a note.
    proposal: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    proposed_by: Mapped[str | None] = mapped_column(String(320))
    proposed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[CreditSession] = relationship()
    member: Mapped[Member | None] = relationship()

    @property
    def total_hours(self) -> Decimal:
        return Decimal(self.growth_hours) + Decimal(self.training_hours)

    @property
    def proposed_total_hours(self) -> Decimal:
        return Decimal(self.proposed_growth_hours) + Decimal(self.proposed_training_hours)

    @property
    def submitted(self) -> bool:
        return self.submitted_at is not None


class SubmissionBatch(Base):
    """One file sent to the registry: who made it, when, exactly which lines, and the file itself (kept
    byte for byte, so a download later is the very file that was sent)."""

    __tablename__ = "submission_batches"
    __table_args__ = (CheckConstraint("format IN ('csv', 'xlsx')", name="format"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(320))
    registry_name: Mapped[str] = mapped_column(String(200), default="")
    format: Mapped[str] = mapped_column(String(8))
    filename: Mapped[str] = mapped_column(String(200))
    line_ids: Mapped[list[Any]] = mapped_column(default=list)
    row_count: Mapped[int] = mapped_column(default=0)
    held_back: Mapped[list[Any]] = mapped_column(default=list)  # [{"line_id", "who", "reasons"}]
    content: Mapped[bytes] = mapped_column(LargeBinary)


class DeadlineDigest(Base):
    """One day's deadline digest to one staff member: claimed before it is sent, like the outbox, so two
    schedulers never send it twice and a run after a crash picks it up again."""

    __tablename__ = "deadline_digests"
    __table_args__ = (
        UniqueConstraint("digest_date", "recipient"),
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    digest_date: Mapped[date] = mapped_column(Date)
    recipient: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CertificateRecord(Base):
    """A certificate of attendance as issued: its verification code and exactly the credit it attests
    (`zoombot.core.certificates.Credit`, as JSON). Issuing the same credit again gives the same code; a changed
    line gets a new code on its next download, and the old code then reads as changed (`standing`)."""

    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("line_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("credit_lines.id", ondelete="SET NULL"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    credit: Mapped[dict[str, Any]]
    member_initials: Mapped[str] = mapped_column(String(20), default="")
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)


class MemberClaim(Base):
    """A member says they attended a session but are not (fully) counted: they chose one of its unmatched
    participants (`participant_ref`, an opaque keyed hash: `zoombot.core.claims`) and/or described how they
    joined. Staff accept it (a match or merge through `zoombot.store.review`) or decline it with a reason the
    member reads. One claim per member and session; a declined or withdrawn one may be made again."""

    __tablename__ = "member_claims"
    __table_args__ = (
        UniqueConstraint("member_id", "session_id"),
        CheckConstraint("status IN ('open', 'accepted', 'declined', 'withdrawn')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    participant_ref: Mapped[str | None] = mapped_column(String(40))
    chosen_first_join: Mapped[datetime | None]  # what the member saw when choosing, for staff
    chosen_last_leave: Mapped[datetime | None]
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(320))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)  # shown to the member when declined
    resolution: Mapped[str | None] = mapped_column(String(16))  # match | merge | resolved

    member: Mapped[Member] = relationship()
    session: Mapped[CreditSession] = relationship()


class AuditEntry(Base):
    """Who changed what, when, from what, to what and why. Never updated, never deleted."""

    __tablename__ = "audit_entries"
    __table_args__ = (referring_index("audit_entries", "meeting_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(BigInteger)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_value: Mapped[str | None] = mapped_column(Text)
    to_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)


# --- Operations -------------------------------------------------------------------------------------


class JobStatus(Base):
    """Last run of each scheduled job, for the status page and metrics."""

    __tablename__ = "job_status"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_started_at: Mapped[datetime | None]
    last_finished_at: Mapped[datetime | None]
    last_ok: Mapped[bool | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    runs: Mapped[int] = mapped_column(default=0)
    failures: Mapped[int] = mapped_column(default=0)


class Lease(Base):
    """A time-limited lock row: at most one holder of `name` until `expires_at`."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime]


class InstanceSecret(Base):
    """Secrets zoombot generates for itself when the operator set none (e.g. a laptop's session key)."""

    __tablename__ = "instance_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
