"""Worker processes: how many a scan starts, and what they leave to the main process. Kept
apart from the scans that use them, so a small scan imports neither them nor multiprocessing."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable
from typing import Any

from keyguard.errors import InputError


def default_jobs() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def ignore_interrupts() -> None:
    """In a worker: Ctrl-C reaches the whole process group, and only the main process reports
    it (exit 130, one line); the workers are ended with the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def started(pool: Any) -> list[Any]:
    """The processes a multiprocessing pool has now, kept aside: the pool replaces one that
    dies, and then no longer lists it."""
    return list(getattr(pool, "_pool", ()))


def awaited(result: Any, processes: Iterable[Any]) -> Any:
    """What an AsyncResult of the pool holds, once ready; an error if one of its `processes`
    has ended meanwhile (see check_alive)."""
    while not result.ready():
        result.wait(0.2)
        check_alive(processes)
    return result.get()


def check_alive(processes: Iterable[Any]) -> None:
    """Stop the scan if one of a pool's processes (multiprocessing.Process) has ended: killed
    from outside (kill -9, the OOM killer), the task it held will never be answered, and the
    pool that starts another in its place does not say so. Waiting would be for ever."""
    ended = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
    if ended:
        raise InputError(f"a worker process ended before its work was done (exit code {ended[0]}: "
                         "killed?); the scan is incomplete")
