"""A real zoombot web tier in a child process: `gunicorn "zoombot.app:create_app()"` on a free loopback
port, configured only through the environment, as an operator would run it.

Used by the server-process tests and by the fault tests (which kill or stop it mid-flight), and by
`bench/` through the same class. Usage in a test module:

    from tests.helpers.servers import server  # the fixture: a factory, every server it starts is stopped afterwards

    def test_something(server, database_url):
        proc = server(database_url, workers=2)
        requests.get(proc.url + "/healthz")

or directly: `with ServerProcess(zoombot_env(url)) as proc: ...`.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.zoom_events import WEBHOOK_SECRET

REPO = Path(__file__).resolve().parents[2]
ZOOMBOT_APP = "zoombot.app:create_app()"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(port: int, path: str, timeout: float = 2.0) -> int | None:
    """The HTTP status of GET path on a loopback port, or None when nothing answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def zoombot_env(database_url: str, *, secret: str = WEBHOOK_SECRET, **settings: Any) -> dict[str, str]:
    """The process environment for a zoombot web tier: `settings` as `section_key=value`, e.g.
    `zoom_timestamp_tolerance_seconds=60` -> ZOOMBOT_ZOOM_TIMESTAMP_TOLERANCE_SECONDS=60."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOOMBOT_")}
    env.update(
        {
            "ZOOMBOT_DATABASE_URL": database_url,
            "ZOOMBOT_ZOOM_WEBHOOK_SECRET_TOKEN": secret,
            "ZOOMBOT_WEB_SECRET_KEY": "test-secret-key",
            "ZOOMBOT_LOG_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")])),
        }
    )
    env.update({f"ZOOMBOT_{key.upper()}": str(value) for key, value in settings.items()})
    return env


class ServerProcess:
    """One gunicorn master with its workers. `start()` returns once /healthz answers 200."""

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        app: str = ZOOMBOT_APP,
        workers: int = 2,
        worker_class: str = "sync",
        threads: int = 1,
        port: int | None = None,
        extra_args: tuple[str, ...] = (),
        cwd: str | os.PathLike | None = None,
    ):
        self.env = dict(env)
        self.app = app
        self.workers, self.worker_class, self.threads = workers, worker_class, threads
        self.port = port or free_port()
        self.extra_args = tuple(extra_args)
        self.cwd = str(cwd) if cwd else tempfile.mkdtemp(prefix="zoombot-server-")  # no stray ./config.toml
        self.log_path = Path(self.cwd) / f"gunicorn-{self.port}.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "gunicorn",
            self.app,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            self.worker_class,
            "--threads",
            str(self.threads),
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
            *self.extra_args,
        ]

    def start(self, timeout: float = 30.0) -> ServerProcess:
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            self.command(),
            env=self.env,
            cwd=self.cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.output()}")
            if self.status("/healthz") == 200:
                return self
            time.sleep(0.05)  # polling a child process until it listens, not a timed assertion
        self.stop()
        raise RuntimeError(f"gunicorn did not answer /healthz within {timeout} s:\n{self.output()}")

    def status(self, path: str, timeout: float = 2.0) -> int | None:
        return http_status(self.port, path, timeout)

    def signal(self, signum: int) -> None:
        """Send a signal to the gunicorn master (e.g. SIGKILL for a crash, SIGHUP for a reload)."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signum)

    def kill(self) -> None:
        """Crash the whole process group at once: master and workers, no graceful shutdown."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self._close_log()

    def stop(self, timeout: float = 15.0) -> int | None:
        """Graceful stop (SIGTERM to the master), then SIGKILL to the group if it lingers."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._close_log()
        return self.process.returncode

    def _close_log(self) -> None:
        log = getattr(self, "_log", None)
        if log is not None and not log.closed:
            log.close()

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@pytest.fixture
def server(tmp_path):
    """Factory: `server(database_url, workers=2, **settings)` starts a zoombot web tier; all are stopped
    at teardown. Keyword arguments that ServerProcess takes go to it, the rest become settings."""
    started: list[ServerProcess] = []
    options = {"app", "workers", "worker_class", "threads", "port", "extra_args", "cwd"}

    def start(database_url: str, **kwargs: Any) -> ServerProcess:
        process_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in options}
        process_kwargs.setdefault("cwd", tmp_path)
        proc = ServerProcess(zoombot_env(database_url, **kwargs), **process_kwargs)
        started.append(proc)
        return proc.start()

    yield start
    for proc in started:
        proc.stop()
