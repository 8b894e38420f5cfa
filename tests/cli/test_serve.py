"""`zoombot serve`: gunicorn with the scheduler beside it, once (not per worker), no development-server
banner, and Ctrl-C (SIGINT to the terminal's process group) or SIGTERM stops everything with status 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, select

from tests.helpers.servers import REPO, free_port, http_status, zoombot_env
from zoombot.store.db import normalize_url
from zoombot.store.models import JobStatus

pytestmark = pytest.mark.slow
JOB_NAMES = {"plan", "finalize", "certificates", "send", "reconcile", "retention", "digest"}


class Serve:
    def __init__(self, database_url: str, tmp_path, *args: str):
        self.port = free_port()
        self.log = tmp_path / "serve.log"
        env = zoombot_env(database_url, schedule_tick_seconds=3600, log_format="text", log_level="INFO")
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "zoombot", "serve", "--port", str(self.port), "--workers", "2", *args],
                env=env,
                cwd=tmp_path,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, predicate, what: str, timeout: float = 60.0) -> None:
        """Poll a child process until it gets there (a readiness wait, not a timed assertion)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            assert self.process.poll() is None, f"zoombot serve exited while waiting for {what}:\n{self.output}"
            assert time.monotonic() < deadline, f"no {what} within {timeout} s:\n{self.output}"
            time.sleep(0.1)

    def group_alive(self) -> bool:
        try:
            os.killpg(self.process.pid, 0)
            return True
        except ProcessLookupError:
            return False

    def stop(self) -> None:
        if self.group_alive():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@pytest.fixture
def serve(database_url, tmp_path):
    started: list[Serve] = []

    def start(*args: str) -> Serve:
        started.append(Serve(database_url, tmp_path, *args))
        return started[-1]

    yield start
    for proc in started:
        proc.stop()


def job_runs(database_url: str) -> dict[str, int]:
    engine = create_engine(normalize_url(database_url))
    with engine.connect() as conn:
        runs = {name: runs for name, runs in conn.execute(select(JobStatus.name, JobStatus.runs))}
    engine.dispose()
    return runs


@pytest.mark.parametrize("stop_with", ["ctrl-c", "sigterm"])
def test_serve_runs_gunicorn_with_one_scheduler_and_stops_cleanly(serve, database_url, stop_with):
    proc = serve()
    proc.wait_for(lambda: "zoombot serving on" in proc.output, "readiness line")
    assert http_status(proc.port, "/healthz") == 200 and http_status(proc.port, "/readyz") == 200
    assert http_status(proc.port, "/staff/login") == 200
    # Each job's first pass runs right away, in table order; with an hour's tick, exactly once each.
    proc.wait_for(lambda: job_runs(database_url).get("retention") == 1, "first pass of the jobs")
    if stop_with == "ctrl-c":
        os.killpg(proc.process.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
    else:
        proc.process.send_signal(signal.SIGTERM)  # systemd, kill: the command alone
    assert proc.process.wait(timeout=60) == 0, proc.output
    proc.wait_for(lambda: not proc.group_alive(), "every process of the group to end", timeout=30)
    output = proc.output
    assert "zoombot stopped" in output and "Traceback" not in output
    assert "development server" not in output.lower() and "WARNING: This is" not in output
    assert "base_url" not in output  # local base_url, local address: the laptop, nothing to warn about
    assert job_runs(database_url) == {name: 1 for name in JOB_NAMES}  # one scheduler, not one per worker
    assert output.count("scheduler started in-process") == 1


def test_serve_without_scheduler_and_a_port_in_use(serve, database_url):
    first = serve("--no-scheduler", "--host", "0.0.0.0")
    first.wait_for(lambda: "zoombot serving on" in first.output, "readiness line")
    assert "and the scheduler" not in first.output
    # reached from elsewhere with the default base_url: mail and certificates would point at 127.0.0.1
    assert "warning: [web] base_url is http://127.0.0.1:8000, this machine's own address" in first.output
    assert job_runs(database_url) == {}
    import socket

    with socket.socket() as taken:  # a port some other program holds
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = zoombot_env(database_url, log_format="text")
        result = subprocess.run(
            [sys.executable, "-m", "zoombot", "serve", "--port", str(port), "--no-scheduler"],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1
    assert (
        result.stderr.strip().splitlines()[-1] == "Error: the web server did not start (gunicorn exited with status 1)"
    )
    os.killpg(first.process.pid, signal.SIGINT)
    assert first.process.wait(timeout=60) == 0
