"""Zoom's HTTP API, mocked with `responses` (the one thing the tests mock): the fake server's
addresses, an OAuth token endpoint that always answers, and a client pointed at them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import responses

from zoombot.zoom.client import ZoomClient

API = "https://api.zoom.test/v2"
OAUTH = "https://zoom.test/oauth/token"


@contextlib.contextmanager
def zoom_api(*, strict: bool = False) -> Iterator[responses.RequestsMock]:
    """Mock Zoom with its token endpoint registered; `strict`: every registered call must happen."""
    with responses.RequestsMock(assert_all_requests_are_fired=strict) as mock:
        mock.add(responses.POST, OAUTH, json={"access_token": "tok", "expires_in": 3600})
        yield mock


def zoom_client(**options) -> ZoomClient:
    """A client of the mocked Zoom that never really sleeps between retries."""
    return ZoomClient(
        account_id="acct",
        client_id="cid",
        client_secret="csecret",
        api_base_url=API,
        oauth_url=OAUTH,
        sleep=lambda _s: None,
        **options,
    )
