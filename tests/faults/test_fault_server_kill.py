"""The web tier killed with SIGKILL in the middle of a burst: every event that got a 200 is stored; the
others are redelivered after a restart (as Zoom would) and stored once."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from tests.helpers.burst import participant_events, send_all, stored_keys
from tests.helpers.servers import server  # noqa: F401 - fixture

pytestmark = pytest.mark.slow


def test_sigkill_mid_burst_loses_nothing_that_was_acknowledged(server, database_url):  # noqa: F811
    proc = server(database_url, workers=2)
    deliveries = participant_events(240)
    answered = threading.Event()
    seen = Counter()

    def count(d):
        seen["done"] += 1
        if seen["done"] == 80:
            answered.set()

    killer = threading.Thread(target=lambda: (answered.wait(60), proc.kill()))
    killer.start()
    send_all(proc.port, deliveries, threads=8, after_each=count)
    killer.join(60)

    statuses = Counter(d.status for d in deliveries)
    assert statuses[200] >= 80 and statuses[None] > 0, statuses  # the crash happened mid-burst
    assert set(statuses) <= {200, None}  # a crash means no answer, never a false 200 or a 500
    stored = Counter(stored_keys(database_url))
    assert all(stored[d.key] == 1 for d in deliveries if d.status == 200)

    again = server(database_url, workers=2)
    retry = [d for d in deliveries if d.status != 200]
    send_all(again.port, retry, threads=8)
    assert {d.status for d in retry} == {200}
    stored = Counter(stored_keys(database_url))
    assert sorted(stored) == sorted(d.key for d in deliveries) and set(stored.values()) == {1}
