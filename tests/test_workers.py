"""The worker pool itself: calls go to forked processes and their answers come back. (How a
scan fails when a worker dies or cannot start: tests/test_failures.py.)"""

from __future__ import annotations

import os
import signal
import threading
import time
from random import Random

import pytest

from keyguard.errors import KeyguardError
from keyguard.workers import WorkerTraceback, forked


def _slow_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def test_each_call_gets_its_own_answer_from_the_workers() -> None:
    with forked(2) as workers:
        calls = [workers.submit(pow, 3, n) for n in range(200)]
        assert [workers.answer(call) for call in calls] == [3 ** n for n in range(200)]
        # two slow calls at once: each worker takes one
        pids = {workers.answer(call) for call in [workers.submit(_slow_pid, 0.3) for _ in range(2)]}
    assert len(pids) == 2 and os.getpid() not in pids


def test_as_completed_gives_every_call_once_the_fastest_first() -> None:
    with forked(2) as workers:
        calls = [workers.submit(_slow_pid, 0.6), *(workers.submit(abs, -n) for n in range(10))]
        done = list(workers.as_completed(calls))
        assert sorted(map(id, done)) == sorted(map(id, calls))
        assert done[-1] is calls[0]
        # calls that end while the caller is busy with an earlier one are given too
        random = Random(8)
        for _ in range(20):
            calls = [workers.submit(time.sleep, random.choice([0.001, 0.01])) for _ in range(20)]
            given = []
            for call in workers.as_completed(calls):
                given.append(call)
                time.sleep(0.005)
            assert sorted(map(id, given)) == sorted(map(id, calls))


def test_an_error_in_a_call_is_raised_by_its_answer_with_where_it_happened() -> None:
    with forked(2) as workers:
        with pytest.raises(ZeroDivisionError) as raised:
            workers.answer(workers.submit(divmod, 1, 0))
        assert isinstance(raised.value.__cause__, WorkerTraceback)
        assert "ZeroDivisionError" in str(raised.value.__cause__)
        assert workers.answer(workers.submit(divmod, 7, 2)) == (3, 1)  # the worker lives on


def test_a_call_that_cannot_be_sent_fails_alone() -> None:
    with forked(2) as workers:
        with pytest.raises(TypeError, match="pickle"):
            workers.answer(workers.submit(repr, threading.Lock()))
        assert workers.answer(workers.submit(len, "four")) == 4


class _Unreadable(Exception):
    """Pickles, but cannot be unpickled: its __init__ wants two arguments."""

    def __init__(self, a: int, b: int) -> None:
        super().__init__(a + b)


def _raise_unreadable() -> None:
    raise _Unreadable(1, 2)


def test_an_answer_that_cannot_be_read_fails_alone() -> None:
    with forked(2) as workers:
        with pytest.raises(KeyguardError, match="a worker's answer could not be read"):
            workers.answer(workers.submit(_raise_unreadable))
        assert [workers.answer(workers.submit(abs, -n)) for n in range(10)] == list(range(10))


def test_calls_still_queued_when_the_block_ends_are_made() -> None:
    with forked(2) as workers:
        calls = [workers.submit(_slow_pid, 0.2) for _ in range(6)]
    assert all(call.done() for call in calls)
    assert len({workers.answer(call) for call in calls}) == 2


class _Interrupted(Exception):
    pass


def _interrupted(signum: int, frame: object) -> None:
    raise _Interrupted


def test_ctrl_c_while_the_block_waits_for_its_last_calls_ends_the_workers() -> None:
    previous = signal.signal(signal.SIGINT, _interrupted)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    try:
        started = time.monotonic()
        with pytest.raises(_Interrupted), forked(2) as workers:
            calls = [workers.submit(_slow_pid, 0.5) for _ in range(20)]  # 5 s of work
            timer.start()  # Ctrl-C while leaving the block waits for them
        assert time.monotonic() - started < 3
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert sum(bool(call.answer and call.answer[0]) for call in calls) < 20  # not all made
    for worker in workers._workers:
        with pytest.raises(ChildProcessError):
            os.waitpid(worker.pid, os.WNOHANG)  # ended and waited for


def test_no_call_after_the_block() -> None:
    with forked(1) as workers:
        pass
    with pytest.raises(RuntimeError, match="closed"):
        workers.submit(int)


def test_workers_end_with_the_block() -> None:
    with forked(2) as workers:
        pids = {workers.answer(call) for call in [workers.submit(_slow_pid, 0.3) for _ in range(2)]}
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # already waited for: not a zombie, not running
