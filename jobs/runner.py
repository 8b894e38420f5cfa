"""Running the job table on APScheduler: blocking (`zoombot scheduler`) or in the background (`serve`).

Each job runs at most once at a time per process (`max_instances=1`, missed runs coalesced); across
processes the database decides (unique keys, claims), so any number of schedulers may run at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from jobs.base import Job, run_job, safe_error
from jobs.table import JOBS
from zoombot.runtime import Runtime

log = logging.getLogger("zoombot.jobs")


class JobFailed(Exception):
    """A job run failed; the message is the redacted one stored in job_status."""


def _scheduled(runtime: Runtime, job: Job) -> None:
    """The scheduler's entry point. The failure goes on to APScheduler (which logs it and fires its error
    event) as a redacted `JobFailed` without the original chain, whose text may quote personal data."""
    try:
        run_job(runtime, job)
    except Exception as exc:  # noqa: BLE001 - re-raised below, redacted
        raise JobFailed(f"{job.name}: {safe_error(exc)}") from None


def configure(scheduler: BaseScheduler, runtime: Runtime, jobs: Iterable[Job] = JOBS) -> BaseScheduler:
    first = datetime.now(UTC)  # the scheduler runs on real time; jobs read runtime.now()
    for index, job in enumerate(jobs):
        scheduler.add_job(
            _scheduled,
            "interval",
            args=(runtime, job),
            id=job.name,
            name=job.name,
            seconds=job.interval(runtime),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=job.interval(runtime),
            # a first pass right away, in table order (planning before sending)
            next_run_time=first + timedelta(milliseconds=100 * index),
        )
    return scheduler


def start_background(runtime: Runtime) -> BackgroundScheduler:
    """The jobs on background threads of this process (`zoombot serve` runs them beside gunicorn); call
    `.shutdown()` to stop."""
    scheduler = configure(BackgroundScheduler(timezone="UTC"), runtime)
    scheduler.start()
    log.info("scheduler started in-process with %d jobs", len(JOBS))
    return scheduler


def run_blocking(runtime: Runtime) -> None:
    """The jobs alone (`zoombot scheduler`), until interrupted."""
    scheduler = configure(BlockingScheduler(timezone="UTC"), runtime)
    log.info("scheduler started with %d jobs", len(JOBS))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)


def run_once(runtime: Runtime, jobs: Iterable[Job] = JOBS) -> dict:
    """One pass over the table, in order (tests, cron-style operation, `zoombot scheduler --once`)."""
    return {job.name: run_job(runtime, job) for job in jobs}
