"""The report people read: findings grouped by file, a fix per finding, a summary line."""

from __future__ import annotations

from collections import Counter
from itertools import groupby

from keyguard.model import Confidence, Finding, Origin, ScanResult, Suppressed, finding_order
from keyguard.reporters.options import ReportOptions, shown_excerpt, shown_secret
from keyguard.terminal import neutralise

_COLORS = {Confidence.HIGH: "red", Confidence.MEDIUM: "yellow", Confidence.LOW: "blue"}
FIX_BLOCKING = (
    "move the key to an environment variable (e.g. IMIN_API_KEY) and rotate it; not a key? "
    "keyguard allow {fingerprint} --reason '...'"
)
FIX_LOW = "not blocking (below the blocking confidence): check it is not a key"
FIX_PUBLIC = "a public key from the imin documentation, not a credential"


def render(result: ScanResult, options: ReportOptions) -> str:
    lines: list[str] = []
    ordered = sorted(result.findings, key=finding_order)
    for _, group in groupby(ordered, key=lambda f: f.path):
        lines.extend(line for finding in group for line in _finding_lines(finding, options))
        lines.append("")
    if options.show_suppressed:
        lines.extend(_suppressed_line(s, options) for s in result.suppressed)
    if options.verbose:
        lines.extend(f"skipped {neutralise(s.path)}: {s.reason}" for s in result.skipped)
    lines.append(summary(result))
    return "\n".join(lines) + "\n"


def _finding_lines(finding: Finding, options: ReportOptions) -> list[str]:
    where = f"{neutralise(finding.path)}:{finding.line}:{finding.column}"
    grade = finding.confidence.label
    if options.color:
        import click  # only a terminal's colours need it: the hook's start-up does not

        where = click.style(where, bold=True)
        grade = click.style(grade, fg=_COLORS[finding.confidence])
    secret = neutralise(shown_secret(finding, options))
    lines = [f"{where}  {finding.rule_id} ({grade})  {secret}"]
    if finding.excerpt:
        lines.append(f"    | {shown_excerpt(finding, options)}")
    if finding.origin is not None:
        lines.append(f"    introduced in {neutralise(_origin(finding.origin))}")
    if finding.verification is not None:
        lines.append(f"    verified: {neutralise(finding.verification)}")
    lines.append(f"    fix: {_fix(finding)}")
    if options.explain:
        lines.append(f"    signals: {', '.join(finding.signals)}")
    return lines


def _suppressed_line(item: Suppressed, options: ReportOptions) -> str:
    finding = item.finding
    return (f"suppressed {neutralise(finding.path)}:{finding.line}:{finding.column}  "
            f"{finding.rule_id} ({finding.confidence.label})  "
            f"{neutralise(shown_secret(finding, options))}  by {neutralise(item.why)}")


def _origin(origin: Origin) -> str:
    if not origin.date:  # a lightweight tag: no tagger, no date
        return f"{origin.kind} {origin.name}"
    return f"{origin.kind} {origin.name} by {origin.author} <{origin.email}> on {origin.date}"


def _fix(finding: Finding) -> str:
    if finding.label is not None:
        return FIX_PUBLIC
    return FIX_BLOCKING.format(fingerprint=finding.fingerprint) if finding.blocking else FIX_LOW


def summary(result: ScanResult) -> str:
    blocking = result.blocking
    if blocking:
        grades = Counter(f.confidence for f in blocking)
        detail = ", ".join(f"{grades[c]} {c.label}" for c in sorted(grades, reverse=True))
        files = len({f.path for f in blocking})
        head = f"{_count(len(blocking), 'blocking finding')} ({detail}) in {_count(files, 'file')}"
    else:
        head = "no blocking findings"
    parts = [head, f"{_count(result.scanned, result.unit)} scanned"]
    if result.skipped:
        parts.append(f"{len(result.skipped)} skipped (--verbose lists them)")
    if result.suppressed:
        parts.append(f"{len(result.suppressed)} suppressed (--show-suppressed lists them)")
    if result.errors:
        parts.append(f"scan incomplete: {_count(len(result.errors), 'path')} could not be read")
    parts.append(f"{result.seconds:.2f} s")
    return "keyguard: " + "; ".join(parts)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
