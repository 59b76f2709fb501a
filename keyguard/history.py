"""History scans: each distinct blob read and scanned once, findings attributed to the first
commit that brought the secret to that path."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from keyguard import git
from keyguard.blobscan import path_groups, scan_versions, workers
from keyguard.detect.fast import could_match, only_built_in
from keyguard.model import Blob, Finding, ScanError, ScanResult, Skipped, Suppressed
from keyguard.record import Record, field, replace
from keyguard.scan import Policy, candidates_in, findings_at
from keyguard.sources.history import (
    Appearance,
    HistoryPlan,
    add_merged_earlier,
    annotated_tags,
    commit_messages,
    plan_history,
    tagged_files,
)
from keyguard.sources.text import SNIFF, decode_text, is_binary

COMMIT_MESSAGE = "(commit message)"
TAG_MESSAGE = "(tag message)"

Key = tuple[str, str, str]  # rule, path, secret


class _Collector(Record, frozen=False, kw_only=False):
    """The earliest finding per rule, path and secret."""

    best: dict[Key, tuple[int, Finding]] = field(default_factory=dict)
    suppressed: dict[Key, Suppressed] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    scanned: int = 0

    def add(self, order: int, findings: list[Finding]) -> None:
        for finding in findings:
            key = (finding.rule_id, finding.path, finding.secret)
            if key not in self.best or order < self.best[key][0]:
                self.best[key] = (order, finding)

    def suppress(self, items: Sequence[Suppressed]) -> None:
        for item in items:
            self.suppressed.setdefault((item.finding.rule_id, item.finding.path, item.finding.secret),
                                       item)


Progress = Callable[[int, int], None]  # (file versions done, total)


def scan_history(revisions: Sequence[str], filters: Sequence[str], policy: Policy, max_size: int,
                 cwd: str | None = None, progress: Progress | None = None, jobs: int = 1,
                 tags: Sequence[tuple[str, str]] = ()) -> ScanResult:
    """Every blob, commit message and annotated tag message of `revisions` (all refs when
    none); with revisions, the messages of the tags given as (ref name, object): a push's."""
    # All refs (history, audits): many versions to scan, so the workers are forked before the
    # plan exists and do not carry it. A range (pre-push, ci) is often a few commits: forked
    # only if it turns out large.
    with workers(policy, max_size, cwd, 1 if revisions else jobs) as pool:
        plan = plan_history(revisions, filters, cwd, sizes=pool is not None)  # to share the work out
        found = _Collector()
        done = [0]

        def advance(versions: int) -> None:
            done[0] += versions
            if progress is not None:
                progress(done[0], len(plan.blobs))

        earlier: set[Key] = set()
        tagged_skipped: list[Skipped] = []
        # Most messages hold nothing a rule could fire on: the fast path's prefilter says which.
        prefiltered = only_built_in(policy.config.rules)

        def messages() -> None:
            """Commit and tag messages, and what a range starts from: done while workers scan."""
            with git.ObjectReader(cwd) as objects:
                add_merged_earlier(plan, cwd)
                earlier.update(_earlier_secrets(objects, plan.earlier, policy, max_size))
                for commit, message in commit_messages(revisions, filters, cwd):
                    if prefiltered and not could_match(message.encode()):
                        continue
                    order, origin = plan.commits[commit]
                    _scan_message(message, Appearance(COMMIT_MESSAGE, order, origin), policy, found)
                if not revisions or tags:
                    refs = tags if revisions else None  # all refs, or the ones a push sends
                    for origin, message in annotated_tags(objects, cwd, refs):
                        appearance = Appearance(f"{TAG_MESSAGE} {origin.commit}", len(plan.commits), origin)
                        _scan_message(message, appearance, policy, found)
                    for label, origin, data in tagged_files(objects, cwd, refs, max_size):
                        text = None if data is None else decode_text(data)
                        if text is None:
                            tagged_skipped.append(Skipped(path=label, reason="binary or over the size cap"))
                        else:
                            _scan_message(text, Appearance(label, len(plan.commits), origin), policy, found)

        advance(0)  # say at once how much there is to do
        outcome = scan_versions(path_groups(plan.blobs), policy, max_size, cwd, jobs, advance, messages,
                                pool, plan.sizes)
    for order, finding in outcome.findings:
        found.add(order, [finding])
    found.suppress(outcome.suppressed)
    found.skipped = [*_gate_skips(outcome.skipped, plan, cwd), *tagged_skipped]
    found.scanned = outcome.scanned
    _follow_renames(found.best, plan.renames)
    earlier = _renamed_along(earlier, plan.renames)
    findings = tuple(f for key, (_, f) in found.best.items() if key not in earlier)
    errors: tuple[ScanError, ...] = ()
    boundary = git.shallow_boundary(cwd)
    # A range that reaches the boundary of a shallow clone may go on past it (a pull request
    # longer than the CI's fetch depth): what it holds there is unknown, so not a clean scan.
    if boundary and (not revisions or not boundary.isdisjoint(plan.commits)):
        errors = (ScanError(path="(repository)", message="shallow clone: commits before its boundary "
                            "were not scanned; fetch them with `git fetch --unshallow` "
                            "(in CI: fetch-depth: 0, GIT_DEPTH: 0)"),)
    suppressed = tuple(s for key, s in found.suppressed.items() if key not in found.best)
    return ScanResult(findings=findings, scanned=found.scanned, skipped=tuple(found.skipped),
                      errors=errors, suppressed=suppressed, unit="file version")


def _follow_renames(best: dict[Key, tuple[int, Finding]], renames: dict[tuple[str, str], str]) -> None:
    """A secret carried along by a rename is the same leak: keep one finding, at the new path,
    naming the commit that first brought the secret in."""
    for key, (order, finding) in sorted(best.items(), key=lambda item: item[1][0]):
        commit = finding.origin.commit if finding.origin else ""
        old_path = renames.get((commit, finding.path))
        old_key = (key[0], old_path or "", key[2])
        earlier = best.get(old_key)
        if earlier is not None and earlier[0] < order:
            best[key] = (earlier[0], replace(finding, origin=earlier[1].origin))
            del best[old_key]


def _gate_skips(skipped: list[Skipped], plan: HistoryPlan, cwd: str | None) -> list[Skipped]:
    """Versions left unread for their size, told apart for a push or CI range: a version
    committed before the range (a rename) or binary holds no new text to miss."""
    if not any(s.unread_text for s in skipped):
        return skipped
    earlier = {sha[:12] for sha in plan.earlier}
    blobs = {sha[:12]: sha for sha in plan.blobs}
    kept = []
    for skip in skipped:
        short = skip.path.rpartition(" (")[2].rstrip(")")  # `<path> (<sha12>)`, as blobscan labels it
        if skip.unread_text and short in earlier:
            kept.append(replace(skip, unread_text=False))
        elif skip.unread_text and short in blobs and is_binary(git.blob_head(blobs[short], SNIFF, cwd)):
            kept.append(Skipped(path=skip.path, reason="binary"))
        else:
            kept.append(skip)
    return kept


def _renamed_along(earlier: set[Key], renames: dict[tuple[str, str], str]) -> set[Key]:
    """The secrets committed before the range, also at the paths the range renamed their
    files to: a key moved with its file is not new (a file the range merged in, then renamed)."""
    moved: dict[str, set[str]] = {}
    for (_, new), old in renames.items():
        moved.setdefault(old, set()).add(new)
    keys, todo = set(earlier), list(earlier)
    while todo:
        rule, path, secret = todo.pop()
        for new in moved.get(path, ()):
            if (rule, new, secret) not in keys:
                keys.add((rule, new, secret))
                todo.append((rule, new, secret))
    return keys


def _scan_message(text: str, place: Appearance, policy: Policy, found: _Collector) -> None:
    """A commit or tag message: scanned like a file at a path of its own."""
    candidates = candidates_in(Blob(path=place.path, text=text), policy)
    kept, dropped = findings_at(place.path, text, candidates, policy, place.origin)
    found.add(place.order, kept)
    found.suppress(dropped)


def _earlier_secrets(objects: git.ObjectReader, earlier: dict[str, set[str]], policy: Policy,
                     max_size: int) -> set[Key]:
    """Secrets already in the versions a range starts from: committed before, not new here."""
    keys: set[Key] = set()
    for sha, paths in earlier.items():
        _, data = objects.read(sha, max_size)
        text = None if data is None else decode_text(data)
        if text is None:
            continue
        for path in paths:
            keys.update((c.rule_id, path, c.secret)
                        for c in candidates_in(Blob(path=path, text=text), policy))
    return keys
