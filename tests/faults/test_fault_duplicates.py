"""The same deliveries racing on two workers (and two web tiers): each event is stored exactly once."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.helpers.burst import Delivery, participant_events, send_all, stored_keys
from tests.helpers.servers import server  # noqa: F401 - fixture

pytestmark = pytest.mark.slow


def test_duplicates_racing_on_two_workers_store_one_event(server, database_url):  # noqa: F811
    first = server(database_url, workers=2)
    second = server(database_url, workers=2)
    originals = participant_events(40, uuid="race==")
    copies = [Delivery(d.body) for d in originals for _ in range(4)]  # each event four times at once
    ports = iter([first.port, second.port] * len(copies))
    send_all(lambda: next(ports), copies, threads=16)
    assert {d.status for d in copies} == {200}
    stored = Counter(stored_keys(database_url))
    assert sorted(stored) == sorted(d.key for d in originals) and set(stored.values()) == {1}
