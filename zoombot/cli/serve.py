"""`zoombot serve`: the whole service on one machine, as production runs it, under one command.

The web tier is gunicorn (`zoombot.app:create_app()`, settings in `zoombot.cli.serve_settings`), started as a
child process; the scheduler runs once, here in the parent, beside it — not in the workers, which gunicorn
forks and replaces, and not in gunicorn's master, which forks workers (forking a process with running
threads can leave their locks held in the child). Ctrl-C (SIGINT to the terminal's process group) or
SIGTERM stops both cleanly: gunicorn lets requests in flight finish, the scheduler lets a running job
finish, and the command exits 0.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

from zoombot.runtime import Runtime

APP = "zoombot.app:create_app()"
#: How long to wait for gunicorn to answer /healthz before saying it did not start.
START_TIMEOUT = 60.0
#: How long gunicorn gets to stop (its graceful timeout plus a margin) before it is killed.
STOP_TIMEOUT = 20.0


class ServerFailed(Exception):
    """gunicorn could not start or stopped by itself (its own message is on standard error)."""


def gunicorn_command(host: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        APP,
        "--config",
        "python:zoombot.cli.serve_settings",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
    ]


def _answers(host: str, port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1" if host in ("0.0.0.0", "") else host, port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def run(
    runtime: Runtime,
    *,
    host: str,
    port: int,
    workers: int,
    scheduler: bool,
    config_path: str | None,
    ready: Callable[[], None],
) -> None:
    """Serve until interrupted; `ready()` is called once the web tier answers. ServerFailed when gunicorn
    could not start or died on its own."""
    env = dict(os.environ)
    if config_path:  # the workers read the same configuration file as this command
        env["ZOOMBOT_CONFIG"] = os.path.abspath(config_path)
    child = subprocess.Popen(gunicorn_command(host, port, workers), env=env)
    stopping = False

    def stop(signum, _frame) -> None:
        nonlocal stopping
        stopping = True
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)  # graceful; a terminal's Ctrl-C reached gunicorn already

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    jobs = None
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(host, port):
            if stopping:
                return
            if child.poll() is not None:
                raise ServerFailed(f"the web server did not start (gunicorn exited with status {child.returncode})")
            if time.monotonic() > deadline:
                raise ServerFailed(f"the web server did not answer within {START_TIMEOUT:.0f} s")
            time.sleep(0.2)
        if scheduler:
            from jobs.runner import start_background

            jobs = start_background(runtime)
        ready()
        while child.poll() is None:
            try:
                child.wait(timeout=1)
            except subprocess.TimeoutExpired:
                continue
        if not stopping:
            raise ServerFailed(f"the web server stopped by itself (gunicorn exited with status {child.returncode})")
    finally:
        if jobs is not None:
            jobs.shutdown(wait=True)  # a job in progress finishes; nothing new starts
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
