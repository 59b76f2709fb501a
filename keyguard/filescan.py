"""Files scanned on all cores: the walk stays in this process, reading, detection and judging
run in forked workers, outcomes come back in walk order.

A worker reads the files it is given itself: their bytes never cross a pipe. A large text file
is read here and cut into parts of whole lines, each sent with the margin of context the rules
read on either side (as keyguard.detect.fast does around interesting places), so its parts give
the candidates the whole file gives, and one big file does not keep one core busy while the
other waits. A small scan never forks.
"""

from __future__ import annotations

import codecs
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import chain
from typing import Any

from keyguard.detect.fast import detect_prefiltered, margin_bytes, prefilter_fits
from keyguard.model import Blob, Candidate, Unread
from keyguard.scan import FAST_PATH_MIN, Item, Outcome, Policy, candidates_in, findings_at, judged, reported
from keyguard.workers import ignore_interrupts

PARALLEL_FROM = 2 << 20  # bytes found before workers are forked: small scans stay in one process
PART = 1 << 20  # a text file larger than this is cut into parts of about this size
TASK = 1 << 20  # whole files go to a worker together up to this many bytes (fewer answers)
IN_FLIGHT = 64 << 20  # bytes sent to workers and not answered yet: memory stays bounded


@dataclass(frozen=True, slots=True)
class Part:
    """Lines of a large file: `data` starts at line `first_line`; candidates on lines
    [keep_from, keep_to) count, the lines around them are context."""

    path: str
    data: bytes
    first_line: int
    keep_from: int
    keep_to: int


Work = Unread | Blob | Part  # a file a worker reads and judges; the candidates of a text or part


@dataclass(slots=True)
class _Task:
    works: list[Work] = field(default_factory=list)
    size: int = 0
    answer: Any = None  # the pool's AsyncResult once sent


def judged_in_parallel(items: Iterable[Item], policy: Policy, jobs: int) -> Iterator[Outcome]:
    """The outcome of each item, in the order given."""
    items = iter(items)
    held: list[Item] = []
    found = 0
    for item in items:
        held.append(item)
        found += _size(item) if isinstance(item, (Unread, Blob)) else 0
        if found >= PARALLEL_FROM:
            break
    else:
        yield from (judged(item, policy) for item in held)
        return
    import multiprocessing  # a small scan never loads it

    _JOB["policy"] = policy  # inherited by the forked workers: custom rules need no pickling
    with multiprocessing.get_context("fork").Pool(jobs, initializer=ignore_interrupts) as pool:
        yield from _in_pool(chain(held, items), policy, pool)


def _in_pool(items: Iterator[Item], policy: Policy, pool: Any) -> Iterator[Outcome]:
    pending: deque[tuple[Item, list[tuple[_Task, int]]]] = deque()
    task, in_flight = _Task(), 0
    for found in items:
        # a large file is read here, to be cut into parts (or sent whole if it is not one text)
        item = found.read() if isinstance(found, Unread) and found.size > PART else found
        places = []
        for work in _works(item, policy):
            if task.size >= TASK or isinstance(work, Part):
                _send(task, pool)
                task = _Task()
            places.append((task, len(task.works)))
            task.works.append(work)
            task.size += _size(work)
            in_flight += _size(work)
        pending.append((item, places))
        while pending and (in_flight > IN_FLIGHT or _answered(pending[0][1])):
            done, places = pending.popleft()
            in_flight -= sum(_size(t.works[i]) for t, i in places)
            yield _outcome(done, places, policy, pool)
    _send(task, pool)
    while pending:
        done, places = pending.popleft()
        yield _outcome(done, places, policy, pool)


def _outcome(item: Item, places: list[tuple[_Task, int]], policy: Policy, pool: Any) -> Outcome:
    if isinstance(item, Unread):  # read and judged by the worker
        [(task, index)] = places
        _send(task, pool)
        outcome: Outcome = task.answer.get()[index]
        return outcome
    if isinstance(item, Blob):
        return (None, *findings_at(item.path, item.text, _gathered(places, pool), policy))
    return item, [], []


def _works(item: Item, policy: Policy) -> list[Work]:
    """A file to read (by the worker), a blob's works, nothing for a skip or an error."""
    if isinstance(item, Unread):
        return [item]
    return _blob_works(item, policy) if isinstance(item, Blob) else []


def _blob_works(blob: Blob, policy: Policy) -> list[Work]:
    """The blob whole, or its parts when it is a large UTF-8 text and every rule is built in."""
    data = blob.data
    if data is None or len(data) <= PART or blob.only_lines is not None or not prefilter_fits(
            data, policy.config.rules):
        # The fast path reads bytes: its text is not sent (half the bytes)
        return [blob if data is None or len(data) < FAST_PATH_MIN else replace(blob, text="")]
    data = data.removeprefix(codecs.BOM_UTF8)  # as detect_bytes does: columns count without it
    margin = margin_bytes(data)
    parts: list[Work] = []
    start, line = 0, 1
    while start < len(data):
        end = data.find(b"\n", start + PART) + 1 or len(data)
        low = data.rfind(b"\n", 0, max(0, start - margin)) + 1
        high = data.find(b"\n", min(len(data), end + margin))
        high = len(data) if high < 0 else high
        last = line + data.count(b"\n", start, end)  # the line that starts at `end`
        keep_to = last + 1 if end == len(data) else last  # the file's unended last line too
        parts.append(Part(blob.path, data[low:high], line - data.count(b"\n", low, start), line, keep_to))
        start, line = end, last
    return parts


def _size(work: Work) -> int:
    if isinstance(work, Unread):
        return work.size
    return len(work.data) if work.data is not None else len(work.text)


def _send(task: _Task, pool: Any) -> None:
    if task.works and task.answer is None:
        task.answer = pool.apply_async(_detect_task, (task.works,))


def _answered(places: list[tuple[_Task, int]]) -> bool:
    return all(task.answer is not None and task.answer.ready() for task, _ in places)


def _gathered(places: list[tuple[_Task, int]], pool: Any) -> list[Candidate]:
    found: list[Candidate] = []
    for task, index in places:
        _send(task, pool)  # past IN_FLIGHT, the task being filled is needed now
        found += task.answer.get()[index]
    return found


_JOB: dict[str, Policy] = {}


def _detect_task(works: list[Work]) -> list[Outcome | list[Candidate]]:
    policy = _JOB["policy"]
    return [judged(w, policy) if isinstance(w, Unread) else
            candidates_in(w, policy) if isinstance(w, Blob) else _part_candidates(w, policy)
            for w in works]


def _part_candidates(part: Part, policy: Policy) -> list[Candidate]:
    found = detect_prefiltered(part.data, part.path, policy.config.rules, part.first_line,
                               policy.report_at)
    return reported([c for c in found if part.keep_from <= c.line < part.keep_to], None, policy)
