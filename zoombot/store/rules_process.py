"""The rebuild's rules in a process of their own, so that they run while the rebuild writes.

A statewide rebuild in one process spends about half its time in the rules (decoding events, attendance,
credit) and half in the database's work (placing instances, writing participants, lines and audit
entries), one after the other. The rules are pure functions on plain data (`zoombot.core.recompute`), so
they can run anywhere: here a second process reads and decodes each chunk's events on a read-only
connection of its own and recomputes each batch of sessions from the plain inputs the rebuild sends,
while the rebuild places the next chunk and writes the batch before (`meetings.rebuild`'s pipeline). The
rebuild's transaction stays in the rebuild's process, which writes everything; the rules process writes
nothing (its connection is read-only), and it reads only stored events, which a rebuild never changes.

Used by `zoombot attendance rebuild` (and `zoombot db upgrade` when it rebuilds) when there is more than one
chunk to rebuild; a small rebuild, and any rebuild inside a caller's own transaction (its events may not be
committed yet), keep the rules in their own process (`meetings.RebuildRules`). The process is started fresh
("spawn"), never forked from a process holding connections and threads.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
from collections.abc import Sequence
from datetime import datetime
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from sqlalchemy.orm import Session

from zoombot.config import Settings
from zoombot.core import recompute
from zoombot.store import meetings
from zoombot.store.db import Database, is_sqlite, sqlite_file


class RulesProcessFailed(RuntimeError):
    """The rules process raised, or ended without answering; the rebuild's transaction rolls back."""


class RulesProcess:
    """`meetings.Rules` in a child process: each request goes down a pipe and is answered in order; a request
    is sent at once and waited for only when its answer is needed, so the child works meanwhile.

    With `local` (the rebuild's own `meetings.RebuildRules`), the first chunk is read and its sessions
    recomputed in the rebuild's process, while the child starts (a fresh interpreter takes
    a second or more to import) and reads ahead: the rebuild would otherwise wait for it, and its own
    part of the work is the lighter one."""

    def __init__(self, url: str, *, local: meetings.RebuildRules | None = None):
        self._local = local
        self._first_read = True
        context = multiprocessing.get_context("spawn")
        requests, self._requests = context.Pipe(duplex=False)
        self._answers_pipe, answers = context.Pipe(duplex=False)
        self._process = context.Process(target=_serve, args=(url, requests, answers), name="zoombot-rules", daemon=True)
        self._process.start()
        requests.close()
        answers.close()
        self._sent = 0
        self._received = 0
        self._answers: dict[int, tuple[bool, Any]] = {}

    def read(self, chunk: Sequence[str]) -> meetings.Answer[dict[str, meetings.InstanceEvents]]:
        first, self._first_read = self._first_read, False
        if self._local is not None and first:
            return self._local.read(chunk)
        return self._ask("read", list(chunk))

    def compute(self, inputs: Sequence[recompute.SessionInputs]) -> meetings.Answer[dict[int, recompute.Recomputed]]:
        """Sessions whose instances' signals are all held here are recomputed here; the others by the child,
        which reads what it does not hold."""
        local = self._local
        if local is not None and all(uuid in local.signals for i in inputs for uuid, _ in i.instances):
            return local.compute(inputs)
        return self._ask("recompute", list(inputs))

    def _ask(self, kind: str, payload: Any) -> _Pending:
        self._requests.send((kind, payload))  # never blocks for long: the child takes requests as they come
        self._sent += 1
        return _Pending(self, self._sent)

    def _answer(self, number: int) -> Any:
        while number not in self._answers:
            try:
                answer = self._answers_pipe.recv()
            except (EOFError, OSError):
                raise RulesProcessFailed(
                    f"the rules process ended without answering (exit code {self._process.exitcode})"
                ) from None
            self._received += 1
            self._answers[self._received] = answer
        ok, value = self._answers.pop(number)
        if not ok:
            raise RulesProcessFailed(f"the rules process failed: {value}")
        return value

    def close(self, *, at_once: bool = False) -> None:
        """Ask the child to stop and wait for it; one that does not stop in time (or, `at_once`, after the
        rebuild failed, one that may still be working on requests nobody will read) is ended."""
        if at_once:
            self._process.terminate()
        try:
            self._requests.send(None)
        except OSError:  # the child is already gone
            pass
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._requests.close()
        self._answers_pipe.close()

    def __enter__(self) -> RulesProcess:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close(at_once=error is not None)


class _Pending:
    def __init__(self, rules: RulesProcess, number: int):
        self._rules, self._number = rules, number

    def result(self) -> Any:
        return self._rules._answer(self._number)


def _serve(url: str, requests: Connection, answers: Connection) -> None:
    """The child: answer requests in order until told to stop (None) or the parent goes away. Two threads
    move requests and answers on their pipes (a pipe holds 64 KiB, a batch's answer a megabyte or more), so
    neither side ever waits for the other: the parent can always send, and the child goes on with the next
    request while an answer waits for the parent to read it. An error answers with its class and first
    line (statements' values are hidden by the engine: no personal data)."""
    waiting: queue.SimpleQueue[Any] = queue.SimpleQueue()
    answered: queue.SimpleQueue[Any] = queue.SimpleQueue()
    threading.Thread(target=_take, args=(requests, waiting), name="requests", daemon=True).start()
    giving = threading.Thread(target=_give, args=(answers, answered), name="answers", daemon=True)
    giving.start()
    db = Database(url, pool_size=1, max_overflow=0, read_only=True)
    try:
        with db.begin() as session:
            rules = meetings.RebuildRules(session)
            while (request := waiting.get()) is not None:
                kind, payload = request
                try:
                    with meetings.collector_paused():
                        value = rules.digest(payload) if kind == "read" else rules.work_out(payload)
                    answered.put((True, value))
                except Exception as exc:  # reported to the parent, which raises it there
                    answered.put((False, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"))
    finally:
        answered.put(None)
        giving.join()
        db.dispose()


def _take(requests: Connection, waiting: queue.SimpleQueue[Any]) -> None:
    while True:
        try:
            request = requests.recv()
        except (EOFError, OSError):  # the parent went away
            request = None
        waiting.put(request)
        if request is None:
            return


def _give(answers: Connection, answered: queue.SimpleQueue[Any]) -> None:
    while (answer := answered.get()) is not None:
        try:
            answers.send(answer)  # pickled whole before anything is written
        except OSError:  # the parent went away
            return
        except Exception as exc:  # the answer would not pickle: an error in its place
            answers.send((False, f"{type(exc).__name__}: the answer could not be sent"))


def can_share(url: str) -> bool:
    """Whether a second process can open this database (not a SQLite database in memory)."""
    return not is_sqlite(url) or sqlite_file(url) is not None


def rebuild(
    session: Session,
    url: str,
    settings: Settings,
    now: datetime,
    *,
    failures: list[tuple[int, str]] | None = None,
    uuids: Sequence[str] | None = None,
) -> int:
    """`meetings.rebuild` in `session` (a transaction of its own on the database at `url`, holding no
    uncommitted events), with the rules in a process of their own when there is more than one chunk."""
    if uuids is None:
        uuids = meetings.instances_in_order(session)
    if len(uuids) <= meetings.REBUILD_CHUNK or not can_share(url):
        return meetings.rebuild(session, settings, now, failures=failures, uuids=uuids)
    with RulesProcess(url, local=meetings.RebuildRules(session)) as rules:
        return meetings.rebuild(session, settings, now, failures=failures, uuids=uuids, rules=rules)
