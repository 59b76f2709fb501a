"""Files scanned on all cores: the walk stays in this process, reading, detection and judging
run in forked workers, outcomes come back in walk order.

A worker reads the files it is given itself: their bytes never cross a pipe. A large text file
is scanned in slices of about 1 MiB of lines, each read by its worker with the margin of context
the rules read on either side (as keyguard.detect.fast does around interesting places), so its
slices give the findings the whole file gives, and one big file does not keep one core busy
while the other waits. A small scan never forks.
"""

from __future__ import annotations

import codecs
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import chain

from keyguard.detect.fast import MARGIN, detect_prefiltered, only_built_in
from keyguard.detect.hexkey import LONGEST_HEADER, is_table
from keyguard.model import Blob, Finding, Item, ScanError, Skipped, Suppressed, Unread
from keyguard.record import Record, field, replace
from keyguard.scan import FAST_PATH_MIN, Outcome, Policy, findings_at, judged, reported
from keyguard.sources.files import Region, read_region
from keyguard.workers import Workers, forked

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from typing import Any

PARALLEL_FROM = 2 << 20  # bytes found before workers are forked: small scans stay in one process
PART = 1 << 20  # a text file larger than this is scanned in slices of about this size
TASK = 1 << 20  # whole files go to a worker together up to this many bytes (fewer answers)
IN_FLIGHT = 64 << 20  # bytes sent to workers and not answered yet: memory stays bounded


class Slice(Record, kw_only=False):
    """Slice `index` of `count` of a large file: the lines that start in its bytes
    [index * PART, (index + 1) * PART), the last slice's to the end of the file."""

    file: Unread
    index: int
    count: int


Work = Unread | Blob | Slice  # files and standard input judged whole; slices of large files
# A slice's answer: its outcome with lines counted from its first line, how many lines it
# holds, and the size and time of the file it read (every slice must have read the same file).
SliceAnswer = tuple[Outcome, int, tuple[int, int] | None]


class _Task(Record, frozen=False, kw_only=False):
    works: list[Work] = field(default_factory=list)
    size: int = 0
    answer: Any = None  # a Future once sent


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
    _POLICY["policy"] = policy  # inherited by the forked workers: custom rules need no pickling
    with forked(jobs) as workers:
        yield from _in_workers(chain(held, items), policy, workers)


def _in_workers(items: Iterator[Item], policy: Policy, workers: Workers) -> Iterator[Outcome]:
    pending: deque[tuple[Item, list[tuple[_Task, int]]]] = deque()
    task, in_flight = _Task(), 0
    for item in items:
        places = []
        for work in _works(item, policy):
            if task.size >= TASK or isinstance(work, Slice):
                _send(task, workers)
                task = _Task()
            places.append((task, len(task.works)))
            task.works.append(work)
            task.size += _size(work)
            in_flight += _size(work)
        pending.append((item, places))
        while pending and (in_flight > IN_FLIGHT or _answered(pending[0][1])):
            done, places = pending.popleft()
            in_flight -= sum(_size(t.works[i]) for t, i in places)
            yield _outcome(done, places, workers)
    _send(task, workers)
    while pending:
        done, places = pending.popleft()
        yield _outcome(done, places, workers)


def _works(item: Item, policy: Policy) -> list[Work]:
    """A file whole, or in slices when it is large and every rule is built in (the prefilter
    knows them); standard input whole; nothing for a skip or an error."""
    if isinstance(item, Unread) and item.size > PART and only_built_in(policy.config.rules):
        count = -(-item.size // PART)
        return [Slice(item, index, count) for index in range(count)]
    if isinstance(item, Blob) and item.data is not None and len(item.data) >= FAST_PATH_MIN:
        return [replace(item, text="")]  # the fast path reads bytes: its text is not sent
    return [item] if isinstance(item, (Unread, Blob)) else []


def _size(work: Work) -> int:
    if isinstance(work, Slice):
        return min(PART, work.file.size - work.index * PART)
    if isinstance(work, Unread):
        return work.size
    return len(work.data) if work.data is not None else len(work.text)


def _send(task: _Task, workers: Workers) -> None:
    if task.works and task.answer is None:
        task.answer = workers.submit(_work_task, task.works)


def _answered(places: list[tuple[_Task, int]]) -> bool:
    return all(task.answer is not None and task.answer.done() for task, _ in places)


def _outcome(item: Item, places: list[tuple[_Task, int]], workers: Workers) -> Outcome:
    if isinstance(item, (Skipped, ScanError)):
        return item, [], []
    answers = []
    for task, index in places:
        _send(task, workers)  # past IN_FLIGHT, the task being filled is needed now
        answers.append(workers.answer(task.answer)[index])
    if len(answers) == 1:
        outcome: Outcome = answers[0]
        return outcome
    return _joined(item, answers)


def _joined(item: Item, answers: list[SliceAnswer]) -> Outcome:
    """A file's outcome from its slices', lines counted from the top of the file."""
    unscanned = next((outcome[0] for outcome, _, _ in answers if outcome[0] is not None), None)
    if unscanned is not None:
        return unscanned, [], []
    if len({version for _, _, version in answers if version is not None}) > 1:
        return ScanError(path=item.path, message="changed while it was being scanned"), [], []
    kept: list[Finding] = []
    dropped: list[Suppressed] = []
    above = 0
    for (_, findings, suppressed), lines, _ in answers:
        moved, moved_dropped = _moved(findings, suppressed, above)
        kept += moved
        dropped += moved_dropped
        above += lines
    return None, kept, dropped


def _moved(findings: list[Finding], suppressed: list[Suppressed],
           lines: int) -> tuple[list[Finding], list[Suppressed]]:
    """The findings `lines` lines further down (up, when negative)."""
    return ([replace(f, line=f.line + lines) for f in findings],
            [replace(s, finding=replace(s.finding, line=s.finding.line + lines)) for s in suppressed])


_POLICY: dict[str, Policy] = {}  # inherited by the workers


def _work_task(works: list[Work]) -> list[Outcome | SliceAnswer]:
    policy = _POLICY["policy"]
    return [_slice_answer(w, policy) if isinstance(w, Slice) else judged(w, policy) for w in works]


def _slice_answer(piece: Slice, policy: Policy) -> SliceAnswer:
    file = piece.file
    start = piece.index * PART
    last = piece.index == piece.count - 1
    # UTF-8 takes up to 4 bytes a character: the margin holds MARGIN characters whatever the text
    region = read_region(file.path, file.limit, start, None if last else start + PART, 4 * MARGIN)
    if region is None:  # binary, or UTF-16: judged whole, by the first slice
        return (judged(file, policy) if piece.index == 0 else (None, [], [])), 0, None
    if not isinstance(region, Region):
        return (region, [], []), 0, None
    data, base = region.data, region.low
    if base == 0 and data.startswith(codecs.BOM_UTF8):  # as detect_bytes does: columns count without it
        data, base = data[3:], 3
    keep_from = data.count(b"\n", 0, max(0, region.keep_start - base)) + 1
    lines = data.count(b"\n", max(0, region.keep_start - base), max(0, region.keep_end - base))
    reaches_end = region.keep_end >= region.version[0]  # a slice before the last may own it all
    keep_to = keep_from + lines + (1 if reaches_end else 0)  # the file's unended last line too
    header = _first_line(file.path) if piece.index > 0 and is_table(file.path) else None
    found = detect_prefiltered(data, file.path, policy.config.rules, at_least=policy.report_at,
                               header=header)
    candidates = reported([c for c in found if keep_from <= c.line < keep_to], None, policy)
    text = data.decode("utf-8", errors="replace") if candidates else ""  # most slices have none
    kept, dropped = findings_at(file.path, text, candidates, policy)
    return (None, *_moved(kept, dropped, 1 - keep_from)), lines, region.version


def _first_line(path: str) -> bytes:
    """A table's first line, its column names (a later slice does not hold it)."""
    try:
        with open(path, "rb") as handle:
            line = handle.readline(4 * LONGEST_HEADER + 1)  # UTF-8: up to 4 bytes a character
    except OSError:
        return b""
    # longer than that, it names no columns; an empty header as well
    return line.removeprefix(codecs.BOM_UTF8).removesuffix(b"\n") if line.endswith(b"\n") else b""
