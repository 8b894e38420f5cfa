"""Prometheus metrics, shared by the web tier and the jobs (exposed at /metrics)."""

from prometheus_client import Counter, Histogram

deliveries = Counter("zoombot_webhook_deliveries_total", "Verified webhook deliveries by outcome", ["outcome"])
refusals = Counter("zoombot_webhook_refusals_total", "Refused webhook requests by reason", ["reason"])
handler_seconds = Histogram("zoombot_webhook_handler_seconds", "Time to store and handle one event", ["event"])

job_runs = Counter("zoombot_job_runs_total", "Scheduled job runs", ["job"])
job_failures = Counter("zoombot_job_failures_total", "Scheduled job runs that failed", ["job"])
outbox_sent = Counter("zoombot_outbox_sent_total", "Messages handed to the SMTP server", ["kind"])
outbox_failed = Counter(
    "zoombot_outbox_failed_total", "Messages given up on (permanent failure or too many attempts)", ["kind"]
)
outbox_retried = Counter("zoombot_outbox_retried_total", "Temporary SMTP failures that will be retried", ["kind"])


# --- From the database, at scrape time -----------------------------------------------------------------
# The counters above live in the process that counts them: under gunicorn each worker has its own (set
# PROMETHEUS_MULTIPROC_DIR to add them up) and the scheduler's never reach the web tier. What the
# database records is the same whichever process asks, so the state that matters comes from there.


class DatabaseCollector:
    """Outbox by status, events kept for review, the last webhook, and each job's recorded runs."""

    def __init__(self, runtime):
        self.runtime = runtime

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
        from sqlalchemy.exc import SQLAlchemyError

        from zoombot.store import status

        up = GaugeMetricFamily("zoombot_database_up", "1 when the database answered this scrape")
        try:
            with self.runtime.db.begin() as session:
                outbox = status.outbox_counts(session)
                events = status.event_counts(session)
                last = status.last_webhook_at(session)
                jobs = status.jobs(session)
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        messages = GaugeMetricFamily("zoombot_outbox_messages", "Outbox messages by status", labels=["status"])
        for name in ("pending", "sending", "sent", "failed", "skipped"):
            messages.add_metric([name], outbox.get(name, 0))
        yield messages
        stored = GaugeMetricFamily(
            "zoombot_zoom_events", "Stored Zoom events by status (failed: kept for review)", labels=["status"]
        )
        for name in ("received", "processed", "ignored", "failed"):
            stored.add_metric([name], events.get(name, 0))
        yield stored
        received = GaugeMetricFamily(
            "zoombot_webhook_last_received_timestamp_seconds", "When the last Zoom webhook event was stored (Unix time)"
        )
        if last is not None:
            received.add_metric([], last.timestamp())
        yield received
        runs = CounterMetricFamily(
            "zoombot_job_recorded_runs", "Job runs recorded in job_status, all processes", labels=["job"]
        )
        failures = CounterMetricFamily(
            "zoombot_job_recorded_failures", "Failed job runs recorded in job_status", labels=["job"]
        )
        finished = GaugeMetricFamily(
            "zoombot_job_last_finished_timestamp_seconds", "When each job last finished", labels=["job"]
        )
        last_ok = GaugeMetricFamily("zoombot_job_last_ok", "1 when the job's last run succeeded", labels=["job"])
        for job in jobs:
            runs.add_metric([job.name], job.runs)
            failures.add_metric([job.name], job.failures)
            if job.last_finished_at is not None:
                finished.add_metric([job.name], job.last_finished_at.timestamp())
            if job.last_ok is not None:
                last_ok.add_metric([job.name], 1 if job.last_ok else 0)
        yield from (runs, failures, finished, last_ok)


def exposition(runtime) -> bytes:
    """The /metrics body: this process's (or, in multiprocess mode, all workers') counters, then the
    database-derived state."""
    import os

    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    database = CollectorRegistry()
    database.register(DatabaseCollector(runtime))
    return generate_latest(processes) + generate_latest(database)
