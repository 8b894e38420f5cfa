"""A private PostgreSQL cluster for tests that stop and start the database server.

The shared server on 127.0.0.1:5432 serves every other test run; stopping it would break them. This
starts a throw-away cluster (`initdb` into a temporary directory, trust auth, loopback only, its own
port and socket directory) that a test may stop and start at will. As root, PostgreSQL refuses to run,
so the server runs as the `postgres` OS user, which then owns the data directory.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.helpers.servers import free_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed under /usr/lib/postgresql")
    return found[-1]


class PgCluster:
    """`start()` once, then `stop()`/`start()` as the test needs; `destroy()` removes everything."""

    def __init__(self, database: str = "zoombot"):
        self.database = database
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="zoombot-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self.root.chmod(0o700)
        self._run([_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
        self._initialised = False

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def _run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
        if self._as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(argv, check=check, capture_output=True, text=True, timeout=60)

    def start(self) -> None:
        options = (
            f"-k {self.root} -c listen_addresses=127.0.0.1 -p {self.port} -c fsync=off "
            "-c max_connections=200 -c shared_buffers=32MB"
        )
        self._run([_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "30", "start"])
        if not self._initialised:
            self._run(
                [
                    _bin("psql"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-U",
                    "postgres",
                    "-d",
                    "postgres",
                    "-c",
                    f'CREATE DATABASE "{self.database}"',
                ]
            )
            self._initialised = True

    def stop(self, mode: str = "fast") -> None:
        """`fast` disconnects clients and shuts down cleanly; `immediate` is like a crash."""
        self._run([_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop"])

    def is_running(self) -> bool:
        return self._run([_bin("pg_ctl"), "-D", str(self.data), "status"], check=False).returncode == 0

    def destroy(self) -> None:
        if self.data.exists() and self.is_running():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
