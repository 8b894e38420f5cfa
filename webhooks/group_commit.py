"""Group commit: concurrent callers in one process share one database round trip and one commit.

A caller that finds no batch in flight leads: it takes every request queued so far (its own first) and
runs them as one batch; callers that arrive meanwhile queue, and the first of them leads the next batch
once this one is done. Nobody waits for a timer: a lone caller runs at once, in a batch of one, and
under load a batch holds what arrived during the previous one. Each caller gets its own result, or the
exception its batch raised. Why: on PostgreSQL the fixed costs of a statement and of a commit's WAL
flush dwarf a small row's; shared, they are paid once per batch instead of once per delivery.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Sequence
from typing import Generic, Literal, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _NoResult(enum.Enum):
    """A ticket's result before its batch has given one."""

    NO_RESULT = enum.auto()


class _Ticket(Generic[T, R]):
    __slots__ = ("item", "wake", "batch", "result", "error")

    def __init__(self, item: T):
        self.item = item
        self.wake = threading.Lock()
        self.wake.acquire()  # released when the result is in, or when this caller is to lead `batch`
        self.batch: list[_Ticket[T, R]] | None = None
        self.result: R | BaseException | Literal[_NoResult.NO_RESULT] = _NoResult.NO_RESULT
        self.error: BaseException | None = None

    def outcome(self) -> R:
        if self.error is not None:
            raise self.error
        if isinstance(self.result, BaseException):
            raise self.result
        if self.result is _NoResult.NO_RESULT:  # a batch sets every ticket's result or error before waking it
            raise RuntimeError("a caller was woken before its batch gave it a result")
        return self.result


class GroupCommit(Generic[T, R]):
    """`submit(item)` returns `run(batch)[i]` for its item, batching concurrent calls.

    `run` gets between 1 and `max_batch` items and returns one result per item, in order. A result that
    is an exception is raised to that item's caller alone; when `run` itself raises, every caller in
    the batch gets the exception. One batch runs at a time, so `run` may keep one connection.
    """

    def __init__(self, run: Callable[[Sequence[T]], Sequence[R | BaseException]], *, max_batch: int = 64):
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._run = run
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Ticket[T, R]] = []  # callers waiting for the next batch; empty when none runs
        self._running = False

    def submit(self, item: T) -> R:
        ticket: _Ticket[T, R] = _Ticket(item)
        with self._lock:
            if self._running:
                self._queue.append(ticket)
            else:
                self._running = True
                ticket.batch = [ticket]
        if ticket.batch is None:
            ticket.wake.acquire()  # until our batch is done, or we are handed one to lead
        if ticket.batch is not None:
            self._lead(ticket.batch)
        return ticket.outcome()

    def _lead(self, batch: list[_Ticket[T, R]]) -> None:
        """Run one batch (this leader's ticket first), wake its callers, hand the next one over."""
        try:
            results = self._run([ticket.item for ticket in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"a batch of {len(batch)} gave {len(results)} results")
            for ticket, result in zip(batch, results, strict=True):
                ticket.result = result
        except BaseException as exc:  # noqa: BLE001 - each caller re-raises it in its own thread
            for ticket in batch:
                ticket.error = exc
        finally:  # whatever happened, nobody is left waiting
            with self._lock:  # batches are made here, under the lock, so no caller is in two
                following, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
                self._running = bool(following)
            for ticket in batch[1:]:  # batch[0] is this leader, which is not waiting
                ticket.wake.release()
            if following:
                following[0].batch = following
                following[0].wake.release()
