"""Typed settings from a TOML file and the environment.

Every key is `[section] key` in the file and `ZOOMBOT_SECTION_KEY` in the environment; the environment
wins. Settings are validated once, at start-up, so a bad value stops the service with one line naming
the key instead of failing later in a job. Secrets are never part of an error message.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(Exception):
    """A setting is missing or invalid; the message is one line naming the key."""


#: A follow-up stays useful for 7 days; waiting longer than 5 for a closure would leave it too little.
MAX_CLOSURE_WAIT_HOURS = 120
SECRET_KEYS = {"client_secret", "webhook_secret_token", "password", "secret_key"}


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = field(default="sqlite:///var/zoombot.db", repr=False)  # may hold a password
    pool_size: int = 5
    max_overflow: int = 10


@dataclass(frozen=True)
class ZoomSettings:
    account_id: str = ""
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    webhook_secret_token: str = field(default="", repr=False)
    api_base_url: str = "https://api.zoom.us/v2"
    oauth_url: str = "https://zoom.us/oauth/token"
    timestamp_tolerance_seconds: int = 5400
    user_id: str = "me"
    report_delay_minutes: int = 30
    finalize_after_hours: int = 3

    @property
    def api_configured(self) -> bool:
        return bool(self.account_id and self.client_id and self.client_secret)


@dataclass(frozen=True)
class MailSettings:
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    starttls: bool = False
    username: str = ""
    password: str = field(default="", repr=False)
    from_address: str = "zoombot@localhost"
    timeout_seconds: int = 30
    templates_dir: str = ""
    certificate_ready_mail: bool = True  # "your certificate is ready" once a member's line is approved


@dataclass(frozen=True)
class WebSettings:
    secret_key: str = field(default="", repr=False)
    base_url: str = "http://127.0.0.1:8000"
    login_attempts_per_15_minutes: int = 5
    login_attempts_per_address_per_15_minutes: int = 20
    proxy_fix: int = 0  # reverse proxies in front whose X-Forwarded-* headers are trusted (0: none)
    member_link_days: int = 30  # how long a member's personal "my hours" link works


@dataclass(frozen=True)
class ScheduleSettings:
    timezone: str = "America/New_York"
    facilitator_prep_days: int = 7
    invite_days: int = 14
    agenda_days: int = 2
    reminder_minutes: int = 60
    followup_hours: int = 2
    horizon_days: int = 60
    tick_seconds: int = 60
    session_grace_minutes: int = 120
    closure_wait_hours: int = 24


@dataclass(frozen=True)
class CommunitySettings:
    roles: str = "facilitator, co-facilitator, note-taker, timekeeper, member"

    @property
    def role_names(self) -> tuple[str, ...]:
        from zoombot.core.roles import parse_roles

        return parse_roles(self.roles)


@dataclass(frozen=True)
class HoursSettings:
    increment_minutes: int = 15
    rounding: str = "down"
    minimum_minutes: int = 30
    cap: str = "scheduled"
    yearly_requirement_hours: int = 15
    attendance_percent_minimum: int = 0
    training_full_attendance: bool = False
    training_missed_minutes: int = 15
    training_minimum_minutes: int = 0
    # The month a member's licensing year starts in (1 = January: the calendar year). The members grid
    # and each member's page count hours per licensing year.
    licensing_year_start_month: int = 1


#: The state's core knowledge areas, as many registries name them; an installation lists its own.
DEFAULT_CATEGORIES = (
    "Child Growth and Development",
    "Health, Safety and Nutrition",
    "Observation and Assessment",
    "Curriculum and Learning Environment",
    "Family and Community Partnerships",
    "Professionalism and Leadership",
    "Program Administration",
)


#: What a registry submission file can hold (`zoombot.core.registry_rows`), in the default order.
SUBMISSION_COLUMNS = (
    "record_id",
    "corrects_record_id",
    "registry_id",
    "participant_name",
    "session_date",
    "start_local",
    "end_local",
    "title",
    "category",
    "approval_code",
    "kind",
    "hours",
    "trainer_name",
    "trainer_registry_id",
    "sponsor",
    "delivery_format",
    "approver",
    "approval_date",
    "community",
    "session_id",
    "override_reason",
)


@dataclass(frozen=True)
class RegistrySettings:
    """The licensing registry's profile: what a submission holds, how soon it is due, what an id looks like."""

    name: str = "Registry"
    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    submission_days: int = 7
    digest_days_before: int = 2
    registry_id_pattern: str = ""
    columns: tuple[str, ...] = SUBMISSION_COLUMNS
    required_columns: tuple[str, ...] = ("registry_id", "session_date", "hours")
    sponsor: str = ""
    delivery_format: str = "Virtual instructor-led"
    issuer_name: str = ""  # the organization certificates and transcripts name as their issuer


@dataclass(frozen=True)
class RetentionSettings:
    enabled: bool = True
    days: int = 365


@dataclass(frozen=True)
class LogSettings:
    level: str = "INFO"
    format: str = "json"  # one JSON object per line; "text" for a person reading a terminal


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    zoom: ZoomSettings = field(default_factory=ZoomSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    web: WebSettings = field(default_factory=WebSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    community: CommunitySettings = field(default_factory=CommunitySettings)
    hours: HoursSettings = field(default_factory=HoursSettings)
    registry: RegistrySettings = field(default_factory=RegistrySettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    log: LogSettings = field(default_factory=LogSettings)


_CHOICES = {
    ("hours", "rounding"): {"down", "nearest"},
    ("hours", "cap"): {"scheduled", "meeting", "none"},
    ("log", "level"): {"DEBUG", "INFO", "WARNING", "ERROR"},
    ("log", "format"): {"json", "text"},
}
_POSITIVE = {
    ("hours", "increment_minutes"),
    ("zoom", "timestamp_tolerance_seconds"),
    ("mail", "smtp_port"),
    ("schedule", "tick_seconds"),
    ("schedule", "horizon_days"),
    ("database", "pool_size"),
    ("web", "login_attempts_per_15_minutes"),
    ("web", "login_attempts_per_address_per_15_minutes"),
    ("retention", "days"),
    ("web", "member_link_days"),
}


def _coerce(section: str, key: str, kind: type, value: Any) -> Any:
    name = f"[{section}] {key}"
    shown = "(hidden)" if key in SECRET_KEYS else repr(value)
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on"}:
            return True
        if isinstance(value, str) and value.strip().lower() in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{name} must be true or false, got {shown}")
    if kind == tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
            raise ConfigError(f"{name} must be a list of strings (in the environment: comma-separated)")
        return tuple(i.strip() for i in items if i.strip())
    if kind is int:
        if isinstance(value, bool):
            raise ConfigError(f"{name} must be a whole number, got {shown}")
        try:
            return int(str(value).strip())
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, got {shown}") from None
    if not isinstance(value, (str, int, float)):
        raise ConfigError(f"{name} must be a string, got {type(value).__name__}")
    return str(value)


def _validate(settings: Settings) -> None:
    for (section, key), allowed in _CHOICES.items():
        value = getattr(getattr(settings, section), key)
        if value not in allowed:
            raise ConfigError(f"[{section}] {key} must be one of {', '.join(sorted(allowed))}, got {value!r}")
    for section, key in _POSITIVE:
        if getattr(getattr(settings, section), key) <= 0:
            raise ConfigError(f"[{section}] {key} must be greater than 0")
    for key in ("facilitator_prep_days", "invite_days", "agenda_days", "reminder_minutes", "followup_hours"):
        if getattr(settings.schedule, key) < 0:
            raise ConfigError(f"[schedule] {key} must not be negative")
    if not 0 <= settings.schedule.closure_wait_hours <= MAX_CLOSURE_WAIT_HOURS:
        raise ConfigError(f"[schedule] closure_wait_hours must be between 0 and {MAX_CLOSURE_WAIT_HOURS}")
    try:
        settings.community.role_names  # noqa: B018 -- the property parses the roles and raises on bad ones
    except ValueError as exc:
        raise ConfigError(f"[community] roles: {exc}") from None
    if not 0 <= settings.web.proxy_fix <= 5:
        raise ConfigError("[web] proxy_fix must be between 0 and 5 (the number of proxies in front)")
    for key in ("minimum_minutes", "training_missed_minutes", "training_minimum_minutes"):
        if getattr(settings.hours, key) < 0:
            raise ConfigError(f"[hours] {key} must not be negative")
    if not 1 <= settings.hours.licensing_year_start_month <= 12:
        raise ConfigError("[hours] licensing_year_start_month must be a month number, 1 to 12")
    if not 0 <= settings.hours.attendance_percent_minimum <= 100:
        raise ConfigError("[hours] attendance_percent_minimum must be between 0 and 100")
    _validate_registry(settings.registry)
    if settings.schedule.session_grace_minutes < 0:
        raise ConfigError("[schedule] session_grace_minutes must not be negative")
    try:
        ZoneInfo(settings.schedule.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"[schedule] timezone is not a known time zone: {settings.schedule.timezone!r}") from None
    url = settings.database.url
    if not url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
        raise ConfigError("[database] url must start with sqlite:/// or postgresql://")
    for key in ("api_base_url", "oauth_url"):
        if not getattr(settings.zoom, key).startswith(("http://", "https://")):
            raise ConfigError(f"[zoom] {key} must be an http(s) URL")
    if not settings.web.base_url.startswith(("http://", "https://")):
        raise ConfigError("[web] base_url must be an http(s) URL")
    if "@" not in settings.mail.from_address:
        raise ConfigError("[mail] from_address must be an email address")


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def local_base_url_warning(web: WebSettings, bind_host: str | None = None) -> str | None:
    """Why `base_url` cannot be the address people use, when it is this machine's own while the service
    is reached from elsewhere (behind a proxy, or `bind_host` another address than loopback): mail links,
    calendar files and the verification address printed on certificates would send members to their own
    computer. None when nothing suggests so (the laptop demo: all local; a process that does not know
    where it listens, such as the scheduler, judges by `proxy_fix` alone)."""
    from urllib.parse import urlsplit

    base_host = (urlsplit(web.base_url).hostname or "").lower()
    elsewhere = web.proxy_fix > 0 or (bind_host is not None and bind_host not in LOOPBACK_HOSTS)
    if base_host not in LOOPBACK_HOSTS or not elsewhere:
        return None
    return (
        f"[web] base_url is {web.base_url}, this machine's own address, while zoombot is reached from "
        "elsewhere: links in mail and calendar files and the verification address on certificates will not "
        "work for anyone else; set it to the address people use (https://...)"
    )


def _validate_registry(registry: RegistrySettings) -> None:
    for key in ("submission_days", "digest_days_before"):
        if getattr(registry, key) < 0:
            raise ConfigError(f"[registry] {key} must not be negative")
    try:
        re.compile(registry.registry_id_pattern)
    except re.error as exc:
        raise ConfigError(f"[registry] registry_id_pattern is not a regular expression: {exc}") from None
    for key in ("columns", "required_columns"):
        unknown = [c for c in getattr(registry, key) if c not in SUBMISSION_COLUMNS]
        if unknown:
            raise ConfigError(
                f"[registry] {key}: unknown column {unknown[0]!r} (known: {', '.join(SUBMISSION_COLUMNS)})"
            )
    if not registry.columns:
        raise ConfigError("[registry] columns must name at least one column")
    if len(set(registry.columns)) != len(registry.columns):
        raise ConfigError("[registry] columns names a column twice")


def load_settings(
    path: str | os.PathLike | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Build settings from (in rising priority) defaults, the TOML file, the environment, overrides.

    The file is `path`, else `$ZOOMBOT_CONFIG`, else `./config.toml` when present.
    """
    environ = os.environ if environ is None else environ
    if path is None:
        path = environ.get("ZOOMBOT_CONFIG") or ("config.toml" if Path("config.toml").exists() else None)
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"configuration file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"configuration file {path} is not valid TOML: {exc}") from None
    sections = {f.name: f.type for f in dataclasses.fields(Settings)}
    hints = get_type_hints(Settings)
    for unknown in set(raw) - set(sections):
        raise ConfigError(f"unknown configuration section [{unknown}]")
    built = {}
    for section, cls in hints.items():
        file_values = raw.get(section, {})
        if not isinstance(file_values, dict):
            raise ConfigError(f"[{section}] must be a table")
        field_types = get_type_hints(cls)
        for unknown in set(file_values) - set(field_types):
            raise ConfigError(f"unknown configuration key [{section}] {unknown}")
        values = {}
        for key, kind in field_types.items():
            value: Any = dataclasses.MISSING
            if key in file_values:
                value = file_values[key]
            env_name = f"ZOOMBOT_{section}_{key}".upper()
            if env_name in environ:
                value = environ[env_name]
            if overrides and key in overrides.get(section, {}):
                value = overrides[section][key]
            if value is not dataclasses.MISSING:
                values[key] = _coerce(section, key, kind, value)
        built[section] = cls(**values)
    settings = Settings(**built)
    _validate(settings)
    return settings
