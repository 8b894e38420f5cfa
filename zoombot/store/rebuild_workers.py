"""`zoombot attendance rebuild --workers N`: the rebuild split by community over N processes (PostgreSQL).

One process rebuilds a statewide year in one transaction, and half its time is spent waiting for the
server (COPY's index maintenance and foreign-key checks, the event reads) while the rules run in between:
with the work split by community (`meetings.partitions`: a session never spans two communities, so no two
processes touch the same session, participant or line) the processes' rules and the server's work overlap
on the machine's cores. Each process rebuilds its communities in its own transaction; one that fails rolls
back its own communities only, and running the rebuild again completes it (a rebuild is idempotent).
SQLite has a single writer, which would run such processes one after another: there the rebuild stays
one process.

Processes are started fresh ("spawn"), never forked from a process holding connections and threads.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime

from zoombot.config import Settings
from zoombot.store import meetings
from zoombot.store.db import Database


class WorkersRefused(ValueError):
    """More than one process asked of a database with a single writer."""


def rebuild(url: str, settings: Settings, now: datetime, workers: int) -> tuple[int, list[tuple[int, str]]]:
    """Rebuild every stored meeting instance in `workers` processes; (instances rebuilt, sessions the database
    refused with the driver's error class, as `meetings.rebuild` names them). An error in one process is
    raised once every process has finished."""
    db = Database(url, pool_size=1, max_overflow=0)
    try:
        if db.is_sqlite and workers > 1:
            raise WorkersRefused("SQLite has a single writer: the rebuild runs in one process there (no --workers)")
        with db.begin() as session:
            parts = meetings.partitions(session, workers)
    finally:
        db.dispose()
    if len(parts) <= 1:
        return _rebuild_part(url, settings, now, parts[0] if parts else [])
    with ProcessPoolExecutor(len(parts), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_rebuild_part, url, settings, now, part) for part in parts]
        results = [future.result() for future in futures]
    return sum(count for count, _ in results), [failure for _, found in results for failure in found]


def _rebuild_part(url: str, settings: Settings, now: datetime, uuids: list[str]) -> tuple[int, list[tuple[int, str]]]:
    """One process's share, in its own transaction."""
    db = Database(url, pool_size=1, max_overflow=0)
    failures: list[tuple[int, str]] = []
    try:
        with db.begin() as session:
            count = meetings.rebuild(session, settings, now, failures=failures, uuids=uuids)
    finally:
        db.dispose()
    return count, failures
