"""Where audit work runs: a local process pool, or a Dask cluster. Same tasks, same results.

A task is one repository; it either returns its sightings or fails. A failed task (an error;
on Dask, a worker that died too) is retried once, then reported as not scanned: never dropped.
A local worker that dies makes the audit incomplete (exit 4).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence

from keyguard.audit import AuditSettings, RepositoryFailed, Sighting, audit_one
from keyguard.errors import InputError, UsageError
from keyguard.record import Record, replace
from keyguard.workers import forked

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from typing import Any


class Outcome(Record):
    name: str
    location: str
    sightings: tuple[Sighting, ...] = ()
    error: str | None = None  # not scanned, and why


Task = tuple[str, str]  # repository name, path or URL
Progress = Callable[[int, int], None]


def run_local(tasks: Sequence[Task], settings: AuditSettings, cores: int,
              progress: Progress | None = None) -> list[Outcome]:
    """Repositories side by side when there are several, else one with every core inside it."""
    if len(tasks) > 1 and cores > 1:
        one_each = replace(settings, jobs=1)
        with forked(cores) as workers:
            futures = [workers.submit(_attempt_twice, name, where, one_each) for name, where in tasks]
            return [workers.answer(future) for future in futures]
    inner = replace(settings, jobs=cores)
    return [_attempt_twice(name, where, inner, progress) for name, where in tasks]


def _attempt_twice(name: str, location: str, settings: AuditSettings,
                   progress: Progress | None = None) -> Outcome:
    for attempt in (1, 2):
        try:
            return Outcome(name=name, location=location,
                           sightings=tuple(audit_one(name, location, settings, progress)))
        except RepositoryFailed as e:
            if attempt == 2:
                return Outcome(name=name, location=location, error=str(e))
    raise AssertionError("unreachable")


def run_dask(address: str, tasks: Sequence[Task], settings: AuditSettings) -> list[Outcome]:
    """One task per repository on a `dask.distributed` cluster; workers read the paths (a shared
    filesystem) or clone the URLs themselves, and send back only sightings."""
    try:
        import distributed
    except ImportError as e:
        raise UsageError("--scheduler needs Dask: pip install 'keyguard[distributed]'") from e
    try:
        client = distributed.Client(address, timeout="10s")
    except ValueError as e:  # `bogus`, `tcp://host:notaport`
        raise UsageError(f"--scheduler: not a scheduler address: {address!r} (tcp://HOST:PORT)") from e
    except (OSError, TimeoutError) as e:
        raise InputError(f"cannot reach the Dask scheduler at {address}: {e}") from e
    with client:
        one_each = [replace(settings, jobs=1)] * len(tasks)
        futures = client.map(audit_one, [n for n, _ in tasks], [w for _, w in tasks], one_each,
                             retries=1, pure=False)
        stalled = _wait_with_workers(client, futures)
        return [_gathered(future, name, where) if stalled is None or not future.cancelled()
                else Outcome(name=name, location=where, error=stalled)
                for future, (name, where) in zip(futures, tasks, strict=True)]


def _wait_with_workers(client: Any, futures: list[Any]) -> str | None:
    """Wait for the tasks while the cluster has workers; None once all are done. A scheduler
    with none (none started, or all dead and not restarted) would hold them for ever: after
    NO_WORKERS_WAIT seconds without a worker the remaining tasks are cancelled and the reason
    returned, for them to be reported as not scanned. Adaptive clusters start workers for
    pending tasks well within that time."""
    import distributed

    patience = float(os.environ.get("KEYGUARD_DASK_NO_WORKERS_WAIT", NO_WORKERS_WAIT))
    without_workers = 0.0
    while not all(f.done() for f in futures):
        with contextlib.suppress(TimeoutError, distributed.TimeoutError):
            distributed.wait(futures, timeout=1)
        without_workers = 0.0 if client.scheduler_info().get("workers") else without_workers + 1
        if without_workers >= patience:
            client.cancel([f for f in futures if not f.done()])
            return f"the Dask scheduler had no workers for {patience:g} s"
    return None


NO_WORKERS_WAIT = 120.0  # seconds, or KEYGUARD_DASK_NO_WORKERS_WAIT


def _gathered(future: object, name: str, location: str) -> Outcome:
    try:
        return Outcome(name=name, location=location, sightings=tuple(future.result()))  # type: ignore[attr-defined]
    except RepositoryFailed as e:  # said as a local run says it
        return Outcome(name=name, location=location, error=str(e))
    except Exception as e:  # any failure of a remote task, a dead worker included: reported
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        return Outcome(name=name, location=location, error=f"{type(e).__name__}: {reason}")

