"""Scanning many file versions fast, for history and audits.

- Each distinct blob is read once, through one long-lived `git cat-file --batch` per process.
- Versions of one path are scanned in commit order; in a later version only what changed
  since the previous one (and enough around it for every rule's context) is examined:
  secrets on unchanged lines were found, and attributed, in the version that introduced them.
- A single RE2 pass decides where rules need to run at all (keyguard.detect.fast).
- Paths are spread over worker processes in tasks of about equal bytes, a long-lived big
  file cut into runs of versions; only findings travel back.
"""

from __future__ import annotations

import codecs
import contextlib
import gc
from collections.abc import Callable, Iterator
from itertools import accumulate, compress, groupby

from keyguard import git
from keyguard.detect.fast import (
    could_match,
    detect_bytes,
    detect_windows,
    line_windows,
    margin_bytes,
    prefilter_fits,
)
from keyguard.detect.hexkey import is_checksum_file
from keyguard.model import Candidate, Finding, Skipped, Suppressed
from keyguard.record import Record, field
from keyguard.scan import Policy, findings_at
from keyguard.sources.history import Appearance
from keyguard.sources.text import UTF16_BOMS, decode_text, is_binary
from keyguard.workers import Workers, forked, ignore_interrupts

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from typing import Any

MARGIN_ASCII = 700  # bytes around a change: rules read at most ~620 characters around a key
_SMALL_CHANGE = 32 << 10  # a changed middle up to this size is examined whole: cheaper than its line diff
_BATCH = 256  # versions of small paths sent to a worker at once

Version = tuple[str, list[Appearance]]  # blob id, where it appeared first
Group = list[Version]  # one path's versions, in commit order
# Consecutive versions of one path, and the version before them (read to diff the first one
# against) when a long path is cut into runs for several workers.
Run = tuple[str | None, Group]


class Outcome(Record, frozen=False, kw_only=False):
    findings: list[tuple[int, Finding]] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    scanned: int = 0

    def merge(self, other: Outcome) -> None:
        self.findings += other.findings
        self.suppressed += other.suppressed
        self.skipped += other.skipped
        self.scanned += other.scanned


def path_groups(blobs: dict[str, list[Appearance]]) -> list[Group]:
    """Versions grouped by the path they first appeared at, each group in commit order."""
    groups: dict[str, Group] = {}
    for sha, appearances in blobs.items():
        groups.setdefault(appearances[0].path, []).append((sha, appearances))
    return list(groups.values())


@contextlib.contextmanager
def workers(policy: Policy, max_size: int, cwd: str | None, jobs: int) -> Iterator[Workers | None]:
    """Worker processes for scan_versions, forked now (None for one job). Forked before the
    caller builds its plan, they hold none of it."""
    if jobs <= 1:
        yield None
        return
    _WORKER["job"] = (policy, max_size, cwd)  # inherited by forked workers: rules need no pickling
    with forked(jobs, _start_worker) as started:
        yield started


def scan_versions(groups: list[Group], policy: Policy, max_size: int, cwd: str | None, jobs: int,
                  progress: Callable[[int], None] | None = None,
                  meanwhile: Callable[[], None] = lambda: None, pool: Workers | None = None,
                  sizes: dict[str, int] | None = None) -> Outcome:
    """Every version of every group; `progress(n)` after each n versions done; `meanwhile()`
    runs in this process while workers scan (those of `pool`, from `workers`, or forked
    here). With jobs=0, the reference path: one process, every version scanned whole (for
    tests to compare). `sizes`: the blobs' sizes when known (else asked of git)."""
    whole, jobs = jobs == 0, max(jobs, 1)
    total = Outcome()
    if jobs == 1 or sum(map(len, groups)) <= _BATCH:
        with git.ObjectReader(cwd) as objects:
            for task in _batches(groups):
                total.merge(_scan_task(task, objects, policy, max_size, whole))
                if progress:
                    progress(sum(len(group) for _, group in task))
        meanwhile()
        return total
    if sizes is None:
        sizes = git.object_sizes((sha for group in groups for sha, _ in group), cwd)
    tasks = _tasks(groups, sizes, jobs)
    if pool is not None:
        return _collect(pool, tasks, progress, meanwhile)
    # Forked now, the workers inherit the plan; it stays shared: the collector never writes to it.
    gc.freeze()
    try:
        with workers(policy, max_size, cwd, jobs) as started:
            assert started is not None  # jobs > 1
            return _collect(started, tasks, progress, meanwhile)
    finally:
        gc.unfreeze()  # a long-lived process (an audit worker) must still collect them later


def _collect(pool: Workers, tasks: list[Task], progress: Callable[[int], None] | None,
             meanwhile: Callable[[], None]) -> Outcome:
    total = Outcome()
    calls = [pool.submit(_worker_task, task) for task in tasks]  # the workers start on them now
    meanwhile()
    for call in pool.as_completed(calls):
        outcome, done = pool.answer(call)
        total.merge(outcome)
        if progress:
            progress(done)
    return total


def _batches(groups: list[Group]) -> Iterator[list[Run]]:
    """Whole groups, read _BATCH versions or more at a time."""
    batch: list[Run] = []
    for group in groups:
        batch.append((None, group))
        if sum(len(g) for _, g in batch) >= _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


_VERSION_COST = 64 << 10  # what handling a version costs beside its bytes, in bytes read
_LARGE = 1 << 20  # a path with a version this large (bytes) is read with a large delta cache
_CACHE_MIB = 24  # git's delta cache for a worker's tasks, without a lane (in MiB)
_LANE_CACHE_MIB = 48  # ... for the lane of large paths
_OTHERS_CACHE_MIB = 8  # ... for the other tasks, beside that lane

Task = tuple[int, list[Run]]  # the delta cache to read with (MiB), and the runs


def _tasks(groups: list[Group], sizes: dict[str, int], jobs: int) -> list[Task]:
    """Tasks of similar cost (bytes to read), the costliest first, so the workers end together.
    Small paths are batched; a path costing more than a share is cut into runs of consecutive
    versions, each led by the version before it, so one long-lived big file is not scanned by
    one worker while the others wait.

    Paths with large versions, when they cost no more than one worker's part, go first and
    whole to one worker: its git gets a delta cache twice as large, the other workers' a small
    one (about the same memory in all), and rebuilds them with a third less work."""
    def cost(version: Version) -> int:
        return sizes.get(version[0], 0) + _VERSION_COST

    total = sum(cost(v) for group in groups for v in group)
    share = total // (jobs * 16) + 1
    large: list[Group] = []
    others: list[Group] = []
    for group in groups:
        (large if max(sizes.get(sha, 0) for sha, _ in group) >= _LARGE else others).append(group)
    lane_cost = sum(cost(v) for group in large for v in group)
    if jobs < 2 or not large or lane_cost > total // jobs:
        return [(_CACHE_MIB, task) for task in _shared_out(groups, cost, share)]
    return [(_LANE_CACHE_MIB, [(None, group) for group in large]),
            *((_OTHERS_CACHE_MIB, task) for task in _shared_out(others, cost, share))]


def _shared_out(groups: list[Group], cost: Callable[[Version], int], share: int) -> list[list[Run]]:
    """The groups in tasks of about `share`, the costliest first."""
    tasks: list[tuple[int, list[Run]]] = []
    batch: list[Run] = []
    batch_cost = 0
    for group in sorted(groups, key=len, reverse=True):
        group_cost = sum(map(cost, group))
        if group_cost <= share:
            batch.append((None, group))
            batch_cost += group_cost
            if batch_cost >= share or sum(len(g) for _, g in batch) >= _BATCH:
                tasks.append((batch_cost, batch))
                batch, batch_cost = [], 0
            continue
        start, run_cost = 0, 0
        for end, version in enumerate(group, 1):
            run_cost += cost(version)
            if run_cost >= share or end == len(group):
                tasks.append((run_cost, [(_lead(group, start), group[start:end])]))
                start, run_cost = end, 0
    if batch:
        tasks.append((batch_cost, batch))
    return [task for _, task in sorted(tasks, key=lambda t: t[0], reverse=True)]


def _lead(group: Group, start: int) -> str | None:
    """The version a run starting at `start` is diffed against: the one before it, when that
    one is diffed too (a version that appeared at several places is scanned whole and does not
    lead); None: the run's first version is scanned whole."""
    if start == 0 or len(group[start - 1][1]) != 1:
        return None
    return group[start - 1][0]


_WORKER: dict[str, Any] = {}  # in each worker: the job (policy, size cap, cwd) and its git reader


def _start_worker() -> None:
    ignore_interrupts()
    _WORKER["objects"] = git.ObjectReader(_WORKER["job"][2], _CACHE_MIB)


def _worker_task(task: Task) -> tuple[Outcome, int]:
    cache_mib, runs = task
    policy, max_size, cwd = _WORKER["job"]
    objects = _WORKER["objects"]
    if objects.cache_mib != cache_mib:  # one git at a time: caches are never held side by side
        objects.close()
        objects = _WORKER["objects"] = git.ObjectReader(cwd, cache_mib)
    return _scan_task(runs, objects, policy, max_size, False), sum(len(g) for _, g in runs)


def _scan_task(task: list[Run], objects: git.ObjectReader, policy: Policy, max_size: int,
               whole: bool) -> Outcome:
    outcome = Outcome()
    contents = objects.read_many([sha for lead, group in task
                                  for sha in ([lead] if lead else []) + [sha for sha, _ in group]], max_size)
    for lead, group in task:
        previous: list[bytes] = []  # this path's last version
        if lead:
            _, data = next(contents)
            if data is not None and not is_binary(data) and not data.startswith(UTF16_BOMS):
                previous = [data.removeprefix(codecs.BOM_UTF8)]  # as _candidates leaves it
        for sha, appearances in group:
            _, data = next(contents)
            if data is None:
                outcome.skipped.append(Skipped.over_size_cap(f"{appearances[0].path} ({sha[:12]})", max_size))
            elif not is_binary(data):
                outcome.scanned += 1
                dedup = len(appearances) == 1 and not whole
                _scan_version(data, appearances, previous if dedup else None, policy, outcome)
    return outcome


def _scan_version(data: bytes, appearances: list[Appearance], previous: list[bytes] | None,
                  policy: Policy, outcome: Outcome) -> None:
    """Detect once per kind of path (lockfiles are judged differently), then place findings."""
    kinds = [appearances] if len(appearances) == 1 else [
        list(group) for _, group in groupby(sorted(appearances, key=lambda a: is_checksum_file(a.path)),
                                            key=lambda a: is_checksum_file(a.path))]
    for places in kinds:
        found = _candidates(data, places[0].path, previous, policy)
        candidates = [c for c in found if c.confidence >= policy.report_at]
        text = (decode_text(data) or "") if candidates else ""
        for place in places:
            kept, dropped = findings_at(place.path, text, candidates, policy, place.origin)
            outcome.findings += [(place.order, finding) for finding in kept]
            outcome.suppressed += dropped


def _candidates(data: bytes, path: str, previous: list[bytes] | None, policy: Policy) -> list[Candidate]:
    """Candidates of one version. `previous` holds the path's last version: only what changed
    since (and its surroundings) is examined."""
    rules = policy.config.rules
    if previous is None or not prefilter_fits(data, rules):
        return detect_bytes(data, path, rules, policy.report_at) or []
    data = data.removeprefix(codecs.BOM_UTF8)
    before = previous[0] if previous else None
    previous[:] = [data]
    if before is None or is_binary(before):
        return detect_bytes(data, path, rules, policy.report_at) or []
    spans = _changed_spans(before, data)
    margin = _margin(data, spans)
    windows = [w for w in line_windows(data, spans, margin) if could_match(data, *w)]
    return list(detect_windows(data, path, windows, rules, at_least=policy.report_at))


def _margin(data: bytes, spans: list[tuple[int, int]]) -> int:
    """MARGIN_ASCII bytes are as many characters where the text around every span is ASCII;
    UTF-8 takes up to 4 bytes a character. Only around the spans is looked at: most of a
    large version is unchanged."""
    if len(spans) > 64:
        return margin_bytes(data, MARGIN_ASCII)
    near = (data[max(0, start - MARGIN_ASCII) : end + MARGIN_ASCII] for start, end in spans)
    return MARGIN_ASCII if all(part.isascii() for part in near) else MARGIN_ASCII * 4


def _changed_spans(before: bytes, after: bytes) -> list[tuple[int, int]]:
    """Where `after` differs from `before`: the middle between their common prefix and suffix,
    or, when that middle is large, its lines that `before` did not have (a line-set diff, or
    for a very large middle a walk that may mark a few more lines). A pure deletion still
    leaves a point to look around, since the lines next to it have new neighbours."""
    # Known to within _ROUGHLY bytes (a few lines, at most, looked at again), in fewer compares.
    prefix = _common_prefix(before, after, within=_ROUGHLY)
    suffix = _common_suffix(before, after, min(len(before), len(after)) - prefix, within=_ROUGHLY)
    start = after.rfind(b"\n", 0, prefix) + 1
    end = after.find(b"\n", len(after) - suffix)
    end = len(after) if end < 0 else end
    if end - start <= _SMALL_CHANGE:
        return [(start, max(start, end))]
    before_end = len(before) - suffix
    if end - start > _WALK_FROM:  # walking the edits costs less than searching the whole middle
        return [(start, start), *_edited_lines(before, after, start, before_end, end), (end, end)]
    if not could_match(after, start, end):  # nothing a rule could fire on: no line diff needed
        return [(start, start), (end, end)]
    return [(start, start), *_fresh_lines(before, after, start, before_end, start, end), (end, end)]


_ROUGHLY = 64  # bytes: how exactly the common prefix and suffix of two versions are found
_WALK_FROM = 256 << 10  # a changed middle this large is walked; a smaller one gets the line-set diff
_ANCHOR = 64  # bytes of whole lines of `after` looked for in `before` to find where they agree again
_RESYNC_LINES = 32  # lines of `after` tried as the start of an anchor after each difference
_RESYNC_BYTES = 256 << 10  # how far ahead in `before` an anchor is looked for
_RESYNC_NEAR = 8 << 10  # how far it is looked for first
_MAX_EDITS = 256  # differences followed one by one; past that, the rest goes to the line-set diff


def _edited_lines(before: bytes, after: bytes, i: int, before_end: int, end: int) -> list[tuple[int, int]]:
    """Spans of after[i:end] holding every line that before[i:before_end] does not have and a
    rule could fire on; both start at the same line start. Walks both while they agree (memcmp
    speed); at a difference, finds where a few whole lines of `after` appear again in `before`,
    and marks the lines of `after` in between. Lines it does not mark were matched, whole, to
    lines of `before`. When that walk does not resynchronise quickly, the rest is left to
    `_fresh_lines` (unless nothing a rule could fire on is in it)."""
    spans: list[tuple[int, int]] = []
    j = i
    for _ in range(_MAX_EDITS):
        same = _common_prefix(before, after, i, j, min(before_end - i, end - j))
        if j + same >= end:
            return spans
        line = after.rfind(b"\n", j, j + same) + 1 or j  # back to the start of the differing line
        i, j = i + line - j, line
        resumed = _resync(before, after, i, before_end, j, end)
        if resumed is None:
            break
        i, next_j = resumed
        spans.append((j, next_j))
        j = next_j
    if not could_match(after, j, end):  # nothing a rule could fire on in the rest: no line diff
        return [*spans, (j, j)]
    return spans + _fresh_lines(before, after, i, before_end, j, end)


def _resync(before: bytes, after: bytes, i: int, before_end: int, j: int,
            end: int) -> tuple[int, int] | None:
    """The first place, among the next lines of after[j:], where an anchor of whole lines is also
    whole lines of before[i:]: (where in before, where in after), or None. Looked for close
    ahead first (an edit in place or a short insertion resumes within a few lines), then
    _RESYNC_BYTES ahead."""
    for reach in (_RESYNC_NEAR, _RESYNC_BYTES):
        limit, line = min(before_end, i + reach), j
        for _ in range(_RESYNC_LINES):
            anchor_end = after.find(b"\n", min(line + _ANCHOR, end), end)
            if anchor_end < 0:
                break
            anchor = after[line : anchor_end + 1]
            if before.startswith(anchor, i, limit):
                return i, line
            found = before.find(b"\n" + anchor, i, limit)
            if found >= 0:
                return found + 1, line
            line = after.find(b"\n", line, end) + 1
            if not line:
                break
        if limit == before_end:
            break
    return None


def _fresh_lines(before: bytes, after: bytes, i: int, before_end: int, j: int,
                 end: int) -> list[tuple[int, int]]:
    """Spans of the lines of after[j:end] that before[i:before_end] does not have anywhere."""
    lines = after[j:end].split(b"\n")
    fresh = set(lines)
    fresh.difference_update(before[i:before_end].split(b"\n"))  # no set built of the old lines
    fresh.discard(b"")
    return [(j + a, j + b) for a, b in _line_spans(lines, fresh)]


def _common_prefix(a: bytes, b: bytes, i: int = 0, j: int = 0, limit: int | None = None,
                   within: int = 1) -> int:
    """Length of the common prefix of a[i:] and b[j:], at most `limit`, or up to `within` - 1
    bytes less: compared 1 MiB at a time, then halved down to `within` (memcmp speed; a view of
    `b`, so nothing is copied)."""
    limit = min(len(a) - i, len(b) - j) if limit is None else limit
    view = memoryview(b)
    size, done = 1 << 20, 0
    while size >= within:
        while done + size <= limit and a.startswith(view[j + done : j + done + size], i + done):
            done += size
        size //= 2
    return done


def _common_suffix(a: bytes, b: bytes, limit: int, within: int = 1) -> int:
    """Length of the common suffix, at most `limit`, found like `_common_prefix`."""
    view = memoryview(b)
    size, done = 1 << 20, 0
    while size >= within:
        while done + size <= limit and a.endswith(view[len(b) - done - size : len(b) - done], 0,
                                                  len(a) - done):
            done += size
        size //= 2
    return done


def _line_spans(lines: list[bytes], wanted: set[bytes]) -> list[tuple[int, int]]:
    """Byte spans of the lines that are in `wanted`, in order. The loops run in C."""
    lengths = list(accumulate(map(len, lines)))  # line i ends at lengths[i] + i (its newlines)
    picked = compress(range(len(lines)), map(wanted.__contains__, lines))
    return [(lengths[i] + i - len(lines[i]), lengths[i] + i) for i in picked]
