"""Candidates to findings: thresholds and allowlists applied, results collected."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from keyguard.baseline import Baseline
from keyguard.config import Config
from keyguard.detect import detect
from keyguard.model import (
    Blob,
    Candidate,
    Confidence,
    Finding,
    Item,
    Origin,
    ScanError,
    ScanResult,
    Skipped,
    Suppressed,
    Unread,
    excerpt_of,
    other_secrets,
)
from keyguard.record import Record, field

FAST_PATH_MIN = 4 << 10  # bytes: below this, starting RE2 costs more than it saves


class Policy(Record):
    config: Config
    report_at: Confidence = Confidence.MEDIUM  # --min-confidence: what is shown
    base: str = "."  # the directory blob paths are relative to
    baseline: Baseline = field(default_factory=dict)


# What scanning an item came to: None when it was scanned (Skipped or ScanError when not), and
# its findings, kept and suppressed.
Outcome = tuple[Skipped | ScanError | None, list[Finding], list[Suppressed]]


def scan_items(items: Iterable[Item], policy: Policy, jobs: int = 1) -> ScanResult:
    """Items in order; with jobs > 1, a large scan is read and detected on that many processes."""
    if jobs > 1:
        from keyguard.filescan import judged_in_parallel

        outcomes = judged_in_parallel(items, policy, jobs)
    else:
        outcomes = (judged(item, policy) for item in items)
    findings: list[Finding] = []
    suppressed: list[Suppressed] = []
    skipped: list[Skipped] = []
    errors: list[ScanError] = []
    scanned = 0
    for unscanned, kept, dropped in outcomes:
        if isinstance(unscanned, Skipped):
            skipped.append(unscanned)
        elif isinstance(unscanned, ScanError):
            errors.append(unscanned)
        else:
            scanned += 1
            findings.extend(kept)
            suppressed.extend(dropped)
    return ScanResult(findings=tuple(findings), scanned=scanned, skipped=tuple(skipped),
                      errors=tuple(errors), suppressed=tuple(suppressed))


def judged(item: Item, policy: Policy) -> Outcome:
    """A file read if it was not, detected, its candidates judged by the policy."""
    if isinstance(item, Unread):
        item = item.read()
    if isinstance(item, Blob):
        return (None, *findings_at(item.path, item.text, candidates_in(item, policy), policy))
    return item, [], []


def candidates_in(blob: Blob, policy: Policy) -> list[Candidate]:
    """What detection reports at the asked confidence, on the lines that count."""
    if blob.only_lines is not None and len(blob.text) >= FAST_PATH_MIN:
        from keyguard.detect.fast import detect_lines, only_built_in

        if only_built_in(policy.config.rules):  # around the lines that count: a staged change
            found = detect_lines(blob.text, blob.path, blob.only_lines, policy.config.rules, policy.report_at)
            return reported(found, None, policy)
    if blob.data is not None and len(blob.data) >= FAST_PATH_MIN:
        from keyguard.detect.fast import detect_bytes  # loads RE2: not for a hook's small files

        found = detect_bytes(blob.data, blob.path, policy.config.rules, policy.report_at) or []
    else:
        found = list(detect(blob, policy.config.rules, at_least=policy.report_at))
    return reported(found, blob.only_lines, policy)


def reported(found: Iterable[Candidate], only_lines: frozenset[int] | None,
             policy: Policy) -> list[Candidate]:
    """The candidates at the asked confidence, on the lines that count (all when None)."""
    return [c for c in found if c.confidence >= policy.report_at
            and (only_lines is None or c.line in only_lines)]


def findings_at(path: str, text: str, candidates: Sequence[Candidate], policy: Policy,
                origin: Origin | None = None) -> tuple[list[Finding], list[Suppressed]]:
    """Candidates of a blob found at `path`, as findings: kept, and suppressed with the reason."""
    if not candidates:
        return [], []
    lines = text.split("\n")
    shown_path = repository_path(policy.base, path, policy.config.root)
    secrets_by_line: dict[int, list[str]] = {}
    for candidate in candidates:
        secrets_by_line.setdefault(candidate.line, []).append(candidate.secret)
    # An excerpt redacts every secret on its line, also those graded below what is reported
    # (detection left them out): each such line is read again, alone, at every confidence.
    others_by_line = {line: other_secrets([*secrets, *_every_secret(path, lines[line - 1], policy)])
                      for line, secrets in secrets_by_line.items()}
    kept: list[Finding] = []
    suppressed: list[Suppressed] = []
    for candidate in candidates:
        finding = Finding(rule_id=candidate.rule_id, path=shown_path, secret=candidate.secret,
                          line=candidate.line, column=candidate.column,
                          confidence=candidate.confidence,
                          blocking=candidate.confidence >= policy.config.block_at,
                          signals=candidate.signals, label=candidate.label, origin=origin,
                          excerpt=excerpt_of(lines[candidate.line - 1], candidate.column,
                                             candidate.secret, others_by_line[candidate.line]))
        why = suppression(finding, lines[candidate.line - 1], policy)
        if why is None:
            kept.append(finding)
        else:
            suppressed.append(Suppressed(finding=finding, why=why))
    return kept, suppressed


def _every_secret(path: str, line: str, policy: Policy) -> list[str]:
    if policy.report_at == Confidence.LOW:
        return []  # every candidate was detected already
    return [c.secret for c in detect(Blob(path=path, text=line), policy.config.rules)]


def suppression(finding: Finding, line: str, policy: Policy) -> str | None:
    """Why a finding is not reported: an inline marker, an [[allow]] entry, the baseline."""
    marker = next((m for m in policy.config.markers if m in line), None)
    if marker is not None:
        return f"inline {marker}"
    entry = next((e for e in policy.config.allow if e.covers(finding, line)), None)
    if entry is not None:
        return f"{entry.where}: {entry.reason}"
    # no baseline, no fingerprint: hashing loads OpenSSL (~3 ms in each worker process)
    accepted = policy.baseline.get(finding.fingerprint) if policy.baseline else None
    if accepted is not None:
        return f"baseline ({accepted.status}): {accepted.reason}"
    return None


def repository_path(base: str, path: str, root: str) -> str:
    """Paths inside the repository are given from its root, so fingerprints, allowlists and
    baselines agree whatever directory keyguard ran in; others are kept as they were given."""
    relative = os.path.relpath(os.path.join(base, path), root)
    if relative == ".." or relative.startswith(".." + os.sep):
        return path
    return relative.replace(os.sep, "/")
