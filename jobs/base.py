"""What every job shares: a name, how often it runs, and a record of each run.

`run_job` wraps one run: it counts it in `job_status` (runs, failures, last error) and in the Prometheus
metrics, then returns the job's result or re-raises its error. The stored and logged error is the
exception's type and a redacted first line, never SQL parameters or addresses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from zoombot import metrics
from zoombot.mail.sending import redact
from zoombot.runtime import Runtime
from zoombot.store.db import insert_ignoring_conflict
from zoombot.store.models import JobStatus

log = logging.getLogger("zoombot.jobs")


@dataclass(frozen=True)
class Job:
    """One entry of the job table: `func(runtime)` every `seconds` (a multiple of the tick, or fixed)."""

    name: str
    func: Callable[[Runtime], Any]
    every_ticks: int = 1  # runs every `[schedule] tick_seconds * every_ticks` seconds

    def interval(self, runtime: Runtime) -> int:
        return runtime.settings.schedule.tick_seconds * self.every_ticks


def safe_error(exc: BaseException) -> str:
    """A description of a failure that is safe to store and log."""
    if isinstance(exc, SQLAlchemyError):
        orig = getattr(exc, "orig", None)
        return f"{type(exc).__name__}" + (f" ({type(orig).__name__})" if orig is not None else "")
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {redact(first)}" if first else type(exc).__name__


def _record_start(runtime: Runtime, name: str) -> None:
    now = runtime.now()
    with runtime.db.begin() as session:
        insert_ignoring_conflict(session, JobStatus, {"name": name, "runs": 0, "failures": 0}, ["name"])
        session.execute(update(JobStatus).where(JobStatus.name == name).values(last_started_at=now))


def _record_end(runtime: Runtime, name: str, error: str | None) -> None:
    values: dict[str, Any] = {
        "last_finished_at": runtime.now(),
        "last_ok": error is None,
        "last_error": error,
        "runs": JobStatus.runs + 1,
    }
    if error is not None:
        values["failures"] = JobStatus.failures + 1
    with runtime.db.begin() as session:
        session.execute(update(JobStatus).where(JobStatus.name == name).values(**values))


def run_job(runtime: Runtime, job: Job) -> Any:
    """Run `job` once, recording the outcome; its errors propagate after being recorded."""
    _record_start(runtime, job.name)
    metrics.job_runs.labels(job=job.name).inc()
    try:
        result = job.func(runtime)
    except Exception as exc:
        error = safe_error(exc)
        metrics.job_failures.labels(job=job.name).inc()
        log.error("job %s failed: %s", job.name, error)
        _record_end(runtime, job.name, error)
        raise
    _record_end(runtime, job.name, None)
    return result
