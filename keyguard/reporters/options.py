"""What every reporter is told: whether secrets may be shown, and how much to say."""

from __future__ import annotations

from keyguard.detect import RULES, Rule
from keyguard.model import Finding, redact
from keyguard.record import Record
from keyguard.terminal import neutralise


class ReportOptions(Record):
    show_secrets: bool = False
    explain: bool = False
    color: bool = False
    verbose: bool = False
    show_suppressed: bool = False
    rules: tuple[Rule, ...] = RULES  # for formats that describe rules (SARIF)


def shown_secret(finding: Finding, options: ReportOptions) -> str:
    return finding.secret if options.show_secrets else redact(finding.secret)


def shown_excerpt(finding: Finding, options: ReportOptions) -> str:
    """The line around the finding, its secret redacted unless asked; safe to print."""
    return neutralise(finding.excerpt.replace(finding.secret, shown_secret(finding, options)))
