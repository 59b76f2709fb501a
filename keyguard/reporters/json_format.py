"""The JSON report: schema `docs/json-report.schema.json`, version in `schema_version`."""

from __future__ import annotations

import json

from keyguard import __version__
from keyguard.model import Finding, ScanResult, finding_order
from keyguard.reporters.options import ReportOptions, shown_secret
from keyguard.terminal import neutralise

TYPE_CHECKING = False  # typing's, without importing typing (see keyguard/record.py)
if TYPE_CHECKING:
    from typing import Any

SCHEMA_VERSION = 1


def render(result: ScanResult, options: ReportOptions) -> str:
    ordered = sorted(result.findings, key=finding_order)
    document = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "keyguard", "version": __version__},
        "complete": result.complete,
        "summary": {
            "files_scanned": result.scanned,
            "files_skipped": len(result.skipped),
            "findings": len(result.findings),
            "blocking": len(result.blocking),
            "suppressed": len(result.suppressed),
        },
        "findings": [_finding(f, options) for f in ordered],
        "suppressed": [{**_finding(s.finding, options), "suppressed_by": s.why}
                       for s in sorted(result.suppressed, key=lambda s: finding_order(s.finding))],
        "skipped": [{"path": neutralise(s.path), "reason": s.reason} for s in result.skipped],
        "errors": [{"path": neutralise(e.path), "message": e.message} for e in result.errors],
    }
    return json.dumps(document, indent=2) + "\n"


def _finding(finding: Finding, options: ReportOptions) -> dict[str, Any]:
    return {
        "rule_id": finding.rule_id,
        "confidence": finding.confidence.label,
        "blocking": finding.blocking,
        "path": neutralise(finding.path),
        "line": finding.line,
        "column": finding.column,
        "secret": shown_secret(finding, options),
        "secret_redacted": not options.show_secrets,
        "secret_sha256": finding.secret_sha256,
        "fingerprint": finding.fingerprint,
        "label": finding.label,
        "signals": list(finding.signals),
        "verification": finding.verification,
        "origin": None if finding.origin is None else {
            "kind": finding.origin.kind,
            "commit": finding.origin.commit,
            "author": finding.origin.author,
            "email": finding.origin.email,
            "date": finding.origin.date,
        },
    }
