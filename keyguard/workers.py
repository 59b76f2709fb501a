"""Worker processes: how many a scan starts, how they are forked and ended, and what they
leave to the main process. Kept apart from the scans that use them, so a small scan imports
neither them nor multiprocessing."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator

from keyguard.errors import InputError, KeyguardError

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from typing import Any


def default_jobs() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def ignore_interrupts() -> None:
    """In a worker: Ctrl-C reaches the whole process group, and only the main process reports
    it (exit 130, one line); the workers are ended by it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Workers:
    """Worker processes of a ProcessPoolExecutor, all forked at once: work is given with
    `submit`, its answer read with `answer`."""

    def __init__(self, executor: Any) -> None:
        self._executor = executor
        first = self.submit(int)  # the executor forks all its workers for its first task
        self.processes = list(executor._processes.values())  # for their exit codes
        self.answer(first)

    def submit(self, function: Callable[..., Any], *args: Any) -> Any:
        """A concurrent.futures.Future of `function(*args)`, run by a worker."""
        from concurrent.futures.process import BrokenProcessPool

        try:
            return self._executor.submit(_run, function, *args)
        except BrokenProcessPool:  # one has died already (maybe while it waited for work)
            raise self._incomplete() from None

    def answer(self, future: Any) -> Any:
        """What the future holds once done. A worker that died (kill -9, the OOM killer) never
        answers for its work: then an error, the scan being incomplete."""
        from concurrent.futures.process import BrokenProcessPool

        try:
            return future.result()
        except BrokenProcessPool:
            raise self._incomplete() from None

    def _incomplete(self) -> InputError:
        # Once one has died, the executor ends the others (SIGTERM); the wait is for their codes.
        self._executor.shutdown()
        codes = [p.exitcode for p in self.processes if p.exitcode not in (None, 0, -signal.SIGTERM)]
        detail = "" if not codes else f" (exit code {codes[0]}{': killed?' if codes[0] < 0 else ''})"
        return InputError(f"a worker process ended before its work was done{detail}; "
                          "the scan is incomplete")


@contextlib.contextmanager
def forked(jobs: int, initializer: Callable[[], None] = ignore_interrupts) -> Iterator[Workers]:
    """`jobs` worker processes, forked now: they inherit what the main process holds at this
    point, and nothing it builds later. They end with the block: at once when it is left by an
    error or Ctrl-C (they ignore Ctrl-C, and would first finish their work), and by themselves
    when the main process is killed. None of them is ever replaced."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"),
                             initializer=_started, initargs=(initializer, os.getpid())) as executor:
        workers = Workers(executor)
        try:
            yield workers
        except BaseException:
            for process in workers.processes:
                process.kill()
            raise


def _started(initializer: Callable[[], None], parent: int) -> None:
    try:
        initializer()
    except Exception as e:  # raised by each task, so the main process says why in one line
        _FAILED.append(e if isinstance(e, KeyguardError) else
                       InputError(f"a worker process could not start: {e}; the scan is incomplete"))
    threading.Thread(target=_end_with, args=(parent,), daemon=True).start()


_FAILED: list[KeyguardError] = []  # in a worker: why it could not start (an executor's own
# handling would log a traceback and end the worker, its work lost without a word on why)


def _run(function: Callable[..., Any], *args: Any) -> Any:
    if _FAILED:
        raise _FAILED[0]
    return function(*args)


def _end_with(parent: int) -> None:
    """A worker's own watch: once its main process is gone (kill -9), nothing will read its
    answers or send it work, so it ends too rather than wait for ever."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)
