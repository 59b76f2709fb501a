"""Worker processes: how many a scan starts, and what they leave to the main process. Kept
apart from the scans that use them, so a small scan imports neither them nor multiprocessing."""

from __future__ import annotations

import os
import signal


def default_jobs() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def ignore_interrupts() -> None:
    """In a worker: Ctrl-C reaches the whole process group, and only the main process reports
    it (exit 130, one line); the workers are ended with the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
