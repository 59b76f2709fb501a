"""What every reporter is told: whether secrets may be shown, and how much to say."""

from __future__ import annotations

from dataclasses import dataclass

from keyguard.model import Finding, redact


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportOptions:
    show_secrets: bool = False
    explain: bool = False
    color: bool = False
    verbose: bool = False
    show_suppressed: bool = False


def shown_secret(finding: Finding, options: ReportOptions) -> str:
    return finding.secret if options.show_secrets else redact(finding.secret)
