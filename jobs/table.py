"""The job table: every scheduled job, in the order a single pass runs them.

Add a job by appending a `Job(name, func, every_ticks)`; `func(runtime)` must be a short, idempotent
scan of the database that reads the time only from `runtime.now()`.
"""

from __future__ import annotations

from jobs.base import Job
from jobs.certificate_mail import plan_certificates
from jobs.deadline_digest import run as deadline_digest
from jobs.finalize import finalize_meetings
from jobs.planning import plan
from jobs.reconcile import run as reconcile_reports
from jobs.retention import strip_due
from jobs.sending import send_due

JOBS: list[Job] = [
    Job("plan", plan, every_ticks=5),
    Job("finalize", finalize_meetings, every_ticks=5),  # before sending: a finalized meeting's follow-up can go
    Job("certificates", plan_certificates, every_ticks=5),  # before sending: "your certificate is ready"
    Job("send", send_due, every_ticks=1),
    Job("reconcile", reconcile_reports, every_ticks=5),
    Job("retention", strip_due, every_ticks=60),
    Job("digest", deadline_digest, every_ticks=15),  # staff's daily registry-deadline digest (once a day)
]
