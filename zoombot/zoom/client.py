"""Zoom REST client (Server-to-Server OAuth) and a few pure helpers.

This module is the thin imperative shell around Zoom's REST API:

* :class:`ZoomClient` fetches and caches an account-credentials access token, sends requests with a
  timeout, retries 429 / 5xx / network failures with exponential backoff (honouring ``Retry-After``),
  refreshes the token once on a 401, and turns every failure into one exception type, :class:`ZoomError`.
* :func:`encode_uuid` is pure (no I/O); the RRULE translation lives in :mod:`zoombot.core.recurrence`.

Logging carries the HTTP method, a path *template* (identifiers replaced by ``{id}``) and the status only:
never tokens, secrets, query strings, e-mail addresses or names.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import requests

from zoombot.core.digits import is_digits
from zoombot.core.privacy import mask_emails, mask_values, one_line

__all__ = [
    "ZoomError",
    "ZoomNotConfigured",
    "ZoomClient",
    "encode_uuid",
]

log = logging.getLogger(__name__)


_BACKOFF_BASE = 1.0
_BACKOFF_CAP = 60.0
# A Retry-After longer than this (e.g. a daily rate limit, which can be hours) is not slept through:
# the call fails at once with ZoomError(status=429, retry_after=...) so the caller can reschedule.
_MAX_RETRY_AFTER = _BACKOFF_CAP
_TOKEN_MARGIN = 60.0
_DEFAULT_EXPIRES_IN = 3600.0
_MAX_MESSAGE = 300
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})

_PLAIN_SEGMENT_RE = re.compile(r"^[a-z_]+$")


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------


class ZoomError(Exception):
    """Any failure talking to Zoom.

    ``status`` is the HTTP status (None for network errors), ``code`` Zoom's JSON ``code`` (None when
    absent), ``message`` a short one-line text, ``retry_after`` the seconds Zoom asked us to wait (429 only,
    None otherwise). ``str()`` is one line and never contains credentials or tokens (the client redacts
    them before constructing the error; e-mail addresses are masked here as well).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = _one_line(message)
        self.retry_after = retry_after
        super().__init__(self.message)

    def __str__(self) -> str:
        details = []
        if self.status is not None:
            details.append(f"HTTP {self.status}")
        if self.code is not None:
            details.append(f"code {self.code}")
        where = f" ({', '.join(details)})" if details else ""
        return f"Zoom API error{where}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, message={self.message!r})"


class ZoomNotConfigured(ZoomError):
    """The Server-to-Server OAuth credentials are missing."""

    MESSAGE = "Zoom API credentials are not configured ([zoom] account_id, client_id, client_secret)"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.MESSAGE)

    def __str__(self) -> str:
        return self.message


def _one_line(text: Any) -> str:
    text = mask_emails(one_line(text, 10_000), "<email>")
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 3] + "..."
    return text or "unknown error"


# --------------------------------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------------------------------


class ZoomClient:
    """Zoom REST client using Server-to-Server OAuth (account credentials).

    Not a context manager for the token: the token is fetched lazily on the first call and cached until
    60 s before it expires. The client is safe to share between threads (token refresh is locked;
    ``requests.Session`` is used the way the rest of the world uses it across threads).
    """

    def __init__(
        self,
        *,
        account_id: str,
        client_id: str,
        client_secret: str,
        api_base_url: str = "https://api.zoom.us/v2",
        oauth_url: str = "https://zoom.us/oauth/token",
        timeout: float | tuple[float, float] = (5, 30),
        max_retries: int = 4,
        session: requests.Session | None = None,
        sleep: Callable[[float], Any] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (_filled(account_id) and _filled(client_id) and _filled(client_secret)):
            raise ZoomNotConfigured()
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self._account_id = str(account_id).strip()
        self._client_id = str(client_id).strip()
        self._client_secret = str(client_secret).strip()
        self.api_base_url = (api_base_url or "https://api.zoom.us/v2").rstrip("/")
        self.oauth_url = oauth_url or "https://zoom.us/oauth/token"
        self.timeout = timeout
        self.max_retries = max_retries
        self._own_session = session is None
        self.session = session if session is not None else requests.Session()
        self._sleep = sleep
        self._clock = clock
        self._token: str | None = None
        self._token_valid_until = 0.0
        self._token_lock = threading.Lock()

    def __repr__(self) -> str:  # never show credentials
        return f"ZoomClient(api_base_url={self.api_base_url!r})"

    @classmethod
    def from_settings(cls, zoom_settings: Any, **kwargs: Any) -> ZoomClient:
        """Build a client from an object with account_id, client_id, client_secret, api_base_url, oauth_url.

        Extra keyword arguments (timeout, max_retries, session, sleep, clock) are passed through.
        Raises ZoomNotConfigured when the credentials are empty.
        """
        options: dict[str, Any] = {}
        for name in ("api_base_url", "oauth_url"):
            value = getattr(zoom_settings, name, None)
            if value:
                options[name] = value
        options.update(kwargs)
        return cls(
            account_id=getattr(zoom_settings, "account_id", "") or "",
            client_id=getattr(zoom_settings, "client_id", "") or "",
            client_secret=getattr(zoom_settings, "client_secret", "") or "",
            **options,
        )

    def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._own_session:
            self.session.close()

    # ---- token ------------------------------------------------------------------------------------

    def _access_token(self) -> str:
        with self._token_lock:
            if self._token is None or self._clock() >= self._token_valid_until:
                self._fetch_token()
            assert self._token is not None
            return self._token

    def _invalidate_token(self, stale: str) -> None:
        with self._token_lock:
            if self._token == stale:  # another thread may already have refreshed it
                self._token = None
                self._token_valid_until = 0.0

    def _fetch_token(self) -> None:
        started = self._clock()
        response = self._send(
            "POST",
            self.oauth_url,
            "oauth/token",
            idempotent=True,  # asking for a token twice is harmless
            params={"grant_type": "account_credentials", "account_id": self._account_id},
            auth=(self._client_id, self._client_secret),
        )
        if response.status_code >= 400:
            error = self._error(response)
            error.message = f"OAuth token request failed: {error.message}"
            raise error
        data = self._json(response)
        token = data.get("access_token") if isinstance(data, dict) else None
        if not token or not isinstance(token, str):
            raise ZoomError("OAuth token response has no access_token", status=response.status_code)
        try:
            expires_in = float(data.get("expires_in", _DEFAULT_EXPIRES_IN))
        except (TypeError, ValueError):
            expires_in = _DEFAULT_EXPIRES_IN
        self._token = token
        self._token_valid_until = started + expires_in - _TOKEN_MARGIN
        log.info("zoom oauth token obtained (expires_in=%ss)", int(expires_in))

    # ---- requests ---------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> dict:
        """Call ``{api_base_url}{path}`` and return the decoded JSON object ({} for 204 / empty body).

        ``path`` starts with "/" and must already be URL-encoded (see :func:`encode_uuid`).
        ``idempotent`` defaults to "not POST": a non-idempotent call is retried only when Zoom certainly
        did not act on it (429, or the connection could not be opened), never after a 5xx or read timeout,
        so a meeting is never created twice.
        """
        method = method.upper()
        if not path.startswith("/"):
            path = "/" + path
        if idempotent is None:
            idempotent = method in _IDEMPOTENT
        url = self.api_base_url + path
        template = _path_template(path)
        refreshed = False
        while True:
            token = self._access_token()
            response = self._send(
                method,
                url,
                template,
                idempotent=idempotent,
                params=params,
                json=json,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                token=token,
            )
            if response.status_code == 401 and not refreshed:
                log.info("zoom %s %s -> 401, refreshing token once", method, template)
                refreshed = True
                self._invalidate_token(token)
                continue
            if response.status_code >= 400:
                raise self._error(response, token)
            data = self._json(response)
            if not isinstance(data, dict):
                raise ZoomError("unexpected JSON (not an object) in Zoom response", status=response.status_code)
            return data

    def paginate(
        self,
        path: str,
        key: str,
        *,
        params: dict[str, Any] | None = None,
        page_size: int = 300,
    ) -> Iterator[dict]:
        """Yield the items under ``key`` from every page, following ``next_page_token``.

        Lazy: pages are fetched as the iterator is consumed. Zoom's page tokens expire after 15 minutes,
        so consume promptly.
        """
        query = dict(params or {})
        query["page_size"] = page_size
        seen: set[str] = set()
        while True:
            data = self.request("GET", path, params=query)
            yield from data.get(key) or []
            next_token = data.get("next_page_token")
            if not next_token:
                return
            if next_token in seen:
                raise ZoomError("pagination loop: Zoom repeated a next_page_token")
            seen.add(next_token)
            query["next_page_token"] = next_token

    # ---- domain calls ------------------------------------------------------------------------------

    def get_meeting(self, meeting_id: int | str, occurrence_id: str | None = None) -> dict:
        return self.request("GET", f"/meetings/{_seg(meeting_id)}", params=_occurrence(occurrence_id))

    def create_meeting(self, user_id: str, body: dict) -> dict:
        """POST /users/{user_id}/meetings. Not retried after a 5xx or read timeout (see request())."""
        return self.request("POST", f"/users/{_seg(user_id)}/meetings", json=body)

    def update_meeting(self, meeting_id: int | str, body: dict, occurrence_id: str | None = None) -> dict:
        return self.request("PATCH", f"/meetings/{_seg(meeting_id)}", params=_occurrence(occurrence_id), json=body)

    def delete_meeting(self, meeting_id: int | str, occurrence_id: str | None = None) -> dict:
        return self.request("DELETE", f"/meetings/{_seg(meeting_id)}", params=_occurrence(occurrence_id))

    def past_meeting(self, meeting_uuid: str) -> dict:
        """Details of one ended instance: ``start_time``, ``end_time``, ``duration``, ``topic``..."""
        return self.request("GET", f"/past_meetings/{encode_uuid(meeting_uuid)}")

    def past_instances(self, meeting_id: int | str) -> list[dict]:
        """Ended instances of a meeting: each has ``uuid`` and ``start_time``."""
        data = self.request("GET", f"/past_meetings/{_seg(meeting_id)}/instances")
        return list(data.get("meetings") or [])

    def report_participants(self, meeting_uuid: str) -> Iterator[dict]:
        """Participant report rows (one per join session) of one meeting instance, all pages. Zoom sends a
        row's `registrant_id` only when asked for it (`include_fields`), and it identifies a person first."""
        path = f"/report/meetings/{encode_uuid(meeting_uuid)}/participants"
        return self.paginate(path, "participants", params={"include_fields": "registrant_id"}, page_size=300)

    # ---- internals ---------------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        template: str,
        *,
        idempotent: bool,
        token: str | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send with retries on 429 / 5xx / network errors. Returns the final response (any status)."""
        attempt = 0
        while True:
            try:
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            except requests.RequestException as exc:
                connect_failed = isinstance(exc, requests.ConnectTimeout) or (
                    isinstance(exc, requests.ConnectionError)
                    and not isinstance(exc, requests.Timeout)
                    and _is_connect_failure(exc)
                )
                retryable = isinstance(exc, (requests.ConnectionError, requests.Timeout)) and (
                    idempotent or connect_failed
                )
                if not retryable or attempt >= self.max_retries:
                    log.warning("zoom %s %s failed: %s", method, template, type(exc).__name__)
                    raise ZoomError(f"network error talking to Zoom ({type(exc).__name__})") from exc
                delay = _backoff(attempt)
                log.warning(
                    "zoom %s %s %s, retry %d/%d in %.0fs",
                    method,
                    template,
                    type(exc).__name__,
                    attempt + 1,
                    self.max_retries,
                    delay,
                )
                self._sleep(delay)
                attempt += 1
                continue

            status = response.status_code
            log.debug("zoom %s %s -> %d", method, template, status)
            retryable = status == 429 or (status >= 500 and idempotent)
            if not retryable:
                return response
            retry_after = _retry_after(response)
            if retry_after is not None and retry_after > _MAX_RETRY_AFTER:
                log.warning("zoom %s %s -> %d, Retry-After %ss too long", method, template, status, retry_after)
                raise self._error(response, token, retry_after=retry_after)
            if attempt >= self.max_retries:
                log.warning("zoom %s %s -> %d, giving up after %d retries", method, template, status, attempt)
                raise self._error(response, token, retry_after=retry_after)
            delay = retry_after if retry_after is not None else _backoff(attempt)
            log.warning(
                "zoom %s %s -> %d, retry %d/%d in %.0fs",
                method,
                template,
                status,
                attempt + 1,
                self.max_retries,
                delay,
            )
            response.close()
            self._sleep(delay)
            attempt += 1

    @staticmethod
    def _json(response: requests.Response) -> Any:
        if response.status_code == 204 or not response.content or not response.content.strip():
            return {}
        try:
            return response.json()
        except ValueError:
            raise ZoomError("invalid JSON in Zoom response", status=response.status_code) from None

    def _error(
        self, response: requests.Response, token: str | None = None, *, retry_after: float | None = None
    ) -> ZoomError:
        status = response.status_code
        code: int | None = None
        message = ""
        try:
            data = response.json() if response.content else None
        except ValueError:
            data = None
        if isinstance(data, dict):
            raw_code = data.get("code")
            if isinstance(raw_code, int) and not isinstance(raw_code, bool):
                code = raw_code
            elif isinstance(raw_code, str) and is_digits(raw_code.lstrip("-")):
                code = int(raw_code)
            # API errors: {"code", "message"}; OAuth errors: {"reason", "error"}
            message = str(data.get("message") or data.get("reason") or data.get("error") or "")
        if not message:
            message = f"{response.reason or 'HTTP error'}".strip()
        return ZoomError(self._redact(message, token), status=status, code=code, retry_after=retry_after)

    def _redact(self, text: str, token: str | None = None) -> str:
        return mask_values(text, (self._client_secret, token or "", self._token or ""), "***")


def _filled(value: Any) -> bool:
    return value is not None and bool(str(value).strip())


def _seg(value: Any) -> str:
    return quote(str(value).strip(), safe="")


def _occurrence(occurrence_id: str | None) -> dict[str, str] | None:
    return {"occurrence_id": str(occurrence_id)} if occurrence_id not in (None, "") else None


def _backoff(attempt: int) -> float:
    return min(_BACKOFF_CAP, _BACKOFF_BASE * (2**attempt))


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # HTTP-date form: fall back to exponential backoff
    return max(0.0, seconds)


def _is_connect_failure(exc: requests.ConnectionError) -> bool:
    """True when the request certainly never reached Zoom (connection refused, DNS failure...)."""
    # urllib3 wraps connect failures as NewConnectionError / NameResolutionError inside MaxRetryError.
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    name = type(reason).__name__ if reason is not None else ""
    return name in {"NewConnectionError", "NameResolutionError", "ConnectTimeoutError"}


def _path_template(path: str) -> str:
    """``/meetings/8123/instances`` -> ``/meetings/{id}/instances`` (keeps only plain lower-case words)."""
    path = path.split("?", 1)[0]
    return "/".join(seg if (not seg or _PLAIN_SEGMENT_RE.match(seg)) else "{id}" for seg in path.split("/"))


# --------------------------------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------------------------------


def encode_uuid(uuid: str) -> str:
    """Encode a meeting UUID for use as one path segment.

    Zoom requires a UUID that starts with "/" or contains "//" to be URL-encoded twice; any other UUID
    is encoded once (``quote(uuid, safe="")``, so "/", "+" and "=" are always escaped).
    """
    once = quote(uuid, safe="")
    if uuid.startswith("/") or "//" in uuid:
        return quote(once, safe="")
    return once
