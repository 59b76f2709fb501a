"""Candidates to findings: thresholds and allowlists applied, results collected."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from keyguard.config import Config
from keyguard.detect import Rule, detect
from keyguard.model import Blob, Candidate, Confidence, Finding, ScanError, ScanResult, Skipped

INLINE_ALLOW = "keyguard:allow"


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    config: Config
    report_at: Confidence = Confidence.MEDIUM  # --min-confidence: what is shown


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
    candidates = [c for c in detect(blob, rules) if c.confidence >= policy.report_at]
    lines = blob.text.split("\n") if candidates else []
    kept: list[Finding] = []
    suppressed = 0
    for candidate in candidates:
        if _is_allowed(blob.path, lines, candidate, policy.config):
            suppressed += 1
            continue
        kept.append(_finding(blob.path, candidate, policy.config.block_at))
    return kept, suppressed


def _is_allowed(path: str, lines: list[str], candidate: Candidate, config: Config) -> bool:
    return INLINE_ALLOW in lines[candidate.line - 1] or config.allows_path(path)


def _finding(path: str, candidate: Candidate, block_at: Confidence) -> Finding:
    return Finding(rule_id=candidate.rule_id, path=path, secret=candidate.secret,
                   line=candidate.line, column=candidate.column,
                   confidence=candidate.confidence, blocking=candidate.confidence >= block_at,
                   signals=candidate.signals, label=candidate.label)
