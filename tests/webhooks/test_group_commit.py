"""Group commit (webhooks.group_commit), with real threads and a stand-in for the database round trip."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webhooks.group_commit import GroupCommit

WAIT = 10  # seconds; a bound on each wait so a bug fails the test instead of hanging it


def run_concurrently(callers: list, timeout: float = WAIT) -> list:
    """Run each zero-argument callable in its own thread; their results (or exceptions), in order."""
    results: list = [None] * len(callers)

    def call(i):
        try:
            results[i] = callers[i]()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            results[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(callers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a caller was left waiting"
    return results


def test_a_lone_caller_runs_at_once_in_a_batch_of_one():
    batches = []
    group = GroupCommit(lambda items: batches.append(list(items)) or [i * 2 for i in items])
    assert group.submit(21) == 42
    assert group.submit(5) == 10
    assert batches == [[21], [5]]


def batches_while_the_first_is_held(names: str, max_batch: int = 64) -> tuple[list, list]:
    """Start a batch of "first" and hold its round trip until every one of `names` has queued behind
    it; return each caller's result and the batches that ran."""
    batches, in_flight, release_first = [], threading.Event(), threading.Event()

    def run(items):
        batches.append(list(items))
        if items == ["first"]:
            in_flight.set()
            assert release_first.wait(WAIT)
        return [f"{item}!" for item in items]

    group = GroupCommit(run, max_batch=max_batch)
    first = threading.Thread(target=group.submit, args=("first",))
    first.start()
    assert in_flight.wait(WAIT)

    def release_when_all_queued():
        while len(group._queue) < len(names):  # polling for the queue to fill, not a timed assertion
            threading.Event().wait(0.001)
        release_first.set()

    results = run_concurrently([lambda n=n: group.submit(n) for n in names] + [release_when_all_queued])
    first.join(WAIT)
    return results[:-1], batches


def test_callers_that_arrive_during_a_batch_share_the_next_one():
    results, batches = batches_while_the_first_is_held("abcd")
    assert results == ["a!", "b!", "c!", "d!"]
    assert batches[0] == ["first"]
    assert sorted(batches[1]) == ["a", "b", "c", "d"] and len(batches) == 2


def test_a_batch_holds_at_most_max_batch_and_the_rest_follow():
    results, batches = batches_while_the_first_is_held("abcde", max_batch=2)
    assert results == ["a!", "b!", "c!", "d!", "e!"]
    assert [len(b) for b in batches] == [1, 2, 2, 1]
    assert sorted(item for b in batches[1:] for item in b) == list("abcde")


def test_a_failed_batch_fails_each_of_its_callers_and_the_next_batch_runs():
    calls = []

    def run(items):
        calls.append(list(items))
        if "bad" in items:
            raise ConnectionError("database went away")
        return items

    group = GroupCommit(run)
    with pytest.raises(ConnectionError):
        group.submit("bad")
    assert group.submit("good") == "good"
    assert calls == [["bad"], ["good"]]


def test_an_exception_as_a_result_is_raised_to_that_caller_alone():
    group = GroupCommit(lambda items: [ValueError(item) if item == "refused" else item for item in items])
    assert group.submit("fine") == "fine"
    with pytest.raises(ValueError, match="refused"):
        group.submit("refused")


def test_a_result_count_that_does_not_match_is_an_error_for_everyone():
    group = GroupCommit(lambda items: [])
    with pytest.raises(RuntimeError, match="a batch of 1 gave 0 results"):
        group.submit("x")
    with pytest.raises(RuntimeError):
        group.submit("y")  # the group was handed back, not left stuck


def test_max_batch_must_be_positive():
    with pytest.raises(ValueError):
        GroupCommit(lambda items: items, max_batch=0)


@settings(max_examples=40, deadline=None)
@given(callers=st.integers(1, 24), max_batch=st.integers(1, 8), failing=st.sets(st.integers(0, 23), max_size=5))
def test_every_item_runs_once_and_each_caller_gets_its_own_result(callers, max_batch, failing):
    """Whatever the interleaving: each item is in exactly one batch, no batch is over the limit, one
    batch runs at a time, and each caller gets the result computed for its own item (or its own item's
    exception)."""
    seen, lock, running, peak = [], threading.Lock(), [0], [0]

    def run(items):
        with lock:
            seen.append(list(items))
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        threading.Event().wait(0.0005)  # a round trip's worth of time, so that others queue meanwhile
        with lock:
            running[0] -= 1
        return [KeyError(item) if item in failing else item * 10 for item in items]

    group = GroupCommit(run, max_batch=max_batch)
    results = run_concurrently([lambda i=i: group.submit(i) for i in range(callers)])
    for i, result in enumerate(results):
        if i in failing:
            assert isinstance(result, KeyError) and result.args == (i,)
        else:
            assert result == i * 10
    flat = [item for batch in seen for item in batch]
    assert sorted(flat) == list(range(callers))
    assert all(1 <= len(batch) <= max_batch for batch in seen)
    assert peak == [1]
