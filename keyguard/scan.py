"""Candidates to findings: thresholds and allowlists applied, results collected."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from keyguard.config import Config
from keyguard.detect import Rule, detect
from keyguard.model import (
    Blob,
    Candidate,
    Confidence,
    Finding,
    Origin,
    ScanError,
    ScanResult,
    Skipped,
)

INLINE_ALLOW = "keyguard:allow"


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    config: Config
    report_at: Confidence = Confidence.MEDIUM  # --min-confidence: what is shown
    base: str = "."  # the directory finding paths are relative to


def scan_items(items: Iterable[Blob | Skipped | ScanError], rules: Sequence[Rule],
               policy: Policy) -> ScanResult:
    findings: list[Finding] = []
    skipped: list[Skipped] = []
    errors: list[ScanError] = []
    scanned = suppressed = 0
    for item in items:
        if isinstance(item, Skipped):
            skipped.append(item)
        elif isinstance(item, ScanError):
            errors.append(item)
        else:
            scanned += 1
            kept, dropped = _findings(item, rules, policy)
            findings.extend(kept)
            suppressed += dropped
    return ScanResult(findings=tuple(findings), scanned=scanned, skipped=tuple(skipped),
                      errors=tuple(errors), suppressed=suppressed)


def _findings(blob: Blob, rules: Sequence[Rule], policy: Policy) -> tuple[list[Finding], int]:
    return findings_at(blob.path, blob.text, candidates_in(blob, rules, policy), policy)


def candidates_in(blob: Blob, rules: Sequence[Rule], policy: Policy) -> list[Candidate]:
    """What detection reports at the asked confidence, on the lines that count."""
    return [c for c in detect(blob, rules) if c.confidence >= policy.report_at
            and (blob.only_lines is None or c.line in blob.only_lines)]


def findings_at(path: str, text: str, candidates: Sequence[Candidate], policy: Policy,
                origin: Origin | None = None) -> tuple[list[Finding], int]:
    """Candidates of a blob found at `path`: allowlists applied. Returns kept and suppressed."""
    lines = text.split("\n") if candidates else []
    allowed_path = policy.config.allows_path(os.path.join(policy.base, path)) if candidates else False
    kept: list[Finding] = []
    for candidate in candidates:
        if allowed_path or INLINE_ALLOW in lines[candidate.line - 1]:
            continue
        kept.append(Finding(rule_id=candidate.rule_id, path=path, secret=candidate.secret,
                            line=candidate.line, column=candidate.column,
                            confidence=candidate.confidence,
                            blocking=candidate.confidence >= policy.config.block_at,
                            signals=candidate.signals, label=candidate.label, origin=origin))
    return kept, len(candidates) - len(kept)
